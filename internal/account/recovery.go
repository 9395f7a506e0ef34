package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/mail"
	"github.com/sessiongql/server/internal/onetime"
	"github.com/sessiongql/server/internal/ratelimit"
	"github.com/sessiongql/server/internal/securitylog"
	"github.com/sessiongql/server/internal/store"
)

// Token purposes. A reset token's subject is the address it was mailed
// to (a digest of it), so that a new request ends the earlier link without
// looking the account up; a verification token's subject is the user.
var (
	resetPurpose  = onetime.Purpose{Name: "reset", SubjectLen: 16}
	verifyPurpose = onetime.Purpose{Name: "verify", SubjectLen: 12}
)

// reservedFor is how long a reset request's mail may take to be sent and
// still carry a link: the sender's 24 hours of retries, and some.
const reservedFor = 25 * time.Hour

// emailSubject is the subject of reset tokens mailed to a normalized email.
func emailSubject(email string) []byte {
	sum := sha256.Sum256([]byte("reset:" + email))
	return sum[:resetPurpose.SubjectLen]
}

// userSubject is the subject of a user's verification tokens: their id's
// 12 bytes.
func userSubject(id string) ([]byte, error) {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != verifyPurpose.SubjectLen {
		return nil, fmt.Errorf("user id %q is not an ObjectID", id)
	}
	return b, nil
}

// errBadToken is the one answer for a link's token that is malformed,
// unknown, used, replaced by a newer one, or expired.
func errBadToken() error {
	return apperr.Input("token", "This link is invalid or has expired. Ask for a new one.")
}

// RequestPasswordReset queues a reset link for email and ends any earlier
// one. It does the same work whether or not an account has the address
// (the sender finds out, and mails nobody when none has), so neither the
// answer nor its time tells. Errors: BAD_USER_INPUT for a malformed email,
// RATE_LIMITED beyond the requests allowed per email and per client
// address, or an unavailable store.
func (s *Service) RequestPasswordReset(ctx context.Context, email, clientIP string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	retry, limited, err := s.limiter.Attempt(ctx, ratelimit.Hit{Rule: s.resetEmail, Key: email}, ratelimit.Hit{Rule: s.resetIP, Key: clientIP})
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	if limited {
		return errRateLimited(retry)
	}
	// The request ends the address's earlier link now, and only its own
	// mail will make the next one, whichever queued mail is sent first.
	request := rand.Text()
	if err := s.tokens.Reserve(ctx, resetPurpose, emailSubject(email), request, reservedFor); err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	if err := s.queue(ctx, store.Mail{Kind: mailPasswordReset, To: email, Data: map[string]string{"request": request}}); err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	s.recordResetRequest(ctx, email)
	return nil
}

// recordResetRequest writes the account's PASSWORD_RESET_REQUESTED event,
// with the same work for an unknown address (a lookup, then an event that
// no user's log lists), so the answer's time tells nothing.
func (s *Service) recordResetRequest(ctx context.Context, email string) {
	u, err := s.users.ByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.logger.WarnContext(ctx, "account: reset request not logged", "err", err)
		return
	}
	s.recordAnyone(ctx, u.ID, securitylog.PasswordResetRequested)
}

// ResetPassword sets the password of the account a reset token was
// mailed to, under the rules for new passwords (field newPassword), marks
// its address verified, ends the token, and mails a notice. It returns the
// user with the new CredentialVersion; ending their sessions is the
// caller's part (session.CredentialsChanged), as for ChangePassword. A
// bad, used, replaced or expired token, or one mailed to an address the
// account no longer has, is BAD_USER_INPUT on token; a weak password
// leaves the token usable.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (store.User, error) {
	if err := CheckPassword("newPassword", newPassword); err != nil {
		return store.User{}, err
	}
	// Read without spending, so a refused password does not use the link
	// up, and garbage costs no bcrypt.
	t, err := s.tokens.Peek(ctx, resetPurpose, token)
	if err != nil {
		return store.User{}, tokenError("reset password", err)
	}
	u, err := s.users.ByID(ctx, t.Payload)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errBadToken()
	}
	if err != nil {
		return store.User{}, fmt.Errorf("reset password: %w", err)
	}
	if string(emailSubject(u.Email)) != string(t.Subject) {
		return store.User{}, errBadToken() // mailed to an address they have changed since
	}
	if err := s.checkStrength(ctx, "newPassword", newPassword, u.Email, u.Name); err != nil {
		return store.User{}, err
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return store.User{}, fmt.Errorf("hash password: %w", err)
	}
	spent, err := s.tokens.Spend(ctx, resetPurpose, token)
	if err != nil {
		return store.User{}, tokenError("reset password", err)
	}
	u, err = s.users.ResetPassword(ctx, u.ID, u.Email, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, errBadToken()
	case err != nil:
		s.restore(ctx, spent)
		return store.User{}, fmt.Errorf("reset password: %w", err)
	}
	s.Record(ctx, u.ID, securitylog.PasswordReset)
	s.queueAfter(ctx, "reset password", passwordChangedMail(u))
	return u, nil
}

