package phone

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

// Regions returns the regions whose numbers c allows, named in lang (or in
// English, or by code, when lang has no name for one) and sorted by name
// as lang sorts. Several regions may share a calling code: +1 is the US,
// Canada and the rest of the North American Numbering Plan.
func Regions(lang language.Tag, c Countries) []Region {
	names := display.Regions(lang) // nil when there is no data for lang
	english := display.English.Regions()
	type keyed struct {
		key []byte // collation key of Name
		Region
	}
	col := collate.New(lang)
	var buf collate.Buffer
	var list []keyed
	for code := range phonenumbers.GetSupportedRegions() {
		cc := phonenumbers.GetCountryCodeForRegion(code)
		if cc == 0 || !c.AllowsRegion(code, cc) {
			continue
		}
		name := regionName(code, names, english)
		list = append(list, keyed{col.KeyFromString(&buf, name), Region{Code: code, Name: name, CallingCode: cc}})
	}
	slices.SortFunc(list, func(a, b keyed) int {
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

// regionName names the region code with names, else english, else returns
// the code.
func regionName(code string, names, english display.Namer) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	for _, n := range []display.Namer{names, english} {
		if n == nil {
			continue
		}
		if name := n.Name(r); name != "" {
			return name
		}
	}
	return code
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
