package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// testExecutor runs the schema without stores: enough for __typename and
// for every error found before a resolver runs.
func testExecutor() *executor.Executor {
	exec := executor.New(NewExecutableSchema(Config{Resolvers: &Resolver{}, Directives: DirectiveRoot{Auth: Auth}}))
	exec.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](10)})
	return exec
}

// accepts are Accept headers clients send, and some they should not.
var accepts = []string{
	"", "application/json", "application/graphql-response+json", "*/*", "application/*",
	"application/graphql-response+json, application/json;q=0.9", "application/json;q=0.9, application/graphql-response+json",
	"text/html", "text/html, */*;q=0.1", "application/JSON", "garbage;;", "multipart/mixed;deferSpec=20220824, application/json",
}

// Apart from what they refuse, the transports answer as gqlgen's do
// (status, Content-Type and body, for every Accept header) except where
// GraphQL over HTTP wants otherwise: see specAnswer.
func TestTransportsAnswerAsGqlgensDo(t *testing.T) {
	exec := testExecutor()
	bodies := []string{
		`{"query":"{ __typename }"}`,
		`{"query":"query A { __typename } query B { __typename }","operationName":"B"}`,
		`{"query":"query A { __typename } query B { __typename }"}`,
		`{"query":"query A { __typename }","operationName":"C"}`,
		`{"query":"{ __typename "}`,
		`{"query":"{ nope }"}`,
		`{"query":"query($f: Boolean!) { __typename @include(if: $f) }","variables":{"f":true}}`,
		`{"query":"query($f: Boolean!) { __typename @include(if: $f) }"}`,
		`{"query":"query($f: Boolean!) { __typename @include(if: $f) }","variables":{"f":null}}`,
		`{"query":"{ __typename }","extensions":{}}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
		`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
		`{"Query":"{ __typename }"}`,
		`{"query":"{ __typename }"} trailing`,
	}
	for _, body := range bodies {
		for _, accept := range accepts {
			t.Run("POST "+body+" "+accept, func(t *testing.T) {
				req := func() *http.Request {
					r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader([]byte(body)))
					r.Header.Set("Content-Type", "application/json")
					if accept != "" {
						r.Header.Set("Accept", accept)
					}
					return r.WithContext(graphql.StartOperationTrace(r.Context()))
				}
				ours, theirs := httptest.NewRecorder(), httptest.NewRecorder()
				postTransport{}.Do(ours, req(), exec)
				transport.POST{}.Do(theirs, req(), exec)
				sameAnswer(t, ours, theirs)
			})
		}
	}
	queries := []url.Values{
		{"query": {"{ __typename }"}},
		{"query": {"query A { __typename } query B { __typename }"}, "operationName": {"A"}},
		{"query": {"query A { __typename } query B { __typename }"}},
		{"query": {"{ nope }"}},
		{"query": {"{ __typename "}},
		{"query": {"query($f: Boolean!) { __typename @include(if: $f) }"}, "variables": {`{"f":false}`}},
		{"query": {"query($f: Boolean!) { __typename @include(if: $f) }"}, "variables": {`null`}},
		{"query": {"{ __typename }"}, "extensions": {`{}`}},
		{"extensions": {`{"persistedQuery":{"version":1,"sha256Hash":"abc"}}`}},
	}
	for _, q := range queries {
		for _, accept := range accepts {
			t.Run("GET "+q.Encode()+" "+accept, func(t *testing.T) {
				req := func() *http.Request {
					r := httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil)
					if accept != "" {
						r.Header.Set("Accept", accept)
					}
					return r.WithContext(graphql.StartOperationTrace(r.Context()))
				}
				ours, theirs := httptest.NewRecorder(), httptest.NewRecorder()
				getTransport{}.Do(ours, req(), exec)
				transport.GET{}.Do(theirs, req(), exec)
				sameAnswer(t, ours, theirs)
			})
		}
	}
}

// sameAnswer fails unless ours is what GraphQL over HTTP wants where
// gqlgen answers theirs.
func sameAnswer(t *testing.T, ours, theirs *httptest.ResponseRecorder) {
	t.Helper()
	status, body := specAnswer(t, theirs)
	if ours.Code != status || ours.Header().Get("Content-Type") != theirs.Header().Get("Content-Type") || !sameJSONObject(t, ours.Body.Bytes(), body) {
		t.Fatalf("ours: %d %s %s\nwant: %d %s %s (gqlgen's: %d %s)",
			ours.Code, ours.Header().Get("Content-Type"), ours.Body,
			status, theirs.Header().Get("Content-Type"), body,
			theirs.Code, theirs.Body)
	}
}

