package securitykey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Account is whose keys a ceremony is about.
type Account struct {
	// Handle is the user handle, random and without meaning.
	Handle []byte
	// Name is the user name, Display the name to show.
	Name, Display string
	// Keys are the keys registered so far.
	Keys []store.SecurityKey
}

// Ceremony is a registration or sign-in under way: what its answer is
// checked against. It is kept on the server, used once, and expires.
type Ceremony struct {
	// User is whose ceremony it is.
	User string `json:"user"`
	// Data is go-webauthn's record of the challenge and its options,
	// with the user handle it was started with (UserID).
	Data webauthn.SessionData `json:"data"`
	// Expires is when the answer comes too late.
	Expires time.Time `json:"expires"`
}

// Options are the options of navigator.credentials.create or .get, as JSON
// ({"publicKey": {...}}, binary fields in base64url).
type Options []byte

// webauthnUser adapts an Account to go-webauthn.
type webauthnUser struct{ a *Account }

func (u webauthnUser) WebAuthnID() []byte          { return u.a.Handle }
func (u webauthnUser) WebAuthnName() string        { return u.a.Name }
func (u webauthnUser) WebAuthnDisplayName() string { return u.a.Display }
func (u webauthnUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.a.Keys))
	for i, k := range u.a.Keys {
		out[i] = credential(k)
	}
	return out
}

// credential is the go-webauthn form of a registered key.
func credential(k store.SecurityKey) webauthn.Credential {
	ts := make([]protocol.AuthenticatorTransport, len(k.Transports))
	for i, t := range k.Transports {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: k.CredentialID, PublicKey: k.PublicKey,
		AttestationType: k.AttestationType, AttestationFormat: k.AttestationFormat,
		Transport: ts, Flags: webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(k.Flags)),
		Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
	}
}

// relyingParty is go-webauthn for site under c.
func (c *Config) relyingParty(site Site) (*webauthn.WebAuthn, error) {
	t := webauthn.TimeoutConfig{Enforce: true, Timeout: c.Timeout, TimeoutUVD: c.Timeout}
	uv := protocol.UserVerificationRequirement(c.UserVerification)
	w, err := webauthn.New(&webauthn.Config{
		RPID: site.RPID, RPDisplayName: site.Name, RPOrigins: site.Origins,
		AttestationPreference: protocol.ConveyancePreference(c.Attestation),
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			UserVerification: uv,
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: t, Registration: t},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn relying party for %s: %w", site.RPID, err)
	}
	return w, nil
}

// ceremony wraps go-webauthn's options and session data for a's user.
func (c *Config) ceremony(a *Account, now time.Time, options any, data *webauthn.SessionData) (Options, Ceremony, error) {
	b, err := json.Marshal(options)
	if err != nil {
		return nil, Ceremony{}, fmt.Errorf("encoding webauthn options: %w", err)
	}
	return b, Ceremony{User: a.Name, Data: *data, Expires: now.Add(c.Timeout)}, nil
}

// BeginRegistration starts registering a new key of a's user on site; the
// keys the user has already are excluded (the browser says so).
func (c *Config) BeginRegistration(site Site, a *Account, now time.Time) (Options, Ceremony, error) {
	w, err := c.relyingParty(site)
	if err != nil {
		return nil, Ceremony{}, err
	}
	u := webauthnUser{a}
	exclude := make([]protocol.CredentialDescriptor, 0, len(a.Keys))
	for _, cr := range u.WebAuthnCredentials() {
		exclude = append(exclude, cr.Descriptor())
	}
	creation, data, err := w.BeginRegistration(u, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, Ceremony{}, fmt.Errorf("starting a security key registration: %w", err)
	}
	return c.ceremony(a, now, creation, data)
}

