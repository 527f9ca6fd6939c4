package regulation

import (
	"context"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
)

// TestResendWaitPerChannel: the wait between two sends is per channel: a
// call right after a text goes out (and the reverse), a second text or a
// second call waits; the per-user limit counts both channels together.
func TestResendWaitPerChannel(t *testing.T) {
	for _, s := range []struct {
		name string
		open newStores
	}{{"memory", memoryRegulationStores}, {"redis", redisRegulationStores}} {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			c := new(clock)
			c.Set(time.Date(2025, 3, 1, 12, 0, 10, 0, time.UTC))
			lim, kv := s.open(t, c.Now)
			l := DefaultLimits()
			l.Send = SendLimits{
				PerUser:   limit.Limit{Rate: 3, Period: time.Hour},
				PerNumber: limit.Limit{Rate: 1000, Period: time.Hour},
				PerIP:     limit.Limit{Rate: 1000, Period: time.Hour},
				Daily:     1000,
				Resend:    time.Second, // Redis keeps it for real: the test waits it out
			}
			r := New(l, lim, kv, c.Now)
			send := func(channel string) Verdict {
				t.Helper()
				v, err := r.BeforeSend(ctx, "alice", purposeSignIn, channel, "number-key", "192.0.2.1")
				if err != nil {
					t.Fatalf("BeforeSend(%s): %v", channel, err)
				}
				return v
			}
			if v := send(ChannelText); !v.Allowed {
				t.Fatalf("first text refused: %+v", v)
			}
			if v := send(ChannelCall); !v.Allowed {
				t.Fatalf("a call right after a text refused: %+v", v)
			}
			for _, ch := range []string{ChannelText, ChannelCall} {
				if v := send(ch); v.Allowed || v.Reason != ReasonResend || v.RetryAfter <= 0 || v.RetryAfter > time.Second {
					t.Fatalf("a second %s right away = %+v; want the resend wait", ch, v)
				}
			}
			c.Advance(1100 * time.Millisecond)
			time.Sleep(1100 * time.Millisecond)
			if v := send(ChannelCall); !v.Allowed {
				t.Fatalf("a call after the wait refused: %+v", v)
			}
			// Three sends an hour for the user, whatever the channel.
			if v := send(ChannelText); v.Allowed || v.Reason != ReasonUser {
				t.Fatalf("a fourth send in the hour = %+v; want the per-user limit", v)
			}
		})
	}
}
