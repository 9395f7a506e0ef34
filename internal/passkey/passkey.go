// Package passkey runs the WebAuthn ceremonies of passkeys (go-webauthn):
// registration for a signed-in user, and usernameless sign-in with a
// discoverable credential. A ceremony's state (its challenge) waits in
// Redis, under a digest of a random value that the browser that began it
// holds in a cookie, for 5 minutes; any attempt to finish spends it, on
// whichever instance. Both ceremonies require user verification.
package passkey

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/store"
)

// ErrInvalid is the one answer for a ceremony that does not verify: no or
// a spent challenge, another browser's, another origin, no user
// verification, an unknown or removed credential, a bad signature.
var ErrInvalid = errors.New("passkey ceremony did not verify")

// ceremonyTTL is how long a challenge waits for its finish.
const ceremonyTTL = 5 * time.Minute

// Config is the relying party.
type Config struct {
	RPID        string
	DisplayName string
	Origins     []string
}

// Ceremonies begins and finishes passkey ceremonies. It is safe for
// concurrent use.
type Ceremonies struct {
	wa      *webauthn.WebAuthn
	rdb     redis.UniversalClient
	timeout time.Duration
}

// New returns Ceremonies for the relying party, keeping their state in
// rdb; timeout bounds each Redis call.
func New(cfg Config, rdb redis.UniversalClient, timeout time.Duration) (*Ceremonies, error) {
	uv := protocol.VerificationRequired
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.DisplayName,
		RPOrigins:     cfg.Origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   uv,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn relying party: %w", err)
	}
	return &Ceremonies{wa: wa, rdb: rdb, timeout: timeout}, nil
}

// Account is a user as a ceremony sees them: the user handle is the 12
// bytes of their id.
type Account struct {
	ID, Email, Name string
	Passkeys        []store.Passkey
}

func (a Account) WebAuthnID() []byte {
	b, _ := hex.DecodeString(a.ID)
	return b
}
func (a Account) WebAuthnName() string        { return a.Email }
func (a Account) WebAuthnDisplayName() string { return a.Name }
func (a Account) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(a.Passkeys))
	for i, k := range a.Passkeys {
		out[i] = credential(k)
	}
	return out
}

// credential is a stored passkey as go-webauthn verifies against it.
func credential(k store.Passkey) webauthn.Credential {
	id, _ := base64.RawURLEncoding.DecodeString(k.ID)
	transports := make([]protocol.AuthenticatorTransport, len(k.Transports))
	for i, t := range k.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: id, PublicKey: k.PublicKey, AttestationType: k.AttestationType, Transport: transports,
		Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: true, BackupEligible: k.BackupEligible, BackupState: k.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
	}
}

// state is what waits in Redis between begin and finish.
type state struct {
	Kind    string               `json:"kind"` // "register" or "sign-in"
	UserID  string               `json:"user,omitempty"`
	Session webauthn.SessionData `json:"session"`
}

func stateKey(ceremony string) string {
	sum := sha256.Sum256([]byte(ceremony))
	return "wa:{" + hex.EncodeToString(sum[:16]) + "}"
}

func (c *Ceremonies) save(ctx context.Context, ceremony string, s state) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("save ceremony: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Set(ctx, stateKey(ceremony), b, ceremonyTTL).Err(); err != nil {
		return fmt.Errorf("save ceremony: %w: %w", apperr.ErrUnavailable, err)
	}
	return nil
}

