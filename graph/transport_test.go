package graph

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// The fast path must support exactly the requests gqlgen's POST does.
func TestPostTransportSupportsWhatPOSTDoes(t *testing.T) {
	tests := []struct {
		method, contentType, upgrade string
		want                         bool
	}{
		{"POST", "application/json", "", true},
		{"POST", "application/json; charset=utf-8", "", true},
		{"POST", "Application/JSON", "", true},
		{"POST", "application/json", "websocket", false},
		{"POST", "application/graphql", "", false},
		{"POST", "text/plain", "", false},
		{"POST", "", "", false},
		{"POST", "application/json;;", "", false},
		{"GET", "application/json", "", false},
		{"PUT", "application/json", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.contentType+" "+tt.upgrade, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/graphql", nil)
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			if tt.upgrade != "" {
				r.Header.Set("Upgrade", tt.upgrade)
			}
			got, lib := postTransport{}.Supports(r), transport.POST{}.Supports(r)
			if got != tt.want || got != lib {
				t.Fatalf("Supports = %v, gqlgen's POST says %v, want %v", got, lib, tt.want)
			}
		})
	}
}

func BenchmarkPostTransportSupports(b *testing.B) {
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		postTransport{}.Supports(r)
	}
}
