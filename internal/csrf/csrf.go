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

// refusal is the message a refused request gets, Apollo Server's own.
const refusal = "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'Content-Type' header with a non-simple value such as 'application/json', or provide a non-empty value for the 'Apollo-Require-Preflight' or 'X-Apollo-Operation-Name' header."

// Prevent returns a middleware that refuses, before anything runs, every GET
// (other than a websocket upgrade) and every POST whose Content-Type is
// missing or one a plain HTML form can send, unless it carries a non-empty
// Apollo-Require-Preflight or X-Apollo-Operation-Name header. The refusal
// is written by refuse, with status 400 and code BAD_REQUEST, so that it
// has the same shape as the server's other refusals.
func Prevent(refuse func(w http.ResponseWriter, status int, message, code string)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if needsPreflightHeader(r) && r.Header.Get("Apollo-Require-Preflight") == "" && r.Header.Get("X-Apollo-Operation-Name") == "" {
				refuse(w, http.StatusBadRequest, refusal, "BAD_REQUEST")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
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
