package model

import (
	"encoding/json"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sessiongql/server/internal/apperr"
)

// MarshalJSON writes raw, already encoded JSON (WebAuthn options) as the
// JSON scalar's value.
func MarshalJSON(raw json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		_, _ = w.Write(raw)
	})
}

// UnmarshalJSON reads a JSON scalar's value (a credential, as the browser's
// PublicKeyCredential.toJSON() gives it) back into its encoded form.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, apperr.Input("", "This value must be a JSON object.")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, &apperr.Error{Code: apperr.BadUserInput, Message: "This value must be a JSON object.", Err: err}
	}
	return raw, nil
}
