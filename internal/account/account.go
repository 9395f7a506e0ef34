// Package account is the sign-up and sign-in domain: input rules, password
// hashing and credential checks, and the account flows that go by mail
// (password reset, email verification, notices of changes). It knows
// nothing of HTTP, cookies or GraphQL; the resolvers call it and then
// start or end the session.
package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/mail"
	"github.com/sessiongql/server/internal/onetime"
	"github.com/sessiongql/server/internal/passkey"
	"github.com/sessiongql/server/internal/ratelimit"
	"github.com/sessiongql/server/internal/secretbox"
	"github.com/sessiongql/server/internal/securitylog"
	"github.com/sessiongql/server/internal/store"
	"github.com/sessiongql/server/internal/totp"
)

// noEvents records nothing, for a Service built without a security log.
type noEvents struct{}

func (noEvents) Record(context.Context, store.SecurityEvent) {}

// Users is what the service needs of the users collection.
type Users interface {
	Create(ctx context.Context, u store.User) (store.User, error)
	ByEmail(ctx context.Context, email string) (store.User, error)
	ByID(ctx context.Context, id string) (store.User, error)
	SetPassword(ctx context.Context, id string, hash []byte) (store.User, error)
	ResetPassword(ctx context.Context, id, email string, hash []byte) (store.User, error)
	Rehash(ctx context.Context, id string, old, hash []byte) error
	MarkVerified(ctx context.Context, id, email string) (store.User, error)
	UpdateProfile(ctx context.Context, id, email, name string) (store.User, error)

	SetTotpPending(ctx context.Context, id string, secret store.Sealed, until time.Time) error
	EnableTotp(ctx context.Context, id string, secret store.Sealed, recoveryHashes []string) error
	DisableTotp(ctx context.Context, id string) error
	SetRecoveryCodes(ctx context.Context, id string, hashes []string) error
	UseRecoveryCode(ctx context.Context, id, hash string) (remaining int, ok bool, err error)
	SeeDevice(ctx context.Context, id, device string) (bool, error)
}

// Limiter counts password attempts and registrations (internal/ratelimit).
type Limiter interface {
	Attempt(ctx context.Context, hits ...ratelimit.Hit) (retryAfter time.Duration, limited bool, err error)
	Release(ctx context.Context, hits ...ratelimit.Hit) error
	Add(ctx context.Context, hits ...ratelimit.Hit) ([]ratelimit.Count, error)
	Reset(ctx context.Context, rule ratelimit.Rule, key string) error
}

// Limits are the throttling rules (docs/API.md, RATE_LIMITED).
type Limits struct {
	LoginPerEmail  int
	LoginPerIP     int
	LoginWindow    time.Duration
	RegisterPerIP  int
	RegisterWindow time.Duration
}

// Options are a Service's dependencies and settings.
type Options struct {
	Users   Users
	Limiter Limiter
	Limits  Limits
	// BcryptCost is 4 to 31.
	BcryptCost int
	// MinPasswordScore is the least zxcvbn score of a new password.
	MinPasswordScore int

	// Tokens keeps the single-use tokens of mailed links.
	Tokens *onetime.Tokens
	// Outbox queues mail; Wake (may be nil) tells this instance's sender
	// to look at it now.
	Outbox Outbox
	Wake   func()
	// Mail renders messages when the sender composes them.
	Mail *mail.Templates
	// ResetTTL and VerifyTTL are the lifetimes of reset and verification
	// links.
	ResetTTL, VerifyTTL time.Duration
	// Logger receives what a request cannot report: mail that could not
	// be queued after the change it tells of was made.
	Logger *slog.Logger

	// Keys encrypt TOTP secrets at rest; Steps remembers each user's last
	// accepted TOTP step (and spent recovery codes) across instances.
	Keys  *secretbox.Keys
	Steps *totp.Steps
	// Issuer names the account in authenticator apps (APP_NAME).
	Issuer string
	// Events is the security log; Client returns the client address and
	// User-Agent of the request behind a context.
	Events Recorder
	Client func(context.Context) (ip, userAgent string)
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	// Ceremonies run passkey ceremonies; Passkeys keeps the passkeys.
	Ceremonies *passkey.Ceremonies
	Passkeys   PasskeyStore
}

// Outbox is the durable mail queue (store.Outbox).
type Outbox interface {
	Enqueue(ctx context.Context, m store.Mail) (store.Mail, error)
}

