package main

import (
	"strings"
	"testing"
)

func TestRegisterInputRules(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ok := map[string]any{"email": "ok@example.com", "password": "password-123", "name": "Name"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name  string
		input map[string]any
		field string
	}{
		{"empty email", with("email", ""), "email"},
		{"blank email", with("email", "   "), "email"},
		{"no at sign", with("email", "not-an-email"), "email"},
		{"display name form", with("email", "Bob <bob@example.com>"), "email"},
		{"two addresses", with("email", "a@example.com, b@example.com"), "email"},
		{"email over 254 bytes", with("email", strings.Repeat("a", 64)+"@"+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 63)+".com"), "email"},
		{"password of 7 bytes", with("password", "1234567"), "password"},
		{"password of 73 bytes", with("password", strings.Repeat("p", 73)), "password"},
		{"password of 25 three-byte runes (75 bytes)", with("password", strings.Repeat("\u20ac", 25)), "password"},
		{"a common password", with("password", "password1"), "password"},
		{"a keyboard walk", with("password", "qwertyuiop"), "password"},
		{"the email itself", with("password", "ok@example.com"), "password"},
		{"empty name", with("name", ""), "name"},
		{"blank name", with("name", " \t "), "name"},
		{"name of 101 characters", with("name", strings.Repeat("é", 101)), "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.gql(t, c, registerMutation, map[string]any{"i": tt.input})
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != tt.field {
				t.Fatalf("errors %+v, want BAD_USER_INPUT on field %s", r.Errors, tt.field)
			}
			if ts.sessionCookie(t, c) != "" {
				t.Fatal("a refused registration set a cookie")
			}
		})
	}
	// The boundaries themselves are accepted: 8 and 72 bytes (of
	// passwords strong enough), 100 characters.
	for _, in := range []map[string]any{
		{"email": "min-" + randomHex(3) + "@example.com", "password": "k9#Tq2!x", "name": "N"},
		{"email": "max-" + randomHex(3) + "@example.com", "password": randomHex(36), "name": strings.Repeat("é", 100)},
	} {
		if r := ts.gql(t, ts.client(t), registerMutation, map[string]any{"i": in}); len(r.Errors) > 0 {
			t.Fatalf("boundary input %v refused: %+v", in, r.Errors)
		}
	}
}

func TestEmailIsNormalizedAndUniqueCaseInsensitively(t *testing.T) {
	ts := startServer(t, nil)
	local := "Mixed." + randomHex(4)
	r := ts.gql(t, ts.client(t), registerMutation, map[string]any{"i": map[string]any{"email": "  " + local + "@Example.COM ", "password": "password-123", "name": "  Ada  "}})
	var u user
	r.decode(t, "register", &u)
	want := strings.ToLower(local) + "@example.com"
	if u.Email != want || u.Name != "Ada" {
		t.Fatalf("registered %q %q, want %q and trimmed name", u.Email, u.Name, want)
	}
	r = ts.gql(t, ts.client(t), registerMutation, map[string]any{"i": map[string]any{"email": strings.ToUpper(want), "password": "password-456", "name": "Other"}})
	if r.code() != "EMAIL_TAKEN" {
		t.Fatalf("second registration: %+v, want EMAIL_TAKEN", r.Errors)
	}
	// And login accepts any case of the address.
	r = ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": " " + strings.ToUpper(want), "password": "password-123"}})
	if len(r.Errors) > 0 {
		t.Fatalf("login with another case: %+v", r.Errors)
	}
}

func TestLoginDoesNotRevealWhetherAnEmailExists(t *testing.T) {
	ts := startServer(t, nil)
	u, _ := ts.register(t, ts.client(t))
	wrongPassword := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": "wrong-password"}})
	unknownEmail := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": "nobody-" + randomHex(4) + "@example.com", "password": "wrong-password"}})
	for name, r := range map[string]gqlResponse{"wrong password": wrongPassword, "unknown email": unknownEmail} {
		if r.code() != "INVALID_CREDENTIALS" {
			t.Fatalf("%s: %+v, want INVALID_CREDENTIALS", name, r.Errors)
		}
		if len(setCookies(r.HTTP, "sid")) != 0 {
			t.Fatalf("%s: failed login set a cookie", name)
		}
	}
	if wrongPassword.Errors[0].Message != unknownEmail.Errors[0].Message {
		t.Fatalf("messages differ: %q vs %q", wrongPassword.Errors[0].Message, unknownEmail.Errors[0].Message)
	}
	long := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": strings.Repeat("p", 73)}})
	if long.code() != "BAD_USER_INPUT" {
		t.Fatalf("73-byte password at login: %+v, want BAD_USER_INPUT (never truncated)", long.Errors)
	}
}

func TestErrorsNeverShowInternalText(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": "x@example.com", "password": "whatever-123"}})
	for _, e := range r.Errors {
		if e.Extensions["code"] == nil {
			t.Fatalf("error without extensions.code: %+v", e)
		}
		if strings.Contains(strings.ToLower(e.Message), "mongo") || strings.Contains(strings.ToLower(e.Message), "redis") {
			t.Fatalf("message mentions a store: %q", e.Message)
		}
	}
}
