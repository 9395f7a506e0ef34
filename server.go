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
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/trace"

	"github.com/sessiongql/server/graph"
	"github.com/sessiongql/server/internal/accesslog"
	"github.com/sessiongql/server/internal/account"
	"github.com/sessiongql/server/internal/clientip"
	"github.com/sessiongql/server/internal/config"
	"github.com/sessiongql/server/internal/logging"
	"github.com/sessiongql/server/internal/mail"
	"github.com/sessiongql/server/internal/metrics"
	"github.com/sessiongql/server/internal/onetime"
	"github.com/sessiongql/server/internal/passkey"
	"github.com/sessiongql/server/internal/ratelimit"
	"github.com/sessiongql/server/internal/secretbox"
	"github.com/sessiongql/server/internal/securitylog"
	"github.com/sessiongql/server/internal/session"
	"github.com/sessiongql/server/internal/study"
	"github.com/sessiongql/server/internal/totp"
	"github.com/sessiongql/server/internal/tracing"
)

// accessLogEvery bounds how long a request line waits in its batch.
const accessLogEvery = 100 * time.Millisecond

// headerReadTimeout bounds how long a client may take to send a request's
// headers (slow-loris clients); bodies: bodyReadTimeout.
const headerReadTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	logger := processLogging(os.Getenv, os.Stderr)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2) // run has printed the usage line
	default:
		// The last line, in the log's format like every other one.
		logger.Error("server: " + err.Error())
		os.Exit(1)
	}
}

// processLogging sets up the process's own logging, for lines that no
// server's logger writes: the standard log package's and go-redis's
// (process-wide, so set here and not in run, which tests call several
// times at once), and the last line main writes. They go to stderr in the
// configured format; a bad LOG_FORMAT or LOG_LEVEL falls back to text and
// info here, and run then names it.
func processLogging(getenv func(string) string, stderr io.Writer) *slog.Logger {
	json, level := config.LogSettings(getenv)
	logger := logging.New(stderr, json, level)
	slog.SetDefault(logger)
	logging.RouteRedis()
	return logger
}

// errUsage is what run returns for arguments it does not take; main exits
// with status 2 for it, as the flag package does.
var errUsage = errors.New("usage")

// run starts the server and blocks until ctx ends, then shuts down
// gracefully. Everything it needs comes in as arguments, so tests start the
// whole server in-process with their own environment. args is os.Args: -h
// and -version print to stdout and return nil; any other argument prints a
// usage line to stderr and returns an error wrapping errUsage.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, stderr io.Writer, opts ...runOption) error {
	if len(args) > 1 {
		return command(args, stdout, stderr)
	}
	// A setting that cannot work stops the server here with an error that
	// names it (main prints it as the last line); a store that does not
	// answer yet does not: /readyz reports it until it does.
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := logging.New(stderr, cfg.LogJSON, cfg.LogLevel)

	tp, stopTracing, err := startTracing(ctx, getenv, logger, opts)
	if err != nil {
		return err
	}
	defer stopTracing() // last: flushes the spans of the shutdown too

	// FerretDB logs each unsupported command at warning level, with a dump
	// of the reply: only its errors are worth the log.
	embeddedLog := logging.New(stderr, cfg.LogJSON, slog.LevelError).With("component", "ferretdb")
	stores, err := openStores(ctx, cfg, logger, embeddedLog, tp)
	if err != nil {
		return err
	}
	defer stores.Close()

	keys, err := encryptionKeys(cfg)
	if err != nil {
		return err
	}
	accounts, sender, err := newAccounts(cfg, logger, stores, keys)
	if err != nil {
		return err
	}
	// The mail sender and the security log's sweeper stop after the HTTP
	// server, whose last requests may queue mail, and before the stores
	// close.
	bgCtx, stopBackground := context.WithCancel(metrics.Background(context.WithoutCancel(ctx)))
	var background sync.WaitGroup
	background.Go(func() { sender.Run(bgCtx) })
	// The sweeper sweeps only where the database turned the TTL index
	// down (FerretDB), which it learns once the indexes are created.
	// A retention under 40 minutes is swept every quarter of it.
	every := min(securitylog.DefaultSweepEvery, max(time.Second, cfg.SecurityLogRetention/4))
	sweeper := securitylog.NewSweeper(stores.security, stores.redis, cfg.SecurityLogRetention, every, logger)
	background.Go(func() { sweeper.Run(bgCtx) })
	defer func() { stopBackground(); background.Wait() }()
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
		SecurityLog:   stores.security,
		Subscriptions: stores.metrics.Subscriptions(),
	}, graph.ServerOptions{
		Introspection:  cfg.Introspection,
		MaxDepth:       cfg.MaxDepth,
		MaxComplexity:  cfg.MaxComplexity,
		AllowedOrigins: cfg.CORSOrigins,
		Logger:         logger,
		Extensions:     operationExtensions(stores.metrics, tp),
		Sockets:        sockets,

		MaxSocketOperations: cfg.WSMaxOperations,
	})

	// Request lines are batched (accesslog.Buffer); the deferred Close
	// writes the last ones once serve has let in-flight requests finish.
	// They are at info level: a higher LOG_LEVEL drops them.
	var access io.Writer = io.Discard
	if cfg.LogLevel <= slog.LevelInfo {
		buf := accesslog.NewBuffer(stderr, accessLogEvery, cfg.LogJSON)
		defer buf.Close()
		access = buf
	}
	handler := NewServer(access, cfg, sessions, gql, stores, tp)
	return serve(ctx, logger, cfg, handler, sockets)
}

