// Package model holds the GraphQL models: generated ones in models_gen.go and
// the hand-written Time scalar.
package model

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sessiongql/server/internal/apperr"
)

// timeLayout is RFC 3339 in UTC with exactly three fractional digits, so one
// stored instant always reads the same.
const timeLayout = "2006-01-02T15:04:05.000Z"

// MarshalTime writes t as RFC 3339 in UTC, millisecond precision.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Truncate(time.Millisecond).Format(timeLayout)))
	})
}

// UnmarshalTime reads an RFC 3339 string.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.Input("", "Time must be an RFC 3339 string.")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &apperr.Error{Code: apperr.BadUserInput, Message: "Time must be an RFC 3339 string.", Err: err}
	}
	return t.UTC(), nil
}
