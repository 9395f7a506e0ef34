package smtptest

import (
	"context"
	"errors"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// newMsg builds a message with a text and an HTML part, as the mail
// package does.
func newMsg(t *testing.T, opts ...gomail.MsgOption) *gomail.Msg {
	t.Helper()
	m := gomail.NewMsg(opts...)
	if err := m.FromFormat("Kärtchen Team", "no-reply@example.com"); err != nil {
		t.Fatalf("From: %v", err)
	}
	if err := m.To("alice@example.com"); err != nil {
		t.Fatalf("To: %v", err)
	}
	m.Subject("Réinitialiser: your password")
	m.SetMessageIDWithValue("0123456789abcdef@example.com")
	// A long line forces soft line breaks (quoted-printable) or wrapping
	// (base64), which parsing must undo.
	link := "https://app.example.com/reset-password?token=" + strings.Repeat("aZ09-_", 20)
	m.SetBodyString(gomail.TypeTextPlain, "Hello Ünal,\n\nReset it here: "+link+"\n\nBye.\n")
	m.AddAlternativeString(gomail.TypeTextHTML, `<p>Hello Ünal,</p><p><a href="`+link+`">Reset</a></p>`)
	return m
}

// send delivers m to s with go-mail, returning its error.
func send(t *testing.T, s *Server, m *gomail.Msg, opts ...gomail.Option) error {
	t.Helper()
	opts = append([]gomail.Option{
		gomail.WithPort(s.Port()),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
		gomail.WithTimeout(5 * time.Second),
	}, opts...)
	c, err := gomail.NewClient("127.0.0.1", opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return c.DialAndSendWithContext(ctx, m)
}

func TestParsesGoMailMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		encoding gomail.Encoding
	}{
		{"quoted-printable", gomail.EncodingQP},
		{"base64", gomail.EncodingB64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t)
			if err := send(t, s, newMsg(t, gomail.WithEncoding(tt.encoding))); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := s.Wait(t, 1, 5*time.Second)[0]

			wantLink := "https://app.example.com/reset-password?token=" + strings.Repeat("aZ09-_", 20)
			if link := got.Link(t, "https://app.example.com/reset-password?"); link != wantLink {
				t.Errorf("Link = %q, want %q", link, wantLink)
			}
			if !strings.HasPrefix(got.Text, "Hello Ünal,\n") {
				t.Errorf("Text = %q", got.Text)
			}
			if want := `<p>Hello Ünal,</p><p><a href="` + wantLink + `">Reset</a></p>`; got.HTML != want {
				t.Errorf("HTML = %q, want %q", got.HTML, want)
			}
			if got.Subject != "Réinitialiser: your password" {
				t.Errorf("Subject = %q", got.Subject)
			}
			from, err := mail.ParseAddress(got.From)
			if err != nil || from.Name != "Kärtchen Team" || from.Address != "no-reply@example.com" {
				t.Errorf("From = %q (%v), want Kärtchen Team <no-reply@example.com>", got.From, err)
			}
			if got.MessageID != "<0123456789abcdef@example.com>" {
				t.Errorf("MessageID = %q", got.MessageID)
			}
			if got.EnvelopeFrom != "no-reply@example.com" || len(got.To) != 1 || got.To[0] != "alice@example.com" {
				t.Errorf("envelope = %q → %q", got.EnvelopeFrom, got.To)
			}
			if got.TLS || got.AuthUser != "" || len(got.Raw) == 0 || got.At.IsZero() {
				t.Errorf("TLS %v, AuthUser %q, %d raw bytes, At %v", got.TLS, got.AuthUser, len(got.Raw), got.At)
			}
		})
	}
}

