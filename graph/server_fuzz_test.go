package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// secret stands for a password in a request. Wherever it sits in the
// variables' values, no answer may repeat it.
const secret = "hunter2secret"

// fuzzHandler is the real GraphQL handler without stores: operations that
// reach a resolver needing one fail inside gqlgen, which recovers and
// answers INTERNAL_SERVER_ERROR; the HTTP layer must still behave.
var fuzzHandler = sync.OnceValue(func() http.Handler {
	return NewServer(&Resolver{}, ServerOptions{
		Introspection: true,
		MaxDepth:      15,
		MaxComplexity: 2000,
		Logger:        slog.New(slog.DiscardHandler),
	})
})

// requestSeeds are GraphQL requests that exercise parsing, validation,
// limits and variable coercion.
var requestSeeds = []struct{ query, variables, operationName, extensions string }{
	{"{ me { id email name createdAt } }", "", "", ""},
	{"query Me { me { id } }", `{}`, "Me", ""},
	{"query { __schema { queryType { name } types { name kind fields { name type { name kind ofType { name kind ofType { name } } } } } } }", "", "", ""},
	{"query($n: String!) { __type(name: $n) { name fields { name } } }", `{"n":"` + secret + `"}`, "", ""},
	{"mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { id } }", `{"e":"a@example.com","p":"` + secret + `"}`, "", ""},
	{"mutation($i: RegisterInput!) { register(input: $i) { id } }", `{"i":{"email":"a@example.com","password":"` + secret + `","name":"A"}}`, "", ""},
	{"mutation($i: RegisterInput!) { register(input: $i) { id } }", `{"i":{"email":1,"password":["` + secret + `"],"name":{"x":"` + secret + `"}}}`, "", ""},
	{"mutation($i: ChangePasswordInput!) { changePassword(input: $i) }", `{"i":{"currentPassword":"` + secret + `","newPassword":"` + secret + `","extra":"` + secret + `"}}`, "", ""},
	{"query($id: ID!, $g: Int!) { deck(id: $id) { id } }", `{"id":"` + secret + `","g":"` + secret + `"}`, "", ""},
	{"mutation($id: ID!, $g: Int!) { reviewCard(id: $id, grade: $g) { id } }", `{"id":"x","g":"` + secret + `"}`, "", ""},
	{"query($f: Boolean!) { me @include(if: $f) { id } }", `{"f":"` + secret + `"}`, "", ""},
	{"mutation { logout }", "", "", ""},
	{"subscription { sessionEnded { reason } }", "", "", ""},
	{"{ decks { cards(first: 100) { edges { node { deck { cards(first: 100) { edges { node { deck { id } } } } } } } } } }", "", "", ""},
	{"{ decks { cards { edges { node { deck { cards { edges { node { deck { cards { edges { node { deck { cards { edges { node { id } } } } } } } } } } } } } } } } }", "", "", ""},
	{"{ " + strings.Repeat("a: me { id } ", 3) + "}", "", "", ""},
	{"{ " + aliases(500) + " }", "", "", ""},
	{"query A { me { id } } query B { me { name } }", "", "", ""},
	{"query A { me { id } } query B { me { name } }", "", "C", ""},
	{"fragment F on Query { ...F } { ...F }", "", "", ""},
	{"{ me { id ", "", "", ""},
	{"", "", "", `{"persistedQuery":{"version":1,"sha256Hash":"ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}`},
	{"{ me { id } }", "", "", `{"persistedQuery":{"version":1,"sha256Hash":"` + secret + `"}}`},
	{"{ me { id } }", `{"x":"` + secret + `"}`, "", `{"persistedQuery":{"version":2}}`},
	{"{ me { id } }", `["` + secret + `"]`, "", ""},
	{"{ me { id } }", `"` + secret + `"`, "", ""},
	{"{ me { id } }", `{"x":"` + secret, "", ""},
	{"{ me { id } }", "", "", `"x"`},
}

