package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/ratelimit"
	"github.com/sessiongql/server/internal/secretbox"
	"github.com/sessiongql/server/internal/securitylog"
	"github.com/sessiongql/server/internal/store"
	"github.com/sessiongql/server/internal/totp"
)

// Second factor (docs/API.md, "Second factor (TOTP) and recovery codes").

// pendingSetup is how long a TOTP setup waits for its first code.
const pendingSetup = 10 * time.Minute

// SecondFactorRequired is login's (and resetPassword's) answer when the
// password was right and TOTP is on: the caller sets the pending cookie.
func SecondFactorRequired() error {
	return apperr.New(apperr.SecondFactorRequired, "Enter the code from your authenticator app, or a recovery code.")
}

// totpAAD binds a sealed secret to its user, so it cannot be copied to
// another account's document.
func totpAAD(userID string) []byte { return []byte("totp:" + userID) }

func (s *Service) seal(userID string, secret []byte) (store.Sealed, error) {
	sealed, err := s.keys.Seal(secret, totpAAD(userID))
	if err != nil {
		return store.Sealed{}, fmt.Errorf("seal totp secret: %w", err)
	}
	return store.Sealed{KeyID: sealed.KeyID, Data: sealed.Data}, nil
}

func (s *Service) open(userID string, sealed store.Sealed) ([]byte, error) {
	secret, err := s.keys.Open(secretbox.Sealed{KeyID: sealed.KeyID, Data: sealed.Data}, totpAAD(userID))
	if err != nil {
		return nil, fmt.Errorf("open totp secret of %s: %w", userID, err)
	}
	return secret, nil
}

// BeginTotpSetup checks the user's password (counted as a sign-in) and
// returns a new secret, kept encrypted and pending until ConfirmTotpSetup
// within pendingSetup. With TOTP on already it is BAD_USER_INPUT: turn it
// off first.
func (s *Service) BeginTotpSetup(ctx context.Context, userID, currentPassword, clientIP string) (totp.SetupInfo, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return totp.SetupInfo{}, fmt.Errorf("begin totp setup: %w", err)
	}
	if u.TotpEnabled() {
		return totp.SetupInfo{}, apperr.Input("", "Two-step sign-in is on already; turn it off first to use another app.")
	}
	if err := s.checkCurrentPassword(ctx, u, "currentPassword", currentPassword, clientIP); err != nil {
		return totp.SetupInfo{}, err
	}
	secret, err := totp.NewSecret()
	if err != nil {
		return totp.SetupInfo{}, err
	}
	sealed, err := s.seal(u.ID, secret)
	if err != nil {
		return totp.SetupInfo{}, err
	}
	if err := s.users.SetTotpPending(ctx, u.ID, sealed, s.now().Add(pendingSetup)); err != nil {
		return totp.SetupInfo{}, fmt.Errorf("begin totp setup: %w", err)
	}
	return totp.Setup(s.issuer, u.Email, secret)
}

// ConfirmTotpSetup turns TOTP on with the pending secret when code is
// one of its codes (wrong codes count as failed sign-ins), and returns the
// recovery codes, which are kept only hashed.
func (s *Service) ConfirmTotpSetup(ctx context.Context, userID, code, clientIP string) ([]string, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("confirm totp setup: %w", err)
	}
	if u.TotpEnabled() {
		return nil, apperr.Input("code", "Two-step sign-in is on already.")
	}
	if u.TotpPending == nil || !s.now().Before(u.TotpPendingUntil) {
		return nil, apperr.Input("code", "Start the setup again: it waits 10 minutes for a code.")
	}
	secret, err := s.open(u.ID, *u.TotpPending)
	if err != nil {
		return nil, err
	}
	if err := s.checkCode(ctx, u, secret, code, false, clientIP); err != nil {
		return nil, err
	}
	codes, hashes, err := totp.NewRecoveryCodes(totp.RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	if err := s.users.EnableTotp(ctx, u.ID, *u.TotpPending, hashes); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, apperr.Input("code", "Start the setup again: a newer one replaced it.")
		}
		return nil, fmt.Errorf("confirm totp setup: %w", err)
	}
	s.Record(ctx, u.ID, securitylog.TOTPEnabled)
	s.queueAfter(ctx, "enable totp", noticeMail(u, mailTotpEnabled, nil))
	return codes, nil
}

