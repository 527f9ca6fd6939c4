package events

// Registration under a registration policy (issue 18); the temporary
// access pass's events are in names.go.
const (
	// RegistrationEmailVerified: a code e-mailed to a user without a
	// method let their session register one (verified_email).
	RegistrationEmailVerified Event = "registration_email_verified"
)