func aliases(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("a")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(": __typename ")
	}
	return b.String()
}

// FuzzGraphQLPost sends raw JSON bodies: the handler must return, never
// answer 5xx, always answer JSON, and never repeat the secret from the
// variables' values.
func FuzzGraphQLPost(f *testing.F) {
	for _, s := range requestSeeds {
		body := map[string]json.RawMessage{"query": mustJSON(s.query)}
		if s.operationName != "" {
			body["operationName"] = mustJSON(s.operationName)
		}
		if s.variables != "" {
			body["variables"] = json.RawMessage(s.variables)
		}
		if s.extensions != "" {
			body["extensions"] = json.RawMessage(s.extensions)
		}
		b, err := json.Marshal(body)
		if err != nil {
			// Seeds with malformed variables go in as text.
			b = []byte(`{"query":` + string(mustJSON(s.query)) + `,"variables":` + s.variables + `}`)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `{`, `null`, `[]`, `"` + secret + `"`, `{"query": ` + secret + `}`, `{"query":"{me{id}}","variables":{"p":"` + secret + `"}} trailing`,
		`{"query":1}`, `{"query":"{me{id}}","variables":"` + secret + `"}`, `{"query":"{me{id}}","extensions":[1]}`,
		`{"query":"{me{id}}","operationName":{"` + secret + `":1}}`, `{"Query":"{me{id}}","VARIABLES":{"p":"` + secret + `"}}`,
		`{"query":"{me{id}}","variables":{"p":"hunter2\u0073ecret"}}`, `{"query":"` + strings.Repeat("{", 10000) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		check(t, r, secretMayEcho(body))
	})
}

// FuzzGraphQLGet sends the four GET parameters with the preflight header.
func FuzzGraphQLGet(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add(s.query, s.variables, s.operationName, s.extensions)
	}
	f.Add("{ me { id } }", `{"p":"`+secret+`"`, "", "")
	f.Add("mutation { logout }", `{"p":"`+secret+`"}`, "", "")
	f.Add("{ me { id } }", "", secret, "")
	f.Fuzz(func(t *testing.T, query, variables, operationName, extensions string) {
		v := url.Values{}
		for k, s := range map[string]string{"query": query, "variables": variables, "operationName": operationName, "extensions": extensions} {
			if s != "" {
				v.Set(k, s)
			}
		}
		r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		r.URL.RawQuery = v.Encode()
		r.Header.Set("Apollo-Require-Preflight", "1")
		mayEcho := strings.Contains(query+operationName+extensions, secret) || secretMayEcho(mustJSON(map[string]json.RawMessage{"variables": json.RawMessage(variables)}))
		check(t, r, mayEcho)
	})
}

// check serves r and applies the properties every answer must have.
func check(t *testing.T, r *http.Request, mayEchoSecret bool) {
	t.Helper()
	w := httptest.NewRecorder()
	fuzzHandler().ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if !json.Valid(body) {
		t.Fatalf("status %d, body is not JSON: %q", res.StatusCode, body)
	}
	if !mayEchoSecret && bytes.Contains(body, []byte(secret)) {
		t.Fatalf("the answer repeats the secret from the variables: %s", body)
	}
}

// secretMayEcho reports whether the secret appears in body outside the
// string values of "variables" (in the query, an operation name, a key),
// where an answer may legitimately quote it. Bodies that are not a JSON
// object never make it legitimate: the server cannot read them as a request.
func secretMayEcho(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return false
	}
	for k, v := range top {
		if strings.EqualFold(k, "variables") {
			top[k] = withoutStrings(v)
		}
	}
	b, err := json.Marshal(top)
	return err != nil || bytes.Contains(b, []byte(secret))
}

// withoutStrings blanks every string value in v, keeping object keys.
func withoutStrings(v any) any {
	switch v := v.(type) {
	case string:
		return ""
	case []any:
		for i := range v {
			v[i] = withoutStrings(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = withoutStrings(v[k])
		}
	}
	return v
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return b
}