// newAccounts builds the account service and the sender of the mail it
// queues, which composes each message through the service.
func newAccounts(cfg config.Config, logger *slog.Logger, stores *stores, keys *secretbox.Keys) (*account.Service, *mail.Sender, error) {
	templates, err := mail.NewTemplates(cfg.AppName, cfg.AppURL)
	if err != nil {
		return nil, nil, fmt.Errorf("mail templates: %w", err)
	}
	transport, err := mailTransport(cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	ceremonies, err := passkey.New(passkey.Config{RPID: cfg.WebAuthnRPID, DisplayName: cfg.AppName, Origins: cfg.WebAuthnOrigins}, stores.redis, cfg.StoreTimeout)
	if err != nil {
		return nil, nil, fmt.Errorf("WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS: %w", err)
	}
	var sender *mail.Sender
	accounts, err := account.NewService(account.Options{
		Users:   stores.users,
		Limiter: ratelimit.New(stores.redis, cfg.StoreTimeout),
		Limits: account.Limits{
			LoginPerEmail:  cfg.LoginLimitPerEmail,
			LoginPerIP:     cfg.LoginLimitPerIP,
			LoginWindow:    cfg.LoginLimitWindow,
			RegisterPerIP:  cfg.RegisterLimitPerIP,
			RegisterWindow: cfg.RegisterLimitWindow,
		},
		BcryptCost:       cfg.BcryptCost,
		MinPasswordScore: cfg.PasswordMinScore,
		Tokens:           onetime.New(stores.redis, cfg.StoreTimeout),
		Outbox:           stores.outbox,
		Wake:             func() { sender.Wake() },
		Mail:             templates,
		ResetTTL:         cfg.PasswordResetTTL,
		VerifyTTL:        cfg.EmailVerificationTTL,
		Logger:           logger,
		Keys:             keys,
		Steps:            totp.NewSteps(stores.redis, cfg.StoreTimeout),
		Issuer:           cfg.AppName,
		Events:           securitylog.NewRecorder(stores.security, logger, stores.metrics.SecurityLogFailures()),
		Client:           requestClient,
		Ceremonies:       ceremonies,
		Passkeys:         stores.passkeys,
	})
	if err != nil {
		return nil, nil, err
	}
	sender = mail.NewSender(mail.SenderOptions{
		Outbox:    stores.outbox,
		Compose:   accounts.Compose,
		Transport: transport,
		Redis:     stores.redis,
		Logger:    logger,
		Counters:  stores.metrics,
	})
	return accounts, sender, nil
}

// requestClient is the client address and User-Agent of the request
// behind ctx, for the security log.
func requestClient(ctx context.Context) (ip, userAgent string) {
	if r := session.Request(ctx); r != nil {
		userAgent = r.UserAgent()
	}
	return session.ClientIP(ctx), userAgent
}

// encryptionKeys are ENCRYPTION_KEY's keys or, unset (only with the
// in-process MongoDB), a key generated once into DATA_DIR.
func encryptionKeys(cfg config.Config) (*secretbox.Keys, error) {
	raw := cfg.EncryptionKeys
	if raw == "" {
		path := filepath.Join(cfg.DataDir, "encryption.key")
		var err error
		if raw, err = secretbox.LoadOrCreateKeyFile(path); err != nil {
			return nil, fmt.Errorf("DATA_DIR=%q: the generated ENCRYPTION_KEY cannot be kept there: %w", cfg.DataDir, err)
		}
	}
	keys, err := secretbox.ParseKeys(raw)
	if err != nil {
		return nil, fmt.Errorf("ENCRYPTION_KEY: %w", err)
	}
	return keys, nil
}

// mailTransport is SMTP_URL's server, or the log when it is unset.
func mailTransport(cfg config.Config, logger *slog.Logger) (mail.Transport, error) {
	if cfg.SMTP == nil {
		logger.Warn("mail: SMTP_URL is unset, so mail is written to this log instead of sent (links included): for development only")
		return mail.NewLog(logger), nil
	}
	t, err := mail.NewSMTP(mail.SMTPOptions{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port,
		Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		ImplicitTLS: cfg.SMTP.ImplicitTLS,
		From:        cfg.MailFrom, FromName: cfg.AppName,
	})
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	logger.Info("mail: SMTP", "host", cfg.SMTP.Host, "port", cfg.SMTP.Port, "tls", map[bool]string{true: "implicit", false: "starttls when offered"}[cfg.SMTP.ImplicitTLS])
	return t, nil
}

// usageLine is what -h and a wrong argument show first.
const usageLine = "usage: %s [-h | --help | -version]\n"

// command answers the command line's arguments (the server takes none
// but these): -h and --help print every setting, from config's table;
// -version prints one line.
func command(args []string, stdout, stderr io.Writer) error {
	name := filepath.Base(args[0])
	if len(args) == 2 {
		switch args[1] {
		case "-h", "-help", "--help":
			fmt.Fprintf(stdout, usageLine, name)
			fmt.Fprint(stdout, "\nServes the GraphQL API with cookie sessions in Redis and users in MongoDB.\n"+
				"It takes no other arguments: every setting is an environment variable.\n\n"+
				"  -h, --help  print this help and exit\n"+
				"  -version    print the version and exit\n\n")
			config.Usage(stdout)
			return nil
		case "-version", "--version":
			fmt.Fprintln(stdout, version())
			return nil
		}
	}
	fmt.Fprintf(stderr, "unknown argument %q; "+usageLine, args[1], name)
	return fmt.Errorf("%w: unknown argument %q", errUsage, args[1])
}

// version is the module version and VCS revision the binary was built
// from, e.g. "sessiongql v0.2.0 (rev abc1234)"; "(devel)" for a build
// from a work tree, "dirty" when it had uncommitted changes.
func version() string {
	v, rev, dirty := "(devel)", "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value[:min(7, len(s.Value))]
			case "vcs.modified":
				// The module version may say so already (v0.0.0-…+dirty).
				dirty = s.Value == "true" && !strings.HasSuffix(v, "+dirty")
			}
		}
	}
	out := "sessiongql " + v
	switch {
	case rev != "" && dirty:
		out += " (rev " + rev + ", dirty)"
	case rev != "":
		out += " (rev " + rev + ")"
	case dirty:
		out += " (dirty)"
	}
	return out
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
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	switch {
	case cfg.Host == "":
		logger.Info("listening on all interfaces", "addr", ln.Addr().String(), "playground", fmt.Sprintf("http://localhost:%d/", port))
	case cfg.StoresInProcess() && cfg.Host == "127.0.0.1":
		logger.Info("listening on this machine only (both stores in-process); set HOST=0.0.0.0 to serve the network", "addr", ln.Addr().String(), "playground", fmt.Sprintf("http://localhost:%d/", port))
	default:
		logger.Info("listening on "+cfg.Host, "addr", ln.Addr().String(), "playground", "http://"+net.JoinHostPort(cfg.Host, strconv.Itoa(port))+"/")
	}

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

