// Package webauthntest is a software security key for tests of the
// WebAuthn ceremonies without a browser: it answers the options the
// gateway sends as navigator.credentials.create and .get would, with an
// ECDSA P-256 key, "none" attestation and a signature counter.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator is one security key used from a page of Origin.
type Authenticator struct {
	// Origin is the origin of the page the browser reports.
	Origin string
	// Creds are the credentials made so far, by base64url id.
	Creds map[string]*Credential
	// Reuse, if set, makes Create answer with this credential again,
	// ignoring the options' exclusions, as a faulty or hostile key might.
	Reuse *Credential
}

// Credential is a key pair the authenticator made for one relying party.
type Credential struct {
	// ID is the credential id.
	ID []byte
	// RPID and UserHandle are those it was made for.
	RPID       string
	UserHandle []byte
	// Counter is the signature counter, raised before each signature.
	Counter uint32
	key     *ecdsa.PrivateKey
}

// New is an authenticator on a page of origin.
func New(origin string) *Authenticator {
	return &Authenticator{Origin: origin, Creds: map[string]*Credential{}}
}

var b64 = base64.RawURLEncoding

type descriptor struct {
	ID string `json:"id"`
}

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Exclude []descriptor `json:"excludeCredentials"`
		Allow   []descriptor `json:"allowCredentials"`
	} `json:"publicKey"`
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// flags of the authenticator data: user present and verified, and
// attested credential data included.
const (
	flagUP = 0x01
	flagUV = 0x04
	flagAT = 0x40
)

func authData(rpID string, flags byte, counter uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, counter)
}

// Create answers creation options: a new credential, as the JSON a page
// posts (PublicKeyCredential.toJSON()).
func (a *Authenticator) Create(optionsJSON []byte) ([]byte, *Credential, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, nil, fmt.Errorf("reading creation options: %w", err)
	}
	c, err := a.credentialFor(o)
	if err != nil {
		return nil, nil, err
	}
	pub, err := c.key.PublicKey.ECDH()
	if err != nil {
		return nil, nil, err
	}
	raw := pub.Bytes() // 0x04 || x || y
	cose, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		return nil, nil, err
	}
	coseKey, err := cose.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:]})
	if err != nil {
		return nil, nil, err
	}
	ad := authData(c.RPID, flagUP|flagUV|flagAT, 0)
	ad = append(ad, make([]byte, 16)...) // AAGUID: none
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(c.ID)))
	ad = append(append(ad, c.ID...), coseKey...)
	att, err := cose.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		return nil, nil, err
	}
	a.Creds[b64.EncodeToString(c.ID)] = c
	resp, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"usb"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return resp, c, err
}

// credentialFor is the credential a creation answers with: a new one
// (unless one of the excluded is this authenticator's), or Reuse.
func (a *Authenticator) credentialFor(o options) (*Credential, error) {
	if a.Reuse != nil {
		return a.Reuse, nil
	}
	for _, d := range o.PublicKey.Exclude {
		if _, ok := a.Creds[d.ID]; ok {
			return nil, errors.New("InvalidStateError: this authenticator is registered already")
		}
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("reading user id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &Credential{ID: make([]byte, 32), RPID: o.PublicKey.RP.ID, UserHandle: handle, key: key}
	if _, err := rand.Read(c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// Get answers request options with the first allowed credential it has.
func (a *Authenticator) Get(optionsJSON []byte) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("reading request options: %w", err)
	}
	for _, d := range o.PublicKey.Allow {
		if c, ok := a.Creds[d.ID]; ok && c.RPID == o.PublicKey.RPID {
			return a.Sign(c, o.PublicKey.Challenge)
		}
	}
	return nil, errors.New("NotAllowedError: no registered credential for this site")
}

// Sign answers a sign-in challenge with credential c.
func (a *Authenticator) Sign(c *Credential, challenge string) ([]byte, error) {
	c.Counter++
	ad := authData(c.RPID, flagUP|flagUV, c.Counter)
	cd := a.clientData("webauthn.get", challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.UserHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}
