package account

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/store"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" Ada@Example.COM ", "ada@example.com", true},
		{"a.b+tag@sub.example.org", "a.b+tag@sub.example.org", true},
		{"", "", false},
		{"plain", "", false},
		{"Ada <ada@example.com>", "", false},
		{"a@example.com, b@example.com", "", false},
		{strings.Repeat("a", 250) + "@e.co", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("NormalizeEmail(%q): code %q", tt.in, apperr.CodeOf(err))
		}
	}
}

func TestCheckPasswordCountsBytes(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"1234567", false},
		{"12345678", true},
		{strings.Repeat("x", 72), true},
		{strings.Repeat("x", 73), false},
		{strings.Repeat("€", 24), true},  // 72 bytes
		{strings.Repeat("€", 25), false}, // 75 bytes, 25 characters
	}
	for _, tt := range tests {
		if err := CheckPassword("password", tt.pw); (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%d bytes) = %v", len(tt.pw), err)
		}
	}
}

func TestNormalizeNameCountsCharacters(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"  Ada ", "Ada", true},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), true},
		{strings.Repeat("é", 101), "", false},
		{"   ", "", false},
		{"\xff", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeName(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// memUsers is an in-memory Users for the service's own logic; the real
// collection is exercised by the integration tests.
type memUsers struct{ byEmail map[string]store.User }

func (m *memUsers) Create(_ context.Context, u store.User) (store.User, error) {
	if _, ok := m.byEmail[u.Email]; ok {
		return store.User{}, store.ErrEmailTaken
	}
	u.ID = "id-" + u.Email
	m.byEmail[u.Email] = u
	return u, nil
}

func (m *memUsers) ByEmail(_ context.Context, e string) (store.User, error) {
	if u, ok := m.byEmail[e]; ok {
		return u, nil
	}
	return store.User{}, store.ErrNotFound
}

func (m *memUsers) ByID(context.Context, string) (store.User, error) {
	return store.User{}, store.ErrNotFound
}

func TestUnknownEmailSpendsTheSameBcryptCost(t *testing.T) {
	const cost = 6
	s, err := NewService(&memUsers{byEmail: map[string]store.User{}}, cost)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(s.dummyHash); err != nil || c != cost {
		t.Fatalf("dummy hash cost %d (%v), want %d", c, err, cost)
	}
	if _, err := s.Register(context.Background(), RegisterInput{Email: "a@example.com", Password: "password-1", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	_, wrong := s.Authenticate(context.Background(), "a@example.com", "password-2")
	_, unknown := s.Authenticate(context.Background(), "b@example.com", "password-2")
	var a, b *apperr.Error
	if !errors.As(wrong, &a) || !errors.As(unknown, &b) || a.Code != apperr.InvalidCredentials || a.Message != b.Message || a.Code != b.Code {
		t.Fatalf("wrong password %v, unknown email %v: want the same INVALID_CREDENTIALS", wrong, unknown)
	}
	if _, err := s.Register(context.Background(), RegisterInput{Email: "A@example.com", Password: "password-1", Name: "A"}); apperr.CodeOf(err) != apperr.EmailTaken {
		t.Fatalf("duplicate register: %v", err)
	}
}
