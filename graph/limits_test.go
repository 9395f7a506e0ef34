package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestSelectionDepth(t *testing.T) {
	tests := []struct {
		query string
		want  int
	}{
		{`{ __typename }`, 1},
		{`{ me { id } }`, 2},
		{`{ decks { cards { id } } me { id } }`, 3},
		{`{ ... on Query { me { id } } }`, 2},
		{`{ ...F } fragment F on Query { me { ...G } } fragment G on User { id }`, 2},
		{`{ ...F ...F } fragment F on Query { decks { ...D } } fragment D on Deck { cards { id } }`, 3},
		// A cycle (refused by validation before this runs) must not recurse forever.
		{`{ ...F } fragment F on Query { me { id } ...F }`, 2},
		{`{ __schema { types { fields { name } } } }`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
			if err != nil {
				t.Fatal(err)
			}
			got := selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments, 0, nil)
			if got != tt.want {
				t.Fatalf("depth %d, want %d", got, tt.want)
			}
		})
	}
}

// introspectionQuery is graphql-js's getIntrospectionQuery(), as GraphiQL
// and code generators send it.
const introspectionQuery = `query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
  types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func TestComplexityLimitStopsAliasFanOut(t *testing.T) {
	repeat := func(n int, field string) string {
		var b strings.Builder
		b.WriteString("{ ")
		for i := range n {
			fmt.Fprintf(&b, "a%d: %s ", i, field)
		}
		b.WriteString("}")
		return b.String()
	}
	tests := []struct {
		name    string
		query   string
		refused bool
	}{
		{"the standard introspection query", introspectionQuery, false},
		{"19 __schema roots", repeat(19, "__schema { types { name } }"), false},
		{"30 __schema roots", repeat(30, "__schema { types { name } }"), true},
		{"30 __type roots", repeat(30, `__type(name: "User") { name }`), true},
		{"__schema through a fragment", "{ ...F ...G } fragment F on Query { " + repeat(15, "__schema { types { name } }")[1:] + " fragment G on Query { " + repeat(15, "__schema { queryType { name } }")[1:], true},
		{"180 aliases of decks", repeat(180, "decks { id }"), false},
		{"250 aliases of decks", repeat(250, "decks { id }"), true},
		{"250 aliases of deck", repeat(250, `deck(id: "x") { id }`), true},
		{"250 aliases of dueCards", repeat(250, "dueCards(limit: 1) { id }"), true},
		{"1000 aliases of me", repeat(1000, "me { id }"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": tt.query})
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			fuzzHandler().ServeHTTP(rec, req)
			var resp struct {
				Data   map[string]any `json:"data"`
				Errors []struct {
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("answer %q: %v", rec.Body.String(), err)
			}
			refused := len(resp.Errors) > 0 && resp.Errors[0].Extensions["code"] == "COMPLEXITY_LIMIT_EXCEEDED"
			if refused != tt.refused {
				t.Fatalf("refused = %v, want %v (status %d, %.300s)", refused, tt.refused, rec.Code, rec.Body.String())
			}
			if refused && (resp.Data != nil || rec.Body.Len() > 10_000) {
				t.Fatalf("a refused operation answered data or %d bytes", rec.Body.Len())
			}
		})
	}
}
