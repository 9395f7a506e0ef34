// Package apperr is the one error type that carries a client-facing code.
// Domain packages return it for failures a client should branch on; the
// GraphQL edge turns it into extensions.code (and field, retryAfter). Any
// other error reaching a client is presented as INTERNAL_SERVER_ERROR.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Codes clients branch on (docs/API.md, "Errors").
const (
	Unauthenticated    = "UNAUTHENTICATED"
	Forbidden          = "FORBIDDEN"
	BadUserInput       = "BAD_USER_INPUT"
	EmailTaken         = "EMAIL_TAKEN"
	InvalidCredentials = "INVALID_CREDENTIALS"
	// SecondFactorRequired: the password was right; the session cookie
	// now holds a pending sign-in that verifySecondFactor completes.
	SecondFactorRequired = "SECOND_FACTOR_REQUIRED"
	RateLimited          = "RATE_LIMITED"
	ServiceUnavailable   = "SERVICE_UNAVAILABLE"
	Internal             = "INTERNAL_SERVER_ERROR"
)

// ErrUnavailable wraps every failure to reach Redis or MongoDB in time,
// whichever package met it; the GraphQL edge answers SERVICE_UNAVAILABLE
// for it. Wrap it with the operation: fmt.Errorf("load session: %w: %w",
// ErrUnavailable, err).
var ErrUnavailable = errors.New("store unavailable")

// Error is a failure with a code and a message written for people.
type Error struct {
	Code    string
	Message string
	// Field names the input field that broke a rule (BAD_USER_INPUT).
	Field string
	// RetryAfter is how long a RATE_LIMITED client should wait.
	RetryAfter time.Duration
	// Err is the cause, for logs and errors.Is; never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Input reports that field breaks a rule; message says which, for people.
func Input(field, message string) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: message}
}

// New returns an error with code and message and no cause.
func New(code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// CodeOf returns the code of the first *Error in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
