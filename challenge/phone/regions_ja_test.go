package phone

import (
	"slices"
	"testing"
	"unicode"

	"golang.org/x/text/language"
)

// codesIn returns the codes of regions, in order.
func codesIn(regions []Region) []string {
	codes := make([]string, len(regions))
	for i, r := range regions {
		codes[i] = r.Code
	}
	return codes
}

// before fails t unless a comes before b in regions.
func before(t *testing.T, regions []Region, a, b string) {
	t.Helper()
	i, j := indexOf(regions, a), indexOf(regions, b)
	if i < 0 || j < 0 || i > j {
		ra, _ := findRegion(regions, a)
		rb, _ := findRegion(regions, b)
		t.Errorf("%s %q (at %d) should come before %s %q (at %d)", a, ra.Name, i, b, rb.Name, j)
	}
}

// Japanese names sort by their reading, in the order of a Japanese
// dictionary (gojūon): kanji names among the kana of their reading, and a
// prolonged sound mark ー counts as the vowel before it.
func TestRegionsJapaneseOrder(t *testing.T) {
	ja := Regions(language.Japanese, Countries{})
	// The start of the list, as a Japanese dictionary has it.
	want := []string{"IS", "IE", "AZ", "AC", "AF", "US", "AE", "DZ", "AR", "AW"}
	if got := codesIn(ja)[:len(want)]; !slices.Equal(got, want) {
		t.Errorf("Japanese list starts %v, want %v", got, want)
	}
	pairs := [][2]string{
		{"IE", "US"}, // アイルランド, アメリカ合衆国
		{"US", "GB"}, // アメリカ合衆国, イギリス
		{"GB", "IL"}, // イギリス, イスラエル
		// 韓国 (かんこく) among the か: after カメルーン, before カンボジア.
		{"CM", "KR"}, {"KR", "KH"},
		// 台湾 (たいわん) after タイ, before タジキスタン.
		{"TH", "TW"}, {"TW", "TJ"},
		// 中国 (ちゅうごく: ちゆうこく) after チャド (ちやと), before チュニジア and チリ.
		{"TD", "CN"}, {"CN", "TN"}, {"CN", "CL"},
		// 日本 (にほん) after ニジェール, before ニューカレドニア.
		{"NE", "JP"}, {"JP", "NC"},
		// ガーナ is かあな: before カーボベルデ (かあほへるて) and カザフスタン.
		{"GH", "CV"}, {"CV", "KZ"},
		// ケイマン諸島 (けいまん) before ケニア (けにあ).
		{"KY", "KE"},
		// ベネズエラ (へねすえら) before ベラルーシ (へらるうし), and
		// ベリーズ (へりいす) after ベラルーシ.
		{"VE", "BY"}, {"BY", "BZ"},
		// ニューカレドニア (にゆうかれ) before ニュージーランド (にゆうしい).
		{"NC", "NZ"},
		// 南アフリカ (みなみあふりか) among the み, before ミャンマー (みやんまあ);
		// 米領サモア (べいりょうさもあ: へいり) among the へ, before ベトナム (へと).
		{"ZA", "MM"}, {"SS", "MM"},
		{"BI", "AS"}, {"AS", "VN"},
	}
	for _, p := range pairs {
		before(t, ja, p[0], p[1])
	}
	// The kanji names are not at the end.
	last := ja[len(ja)-1]
	for _, r := range last.Name {
		if unicode.Is(unicode.Han, r) {
			t.Errorf("Japanese list ends with %q", last.Name)
			break
		}
	}
}

// The names are CLDR's current ones, not those of golang.org/x/text's
// older copy.
func TestRegionsCurrentNames(t *testing.T) {
	tests := []struct {
		lang language.Tag
		want []Region
	}{
		{language.English, []Region{{"MK", "North Macedonia", 389}, {"SZ", "Eswatini", 268}, {"TR", "Türkiye", 90}}},
		{language.Japanese, []Region{{"MK", "北マケドニア", 389}, {"SZ", "エスワティニ", 268}, {"JP", "日本", 81}}},
		{language.MustParse("en-GB"), []Region{{"MK", "North Macedonia", 389}}},
	}
	for _, tt := range tests {
		regions := Regions(tt.lang, Countries{})
		for _, want := range tt.want {
			if got, _ := findRegion(regions, want.Code); got != want {
				t.Errorf("Regions(%s): %+v, want %+v", tt.lang, got, want)
			}
		}
	}
}
