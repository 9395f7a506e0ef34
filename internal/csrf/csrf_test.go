package csrf

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// writeRefusal stands for the server's refusal writer.
func writeRefusal(w http.ResponseWriter, status int, message, code string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s %s", code, message)
}

func TestPrevent(t *testing.T) {
	tests := []struct {
		name, method, ct string
		headers          map[string]string
		refused          bool
	}{
		{"json post", "POST", "application/json", nil, false},
		{"json post with charset", "POST", "application/json; charset=utf-8", nil, false},
		{"graphql-response json", "POST", "application/graphql-response+json", nil, false},
		{"text/plain post", "POST", "text/plain", nil, true},
		{"form post", "POST", "application/x-www-form-urlencoded", nil, true},
		{"multipart post", "POST", "multipart/form-data; boundary=b", nil, true},
		{"missing content type", "POST", "", nil, true},
		{"unparseable content type", "POST", "text/plain;;==", nil, true},
		{"text/plain with preflight header", "POST", "text/plain", map[string]string{"Apollo-Require-Preflight": "1"}, false},
		{"get", "GET", "", nil, true},
		{"get with operation name header", "GET", "", map[string]string{"X-Apollo-Operation-Name": "Me"}, false},
		{"websocket upgrade", "GET", "", map[string]string{"Upgrade": "websocket"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			h := Prevent(writeRefusal)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
			r := httptest.NewRequest(tt.method, "/graphql", nil)
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tt.refused != (w.Code == http.StatusBadRequest) || tt.refused == ran {
				t.Fatalf("status %d, handler ran %v; refused want %v", w.Code, ran, tt.refused)
			}
			if tt.refused && w.Body.String() != "BAD_REQUEST "+refusal {
				t.Fatalf("refusal written as %q, want the given writer's answer", w.Body)
			}
		})
	}
}
