package phone

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name             string
		region, raw, ext string
		want             Number
	}{
		{"JP mobile, national", "JP", "090-1234-5678", "",
			Number{E164: "+819012345678", CountryCode: 81, Region: "JP", Mobile: true}},
		{"lowercase region", " jp ", "09012345678", "",
			Number{E164: "+819012345678", CountryCode: 81, Region: "JP", Mobile: true}},
		{"full-width digits and long vowel mark", "JP", "０９０ー１２３４ー５６７８", "",
			Number{E164: "+819012345678", CountryCode: 81, Region: "JP", Mobile: true}},
		{"+ overrides region", "US", "+81 90 1234 5678", "",
			Number{E164: "+819012345678", CountryCode: 81, Region: "JP", Mobile: true}},
		{"+ without region", "", "+81 90 1234 5678", "",
			Number{E164: "+819012345678", CountryCode: 81, Region: "JP", Mobile: true}},
		{"00 where it is the international prefix", "DE", "0044 20 7946 0958", "",
			Number{E164: "+442079460958", CountryCode: 44, Region: "GB"}},
		{"00 where it is not (US dials 011)", "US", "0044 20 7946 0958", "",
			Number{E164: "+442079460958", CountryCode: 44, Region: "GB"}},
		{"00 without region", "", "0044 20 7946 0958", "",
			Number{E164: "+442079460958", CountryCode: 44, Region: "GB"}},
		{"UK landline is not mobile", "GB", "+44 20 7946 0958", "",
			Number{E164: "+442079460958", CountryCode: 44, Region: "GB"}},
		{"UK mobile", "GB", "07400 123456", "",
			Number{E164: "+447400123456", CountryCode: 44, Region: "GB", Mobile: true}},
		{"US is fixed line or mobile", "US", "(650) 253-0000", "",
			Number{E164: "+16502530000", CountryCode: 1, Region: "US", Mobile: true}},
		{"dots", "US", "650.253.0000", "",
			Number{E164: "+16502530000", CountryCode: 1, Region: "US", Mobile: true}},
		{"Canada shares +1", "US", "+1 416 555 0123", "",
			Number{E164: "+14165550123", CountryCode: 1, Region: "CA", Mobile: true}},
		{"extension field", "US", "650 253 0000", " 12 3 ",
			Number{E164: "+16502530000", Ext: "123", CountryCode: 1, Region: "US"}},
		{"extension typed with ext.", "US", "+1 650 253 0000 ext. 123", "",
			Number{E164: "+16502530000", Ext: "123", CountryCode: 1, Region: "US"}},
		{"extension typed with x", "US", "+1 650 253 0000 x123", "",
			Number{E164: "+16502530000", Ext: "123", CountryCode: 1, Region: "US"}},
		{"same extension in both", "US", "+1 650 253 0000 ext. 123", "123",
			Number{E164: "+16502530000", Ext: "123", CountryCode: 1, Region: "US"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.region, tt.raw, tt.ext)
			if err != nil {
				t.Fatalf("Parse(%q, %q, %q): %v", tt.region, tt.raw, tt.ext, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q, %q, %q) = %+v, want %+v", tt.region, tt.raw, tt.ext, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name             string
		region, raw, ext string
		want             string
	}{
		{"empty", "JP", "", "", ReasonEmpty},
		{"blank", "JP", "   ", "123", ReasonEmpty},
		{"letters", "JP", "abc", "", ReasonNotANumber},
		{"letters around digits", "JP", "tel 090-1234-5678", "", ReasonNotANumber},
		{"vanity number", "US", "1-800-FLOWERS", "", ReasonNotANumber},
		{"unknown calling code", "US", "+999 123", "", ReasonCountry},
		{"no region, national number", "", "090 1234 5678", "", ReasonCountry},
		{"unknown region", "XX", "090 1234 5678", "", ReasonCountry},
		{"00 and unknown calling code", "", "00999 1234 5678", "", ReasonCountry},
		{"two digits", "JP", "12", "", ReasonTooShort},
		{"one digit", "JP", "1", "", ReasonTooShort},
		{"nothing after +", "US", "+", "", ReasonNotANumber},
		{"US number without area code", "US", "253 0000", "", ReasonTooShort},
		{"nothing after the international prefix", "DE", "0044", "", ReasonTooShort},
		{"UK number with a digit too many", "GB", "+44 20 7946 09581", "", ReasonTooLong},
		{"more digits than any country", "JP", "090 1234 5678 9012 3456 7", "", ReasonTooLong},
		{"US area code 123 does not exist", "US", "123 456 7890", "", ReasonInvalid},
		{"JP zeros", "JP", "+81 00 0000 0000", "", ReasonInvalid},
		{"UK premium rate", "GB", "+44 909 876 5432", "", ReasonType},
		{"US premium rate", "US", "+1 900 234 5678", "", ReasonType},
		{"US personal number", "US", "+1 500 234 5678", "", ReasonType},
		{"US toll-free", "US", "+1 800 234 5678", "", ReasonType},
		{"international toll-free", "", "+800 1234 5678", "", ReasonType},
		{"JP shared cost (0570)", "JP", "0570-012-345", "", ReasonType},
		{"extension with a letter", "US", "650 253 0000", "12a", ReasonExtension},
		{"extension with a dash", "US", "650 253 0000", "12-3", ReasonExtension},
		{"extension of 11 digits", "US", "650 253 0000", "12345678901", ReasonExtension},
		{"typed extension of 11 digits", "US", "+1 650 253 0000 ext. 12345678901", "", ReasonExtension},
		{"two different extensions", "US", "+1 650 253 0000 ext. 123", "456", ReasonExtension},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(tt.region, tt.raw, tt.ext)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q, %q, %q) = %+v, %v; want an *Error", tt.region, tt.raw, tt.ext, n, err)
			}
			if e.Reason != tt.want {
				t.Errorf("Parse(%q, %q, %q): reason %q (%v), want %q", tt.region, tt.raw, tt.ext, e.Reason, err, tt.want)
			}
			if n != (Number{}) {
				t.Errorf("Parse(%q, %q, %q) returned %+v with its error", tt.region, tt.raw, tt.ext, n)
			}
			// The text names the problem in English, and is safe to log.
			msg := err.Error()
			if !strings.HasPrefix(msg, "phone: ") || digitRun.MatchString(msg) {
				t.Errorf("error text %q: want a \"phone: \" prefix and no number", msg)
			}
		})
	}
}

