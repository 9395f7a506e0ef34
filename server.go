// Command server serves the GraphQL API with cookie sessions in Redis and
// users in MongoDB. With REDIS_URL or MONGODB_URI unset it starts the
// missing store inside the process, so `go run .` works on a fresh machine.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sessiongql/server/graph"
	"github.com/sessiongql/server/internal/accesslog"
	"github.com/sessiongql/server/internal/account"
	"github.com/sessiongql/server/internal/clientip"
	"github.com/sessiongql/server/internal/config"
	"github.com/sessiongql/server/internal/ratelimit"
	"github.com/sessiongql/server/internal/session"
	"github.com/sessiongql/server/internal/study"
)

// accessLogEvery bounds how long a request line waits in its batch.
const accessLogEvery = 100 * time.Millisecond

// headerReadTimeout bounds how long a client may take to send a request's
// headers (slow-loris clients); bodies: bodyReadTimeout.
const headerReadTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx ends, then shuts down
// gracefully. Everything it needs comes in as arguments, so tests start the
// whole server in-process with their own environment.
func run(ctx context.Context, _ []string, getenv func(string) string, _ io.Writer, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// A setting that cannot work stops the server here with an error that
	// names it (main prints it as the last line); a store that does not
	// answer yet does not: /readyz reports it until it does.
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}

	embeddedLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})).With("component", "ferretdb")
	stores, err := openStores(ctx, cfg, logger, embeddedLog)
	if err != nil {
		return err
	}
	defer stores.Close()

	accounts, err := account.NewService(stores.users, cfg.BcryptCost, ratelimit.New(stores.redis, cfg.StoreTimeout), account.Limits{
		LoginPerEmail:  cfg.LoginLimitPerEmail,
		LoginPerIP:     cfg.LoginLimitPerIP,
		LoginWindow:    cfg.LoginLimitWindow,
		RegisterPerIP:  cfg.RegisterLimitPerIP,
		RegisterWindow: cfg.RegisterLimitWindow,
	})
	if err != nil {
		return err
	}
	decks := stores.decks
	ips := clientip.New(cfg.TrustedProxies)
	sessions := session.NewManager(stores.redis, session.Options{
		CookieName:  cfg.CookieName,
		Secure:      cfg.CookieSecure,
		IdleTimeout: cfg.IdleTimeout,
		Lifetime:    cfg.Lifetime,
		Timeout:     cfg.StoreTimeout,
		ClientIP:    ips.ClientIP,
	})
	defer sessions.Close()
	sockets := &graph.Sockets{}
	gql := graph.NewServer(&graph.Resolver{
		Accounts:      accounts,
		Study:         study.NewService(decks),
		Decks:         decks,
		Subscriptions: stores.metrics.Subscriptions(),
	}, graph.ServerOptions{
		Introspection:  cfg.Introspection,
		MaxDepth:       cfg.MaxDepth,
		MaxComplexity:  cfg.MaxComplexity,
		AllowedOrigins: cfg.CORSOrigins,
		Logger:         logger,
		Extensions:     []graphql.HandlerExtension{graph.Observe{Observer: stores.metrics}},
		Sockets:        sockets,

		MaxSocketOperations: cfg.WSMaxOperations,
	})

	// Request lines are batched (accesslog.Buffer); the deferred Close
	// writes the last ones once serve has let in-flight requests finish.
	access := accesslog.NewBuffer(stderr, accessLogEvery)
	defer access.Close()
	handler := NewServer(access, cfg, sessions, gql, stores)
	return serve(ctx, logger, cfg, handler, sockets)
}

// serve listens on cfg.Port until ctx ends, then lets in-flight requests
// finish and closes websockets cleanly, for up to cfg.ShutdownTimeout.
func serve(ctx context.Context, logger *slog.Logger, cfg config.Config, handler http.Handler, sockets *graph.Sockets) error {
	fresh := &freshConns{conns: map[net.Conn]time.Time{}}
	srv := &http.Server{
		Handler:           handler,
		ConnState:         fresh.track,
		ReadHeaderTimeout: headerReadTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("listening", "addr", ln.Addr().String(), "playground", fmt.Sprintf("http://localhost:%d/", ln.Addr().(*net.TCPAddr).Port))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Answer with "Connection: close" for a moment before closing idle
	// keep-alive connections: a busy client then stops reusing its
	// connection after its current response, instead of racing a new
	// request against the server's close (a reset it could not retry).
	srv.SetKeepAlivesEnabled(false)
	select {
	case <-time.After(min(500*time.Millisecond, cfg.ShutdownTimeout/4)):
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	wsDone := make(chan error, 1)
	go func() { wsDone <- sockets.Shutdown(sctx) }()
	go fresh.closeAfter(sctx, time.Second)
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-wsDone; err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// freshConns remembers connections that have not sent a request yet.
// http.Server.Shutdown waits five seconds for such a connection before it
// counts as idle, and keep-alive clients often leave one behind (a dial that
// lost the race to a freed connection), so shutdown closes them itself once
// they have been silent for a while.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]time.Time
}

func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state == http.StateNew {
		f.conns[c] = time.Now()
	} else {
		delete(f.conns, c)
	}
}

// closeAfter closes, until ctx ends, connections silent for longer than d.
func (f *freshConns) closeAfter(ctx context.Context, d time.Duration) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		f.mu.Lock()
		for c, since := range f.conns {
			if time.Since(since) > d {
				_ = c.Close()
				delete(f.conns, c)
			}
		}
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
