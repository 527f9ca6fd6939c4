package phone

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// A reading is a Japanese reading in kana made ready to be sorted the way
// a Japanese dictionary sorts (gojūon order, after JIS X 4061): primary
// compares the kana with katakana as hiragana, voiced and small kana as
// their plain ones and the prolonged sound mark ー as the vowel of the kana
// before it (ガーナ as かあな); secondary, for names equal in primary, keeps
// voicing and size, so that plain comes before voiced before semi-voiced
// and small before large. Other characters (・, brackets) are left out.
type reading struct{ primary, secondary string }

// readingKey makes the reading of s, a string of kana.
func readingKey(s string) reading {
	var p, q strings.Builder
	var last rune // the last kana of p, for ー
	for _, r := range norm.NFD.String(toHiragana(s)) {
		switch {
		case r == 'ー':
			if v := vowelOf(last); v != 0 {
				p.WriteRune(v)
				q.WriteRune(v)
			}
		case r == '\u3099' || r == '\u309A': // combining (semi-)voiced mark
			q.WriteRune(r)
		case r >= 'ぁ' && r <= 'ゖ':
			last = largeKana(r)
			p.WriteRune(last)
			q.WriteRune(r)
		}
	}
	return reading{p.String(), norm.NFC.String(q.String())}
}

// compareReading compares a and b as a Japanese dictionary orders them.
func compareReading(a, b reading) int {
	if c := strings.Compare(a.primary, b.primary); c != 0 {
		return c
	}
	return strings.Compare(a.secondary, b.secondary)
}

// toHiragana writes the katakana of s as hiragana.
func toHiragana(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'ァ' && r <= 'ヶ' {
			return r - ('ァ' - 'ぁ')
		}
		return r
	}, s)
}

// largeKana is the full-size kana of a small one (ゃ: や), or r.
func largeKana(r rune) rune {
	switch r {
	case 'ぁ', 'ぃ', 'ぅ', 'ぇ', 'ぉ', 'っ', 'ゃ', 'ゅ', 'ょ', 'ゎ':
		return r + 1
	case 'ゕ':
		return 'か'
	case 'ゖ':
		return 'け'
	}
	return r
}

// vowels lists, for each vowel, the plain full-size kana that end in it.
var vowels = [...]struct {
	vowel rune
	kana  string
}{
	{'あ', "あかさたなはまやらわ"},
	{'い', "いきしちにひみりゐ"},
	{'う', "うくすつぬふむゆる"},
	{'え', "えけせてねへめれゑ"},
	{'お', "おこそとのほもよろを"},
}

// vowelOf is the vowel a prolonged sound mark after the plain kana r
// stands for, or 0 (after ん, or at the start).
func vowelOf(r rune) rune {
	for _, v := range vowels {
		if strings.ContainsRune(v.kana, r) {
			return v.vowel
		}
	}
	return 0
}