// Service registers and authenticates users, and recovers and verifies
// accounts by mail.
type Service struct {
	users    Users
	cost     int
	minScore int
	limiter  Limiter
	// Rules derived from Limits and the recovery limits.
	loginEmail, loginIP, registerIP ratelimit.Rule
	resetEmail, resetIP, resendUser ratelimit.Rule
	// dummyHash is compared against when the email is unknown, so that a
	// login spends the same bcrypt time whether or not the account exists.
	dummyHash []byte
	// workers bounds concurrent bcrypt work to the CPUs, so a storm of
	// logins queues here instead of starving every other request.
	workers chan struct{}

	tokens              *onetime.Tokens
	outbox              Outbox
	wake                func()
	mail                *mail.Templates
	resetTTL, verifyTTL time.Duration
	logger              *slog.Logger

	keys   *secretbox.Keys
	steps  *totp.Steps
	issuer string
	events Recorder
	client func(context.Context) (ip, userAgent string)
	now    func() time.Time

	ceremonies *passkey.Ceremonies
	passkeys   PasskeyStore
}

// Recovery limits (docs/API.md, "Account recovery and email
// verification"): reset requests per email and per client address, and
// verification resends per user, each per hour.
const (
	resetRequestsPerEmail = 3
	resetRequestsPerIP    = 10
	resendsPerUser        = 5
	recoveryWindow        = time.Hour
)

// NewService returns a Service over o.
func NewService(o Options) (*Service, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("dummy password for unknown emails"), o.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("make dummy hash: %w", err)
	}
	l := o.Limits
	s := &Service{
		users: o.Users, cost: o.BcryptCost, minScore: o.MinPasswordScore, dummyHash: dummy, limiter: o.Limiter,
		workers:    make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1)),
		loginEmail: ratelimit.Rule{Name: "login-email", Limit: l.LoginPerEmail, Window: l.LoginWindow},
		loginIP:    ratelimit.Rule{Name: "login-ip", Limit: l.LoginPerIP, Window: l.LoginWindow},
		registerIP: ratelimit.Rule{Name: "register-ip", Limit: l.RegisterPerIP, Window: l.RegisterWindow},
		resetEmail: ratelimit.Rule{Name: "reset-email", Limit: resetRequestsPerEmail, Window: recoveryWindow},
		resetIP:    ratelimit.Rule{Name: "reset-ip", Limit: resetRequestsPerIP, Window: recoveryWindow},
		resendUser: ratelimit.Rule{Name: "resend-user", Limit: resendsPerUser, Window: recoveryWindow},
		tokens:     o.Tokens, outbox: o.Outbox, wake: o.Wake, mail: o.Mail,
		resetTTL: o.ResetTTL, verifyTTL: o.VerifyTTL, logger: o.Logger,
		keys: o.Keys, steps: o.Steps, issuer: o.Issuer, events: o.Events, client: o.Client, now: o.Now,
		ceremonies: o.Ceremonies, passkeys: o.Passkeys,
	}
	if s.events == nil {
		s.events = noEvents{}
	}
	if s.client == nil {
		s.client = func(context.Context) (string, string) { return "", "" }
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.wake == nil {
		s.wake = func() {}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// hash runs bcrypt on the worker pool.
func (s *Service) hash(ctx context.Context, password string) ([]byte, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-s.workers }()
	return bcrypt.GenerateFromPassword([]byte(NormalizePassword(password)), s.cost)
}

// matches reports, using the worker pool, whether password matches hash.
func (s *Service) matches(ctx context.Context, hash []byte, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.workers }()
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil, nil
}

// rehash stores the hash of the normalized form of u's password, which
// matched as typed, so the next sign-in matches the first time. A failure
// costs only that: it is logged, and the sign-in goes on.
func (s *Service) rehash(ctx context.Context, u store.User, password string) {
	hash, err := s.hash(ctx, password)
	if err == nil {
		err = s.users.Rehash(ctx, u.ID, u.PasswordHash, hash)
	}
	if err != nil {
		s.logger.WarnContext(ctx, "account: rehash of a password hashed before normalization failed", "user", u.ID, "err", err)
	}
}

// checkStrength is CheckNewPassword on the worker pool: scoring a
// password is usually a millisecond of CPU, but up to a third of a second
// for 72 bytes crafted to match many patterns. Callers check it only
// behind a throttle or a token, never for anyone's asking.
func (s *Service) checkStrength(ctx context.Context, field, password, email, name string) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-s.workers }()
	return CheckNewPassword(field, password, s.minScore, email, name)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.workers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a password worker: %w", ctx.Err())
	}
}

func errRateLimited(retryAfter time.Duration) error {
	return &apperr.Error{Code: apperr.RateLimited, RetryAfter: retryAfter,
		Message: fmt.Sprintf("Too many attempts. Try again in %d seconds.", int(retryAfter.Seconds()+0.999))}
}

// RegisterInput is a sign-up request as the client sent it.
type RegisterInput struct {
	Email, Password, Name string
}

