package phone

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Reasons why Parse refuses a number, found in Error.Reason. Callers choose
// the message they show (in the user's language) by the reason.
const (
	// ReasonEmpty: nothing was entered.
	ReasonEmpty = "empty"
	// ReasonCountry: no country was chosen and the number does not start
	// with "+" or "00", or the country or calling code is unknown.
	ReasonCountry = "country"
	// ReasonNotANumber: the input has letters or other characters that do
	// not belong in a phone number.
	ReasonNotANumber = "not-a-number"
	// ReasonTooShort: the number has too few digits for its country, or
	// only the local part without the area code.
	ReasonTooShort = "too-short"
	// ReasonTooLong: the number has too many digits for its country.
	ReasonTooLong = "too-long"
	// ReasonInvalid: the number has a possible length but is not a valid
	// number in its country.
	ReasonInvalid = "invalid"
	// ReasonExtension: the extension is not digits, is too long, or the
	// number and the extension field name two different extensions.
	ReasonExtension = "extension"
	// ReasonType: a premium-rate, shared-cost, toll-free, personal, pager
	// or other number that texts and calls must not go to (toll fraud).
	ReasonType = "type"
)

// Reasons lists every Reason, for the tests that each has a message.
func Reasons() []string {
	return []string{ReasonEmpty, ReasonCountry, ReasonNotANumber, ReasonTooShort, ReasonTooLong, ReasonInvalid, ReasonExtension, ReasonType}
}

// MaxExtDigits is the most digits an extension may have.
const MaxExtDigits = 10

// Error is why Parse refused a number. It never contains the number itself,
// so that it can be logged.
type Error struct {
	// Reason is one of the Reason constants.
	Reason string
	// Err is the underlying error from the phone number library, if any.
	Err error
}

// Error returns an English description of what is wrong.
func (e *Error) Error() string {
	msg := "phone: " + reasonText(e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

func reasonText(reason string) string {
	switch reason {
	case ReasonEmpty:
		return "enter a phone number"
	case ReasonCountry:
		return "choose a country or start the number with + and the country calling code"
	case ReasonNotANumber:
		return "the phone number may only contain digits, spaces, dashes, dots and parentheses"
	case ReasonTooShort:
		return "the phone number is too short for its country (is the area code missing?)"
	case ReasonTooLong:
		return "the phone number is too long for its country"
	case ReasonInvalid:
		return "the phone number does not exist in its country"
	case ReasonExtension:
		return fmt.Sprintf("the extension must be digits only, at most %d", MaxExtDigits)
	case ReasonType:
		return "only mobile, landline and VoIP numbers may be used (not premium-rate, shared-cost, toll-free or personal numbers)"
	default:
		return "the phone number is not valid (" + reason + ")"
	}
}

// Parse validates a phone number typed by a user.
//
// region is the ISO 3166-1 alpha-2 code chosen in a country picker (case
// does not matter; may be empty). raw is the number as typed: in national
// form for that region ("090-1234-5678"), or international, starting with
// "+" or "00", in which case region does not matter. Spaces, dashes, dots
// and parentheses are allowed, full-width digits too; letters are not
// (vanity numbers such as 1-800-FLOWERS are refused), except for an
// extension written after the number ("+1 650 253 0000 ext. 123", "x123").
// ext is an optional separate extension field: digits, spaces ignored.
//
// Errors are *Error.
func Parse(region, raw, ext string) (Number, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Number{}, &Error{Reason: ReasonEmpty}
	}
	ext, err := cleanExt(ext)
	if err != nil {
		return Number{}, err
	}
	num, _ := phonenumbers.MaybeSeparateExtensionFromPhone(raw)
	if hasLetter(num) {
		return Number{}, &Error{Reason: ReasonNotANumber}
	}
	pn, err := parseValid(region, raw)
	if err != nil && strings.HasPrefix(raw, "00") {
		// "00" is the international prefix in most countries, though not
		// in the chosen one (or none was chosen): try it as "+".
		pn2, err2 := parseValid("", "+"+raw[2:])
		if err2 == nil || !isReason(err2, ReasonCountry) {
			pn, err = pn2, err2
		}
	}
	if err != nil {
		return Number{}, err
	}
	typedExt, err := cleanExt(pn.GetExtension())
	if err != nil {
		return Number{}, err
	}
	switch {
	case ext == "":
		ext = typedExt
	case typedExt != "" && typedExt != ext:
		return Number{}, &Error{Reason: ReasonExtension,
			Err: errors.New("the number and the extension field give different extensions")}
	}
	return describe(pn, ext), nil
}

// parseValid parses raw with phonenumbers and accepts only valid numbers.
func parseValid(region, raw string) (*phonenumbers.PhoneNumber, error) {
	pn, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return nil, &Error{Reason: parseReason(err, raw), Err: err}
	}
	switch phonenumbers.IsPossibleNumberWithReason(pn) {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.INVALID_COUNTRY_CODE:
		return nil, &Error{Reason: ReasonCountry}
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return nil, &Error{Reason: ReasonTooShort}
	case phonenumbers.TOO_LONG:
		return nil, &Error{Reason: ReasonTooLong}
	default: // INVALID_LENGTH: between the shortest and the longest
		return nil, &Error{Reason: ReasonInvalid}
	}
	if !phonenumbers.IsValidNumber(pn) {
		return nil, &Error{Reason: ReasonInvalid}
	}
	switch phonenumbers.GetNumberType(pn) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.VOIP:
	default:
		// Texts and calls to these cost the gateway's operator money that
		// flows to whoever runs the number: toll fraud.
		return nil, &Error{Reason: ReasonType}
	}
	return pn, nil
}

