// Package caddymodule is the Caddy glue of caddy-mfa: the `mfa` app that
// holds the shared state, the `http.handlers.mfa` handler that guards each
// route (the hot path) and hands every request under the portal prefix to
// the portal (package portal), their Caddyfile syntax, the admin API and
// the `caddy mfa` commands. The authentication itself lives in package
// challenge; cookies and security events have one package each (cookies,
// events); the providers of texts, calls and app notifications are Caddy guest modules
// (package providers, or another plugin's) that the app loads.
package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/cookies"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/metrics"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/notify"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/totp"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the `mfa` app: configuration and state shared by every protected
// route (users, stores, keys). It is set by the global `mfa` Caddyfile option.
type App struct {
	// UsersFile is the path of the users file, in Authelia's format
	// (displayname, password, email, groups, disabled). Required unless
	// ldap is set. It is re-read when it changes.
	UsersFile string `json:"users_file,omitempty"`

	// UsersFileOptions change how the users file is read: what an
	// unreadable hash does (on_bad_hash, default refuse), upgrading weak
	// hashes on sign-in, signing in by email and case-insensitively.
	// Default: none of them.
	UsersFileOptions *UsersFileOptions `json:"users_file_options,omitempty"`

	// LDAP takes users from an LDAP directory or Active Directory instead
	// of a users file (one of the two is required). See LDAPConfig.
	LDAP *LDAPConfig `json:"ldap,omitempty"`

	// StorageKey is the secret (at least 32 bytes) from which the keys that
	// encrypt TOTP seeds and sign cookies are derived. Use a placeholder such
	// as {env.MFA_STORAGE_KEY}. Required with Redis, where every gateway
	// must have the same key (a gateway whose key differs from the one the
	// others on that Redis use does not start). Without Redis, if empty, a
	// key is generated into `storage.key` in DataDir with mode 0600 when
	// the gateway starts (never by `caddy validate`), and a warning is
	// logged.
	StorageKey string `json:"storage_key,omitempty"`

	// DataDir holds the accounts file (and the generated storage key).
	// Default: the `mfa` folder in Caddy's data directory.
	DataDir string `json:"data_dir,omitempty"`

	// Organization is the name shown on every portal page and, as the
	// issuer, in authenticator apps. Default: "Caddy MFA".
	Organization string `json:"organization,omitempty"`

	// HelpURL, if set, is where users get help (the help desk's page, a
	// mailto: or tel: link): linked on every portal page, and named on the
	// second-factor pages for a user who lost their phone. http(s), mailto
	// or tel only; placeholders such as {env.MFA_HELP_URL} work. Default:
	// none (the pages then say to ask an administrator).
	HelpURL string `json:"help_url,omitempty"`

	// PortalPrefix is the path under which every protected site serves the
	// portal (sign-in, enrolment, sign-out). Default: "/.mfa/".
	PortalPrefix string `json:"portal_prefix,omitempty"`

	// Methods are the second-factor methods users may register and sign in
	// with: "webauthn" (security key or passkey), "totp" (authenticator
	// app), "push" (app notification with number matching), "sms" (text
	// message), "voice" (phone call). Default: webauthn and totp, and
	// push, sms and voice where a notifier or provider is configured.
	Methods []string `json:"methods,omitempty"`

	// SMSRaw is the provider of text messages: a module of namespace
	// mfa.sms, named by its "provider" key: "twilio", "webhook" (a signed
	// JSON POST, for any SMS gateway), "log" (writes codes to Caddy's log;
	// only with `development`) or another plugin's. Default: none (no
	// texts).
	SMSRaw json.RawMessage `json:"sms,omitempty" caddy:"namespace=mfa.sms inline_key=provider"`

	// VoiceRaw is the provider of phone calls: a module of namespace
	// mfa.voice, named by its "provider" key: "twilio", "log" (only with
	// `development`) or another plugin's. Default: none (no calls).
	VoiceRaw json.RawMessage `json:"voice,omitempty" caddy:"namespace=mfa.voice inline_key=provider"`

	// WebAuthn configures security keys and passkeys. Default: each site
	// is its own relying party.
	WebAuthn *WebAuthnConfig `json:"webauthn,omitempty"`

	// PushRaw is the notifier of app notifications: a module of namespace
	// mfa.push, named by its "notifier" key: "ntfy" (a random topic per
	// user on an ntfy server, subscribed to in the ntfy app), "webhook" (a
	// signed JSON POST per prompt, for Gotify, Slack, Teams or a company
	// app) or another plugin's. Default: none.
	PushRaw json.RawMessage `json:"push,omitempty" caddy:"namespace=mfa.push inline_key=notifier"`

	// FraudWebhook, if set, is told of every fraud report (a user who
	// answered a prompt or call with "this wasn't me"), as signed JSON.
	FraudWebhook *Webhook `json:"fraud_webhook,omitempty"`

	// SMSCountries are the countries texts and calls may go to, as calling
	// codes ("+81") or ISO 3166-1 regions ("US": narrower than "+1", which
	// the Caribbean shares); numbers elsewhere cannot be registered.
	// Default: every country (the send limits still apply), but not the
	// non-geographic codes (+870 and +881 satellite phones, +878, +882,
	// +883, +888), which are allowed only when listed here.
	SMSCountries []string `json:"sms_countries,omitempty"`

	// PublicURL is the https URL at which phones and outside services reach
	// the portal, such as https://login.example.com: the approval links of
	// app notifications, Twilio's callbacks (whose signature covers it) and
	// the site texts name for one-time-code autofill. Required with `push`
	// and `voice twilio`; plain http only to this machine.
	PublicURL string `json:"public_url,omitempty"`

	// AllowedReturnHosts are hosts, besides those under the session's
	// cookie_domain and public_url's own, to which the portal may send a
	// user back after sign-in with an absolute URL: the sites a verify
	// endpoint (forward_auth, auth_request) protects. Any other absolute
	// return URL is refused (no open redirect). Default: none.
	AllowedReturnHosts []string `json:"allowed_return_hosts,omitempty"`

	// RememberDevice, if set, offers "Don't ask again on this device" at
	// sign-in: that browser then skips the second factor for that user for
	// this long (e.g. 14d), until forgotten on the security-info page or
	// ended by "sign out everywhere" or `caddy mfa reset`. Default: off.
	RememberDevice caddy.Duration `json:"remember_device,omitempty"`

	// UsersEndAfter is how long a user must stay removed from the users
	// file, or disabled in it, before their sessions, remembered devices
	// and app passwords are deleted for good; they are refused at once.
	// One back within it loses nothing, so a file read in the middle of a
	// write or a botched edit put right costs no one their access.
	// Default: 1m.
	UsersEndAfter caddy.Duration `json:"users_end_after,omitempty"`

	// Development allows the `log` phone providers, which write codes to
	// the log instead of sending them (and any other provider module that
	// is for development only), and a voice provider whose callbacks are
	// not signed. Never set it in production.
	Development bool `json:"development,omitempty"`

	// Session configures sign-in sessions.
	Session SessionConfig `json:"session,omitempty"`

	// TOTP configures authenticator-app codes.
	TOTP TOTPConfig `json:"totp,omitempty"`

	// Redis, if set, keeps sessions, accounts, short-lived state and rate
	// limits in Redis, so that many gateways share them. Without it, the
	// embedded stores are used (accounts in a bbolt file in DataDir).
	Redis *RedisConfig `json:"redis,omitempty"`

	// Limits sets the rate limits and lockouts of sign-in.
	Limits LimitsConfig `json:"limits,omitempty"`

	// SMTP, if set, sends users security notices by e-mail (see
	// docs/notices.md). Default: no e-mail.
	SMTP *SMTPConfig `json:"smtp,omitempty"`

	// Notify picks the security notices and adds a webhook for them.
	// Default: every notice, by e-mail only (when SMTP is set).
	Notify *NotifyConfig `json:"notify,omitempty"`

	// Registration is who may register a first second factor right after
	// the password (a route's mfa handler may have its own). Default:
	// anyone who has the password (open), with a warning at start.
	Registration *RegistrationConfig `json:"registration,omitempty"`

	engine *challenge.Engine
	// registration is Registration checked; codeMail sends its e-mailed
	// codes (nil without smtp), sends are those under way.
	registration *portal.Registration
	codeMail     portal.CodeMailer
	sends        *sync.WaitGroup
	notices      *notices
	// mailer is the smtp server's (nil without smtp).
	mailer   *notify.Mailer
	renderer *ui.Renderer
	logger   *zap.Logger
	prefix   string
	org      string
	help     string
	public   string
	cookies  *cookies.Policy
	// returnHosts are where absolute return URLs may lead (return_hosts.go).
	returnHosts challenge.ReturnHosts
	// pages are the message pages; events writes the security events.
	pages  *portal.Pages
	events *events.Writer
	fraud  *webhook.Client
	// voiceCallbacks checks the signature of the voice provider's
	// callbacks (Twilio's); nil without one (the log provider).
	voiceCallbacks phone.CallbackVerifier
	// voiceName is the voice provider's name, for errors.
	voiceName string
	pooled    []string
	cancel    context.CancelFunc
	// background is the work Start began that writes to the stores or the
	// data dir (the users watch, the app-password index): Stop waits for
	// it, so that nothing writes after the app has stopped.
	background *sync.WaitGroup
	// dataDir and usersFile are DataDir and UsersFile resolved, for the
	// record of users seen.
	dataDir, usersFile string
	// rdb and redisPrefix are the Redis client and key prefix, for the
	// start-up checks (redis_start.go); nil without Redis.
	rdb redis.UniversalClient
	// redisHealth is what the client's latest calls found (nil without
	// Redis), for the pages that read nothing from it.
	redisHealth *redisHealth
	redisPrefix string
	// gate holds every request until those checks pass (redis_gate.go);
	// nil without Redis.
	gate *redisGate
	// redisPassed records, on the pooled client, the start-up checks that
	// passed in this process (see reopenPassedGate).
	redisPassed *sync.Map
	// sessionCache keeps sessions read from Redis in memory (redis_cache.go);
	// nil without Redis or with it off.
	sessionCache *sessionCache
	// dirEnder ends the access of directory users gone (ldap_ender.go);
	// nil with a users file.
	dirEnder *dirEnder
	// metrics are the collectors, registered with the config's registry
	// (metrics_app.go).
	metrics *metrics.Collectors
	// embedded is the pooled accounts file, opened by Start (pool.go);
	// nil with Redis.
	embedded *pooledEmbedded
	// newKeyFile is where Start writes newKey, the storage key generated
	// at Provision for a data dir that has none yet (storage_key.go);
	// empty when the key is configured or read from the file.
	newKeyFile string
	newKey     []byte
}