// Register validates in, hashes the password and creates the user.
// Errors: BAD_USER_INPUT naming the field, RATE_LIMITED after too many
// registrations from clientIP, EMAIL_TAKEN, or an unavailable store.
func (s *Service) Register(ctx context.Context, in RegisterInput, clientIP string) (store.User, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return store.User{}, err
	}
	name, err := NormalizeName(in.Name)
	if err != nil {
		return store.User{}, err
	}
	if err := CheckPassword("password", in.Password); err != nil {
		return store.User{}, err
	}
	counts, err := s.limiter.Add(ctx, ratelimit.Hit{Rule: s.registerIP, Key: clientIP})
	if err != nil {
		return store.User{}, fmt.Errorf("register: %w", err)
	}
	if counts[0].N > s.registerIP.Limit {
		return store.User{}, errRateLimited(counts[0].RetryAfter)
	}
	if err := s.checkStrength(ctx, "password", in.Password, email, name); err != nil {
		return store.User{}, err
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return store.User{}, fmt.Errorf("hash password: %w", err)
	}
	u, err := s.users.Create(ctx, store.User{Email: email, Name: name, PasswordHash: hash})
	if errors.Is(err, store.ErrEmailTaken) {
		return store.User{}, &apperr.Error{Code: apperr.EmailTaken, Field: "email", Message: "An account with this email already exists.", Err: err}
	}
	if err != nil {
		return store.User{}, fmt.Errorf("register: %w", err)
	}
	s.queueAfter(ctx, "register", verifyMail(u))
	s.Record(ctx, u.ID, securitylog.SignedIn)
	s.seeFirstDevice(ctx, u)
	return u, nil
}

// ErrInvalidCredentials is the one answer for an unknown email and a wrong
// password, so a client cannot tell which it was; also for a sign-in that
// a password change overtook.
func ErrInvalidCredentials() error {
	return apperr.New(apperr.InvalidCredentials, "Email or password is incorrect.")
}

// Authenticate returns the user whose email and password match. An unknown
// email costs the same bcrypt comparison as a wrong password. It is
// throttled by checkPassword. The user carries the CredentialVersion the
// check read, for the session to be created with.
func (s *Service) Authenticate(ctx context.Context, email, password, clientIP string) (store.User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	if len(password) > MaxPasswordBytes {
		return store.User{}, apperr.Input("password", fmt.Sprintf("Password must be at most %d bytes.", MaxPasswordBytes))
	}
	return s.checkPassword(ctx, email, password, clientIP, func(ctx context.Context) (store.User, error) {
		return s.users.ByEmail(ctx, email)
	})
}

// checkPassword is every password check: sign-in, and the current
// password of changePassword and updateMe. The attempt is counted for the
// email and the client address before anything is read or compared, so
// however many arrive at once no more than the limits are checked; beyond
// them it answers RATE_LIMITED without checking. A wrong password (or an
// unknown email, compared against a dummy hash for the same time) stays
// counted and answers INVALID_CREDENTIALS; a right one clears the email's
// count and gives the address its attempt back, unless the user has a
// second factor, whose right code does that instead. lookup reads the
// user.
func (s *Service) checkPassword(ctx context.Context, email, password, clientIP string, lookup func(context.Context) (store.User, error)) (store.User, error) {
	hits := []ratelimit.Hit{{Rule: s.loginEmail, Key: email}, {Rule: s.loginIP, Key: clientIP}}
	retry, limited, err := s.limiter.Attempt(ctx, hits...)
	if err != nil {
		return store.User{}, fmt.Errorf("check password: %w", err)
	}
	if limited {
		return store.User{}, errRateLimited(retry)
	}
	u, err := lookup(ctx)
	hash := u.PasswordHash
	switch {
	case errors.Is(err, store.ErrNotFound):
		hash = s.dummyHash
	case err != nil:
		return store.User{}, fmt.Errorf("check password: %w", err)
	}
	ok, err := s.matches(ctx, hash, NormalizePassword(password))
	if err != nil {
		return store.User{}, err
	}
	if !ok && NormalizePassword(password) != password {
		// Perhaps hashed before passwords were normalized, as typed then
		// (compared for unknown emails too, to take the same time).
		if ok, err = s.matches(ctx, hash, password); err != nil {
			return store.User{}, err
		}
		if ok && u.ID != "" {
			s.rehash(ctx, u, password)
		}
	}
	if !ok {
		s.recordAnyone(ctx, u.ID, securitylog.SignInFailed) // an unknown email too: the same time
	}
	if !ok || u.ID == "" {
		return store.User{}, ErrInvalidCredentials()
	}
	if u.TotpEnabled() {
		// Half a sign-in clears nothing: else the password would buy a
		// fresh allowance of code guesses every time.
		return u, nil
	}
	if err := s.limiter.Reset(ctx, s.loginEmail, email); err != nil {
		return store.User{}, fmt.Errorf("check password: %w", err)
	}
	if err := s.limiter.Release(ctx, hits[1]); err != nil {
		return store.User{}, fmt.Errorf("check password: %w", err)
	}
	return u, nil
}

