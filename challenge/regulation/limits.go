package regulation

import (
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
)

// Limits are the rate limits and lockout rules of sign-in.
type Limits struct {
	// LoginPerIP limits password attempts from one client address.
	LoginPerIP limit.Limit
	// LoginPerUser limits password attempts for one user name.
	LoginPerUser limit.Limit
	// CodePerUser limits second-factor checks for one user.
	CodePerUser limit.Limit
	// MaxFailures wrong passwords within FindTime from one source (an
	// address, or the user's familiar browsers) lock that source out for
	// the user for BanTime (see source.go).
	MaxFailures int
	// MaxUnfamiliarFailures wrong passwords a day from sources other than
	// a familiar browser lock every unfamiliar source out for the user
	// until the count drains; familiar ones still sign in.
	MaxUnfamiliarFailures int
	// FindTime is the window in which MaxFailures failures lock.
	FindTime time.Duration
	// BanTime is how long a lockout lasts.
	BanTime time.Duration
	// MaxCodeFailures second-factor failures in a row lock the user,
	// however slowly they come (the run is remembered for 30 days after its
	// last failure and ended only by a right code); each further run of as
	// many locks for twice as long as the one before (at most a day).
	MaxCodeFailures int
	// Send limits texts and calls (toll fraud, SMS pumping).
	Send SendLimits
	// PushPerUser limits the app notifications sent to one user (against
	// MFA fatigue: prompting until the user approves one by mistake).
	PushPerUser limit.Limit
	// AppPasswordPerIP and AppPasswordPerUser limit wrong app passwords
	// from one client address and for one user; past them, every app
	// password from there (or for that user) is refused until they pass.
	AppPasswordPerIP, AppPasswordPerUser limit.Limit
}

// DefaultLimits are in the spirit of Authelia's regulation and Azure's
// smart lockout: 5 wrong passwords in 2 minutes from one source lock that
// source for 5 minutes, 100 a day from unfamiliar sources lock them all,
// and no more than 10 second-factor failures in a row go by without
// a lockout.
func DefaultLimits() Limits {
	return Limits{
		LoginPerIP:            limit.Limit{Rate: 30, Period: time.Minute},
		LoginPerUser:          limit.Limit{Rate: 10, Period: time.Minute},
		CodePerUser:           limit.Limit{Rate: 10, Period: time.Minute},
		MaxFailures:           5,
		MaxUnfamiliarFailures: 100,
		FindTime:              2 * time.Minute,
		BanTime:               5 * time.Minute,
		MaxCodeFailures:       10,
		Send:                  DefaultSendLimits(),
		PushPerUser:           limit.Limit{Rate: 3, Period: 5 * time.Minute},
		AppPasswordPerIP:      limit.Limit{Rate: 20, Period: time.Minute},
		AppPasswordPerUser:    limit.Limit{Rate: 10, Period: time.Minute},
	}
}

// Validate reports the first nonsensical limit.
func (l Limits) Validate() error {
	for name, x := range map[string]limit.Limit{"login_per_ip": l.LoginPerIP, "login_per_user": l.LoginPerUser, "code_per_user": l.CodePerUser, "push_per_user": l.PushPerUser,
		"app_password_per_ip": l.AppPasswordPerIP, "app_password_per_user": l.AppPasswordPerUser} {
		if x.Rate <= 0 || x.Period <= 0 {
			return fmt.Errorf("limits: %s must be a positive rate per period, e.g. 10/1m", name)
		}
	}
	if l.MaxFailures <= 0 || l.FindTime <= 0 || l.BanTime <= 0 || l.MaxCodeFailures <= 0 || l.MaxUnfamiliarFailures <= 0 {
		return errors.New("limits: max_failures, max_unfamiliar_failures, find_time, ban_time and max_code_failures must be positive")
	}
	if l.MaxUnfamiliarFailures > 100 {
		return errors.New("limits: max_unfamiliar_failures may be at most 100 (NIST SP 800-63B)")
	}
	if err := l.Send.Validate(); err != nil {
		return err
	}
	if l.MaxCodeFailures > 100 {
		return errors.New("limits: max_code_failures may be at most 100 (NIST SP 800-63B)")
	}
	return nil
}