// VerifyEmail marks an address verified with the token of a verification
// link, and returns the user. A bad, used, replaced or expired token, or
// one for an address the account no longer has, is BAD_USER_INPUT on
// token.
func (s *Service) VerifyEmail(ctx context.Context, token string) (store.User, error) {
	spent, err := s.tokens.Spend(ctx, verifyPurpose, token)
	if err != nil {
		return store.User{}, tokenError("verify email", err)
	}
	u, err := s.users.MarkVerified(ctx, hex.EncodeToString(spent.Subject), spent.Payload)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, errBadToken()
	case err != nil:
		s.restore(ctx, spent)
		return store.User{}, fmt.Errorf("verify email: %w", err)
	}
	s.Record(ctx, u.ID, securitylog.EmailVerified)
	return u, nil
}

// ResendVerification queues a new verification link for the user's
// address (the earlier link stops working when it is made), and reports
// false, sending nothing, when the address is verified already. Throttled
// per user.
func (s *Service) ResendVerification(ctx context.Context, userID string) (bool, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("resend verification: %w", err)
	}
	if u.EmailVerified {
		return false, nil
	}
	retry, limited, err := s.limiter.Attempt(ctx, ratelimit.Hit{Rule: s.resendUser, Key: userID})
	if err != nil {
		return false, fmt.Errorf("resend verification: %w", err)
	}
	if limited {
		return false, errRateLimited(retry)
	}
	if err := s.queue(ctx, verifyMail(u)); err != nil {
		return false, fmt.Errorf("resend verification: %w", err)
	}
	return true, nil
}

func tokenError(op string, err error) error {
	if errors.Is(err, onetime.ErrInvalid) {
		return errBadToken()
	}
	return fmt.Errorf("%s: %w", op, err)
}

// restore puts back a token whose use failed before changing anything.
func (s *Service) restore(ctx context.Context, spent onetime.Spent) {
	if err := s.tokens.Restore(context.WithoutCancel(ctx), spent); err != nil {
		s.logger.WarnContext(ctx, "account: a link used while the database failed could not be restored; it stays used", "err", err)
	}
}

// Kinds of queued mail.
const (
	mailPasswordReset   = "password-reset"
	mailVerifyEmail     = "verify-email"
	mailPasswordChanged = "password-changed"
	mailEmailChanged    = "email-changed"

	mailTotpEnabled              = "totp-enabled"
	mailTotpDisabled             = "totp-disabled"
	mailRecoveryCodeUsed         = "recovery-code-used"
	mailRecoveryCodesRegenerated = "recovery-codes-regenerated"
	mailNewSignIn                = "new-sign-in"
	mailPasskeyAdded             = "passkey-added"
)

// noticeMail is a notice of kind to u's address, with data for its
// template beside the name.
func noticeMail(u store.User, kind string, data map[string]string) store.Mail {
	d := map[string]string{"name": u.Name}
	for k, v := range data {
		d[k] = v
	}
	return store.Mail{Kind: kind, To: u.Email, UserID: u.ID, Data: d}
}

func verifyMail(u store.User) store.Mail {
	return store.Mail{Kind: mailVerifyEmail, To: u.Email, UserID: u.ID}
}

func passwordChangedMail(u store.User) store.Mail {
	return store.Mail{Kind: mailPasswordChanged, To: u.Email, UserID: u.ID, Data: map[string]string{"name": u.Name}}
}

// emailChangedMail is the notice to the address old had.
func emailChangedMail(old store.User, newEmail string) store.Mail {
	return store.Mail{Kind: mailEmailChanged, To: old.Email, UserID: old.ID, Data: map[string]string{"name": old.Name, "newEmail": newEmail}}
}