func TestStopRefusesConnectionsAndRestartServesOnTheSamePort(t *testing.T) {
	t.Parallel()
	s := Start(t)
	addr, url := s.Addr(), s.URL()
	if err := send(t, s, newMsg(t)); err != nil {
		t.Fatalf("send before Stop: %v", err)
	}

	s.Stop()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("dial %s after Stop succeeded", addr)
	}
	if err := send(t, s, newMsg(t)); err == nil {
		t.Fatal("send after Stop succeeded")
	}
	s.Stop() // stopping twice does nothing

	s.Restart()
	if s.Addr() != addr || s.URL() != url {
		t.Errorf("after Restart: %s %s, want %s %s", s.Addr(), s.URL(), addr, url)
	}
	if err := send(t, s, newMsg(t)); err != nil {
		t.Fatalf("send after Restart: %v", err)
	}
	if got := s.Wait(t, 2, 5*time.Second); len(got) != 2 {
		t.Errorf("%d messages, want 2", len(got))
	}
}

func TestAuthIsRequiredWhenConfigured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []gomail.Option
		wantSent bool
	}{
		{"no auth", nil, false},
		{"wrong password", []gomail.Option{gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername("mailer"), gomail.WithPassword("wrong")}, false},
		{"right password", []gomail.Option{gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername("mailer"), gomail.WithPassword("s3cret")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t, WithAuth("mailer", "s3cret"))
			if want := "smtp://mailer:s3cret@" + s.Addr(); s.URL() != want {
				t.Errorf("URL = %q, want %q", s.URL(), want)
			}
			err := send(t, s, newMsg(t), tt.opts...)
			if (err == nil) != tt.wantSent {
				t.Fatalf("send: %v, want sent %v", err, tt.wantSent)
			}
			if !tt.wantSent {
				if n := len(s.Messages()); n != 0 {
					t.Errorf("%d messages accepted", n)
				}
				return
			}
			if got := s.Wait(t, 1, 5*time.Second)[0]; got.AuthUser != "mailer" {
				t.Errorf("AuthUser = %q", got.AuthUser)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opt        Option
		wantScheme string
		clientOpt  gomail.Option
	}{
		{"STARTTLS", WithSTARTTLS(), "smtp://", gomail.WithTLSPolicy(gomail.TLSMandatory)},
		{"implicit", WithImplicitTLS(), "smtps://", gomail.WithSSL()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Start(t, tt.opt, WithAuth("mailer", "s3cret"))
			if !strings.HasPrefix(s.URL(), tt.wantScheme) {
				t.Errorf("URL = %q, want %s…", s.URL(), tt.wantScheme)
			}
			err := send(t, s, newMsg(t), tt.clientOpt, gomail.WithTLSConfig(s.TLSConfig()),
				gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername("mailer"), gomail.WithPassword("s3cret"))
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if got := s.Wait(t, 1, 5*time.Second)[0]; !got.TLS || got.AuthUser != "mailer" {
				t.Errorf("TLS %v, AuthUser %q", got.TLS, got.AuthUser)
			}
		})
	}
}

func TestFailNextRefusesWithATemporaryError(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.FailNext(2)
	for i := range 2 {
		err := send(t, s, newMsg(t))
		var sendErr *gomail.SendError
		if !errors.As(err, &sendErr) || !sendErr.IsTemp() {
			t.Fatalf("send #%d: %v, want a temporary SendError", i+1, err)
		}
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages accepted while failing", n)
	}
	if err := send(t, s, newMsg(t)); err != nil {
		t.Fatalf("third send: %v", err)
	}
	s.Wait(t, 1, 5*time.Second)
}

func TestStopClosesOpenConnections(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	buf := make([]byte, 512)
	if _, err := c.Read(buf); err != nil { // the greeting
		t.Fatalf("read greeting: %v", err)
	}
	s.Stop()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err = c.Read(buf); err != nil {
			break // a 421 goodbye may come first
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection still open after Stop")
	}
}

func TestStopRightAfterStartReturns(t *testing.T) {
	t.Parallel()
	for range 20 {
		done := make(chan struct{})
		s := Start(t)
		go func() {
			defer close(done)
			s.Stop()
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Stop did not return")
		}
	}
}