// DisableTotp turns TOTP off: it needs the password (checked first, as a
// sign-in) and a code, TOTP or recovery.
func (s *Service) DisableTotp(ctx context.Context, userID, currentPassword, code, clientIP string) error {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	if !u.TotpEnabled() {
		return apperr.Input("", "Two-step sign-in is off already.")
	}
	if err := s.checkCurrentPassword(ctx, u, "currentPassword", currentPassword, clientIP); err != nil {
		return err
	}
	secret, err := s.open(u.ID, *u.TotpSecret)
	if err != nil {
		return err
	}
	if err := s.checkCode(ctx, u, secret, code, true, clientIP); err != nil {
		return err
	}
	if err := s.users.DisableTotp(ctx, u.ID); err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	s.Record(ctx, u.ID, securitylog.TOTPDisabled)
	s.queueAfter(ctx, "disable totp", noticeMail(u, mailTotpDisabled, nil))
	return nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes after a
// password check; the old ones stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID, currentPassword, clientIP string) ([]string, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("regenerate recovery codes: %w", err)
	}
	if !u.TotpEnabled() {
		return nil, apperr.Input("", "Turn two-step sign-in on first.")
	}
	if err := s.checkCurrentPassword(ctx, u, "currentPassword", currentPassword, clientIP); err != nil {
		return nil, err
	}
	codes, hashes, err := totp.NewRecoveryCodes(totp.RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	if err := s.users.SetRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, fmt.Errorf("regenerate recovery codes: %w", err)
	}
	s.Record(ctx, u.ID, securitylog.RecoveryCodesRegenerated)
	s.queueAfter(ctx, "regenerate recovery codes", noticeMail(u, mailRecoveryCodesRegenerated, nil))
	return codes, nil
}

// VerifySecondFactor checks the second step of userID's sign-in: a TOTP
// code or a recovery code. It is throttled as a sign-in: once limited it
// answers RATE_LIMITED without checking, even the right code. It returns
// the user; signing in is the caller's part.
func (s *Service) VerifySecondFactor(ctx context.Context, userID, code, clientIP string) (store.User, error) {
	u, err := s.users.ByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrInvalidCredentials()
	}
	if err != nil {
		return store.User{}, fmt.Errorf("verify second factor: %w", err)
	}
	if !u.TotpEnabled() {
		return store.User{}, ErrInvalidCredentials() // turned off meanwhile: sign in again
	}
	secret, err := s.open(u.ID, *u.TotpSecret)
	if err != nil {
		return store.User{}, err
	}
	if err := s.checkCode(ctx, u, secret, code, true, clientIP); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// checkCode checks a code of u's: a TOTP code of secret, or with
// recovery a recovery code, which it uses up. Like a password, the
// attempt is counted for u's email and the client address before
// anything is checked; beyond the limits it answers RATE_LIMITED without
// checking. A wrong, replayed or used code is INVALID_CREDENTIALS (field
// code) and a SIGN_IN_FAILED event.
func (s *Service) checkCode(ctx context.Context, u store.User, secret []byte, code string, recovery bool, clientIP string) error {
	hits := []ratelimit.Hit{{Rule: s.loginEmail, Key: u.Email}, {Rule: s.loginIP, Key: clientIP}}
	retry, limited, err := s.limiter.Attempt(ctx, hits...)
	if err != nil {
		return fmt.Errorf("check code: %w", err)
	}
	if limited {
		return errRateLimited(retry)
	}
	var ok bool
	if recovery && totp.LooksLikeRecoveryCode(code) {
		ok, err = s.useRecoveryCode(ctx, u, code)
	} else {
		ok, err = s.acceptTotp(ctx, u, secret, code)
	}
	if err != nil {
		return err
	}
	if !ok {
		s.Record(ctx, u.ID, securitylog.SignInFailed)
		return &apperr.Error{Code: apperr.InvalidCredentials, Field: "code", Message: "The code is not right, or was used already."}
	}
	if err := s.limiter.Reset(ctx, s.loginEmail, u.Email); err != nil {
		return fmt.Errorf("check code: %w", err)
	}
	if err := s.limiter.Release(ctx, hits[1]); err != nil {
		return fmt.Errorf("check code: %w", err)
	}
	return nil
}

// acceptTotp reports whether code is secret's for now (one step of skew
// either way) and its step is later than any accepted before for u, on
// any instance: each step's code works once.
func (s *Service) acceptTotp(ctx context.Context, u store.User, secret []byte, code string) (bool, error) {
	step, ok := totp.Match(secret, code, s.now())
	if !ok {
		return false, nil
	}
	accepted, err := s.steps.Accept(ctx, u.ID, step)
	if err != nil {
		return false, fmt.Errorf("accept totp code: %w", err)
	}
	return accepted, nil
}

// useRecoveryCode spends one of u's recovery codes. The guard in Redis
// makes concurrent uses of one code spend it once, also on FerretDB,
// whose conditional updates read, then write.
func (s *Service) useRecoveryCode(ctx context.Context, u store.User, code string) (bool, error) {
	hash := totp.HashRecoveryCode(code)
	first, err := s.steps.Once(ctx, u.ID, "recovery:"+hash)
	if err != nil || !first {
		return false, err
	}
	remaining, ok, err := s.users.UseRecoveryCode(ctx, u.ID, hash)
	if err != nil || !ok {
		return false, err
	}
	s.Record(ctx, u.ID, securitylog.RecoveryCodeUsed)
	s.queueAfter(ctx, "use recovery code", noticeMail(u, mailRecoveryCodeUsed, map[string]string{"remaining": fmt.Sprint(remaining)}))
	return true, nil
}
