package ui

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"
)

// glossaryPath is the Japanese glossary, whose table the Japanese
// catalogue must keep to.
const glossaryPath = "../docs/glossary-ja.md"

// japaneseCatalogue reads ja.yaml.
func japaneseCatalogue(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("locales/ja.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("reading ja.yaml: %v", err)
	}
	return m
}

// glossaryAvoid returns the words the glossary's Avoid column lists, with
// the Japanese terms to use instead (separated by " / ").
func glossaryAvoid(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(glossaryPath)
	if err != nil {
		t.Fatal(err)
	}
	avoid := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || strings.TrimSpace(cells[1]) == "English" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for _, w := range strings.Split(cells[3], " / ") {
			if w = strings.TrimSpace(w); w != "" {
				avoid[w] = strings.TrimSpace(cells[2])
			}
		}
	}
	if len(avoid) < 20 {
		t.Fatalf("%s: read only %d words to avoid; is the table there?", glossaryPath, len(avoid))
	}
	return avoid
}

// sortedKeys returns m's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The Japanese catalogue says each thing with the glossary's term.
func TestJapaneseGlossaryTerms(t *testing.T) {
	avoid := glossaryAvoid(t)
	cat := japaneseCatalogue(t)
	for _, id := range sortedKeys(cat) {
		for _, w := range sortedKeys(avoid) {
			text := cat[id] // without the terms to use, which may contain w
			for _, good := range strings.Split(avoid[w], " / ") {
				text = strings.ReplaceAll(text, good, "")
			}
			if strings.Contains(text, w) {
				t.Errorf("%s says %q: the glossary has %q (%s)\n  %s", id, w, avoid[w], glossaryPath, cat[id])
			}
		}
	}
}

// japanese reports whether r is written in Japanese: kana, kanji, or
// full-width punctuation.
func japanese(r rune) bool {
	return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) ||
		r == 'ー' || (r >= '\u3000' && r <= '\u303f') || (r >= '\uff01' && r <= '\uff5e')
}

// The house style of the glossary: no ASCII space between Japanese
// characters or after 。 and 、, full-width ？ and ！, and no English words
// but proper names.
func TestJapaneseCatalogueStyle(t *testing.T) {
	allowed := map[string]bool{
		"SMS": true, "QR": true, "PIN": true, "IP": true, "JavaScript": true, "Microsoft": true,
		"Google": true, "Authenticator": true, "Android": true, "Play": true, "F": true, "Droid": true,
		"iPhone": true, "App": true, "Store": true, "ntfy": true, "YubiKey": true, "Windows": true,
		"Hello": true, "Touch": true, "ID": true, "wiki": true, "example": true, "com": true,
		"ja": true, "JP": true, // voice.language
	}
	field := regexp.MustCompile(`\{\{[^}]*\}\}`)
	latin := regexp.MustCompile(`[A-Za-z]+`)
	cat := japaneseCatalogue(t)
	for _, id := range sortedKeys(cat) {
		s := field.ReplaceAllString(cat[id], "")
		rs := []rune(cat[id])
		for i := 1; i+1 < len(rs); i++ {
			if rs[i] != ' ' {
				continue
			}
			if japanese(rs[i-1]) && japanese(rs[i+1]) || rs[i-1] == '。' || rs[i-1] == '、' {
				t.Errorf("%s has a space between %q and %q: %s", id, rs[i-1], rs[i+1], cat[id])
			}
		}
		for i := 1; i < len(rs); i++ {
			if (rs[i] == '?' || rs[i] == '!') && japanese(rs[i-1]) {
				t.Errorf("%s has a half-width %q after Japanese: %s", id, rs[i], cat[id])
			}
		}
		for _, w := range latin.FindAllString(s, -1) {
			if !allowed[w] {
				t.Errorf("%s has the English word %q: %s", id, w, cat[id])
			}
		}
	}
}

// The same house style on every rendered Japanese page: sentences and
// words a template puts side by side ("{{.T a}} {{.T b}}") are not
// joined with an ASCII space between Japanese characters or after 。.
func TestRenderJapaneseSpacing(t *testing.T) {
	r := newRenderer(t)
	for _, page := range Pages {
		p := fullPage(page, false)
		_, body := render(t, r, "ja", page, p)
		for _, line := range strings.Split(visibleText(body), "\n") {
			rs := []rune(strings.TrimSpace(line))
			for i := 1; i+1 < len(rs); i++ {
				if rs[i] == ' ' && (japanese(rs[i-1]) && japanese(rs[i+1]) || rs[i-1] == '。' || rs[i-1] == '、') {
					t.Errorf("ja %s: a space between %q and %q: %s", page, rs[i-1], rs[i+1], string(rs))
				}
			}
		}
	}
}
