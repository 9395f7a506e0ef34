// Package account is the sign-up and sign-in domain: input rules, password
// hashing and credential checks. It knows nothing of HTTP, cookies or
// GraphQL; the resolvers call it and then start or end the session.
package account

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/ratelimit"
	"github.com/sessiongql/server/internal/store"
)

// Users is what the service needs of the users collection.
type Users interface {
	Create(ctx context.Context, u store.User) (store.User, error)
	ByEmail(ctx context.Context, email string) (store.User, error)
	ByID(ctx context.Context, id string) (store.User, error)
	SetPasswordHash(ctx context.Context, id string, hash []byte) error
	UpdateProfile(ctx context.Context, id, email, name string) (store.User, error)
}

// Limiter counts failed logins and registrations (internal/ratelimit).
type Limiter interface {
	CheckAll(ctx context.Context, hits ...ratelimit.Hit) (retryAfter time.Duration, limited bool, err error)
	Add(ctx context.Context, hits ...ratelimit.Hit) ([]ratelimit.Count, error)
	Reset(ctx context.Context, rule ratelimit.Rule, key string) error
}

// Limits are the throttling rules (API.md, RATE_LIMITED).
type Limits struct {
	LoginPerEmail  int
	LoginPerIP     int
	LoginWindow    time.Duration
	RegisterPerIP  int
	RegisterWindow time.Duration
}

// Service registers and authenticates users.
type Service struct {
	users   Users
	cost    int
	limiter Limiter
	// Rules derived from Limits.
	loginEmail, loginIP, registerIP ratelimit.Rule
	// dummyHash is compared against when the email is unknown, so that a
	// login spends the same bcrypt time whether or not the account exists.
	dummyHash []byte
	// workers bounds concurrent bcrypt work to the CPUs, so a storm of
	// logins queues here instead of starving every other request.
	workers chan struct{}
}

// NewService returns a Service hashing with bcrypt at cost (4 to 31) and
// throttling through limiter.
func NewService(users Users, cost int, limiter Limiter, limits Limits) (*Service, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("dummy password for unknown emails"), cost)
	if err != nil {
		return nil, fmt.Errorf("make dummy hash: %w", err)
	}
	return &Service{
		users: users, cost: cost, dummyHash: dummy, limiter: limiter,
		workers:    make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1)),
		loginEmail: ratelimit.Rule{Name: "login-email", Limit: limits.LoginPerEmail, Window: limits.LoginWindow},
		loginIP:    ratelimit.Rule{Name: "login-ip", Limit: limits.LoginPerIP, Window: limits.LoginWindow},
		registerIP: ratelimit.Rule{Name: "register-ip", Limit: limits.RegisterPerIP, Window: limits.RegisterWindow},
	}, nil
}

// hash runs bcrypt on the worker pool.
func (s *Service) hash(ctx context.Context, password string) ([]byte, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-s.workers }()
	return bcrypt.GenerateFromPassword([]byte(password), s.cost)
}

// matches reports, using the worker pool, whether password matches hash.
func (s *Service) matches(ctx context.Context, hash []byte, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.workers }()
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil, nil
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
	if err := CheckPassword("password", in.Password); err != nil {
		return store.User{}, err
	}
	name, err := NormalizeName(in.Name)
	if err != nil {
		return store.User{}, err
	}
	counts, err := s.limiter.Add(ctx, ratelimit.Hit{Rule: s.registerIP, Key: clientIP})
	if err != nil {
		return store.User{}, fmt.Errorf("register: %w", err)
	}
	if counts[0].N > s.registerIP.Limit {
		return store.User{}, errRateLimited(counts[0].RetryAfter)
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
	return u, nil
}

// errInvalidCredentials is the one answer for an unknown email and a wrong
// password, so a client cannot tell which it was.
func errInvalidCredentials() error {
	return apperr.New(apperr.InvalidCredentials, "Email or password is incorrect.")
}

