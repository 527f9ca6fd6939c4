package phone

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Countries is an allow-list of country calling codes: the numbers users
// may enrol. The zero value allows every country.
type Countries struct {
	// codes are the allowed calling codes in the order configured, without
	// duplicates; empty for all.
	codes []int
}

// ParseCountries reads an allow-list of country calling codes, each with or
// without "+": "+81", "1", "44". An empty list allows every country. A code
// no country or global service uses is an error naming the entry.
func ParseCountries(list []string) (Countries, error) {
	var c Countries
	for i, entry := range list {
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

// Allows reports whether numbers with the country calling code may be
// used.
func (c Countries) Allows(code int) bool {
	return c.All() || slices.Contains(c.codes, code)
}

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

// All reports whether every country is allowed.
func (c Countries) All() bool {
	return len(c.codes) == 0
}