// digitRun matches what would give a phone number away in an error text.
var digitRun = regexp.MustCompile(`[0-9]{4}`)

func TestErrorText(t *testing.T) {
	for _, reason := range []string{ReasonEmpty, ReasonCountry, ReasonNotANumber, ReasonTooShort, ReasonTooLong, ReasonInvalid, ReasonExtension} {
		msg := (&Error{Reason: reason}).Error()
		if strings.Contains(msg, "("+reason+")") {
			t.Errorf("reason %q has no text of its own: %q", reason, msg)
		}
	}
	if got, want := (&Error{Reason: ReasonEmpty}).Error(), "phone: enter a phone number"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStringParseStored(t *testing.T) {
	tests := []struct {
		region, raw, ext string
		want             string
	}{
		{"JP", "090-1234-5678", "", "+819012345678"},
		{"US", "650 253 0000", "123", "+16502530000;ext=123"},
		{"US", "+1 650 253 0000 ext. 0042", "", "+16502530000;ext=0042"},
		{"IT", "06 1234 5678", "", "+390612345678"},
	}
	for _, tt := range tests {
		n, err := Parse(tt.region, tt.raw, tt.ext)
		if err != nil {
			t.Fatalf("Parse(%q, %q, %q): %v", tt.region, tt.raw, tt.ext, err)
		}
		if got := n.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", n, got, tt.want)
		}
		back, err := ParseStored(n.String())
		if err != nil {
			t.Fatalf("ParseStored(%q): %v", n.String(), err)
		}
		if back != n {
			t.Errorf("ParseStored(%q) = %+v, want %+v", n.String(), back, n)
		}
	}
}

func TestParseStoredLenient(t *testing.T) {
	// No longer (or never) valid, but well formed: read back, not mobile.
	n, err := ParseStored("+11234567890")
	if err != nil {
		t.Fatalf("ParseStored: %v", err)
	}
	if want := (Number{E164: "+11234567890", CountryCode: 1, Region: "US"}); n != want {
		t.Errorf("ParseStored = %+v, want %+v", n, want)
	}
}

func TestParseStoredErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"819012345678",
		"+81 90 1234 5678",
		"+81-90-1234-5678",
		"+8109012345678", // the national prefix does not belong in E.164
		"+0819012345678",
		"+999123456789",
		"+819012345678;ext=",
		"+819012345678;ext=12a",
		"+819012345678;ext=12345678901",
		"+819012345678;ext=1;ext=2",
		"+819012345678 ext. 123",
	} {
		if n, err := ParseStored(s); err == nil {
			t.Errorf("ParseStored(%q) = %+v, want an error", s, n)
		}
	}
}
