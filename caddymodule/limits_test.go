package caddymodule

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

func TestLimitsConfigDefaults(t *testing.T) {
	got, err := LimitsConfig{}.limits()
	if err != nil {
		t.Fatalf("limits: %v", err)
	}
	if want := regulation.DefaultLimits(); got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestLimitsConfigOverrides(t *testing.T) {
	tests := []struct {
		name string
		cfg  LimitsConfig
		mod  func(*regulation.Limits)
	}{
		{"login_per_ip", LimitsConfig{LoginPerIP: "60/2m"}, func(l *regulation.Limits) { l.LoginPerIP = limit.Limit{Rate: 60, Period: 2 * time.Minute} }},
		{"login_per_user", LimitsConfig{LoginPerUser: "3/1h"}, func(l *regulation.Limits) { l.LoginPerUser = limit.Limit{Rate: 3, Period: time.Hour} }},
		{"code_per_user", LimitsConfig{CodePerUser: "5/30s"}, func(l *regulation.Limits) { l.CodePerUser = limit.Limit{Rate: 5, Period: 30 * time.Second} }},
		{"max_failures", LimitsConfig{MaxFailures: 3}, func(l *regulation.Limits) { l.MaxFailures = 3 }},
		{"max_unfamiliar_failures", LimitsConfig{MaxUnfamiliarFailures: 30}, func(l *regulation.Limits) { l.MaxUnfamiliarFailures = 30 }},
		{"find_time", LimitsConfig{FindTime: caddy.Duration(10 * time.Minute)}, func(l *regulation.Limits) { l.FindTime = 10 * time.Minute }},
		{"ban_time", LimitsConfig{BanTime: caddy.Duration(time.Hour)}, func(l *regulation.Limits) { l.BanTime = time.Hour }},
		{"max_code_failures", LimitsConfig{MaxCodeFailures: 20}, func(l *regulation.Limits) { l.MaxCodeFailures = 20 }},
		{"max_code_failures 100", LimitsConfig{MaxCodeFailures: 100}, func(l *regulation.Limits) { l.MaxCodeFailures = 100 }},
		{
			"all",
			LimitsConfig{
				LoginPerIP: "1/1s", LoginPerUser: "2/2s", CodePerUser: "3/3s", MaxFailures: 4, MaxUnfamiliarFailures: 16, FindTime: caddy.Duration(5 * time.Second),
				BanTime: caddy.Duration(6 * time.Second), MaxCodeFailures: 7, SendPerUser: "8/8m", SendPerNumber: "9/9m", SendPerIP: "10/10m",
				SendDaily: 11, ResendAfter: caddy.Duration(12 * time.Second), PushPerUser: "13/13m",
				AppPasswordPerIP: "14/14m", AppPasswordPerUser: "15/15m",
			},
			func(l *regulation.Limits) {
				*l = regulation.Limits{
					LoginPerIP:            limit.Limit{Rate: 1, Period: time.Second},
					LoginPerUser:          limit.Limit{Rate: 2, Period: 2 * time.Second},
					CodePerUser:           limit.Limit{Rate: 3, Period: 3 * time.Second},
					MaxFailures:           4,
					MaxUnfamiliarFailures: 16,
					FindTime:              5 * time.Second,
					BanTime:               6 * time.Second,
					MaxCodeFailures:       7,
					Send: regulation.SendLimits{
						PerUser:   limit.Limit{Rate: 8, Period: 8 * time.Minute},
						PerNumber: limit.Limit{Rate: 9, Period: 9 * time.Minute},
						PerIP:     limit.Limit{Rate: 10, Period: 10 * time.Minute},
						Daily:     11,
						Resend:    12 * time.Second,
					},
					PushPerUser:        limit.Limit{Rate: 13, Period: 13 * time.Minute},
					AppPasswordPerIP:   limit.Limit{Rate: 14, Period: 14 * time.Minute},
					AppPasswordPerUser: limit.Limit{Rate: 15, Period: 15 * time.Minute},
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.limits()
			if err != nil {
				t.Fatalf("limits: %v", err)
			}
			want := regulation.DefaultLimits()
			tc.mod(&want)
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLimitsConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  LimitsConfig
		want []string
	}{
		{"max_code_failures 101", LimitsConfig{MaxCodeFailures: 101}, []string{"max_code_failures", "at most 100"}},
		{"negative max_failures", LimitsConfig{MaxFailures: -1}, []string{"max_failures"}},
		{"max_unfamiliar_failures 101", LimitsConfig{MaxUnfamiliarFailures: 101}, []string{"max_unfamiliar_failures", "at most 100"}},
		{"negative max_unfamiliar_failures", LimitsConfig{MaxUnfamiliarFailures: -1}, []string{"max_unfamiliar_failures"}},
		{"negative find_time", LimitsConfig{FindTime: caddy.Duration(-time.Minute)}, []string{"find_time"}},
		{"negative ban_time", LimitsConfig{BanTime: caddy.Duration(-time.Minute)}, []string{"ban_time"}},
		{"bad login_per_ip", LimitsConfig{LoginPerIP: "ten/1m"}, []string{"login_per_ip", `"ten/1m"`}},
		{"bad login_per_user", LimitsConfig{LoginPerUser: "10"}, []string{"login_per_user", `"10"`}},
		{"bad code_per_user", LimitsConfig{CodePerUser: "10/1ms"}, []string{"code_per_user", `"10/1ms"`}},
		{"bad send_per_user", LimitsConfig{SendPerUser: "0/1h"}, []string{"send_per_user", `"0/1h"`}},
		{"bad send_per_number", LimitsConfig{SendPerNumber: "x"}, []string{"send_per_number"}},
		{"bad send_per_ip", LimitsConfig{SendPerIP: "5/1ms"}, []string{"send_per_ip"}},
		{"negative send_daily", LimitsConfig{SendDaily: -1}, []string{"send_daily"}},
		{"negative resend_after", LimitsConfig{ResendAfter: caddy.Duration(-time.Second)}, []string{"resend_after"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := tc.cfg.limits()
			if err == nil {
				t.Fatalf("no error; limits %+v", l)
			}
			for _, frag := range tc.want {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not contain %q", err, frag)
				}
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	good := []struct {
		in   string
		want limit.Limit
	}{
		{"10/1m", limit.Limit{Rate: 10, Period: time.Minute}},
		{"1/1s", limit.Limit{Rate: 1, Period: time.Second}},
		{"100/24h", limit.Limit{Rate: 100, Period: 24 * time.Hour}},
		{"5/1d", limit.Limit{Rate: 5, Period: 24 * time.Hour}},
		{"30/1m30s", limit.Limit{Rate: 30, Period: 90 * time.Second}},
	}
	for _, tc := range good {
		got, err := parseRate(tc.in)
		if err != nil {
			t.Errorf("parseRate(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("parseRate(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"10", "x/1m", "0/1m", "-1/1m", "10/0s", "10/500ms", "10/soon", "/1m", "10/", "", "1.5/1m", "10/1m/2", "10/-1m"} {
		got, err := parseRate(in)
		if err == nil {
			t.Errorf("parseRate(%q) = %+v, want an error", in, got)
			continue
		}
		if in != "" && !strings.Contains(err.Error(), in) {
			t.Errorf("parseRate(%q): error %q does not quote the input", in, err)
		}
	}
}
