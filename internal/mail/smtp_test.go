package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/sessiongql/server/internal/smtptest"
)

// newSMTP returns an SMTP transport for srv; edit adjusts the options.
func newSMTP(t *testing.T, srv *smtptest.Server, edit func(*SMTPOptions)) *SMTP {
	t.Helper()
	o := SMTPOptions{
		Host:      "127.0.0.1",
		Port:      srv.Port(),
		From:      "no-reply@mail.example.com",
		FromName:  "Flashcards",
		Timeout:   5 * time.Second,
		TLSConfig: srv.TLSConfig(),
	}
	if edit != nil {
		edit(&o)
	}
	s, err := NewSMTP(o)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

// resetMessage is a rendered message as the sender hands it over.
func resetMessage(t *testing.T, id, to, token string) Message {
	t.Helper()
	m, err := newTemplates(t, "https://app.example.com").PasswordReset(to, "Ünal", token, 30*time.Minute)
	if err != nil {
		t.Fatalf("PasswordReset: %v", err)
	}
	m.ID = id
	return m
}

func TestSMTPDeliversTextAndHTMLWithSenderNameAndMessageID(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	want := resetMessage(t, "65f0c0ffee0123456789abcd", "alice@example.com", "tok-1")
	if err := newSMTP(t, srv, nil).Send(t.Context(), want); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Wait(t, 1, 5*time.Second)[0]

	if got.Text != want.Text {
		t.Errorf("Text = %q, want %q", got.Text, want.Text)
	}
	if got.HTML != want.HTML {
		t.Errorf("HTML = %q, want %q", got.HTML, want.HTML)
	}
	if got.Subject != want.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	}
	from, err := netmail.ParseAddress(got.From)
	if err != nil || from.Name != "Flashcards" || from.Address != "no-reply@mail.example.com" {
		t.Errorf("From = %q (%v), want Flashcards <no-reply@mail.example.com>", got.From, err)
	}
	if got.MessageID != "<65f0c0ffee0123456789abcd@mail.example.com>" {
		t.Errorf("MessageID = %q", got.MessageID)
	}
	if got.EnvelopeFrom != "no-reply@mail.example.com" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
		t.Errorf("envelope %q → %q", got.EnvelopeFrom, got.To)
	}
	if h := got.Header.Get("Auto-Submitted"); h != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", h)
	}
	if link := got.Link(t, "https://app.example.com/reset-password?"); link != "https://app.example.com/reset-password?token=tok-1" {
		t.Errorf("link = %q", link)
	}
	if got.AuthUser != "" || got.TLS {
		t.Errorf("AuthUser %q, TLS %v, want neither", got.AuthUser, got.TLS)
	}
}

func TestSMTPAuthenticatesWhenAUsernameIsSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		server   []smtptest.Option
		implicit bool
		wantTLS  bool
	}{
		// PLAIN without TLS is allowed to the loopback address only.
		{"plain connection to localhost", nil, false, false},
		{"STARTTLS when offered", []smtptest.Option{smtptest.WithSTARTTLS()}, false, true},
		{"implicit TLS", []smtptest.Option{smtptest.WithImplicitTLS()}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, append(tt.server, smtptest.WithAuth("mailer", "pa55-word"))...)
			tr := newSMTP(t, srv, func(o *SMTPOptions) {
				o.Username, o.Password, o.ImplicitTLS = "mailer", "pa55-word", tt.implicit
			})
			if err := tr.Send(t.Context(), resetMessage(t, "id1", "bob@example.com", "tok")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Wait(t, 1, 5*time.Second)[0]
			if got.AuthUser != "mailer" || got.TLS != tt.wantTLS {
				t.Errorf("AuthUser %q, TLS %v; want mailer, %v", got.AuthUser, got.TLS, tt.wantTLS)
			}
		})
	}
}