// FinishRegistration checks the browser's answer to a registration and
// returns the new key (without name or times). A page of another origin
// gives an *OriginError; an answer that does not verify, ErrRejected.
// Only a's handle is used: whether the user may add the key (a duplicate,
// too many) is the caller's to check, where it saves the key.
func (c *Config) FinishRegistration(site Site, a *Account, cer Ceremony, response []byte) (store.SecurityKey, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return store.SecurityKey{}, rejected("reading the registration", err)
	}
	if err := checkOrigin(site, parsed.Response.CollectedClientData.Origin); err != nil {
		return store.SecurityKey{}, err
	}
	w, err := c.relyingParty(site)
	if err != nil {
		return store.SecurityKey{}, err
	}
	cr, err := w.CreateCredential(webauthnUser{a}, cer.Data, parsed)
	if err != nil {
		return store.SecurityKey{}, rejected("checking the registration", err)
	}
	ts := make([]string, len(cr.Transport))
	for i, t := range cr.Transport {
		ts[i] = string(t)
	}
	return store.SecurityKey{
		CredentialID: cr.ID, PublicKey: cr.PublicKey,
		AttestationType: cr.AttestationType, AttestationFormat: cr.AttestationFormat,
		Transports: ts, AAGUID: cr.Authenticator.AAGUID, SignCount: cr.Authenticator.SignCount,
		Flags: byte(cr.Flags.ProtocolValue()),
	}, nil
}

// BeginLogin starts a sign-in of a's user with one of their keys on site.
func (c *Config) BeginLogin(site Site, a *Account, now time.Time) (Options, Ceremony, error) {
	w, err := c.relyingParty(site)
	if err != nil {
		return nil, Ceremony{}, err
	}
	assertion, data, err := w.BeginLogin(webauthnUser{a})
	if err != nil {
		return nil, Ceremony{}, fmt.Errorf("starting a security key sign-in: %w", err)
	}
	return c.ceremony(a, now, assertion, data)
}

// FinishLogin checks the browser's answer to a sign-in and returns the key
// used (one of a.Keys, as go-webauthn only accepts those) as it is now:
// its counter and flags moved on. Besides the errors of
// FinishRegistration, a counter that did not grow is ErrCloned, naming
// the key.
func (c *Config) FinishLogin(site Site, a *Account, cer Ceremony, response []byte) (store.SecurityKey, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return store.SecurityKey{}, rejected("reading the sign-in", err)
	}
	if err := checkOrigin(site, parsed.Response.CollectedClientData.Origin); err != nil {
		return store.SecurityKey{}, err
	}
	w, err := c.relyingParty(site)
	if err != nil {
		return store.SecurityKey{}, err
	}
	cr, err := w.ValidateLogin(webauthnUser{a}, cer.Data, parsed)
	if err != nil {
		return store.SecurityKey{}, rejected("checking the sign-in", err)
	}
	k := a.Keys[slices.IndexFunc(a.Keys, func(k store.SecurityKey) bool { return bytes.Equal(k.CredentialID, cr.ID) })]
	if cr.Authenticator.CloneWarning {
		return k, fmt.Errorf("%w (key %q, counter %d, last seen %d)", ErrCloned, k.Name, parsed.Response.AuthenticatorData.Counter, k.SignCount)
	}
	k.SignCount, k.Flags = cr.Authenticator.SignCount, byte(cr.Flags.ProtocolValue())
	return k, nil
}

// checkOrigin refuses an answer from a page whose origin site does not allow.
func checkOrigin(site Site, origin string) error {
	if protocol.IsOriginInHaystack(origin, site.Origins) {
		return nil
	}
	return &OriginError{Origin: origin, RPID: site.RPID}
}

// rejected wraps a go-webauthn error as ErrRejected, keeping what it says
// for the log.
func rejected(what string, err error) error {
	if pe, ok := err.(*protocol.Error); ok && pe.DevInfo != "" {
		return fmt.Errorf("%w: %s: %w (%s)", ErrRejected, what, err, pe.DevInfo)
	}
	return fmt.Errorf("%w: %s: %w", ErrRejected, what, err)
}
