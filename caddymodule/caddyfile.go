package caddymodule

import (
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("mfa", parseGlobalOption)
	httpcaddyfile.RegisterHandlerDirective("mfa", parseHandlerDirective)
	// Right after basic_auth: before every directive that serves content
	// (respond, file_server, reverse_proxy, ...), so no `order` line is needed.
	httpcaddyfile.RegisterDirectiveOrder("mfa", httpcaddyfile.After, "basic_auth")
}

func parseGlobalOption(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Err("the global mfa option may be given only once")
	}
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "mfa", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile sets up the app from the global option:
//
//	{
//		mfa {
//			users_file    <path>           # or with a block:
//			users_file    <path> {
//				on_bad_hash refuse|skip      # unreadable hash: refuse the file (default) or leave the user out
//				rehash_on_sign_in            # upgrade weak hashes to argon2id on sign-in
//				search_email                 # sign in with the email too
//				case_insensitive             # Alice = alice (NFKC + case folding)
//			}
//			ldap { ... }  # instead of users_file: see unmarshalLDAP
//			storage_key   <secret of 32+ bytes, e.g. {env.MFA_STORAGE_KEY}>
//			data_dir      <path>
//			organization  <name shown on pages and in authenticator apps>
//			portal_prefix <path, default /.mfa/>
//			methods       <method...>      # webauthn totp push sms voice; default: those configured
//			sms   twilio {
//				account_sid <AC...>            # e.g. {env.TWILIO_SID}
//				auth_token  <token>            # e.g. {env.TWILIO_TOKEN}
//				from        <+E.164 or MG...>
//				api_url     <url>              # default https://api.twilio.com
//			}
//			sms   webhook <url> { secret <16+ bytes> }
//			sms   log                          # development only
//			voice twilio { ... }               # as for sms; from is a number
//			voice log                          # development only
//			sms|voice <name> ...               # another plugin's provider (module mfa.sms.<name> or mfa.voice.<name>)
//			push  ntfy <server url> { token <tk_... or user:password> }
//			push  webhook <url> { secret <16+ bytes> }
//			push  <name> ...                   # another plugin's notifier (module mfa.push.<name>)
//			fraud_webhook <url> { secret <16+ bytes> } # told of every fraud report
//			smtp { address <host:port>  from "<Name> <address>"  ... } # security notices by e-mail (caddyfile_smtp.go)
//			notify { events <notice...>  webhook <url> { secret ... } }
//			sms_countries <+code or region...> # default: every country, no satellite (+870 +881 ...)
//			webauthn {                         # security keys and passkeys
//				rp_id             <domain>     # default: each site's host
//				origins           <origin...>  # default: the site's own origin
//				user_verification required|preferred|discouraged # default preferred
//				attestation       none|indirect|direct            # default none
//				timeout           <duration>   # default 5m
//			}
//			public_url    <https://host>       # required with push and voice twilio
//			allowed_return_hosts <host...>    # sites outside cookie_domain a verify endpoint sends back to (docs/verify.md)
//			remember_device <duration>         # "Don't ask again on this device", e.g. 14d
//			users_end_after <duration>         # removed/disabled users lose access for good after; default 1m
//			development                        # allows the log providers
//			session {
//				idle_timeout  <duration>   # default 30m
//				lifetime      <duration>   # default 12h
//				cookie_name   <name>       # default caddy_mfa
//				cookie_domain <domain>     # share sign-in with subdomains
//				secure_cookies             # behind a TLS-terminating proxy
//			}
//			totp {
//				algorithm SHA1|SHA256|SHA512  # default SHA1
//				digits    6|8                 # default 6
//				period    <duration>          # default 30s
//				skew      <steps>             # default 1
//			}
//			redis <url>                        # or the block form:
//			redis {
//				url         redis[s]://[user:password@]host:port[/db]
//				addresses   <host:port...>     # Sentinels or cluster nodes
//				master_name <name>             # Sentinel
//				cluster                        # Redis Cluster
//				username    <user>
//				password    <password>         # e.g. {env.REDIS_PASSWORD}
//				db          <number>
//				tls
//				key_prefix  <prefix>           # default mfa:
//				timeout     <duration>         # default 2s
//				session_cache <entries>|off    # default 50000
//			}
//			limits {
//				login_per_ip      <n>/<duration>  # default 30/1m
//				login_per_user    <n>/<duration>  # default 10/1m
//				code_per_user     <n>/<duration>  # default 10/1m
//				max_failures      <n>             # default 5 from one source ...
//				find_time         <duration>      # ... within 2m ...
//				ban_time          <duration>      # ... lock it for 5m
//				max_unfamiliar_failures <n>       # default 100 a day from unfamiliar sources
//				max_code_failures <n>             # default 10 in a row
//				send_per_user     <n>/<duration>  # texts and calls; default 5/1h
//				send_per_number   <n>/<duration>  # default 5/1h
//				send_per_ip       <n>/<duration>  # default 50/1h
//				send_daily        <n>             # whole gateway; default 1000
//				resend_after      <duration>      # default 30s
//				push_per_user     <n>/<duration>  # app notifications; default 3/5m
//				app_password_per_ip   <n>/<duration>  # wrong app passwords; default 20/1m
//				app_password_per_user <n>/<duration>  # default 10/1m
//			}
//		}
//	}
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the option name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "users_file":
			err = a.unmarshalUsersFile(d)
		case "ldap":
			err = a.unmarshalLDAP(d)
		case "storage_key":
			err = providers.OneArg(d, &a.StorageKey)
		case "data_dir":
			err = providers.OneArg(d, &a.DataDir)
		case "organization":
			err = providers.OneArg(d, &a.Organization)
		case "help_url":
			err = providers.OneArg(d, &a.HelpURL)
		case "portal_prefix":
			err = providers.OneArg(d, &a.PortalPrefix)
		case "methods":
			a.Methods = d.RemainingArgs()
			if len(a.Methods) == 0 {
				return d.Err("methods needs at least one method, e.g. 'methods totp'")
			}
		case "session":
			err = a.Session.unmarshal(d)
		case "totp":
			err = a.TOTP.unmarshal(d)
		case "redis":
			if a.Redis != nil {
				return d.Err("redis may be given only once")
			}
			a.Redis = new(RedisConfig)
			err = a.Redis.unmarshal(d)
		case "limits":
			err = a.Limits.unmarshal(d)
		case "sms":
			if a.SMSRaw != nil {
				return d.Err("sms may be given only once")
			}
			a.SMSRaw, err = unmarshalProvider(d, nsSMS, keyProvider)
		case "voice":
			if a.VoiceRaw != nil {
				return d.Err("voice may be given only once")
			}
			a.VoiceRaw, err = unmarshalProvider(d, nsVoice, keyProvider)
		case "push":
			if a.PushRaw != nil {
				return d.Err("push may be given only once")
			}
			a.PushRaw, err = unmarshalProvider(d, nsPush, keyNotifier)
		case "fraud_webhook":
			if a.FraudWebhook != nil {
				return d.Err("fraud_webhook may be given only once")
			}
			a.FraudWebhook = new(Webhook)
			err = a.FraudWebhook.unmarshal(d)
		case "smtp":
			err = a.unmarshalSMTP(d)
		case "notify":
			err = a.unmarshalNotify(d)
		case "registration":
			err = unmarshalRegistration(d, &a.Registration)
		case "sms_countries":
			a.SMSCountries = append(a.SMSCountries, d.RemainingArgs()...)
			if len(a.SMSCountries) == 0 {
				return d.Err("sms_countries needs at least one country calling code, e.g. +1 +81")
			}
		case "webauthn":
			if a.WebAuthn != nil {
				return d.Err("webauthn may be given only once")
			}
			a.WebAuthn = new(WebAuthnConfig)
			err = a.WebAuthn.unmarshal(d)
		case "public_url":
			err = providers.OneArg(d, &a.PublicURL)
		case "allowed_return_hosts":
			a.AllowedReturnHosts = append(a.AllowedReturnHosts, d.RemainingArgs()...)
			if len(a.AllowedReturnHosts) == 0 {
				return d.Err("allowed_return_hosts needs at least one host name")
			}
		case "remember_device":
			err = durationArg(d, &a.RememberDevice)
		case "users_end_after":
			err = durationArg(d, &a.UsersEndAfter)
		case "development":
			if d.NextArg() {
				return d.ArgErr()
			}
			a.Development = true
		default:
			return d.Errf("unknown mfa option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *SessionConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "idle_timeout":
			err = durationArg(d, &s.IdleTimeout)
		case "lifetime":
			err = durationArg(d, &s.Lifetime)
		case "cookie_name":
			err = providers.OneArg(d, &s.CookieName)
		case "cookie_domain":
			err = providers.OneArg(d, &s.CookieDomain)
		case "secure_cookies":
			if d.NextArg() {
				return d.ArgErr()
			}
			s.SecureCookies = true
		default:
			return d.Errf("unknown session option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *TOTPConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "algorithm":
			err = providers.OneArg(d, &t.Algorithm)
		case "digits":
			err = intArg(d, &t.Digits)
		case "period":
			err = durationArg(d, &t.Period)
		case "skew":
			var n int
			if err = intArg(d, &n); err == nil {
				t.Skew = &n
			}
		default:
			return d.Errf("unknown totp option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *RedisConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		c.URL = d.Val()
		if d.NextArg() {
			return d.Err("redis takes one URL, or a block")
		}
		if d.NextBlock(d.Nesting()) {
			return d.Err("redis takes a URL or a block, not both")
		}
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "url":
			err = providers.OneArg(d, &c.URL)
		case "addresses":
			c.Addresses = append(c.Addresses, d.RemainingArgs()...)
			if len(c.Addresses) == 0 {
				return d.Err("addresses needs at least one host:port")
			}
		case "master_name":
			err = providers.OneArg(d, &c.MasterName)
		case "cluster":
			if d.NextArg() {
				return d.ArgErr()
			}
			c.Cluster = true
		case "username":
			err = providers.OneArg(d, &c.Username)
		case "password":
			err = providers.OneArg(d, &c.Password)
		case "db":
			err = intArg(d, &c.DB)
		case "tls":
			if d.NextArg() {
				return d.ArgErr()
			}
			c.TLS = true
		case "key_prefix":
			err = providers.OneArg(d, &c.KeyPrefix)
		case "timeout":
			err = durationArgMin(d, &c.Timeout, 10*time.Millisecond)
		case "session_cache":
			err = sessionCacheArg(d, &c.SessionCache)
		default:
			return d.Errf("unknown redis option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	if c.URL == "" && len(c.Addresses) == 0 {
		return d.Err("redis needs a URL or addresses")
	}
	return nil
}

// sessionCacheArg reads "off" (-1) or a positive number of entries.
func sessionCacheArg(d *caddyfile.Dispenser, dst *int) error {
	var v string
	if err := providers.OneArg(d, &v); err != nil {
		return err
	}
	if v == "off" {
		*dst = -1
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return d.Errf("session_cache: %q: give a positive number of entries, or off", v)
	}
	*dst = n
	return nil
}

func (l *LimitsConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch name := d.Val(); name {
		case "login_per_ip":
			err = rateArg(d, &l.LoginPerIP)
		case "login_per_user":
			err = rateArg(d, &l.LoginPerUser)
		case "code_per_user":
			err = rateArg(d, &l.CodePerUser)
		case "max_failures":
			err = intArg(d, &l.MaxFailures)
		case "max_unfamiliar_failures":
			err = intArg(d, &l.MaxUnfamiliarFailures)
		case "find_time":
			err = durationArg(d, &l.FindTime)
		case "ban_time":
			err = durationArg(d, &l.BanTime)
		case "max_code_failures":
			err = intArg(d, &l.MaxCodeFailures)
		case "send_per_user":
			err = rateArg(d, &l.SendPerUser)
		case "send_per_number":
			err = rateArg(d, &l.SendPerNumber)
		case "send_per_ip":
			err = rateArg(d, &l.SendPerIP)
		case "send_daily":
			err = intArg(d, &l.SendDaily)
		case "resend_after":
			err = durationArg(d, &l.ResendAfter)
		case "push_per_user":
			err = rateArg(d, &l.PushPerUser)
		case "app_password_per_ip":
			err = rateArg(d, &l.AppPasswordPerIP)
		case "app_password_per_user":
			err = rateArg(d, &l.AppPasswordPerUser)
		default:
			return d.Errf("unknown limits option %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseHandlerDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Handler)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

// UnmarshalCaddyfile sets up the handler from the `mfa` directive, which
// protects the routes of its site (with the portal at the portal prefix):
//
//	mfa {
//		allow_users      <user...>
//		allow_groups     <group...>
//		policy           one_factor|two_factor  # default two_factor
//		trusted_networks <cidr...|private_ranges>  # password alone from these
//		app_passwords                          # HTTP Basic auth with app passwords
//		headers {                              # identity header names (see unmarshalIdentityHeaders)
//			user   <name>                      # default Remote-User
//			groups <name>                      # default Remote-Groups
//			name   <name>                      # default Remote-Name
//			email  <name>                      # default Remote-Email
//		}
//		verify           forward_auth|auth_request  # a verify endpoint for other proxies (docs/verify.md)
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "allow_users":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Err("allow_users needs at least one user name")
			}
			h.AllowUsers = append(h.AllowUsers, args...)
		case "allow_groups":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Err("allow_groups needs at least one group name")
			}
			h.AllowGroups = append(h.AllowGroups, args...)
		case "app_passwords":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.AppPasswords = true
		case "policy":
			if err := providers.OneArg(d, &h.Policy); err != nil {
				return err
			}
			if h.Policy != policyOneFactor && h.Policy != policyTwoFactor {
				return d.Errf("policy %q: use one_factor or two_factor", h.Policy)
			}
		case "trusted_networks":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Err("trusted_networks needs at least one network, e.g. 10.0.0.0/8 or private_ranges")
			}
			for _, a := range args {
				if parseNetworks(a) == nil {
					return d.Errf("trusted_networks: %q is not a CIDR such as 10.0.0.0/8, an address, or private_ranges", a)
				}
			}
			h.TrustedNetworks = append(h.TrustedNetworks, args...)
		case "verify":
			if err := providers.OneArg(d, &h.Verify); err != nil {
				return err
			}
			if err := checkVerify(h.Verify); err != nil {
				return d.Err(err.Error())
			}
		case "registration":
			// A method registered on one site signs in on every site: a
			// route's own policy would be bypassed on any other.
			return d.Err("registration belongs in the global mfa block: a method registered on one site signs in on every site, so one policy must hold for all of them")
		case "headers":
			if err := unmarshalIdentityHeaders(d, &h.Headers); err != nil {
				return err
			}
		default:
			return d.Errf("unknown mfa directive option %q", d.Val())
		}
	}
	return nil
}

