package phone

import (
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

func mustCountries(t testing.TB, list ...string) Countries {
	t.Helper()
	c, err := ParseCountries(list)
	if err != nil {
		t.Fatalf("ParseCountries(%q): %v", list, err)
	}
	return c
}

func findRegion(regions []Region, code string) (Region, bool) {
	i := slices.IndexFunc(regions, func(r Region) bool { return r.Code == code })
	if i < 0 {
		return Region{}, false
	}
	return regions[i], true
}

func TestRegionsNames(t *testing.T) {
	tests := []struct {
		lang language.Tag
		want []Region
	}{
		{language.English, []Region{{"JP", "Japan", 81}, {"US", "United States", 1}, {"GB", "United Kingdom", 44}}},
		{language.Japanese, []Region{{"JP", "日本", 81}, {"US", "アメリカ合衆国", 1}}},
		{language.MustParse("ja-JP"), []Region{{"JP", "日本", 81}}},
		{language.German, []Region{{"JP", "Japan", 81}, {"DE", "Deutschland", 49}}},
		// No names for these: English.
		{language.Und, []Region{{"JP", "Japan", 81}}},
		{language.Make("xx"), []Region{{"JP", "Japan", 81}}},
	}
	for _, tt := range tests {
		regions := Regions(tt.lang, Countries{})
		if got, want := len(regions), len(phonenumbers.GetSupportedRegions()); got != want {
			t.Errorf("Regions(%s): %d regions, want all %d", tt.lang, got, want)
		}
		for _, want := range tt.want {
			if got, _ := findRegion(regions, want.Code); got != want {
				t.Errorf("Regions(%s): %+v, want %+v", tt.lang, got, want)
			}
		}
		for _, r := range regions {
			if r.Name == "" || r.CallingCode == 0 {
				t.Errorf("Regions(%s): %+v", tt.lang, r)
			}
		}
	}
}

func TestRegionsSorted(t *testing.T) {
	for _, lang := range []language.Tag{language.English, language.Swedish, language.French} {
		regions := Regions(lang, Countries{})
		col := collate.New(lang)
		for i := 1; i < len(regions); i++ {
			if col.CompareString(regions[i-1].Name, regions[i].Name) > 0 {
				t.Errorf("Regions(%s): %q before %q", lang, regions[i-1].Name, regions[i].Name)
			}
		}
	}
	// Japanese by reading (see TestRegionsJapaneseOrder).
	readings := map[string]string{}
	for _, e := range regionNames {
		readings[e.Code] = e.Reading
	}
	ja := Regions(language.Japanese, Countries{})
	for i := 1; i < len(ja); i++ {
		if compareReading(readingKey(readings[ja[i-1].Code]), readingKey(readings[ja[i].Code])) > 0 {
			t.Errorf("Regions(ja): %q before %q", ja[i-1].Name, ja[i].Name)
		}
	}
	// Collation, not byte order: "Åland Islands" sorts among the As in
	// English, after Z in Swedish.
	en := Regions(language.English, Countries{})
	if i, j := indexOf(en, "AX"), indexOf(en, "BE"); i > j {
		t.Errorf("English: Åland Islands after Belgium")
	}
	sv := Regions(language.Swedish, Countries{})
	if i, j := indexOf(sv, "AX"), indexOf(sv, "ZA"); i < j {
		t.Errorf("Swedish: Åland before Sydafrika")
	}
}

func indexOf(regions []Region, code string) int {
	return slices.IndexFunc(regions, func(r Region) bool { return r.Code == code })
}

func TestRegionsRestricted(t *testing.T) {
	tests := []struct {
		list  []string
		codes []int
	}{
		{[]string{"+1"}, []int{1}},
		{[]string{"+81", "+44"}, []int{44, 81}},
		{[]string{"+800"}, nil}, // a global service: no region
	}
	for _, tt := range tests {
		regions := Regions(language.English, mustCountries(t, tt.list...))
		var want []string
		for _, cc := range tt.codes {
			want = append(want, phonenumbers.GetRegionCodesForCountryCode(cc)...)
		}
		var got []string
		for _, r := range regions {
			got = append(got, r.Code)
			if !slices.Contains(tt.codes, r.CallingCode) {
				t.Errorf("Regions(%q) has %+v", tt.list, r)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Regions(%q) = %v, want %v", tt.list, got, want)
		}
	}
	nanp := Regions(language.English, mustCountries(t, "+1"))
	for _, code := range []string{"US", "CA", "PR", "JM"} {
		if _, ok := findRegion(nanp, code); !ok {
			t.Errorf("Regions(+1) lacks %s", code)
		}
	}
	if i, j := indexOf(nanp, "CA"), indexOf(nanp, "US"); i > j {
		t.Errorf("Regions(+1): Canada after United States")
	}
}

func TestDefaultRegion(t *testing.T) {
	tests := []struct {
		lang string
		list []string
		want string
	}{
		{"ja-JP", nil, "JP"},
		{"ja", nil, "JP"}, // likely region
		{"en-GB", nil, "GB"},
		{"en", nil, "US"},
		{"de-CH", nil, "CH"},
		{"es-419", nil, "US"}, // Latin America is no phone region
		{"und", nil, "US"},
		{"ja", []string{"+44"}, "GB"},
		{"en-GB", []string{"+81", "+44"}, "GB"},
		{"fr-FR", []string{"+81", "+44"}, "JP"}, // the first code listed
		{"fr-FR", []string{"+7"}, "RU"},
		{"en-CA", []string{"+1"}, "CA"},
		{"fr", []string{"+800"}, "US"},
		{"fr", []string{"+800", "+33"}, "FR"},
	}
	for _, tt := range tests {
		if got := DefaultRegion(language.MustParse(tt.lang), mustCountries(t, tt.list...)); got != tt.want {
			t.Errorf("DefaultRegion(%s, %q) = %q, want %q", tt.lang, tt.list, got, tt.want)
		}
	}
}

func BenchmarkRegions(b *testing.B) {
	for _, lang := range []language.Tag{language.English, language.Japanese} {
		b.Run(lang.String(), func(b *testing.B) {
			for b.Loop() {
				Regions(lang, Countries{})
			}
		})
	}
}
