// Package account is the sign-up and sign-in domain: input rules, password
// hashing and credential checks. It knows nothing of HTTP, cookies or
// GraphQL; the resolvers call it and then start or end the session.
package account

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/store"
)

// Users is what the service needs of the users collection.
type Users interface {
	Create(ctx context.Context, u store.User) (store.User, error)
	ByEmail(ctx context.Context, email string) (store.User, error)
	ByID(ctx context.Context, id string) (store.User, error)
}

// Service registers and authenticates users.
type Service struct {
	users Users
	cost  int
	// dummyHash is compared against when the email is unknown, so that a
	// login spends the same bcrypt time whether or not the account exists.
	dummyHash []byte
}

// NewService returns a Service hashing with bcrypt at cost (4 to 31).
func NewService(users Users, cost int) (*Service, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("dummy password for unknown emails"), cost)
	if err != nil {
		return nil, fmt.Errorf("make dummy hash: %w", err)
	}
	return &Service{users: users, cost: cost, dummyHash: dummy}, nil
}

// RegisterInput is a sign-up request as the client sent it.
type RegisterInput struct {
	Email, Password, Name string
}

// Register validates in, hashes the password and creates the user.
// Errors: BAD_USER_INPUT naming the field, EMAIL_TAKEN, or an unavailable
// store.
func (s *Service) Register(ctx context.Context, in RegisterInput) (store.User, error) {
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
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), s.cost)
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
// email costs the same bcrypt comparison as a wrong password.
func (s *Service) Authenticate(ctx context.Context, email, password string) (store.User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return store.User{}, err
	}
	if len(password) > MaxPasswordBytes {
		return store.User{}, apperr.Input("password", fmt.Sprintf("Password must be at most %d bytes.", MaxPasswordBytes))
	}
	u, err := s.users.ByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return store.User{}, errInvalidCredentials()
	case err != nil:
		return store.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return store.User{}, errInvalidCredentials()
	}
	return u, nil
}

// User returns the user with id; ErrNotFound (from store) when it is gone.
func (s *Service) User(ctx context.Context, id string) (store.User, error) {
	return s.users.ByID(ctx, id)
}
