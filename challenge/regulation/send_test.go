package regulation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
)

func TestSendLimitsValidate(t *testing.T) {
	if err := DefaultSendLimits().Validate(); err != nil {
		t.Fatalf("default send limits: %v", err)
	}
	ok := DefaultSendLimits()
	ok.Resend = 0 // no wait between sends
	if err := ok.Validate(); err != nil {
		t.Fatalf("resend 0: %v", err)
	}
	tests := []struct {
		name, option string
		mod          func(*SendLimits)
	}{
		{"per user zero rate", "send_per_user", func(l *SendLimits) { l.PerUser.Rate = 0 }},
		{"per user negative period", "send_per_user", func(l *SendLimits) { l.PerUser.Period = -time.Hour }},
		{"per number negative rate", "send_per_number", func(l *SendLimits) { l.PerNumber.Rate = -1 }},
		{"per number zero period", "send_per_number", func(l *SendLimits) { l.PerNumber.Period = 0 }},
		{"per ip zero rate", "send_per_ip", func(l *SendLimits) { l.PerIP.Rate = 0 }},
		{"per ip zero period", "send_per_ip", func(l *SendLimits) { l.PerIP.Period = 0 }},
		{"daily zero", "send_daily", func(l *SendLimits) { l.Daily = 0 }},
		{"daily negative", "send_daily", func(l *SendLimits) { l.Daily = -5 }},
		{"resend negative", "resend_after", func(l *SendLimits) { l.Resend = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := DefaultSendLimits()
			tt.mod(&l)
			err := l.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.option) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.option)
			}
			// The sign-in limits check their send limits.
			all := DefaultLimits()
			all.Send = l
			if err := all.Validate(); err == nil || !strings.Contains(err.Error(), tt.option) {
				t.Fatalf("Limits.Validate = %v, want an error naming %s", err, tt.option)
			}
		})
	}
}

// Purposes of a text or call, as the engine names them
// (challenge.PurposeSignIn and PurposeEnrol).
const (
	purposeSignIn = "sign-in"
	purposeEnrol  = "enrol"
)

func TestBeforeSend(t *testing.T) {
	for _, s := range []struct {
		name string
		open newStores
	}{{"memory", memoryRegulationStores}, {"redis", redisRegulationStores}} {
		t.Run(s.name, func(t *testing.T) { testBeforeSend(t, s.open) })
	}
}

