package events

// Registration under a registration policy (issue 18).
const (
	// TemporaryPassUsed: a temporary access pass replaced the second
	// factor of a sign-in.
	TemporaryPassUsed Event = "temporary_pass_used"
	// TemporaryPassExpired: a user typed their pass after it expired.
	TemporaryPassExpired Event = "temporary_pass_expired"
	// RegistrationEmailVerified: a code e-mailed to a user without a
	// method let their session register one (verified_email).
	RegistrationEmailVerified Event = "registration_email_verified"
)
