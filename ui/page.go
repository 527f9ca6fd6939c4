package ui

import (
	"html/template"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// Message ids of the portal's request handling.
const (
	// MsgUnsupportedForm: a form posted as multipart (an upload), which
	// the portal refuses unread.
	MsgUnsupportedForm = "message.unsupported_form"
	// TitleStepUp: a change of security info needs the second factor
	// again, confirmed with a button (a GET never changes the session).
	TitleStepUp = "title.step_up"
	// TitleStepUpConfirm: the change asked for before a step-up, ready
	// to confirm.
	TitleStepUpConfirm = "title.step_up_confirm"
	// MsgForbiddenAccount: the 403 page of a signed-in user, naming the
	// account ({{.Display}}, {{.User}}).
	MsgForbiddenAccount = "forbidden.account"
	// MsgForbiddenBeforeSetup: the same, after the password, instead of
	// registering a method for a route that refuses the user.
	MsgForbiddenBeforeSetup = "forbidden.before_setup"
)

// Message ids that the portal code (not the templates) passes in Page.Error,
// Page.Message and Page.Title. Tests check each is in every catalogue.
const (
	ErrBadCredentials   = "error.bad_credentials"
	ErrBadCode          = "error.bad_code"
	ErrBadRecovery      = "error.bad_recovery"
	ErrCSRF             = "error.csrf"
	ErrEnrolmentExpired = "error.enrolment_expired"
	// ErrPasswordExpired: the directory refused a right password that has
	// expired or must be changed.
	ErrPasswordExpired = "error.password_expired"

	TitleLogin             = "title.login"
	TitleSetup             = "title.setup"
	TitleSetupTOTP         = "title.setup_totp"
	TitleRecovery          = "title.recovery"
	TitleChallenge         = "title.challenge"
	TitleChallengeRecovery = "title.challenge_recovery"
	TitleForbidden         = "title.forbidden"
	TitleUnavailable       = "title.unavailable"
	TitleSignedOut         = "title.signed_out"
	TitleBadRequest        = "title.bad_request"
	TitleSignedIn          = "title.signed_in"
	TitleTooMany           = "title.too_many"
	TitleSealUnreadable    = "title.seal_unreadable"

	MsgForbidden   = "message.forbidden"
	MsgUnavailable = "message.unavailable"
	MsgSignedOut   = "message.signed_out"
	MsgBadRequest  = "message.bad_request"
	MsgSignedIn    = "message.signed_in"
	MsgTooMany     = "message.too_many"
	MsgBlocked     = "message.blocked"
	// MsgSealUnreadable: a secret of the account does not open (another
	// storage_key).
	MsgSealUnreadable = "message.seal_unreadable"

	TitleSetupPhone = "title.setup_phone"
	TitlePhoneCode  = "title.phone_code"
	TitlePhoneStart = "title.phone_start"
	TitlePhoneWait  = "title.phone_wait"
	TitleBlocked    = "title.blocked"

	ErrPhoneEmpty      = "error.phone.empty"
	ErrPhoneCountry    = "error.phone.country"
	ErrPhoneNotANumber = "error.phone.not-a-number"
	ErrPhoneTooShort   = "error.phone.too-short"
	ErrPhoneTooLong    = "error.phone.too-long"
	ErrPhoneInvalid    = "error.phone.invalid"
	ErrPhoneExtension  = "error.phone.extension"
	ErrPhoneType       = "error.phone.type"
	ErrPhoneNotAllowed = "error.phone_not_allowed"
	ErrPhoneNotMobile  = "error.phone_not_mobile"
	ErrSendFailed      = "error.send_failed"
	ErrSendLimited     = "error.send_limited"
	ErrResendWait      = "error.resend_wait"
	ErrCallNotApproved = "error.call_not_approved"
	ErrCodeExpired     = "error.code_expired"
	ErrBadSMSCode      = "error.bad_sms_code"

	TitleSetupPush   = "title.setup_push"
	TitlePushStart   = "title.push_start"
	TitlePushWait    = "title.push_wait"
	TitlePushApprove = "title.push_approve"
	// TitlePushApproveEnrol is the approval page of a registration's test prompt.
	TitlePushApproveEnrol = "title.push_approve_enrol"
	TitlePushDone         = "title.push_done"

	ErrPushFailed    = "error.push_failed"
	ErrPushLimited   = "error.push_limited"
	ErrPushDenied    = "error.push_denied"
	ErrPushExpired   = "error.push_expired"
	MsgPushApproved  = "message.push_approved"
	MsgPushDenied    = "message.push_denied"
	MsgPushMismatch  = "message.push_mismatch"
	MsgPushFraud     = "message.push_fraud"
	MsgPushExpired   = "message.push_expired"
	MsgPushAnswered  = "message.push_answered"
	MsgPushElsewhere = "message.push_elsewhere"

	TitleSecurity          = "title.security"
	TitleRecoveryLeft      = "title.recovery_left"
	ErrLastMethod          = "error.last_method"
	ErrNoSuchMethod        = "error.no_such_method"
	MsgMethodRemoved       = "message.method_removed"
	MsgMethodAdded         = "message.method_added"
	MsgDefaultSaved        = "message.default_saved"
	MsgDeviceForgotten     = "message.device_forgotten"
	MsgSignedOutEverywhere = "message.signed_out_everywhere"
	MsgSignedOutRevoked    = "message.signed_out_everywhere_revoked"
	TitleAppPassword       = "title.app_password"
	ErrAppPasswordName     = "error.app_password_name"
	ErrAppPasswordLimit    = "error.app_password_limit"
	MsgAppPasswordRevoked  = "message.app_password_revoked"

	TitleSetupKey     = "title.setup_key"
	TitleKeyChallenge = "title.key_challenge"
	ErrKeyWrongSite   = "error.key_wrong_site"
	ErrKeyAddress     = "error.key_address"
	ErrKeyRejected    = "error.key_rejected"
	ErrKeyExpired     = "error.key_expired"
	ErrKeyExists      = "error.key_exists"
	ErrKeyName        = "error.key_name"
	ErrKeyLimit       = "error.key_limit"
	ErrKeyCloned      = "error.key_cloned"
	ErrKeyNoScript    = "error.key_no_script"
	ErrKeyBusy        = "error.key_busy"
	MsgKeyRenamed     = "message.key_renamed"

	// Pages of the router and of POST/redirect/GET: an unknown address,
	// a method the address does not take, a secret no longer shown.
	TitleNotFound    = "title.not_found"
	MsgNotFound      = "message.not_found"
	TitleNotAllowed  = "title.not_allowed"
	MsgNotAllowed    = "message.not_allowed"
	MsgResultExpired = "message.result_expired"

	// The confirmation asked before a destructive action on the
	// security-info page: its heading, text and button.
	TitleConfirmRemove    = "confirm.remove.title"
	MsgConfirmRemove      = "confirm.remove.text"
	ConfirmRemoveButton   = "confirm.remove.button"
	TitleConfirmRecovery  = "confirm.recovery.title"
	MsgConfirmRecovery    = "confirm.recovery.text"
	ConfirmRecoveryButton = "confirm.recovery.button"
	TitleConfirmSignOut   = "confirm.signout.title"
	MsgConfirmSignOut     = "confirm.signout.text"
	MsgConfirmSignOutAll  = "confirm.signout.text_revoke"
	ConfirmSignOutButton  = "confirm.signout.button"
	TitleConfirmRevoke    = "confirm.revoke.title"
	MsgConfirmRevoke      = "confirm.revoke.text"
	ConfirmRevokeButton   = "confirm.revoke.button"
	TitleConfirmForget    = "confirm.forget.title"
	MsgConfirmForget      = "confirm.forget.text"
	ConfirmForgetButton   = "confirm.forget.button"

	PushTitle          = "push.title"
	PushTitleTest      = "push.title_test"
	PushMessage        = "push.message"
	PushMessageTest    = "push.message_test"
	PushAction         = "push.action"
	PushUnknownBrowser = "push.unknown_browser"

	SMSBody       = "sms.body"
	VoiceSay      = "voice.say"
	VoiceSayEnrol = "voice.say_enrol"
	VoiceApproved = "voice.approved"
	VoiceDenied   = "voice.denied"
	VoiceFraud    = "voice.fraud"
	VoiceLanguage = "voice.language"
)

// The words of the phone and setup pages for a signed-in user adding a
// method or changing a number, and of a registration call.
const (
	// TitleSetupAdd heads the choice of method when adding one.
	TitleSetupAdd = "title.setup_add"
	// TitleChangePhone heads the form of a new number for a phone.
	TitleChangePhone = "title.change_phone"
	// MsgNumberChanged is the notice after a change of number.
	MsgNumberChanged = "message.number_changed"
	// ErrResendWaitCall is ErrResendWait for a call.
	ErrResendWaitCall = "error.resend_wait_call"
	// ErrCallNotConfirmed and ErrPushNotConfirmed are ErrCallNotApproved
	// and ErrPushDenied of a registration (nobody is signing in).
	ErrCallNotConfirmed = "error.call_not_confirmed"
	ErrPushNotConfirmed = "error.push_not_confirmed"
	// VoiceApprovedEnrol and VoiceDeniedEnrol end a registration call.
	VoiceApprovedEnrol = "voice.approved_enrol"
	VoiceDeniedEnrol   = "voice.denied_enrol"
)

// The words the portal passes for registration under a policy.
const (
	// TitleRegister heads the page before registration.
	TitleRegister = "title.register"
	// TitleTemporaryPass heads the page of a temporary access pass.
	TitleTemporaryPass = "title.temporary_pass"
	// ErrBadPass: not the user's pass (mistyped, used, replaced).
	ErrBadPass = "error.bad_pass"
	// ErrPassExpired: the user's pass, too late.
	ErrPassExpired = "error.pass_expired"
	// ErrBadEmailCode: not the code e-mailed.
	ErrBadEmailCode = "error.bad_email_code"
)

// MsgTooManyPasswords is the page of a password source locked out (smart
// lockout): too many wrong passwords from here (this address, or every
// unfamiliar source); a browser where the user signed in before still works.
const MsgTooManyPasswords = "message.too_many_passwords"

// CodeMessageIDs lists the ids above, for the catalogue tests.
var CodeMessageIDs = []string{
	ErrBadCredentials, ErrBadCode, ErrBadRecovery, ErrCSRF, ErrEnrolmentExpired, ErrPasswordExpired,
	TitleLogin, TitleSetup, TitleSetupTOTP, TitleRecovery, TitleChallenge, TitleChallengeRecovery,
	TitleForbidden, TitleUnavailable, TitleSignedOut, TitleBadRequest, TitleSignedIn, TitleTooMany,
	MsgForbidden, MsgUnavailable, MsgSignedOut, MsgBadRequest, MsgUnsupportedForm, MsgSignedIn, MsgTooMany, MsgBlocked,
	TitleSetupPhone, TitlePhoneCode, TitlePhoneStart, TitlePhoneWait, TitleBlocked,
	ErrPhoneEmpty, ErrPhoneCountry, ErrPhoneNotANumber, ErrPhoneTooShort, ErrPhoneTooLong, ErrPhoneInvalid,
	ErrPhoneExtension, ErrPhoneType, ErrPhoneNotAllowed, ErrPhoneNotMobile, ErrSendFailed, ErrSendLimited, ErrResendWait,
	ErrCallNotApproved, ErrCodeExpired, ErrBadSMSCode,
	TitleSealUnreadable, MsgSealUnreadable,
	SMSBody, VoiceSay, VoiceSayEnrol, VoiceApproved, VoiceDenied, VoiceFraud, VoiceLanguage,
	TitleSetupPush, TitlePushStart, TitlePushWait, TitlePushApprove, TitlePushApproveEnrol, TitlePushDone,
	ErrPushFailed, ErrPushLimited, ErrPushDenied, ErrPushExpired,
	MsgPushApproved, MsgPushDenied, MsgPushMismatch, MsgPushFraud, MsgPushExpired, MsgPushAnswered, MsgPushElsewhere,
	PushTitle, PushTitleTest, PushMessage, PushMessageTest, PushAction, PushUnknownBrowser,
	TitleSecurity, TitleRecoveryLeft, TitleStepUp, ErrLastMethod, ErrNoSuchMethod, MsgMethodRemoved, MsgMethodAdded, MsgDefaultSaved, MsgDeviceForgotten, MsgSignedOutEverywhere, MsgSignedOutRevoked,
	TitleAppPassword, ErrAppPasswordName, ErrAppPasswordLimit, MsgAppPasswordRevoked,
	TitleSetupKey, TitleKeyChallenge, ErrKeyWrongSite, ErrKeyAddress, ErrKeyRejected, ErrKeyExpired, ErrKeyExists,
	ErrKeyName, ErrKeyLimit, ErrKeyCloned, ErrKeyNoScript, ErrKeyBusy, MsgKeyRenamed,
	TitleBusy, MsgBusy, MsgTooManyPasswords,
	TitleNotFound, MsgNotFound, TitleNotAllowed, MsgNotAllowed, MsgResultExpired,
	TitleConfirmRemove, MsgConfirmRemove, ConfirmRemoveButton, TitleConfirmRecovery, MsgConfirmRecovery, ConfirmRecoveryButton,
	TitleConfirmSignOut, MsgConfirmSignOut, MsgConfirmSignOutAll, ConfirmSignOutButton,
	TitleConfirmRevoke, MsgConfirmRevoke, ConfirmRevokeButton, TitleConfirmForget, MsgConfirmForget, ConfirmForgetButton,
	TitleSetupAdd, TitleChangePhone, MsgNumberChanged, ErrResendWaitCall, VoiceApprovedEnrol, VoiceDeniedEnrol,
	ErrCallNotConfirmed, ErrPushNotConfirmed,
	codesFileTitle, codesFileNote,
	TitleRegister, TitleTemporaryPass, ErrBadPass, ErrPassExpired, ErrBadEmailCode,
}

// Page is the data of one portal page. Strings that users read are message
// ids, translated by T when the page renders.
type Page struct {
	// Org is the organisation's name, shown on every page.
	Org string
	// Prefix is the portal's path prefix, ending in "/".
	Prefix string
	// HelpURL is the operator's help link (help_url), "" for none.
	HelpURL string
	// Title is the message id of the heading.
	Title string
	// TitleData fills the placeholders of Title (e.g. the name of what a
	// confirmation page asks about).
	TitleData map[string]any
	// CSRF is the token every form posts back.
	CSRF string
	// User is the display name of the user signing in, once known.
	User string
	// Error is the message id of an error shown next to the input.
	Error string
	// Message is the message id of the text of a message page.
	Message string
	// MessageData fills the placeholders of Message (e.g. Minutes).
	MessageData map[string]any
	// Return is the same-origin path to go back to.
	Return string
	// Carry is a return path that the challenge pages carry in their links
	// and forms ("rd") until the second factor is given: a GET never
	// changes the session. Empty for none.
	Carry string
	// Username refills the login form after an error.
	Username string
	// OneFactor marks a login for a route where the password is enough.
	OneFactor bool
	// Methods are the method names offered on the setup page.
	Methods []string
	// TOTPSecret is the seed, grouped for typing.
	TOTPSecret string
	// TOTPURL is the otpauth:// link.
	TOTPURL template.URL
	// Codes are recovery codes, shown once; CodesAccount is the user name
	// they sign in, which their downloaded file names.
	Codes        []string
	CodesAccount string
	// Recovery switches the challenge page to recovery codes.
	Recovery bool
	// SignedIn marks a page for a fully signed-in user.
	SignedIn bool
	// Lang is the language the page is rendered in.
	Lang string
	// Wide lays the page out wider than the sign-in card on a desktop
	// (set by Render for the pages that need it).
	Wide bool

	// Method is the phone method of a phone page: "sms" or "voice".
	Method string
	// Enrol marks a phone page of registration rather than sign-in.
	Enrol bool
	// Adding marks a registration page of a fully signed-in user adding
	// a method (or changing a number) from the security-info page: its
	// words say so, and its exit leads back there, not to signing out.
	Adding bool
	// Masked is the phone number in use, all but its last digits hidden.
	Masked string
	// Regions fill the country picker.
	Regions []phone.Region
	// Region is the chosen country (ISO 3166-1 code).
	Region string
	// Number and Ext refill the phone form after an error.
	Number, Ext string
	// Replace and ReplaceMasked name the phone a new number replaces
	// (a change of number from the security-info page).
	Replace, ReplaceMasked string
	// Others are the other ways to sign in, offered as links.
	Others []Other
	// CallStatus is where a call stands: pending, approved, denied, fraud.
	CallStatus string
	// Refresh reloads the page every so many seconds when JavaScript is off.
	Refresh int
	// StepUp marks the pages that ask for the second factor again for a
	// change of security info: they say why, offer no "Don't ask again",
	// and exit to the security-info page.
	StepUp bool
	// Change is the id of the change kept over a step-up, and Fields its
	// form, on the page that shows it ready to confirm.
	Change string
	Fields []Field
	// RememberDays offers "Don't ask again on this device for N days" on
	// the forms that give the second factor; 0: not offered.
	RememberDays int

	// Subscribe is how the user's phone subscribes to its prompts, on the
	// app-notification setup page; nil when the notifier has no app.
	Subscribe *Subscribe
	// PushNumber is the number the user picks on the phone.
	PushNumber int
	// PushStatus is where a prompt stands: pending, approved, denied,
	// fraud, expired.
	PushStatus string
	// Prompt is the sign-in an approval page asks about.
	Prompt *Prompt

	// MethodRows are the registered methods on the security-info page.
	MethodRows []MethodRow
	// CanRemove is whether a method may be removed (not the last one).
	CanRemove bool
	// DefaultMethod is the method asked for first at sign-in; Methods
	// then lists the user's sign-in methods to choose from.
	DefaultMethod string
	// RecoveryLeft is how many recovery codes are unused.
	RecoveryLeft int
	// RecoveryLow marks few recovery codes left: register a method again.
	RecoveryLow bool
	// AppPasswords are the user's app passwords.
	AppPasswords []AppPasswordRow
	// Devices are the user's remembered devices.
	Devices []DeviceRow
	// AppPassword is a new app password, shown once.
	AppPassword string
	// Confirm is what a confirmation page asks to confirm; nil elsewhere.
	Confirm *Confirm
	// Register is what the registration gate offers; nil elsewhere.
	Register *Register

	// KeyOptions are the options of a security-key ceremony, as JSON for
	// navigator.credentials; "" when this site cannot use keys.
	KeyOptions string
	// KeyCeremony names the ceremony of this page among those of the
	// session (each showing of a key page has its own), posted back with
	// the answer.
	KeyCeremony string
	// KeyName refills the name of a security key being registered.
	KeyName string

	loc *i18n.Localizer
	// missing records ids that had no translation, for tests.
	missing []string
}

// Confirm is a destructive action a confirmation page asks about (the
// page's Title is the question): its text, and the form that does it.
type Confirm struct {
	// Text is the message id of what the action does; Data fills it.
	Text string
	Data map[string]any
	// Action is the path the form posts to, with confirm=1, the CSRF
	// token and Fields.
	Action string
	// Fields are the form's other values (the id of what it acts on).
	Fields []Field
	// Button is the message id of the form's button.
	Button string
}

// Register is what the page before registration (or the page of a
// temporary access pass) offers a user the registration policy does not
// let register straight away.
type Register struct {
	// PassOnly asks for a temporary access pass only: the page of a user
	// who has methods but lost them.
	PassOnly bool
	// Email is the user's address, masked, when a code may be e-mailed
	// to it (verified_email); "" otherwise. EmailSent: a code was sent
	// and the page asks for it.
	Email     string
	EmailSent bool
	// PassError and EmailError are the message ids of an error next to
	// the pass or the code; ErrorData fills them.
	PassError, EmailError string
	ErrorData             map[string]any
}

// Field is a hidden form value (of a confirmation, or of a change kept
// over a step-up, to post again).
type Field struct {
	Name, Value string
}

// Subscribe says how to subscribe to a notification topic.
type Subscribe struct {
	// Link opens the notification app on the topic (in the QR code).
	Link template.URL
	// Server and Topic are for subscribing by hand.
	Server, Topic string
}

// MethodRow is one registered method on the security-info page.
type MethodRow struct {
	// ID names it in the remove form; Kind is totp, push, webauthn or phone.
	ID, Kind string
	// Name is the name the user gave a security key.
	Name string
	// Masked is the number of a phone; Mobile whether it takes texts.
	Masked string
	Mobile bool
	// Added and LastUsed are formatted times; LastUsed is "" if never.
	Added, LastUsed string
}

// DeviceRow is one remembered device on the security-info page.
type DeviceRow struct {
	// ID names it in the forget form; Name describes the browser.
	ID, Name string
	// Created, LastUsed and Expires are formatted times.
	Created, LastUsed, Expires string
}

// AppPasswordRow is one app password on the security-info page.
type AppPasswordRow struct {
	// ID names it in the revoke form; Name is the user's name for it.
	ID, Name string
	// Created and LastUsed are formatted times; LastUsed is "" if never.
	Created, LastUsed string
}

// Prompt is a sign-in as its approval page shows it.
type Prompt struct {
	// Token is the approval link's token, posted back with the answer.
	Token string
	// User, Site, IP and Browser describe the sign-in; Browser may be "".
	User, Site, IP, Browser string
	// Time is when the sign-in asked, and Expires when the prompt can no
	// longer be answered, formatted.
	Time, Expires string
	// Enrol marks the test prompt of a registration.
	Enrol bool
	// Elsewhere marks a prompt another device opened first: this one may
	// only report fraud.
	Elsewhere bool
}

// Other is another way to sign in.
type Other struct {
	// Method is totp, sms, voice or recovery.
	Method string
	// Masked is the phone number, for sms and voice.
	Masked string
}

// T translates message id, with optional template data.
func (p *Page) T(id string, data ...any) string {
	var td any
	if len(data) > 0 {
		td = data[0]
	}
	s, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: td})
	if err != nil {
		p.missing = append(p.missing, id)
		return id
	}
	return s
}

// Missing returns the ids T could not translate, for tests.
func (p *Page) Missing() []string { return p.missing }

func (p *Page) language() string {
	_, tag, err := p.loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: TitleLogin})
	if err != nil {
		return Languages[0]
	}
	return tag.String()
}