func TestSMTPImplicitTLSVerifiesTheServer(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.WithImplicitTLS())
	tr := newSMTP(t, srv, func(o *SMTPOptions) {
		o.ImplicitTLS = true
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12} // system roots: the self-signed certificate fails
	})
	if err := tr.Send(t.Context(), resetMessage(t, "id1", "bob@example.com", "tok")); err == nil {
		t.Fatal("Send to a server with an untrusted certificate succeeded")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSMTPErrorsHideSecretsRecipientAndBody(t *testing.T) {
	t.Parallel()
	const password = "very-secret-pw"
	const token = "token-in-the-body"
	const to = "Carol@Example.com"
	tests := []struct {
		name  string
		setup func(*smtptest.Server)
		pass  string
	}{
		{"wrong password", func(*smtptest.Server) {}, password},
		{"temporary rejection", func(s *smtptest.Server) { s.FailNext(1) }, "right-pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, smtptest.WithAuth("mailer", "right-pw"))
			tt.setup(srv)
			tr := newSMTP(t, srv, func(o *SMTPOptions) { o.Username, o.Password = "mailer", tt.pass })
			err := tr.Send(t.Context(), resetMessage(t, "id1", to, token))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			for _, secret := range []string{password, token, strings.ToLower(to), to, "Ünal"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains %q", err, secret)
				}
			}
			if !strings.Contains(err.Error(), "id1") {
				t.Errorf("error %q does not name the mail", err)
			}
		})
	}
}

func TestSMTPSendErrorKeepsItsCause(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	srv.FailNext(1)
	err := newSMTP(t, srv, nil).Send(t.Context(), resetMessage(t, "id1", "dan@example.com", "tok"))
	var sendErr *gomail.SendError
	if !errors.As(err, &sendErr) || !sendErr.IsTemp() {
		t.Fatalf("Send: %v, want a temporary *gomail.SendError inside", err)
	}
}

// silentServer accepts connections and never answers, like a stalled
// relay; it returns its port.
func silentServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		_ = l.Close()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				<-done
				_ = c.Close()
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestSMTPSendStopsAtTheContextOrTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		timeout    time.Duration
		ctxTimeout time.Duration
	}{
		{"context deadline", 30 * time.Second, 200 * time.Millisecond},
		{"transport timeout", 200 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, err := NewSMTP(SMTPOptions{Host: "127.0.0.1", Port: silentServer(t), From: "no-reply@example.com", Timeout: tt.timeout})
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			ctx := t.Context()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			began := time.Now()
			err = tr.Send(ctx, resetMessage(t, "id1", "erin@example.com", "tok"))
			if took := time.Since(began); took > 3*time.Second {
				t.Errorf("Send took %v", took)
			}
			// Whichever fires first: the context, or go-mail's deadline on
			// the connection, set from the same timeout.
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("Send: %v, want a deadline error", err)
			}
		})
	}
}

func TestNewSMTPRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    SMTPOptions
	}{
		{"no host", SMTPOptions{From: "a@example.com"}},
		{"bad port", SMTPOptions{Host: "smtp.example.com", Port: 70000, From: "a@example.com"}},
		{"no from", SMTPOptions{Host: "smtp.example.com"}},
		{"from with a name", SMTPOptions{Host: "smtp.example.com", From: "App <a@example.com>"}},
		{"from name with newline", SMTPOptions{Host: "smtp.example.com", From: "a@example.com", FromName: "App\r\nBcc: x@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewSMTP(tt.o); err == nil {
				t.Error("NewSMTP succeeded")
			}
		})
	}
}

func TestSMTPRefusesAnUnusableMessage(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	tr := newSMTP(t, srv, nil)
	good := resetMessage(t, "id1", "frank@example.com", "tok")
	tests := []struct {
		name string
		edit func(*Message)
	}{
		{"id that would break the header", func(m *Message) { m.ID = "x>\r\nBcc: y@example.com" }},
		{"bad recipient", func(m *Message) { m.To = "not an address" }},
		{"no text", func(m *Message) { m.Text = "" }},
		{"newline in subject", func(m *Message) { m.Subject = "Hi\r\nBcc: y@example.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := good
			tt.edit(&m)
			if err := tr.Send(t.Context(), m); err == nil {
				t.Error("Send succeeded")
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestLogTransportWritesTheTextWithItsLink(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tr := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := resetMessage(t, "id1", "gina@example.com", "tok-logged")
	if err := tr.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("log line: %v", err)
	}
	if rec["level"] != "INFO" || rec["to"] != m.To || rec["subject"] != m.Subject || rec["text"] != m.Text {
		t.Errorf("log line = %v", rec)
	}
	if !strings.Contains(lines[0], "https://app.example.com/reset-password?token=tok-logged") {
		t.Errorf("log line lacks the link: %s", lines[0])
	}
}
