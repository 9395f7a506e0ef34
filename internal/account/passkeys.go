package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/passkey"
	"github.com/sessiongql/server/internal/ratelimit"
	"github.com/sessiongql/server/internal/securitylog"
	"github.com/sessiongql/server/internal/store"
)

// Passkeys (docs/API.md, "Passkeys (WebAuthn)").

// PasskeyStore is what the service needs of the passkeys collection.
type PasskeyStore interface {
	Add(ctx context.Context, k store.Passkey) (store.Passkey, error)
	ByUser(ctx context.Context, userID string) ([]store.Passkey, error)
	Remove(ctx context.Context, userID, id string) (bool, error)
	Used(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error
}

// maxPasskeyName is the longest name of a passkey, in characters.
const maxPasskeyName = 100

func (s *Service) passkeyAccount(ctx context.Context, userID string) (passkey.Account, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return passkey.Account{}, err
	}
	keys, err := s.passkeys.ByUser(ctx, userID)
	if err != nil {
		return passkey.Account{}, err
	}
	return passkey.Account{ID: u.ID, Email: u.Email, Name: u.Name, Passkeys: keys}, nil
}

// Passkeys returns the user's passkeys, newest first.
func (s *Service) Passkeys(ctx context.Context, userID string) ([]store.Passkey, error) {
	return s.passkeys.ByUser(ctx, userID)
}

// BeginPasskeyRegistration returns the creation options of a new passkey
// for the user, the ceremony bound to the browser's ceremony value.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, userID, ceremony string) (json.RawMessage, error) {
	a, err := s.passkeyAccount(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	return s.ceremonies.BeginRegistration(ctx, ceremony, a)
}

// FinishPasskeyRegistration verifies the browser's response and keeps
// the passkey under name (trimmed, 1 to 100 characters). A response that
// does not verify is INVALID_CREDENTIALS.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, userID, ceremony, name string, response json.RawMessage) (store.Passkey, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > maxPasskeyName || !utf8.ValidString(name) {
		return store.Passkey{}, apperr.Input("name", fmt.Sprintf("Name the passkey in 1 to %d characters.", maxPasskeyName))
	}
	a, err := s.passkeyAccount(ctx, userID)
	if err != nil {
		return store.Passkey{}, fmt.Errorf("finish passkey registration: %w", err)
	}
	k, err := s.ceremonies.FinishRegistration(ctx, ceremony, a, response)
	if errors.Is(err, passkey.ErrInvalid) {
		return store.Passkey{}, errPasskeyInvalid()
	}
	if err != nil {
		return store.Passkey{}, err
	}
	k.Name = name
	k, err = s.passkeys.Add(ctx, k)
	if errors.Is(err, store.ErrPasskeyTaken) {
		return store.Passkey{}, apperr.Input("credential", "This passkey is registered already.")
	}
	if err != nil {
		return store.Passkey{}, fmt.Errorf("finish passkey registration: %w", err)
	}
	s.Record(ctx, userID, securitylog.PasskeyAdded)
	u := store.User{ID: a.ID, Email: a.Email, Name: a.Name}
	s.queueAfter(ctx, "add passkey", noticeMail(u, mailPasskeyAdded, map[string]string{"passkey": name}))
	return k, nil
}

// RemovePasskey removes the user's passkey with id, reporting whether it
// was one of theirs: another user's stays.
func (s *Service) RemovePasskey(ctx context.Context, userID, id string) (bool, error) {
	removed, err := s.passkeys.Remove(ctx, userID, id)
	if err != nil {
		return false, fmt.Errorf("remove passkey: %w", err)
	}
	if removed {
		s.Record(ctx, userID, securitylog.PasskeyRemoved)
	}
	return removed, nil
}

// BeginPasskeySignIn returns request options for a discoverable
// credential, the ceremony bound to the browser's ceremony value.
func (s *Service) BeginPasskeySignIn(ctx context.Context, ceremony string) (json.RawMessage, error) {
	return s.ceremonies.BeginSignIn(ctx, ceremony)
}

// FinishPasskeySignIn verifies an assertion and returns its user (with
// the credential version signing in checks). Each attempt counts against
// the client address's login limit before it is checked, and a success
// gives it back; beyond the limit it answers RATE_LIMITED without
// checking. A failure is INVALID_CREDENTIALS.
func (s *Service) FinishPasskeySignIn(ctx context.Context, ceremony string, response json.RawMessage, clientIP string) (store.User, error) {
	hit := ratelimit.Hit{Rule: s.loginIP, Key: clientIP}
	retry, limited, err := s.limiter.Attempt(ctx, hit)
	if err != nil {
		return store.User{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	if limited {
		return store.User{}, errRateLimited(retry)
	}
	var user store.User
	used, err := s.ceremonies.FinishSignIn(ctx, ceremony, response, func(ctx context.Context, userID string) (passkey.Account, error) {
		u, err := s.users.ByID(ctx, userID)
		if err != nil {
			return passkey.Account{}, err
		}
		user = u
		keys, err := s.passkeys.ByUser(ctx, userID)
		if err != nil {
			return passkey.Account{}, err
		}
		return passkey.Account{ID: u.ID, Email: u.Email, Name: u.Name, Passkeys: keys}, nil
	})
	if errors.Is(err, passkey.ErrInvalid) {
		s.recordAnyone(ctx, user.ID, securitylog.SignInFailed)
		return store.User{}, errPasskeyInvalid()
	}
	if err != nil {
		return store.User{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	if err := s.passkeys.Used(ctx, used.PasskeyID, used.SignCount, used.BackupState, s.now()); err != nil {
		return store.User{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	if err := s.limiter.Release(ctx, hit); err != nil {
		return store.User{}, fmt.Errorf("passkey sign-in: %w", err)
	}
	return user, nil
}

func errPasskeyInvalid() error {
	return apperr.New(apperr.InvalidCredentials, "The passkey could not be verified. Try again.")
}
