// Package csrf implements Apollo Server's csrfPrevention rule for the
// GraphQL endpoint: a request a browser could send cross-site without a CORS
// preflight ("simple" requests) must carry a header that only a preflighted
// request can carry. The CORS allowlist then decides who may send it.
package csrf

import (
	"mime"
	"net/http"
	"strings"
)

// Prevent refuses with 400, before anything runs, every GET (other than a
// websocket upgrade) and every POST whose Content-Type is missing or one a
// plain HTML form can send, unless it carries a non-empty
// Apollo-Require-Preflight or X-Apollo-Operation-Name header.
func Prevent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if needsPreflightHeader(r) && r.Header.Get("Apollo-Require-Preflight") == "" && r.Header.Get("X-Apollo-Operation-Name") == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"errors":[{"message":"This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'Content-Type' header with a non-simple value such as 'application/json', or provide a non-empty value for the 'Apollo-Require-Preflight' or 'X-Apollo-Operation-Name' header.","extensions":{"code":"BAD_REQUEST"}}]}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func needsPreflightHeader(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return !strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	case http.MethodPost:
		ct := r.Header.Get("Content-Type")
		switch ct {
		case "":
			return true
		case "application/json": // nearly every request: no parsing
			return false
		}
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			// Unparseable: a browser could have sent it without preflight.
			return true
		}
		switch mt {
		case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
			return true
		}
	}
	return false
}
