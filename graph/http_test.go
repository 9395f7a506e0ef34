package graph

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// Apart from what they refuse, the transports answer exactly as gqlgen's
// do: status, Content-Type and body, for every Accept header.
func TestTransportsAnswerAsGqlgensDo(t *testing.T) {
	exec := testExecutor()
	bodies := []string{
		`{"query":"{ __typename }"}`,
		`{"query":"query A { __typename } query B { __typename }","operationName":"B"}`,
		`{"query":"query A { __typename } query B { __typename }"}`,
		`{"query":"query A { __typename }","operationName":"C"}`,
		`{"query":"{ __typename "}`,
		`{"query":"{ nope }"}`,
		`{"query":""}`,
		`{}`,
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
		{},
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

func sameAnswer(t *testing.T, ours, theirs *httptest.ResponseRecorder) {
	t.Helper()
	if ours.Code != theirs.Code || ours.Header().Get("Content-Type") != theirs.Header().Get("Content-Type") || ours.Body.String() != theirs.Body.String() {
		t.Fatalf("ours: %d %s %s\ngqlgen's: %d %s %s",
			ours.Code, ours.Header().Get("Content-Type"), ours.Body,
			theirs.Code, theirs.Header().Get("Content-Type"), theirs.Body)
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
