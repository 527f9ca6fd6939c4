package caddymodule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

// LimitsConfig sets the rate limits and lockouts of sign-in. Every field
// left out keeps its default.
type LimitsConfig struct {
	// LoginPerIP limits password attempts from one client address, as
	// "<events>/<duration>". Default: "30/1m".
	LoginPerIP string `json:"login_per_ip,omitempty"`
	// LoginPerUser limits password attempts for one user name. Default: "10/1m".
	LoginPerUser string `json:"login_per_user,omitempty"`
	// CodePerUser limits second-factor checks for one user. Default: "10/1m".
	CodePerUser string `json:"code_per_user,omitempty"`
	// MaxFailures wrong passwords within FindTime from one source lock
	// that source out for the user for BanTime: a client address (IPv6:
	// its /64), or all the user's familiar browsers (where the user
	// completed a sign-in before). Default: 5.
	MaxFailures int `json:"max_failures,omitempty"`
	// MaxUnfamiliarFailures wrong passwords a day for one user from
	// sources other than a familiar browser lock every unfamiliar source
	// out for the user until the count lets one more through (one every
	// day/MaxUnfamiliarFailures; at least BanTime), while familiar
	// browsers and addresses still sign in: distributed guessing gets at
	// most this many a day. A right password from such a source or `caddy
	// mfa unlock` empties the count. At most 100. Default: 100.
	MaxUnfamiliarFailures int `json:"max_unfamiliar_failures,omitempty"`
	// FindTime is the window of MaxFailures. Default: 2m.
	FindTime caddy.Duration `json:"find_time,omitempty"`
	// BanTime is how long a lockout lasts; `caddy mfa unlock USER` lifts it
	// early. Default: 5m.
	BanTime caddy.Duration `json:"ban_time,omitempty"`
	// MaxCodeFailures second-factor failures in a row lock the user
	// however slowly they come (only a right code ends the run; each
	// further run locks twice as long, up to a day). At most 100. Default: 10.
	MaxCodeFailures int `json:"max_code_failures,omitempty"`
	// SendPerUser limits the texts and calls sent for one user. Default: "5/1h".
	SendPerUser string `json:"send_per_user,omitempty"`
	// SendPerNumber limits the texts and calls sent to one phone number,
	// whoever asks. Default: "5/1h".
	SendPerNumber string `json:"send_per_number,omitempty"`
	// SendPerIP limits the texts and calls asked for from one client
	// address (IPv6: its /64). Default: "50/1h".
	SendPerIP string `json:"send_per_ip,omitempty"`
	// SendDaily caps the texts and calls of the whole gateway in one UTC
	// day: a bound on the bill if every other limit is dodged. Default: 1000.
	SendDaily int `json:"send_daily,omitempty"`
	// ResendAfter is the least time between two texts, or two calls, for
	// one user (a call right after a text, or the reverse, is another way
	// chosen, not a resend, and goes out within the other limits).
	// Default: 30s.
	ResendAfter caddy.Duration `json:"resend_after,omitempty"`
	// PushPerUser limits the app notifications sent to one user, against
	// MFA fatigue (prompting until the user approves one by mistake); past
	// it the user must pick another method. Default: "3/5m".
	PushPerUser string `json:"push_per_user,omitempty"`
	// AppPasswordPerIP limits wrong app passwords from one client address
	// (IPv6: its /64); past it, app passwords from there are refused with
	// 429 until it lets them through again. Every app password takes a
	// token before it is checked (so no more are checked at once than it
	// holds) and a right one gives it back. Default: "20/1m".
	AppPasswordPerIP string `json:"app_password_per_ip,omitempty"`
	// AppPasswordPerUser limits wrong app passwords for one user, the same
	// way. Default: "10/1m".
	AppPasswordPerUser string `json:"app_password_per_user,omitempty"`
}

// limits applies the configuration over the defaults.
func (c LimitsConfig) limits() (regulation.Limits, error) {
	l := regulation.DefaultLimits()
	for _, r := range []struct {
		name string
		s    string
		dst  *limit.Limit
	}{
		{"login_per_ip", c.LoginPerIP, &l.LoginPerIP}, {"login_per_user", c.LoginPerUser, &l.LoginPerUser},
		{"code_per_user", c.CodePerUser, &l.CodePerUser}, {"send_per_user", c.SendPerUser, &l.Send.PerUser},
		{"send_per_number", c.SendPerNumber, &l.Send.PerNumber}, {"send_per_ip", c.SendPerIP, &l.Send.PerIP},
		{"push_per_user", c.PushPerUser, &l.PushPerUser},
		{"app_password_per_ip", c.AppPasswordPerIP, &l.AppPasswordPerIP},
		{"app_password_per_user", c.AppPasswordPerUser, &l.AppPasswordPerUser},
	} {
		if r.s == "" {
			continue
		}
		v, err := parseRate(r.s)
		if err != nil {
			return l, fmt.Errorf("limits: %s: %w", r.name, err)
		}
		*r.dst = v
	}
	if c.MaxFailures != 0 {
		l.MaxFailures = c.MaxFailures
	}
	if c.MaxUnfamiliarFailures != 0 {
		l.MaxUnfamiliarFailures = c.MaxUnfamiliarFailures
	}
	if c.FindTime != 0 {
		l.FindTime = time.Duration(c.FindTime)
	}
	if c.BanTime != 0 {
		l.BanTime = time.Duration(c.BanTime)
	}
	if c.MaxCodeFailures != 0 {
		l.MaxCodeFailures = c.MaxCodeFailures
	}
	if c.SendDaily != 0 {
		l.Send.Daily = c.SendDaily
	}
	if c.ResendAfter != 0 {
		l.Send.Resend = time.Duration(c.ResendAfter)
	}
	return l, l.Validate()
}

// parseRate reads "<events>/<duration>", such as "10/1m".
func parseRate(s string) (limit.Limit, error) {
	n, d, ok := strings.Cut(s, "/")
	if !ok {
		return limit.Limit{}, fmt.Errorf("%q is not <events>/<duration>, e.g. 10/1m", s)
	}
	rate, err := strconv.Atoi(n)
	if err != nil || rate <= 0 {
		return limit.Limit{}, fmt.Errorf("%q: events must be a positive whole number", s)
	}
	period, err := caddy.ParseDuration(d)
	if err != nil || period < time.Second {
		return limit.Limit{}, fmt.Errorf("%q: the duration must be at least 1s", s)
	}
	return limit.Limit{Rate: rate, Period: period}, nil
}
