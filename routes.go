package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/cors"

	"github.com/sessiongql/server/internal/accesslog"
	"github.com/sessiongql/server/internal/config"
	"github.com/sessiongql/server/internal/csrf"
	"github.com/sessiongql/server/internal/playground"
	"github.com/sessiongql/server/internal/session"
)

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// bodyReadTimeout bounds how long a client may take to send a request body
// (headers: headerReadTimeout).
const bodyReadTimeout = 30 * time.Second

// NewServer returns the whole HTTP surface (API.md, "HTTP"); every route is
// here. Access lines go to logw, which must take concurrent writes.
func NewServer(logw io.Writer, cfg config.Config, sessions *session.Manager, gql http.Handler, st *stores) http.Handler {
	mux := http.NewServeMux()

	api := sessions.Middleware(gql)
	api = checkUpgradeOrigin(api, cfg.CORSOrigins)
	api = csrf.Prevent(api)
	api = limitBody(api, maxBodyBytes, bodyReadTimeout)
	api = graphqlHeaders(api)
	mux.Handle("GET /graphql", api)
	mux.Handle("POST /graphql", api)

	pg := playground.Handler("/graphql")
	mux.Handle("GET /{$}", pg)
	mux.Handle("GET "+playground.AssetPrefix, pg)

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", st.metrics.Handler())
	mux.Handle("GET /readyz", readiness(map[string]func(context.Context) error{
		"redis":   func(ctx context.Context) error { return st.redis.Ping(ctx).Err() },
		"mongodb": func(ctx context.Context) error { return st.mongo.Ping(ctx, nil) },
	}))

	c := cors.New(cors.Options{
		AllowedOrigins:   cfg.CORSOrigins,
		AllowCredentials: true,
		AllowedMethods:   []string{http.MethodPost, http.MethodGet, http.MethodOptions},
		AllowedHeaders:   []string{"Content-Type", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
		MaxAge:           600,
	})
	// Nearly every request is a GraphQL one: it skips the mux's pattern
	// matching (2% of the CPU of an anonymous request). Anything else,
	// including other methods on /graphql (405), goes through the mux.
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/graphql" && (r.Method == http.MethodPost || r.Method == http.MethodGet) {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return securityHeaders(accessLog(logw, c.Handler(root)))
}

// graphqlHeaders marks every /graphql answer as per-user and uncacheable.
func graphqlHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Add("Vary", "Cookie") // rs/cors adds Origin
		next.ServeHTTP(w, r)
	})
}

// securityHeaders go on every response; the playground adds its own CSP.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// limitBody reads a POST body up front, refusing one over limit with 413
// and one that cannot be read (cut short, too slow) with 400: the GraphQL
// library would answer both with 200 and the read error's text. A client
// gets at most timeout to send the body.
func limitBody(next http.Handler, limit int64, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > limit {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB.", "BAD_USER_INPUT")
			return
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		var body []byte
		var err error
		if r.ContentLength >= 0 {
			// net/http never reads past a declared length: one buffer of
			// exactly that size.
			body = make([]byte, r.ContentLength)
			_, err = io.ReadFull(r.Body, body)
		} else {
			// A chunked body's length is known only once read.
			body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeJSONError(w, http.StatusRequestEntityTooLarge, "The request body is larger than 1 MiB.", "BAD_USER_INPUT")
				return
			}
			writeJSONError(w, http.StatusBadRequest, "The request body could not be read.", "BAD_USER_INPUT")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func writeJSONError(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]string{"code": code}}},
	})
}

// readiness answers 200 when every check passes within a second, else 503;
// the body names each check.
func readiness(checks map[string]func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		result := map[string]string{"status": "ok"}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, check := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := "ok"
				if err := check(ctx); err != nil {
					status = "unavailable"
				}
				mu.Lock()
				result[name] = status
				if status != "ok" {
					result["status"] = "unavailable"
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if result["status"] != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(result)
	})
}

// accessLog writes one line per request to logw, in the format of the
// other log lines: never a cookie, header or body.
func accessLog(logw io.Writer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		now := time.Now()
		accesslog.Write(logw, now, r.Method, r.URL.Path, rec.status, now.Sub(start))
	})
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

// checkUpgradeOrigin refuses with 403, before the upgrade, a websocket
// handshake whose Origin is not on the CORS allowlist (cross-site websocket
// hijacking: the browser sends the cookie with it). No Origin means a
// non-browser client, which carries no ambient cookie, and is let through.
func checkUpgradeOrigin(next http.Handler, allowed []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			if o := r.Header.Get("Origin"); o != "" && !slices.Contains(allowed, o) {
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
