// Package phone is what text-message and phone-call sign-in need of phone
// numbers and of the providers that reach them: parsing and validating
// numbers (nyaruka/phonenumbers), masking them for display, the allow-list
// of country calling codes, and the interfaces the providers implement
// (sub-packages twilio and webhook).
package phone

// Number is a validated phone number.
type Number struct {
	// E164 is the number in E.164 form, such as "+819012345678".
	E164 string
	// Ext is the extension an office phone dials after connecting, digits
	// only; empty for none.
	Ext string
	// CountryCode is the country calling code, such as 81.
	CountryCode int
	// Region is the ISO 3166-1 region the number belongs to, such as "JP".
	Region string
	// Mobile reports whether the number can receive text messages: a
	// mobile number, or one whose type its plan does not tell apart.
	Mobile bool
}