// runOption replaces a dependency run otherwise builds from its
// environment; main passes none, tests do.
type runOption func(*runDeps)

type runDeps struct {
	// tracerProvider replaces internal/tracing.Setup's; run neither
	// flushes nor shuts it down.
	tracerProvider trace.TracerProvider
}

// withTracerProvider makes run trace with tp whatever the OTEL_* settings
// (a test's in-memory exporter).
func withTracerProvider(tp trace.TracerProvider) runOption {
	return func(d *runDeps) { d.tracerProvider = tp }
}

// startTracing returns the tracer provider every instrumentation gets
// (internal/tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set), and
// the function that flushes its last spans at exit.
func startTracing(ctx context.Context, getenv func(string) string, logger *slog.Logger, opts []runOption) (trace.TracerProvider, func(), error) {
	var deps runDeps
	for _, o := range opts {
		o(&deps)
	}
	if deps.tracerProvider != nil {
		return deps.tracerProvider, func() {}, nil
	}
	tp, shutdown, err := tracing.Setup(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	return tp, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(sctx); err != nil {
			logger.Warn("tracing: the last spans were not exported", "err", err)
		}
	}, nil
}

// operationExtensions are the gqlgen extensions around each operation:
// metrics always, a span only when tracing is on.
func operationExtensions(o graph.OperationObserver, tp trace.TracerProvider) []graphql.HandlerExtension {
	exts := []graphql.HandlerExtension{graph.Observe{Observer: o}}
	if tracing.Enabled(tp) {
		exts = append(exts, graph.TraceOperations{Tracer: tp.Tracer(tracing.ScopeName)})
	}
	return exts
}
