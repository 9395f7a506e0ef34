package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sessiongql/server/internal/config"
	"github.com/sessiongql/server/internal/playground"
	"github.com/sessiongql/server/internal/session"
)

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// bodyReadTimeout bounds how long a client may take to send a request body
// (headers: headerReadTimeout).
const bodyReadTimeout = 30 * time.Second

// NewServer returns the whole HTTP surface (docs/API.md, "HTTP"); every route is
// here, and which middleware (middleware.go) applies where. Access lines go
// to logw, which must take concurrent writes.
func NewServer(logw io.Writer, cfg config.Config, sessions *session.Manager, gql http.Handler, st *stores, tp trace.TracerProvider) http.Handler {
	mux := http.NewServeMux()

	api := sessions.Middleware(gql)
	api = checkUpgradeOrigin(cfg.CORSOrigins)(api)
	api = preventCSRF()(api)
	api = limitBody(maxBodyBytes, bodyReadTimeout)(api)
	api = graphqlHeaders()(api)
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

	// Nearly every request is a GraphQL one: it skips the mux's pattern
	// matching (2% of the CPU of an anonymous request). Anything else,
	// including other methods on /graphql (405), goes through the mux.
	var root http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/graphql" && (r.Method == http.MethodPost || r.Method == http.MethodGet) {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	root = allowOrigins(cfg.CORSOrigins)(root)
	root = accessLog(logw)(root)
	root = securityHeaders()(root)
	root = traceRequests(tp)(root)
	return root
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
