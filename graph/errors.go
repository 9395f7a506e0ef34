package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sessiongql/server/internal/apperr"
)

// PresentError is the one place where errors become GraphQL errors. Every
// error leaves with extensions.code; only apperr messages and the GraphQL
// library's request errors reach the client verbatim, anything else is
// logged here and shown as INTERNAL_SERVER_ERROR with a message that reveals
// nothing.
func PresentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		out := &gqlerror.Error{Path: gqlErr.Path, Locations: gqlErr.Locations, Extensions: map[string]any{}}
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae):
			out.Message = ae.Message
			out.Extensions["code"] = ae.Code
			if ae.Field != "" {
				out.Extensions["field"] = ae.Field
			}
			if ae.RetryAfter > 0 {
				out.Extensions["retryAfter"] = int(ae.RetryAfter.Seconds() + 0.999)
			}
		case errors.Is(err, apperr.ErrUnavailable):
			logger.WarnContext(ctx, "store unavailable", "path", gqlErr.Path.String(), "err", err)
			out.Message = "The service is temporarily unavailable. Try again shortly."
			out.Extensions["code"] = apperr.ServiceUnavailable
		case isRequestError(err):
			// The GraphQL library's verdict on the request itself (parse,
			// validation, variable coercion): the client's error.
			out.Message = scrubRequestMessage(gqlErr.Message)
			for k, v := range gqlErr.Extensions {
				out.Extensions[k] = v
			}
			if out.Extensions["code"] == nil {
				out.Extensions["code"] = apperr.BadUserInput
			}
			out.Rule = gqlErr.Rule
		default:
			logger.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", err)
			out.Message = "Internal server error."
			out.Extensions["code"] = apperr.Internal
		}
		return out
	}
}

// isRequestError reports whether err is the GraphQL library's own error
// about the request (parse, validation, variables), as opposed to an error
// a resolver returned: those reach the presenter bare or with a cause.
func isRequestError(err error) bool {
	g, ok := err.(*gqlerror.Error)
	return ok && g.Err == nil
}

// scrubRequestMessage keeps the library's message but never echoes the
// request body, which may hold a password.
func scrubRequestMessage(msg string) string {
	if i := strings.Index(msg, " body:"); i >= 0 && strings.HasPrefix(msg, "json request body could not be decoded") {
		return msg[:i]
	}
	return msg
}

// Recover turns a resolver panic into an error that PresentError logs once,
// with its stack, and presents as INTERNAL_SERVER_ERROR.
func Recover(_ context.Context, p any) error {
	return fmt.Errorf("panic: %v\n%s", p, debug.Stack())
}