// parseReason maps an error of phonenumbers.Parse to a Reason.
func parseReason(err error, raw string) string {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return ReasonCountry
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return ReasonTooShort
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return ReasonTooLong
	case errors.Is(err, phonenumbers.ErrNotANumber) && countDigits(raw) > 0 && countDigits(raw) < 3:
		// Letters were refused before: this is a digit or two.
		return ReasonTooShort
	default:
		return ReasonNotANumber
	}
}

// describe builds the Number of a parsed phone number and its extension.
func describe(pn *phonenumbers.PhoneNumber, ext string) Number {
	region := phonenumbers.GetRegionCodeForNumber(pn)
	if region == "" {
		region = phonenumbers.GetRegionCodeForCountryCode(int(pn.GetCountryCode()))
	}
	typ := phonenumbers.GetNumberType(pn)
	return Number{
		E164:        phonenumbers.Format(pn, phonenumbers.E164),
		Ext:         ext,
		CountryCode: int(pn.GetCountryCode()),
		Region:      region,
		Mobile:      ext == "" && (typ == phonenumbers.MOBILE || typ == phonenumbers.FIXED_LINE_OR_MOBILE),
	}
}

// cleanExt checks an extension and returns its ASCII digits, spaces removed.
func cleanExt(ext string) (string, error) {
	ext = strings.Join(strings.Fields(ext), "")
	if strings.ContainsFunc(ext, func(r rune) bool { return !unicode.IsDigit(r) }) {
		return "", &Error{Reason: ReasonExtension, Err: errors.New("the extension has characters other than digits")}
	}
	ext = phonenumbers.NormalizeDigitsOnly(ext)
	if len(ext) > MaxExtDigits {
		return "", &Error{Reason: ReasonExtension, Err: fmt.Errorf("the extension has %d digits", len(ext))}
	}
	return ext, nil
}

// hasLetter reports whether s has a letter; the katakana long vowel mark,
// which Japanese input methods type for a dash, does not count.
func hasLetter(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) && r != 'ー' })
}

// countDigits returns how many decimal digits s has.
func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// isReason reports whether err is an *Error with that reason.
func isReason(err error, reason string) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == reason
}

// String returns the number in E.164 form followed, if it has an
// extension, by ";ext=" and the extension as in RFC 3966:
// "+16502530000;ext=123". ParseStored reads it back.
func (n Number) String() string {
	if n.Ext == "" {
		return n.E164
	}
	return n.E164 + ";ext=" + n.Ext
}

// ParseStored reads back a number written by Number.String, recomputing
// the other fields. It insists on that exact form, but not on the number
// still being valid: numbering plans change, and a number accepted when it
// was stored must not lock its owner out.
func ParseStored(s string) (Number, error) {
	e164, ext, hasExt := strings.Cut(s, ";ext=")
	if !isE164(e164) {
		return Number{}, errors.New("phone: stored number is not in E.164 form")
	}
	if hasExt && (ext == "" || len(ext) > MaxExtDigits || !isASCIIDigits(ext)) {
		return Number{}, errors.New("phone: stored number has a malformed extension")
	}
	pn, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return Number{}, fmt.Errorf("phone: parsing stored number: %w", err)
	}
	n := describe(pn, ext)
	if n.E164 != e164 {
		return Number{}, errors.New("phone: stored number is not in canonical E.164 form")
	}
	return n, nil
}

// isE164 reports whether s is "+" and 2 to 20 digits, the first not 0.
func isE164(s string) bool {
	d, ok := strings.CutPrefix(s, "+")
	return ok && len(d) >= 2 && len(d) <= 20 && d[0] != '0' && isASCIIDigits(d)
}

// isASCIIDigits reports whether s is only of ASCII digits.
func isASCIIDigits(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}