// SessionConfig configures sign-in sessions.
type SessionConfig struct {
	// IdleTimeout ends a session this long after its last request.
	// Default: 30m (NIST SP 800-63B AAL2).
	IdleTimeout caddy.Duration `json:"idle_timeout,omitempty"`
	// Lifetime ends a session this long after sign-in, however active.
	// Default: 12h (NIST SP 800-63B AAL2).
	Lifetime caddy.Duration `json:"lifetime,omitempty"`
	// CookieName is the session cookie's name. Under TLS, when no cookie
	// domain is set, it gets the __Host- prefix. Default: "caddy_mfa".
	CookieName string `json:"cookie_name,omitempty"`
	// CookieDomain shares the session with subdomains (single sign-on
	// across sites). Default: none, the cookie stays on one host.
	CookieDomain string `json:"cookie_domain,omitempty"`
	// SecureCookies marks cookies Secure (and gives them the __Host-
	// prefix) even on plain-HTTP requests: set it when Caddy sits behind a
	// load balancer that terminates TLS. Default: only under TLS.
	SecureCookies bool `json:"secure_cookies,omitempty"`
}

// TOTPConfig configures authenticator-app codes. Change these only if every
// user's app supports the change: most apps support only the defaults.
type TOTPConfig struct {
	// Algorithm is SHA1, SHA256 or SHA512. Default: SHA1.
	Algorithm string `json:"algorithm,omitempty"`
	// Digits is 6 or 8. Default: 6.
	Digits int `json:"digits,omitempty"`
	// Period is the time step, 15s to 5m. Default: 30s.
	Period caddy.Duration `json:"period,omitempty"`
	// Skew is how many steps before and after the current one are
	// accepted, 0 to 3. Default: 1. Nil means the default.
	Skew *int `json:"skew,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "mfa",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision checks the configuration and builds, in memory, everything
// the handlers use: the stores, keys and templates. It opens no store,
// writes no file and contacts no server (`caddy validate` runs it, beside
// a gateway that may be running on the same config): it only reads the
// users file and, if any, the storage key file and TLS files. Start opens
// the stores and connections.
func (a *App) Provision(ctx caddy.Context) error {
	var err error
	a.logger = ctx.Logger()
	a.events = events.New(a.logger)
	repl := caddy.NewReplacer()
	usersFile := repl.ReplaceKnown(a.UsersFile, "")
	a.usersFile = usersFile
	if err := a.checkFirstFactor(usersFile); err != nil {
		return err
	}
	dataDir := repl.ReplaceKnown(a.DataDir, "")
	if dataDir == "" {
		dataDir = filepath.Join(caddy.AppDataDir(), "mfa")
	}
	a.dataDir = dataDir
	a.org = repl.ReplaceKnown(a.Organization, "")
	if a.org == "" {
		a.org = "Caddy MFA"
	}
	a.prefix = a.PortalPrefix
	if a.prefix == "" {
		a.prefix = "/.mfa/"
	}
	if !strings.HasSuffix(a.prefix, "/") {
		a.prefix += "/"
	}
	if a.help, err = checkHelpURL(repl.ReplaceKnown(a.HelpURL, "")); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	if a.public, err = a.checkPublicURL(repl.ReplaceKnown(a.PublicURL, "")); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	providers, err := a.loadProviders(ctx)
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	if err := a.provisionMetrics(ctx, &providers); err != nil {
		return err
	}
	a.voiceCallbacks, a.voiceName = providers.callbacks, providers.voiceName
	notifier := providers.notifier
	if a.FraudWebhook != nil {
		if a.fraud, err = a.FraudWebhook.build("fraud_webhook", repl); err != nil {
			return fmt.Errorf("mfa: %w", err)
		}
	}
	securityKeys, err := a.WebAuthn.build(repl)
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	countries, err := phone.ParseCountries(a.SMSCountries)
	if err != nil {
		return fmt.Errorf("mfa: sms_countries: %w", err)
	}
	methods := a.Methods
	if len(methods) == 0 {
		methods = []string{challenge.MethodWebAuthn, challenge.MethodTOTP}
		if notifier != nil {
			methods = append(methods, challenge.MethodPush)
		}
		if providers.text != nil {
			methods = append(methods, challenge.MethodSMS)
		}
		if providers.voice != nil {
			methods = append(methods, challenge.MethodVoice)
		}
	}

	storageKey := repl.ReplaceKnown(a.StorageKey, "")
	if a.Redis != nil && storageKey == "" {
		return errStorageKeyWithRedis
	}
	keys, err := a.loadKeys(storageKey, dataDir)
	if err != nil {
		return err
	}
	limits, err := a.Limits.limits()
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	accounts, kv, limiter, err := a.stores(repl, dataDir)
	if err != nil {
		return err
	}
	db, err := a.firstFactor(repl, usersFile, kv)
	if err != nil {
		return err
	}
	if a.returnHosts, err = a.buildReturnHosts(repl); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	a.cookies = cookies.New(a.Session.CookieName, repl.ReplaceKnown(a.Session.CookieDomain, ""),
		a.Session.SecureCookies, strings.HasPrefix(a.public, "https:"))
	sessions, err := session.NewStore(session.Config{
		CookieName: a.Session.CookieName,
		Cookies:    a.cookies.SessionCookies(),
		Idle:       durationOr(a.Session.IdleTimeout, 30*time.Minute),
		Lifetime:   durationOr(a.Session.Lifetime, 12*time.Hour),
		HashKeys:   [][]byte{keys.CookieHashKey()},
	}, kv)
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	tc := totp.Config{Issuer: a.org, Algorithm: a.TOTP.Algorithm, Digits: a.TOTP.Digits, Period: time.Duration(a.TOTP.Period)}
	tc.Defaults()
	tc.Skew = 1
	if a.TOTP.Skew != nil {
		tc.Skew = *a.TOTP.Skew
	}
	a.engine = &challenge.Engine{
		Users: db, Accounts: accounts, Sessions: sessions, Keys: keys,
		TOTP: tc, Methods: methods, Now: time.Now,
		Regulation: regulation.New(limits, limiter, kv, time.Now), KV: kv,
		Phone:    challenge.Phone{Text: providers.text, Voice: providers.voice, Countries: countries},
		Notifier: notifier, SecurityKeys: securityKeys,
	}
	if a.renderer, err = ui.New(); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	a.pages = &portal.Pages{Renderer: a.renderer, Org: a.org, Prefix: a.prefix, HelpURL: a.help, Logger: a.logger,
		BusyRetry: a.engine.Users.Gate().RetryAfter, Outage: a.storeError}
	if err := a.buildNotices(repl, kv, a.usersDirectory()); err != nil {
		return err
	}
	if a.registration, err = a.Registration.policy(repl, a.mailer != nil); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	a.warnRegistration(a.registration, time.Now())
	a.sends = &sync.WaitGroup{}
	if a.mailer != nil {
		a.codeMail = codeMailer{mailer: a.mailer, sends: a.sends, logger: a.logger.Named("registration"), now: time.Now}
	}
	a.reopenPassedGate()
	return nil
}

// stores returns the stores over Redis or the embedded accounts file,
// without opening anything: the embedded file is opened by Start, and a
// Redis client connects on its first command (Start's checks).
func (a *App) stores(repl *caddy.Replacer, dataDir string) (store.Accounts, store.KV, limit.Limiter, error) {
	if a.Redis == nil {
		accounts, kv, limiter, err := a.poolEmbedded(filepath.Join(dataDir, "accounts.db"))
		if err != nil {
			return nil, nil, nil, err
		}
		return accounts, kv, limiter, nil
	}
	o, err := a.Redis.options(repl)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mfa: %w", err)
	}
	routeRedisLog()
	rdb, passed, err := a.poolRedis(o)
	if err != nil {
		return nil, nil, nil, err
	}
	// Whether Redis answers is Start's to find out (startRedis): not
	// reaching it does not stop Caddy, requests fail closed until it
	// answers, and then work again by themselves.
	p := a.Redis.prefix()
	a.rdb, a.redisPrefix, a.redisPassed = rdb, p, passed
	// Closed until Start's checks pass: Caddy may start serving before it
	// starts this app.
	a.gate = newRedisGate()
	var kv store.KV = store.NewRedisKV(rdb, p)
	if a.sessionCache = newSessionCache(a.Redis, kv.(*store.RedisKV), o); a.sessionCache != nil {
		kv = a.sessionCache.kv
	}
	return store.NewRedisAccounts(rdb, p), kv, limit.NewRedis(rdb, p), nil
}

func durationOr(d caddy.Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// loadKeys derives the keys from the configured storage key or, without
// one, from the key file in dataDir, which it only reads: for a data dir
// without one it generates a key that Start writes (startStorageKey).
func (a *App) loadKeys(key, dataDir string) (*seal.Keys, error) {
	if key == "" {
		path := filepath.Join(dataDir, "storage.key")
		k, ok, err := seal.ReadKeyFile(path)
		if err != nil {
			return nil, fmt.Errorf("mfa: %w", err)
		}
		if !ok {
			if k, err = seal.NewKey(); err != nil {
				return nil, fmt.Errorf("mfa: %w", err)
			}
			a.newKeyFile, a.newKey = path, k
		}
		key = string(k)
	}
	keys, err := seal.New([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("mfa: storage_key: %w", err)
	}
	return keys, nil
}

// Validate checks the configuration after provisioning.
func (a *App) Validate() error {
	if a.UsersEndAfter < 0 {
		return fmt.Errorf("mfa: users_end_after must not be negative (default %s)", defaultUsersEndAfter)
	}
	for _, m := range a.engine.Methods {
		if !isKnownMethod(m) {
			return fmt.Errorf("mfa: unknown method %q; known methods: %s", m, strings.Join(challenge.KnownMethods, ", "))
		}
	}
	for _, m := range []string{challenge.MethodSMS, challenge.MethodVoice} {
		if a.engine.MethodEnabled(m) && !a.engine.PhoneMethodReady(m) {
			return fmt.Errorf("mfa: method %s needs a provider: add `%s twilio { ... }`%s to the global mfa block", m, m, map[string]string{challenge.MethodSMS: ", `sms webhook URL { secret ... }`"}[m])
		}
	}
	if a.engine.MethodEnabled(challenge.MethodPush) && a.engine.Notifier == nil {
		return errors.New("mfa: method push needs a notifier: add `push ntfy https://ntfy.example.com` or `push webhook URL { secret ... }` to the global mfa block")
	}
	if a.engine.Notifier != nil && a.public == "" {
		// Phones open the approval link from outside: it must not depend
		// on the Host header a client sends.
		return errors.New("mfa: push needs public_url: the https URL at which phones reach this gateway's approval page, e.g. public_url https://login.example.com")
	}
	if a.voiceCallbacks != nil && a.public == "" {
		// The provider (Twilio) must reach the portal, and its signature
		// covers the URL: neither may depend on the Host header a client
		// sends.
		return fmt.Errorf("mfa: voice %s needs public_url: the https URL at which the provider reaches this gateway, e.g. public_url https://login.example.com", a.voiceName)
	}
	if err := a.engine.TOTP.Validate(); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	if !strings.HasPrefix(a.prefix, "/") || strings.ContainsAny(a.prefix, "?#*{} ") || a.prefix == "/" {
		return fmt.Errorf("mfa: portal_prefix %q must be a path such as /.mfa/", a.PortalPrefix)
	}
	if time.Duration(a.Session.IdleTimeout) < 0 || time.Duration(a.Session.Lifetime) < 0 {
		return errors.New("mfa: session durations must be positive")
	}
	return nil
}