// Authenticate returns the user whose email and password match. An unknown
// email costs the same bcrypt comparison as a wrong password. After too
// many failures for the email or from clientIP it answers RATE_LIMITED
// without looking at the password; a success clears the email's count.
func (s *Service) Authenticate(ctx context.Context, email, password, clientIP string) (store.User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	if len(password) > MaxPasswordBytes {
		return store.User{}, apperr.Input("password", fmt.Sprintf("Password must be at most %d bytes.", MaxPasswordBytes))
	}
	hits := []ratelimit.Hit{{Rule: s.loginEmail, Key: email}, {Rule: s.loginIP, Key: clientIP}}
	retry, limited, err := s.limiter.CheckAll(ctx, hits...)
	if err != nil {
		return store.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if limited {
		return store.User{}, errRateLimited(retry)
	}
	u, err := s.users.ByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, err := s.matches(ctx, s.dummyHash, password); err != nil {
			return store.User{}, err
		}
		return store.User{}, s.failed(ctx, hits)
	case err != nil:
		return store.User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := s.matches(ctx, u.PasswordHash, password)
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		return store.User{}, s.failed(ctx, hits)
	}
	if err := s.limiter.Reset(ctx, s.loginEmail, email); err != nil {
		return store.User{}, fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

// failed counts a failed login and answers INVALID_CREDENTIALS.
func (s *Service) failed(ctx context.Context, hits []ratelimit.Hit) error {
	if _, err := s.limiter.Add(ctx, hits...); err != nil {
		return fmt.Errorf("count failed login: %w", err)
	}
	return errInvalidCredentials()
}

// User returns the user with id; ErrNotFound (from store) when it is gone.
func (s *Service) User(ctx context.Context, id string) (store.User, error) {
	return s.users.ByID(ctx, id)
}

// ChangePassword checks the user's current password (INVALID_CREDENTIALS
// on mismatch), applies the password rules to the new one (field
// newPassword), stores its hash and returns the user. Ending the user's
// other sessions is the caller's part.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next string) (store.User, error) {
	if len(current) > MaxPasswordBytes {
		return store.User{}, apperr.Input("currentPassword", fmt.Sprintf("Password must be at most %d bytes.", MaxPasswordBytes))
	}
	if err := CheckPassword("newPassword", next); err != nil {
		return store.User{}, err
	}
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return store.User{}, fmt.Errorf("change password: %w", err)
	}
	ok, err := s.matches(ctx, u.PasswordHash, current)
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		return store.User{}, &apperr.Error{Code: apperr.InvalidCredentials, Field: "currentPassword", Message: "The current password is incorrect."}
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return store.User{}, fmt.Errorf("hash password: %w", err)
	}
	if err := s.users.SetPasswordHash(ctx, userID, hash); err != nil {
		return store.User{}, fmt.Errorf("change password: %w", err)
	}
	return u, nil
}

// UpdateProfile changes the user's email and/or name (nil leaves one as
// it is) under the registration rules, and returns the user.
func (s *Service) UpdateProfile(ctx context.Context, userID string, email, name *string) (store.User, error) {
	u, err := s.users.ByID(ctx, userID)
	if err != nil {
		return store.User{}, fmt.Errorf("update profile: %w", err)
	}
	newEmail, newName := u.Email, u.Name
	if email != nil {
		if newEmail, err = NormalizeEmail(*email); err != nil {
			return store.User{}, err
		}
	}
	if name != nil {
		if newName, err = NormalizeName(*name); err != nil {
			return store.User{}, err
		}
	}
	u, err = s.users.UpdateProfile(ctx, userID, newEmail, newName)
	if errors.Is(err, store.ErrEmailTaken) {
		return store.User{}, &apperr.Error{Code: apperr.EmailTaken, Field: "email", Message: "An account with this email already exists.", Err: err}
	}
	if err != nil {
		return store.User{}, fmt.Errorf("update profile: %w", err)
	}
	return u, nil
}
