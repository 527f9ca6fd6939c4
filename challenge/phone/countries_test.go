package phone

import (
	"slices"

	"golang.org/x/text/language"
	"strings"
	"testing"
)

func TestParseCountries(t *testing.T) {
	tests := []struct {
		name      string
		list      []string
		codes     []int
		allowed   []int
		forbidden []int
	}{
		{"nil list allows every country, no non-geographic code", nil, nil, []int{1, 44, 81}, []int{800, 870, 881, 882, 883}},
		{"empty list allows all", []string{}, nil, []int{1, 44, 81}, nil},
		{"with and without +", []string{"+81", "1", " 44 "}, []int{1, 44, 81}, []int{1, 44, 81}, []int{7, 49, 86}},
		{"duplicates", []string{"+81", "81"}, []int{81}, []int{81}, []int{1}},
		{"global service code", []string{"+800"}, []int{800}, []int{800}, []int{80, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCountries(tt.list)
			if err != nil {
				t.Fatalf("ParseCountries(%q): %v", tt.list, err)
			}
			if got := c.Codes(); !slices.Equal(got, tt.codes) || (got == nil) != (tt.codes == nil) {
				t.Errorf("Codes() = %v, want %v", got, tt.codes)
			}
			if got, want := c.All(), tt.codes == nil; got != want {
				t.Errorf("All() = %v, want %v", got, want)
			}
			for _, code := range tt.allowed {
				if !c.Allows(code) {
					t.Errorf("Allows(%d) = false", code)
				}
			}
			for _, code := range tt.forbidden {
				if c.Allows(code) {
					t.Errorf("Allows(%d) = true", code)
				}
			}
		})
	}
}

func TestParseCountriesErrors(t *testing.T) {
	for _, entry := range []string{"+999", "999", "0", "", "+", "++81", "81a", "XX", "ZZ", "-1", "1234"} {
		_, err := ParseCountries([]string{"+81", entry})
		if err == nil {
			t.Errorf("ParseCountries([+81 %q]): no error", entry)
			continue
		}
		if !strings.Contains(err.Error(), `"`+entry+`"`) {
			t.Errorf("ParseCountries([+81 %q]): error %q does not name the entry", entry, err)
		}
	}
}

func TestCountriesZeroAllowsAll(t *testing.T) {
	var c Countries
	if !c.All() || !c.Allows(81) || c.Codes() != nil {
		t.Errorf("zero Countries: All %v, Allows(81) %v, Codes %v", c.All(), c.Allows(81), c.Codes())
	}
}

func TestCodesIsACopy(t *testing.T) {
	c, err := ParseCountries([]string{"81", "1"})
	if err != nil {
		t.Fatal(err)
	}
	c.Codes()[0] = 7
	if c.Allows(7) || !c.Allows(1) {
		t.Error("changing the slice Codes returned changed the allow-list")
	}
}

// Regions narrow a calling code that several countries share: "US" allows
// US numbers but not the Caribbean's, which are +1 too.
func TestCountriesByRegion(t *testing.T) {
	c, err := ParseCountries([]string{"us", "CA", "+81"})
	if err != nil {
		t.Fatal(err)
	}
	if c.All() || c.Allows(1) {
		t.Fatal("regions US and CA must not allow all of +1")
	}
	for _, tt := range []struct {
		raw  string
		want bool
	}{
		{"+1 650 253 0000", true},   // US
		{"+1 604 555 0100", true},   // Canada
		{"+1 876 927 1234", false},  // Jamaica
		{"+81 90 1234 5678", true},  // by calling code
		{"+44 20 7946 0958", false}, // UK
	} {
		n, err := Parse("", tt.raw, "")
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.raw, err)
		}
		if got := c.AllowsNumber(n); got != tt.want {
			t.Errorf("AllowsNumber(%s, region %s) = %v, want %v", tt.raw, n.Region, got, tt.want)
		}
	}
	regions := Regions(language.English, c)
	var codes []string
	for _, r := range regions {
		codes = append(codes, r.Code)
	}
	slices.Sort(codes)
	if !slices.Contains(codes, "US") || !slices.Contains(codes, "CA") || !slices.Contains(codes, "JP") || slices.Contains(codes, "JM") {
		t.Errorf("picker regions = %v; want US, CA and JP only", codes)
	}
	if got := DefaultRegion(language.German, c); got != "US" { // the first entry
		t.Errorf("DefaultRegion = %q", got)
	}
}
