package phone

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Countries is an allow-list of countries: the numbers users may enrol and
// texts and calls may go to. The zero value allows every country, but not
// the non-geographic calling codes (see NonGeographic), which must be
// listed to be allowed.
type Countries struct {
	// codes are the allowed calling codes in the order configured, without
	// duplicates.
	codes []int
	// regions are the allowed ISO 3166-1 regions: a finer choice where
	// several countries share a calling code (+1 is the US, Canada and the
	// Caribbean).
	regions []string
}

// ParseCountries reads an allow-list whose entries are country calling
// codes, with or without "+" ("+81", "1"), or ISO 3166-1 region codes
// ("US", "CA"). An empty list allows every country. An entry no country
// uses is an error naming it.
func ParseCountries(list []string) (Countries, error) {
	var c Countries
	for i, entry := range list {
		if r := strings.ToUpper(strings.TrimSpace(entry)); len(r) == 2 && r[0] >= 'A' && r[0] <= 'Z' {
			if !phonenumbers.GetSupportedRegions()[r] {
				return Countries{}, fmt.Errorf("phone: country %d (%q): not a region with phone numbers", i+1, entry)
			}
			if !slices.Contains(c.regions, r) {
				c.regions = append(c.regions, r)
			}
			continue
		}
		code, err := parseCallingCode(entry)
		if err != nil {
			return Countries{}, fmt.Errorf("phone: country calling code %d (%q): %w", i+1, entry, err)
		}
		if !slices.Contains(c.codes, code) {
			c.codes = append(c.codes, code)
		}
	}
	return c, nil
}

// parseCallingCode reads one calling code, such as "+81".
func parseCallingCode(entry string) (int, error) {
	digits := strings.TrimPrefix(strings.TrimSpace(entry), "+")
	if digits == "" || len(digits) > 3 || !isASCIIDigits(digits) {
		return 0, errors.New("want 1 to 3 digits after an optional +")
	}
	code, err := strconv.Atoi(digits)
	if err != nil {
		return 0, fmt.Errorf("reading digits: %w", err)
	}
	if phonenumbers.GetRegionCodeForCountryCode(code) == phonenumbers.UNKNOWN_REGION {
		return 0, fmt.Errorf("no country has calling code +%d", code)
	}
	return code, nil
}

// Allows reports whether every number with the country calling code may
// be used (not only those of some regions that share it). A
// non-geographic code is allowed only when listed.
func (c Countries) Allows(code int) bool {
	return slices.Contains(c.codes, code) || c.All() && !NonGeographic(code)
}

// NonGeographic reports whether code is a calling code of no country:
// +870 (Inmarsat) and +881 (Iridium, Globalstar) satellite phones, +878
// personal numbers, +882 and +883 international networks, +888 (UN
// OCHA), and +800 freephone, +808 shared cost and +979 premium rate (the
// last three refused anyway by their type). Texts and calls to them cost
// many times a mobile's and are where toll fraud sends traffic, so the
// default list of countries leaves them out.
func NonGeographic(code int) bool {
	return phonenumbers.GetRegionCodeForCountryCode(code) == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
}

// AllowsRegion reports whether numbers of region, whose calling code is
// code, may be used.
func (c Countries) AllowsRegion(region string, code int) bool {
	return c.Allows(code) || slices.Contains(c.regions, region)
}

// AllowsNumber reports whether n may be used.
func (c Countries) AllowsNumber(n Number) bool { return c.AllowsRegion(n.Region, n.CountryCode) }

// Codes returns the allowed calling codes in increasing order, or nil when
// every country is allowed.
func (c Countries) Codes() []int {
	if c.All() {
		return nil
	}
	codes := slices.Clone(c.codes)
	slices.Sort(codes)
	return codes
}

// All reports whether no list was given: every country is allowed, the
// non-geographic codes not.
func (c Countries) All() bool {
	return len(c.codes) == 0 && len(c.regions) == 0
}
