package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/rs/cors"
	"go.opentelemetry.io/otel/trace"

	"github.com/sessiongql/server/internal/accesslog"
	"github.com/sessiongql/server/internal/csrf"
	"github.com/sessiongql/server/internal/tracing"
)

// The edge's middlewares, in the order a request meets them. Each is a
// constructor returning a func(next http.Handler) http.Handler; the route
// table (routes.go) decides where each one applies. The answers they refuse
// a request with are all written by writeRefusal.

// traceRequests makes each request a span when tracing is on, outermost
// so that every line logged for the request carries its trace id; with
// tracing off it adds nothing to the chain (internal/tracing.Handler).
func traceRequests(tp trace.TracerProvider) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return tracing.Handler(tp, next) }
}

// securityHeaders go on every response; the playground adds its own CSP.
func securityHeaders() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			next.ServeHTTP(w, r)
		})
	}
}

// accessLog writes one line per request to logw, in the format of the
// other log lines: never a cookie, header or body.
func accessLog(logw io.Writer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			now := time.Now()
			accesslog.WriteContext(r.Context(), logw, now, r.Method, r.URL.Path, rec.status, now.Sub(start))
		})
	}
}

// statusRecorder remembers the status code; Unwrap keeps Flush and Hijack
// reachable through http.ResponseController.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// allowOrigins answers CORS preflights and marks answers to the listed
// browser origins (docs/API.md, "CORS"); any other origin gets no CORS headers.
func allowOrigins(origins []string) func(http.Handler) http.Handler {
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowCredentials: true,
		AllowedMethods:   []string{http.MethodPost, http.MethodGet, http.MethodOptions},
		AllowedHeaders:   []string{"Content-Type", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
		MaxAge:           600,
	}).Handler
}

// graphqlHeaders marks every /graphql answer as per-user and uncacheable.
func graphqlHeaders() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			h.Add("Vary", "Cookie") // rs/cors adds Origin
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody reads a POST body before the handler runs, refusing one over
// limit with 413 (a declared length over it before reading a byte) and one
// that cannot be read (cut short, or not all there within timeout) with
// 400: the GraphQL library would answer both with 200 and the read error's
// text. The buffer grows with the bytes that arrive, never with the length
// a client declares: a client cannot make the server hold memory it has
// not sent.
func limitBody(limit int64, timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				next.ServeHTTP(w, r)
				return
			}
			if r.ContentLength > limit {
				writeRefusal(w, http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB.", "BAD_USER_INPUT")
				return
			}
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					writeRefusal(w, http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB.", "BAD_USER_INPUT")
					return
				}
				writeRefusal(w, http.StatusBadRequest, "The request body could not be read.", "BAD_USER_INPUT")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	}
}

// preventCSRF applies the CSRF rule (internal/csrf) to /graphql.
func preventCSRF() func(http.Handler) http.Handler {
	return csrf.Prevent(writeRefusal)
}

// checkUpgradeOrigin refuses with 403, before the upgrade, a websocket
// handshake whose Origin is not on the CORS allowlist (cross-site websocket
// hijacking: the browser sends the cookie with it). No Origin means a
// non-browser client, which carries no ambient cookie, and is let through.
func checkUpgradeOrigin(allowed []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Upgrade") != "" {
				if o := r.Header.Get("Origin"); o != "" && !slices.Contains(allowed, o) {
					writeRefusal(w, http.StatusForbidden, "This origin may not open a websocket.", "FORBIDDEN")
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeRefusal is the one writer of the edge's refusals: a GraphQL-shaped
// JSON answer with one error carrying msg and extensions.code.
func writeRefusal(w http.ResponseWriter, status int, msg, code string) {
	type extensions struct {
		Code string `json:"code"`
	}
	type gqlError struct {
		Message    string     `json:"message"`
		Extensions extensions `json:"extensions"`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Errors []gqlError `json:"errors"`
	}{[]gqlError{{msg, extensions{code}}}})
}
