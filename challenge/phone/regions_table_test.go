package phone

import (
	"slices"
	"testing"
	"unicode"

	"golang.org/x/text/language"
)

// The table's version is named here, so that a regenerated table is a
// change someone sees.
func TestRegionNamesCLDRVersion(t *testing.T) {
	if CLDRVersion != "48" {
		t.Errorf("CLDRVersion = %q: the table was regenerated; check the names and readings, then update this test", CLDRVersion)
	}
}

// Every Japanese name written with kanji carries its reading, in kana.
func TestRegionNamesReadings(t *testing.T) {
	for _, n := range regionNames {
		if n.Code == "" || n.English == "" || n.Japanese == "" || n.Reading == "" {
			t.Errorf("incomplete entry %+v", n)
		}
		hasKanji := false
		for _, r := range n.Japanese {
			if unicode.Is(unicode.Han, r) {
				hasKanji = true
			}
		}
		if hasKanji && n.Reading == n.Japanese {
			t.Errorf("%s %q has kanji but no reading", n.Code, n.Japanese)
		}
		for _, r := range n.Reading {
			if unicode.IsLetter(r) && !unicode.In(r, unicode.Hiragana, unicode.Katakana) && r != 'ー' {
				t.Errorf("%s: reading %q has %q, not kana", n.Code, n.Reading, r)
				break
			}
		}
	}
}

// The reading key: katakana as hiragana, ー as the vowel before it, and
// voiced and small kana after their plain ones only when all else is equal.
func TestCompareReading(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"アーイ", "アイルランド", -1},   // ああい < あいるらんと
		{"ガーナ", "カーボベルデ", -1},   // かあな < かあほへるて
		{"ガーナ", "カザフスタン", -1},   // かあな < かさふ
		{"カタール", "カナダ", -1},     // かたある < かなた
		{"ハイチ", "バヌアツ", -1},     // はいち < はぬあつ
		{"パナマ", "バヌアツ", -1},     // はなま < はぬあつ
		{"ニジェール", "にほん", -1},    // にしえる < にほん
		{"にほん", "ニューカレドニア", -1}, // にほん < にゆう
		{"かんこく", "カンボジア", -1},   // かんこ < かんほ
		{"ハイチ", "ハイチ", 0},
		{"ハイチ", "はいち", 0},    // katakana is hiragana
		{"ハイチ", "バイチ", -1},   // plain before voiced when all else is equal
		{"バイチ", "パイチ", -1},   // voiced before semi-voiced
		{"ベリーズ", "ベラルーシ", 1}, // へりいす > へらるうし
	}
	for _, tt := range tests {
		if got := compareReading(readingKey(tt.a), readingKey(tt.b)); got != tt.want {
			t.Errorf("compareReading(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareReading(readingKey(tt.b), readingKey(tt.a)); got != -tt.want {
			t.Errorf("compareReading(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// WithFirst puts the user's own region at the top of the list, once.
func TestRegionsWithFirst(t *testing.T) {
	ja := Regions(language.Japanese, Countries{})
	got := WithFirst(ja, "JP")
	if got[0].Code != "JP" || len(got) != len(ja) {
		t.Fatalf("WithFirst(JP): first %q, %d entries (want %d)", got[0].Code, len(got), len(ja))
	}
	if n := len(slices.DeleteFunc(slices.Clone(got), func(r Region) bool { return r.Code != "JP" })); n != 1 {
		t.Errorf("JP %d times", n)
	}
	if !slices.Equal(codesIn(slices.DeleteFunc(slices.Clone(got), func(r Region) bool { return r.Code == "JP" })),
		codesIn(slices.DeleteFunc(slices.Clone(ja), func(r Region) bool { return r.Code == "JP" }))) {
		t.Errorf("WithFirst changed the order of the rest")
	}
	if !slices.Equal(codesIn(WithFirst(ja, "XX")), codesIn(ja)) {
		t.Errorf("WithFirst(unknown) changed the list")
	}
}