func isKnownMethod(m string) bool {
	for _, k := range challenge.KnownMethods {
		if k == m {
			return true
		}
	}
	return false
}

// Start writes the storage key generated at Provision (if any), opens
// the embedded stores, runs the start-up checks on Redis and begins
// watching the users file (see watchUsers). Caddy calls it only to run a
// config, never for `caddy validate`: everything that opens, writes or
// connects is here, not in Provision.
func (a *App) Start() error {
	if err := a.startStorageKey(); err != nil {
		return err
	}
	if err := a.startEmbedded(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	if err := a.startRedis(ctx); err != nil {
		cancel()
		return err
	}
	a.startDirectory(ctx)
	a.background = &sync.WaitGroup{}
	a.background.Go(func() { a.watchUsers(ctx) })
	a.background.Go(func() { a.buildAppPasswordIndex(ctx) })
	a.startNotices(ctx)
	return nil
}

// Stop stops watching the users file.
func (a *App) Stop() error {
	if a.cancel != nil {
		a.cancel()
	}
	if a.background != nil {
		a.background.Wait()
	}
	a.stopSessionCache()
	a.waitNotices()
	if a.sends != nil {
		a.sends.Wait()
	}
	return nil
}

// Cleanup releases the shared stores. It copes with a half-done Provision.
func (a *App) Cleanup() error {
	var errs []error
	for _, k := range a.pooled {
		if _, err := pool.Delete(k); err != nil {
			errs = append(errs, err)
		}
	}
	a.pooled = nil
	return errors.Join(errs...)
}

// Interface guards.
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)

// portalProviders are the outside services the portal talks to itself.
func (a *App) portalProviders() portal.Providers {
	var p portal.Providers
	if a.voiceCallbacks != nil {
		p.Calls = a.voiceCallbacks
	}
	if a.fraud != nil {
		p.Fraud = a.fraud
	}
	return p
}
