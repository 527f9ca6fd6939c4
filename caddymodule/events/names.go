package events

// Event names a security event; its string is the "event" field.
type Event string

// Sign-in.
const (
	FirstFactorPassed Event = "first_factor_passed"
	SignedIn          Event = "signed_in"
	SignInFailed      Event = "sign_in_failed"
	SignInRefused     Event = "sign_in_refused"
	LockedOut         Event = "locked_out"
	StepUpRequired    Event = "step_up_required"
	SignedOut         Event = "signed_out"
	CSRFRejected      Event = "csrf_rejected"
	AccessDenied      Event = "access_denied"
	BypassUsed        Event = "bypass_used"
	DeviceRemembered  Event = "device_remembered"
)

// Texted codes, calls, app notifications and security keys.
const (
	CodeSent                  Event = "code_sent"
	CodeRefused               Event = "code_refused"
	SendRefused               Event = "send_refused"
	CallPlaced                Event = "call_placed"
	CallApproved              Event = "call_approved"
	CallDenied                Event = "call_denied"
	CallCallbackRejected      Event = "call_callback_rejected"
	CallCallbackRefused       Event = "call_callback_refused"
	PushSent                  Event = "push_sent"
	PushApproved              Event = "push_approved"
	PushDenied                Event = "push_denied"
	PushRefused               Event = "push_refused"
	PushOpenedElsewhere       Event = "push_opened_elsewhere"
	PushLinkReused            Event = "push_link_reused"
	PushAnswerFromOtherDevice Event = "push_answer_from_other_device"
	FraudReported             Event = "fraud_reported"
	KeyRejected               Event = "key_rejected"
	KeyWrongOrigin            Event = "key_wrong_origin"
	KeyCloneWarning           Event = "key_clone_warning"
	EnrolmentCodeRejected     Event = "enrolment_code_rejected"
)

// Security info and app passwords.
const (
	MethodAdded          Event = "method_added"
	MethodRemoved        Event = "method_removed"
	DefaultMethodChanged Event = "default_method_changed"
	KeyRenamed           Event = "key_renamed"
	DeviceForgotten      Event = "device_forgotten"
	RecoveryCodesCreated Event = "recovery_codes_created"
	SessionsRevoked      Event = "sessions_revoked"
	AppPasswordCreated   Event = "app_password_created"
	AppPasswordRevoked   Event = "app_password_revoked"
	AppPasswordsRevoked  Event = "app_passwords_revoked"
	AppPasswordUsed      Event = "app_password_used"
	AppPasswordFailed    Event = "app_password_failed"
	AppPasswordRefused   Event = "app_password_refused"
)

// Administrators and the users file.
const (
	Unlocked      Event = "unlocked"
	UserReset     Event = "user_reset"
	BypassGranted Event = "bypass_granted"
	UserDisabled  Event = "user_disabled"
)

// Temporary access passes (issue 18): issued and revoked by an
// administrator (fields "for", "uses", "expires", "by"; never the pass
// itself), used or found expired at a sign-in.
const (
	TemporaryPassIssued         Event = "temporary_pass_issued"
	TemporaryPassUsed           Event = "temporary_pass_used"
	TemporaryPassExpired        Event = "temporary_pass_expired"
	TemporaryPassRevoked        Event = "temporary_pass_revoked"
	RegisteredWithTemporaryPass Event = "registered_with_temporary_pass"
)

// Warn reports whether e is one an administrator should look at (a
// lockout, a possible attack, a grant of access without a second
// factor): it is logged at warn level.
func (e Event) Warn() bool {
	switch e {
	case LockedOut, FraudReported, CallCallbackRejected, CallCallbackRefused, PushLinkReused,
		PushAnswerFromOtherDevice, PushOpenedElsewhere, KeyCloneWarning, KeyWrongOrigin, UserReset, BypassGranted, BypassUsed,
		TemporaryPassIssued, TemporaryPassUsed:
		return true
	}
	return false
}
