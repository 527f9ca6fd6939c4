package phone

import (
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// Satellite phones (+870 Inmarsat, +881 Iridium and Globalstar) and the
// other non-geographic calling codes (+878 personal numbers, +882 and +883
// international networks, +888 OCHA) belong to no country, cost many
// times a mobile text or call, and are where toll fraud sends traffic. The
// default list ("every country") does not include them: a number with one
// of these codes is refused unless sms_countries lists its code.
func TestNonGeographicNumbersRefusedByDefault(t *testing.T) {
	var all Countries
	numbers := map[int]string{
		870: "+870773111632", // Inmarsat
		881: "+881622123456", // Iridium
		882: "+8823421234",   // international network
		883: "+883510012345", // international network
	}
	for code := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if ex := phonenumbers.GetExampleNumberForNonGeoEntity(code); ex != nil {
			if _, ok := numbers[code]; !ok {
				numbers[code] = phonenumbers.Format(ex, phonenumbers.E164)
			}
		}
	}
	if len(numbers) < 8 {
		t.Fatalf("only %d non-geographic codes known: %v", len(numbers), numbers)
	}
	for code, raw := range numbers {
		if all.Allows(code) {
			t.Errorf("the default list allows every number of +%d", code)
		}
		n, err := Parse("", raw, "")
		if err != nil {
			// +800 freephone, +808 shared cost and +979 premium rate are
			// refused by their type, listed or not.
			if !isReason(err, ReasonType) && !isReason(err, ReasonInvalid) && !isReason(err, ReasonTooShort) {
				t.Errorf("%s: refused for %v, want its type", raw, err)
			}
			continue
		}
		if all.AllowsNumber(n) {
			t.Errorf("%s (+%d) is allowed with the default list", raw, code)
		}
		listed, err := ParseCountries([]string{"+" + strconv.Itoa(code)})
		if err != nil {
			t.Fatalf("listing +%d: %v", code, err)
		}
		if !listed.AllowsNumber(n) {
			t.Errorf("%s is refused though +%d is listed explicitly", raw, code)
		}
	}
	// Ordinary numbers stay allowed by default.
	for _, raw := range []string{"+819012345678", "+16502530000", "+447400123456"} {
		n, err := Parse("", raw, "")
		if err != nil {
			t.Fatal(err)
		}
		if !all.AllowsNumber(n) {
			t.Errorf("%s refused by the default list", raw)
		}
	}
	// Listing one satellite code allows that one only.
	c, err := ParseCountries([]string{"+881", "+81"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Allows(881) || c.Allows(870) || c.Allows(882) || !c.Allows(81) || c.Allows(1) {
		t.Errorf("list +881 +81: allows 881 %v, 870 %v, 882 %v, 81 %v, 1 %v", c.Allows(881), c.Allows(870), c.Allows(882), c.Allows(81), c.Allows(1))
	}
	codes := slices.Sorted(func(yield func(int) bool) {
		for code := range numbers {
			if !yield(code) {
				return
			}
		}
	})
	if !slices.Equal(codes, []int{800, 808, 870, 878, 881, 882, 883, 888, 979}) {
		t.Errorf("non-geographic codes checked: %v", codes)
	}
}