func intArg(d *caddyfile.Dispenser, dst *int) error {
	name := d.Val()
	var s string
	if err := providers.OneArg(d, &s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return d.Errf("%s: %q is not a whole number", name, s)
	}
	*dst = n
	return nil
}

// rateArg reads "<events>/<duration>" and checks it now, so the error
// points at the Caddyfile line.
func rateArg(d *caddyfile.Dispenser, dst *string) error {
	name := d.Val()
	if err := providers.OneArg(d, dst); err != nil {
		return err
	}
	if _, err := parseRate(*dst); err != nil {
		return d.Errf("%s: %v", name, err)
	}
	return nil
}

func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	return durationArgMin(d, dst, time.Second)
}

// durationArgMin reads a duration of at least least.
func durationArgMin(d *caddyfile.Dispenser, dst *caddy.Duration, least time.Duration) error {
	name := d.Val()
	var s string
	if err := providers.OneArg(d, &s); err != nil {
		return err
	}
	v, err := caddy.ParseDuration(s)
	if err != nil {
		return d.Errf("%s: %q is not a duration (e.g. 30m, 12h): %v", name, s, err)
	}
	if v < least {
		return d.Errf("%s: %q must be at least %s", name, s, least)
	}
	*dst = caddy.Duration(v)
	return nil
}

// Interface guards.
var (
	_ caddyfile.Unmarshaler = (*App)(nil)
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
