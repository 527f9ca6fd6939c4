package caddymodule

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

func TestRedisConfigOptions(t *testing.T) {
	t.Setenv("MFA_TEST_REDIS_PW", "s3cret")
	t.Setenv("MFA_TEST_REDIS_USER", "gateway")
	tests := []struct {
		name  string
		cfg   RedisConfig
		check func(t *testing.T, o *redis.UniversalOptions)
	}{
		{
			name: "url only",
			cfg:  RedisConfig{URL: "redis://user:pw@127.0.0.1:6380/3"},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if !reflect.DeepEqual(o.Addrs, []string{"127.0.0.1:6380"}) {
					t.Errorf("Addrs = %q", o.Addrs)
				}
				if o.Username != "user" || o.Password != "pw" || o.DB != 3 {
					t.Errorf("Username %q, Password %q, DB %d; want user, pw, 3", o.Username, o.Password, o.DB)
				}
				if o.TLSConfig != nil {
					t.Errorf("TLSConfig = %+v, want nil for redis://", o.TLSConfig)
				}
				if o.MasterName != "" || o.IsClusterMode {
					t.Errorf("MasterName %q, IsClusterMode %v; want a single server", o.MasterName, o.IsClusterMode)
				}
			},
		},
		{
			name: "rediss url turns TLS on",
			cfg:  RedisConfig{URL: "rediss://redis.example.com:6380"},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.TLSConfig == nil {
					t.Fatal("TLSConfig is nil for rediss://")
				}
				if !reflect.DeepEqual(o.Addrs, []string{"redis.example.com:6380"}) {
					t.Errorf("Addrs = %q", o.Addrs)
				}
			},
		},
		{
			name: "url without credentials keeps configured ones",
			cfg:  RedisConfig{URL: "redis://127.0.0.1:6379", Username: "u", Password: "p", DB: 2},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.Username != "u" || o.Password != "p" || o.DB != 2 {
					t.Errorf("Username %q, Password %q, DB %d; want u, p, 2", o.Username, o.Password, o.DB)
				}
			},
		},
		{
			name: "url in a placeholder",
			cfg:  RedisConfig{URL: "redis://:{env.MFA_TEST_REDIS_PW}@127.0.0.1:6379/1"},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.Password != "s3cret" || o.DB != 1 {
					t.Errorf("Password %q, DB %d; want s3cret, 1", o.Password, o.DB)
				}
			},
		},
		{
			name: "single address",
			cfg:  RedisConfig{Addresses: []string{"10.0.0.1:6379"}, DB: 4},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if !reflect.DeepEqual(o.Addrs, []string{"10.0.0.1:6379"}) || o.DB != 4 {
					t.Errorf("Addrs %q, DB %d", o.Addrs, o.DB)
				}
			},
		},
		{
			name: "sentinel",
			cfg:  RedisConfig{Addresses: []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"}, MasterName: "mymaster", DB: 1},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if !reflect.DeepEqual(o.Addrs, []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"}) {
					t.Errorf("Addrs = %q", o.Addrs)
				}
				if o.MasterName != "mymaster" || o.IsClusterMode || o.DB != 1 {
					t.Errorf("MasterName %q, IsClusterMode %v, DB %d", o.MasterName, o.IsClusterMode, o.DB)
				}
			},
		},
		{
			name: "cluster",
			cfg:  RedisConfig{Addresses: []string{"10.0.0.1:7000", "10.0.0.2:7000"}, Cluster: true},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if !reflect.DeepEqual(o.Addrs, []string{"10.0.0.1:7000", "10.0.0.2:7000"}) {
					t.Errorf("Addrs = %q", o.Addrs)
				}
				if !o.IsClusterMode || o.MasterName != "" || o.DB != 0 {
					t.Errorf("IsClusterMode %v, MasterName %q, DB %d", o.IsClusterMode, o.MasterName, o.DB)
				}
			},
		},
		{
			name: "tls flag",
			cfg:  RedisConfig{Addresses: []string{"10.0.0.1:6379"}, TLS: true},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.TLSConfig == nil {
					t.Fatal("TLSConfig is nil with tls")
				}
				if o.TLSConfig.MinVersion != tls.VersionTLS12 {
					t.Errorf("MinVersion = %#x, want TLS 1.2 (%#x)", o.TLSConfig.MinVersion, tls.VersionTLS12)
				}
				if o.TLSConfig.InsecureSkipVerify {
					t.Error("InsecureSkipVerify is set")
				}
			},
		},
		{
			name: "tls flag keeps the rediss config",
			cfg:  RedisConfig{URL: "rediss://redis.example.com:6380", TLS: true},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.TLSConfig == nil {
					t.Fatal("TLSConfig is nil")
				}
			},
		},
		{
			name: "placeholders resolved",
			cfg:  RedisConfig{Addresses: []string{"127.0.0.1:6379"}, Username: "{env.MFA_TEST_REDIS_USER}", Password: "{env.MFA_TEST_REDIS_PW}"},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.Username != "gateway" || o.Password != "s3cret" {
					t.Errorf("Username %q, Password %q; want gateway, s3cret", o.Username, o.Password)
				}
			},
		},
		{
			name: "default timeout and retries",
			cfg:  RedisConfig{Addresses: []string{"127.0.0.1:6379"}},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				expectTimeouts(t, o, 2*time.Second)
			},
		},
		{
			name: "explicit timeout",
			cfg:  RedisConfig{URL: "redis://127.0.0.1:6379", Timeout: caddy.Duration(250 * time.Millisecond)},
			check: func(t *testing.T, o *redis.UniversalOptions) {
				expectTimeouts(t, o, 250*time.Millisecond)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.cfg.options(caddy.NewReplacer())
			if err != nil {
				t.Fatalf("options: %v", err)
			}
			tc.check(t, o)
		})
	}
}

func TestRedisConfigOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  RedisConfig
		want string
	}{
		{"url and addresses", RedisConfig{URL: "redis://127.0.0.1:6379", Addresses: []string{"127.0.0.1:6379"}}, "not both"},
		{"neither", RedisConfig{}, "needs a url or addresses"},
		{"neither, only options", RedisConfig{Password: "x", TLS: true, DB: 1}, "needs a url or addresses"},
		{"several addresses, no mode", RedisConfig{Addresses: []string{"10.0.0.1:6379", "10.0.0.2:6379"}}, "master_name (Sentinel) or cluster"},
		{"cluster with master_name", RedisConfig{Addresses: []string{"10.0.0.1:7000"}, Cluster: true, MasterName: "m"}, "exclude each other"},
		{"cluster with db", RedisConfig{Addresses: []string{"10.0.0.1:7000"}, Cluster: true, DB: 3}, "only database 0"},
		{"cluster with db in url", RedisConfig{URL: "redis://10.0.0.1:7000/3", Cluster: true}, "only database 0"},
		{"bad url scheme", RedisConfig{URL: "http://127.0.0.1:6379"}, "bad url"},
		{"bad url db", RedisConfig{URL: "redis://127.0.0.1:6379/notadb"}, "bad url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.cfg.options(caddy.NewReplacer())
			if err == nil {
				t.Fatalf("no error; options %+v", o)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestRedisConfigPrefix(t *testing.T) {
	if got := (&RedisConfig{}).prefix(); got != "mfa:" {
		t.Errorf("default prefix %q, want mfa:", got)
	}
	if got := (&RedisConfig{KeyPrefix: "gw1:"}).prefix(); got != "gw1:" {
		t.Errorf("prefix %q, want gw1:", got)
	}
}

// redisTestApp returns an app on Redis r with a users file and data folder
// of its own; the caller provisions it.
func redisTestApp(t *testing.T, r *RedisConfig) (*App, string) {
	t.Helper()
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	uf := filepath.Join(t.TempDir(), "users.yml")
	if err := os.WriteFile(uf, []byte("users:\n  alice:\n    displayname: A\n    password: \""+hash+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	return &App{UsersFile: uf, DataDir: dataDir, StorageKey: "0123456789abcdef0123456789abcdef01234567", Redis: r}, dataDir
}

func TestAppProvisionRedis(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	app, dataDir := redisTestApp(t, &RedisConfig{URL: "redis://" + redistest.Addr(), KeyPrefix: prefix})
	if len(app.StorageKey) != 40 {
		t.Fatalf("storage key of %d chars", len(app.StorageKey))
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := app.Provision(ctx); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	defer func() {
		if err := app.Cleanup(); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	}()
	if err := app.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if _, ok := app.engine.Accounts.(*store.RedisAccounts); !ok {
		t.Fatalf("Accounts is %T, want *store.RedisAccounts", app.engine.Accounts)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "accounts.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("accounts.db in the data folder with Redis configured (stat: %v)", err)
	}

	// The accounts really live in this Redis under the prefix.
	bg := context.Background()
	if _, err := app.engine.Accounts.Get(bg, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get before any write: %v, want ErrNotFound", err)
	}
	if err := app.engine.Accounts.Update(bg, "alice", func(a *store.Account) error {
		a.LastSignIn = time.Now()
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	keys, err := rdb.Keys(bg, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatalf("no key under %q after writing an account", prefix)
	}
	if _, err := app.engine.Accounts.Get(bg, "alice"); err != nil {
		t.Fatalf("Get after Update: %v", err)
	}
}

// Redis being down at start does not stop Caddy: the app provisions and
// every use of the store fails closed with ErrUnavailable.
func TestAppProvisionRedisUnreachable(t *testing.T) {
	app, dataDir := redisTestApp(t, &RedisConfig{Addresses: []string{"127.0.0.1:1"}, Timeout: caddy.Duration(100 * time.Millisecond)})
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	start := time.Now()
	if err := app.Provision(ctx); err != nil {
		t.Fatalf("Provision with Redis down: %v", err)
	}
	defer func() {
		if err := app.Cleanup(); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	}()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Provision took %v with Redis down", d)
	}
	if _, ok := app.engine.Accounts.(*store.RedisAccounts); !ok {
		t.Fatalf("Accounts is %T, want *store.RedisAccounts", app.engine.Accounts)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "accounts.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fell back to accounts.db (stat: %v)", err)
	}
	_, err := app.engine.Accounts.Get(context.Background(), "alice")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get with Redis down: %v, want ErrUnavailable", err)
	}
	if errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get with Redis down reads as not found: %v", err)
	}
}

// A bad Redis configuration stops provisioning.
func TestAppProvisionRedisBadConfig(t *testing.T) {
	app, _ := redisTestApp(t, &RedisConfig{Addresses: []string{"10.0.0.1:6379", "10.0.0.2:6379"}})
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	err := app.Provision(ctx)
	defer func() { _ = app.Cleanup() }()
	if err == nil {
		t.Fatal("Provision accepted several addresses without master_name or cluster")
	}
	if !strings.Contains(err.Error(), "master_name") {
		t.Errorf("error %q does not name master_name", err)
	}
}

// expectTimeouts checks that every Redis call is bounded by d, with one retry.
func expectTimeouts(t *testing.T, o *redis.UniversalOptions, d time.Duration) {
	t.Helper()
	for name, got := range map[string]time.Duration{"DialTimeout": o.DialTimeout, "ReadTimeout": o.ReadTimeout, "WriteTimeout": o.WriteTimeout} {
		if got != d {
			t.Errorf("%s = %v, want %v", name, got, d)
		}
	}
	if o.MaxRetries != 1 || o.DialerRetries != 1 {
		t.Errorf("MaxRetries = %d, DialerRetries = %d; want 1 and 1", o.MaxRetries, o.DialerRetries)
	}
}
