package phone

//go:generate go run ./gen -cldr /tmp/package

import (
	"bytes"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Region is one entry of a country picker.
type Region struct {
	// Code is the ISO 3166-1 alpha-2 code, such as "JP".
	Code string
	// Name is the region's name in the requested language, such as "Japan".
	Name string
	// CallingCode is the country calling code, such as 81.
	CallingCode int
}

// regionEntry is one row of the generated table of region names
// (region_names.go, from CLDR by gen).
type regionEntry struct {
	// Code is the ISO 3166-1 alpha-2 code.
	Code string
	// English and Japanese are the names in CLDR.
	English, Japanese string
	// Reading is the Japanese name in kana, for sorting: given by hand for
	// names with kanji (region_readings_ja.txt), else the name itself.
	Reading string
}

// Regions returns the regions whose numbers c allows, named in lang and
// sorted as lang sorts. English and Japanese names come from the table
// generated from a current CLDR release (CLDRVersion); Japanese names sort
// by their reading, as a Japanese dictionary does. Other languages take
// golang.org/x/text's names (older), where it has them, else the English
// ones. Several regions may share a calling code: +1 is the US, Canada and
// the rest of the North American Numbering Plan.
func Regions(lang language.Tag, c Countries) []Region {
	base, _ := lang.Base()
	japanese := base.String() == "ja"
	var names display.Namer // nil for English and Japanese, and when there is no data for lang
	if base.String() != "en" && !japanese {
		names = display.Regions(lang)
	}
	type keyed struct {
		key     []byte  // collation key of Name
		reading reading // for Japanese
		Region
	}
	col := collate.New(lang)
	var buf collate.Buffer
	var list []keyed
	for _, e := range regionNames {
		cc := phonenumbers.GetCountryCodeForRegion(e.Code)
		if cc == 0 || !c.AllowsRegion(e.Code, cc) {
			continue
		}
		k := keyed{Region: Region{Code: e.Code, Name: e.English, CallingCode: cc}}
		switch {
		case japanese:
			k.Name, k.reading = e.Japanese, readingKey(e.Reading)
		case names != nil:
			k.Name = regionName(e, names)
		}
		k.key = col.KeyFromString(&buf, k.Name)
		list = append(list, k)
	}
	slices.SortFunc(list, func(a, b keyed) int {
		if japanese {
			if c := compareReading(a.reading, b.reading); c != 0 {
				return c
			}
		}
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	regions := make([]Region, len(list))
	for i, k := range list {
		regions[i] = k.Region
	}
	return regions
}

// regionName names the region of e with names, else in English.
func regionName(e regionEntry, names display.Namer) string {
	r, err := language.ParseRegion(e.Code)
	if err != nil {
		return e.English
	}
	if name := names.Name(r); name != "" {
		return name
	}
	return e.English
}

// WithFirst returns regions with the region code (the user's own) moved
// to the top, the rest in their order; unchanged when code is not there.
func WithFirst(regions []Region, code string) []Region {
	i := slices.IndexFunc(regions, func(r Region) bool { return r.Code == code })
	if i <= 0 {
		return regions
	}
	out := make([]Region, 0, len(regions))
	out = append(out, regions[i])
	out = append(out, regions[:i]...)
	return append(out, regions[i+1:]...)
}

// DefaultRegion returns the region a country picker starts on: that of
// lang (given, as in "ja-JP", or likely, as "JP" for "ja") if c allows its
// calling code; else the main region of the first calling code c lists;
// else "US".
func DefaultRegion(lang language.Tag, c Countries) string {
	if r, conf := lang.Region(); conf != language.No {
		code := r.String()
		if phonenumbers.GetSupportedRegions()[code] && c.AllowsRegion(code, phonenumbers.GetCountryCodeForRegion(code)) {
			return code
		}
	}
	if len(c.regions) > 0 {
		return c.regions[0]
	}
	for _, cc := range c.codes {
		if code := phonenumbers.GetRegionCodeForCountryCode(cc); phonenumbers.GetSupportedRegions()[code] {
			return code
		}
	}
	return "US"
}
