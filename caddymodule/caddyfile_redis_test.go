package caddymodule

import (
	"reflect"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestAppUnmarshalCaddyfileRedisAndLimits(t *testing.T) {
	expectGlobalApps(t, []globalCase{
		{
			name:  "redis short form",
			input: "mfa {\n\tredis redis://127.0.0.1:6379/0\n}",
			want:  App{Redis: &RedisConfig{URL: "redis://127.0.0.1:6379/0"}},
		},
		{
			name:  "redis short form then other options",
			input: "mfa {\n\tredis rediss://r.example.com:6380\n\tusers_file /u.yml\n}",
			want:  App{UsersFile: "/u.yml", Redis: &RedisConfig{URL: "rediss://r.example.com:6380"}},
		},
		{
			name:  "redis block url",
			input: "mfa {\n\tredis {\n\t\turl redis://127.0.0.1:6379/2\n\t}\n}",
			want:  App{Redis: &RedisConfig{URL: "redis://127.0.0.1:6379/2"}},
		},
		{
			name: "redis block with every option",
			input: `mfa {
	redis {
		url redis://127.0.0.1:6379
		addresses 10.0.0.1:26379 10.0.0.2:26379
		addresses 10.0.0.3:26379
		master_name mymaster
		cluster
		username gateway
		password {env.REDIS_PASSWORD}
		db 3
		tls
		key_prefix gw:
		timeout 500ms
	}
	users_file /u.yml
}`,
			want: App{
				UsersFile: "/u.yml",
				Redis: &RedisConfig{
					URL:        "redis://127.0.0.1:6379",
					Addresses:  []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
					MasterName: "mymaster",
					Cluster:    true,
					Username:   "gateway",
					Password:   "{env.REDIS_PASSWORD}",
					DB:         3,
					TLS:        true,
					KeyPrefix:  "gw:",
					Timeout:    caddy.Duration(500 * time.Millisecond),
				},
			},
		},
		{
			name:  "redis sentinel addresses only",
			input: "mfa {\n\tredis {\n\t\taddresses a:26379 b:26379\n\t\tmaster_name m\n\t}\n}",
			want:  App{Redis: &RedisConfig{Addresses: []string{"a:26379", "b:26379"}, MasterName: "m"}},
		},
		{
			name:  "redis session_cache entries",
			input: "mfa {\n\tredis {\n\t\turl redis://h:6379\n\t\tsession_cache 1000\n\t}\n}",
			want:  App{Redis: &RedisConfig{URL: "redis://h:6379", SessionCache: 1000}},
		},
		{
			name:  "redis session_cache off",
			input: "mfa {\n\tredis {\n\t\turl redis://h:6379\n\t\tsession_cache off\n\t}\n}",
			want:  App{Redis: &RedisConfig{URL: "redis://h:6379", SessionCache: -1}},
		},
		{
			name:  "redis timeout exactly 10ms",
			input: "mfa {\n\tredis {\n\t\turl redis://h:6379\n\t\ttimeout 10ms\n\t}\n}",
			want:  App{Redis: &RedisConfig{URL: "redis://h:6379", Timeout: caddy.Duration(10 * time.Millisecond)}},
		},
		{
			name: "limits every option",
			input: `mfa {
	limits {
		login_per_ip 30/1m
		login_per_user 10/1m
		code_per_user 10/1m
		max_failures 5
		find_time 2m
		ban_time 5m
		max_code_failures 10
	}
}`,
			want: App{Limits: LimitsConfig{
				LoginPerIP:      "30/1m",
				LoginPerUser:    "10/1m",
				CodePerUser:     "10/1m",
				MaxFailures:     5,
				FindTime:        caddy.Duration(2 * time.Minute),
				BanTime:         caddy.Duration(5 * time.Minute),
				MaxCodeFailures: 10,
			}},
		},
		{"limits login_per_ip", "mfa {\n\tlimits {\n\t\tlogin_per_ip 60/2m\n\t}\n}", App{Limits: LimitsConfig{LoginPerIP: "60/2m"}}},
		{"limits login_per_user", "mfa {\n\tlimits {\n\t\tlogin_per_user 3/1h\n\t}\n}", App{Limits: LimitsConfig{LoginPerUser: "3/1h"}}},
		{"limits code_per_user", "mfa {\n\tlimits {\n\t\tcode_per_user 5/30s\n\t}\n}", App{Limits: LimitsConfig{CodePerUser: "5/30s"}}},
		{"limits max_failures", "mfa {\n\tlimits {\n\t\tmax_failures 7\n\t}\n}", App{Limits: LimitsConfig{MaxFailures: 7}}},
		{"limits max_unfamiliar_failures", "mfa {\n\tlimits {\n\t\tmax_unfamiliar_failures 40\n\t}\n}", App{Limits: LimitsConfig{MaxUnfamiliarFailures: 40}}},
		{"limits find_time", "mfa {\n\tlimits {\n\t\tfind_time 10m\n\t}\n}", App{Limits: LimitsConfig{FindTime: caddy.Duration(10 * time.Minute)}}},
		{"limits ban_time", "mfa {\n\tlimits {\n\t\tban_time 1h\n\t}\n}", App{Limits: LimitsConfig{BanTime: caddy.Duration(time.Hour)}}},
		{"limits max_code_failures", "mfa {\n\tlimits {\n\t\tmax_code_failures 20\n\t}\n}", App{Limits: LimitsConfig{MaxCodeFailures: 20}}},
		{"limits empty block", "mfa {\n\tlimits {\n\t}\n}", App{}},
		{"limits given twice merge", "mfa {\n\tlimits {\n\t\tmax_failures 3\n\t}\n\tlimits {\n\t\tban_time 1m\n\t}\n}", App{Limits: LimitsConfig{MaxFailures: 3, BanTime: caddy.Duration(time.Minute)}}},
	})
}

func TestAppUnmarshalCaddyfileRedisAndLimitsErrors(t *testing.T) {
	tests := []globalErrorCase{
		{"redis twice", "mfa {\n\tredis redis://a:6379\n\tredis redis://b:6379\n}", []string{"redis may be given only once", "Testfile:3"}},
		{"redis twice, blocks", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t}\n\tredis {\n\t\turl redis://b:6379\n\t}\n}", []string{"redis may be given only once"}},
		{"redis url and block", "mfa {\n\tredis redis://a:6379 {\n\t\tdb 1\n\t}\n}", []string{"not both"}},
		{"redis two args", "mfa {\n\tredis redis://a:6379 redis://b:6379\n}", []string{"redis takes one URL, or a block"}},
		{"redis empty block", "mfa {\n\tredis {\n\t}\n}", []string{"redis needs a URL or addresses"}},
		{"redis bare", "mfa {\n\tredis\n}", []string{"redis needs a URL or addresses"}},
		{"redis block without url or addresses", "mfa {\n\tredis {\n\t\tdb 1\n\t}\n}", []string{"redis needs a URL or addresses"}},
		{"unknown redis option", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\tsentinel x\n\t}\n}", []string{`unknown redis option "sentinel"`, "Testfile:4"}},
		{"cluster with an argument", "mfa {\n\tredis {\n\t\taddresses a:7000\n\t\tcluster yes\n\t}\n}", []string{"wrong argument count"}},
		{"tls with an argument", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\ttls on\n\t}\n}", []string{"wrong argument count"}},
		{"timeout under 10ms", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\ttimeout 5ms\n\t}\n}", []string{"timeout", "must be at least 10ms"}},
		{"timeout not a duration", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\ttimeout soon\n\t}\n}", []string{"timeout", `"soon" is not a duration`}},
		{"session_cache zero", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\tsession_cache 0\n\t}\n}", []string{"session_cache: \"0\": give a positive number", "Testfile:4"}},
		{"session_cache not a number", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\tsession_cache many\n\t}\n}", []string{"session_cache", `"many": give a positive number`}},
		{"session_cache off with more", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\tsession_cache off 5\n\t}\n}", []string{"session_cache takes one value"}},
		{"session_cache missing", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\tsession_cache\n\t}\n}", []string{"session_cache needs a value"}},
		{"db not a number", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\tdb one\n\t}\n}", []string{"db", `"one" is not a whole number`}},
		{"addresses empty", "mfa {\n\tredis {\n\t\taddresses\n\t}\n}", []string{"addresses needs at least one host:port"}},
		{"url missing value", "mfa {\n\tredis {\n\t\turl\n\t}\n}", []string{"url needs a value"}},
		{"password two values", "mfa {\n\tredis {\n\t\turl redis://a:6379\n\t\tpassword a b\n\t}\n}", []string{"password takes one value"}},
		{"bad rate", "mfa {\n\tlimits {\n\t\tlogin_per_ip 30\n\t}\n}", []string{"login_per_ip: ", `"30"`, "Testfile:3"}},
		{"bad rate short period", "mfa {\n\tlimits {\n\t\tcode_per_user 10/100ms\n\t}\n}", []string{"code_per_user: ", "at least 1s"}},
		{"bad rate zero events", "mfa {\n\tlimits {\n\t\tlogin_per_user 0/1m\n\t}\n}", []string{"login_per_user: ", "positive"}},
		{"unknown limits option", "mfa {\n\tlimits {\n\t\tmax_tries 3\n\t}\n}", []string{`unknown limits option "max_tries"`, "Testfile:3"}},
		{"argument after limits", "mfa {\n\tlimits 5 {\n\t\tmax_failures 3\n\t}\n}", []string{"wrong argument count"}},
		{"find_time 0s", "mfa {\n\tlimits {\n\t\tfind_time 0s\n\t}\n}", []string{"find_time", "must be at least 1s"}},
		{"ban_time under 1s", "mfa {\n\tlimits {\n\t\tban_time 500ms\n\t}\n}", []string{"ban_time", "must be at least 1s"}},
		{"max_failures not a number", "mfa {\n\tlimits {\n\t\tmax_failures five\n\t}\n}", []string{"max_failures", `"five" is not a whole number`}},
		{"max_code_failures missing", "mfa {\n\tlimits {\n\t\tmax_code_failures\n\t}\n}", []string{"max_code_failures needs a value"}},
	}
	expectGlobalErrors(t, tests)
}