// specAnswer is gqlgen's answer as GraphQL over HTTP wants it. A request
// error (a document that does not parse or validate, variables that do
// not fit it), which gqlgen answers with 422 to application/json and 400
// to application/graphql-response+json, gets 200 to application/json
// (the spec's SHOULD, so that clients that predate
// application/graphql-response+json read the errors) and no "data" entry
// for either (gqlgen writes "data": null; the spec wants none). Every
// other answer is gqlgen's.
func specAnswer(t *testing.T, theirs *httptest.ResponseRecorder) (int, []byte) {
	t.Helper()
	graphqlResponse := theirs.Header().Get("Content-Type") == graphqlResponseJSON
	requestError := theirs.Code == http.StatusUnprocessableEntity || (graphqlResponse && theirs.Code == http.StatusBadRequest)
	if !requestError {
		return theirs.Code, theirs.Body.Bytes()
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(theirs.Body.Bytes(), &body); err != nil {
		t.Fatalf("gqlgen's body %s: %v", theirs.Body, err)
	}
	delete(body, "data")
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if graphqlResponse {
		return http.StatusBadRequest, b
	}
	return http.StatusOK, b
}

// sameJSONObject reports whether a and b are JSON objects with the same
// entries, each written the same way (the order of entries aside).
func sameJSONObject(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y map[string]json.RawMessage
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// The spec's answers to request errors, which graphql-http's audit checks:
// 200 to application/json, 400 to application/graphql-response+json, and
// never a "data" entry.
func TestRequestErrorsAre200ForJSONAnd400ForGraphQLResponseJSON(t *testing.T) {
	exec := testExecutor()
	bodies := map[string]string{
		"parse failure":             `{"query":"{"}`,
		"validation failure":        `{"query":"{ nope }"}`,
		"variable coercion failure": `{"query":"query($f: Boolean!) { __typename @include(if: $f) }","variables":{"f":null}}`,
		"missing variable":          `{"query":"query($f: Boolean!) { __typename @include(if: $f) }"}`,
		"unknown operation":         `{"query":"query A { __typename }","operationName":"C"}`,
	}
	for name, body := range bodies {
		for accept, want := range map[string]int{"application/json": http.StatusOK, graphqlResponseJSON: http.StatusBadRequest} {
			t.Run(name+" "+accept, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Accept", accept)
				w := httptest.NewRecorder()
				postTransport{}.Do(w, r.WithContext(graphql.StartOperationTrace(r.Context())), exec)
				checkRequestError(t, w, want, accept, "")
			})
		}
	}
}

// A request without a query is an invalid parameter, not a document that
// fails to parse: 400 whatever the Accept header. A mutation sent with GET
// gets 405 and Allow: POST (GraphQL over HTTP's MUST; gqlgen answers 406).
func TestTransportsRefuseRequestsWithoutQueryAndMutationsOverGET(t *testing.T) {
	exec := testExecutor()
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"POST no query", post(`{}`), http.StatusBadRequest},
		{"POST query misspelt", post(`{"qeury":"{ __typename }"}`), http.StatusBadRequest},
		{"POST empty query", post(`{"query":""}`), http.StatusBadRequest},
		{"POST null query", post(`{"query":null}`), http.StatusBadRequest},
		{"GET no query", get(url.Values{}), http.StatusBadRequest},
		{"GET empty query", get(url.Values{"query": {""}}), http.StatusBadRequest},
		{"GET mutation", get(url.Values{"query": {"mutation { __typename }"}}), http.StatusMethodNotAllowed},
		{"GET mutation by name", get(url.Values{"query": {"query A { __typename } mutation B { __typename }"}, "operationName": {"B"}}), http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		for _, accept := range accepts {
			t.Run(tt.name+" "+accept, func(t *testing.T) {
				r := tt.req()
				if accept != "" {
					r.Header.Set("Accept", accept)
				}
				r = r.WithContext(graphql.StartOperationTrace(r.Context()))
				w := httptest.NewRecorder()
				if r.Method == http.MethodGet {
					getTransport{}.Do(w, r, exec)
				} else {
					postTransport{}.Do(w, r, exec)
				}
				checkRequestError(t, w, tt.status, accept, "BAD_USER_INPUT")
				if allow := w.Header().Get("Allow"); (tt.status == http.StatusMethodNotAllowed) != (allow == http.MethodPost) {
					t.Fatalf("status %d with Allow %q", w.Code, allow)
				}
			})
		}
	}
}

func post(body string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
}

func get(q url.Values) func() *http.Request {
	return func() *http.Request { return httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil) }
}

// checkRequestError fails unless w is status with errors (the first with
// code, when code is not "") and no "data" entry, in the media type accept
// asks for.
func checkRequestError(t *testing.T, w *httptest.ResponseRecorder, status int, accept, code string) {
	t.Helper()
	var body struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	var entries map[string]json.RawMessage
	if json.Unmarshal(w.Body.Bytes(), &body) != nil || json.Unmarshal(w.Body.Bytes(), &entries) != nil {
		t.Fatalf("body %s is not a JSON object", w.Body)
	}
	if _, hasData := entries["data"]; w.Code != status || len(body.Errors) == 0 || hasData {
		t.Fatalf("%d %s, want %d with errors and no data", w.Code, w.Body, status)
	}
	if code != "" && body.Errors[0].Extensions["code"] != code {
		t.Fatalf("code %v, want %s (%s)", body.Errors[0].Extensions["code"], code, w.Body)
	}
	if ct, want := w.Header().Get("Content-Type"), responseMediaType(accept); ct != want {
		t.Fatalf("Content-Type %q, want %q", ct, want)
	}
}

// The transports accept the requests gqlgen's accept, so that the first
// transport that supports a request is still the one meant for it.
func TestGetTransportSupportsWhatGETDoes(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodHead, http.MethodOptions} {
		for _, upgrade := range []string{"", "websocket"} {
			r := httptest.NewRequest(method, "/graphql", nil)
			if upgrade != "" {
				r.Header.Set("Upgrade", upgrade)
			}
			if got, lib := (getTransport{}).Supports(r), (transport.GET{}).Supports(r); got != lib {
				t.Errorf("%s with Upgrade %q: Supports = %v, gqlgen's GET says %v", method, upgrade, got, lib)
			}
		}
	}
}

func BenchmarkPostTransportDo(b *testing.B) {
	exec := testExecutor()
	for name, do := range map[string]func(http.ResponseWriter, *http.Request, graphql.GraphExecutor){
		"ours":     postTransport{}.Do,
		"gqlgen's": transport.POST{}.Do,
	} {
		b.Run(name, func(b *testing.B) {
			body := []byte(`{"query":"{ __typename }"}`)
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				do(httptest.NewRecorder(), r.WithContext(graphql.StartOperationTrace(r.Context())), exec)
			}
		})
	}
}