// User returns the user with id; ErrNotFound (from store) when it is gone.
func (s *Service) User(ctx context.Context, id string) (store.User, error) {
	return s.users.ByID(ctx, id)
}

// checkCurrentPassword checks the signed-in user's current password
// (checkPassword: counted and throttled as a sign-in with their email);
// a wrong one is INVALID_CREDENTIALS naming field.
func (s *Service) checkCurrentPassword(ctx context.Context, u store.User, field, password, clientIP string) error {
	if len(password) > MaxPasswordBytes {
		return apperr.Input(field, fmt.Sprintf("Password must be at most %d bytes.", MaxPasswordBytes))
	}
	_, err := s.checkPassword(ctx, u.Email, password, clientIP, func(context.Context) (store.User, error) { return u, nil })
	if apperr.CodeOf(err) == apperr.InvalidCredentials {
		return &apperr.Error{Code: apperr.InvalidCredentials, Field: field, Message: "The current password is incorrect."}
	}
	return err
}

// ChangePassword checks the user's current password (checkCurrentPassword),
// applies the password rules to the new one (field newPassword), stores
// its hash and returns the user with the new CredentialVersion. Ending the
// user's other sessions is the caller's part (session.CredentialsChanged).
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, clientIP string) (store.User, error) {
	if err := CheckPassword("newPassword", next); err != nil {
		return store.User{}, err
	}
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return store.User{}, fmt.Errorf("change password: %w", err)
	}
	if err := s.checkCurrentPassword(ctx, u, "currentPassword", current, clientIP); err != nil {
		return store.User{}, err
	}
	if err := s.checkStrength(ctx, "newPassword", next, u.Email, u.Name); err != nil {
		return store.User{}, err
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return store.User{}, fmt.Errorf("hash password: %w", err)
	}
	u, err = s.users.SetPassword(ctx, userID, hash)
	if err != nil {
		return store.User{}, fmt.Errorf("change password: %w", err)
	}
	s.Record(ctx, u.ID, securitylog.PasswordChanged)
	s.queueAfter(ctx, "change password", passwordChangedMail(u))
	return u, nil
}

// ProfileChange is an updateMe request: nil leaves a field as it is.
// Changing the email needs CurrentPassword.
type ProfileChange struct {
	Email, Name, CurrentPassword *string
}

// UpdateProfile changes the user's email and/or name under the
// registration rules, and returns the user. A new email needs the current
// password (missing: BAD_USER_INPUT on currentPassword; wrong:
// INVALID_CREDENTIALS, counted as a failed sign-in), checked before the
// email is looked at, so nobody learns which emails are taken without it.
// A new email is unverified: a verification link goes to it, and a notice
// to the old one.
func (s *Service) UpdateProfile(ctx context.Context, userID string, c ProfileChange, clientIP string) (store.User, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return store.User{}, fmt.Errorf("update profile: %w", err)
	}
	newEmail, newName := u.Email, u.Name
	if c.Email != nil {
		if newEmail, err = NormalizeEmail(*c.Email); err != nil {
			return store.User{}, err
		}
	}
	if c.Name != nil {
		if newName, err = NormalizeName(*c.Name); err != nil {
			return store.User{}, err
		}
	}
	if newEmail != u.Email {
		if c.CurrentPassword == nil || *c.CurrentPassword == "" {
			return store.User{}, apperr.Input("currentPassword", "Enter your current password to change your email.")
		}
		if err := s.checkCurrentPassword(ctx, u, "currentPassword", *c.CurrentPassword, clientIP); err != nil {
			return store.User{}, err
		}
	}
	old := u
	u, err = s.users.UpdateProfile(ctx, userID, newEmail, newName)
	if errors.Is(err, store.ErrEmailTaken) {
		return store.User{}, &apperr.Error{Code: apperr.EmailTaken, Field: "email", Message: "An account with this email already exists.", Err: err}
	}
	if err != nil {
		return store.User{}, fmt.Errorf("update profile: %w", err)
	}
	if u.Email != old.Email {
		s.Record(ctx, u.ID, securitylog.EmailChanged)
		s.queueAfter(ctx, "update profile", verifyMail(u), emailChangedMail(old, u.Email))
	}
	return u, nil
}