// The Caddyfile adapter carries redis and limits into the JSON config, with
// placeholders kept for Provision to resolve.
func TestCaddyfileAdapterRedisAndLimits(t *testing.T) {
	out, err := adapt(t, `{
	mfa {
		users_file /tmp/u.yml
		redis {
			addresses 10.0.0.1:7000 10.0.0.2:7000
			cluster
			password {env.REDIS_PASSWORD}
			timeout 1s
		}
		limits {
			login_per_ip 60/1m
			max_code_failures 20
		}
	}
}

:8080 {
	mfa
	respond "hi"
}
`)
	if err != nil {
		t.Fatalf("Adapt: %v", err)
	}
	cfg := adaptedApps(t, out)
	if cfg.Apps.MFA == nil || cfg.Apps.MFA.Redis == nil {
		t.Fatalf("no mfa redis config in %s", out)
	}
	wantRedis := RedisConfig{Addresses: []string{"10.0.0.1:7000", "10.0.0.2:7000"}, Cluster: true, Password: "{env.REDIS_PASSWORD}", Timeout: caddy.Duration(time.Second)}
	if !reflect.DeepEqual(*cfg.Apps.MFA.Redis, wantRedis) {
		t.Errorf("redis = %+v, want %+v", *cfg.Apps.MFA.Redis, wantRedis)
	}
	if want := (LimitsConfig{LoginPerIP: "60/1m", MaxCodeFailures: 20}); cfg.Apps.MFA.Limits != want {
		t.Errorf("limits = %+v, want %+v", cfg.Apps.MFA.Limits, want)
	}
}

func TestSecureCookiesOption(t *testing.T) {
	var a App
	if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n\tsession {\n\t\tsecure_cookies\n\t}\n}")); err != nil {
		t.Fatal(err)
	}
	if !a.Session.SecureCookies {
		t.Fatal("secure_cookies not set")
	}
	expectGlobalErrors(t, []globalErrorCase{
		{"secure_cookies with an argument", "mfa {\n\tsession {\n\t\tsecure_cookies yes\n\t}\n}", []string{"wrong argument count"}},
	})
}
