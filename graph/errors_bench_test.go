package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sessiongql/server/internal/apperr"
)

func TestPresentErrorCodesAndHidesInternals(t *testing.T) {
	present := PresentError(slog.New(slog.DiscardHandler))
	tests := []struct {
		name     string
		err      error
		code     string
		message  string
		field    any
		hideText string
	}{
		{"app error", apperr.Input("email", "Email is required."), "BAD_USER_INPUT", "Email is required.", "email", ""},
		{"wrapped app error", fmt.Errorf("register: %w", apperr.New(apperr.EmailTaken, "taken")), "EMAIL_TAKEN", "taken", nil, ""},
		{"store down", fmt.Errorf("load: %w: %w", apperr.ErrUnavailable, errors.New("dial tcp 10.1.2.3:6379: refused")), "SERVICE_UNAVAILABLE", "", nil, "10.1.2.3"},
		{"internal", errors.New("mongo: secret-host:27017 auth failed for user admin"), "INTERNAL_SERVER_ERROR", "Internal server error.", nil, "secret-host"},
		{"library", &gqlerror.Error{Message: "Cannot query field \"x\"", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}, "GRAPHQL_VALIDATION_FAILED", "Cannot query field \"x\"", nil, ""},
		{"body echo", &gqlerror.Error{Message: "json request body could not be decoded: bad body:{\"password\":\"hunter2\"}"}, "BAD_USER_INPUT", "json request body could not be decoded: bad", nil, "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := present(context.Background(), tt.err)
			if got.Extensions["code"] != tt.code || (tt.message != "" && got.Message != tt.message) || got.Extensions["field"] != tt.field {
				t.Fatalf("presented %q %v, want %s %q field %v", got.Message, got.Extensions, tt.code, tt.message, tt.field)
			}
			if tt.hideText != "" && (contains(got.Message, tt.hideText) || contains(fmt.Sprint(got.Extensions), tt.hideText)) {
				t.Fatalf("presented error shows %q: %q", tt.hideText, got.Message)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// BenchmarkPresentError measures turning each kind of error into a GraphQL
// error.
func BenchmarkPresentError(b *testing.B) {
	present := PresentError(slog.New(slog.DiscardHandler))
	for _, bc := range []struct {
		name string
		err  error
	}{
		{"app error", apperr.Input("email", "Email is required.")},
		{"unavailable", fmt.Errorf("x: %w", apperr.ErrUnavailable)},
		{"library", &gqlerror.Error{Message: "bad", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}},
		{"internal", errors.New("boom")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_ = present(ctx, bc.err)
			}
		})
	}
}