func testBeforeSend(t *testing.T, open newStores) {
	ctx := context.Background()
	// Saturday 1 March 2025, 12:00:10 UTC.
	now := time.Date(2025, 3, 1, 12, 0, 10, 0, time.UTC)
	// clocks are the clocks of the Regulations made, by Regulation.
	clocks := map[*Regulation]*clock{}
	newReg := func(t *testing.T, mod func(*SendLimits)) *Regulation {
		c := new(clock)
		c.Set(now)
		lim, kv := open(t, c.Now)
		l := DefaultLimits()
		l.Send = SendLimits{
			PerUser:   limit.Limit{Rate: 1000, Period: time.Hour},
			PerNumber: limit.Limit{Rate: 1000, Period: time.Hour},
			PerIP:     limit.Limit{Rate: 1000, Period: time.Hour},
			Daily:     1_000_000,
		}
		mod(&l.Send)
		r := New(l, lim, kv, c.Now)
		clocks[r] = c
		return r
	}
	allow := func(t *testing.T, r *Regulation, user, number, ip string) {
		t.Helper()
		v, err := r.BeforeSend(ctx, user, purposeEnrol, ChannelText, number, ip)
		if err != nil || !v.Allowed {
			t.Fatalf("BeforeSend(%s, %s, %s) = %+v, %v; want allowed", user, number, ip, v, err)
		}
	}
	refuse := func(t *testing.T, r *Regulation, user, number, ip string, reason Reason) Verdict {
		t.Helper()
		v, err := r.BeforeSend(ctx, user, purposeEnrol, ChannelText, number, ip)
		if err != nil || v.Allowed || v.Reason != reason || v.RetryAfter <= 0 {
			t.Fatalf("BeforeSend(%s, %s, %s) = %+v, %v; want refused for %q", user, number, ip, v, err, reason)
		}
		return v
	}
	num := func(i int) string { return fmt.Sprintf("+8190123456%02d", i) }
	addr := func(i int) string { return fmt.Sprintf("192.0.2.%d", i) }
	user := func(i int) string { return fmt.Sprintf("user%d", i) }

	t.Run("per ip across users", func(t *testing.T) {
		r := newReg(t, func(l *SendLimits) { l.PerIP = limit.Limit{Rate: 3, Period: time.Hour} })
		for i := range 3 {
			allow(t, r, user(i), num(i), addr(1))
		}
		refuse(t, r, user(9), num(9), addr(1), "ip")
		allow(t, r, user(9), num(9), addr(2))
	})

	t.Run("per number across users", func(t *testing.T) {
		r := newReg(t, func(l *SendLimits) { l.PerNumber = limit.Limit{Rate: 3, Period: time.Hour} })
		for i := range 3 {
			allow(t, r, user(i), num(1), addr(i))
		}
		refuse(t, r, user(9), num(1), addr(9), "number")
		allow(t, r, user(9), num(2), addr(9))
	})

	t.Run("registration attempts do not use up sign-ins to the number", func(t *testing.T) {
		r := newReg(t, func(l *SendLimits) { l.PerNumber = limit.Limit{Rate: 2, Period: time.Hour} })
		// Someone keeps trying to register the victim's number...
		for i := range 2 {
			allow(t, r, user(i), num(1), addr(i))
		}
		refuse(t, r, user(9), num(1), addr(9), "number")
		// ... and the victim still signs in with it.
		if v, err := r.BeforeSend(ctx, "victim", purposeSignIn, ChannelText, num(1), addr(5)); err != nil || !v.Allowed {
			t.Fatalf("sign-in send to the victim's number = %+v, %v; want allowed", v, err)
		}
	})

	t.Run("a refusal spends nothing of the wider buckets", func(t *testing.T) {
		r := newReg(t, func(l *SendLimits) {
			l.PerNumber = limit.Limit{Rate: 1, Period: time.Hour}
			l.PerIP = limit.Limit{Rate: 3, Period: time.Hour}
		})
		allow(t, r, user(0), num(1), addr(1))
		for i := 1; i < 10; i++ {
			refuse(t, r, user(i), num(1), addr(1), "number")
		}
		// The address spent one send, not ten.
		allow(t, r, user(20), num(2), addr(1))
		allow(t, r, user(21), num(3), addr(1))
		refuse(t, r, user(22), num(4), addr(1), "ip")
	})

	t.Run("per user across numbers", func(t *testing.T) {
		r := newReg(t, func(l *SendLimits) { l.PerUser = limit.Limit{Rate: 3, Period: time.Hour} })
		for i := range 3 {
			allow(t, r, "alice", num(i), addr(i))
		}
		v := refuse(t, r, "alice", num(9), addr(9), "user")
		if v.RetryAfter > 20*time.Minute {
			t.Fatalf("RetryAfter = %v, want at most one emission interval (20m)", v.RetryAfter)
		}
		allow(t, r, "bob", num(9), addr(9))
	})

	t.Run("daily across users", func(t *testing.T) {
		r := newReg(t, func(l *SendLimits) { l.Daily = 3 })
		for i := range 3 {
			allow(t, r, user(i), num(i), addr(i))
		}
		if n, err := r.SentToday(ctx); err != nil || n != 3 {
			t.Fatalf("SentToday = %d, %v; want 3", n, err)
		}
		v := refuse(t, r, user(9), num(9), addr(9), "daily")
		if want := 11*time.Hour + 59*time.Minute + 50*time.Second; v.RetryAfter != want {
			t.Fatalf("RetryAfter = %v, want %v (to the next UTC midnight)", v.RetryAfter, want)
		}
		// UTC, not local: 08:00 in Tokyo on 2 March is 23:00 UTC on 1 March.
		tokyo := time.FixedZone("JST", 9*60*60)
		late := time.Date(2025, 3, 2, 8, 0, 0, 0, tokyo)
		clocks[r].Set(late)
		v, err := r.BeforeSend(ctx, user(8), purposeEnrol, ChannelText, num(8), addr(8))
		if err != nil || v.Allowed || v.Reason != "daily" || v.RetryAfter != time.Hour {
			t.Fatalf("BeforeSend at 23:00 UTC = %+v, %v; want daily with an hour to wait", v, err)
		}
		// A new UTC day starts a new count.
		next := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
		clocks[r].Set(next)
		if v, err := r.BeforeSend(ctx, user(7), purposeEnrol, ChannelText, num(7), addr(7)); err != nil || !v.Allowed {
			t.Fatalf("BeforeSend on the next day = %+v, %v", v, err)
		}
		if n, err := r.SentToday(ctx); err != nil || n != 1 {
			t.Fatalf("SentToday on the next day = %d, %v; want 1", n, err)
		}
	})

	t.Run("unlock resets the per-user count", func(t *testing.T) {
		r := newReg(t, func(l *SendLimits) { l.PerUser = limit.Limit{Rate: 2, Period: time.Hour} })
		for i := range 2 {
			allow(t, r, "alice", num(i), addr(i))
		}
		refuse(t, r, "alice", num(2), addr(2), "user")
		was, err := r.Unlock(ctx, "alice")
		if err != nil || was {
			t.Fatalf("Unlock = %v, %v; want not locked", was, err)
		}
		allow(t, r, "alice", num(2), addr(2))
		allow(t, r, "alice", num(3), addr(3))
		refuse(t, r, "alice", num(4), addr(4), "user")
	})

	t.Run("a blocked user is refused", func(t *testing.T) {
		r := newReg(t, func(*SendLimits) {})
		if err := r.Block(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		v, err := r.BeforeSend(ctx, "alice", purposeEnrol, ChannelText, num(1), addr(1))
		if err != nil || v.Allowed || v.Reason != "blocked" {
			t.Fatalf("BeforeSend of a blocked user = %+v, %v", v, err)
		}
		allow(t, r, "bob", num(1), addr(1))
	})
}