// queue puts m in the outbox and wakes this instance's sender.
func (s *Service) queue(ctx context.Context, m store.Mail) error {
	if _, err := s.outbox.Enqueue(ctx, m); err != nil {
		return err
	}
	s.wake()
	return nil
}

// queueAfter queues mail that follows a change already made: the
// request has succeeded, so a failure is logged, not returned (the user
// can ask for a verification link again; a notice is lost).
func (s *Service) queueAfter(ctx context.Context, op string, ms ...store.Mail) {
	for _, m := range ms {
		if err := s.queue(ctx, m); err != nil {
			s.logger.ErrorContext(ctx, "account: mail not queued after "+op, "kind", m.Kind, "user", m.UserID, "err", err)
		}
	}
}

// Compose makes the message a queued mail stands for, when the sender
// sends it (mail.Sender): a link's token is made now, so it is never
// stored and its lifetime starts when it is sent. ok is false when there
// is nothing to send: no account has a reset request's address, a newer
// reset request for the address has replaced it, or a verification is
// for an address the account no longer has or has verified since.
func (s *Service) Compose(ctx context.Context, m store.Mail) (msg mail.Message, ok bool, err error) {
	switch m.Kind {
	case mailPasswordReset:
		u, err := s.users.ByEmail(ctx, m.To)
		if errors.Is(err, store.ErrNotFound) {
			return mail.Message{}, false, nil
		}
		if err != nil {
			return mail.Message{}, false, fmt.Errorf("compose reset: %w", err)
		}
		token, err := s.tokens.IssueReserved(ctx, resetPurpose, emailSubject(u.Email), m.Data["request"], u.ID, s.resetTTL)
		if errors.Is(err, onetime.ErrSuperseded) {
			return mail.Message{}, false, nil // a newer request's mail carries the link
		}
		if err != nil {
			return mail.Message{}, false, fmt.Errorf("compose reset: %w", err)
		}
		msg, err = s.mail.PasswordReset(u.Email, u.Name, token, s.resetTTL)
		return msg, err == nil, err
	case mailVerifyEmail:
		u, err := s.users.ByID(ctx, m.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return mail.Message{}, false, nil
		}
		if err != nil {
			return mail.Message{}, false, fmt.Errorf("compose verification: %w", err)
		}
		if u.Email != m.To || u.EmailVerified {
			return mail.Message{}, false, nil
		}
		subject, err := userSubject(u.ID)
		if err != nil {
			return mail.Message{}, false, err
		}
		token, err := s.tokens.Issue(ctx, verifyPurpose, subject, u.Email, s.verifyTTL)
		if err != nil {
			return mail.Message{}, false, fmt.Errorf("compose verification: %w", err)
		}
		msg, err = s.mail.VerifyEmail(u.Email, u.Name, token, s.verifyTTL)
		return msg, err == nil, err
	case mailPasswordChanged:
		msg, err = s.mail.PasswordChanged(m.To, m.Data["name"], m.CreatedAt)
		return msg, err == nil, err
	case mailEmailChanged:
		msg, err = s.mail.EmailChanged(m.To, m.Data["name"], m.Data["newEmail"], m.CreatedAt)
		return msg, err == nil, err
	case mailTotpEnabled:
		msg, err = s.mail.TotpEnabled(m.To, m.Data["name"], m.CreatedAt)
		return msg, err == nil, err
	case mailTotpDisabled:
		msg, err = s.mail.TotpDisabled(m.To, m.Data["name"], m.CreatedAt)
		return msg, err == nil, err
	case mailRecoveryCodeUsed:
		remaining, _ := strconv.Atoi(m.Data["remaining"])
		msg, err = s.mail.RecoveryCodeUsed(m.To, m.Data["name"], m.CreatedAt, remaining)
		return msg, err == nil, err
	case mailRecoveryCodesRegenerated:
		msg, err = s.mail.RecoveryCodesRegenerated(m.To, m.Data["name"], m.CreatedAt)
		return msg, err == nil, err
	case mailPasskeyAdded:
		msg, err = s.mail.PasskeyAdded(m.To, m.Data["name"], m.Data["passkey"], m.CreatedAt)
		return msg, err == nil, err
	case mailNewSignIn:
		msg, err = s.mail.NewSignIn(m.To, m.Data["name"], m.Data["device"], m.Data["ip"], m.CreatedAt)
		return msg, err == nil, err
	}
	return mail.Message{}, false, fmt.Errorf("compose: unknown kind of mail %q", m.Kind)
}