// spend takes the ceremony's state out of Redis: once, on any instance.
func (c *Ceremonies) spend(ctx context.Context, ceremony, kind string) (state, error) {
	if ceremony == "" {
		return state{}, ErrInvalid
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	b, err := c.rdb.GetDel(ctx, stateKey(ceremony)).Bytes()
	if errors.Is(err, redis.Nil) {
		return state{}, ErrInvalid
	}
	if err != nil {
		return state{}, fmt.Errorf("spend ceremony: %w: %w", apperr.ErrUnavailable, err)
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil || s.Kind != kind {
		return state{}, ErrInvalid
	}
	return s, nil
}

// BeginRegistration returns the creation options for a of a new passkey
// ({"publicKey": …}, excluding a's passkeys) and keeps the challenge
// under ceremony, the value of the browser's ceremony cookie.
func (c *Ceremonies) BeginRegistration(ctx context.Context, ceremony string, a Account) (json.RawMessage, error) {
	exclude := make([]protocol.CredentialDescriptor, len(a.Passkeys))
	for i, k := range a.Passkeys {
		cred := credential(k)
		exclude[i] = cred.Descriptor()
	}
	options, session, err := c.wa.BeginRegistration(a, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	if err := c.save(ctx, ceremony, state{Kind: "register", UserID: a.ID, Session: *session}); err != nil {
		return nil, err
	}
	return marshalOptions(options)
}

// FinishRegistration verifies the browser's response to the ceremony a
// began and returns the new passkey (not stored yet). ErrInvalid when it
// does not verify, or the ceremony was not a's.
func (c *Ceremonies) FinishRegistration(ctx context.Context, ceremony string, a Account, response json.RawMessage) (store.Passkey, error) {
	s, err := c.spend(ctx, ceremony, "register")
	if err != nil {
		return store.Passkey{}, err
	}
	if s.UserID != a.ID {
		return store.Passkey{}, ErrInvalid
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	cred, err := c.wa.CreateCredential(a, s.Session, parsed)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	transports := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		transports[i] = string(t)
	}
	return store.Passkey{
		ID: base64.RawURLEncoding.EncodeToString(cred.ID), UserID: a.ID, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, Transports: transports, AAGUID: cred.Authenticator.AAGUID,
		AttestationType: cred.AttestationType, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
	}, nil
}

// BeginSignIn returns request options for a discoverable credential (no
// user named) and keeps the challenge under ceremony.
func (c *Ceremonies) BeginSignIn(ctx context.Context, ceremony string) (json.RawMessage, error) {
	options, session, err := c.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	if err := c.save(ctx, ceremony, state{Kind: "sign-in", Session: *session}); err != nil {
		return nil, err
	}
	return marshalOptions(options)
}

// Used is a verified sign-in: whose passkey, and the authenticator's new
// counter and backup state.
type Used struct {
	Account     Account
	PasskeyID   string
	SignCount   uint32
	BackupState bool
}

// FinishSignIn verifies an assertion for the ceremony the browser began.
// lookup returns the account with userID (from the credential's user
// handle) and its passkeys; store.ErrNotFound for none. ErrInvalid when it
// does not verify, including a credential that is not (or no longer) one
// of the account's, and a signature counter that went back.
func (c *Ceremonies) FinishSignIn(ctx context.Context, ceremony string, response json.RawMessage, lookup func(ctx context.Context, userID string) (Account, error)) (Used, error) {
	s, err := c.spend(ctx, ceremony, "sign-in")
	if err != nil {
		return Used{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Used{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var lookupErr error
	var account Account
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		if len(userHandle) != 12 {
			return nil, ErrInvalid
		}
		account, lookupErr = lookup(ctx, hex.EncodeToString(userHandle))
		if lookupErr != nil {
			return nil, lookupErr
		}
		return account, nil
	}
	_, cred, err := c.wa.ValidatePasskeyLogin(handler, s.Session, parsed)
	if lookupErr != nil && !errors.Is(lookupErr, store.ErrNotFound) {
		return Used{}, lookupErr // a store that did not answer
	}
	if err != nil {
		return Used{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if cred.Authenticator.CloneWarning {
		return Used{}, fmt.Errorf("%w: the signature counter went back (a cloned authenticator?)", ErrInvalid)
	}
	return Used{Account: account, PasskeyID: base64.RawURLEncoding.EncodeToString(cred.ID),
		SignCount: cred.Authenticator.SignCount, BackupState: cred.Flags.BackupState}, nil
}

// marshalOptions encodes go-webauthn's options ({"publicKey": …}, binary
// fields base64url) as the JSON scalar carries them.
func marshalOptions(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode passkey options: %w", err)
	}
	return b, nil
}
