package regulation

// Reason says why a Verdict refuses an attempt. Callers compare it with
// the constants below and log it (String) as the event's reason; the
// strings are those the logs have always carried.
type Reason string

// Reasons of a refusal. Which ones an attempt can meet is said at each
// Before* method.
const (
	// ReasonIP: the rate of the client address is used up.
	ReasonIP Reason = "ip"
	// ReasonUser: the rate of the user (for this kind of source, or of
	// texts, prompts or codes) is used up.
	ReasonUser Reason = "user"
	// ReasonLocked: the user is locked out (after wrong second-factor
	// codes), or this source of passwords is, for the user.
	ReasonLocked Reason = "locked"
	// ReasonUnfamiliar: every unfamiliar source of passwords is locked for
	// the user (too many wrong passwords a day from them together).
	ReasonUnfamiliar Reason = "unfamiliar"
	// ReasonBlocked: the user reported a sign-in they did not start; every
	// sign-in is stopped until an administrator unlocks.
	ReasonBlocked Reason = "blocked"
	// ReasonResend: too soon after the last text or call to the user.
	ReasonResend Reason = "resend"
	// ReasonNumber: the rate of texts and calls to the number is used up.
	ReasonNumber Reason = "number"
	// ReasonDaily: the gateway's cap of texts and calls for the UTC day is
	// reached.
	ReasonDaily Reason = "daily"
)

// String is the reason as logs carry it.
func (r Reason) String() string { return string(r) }

// SourceKind is a kind of source of password attempts: what
// PasswordAttempt.Familiarity says of an attempt, and what a wrong
// password locked (PasswordFailed; "" when it locked nothing).
type SourceKind string

// Kinds of sources of password attempts.
const (
	// SourceBrowser: a familiar browser of the user (one that carries a
	// valid familiar-browser cookie for them).
	SourceBrowser SourceKind = "browser"
	// SourceAddress: an address the user completed a sign-in from lately
	// (as an attempt's familiarity), or this address (as what a wrong
	// password locked, for the user).
	SourceAddress SourceKind = "address"
	// SourceUnfamiliar: any other source (as an attempt's familiarity), or
	// every unfamiliar source (as what a wrong password locked).
	SourceUnfamiliar SourceKind = "unfamiliar"
)

// String is the kind as logs carry it.
func (k SourceKind) String() string { return string(k) }

// SourceLock is a kind of password lock of sources in force for a user,
// as SourceLocks lists them (and `caddy mfa users` shows them).
type SourceLock string

// Locked sources of a user.
const (
	// LockedAddresses: one or more addresses are locked for the user.
	LockedAddresses SourceLock = "addresses"
	// LockedUnfamiliar: every unfamiliar source is locked for the user.
	LockedUnfamiliar SourceLock = "unfamiliar"
	// LockedFamiliar: one or more of the user's familiar browsers are locked.
	LockedFamiliar SourceLock = "familiar"
)

// String is the lock as logs and the users list carry it.
func (l SourceLock) String() string { return string(l) }
