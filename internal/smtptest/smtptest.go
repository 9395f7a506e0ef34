// Package smtptest runs a real SMTP server over TCP for tests and records
// what it receives, so mail code is tested against the protocol rather than
// a stand-in. A test can require AUTH, offer STARTTLS or implicit TLS with a
// self-signed certificate, stop and restart the server on the same port to
// play an outage, and make the next deliveries fail with a 4xx reply.
//
// It is a test helper imported by tests of other packages, so it is an
// ordinary package; nothing outside tests should import it.
package smtptest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// restartWait bounds how long Restart keeps trying to bind the port again,
// which a socket just closed can hold for a moment.
const restartWait = 5 * time.Second

// Option configures a Server.
type Option func(*config)

type config struct {
	username, password string
	startTLS           bool
	implicitTLS        bool
}

// WithAuth makes the server offer AUTH PLAIN and refuse MAIL until the
// client authenticated as username with password. The server allows AUTH
// without TLS (go-smtp's AllowInsecureAuth), as a local relay would.
func WithAuth(username, password string) Option {
	return func(c *config) { c.username, c.password = username, password }
}

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate; TLSConfig returns a client configuration that trusts it.
func WithSTARTTLS() Option {
	return func(c *config) { c.startTLS = true }
}

// WithImplicitTLS makes the server speak TLS from the first byte (smtps://)
// with a self-signed certificate; TLSConfig returns a client configuration
// that trusts it.
func WithImplicitTLS() Option {
	return func(c *config) { c.implicitTLS = true }
}

// Server is an SMTP server on 127.0.0.1 owned by one test. It accepts mail
// for any recipient and keeps every message it accepted. It is safe for
// concurrent use.
type Server struct {
	t    testing.TB
	cfg  config
	addr string // 127.0.0.1:port, fixed across Stop and Restart

	serverTLS *tls.Config // nil without TLS
	clientTLS *tls.Config

	mu       sync.Mutex
	srv      *smtp.Server      // nil while stopped
	listener *trackingListener // srv's
	served   chan struct{}     // closed when srv's Serve returns
	messages []Message
	changed  chan struct{} // closed and replaced when a message arrives
	failNext int
	ended    bool // the test's cleanup ran: t must not be used
}

// Start runs a server for t on a free port of 127.0.0.1. It is stopped in
// t's cleanup.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, changed: make(chan struct{})}
	for _, o := range opts {
		o(&s.cfg)
	}
	if s.cfg.startTLS || s.cfg.implicitTLS {
		var err error
		if s.serverTLS, s.clientTLS, err = selfSigned(); err != nil {
			t.Fatalf("smtptest: %v", err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = l.Addr().String()
	t.Cleanup(func() {
		s.Stop()
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
	})
	s.serve(l)
	return s
}

// Addr returns "127.0.0.1:PORT"; it stays the same across Stop and Restart.
func (s *Server) Addr() string { return s.addr }

// Port returns the port Addr names.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// URL returns the form SMTP_URL takes: smtp://127.0.0.1:PORT, or smtps://
// with WithImplicitTLS, with user:pass@ when WithAuth is set.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr}
	if s.cfg.implicitTLS {
		u.Scheme = "smtps"
	}
	if s.cfg.username != "" {
		u.User = url.UserPassword(s.cfg.username, s.cfg.password)
	}
	return u.String()
}

// TLSConfig returns a new client TLS configuration that trusts the server's
// self-signed certificate, or nil if the server has no TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Stop closes the listener and every open connection and waits for the
// server to finish, so new connections are refused until Restart. Stopping
// a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, l, served := s.srv, s.listener, s.served
	s.srv, s.listener = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	// go-smtp registers the listener only once Serve runs, so a Stop right
	// after Start could leave Accept waiting forever without this.
	l.closeAll()
	<-served
}

// Restart listens again on the same port; the messages received so far are
// kept. It retries the bind for a few seconds, as a socket just closed can
// hold the port for a moment, and fails the test if it cannot. A running
// server is stopped first.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	deadline := time.Now().Add(restartWait)
	for {
		// net.Listen sets SO_REUSEADDR, so connections in TIME_WAIT do not
		// hold the port; something else listening on it would.
		l, err := net.Listen("tcp", s.addr)
		if err == nil {
			s.serve(l)
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("smtptest: listen again on %s: %v", s.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FailNext makes the next n deliveries fail after DATA with a temporary
// error (451 4.3.0), as a busy relay would, without closing the server.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Wait returns the messages accepted so far once there are at least n,
// failing the test if fewer arrive within timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, changed := slices.Clone(s.messages), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("smtptest: %d messages arrived within %v, want at least %d", len(msgs), timeout, n)
			return nil
		}
	}
}

// serve starts a fresh go-smtp server on l: a closed go-smtp server cannot
// serve again.
func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.AllowInsecureAuth = true
	srv.ErrorLog = testLogger{s}
	if s.serverTLS != nil {
		srv.TLSConfig = s.serverTLS
	}
	tracking := newTrackingListener(l)
	l = tracking
	if s.cfg.implicitTLS {
		l = tls.NewListener(l, s.serverTLS)
	}
	served := make(chan struct{})
	s.mu.Lock()
	s.srv, s.listener, s.served = srv, tracking, served
	s.mu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
}

// record keeps m and wakes Wait, or returns the error FailNext asked for.
func (s *Server) record(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "smtptest: failing as asked, try again later"}
	}
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{server: s, conn: c}, nil
}

// session is one SMTP connection's state; go-smtp makes a new one after
// STARTTLS.
type session struct {
	server   *Server
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

func (se *session) AuthMechanisms() []string {
	if se.server.cfg.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.server.cfg.username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != se.server.cfg.username || password != se.server.cfg.password {
			return smtp.ErrAuthFailed
		}
		se.authUser = username
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.server.cfg.username != "" && se.authUser == "" {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	m, err := parse(raw)
	if err != nil {
		// Refusing it shows the sender's test the problem; calling t from
		// a server goroutine could outlive the test.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "smtptest: " + err.Error()}
	}
	m.EnvelopeFrom = se.from
	m.To = slices.Clone(se.to)
	m.AuthUser = se.authUser
	_, m.TLS = se.conn.TLSConnectionState()
	m.At = time.Now()
	return se.server.record(m)
}

func (se *session) Reset() {
	se.from = ""
	se.to = nil
}

func (se *session) Logout() error { return nil }

// testLogger passes go-smtp's error lines to t.Logf while the test runs,
// and drops them after, when t must no longer be used.
type testLogger struct{ s *Server }

func (l testLogger) Printf(format string, v ...any) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.ended {
		l.s.t.Logf("smtptest: "+format, v...)
	}
}

func (l testLogger) Println(v ...any) {
	l.Printf("%s", fmt.Sprintln(v...))
}
