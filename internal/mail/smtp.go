package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"os"
	"regexp"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultSMTPTimeout bounds a whole Send when SMTPOptions.Timeout is zero.
const DefaultSMTPTimeout = 15 * time.Second

// SMTPOptions configures the SMTP transport, as read from SMTP_URL and
// MAIL_FROM.
type SMTPOptions struct {
	Host string
	// Port is the server's port; zero means 587 (submission), or 465 with
	// ImplicitTLS.
	Port int
	// Username and Password are used for SMTP AUTH when Username is set.
	// The password is sent only over TLS, or in the clear to a server on
	// the loopback address (localhost, 127.0.0.1, ::1).
	Username, Password string
	// ImplicitTLS speaks TLS from the first byte (smtps://). Without it the
	// connection is upgraded with STARTTLS when the server offers it
	// (smtp://), and stays in the clear when it does not.
	ImplicitTLS bool
	// From is the sender's address (MAIL_FROM); its domain also ends every
	// Message-ID. FromName is its display name, e.g. the app's name.
	From, FromName string
	// Timeout bounds each Send, from dialling to QUIT; zero means
	// DefaultSMTPTimeout.
	Timeout time.Duration
	// TLSConfig verifies the server; nil means the system roots. Its
	// ServerName defaults to Host.
	TLSConfig *tls.Config
}

// SMTP is the Transport that delivers through an SMTP server, one
// connection per message (a message every few seconds at most does not
// warrant a pool). It is safe for concurrent use.
type SMTP struct {
	host        string
	port        int
	username    string
	password    string
	implicitTLS bool
	from        netmail.Address
	domain      string // of From, for Message-IDs
	timeout     time.Duration
	tls         *tls.Config
	helo        string
}

// NewSMTP checks o and returns the transport. It does not connect: the
// server may come up later, and Sender retries meanwhile.
func NewSMTP(o SMTPOptions) (*SMTP, error) {
	if o.Host == "" {
		return nil, errors.New("smtp transport: no host")
	}
	if o.Port == 0 {
		o.Port = 587
		if o.ImplicitTLS {
			o.Port = 465
		}
	}
	if o.Port < 1 || o.Port > 65535 {
		return nil, fmt.Errorf("smtp transport: port %d out of range", o.Port)
	}
	from, err := netmail.ParseAddress(o.From)
	if err != nil || from.Name != "" {
		return nil, fmt.Errorf("smtp transport: from address %q: want a bare address like no-reply@example.com", o.From)
	}
	if strings.ContainsFunc(o.FromName, isControl) {
		return nil, errors.New("smtp transport: from name has control characters")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultSMTPTimeout
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = o.Host
	}
	helo, err := os.Hostname()
	if err != nil || helo == "" {
		helo = "localhost"
	}
	return &SMTP{
		host:        o.Host,
		port:        o.Port,
		username:    o.Username,
		password:    o.Password,
		implicitTLS: o.ImplicitTLS,
		from:        netmail.Address{Name: o.FromName, Address: from.Address},
		domain:      from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		timeout:     o.Timeout,
		tls:         cfg,
		helo:        helo,
	}, nil
}

// messageIDPart is what an ID may hold to become the left part of a
// Message-ID (an RFC 5322 dot-atom, narrowed), so it cannot break the
// header.
var messageIDPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Send delivers m with text and, if m.HTML is set, HTML as an alternative.
// It returns when the server has accepted the message, or with an error
// once ctx ends or the transport's timeout passes. The error names neither
// the recipient nor anything from the message body or the password.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return fmt.Errorf("send mail %s: %w", m.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	// go-mail bounds each command with its own timeout but watches ctx
	// only while dialling, so closing the connection is what makes ctx
	// stop a send that hangs later. The dialler also does implicit TLS
	// itself, since go-mail dials TLS only with its own dialler.
	var stopWatch func() bool
	dial := func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if s.implicitTLS {
			d := tls.Dialer{Config: s.tls}
			conn, err = d.DialContext(dialCtx, network, addr)
		} else {
			var d net.Dialer
			conn, err = d.DialContext(dialCtx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		stopWatch = context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
	// STARTTLS when offered; with implicit TLS the connection is already
	// encrypted and STARTTLS must not be tried.
	policy := gomail.TLSOpportunistic
	if s.implicitTLS {
		policy = gomail.NoTLS
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithHELO(s.helo),
		gomail.WithTLSConfig(s.tls),
		gomail.WithTLSPolicy(policy),
		gomail.WithDialContextFunc(dial),
	}
	if s.username != "" {
		// PLAIN, else LOGIN: what submission servers offer over TLS, and
		// all some offer. go-mail's plain auto-discovery would refuse both
		// without STARTTLS even on a local relay, and prefers
		// challenge-response mechanisms that servers often implement
		// poorly; it is still the fallback when neither is offered. go-mail
		// refuses PLAIN and LOGIN over a clear connection to any host but
		// the loopback, so the password never crosses a network unencrypted.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.username),
			gomail.WithPassword(s.password))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("send mail %s: %w", m.ID, err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if stopWatch != nil {
		stopWatch()
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return &sendError{msg: fmt.Sprintf("send mail %s: %s", m.ID, redact(err.Error(), m.To)), err: err}
	}
	return nil
}

// build turns m into a go-mail message.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	if m.ID != "" && !messageIDPart.MatchString(m.ID) {
		return nil, fmt.Errorf("id %q unusable in a Message-ID", m.ID)
	}
	if m.Text == "" {
		return nil, errors.New("no text body")
	}
	if strings.ContainsFunc(m.Subject, isControl) {
		return nil, errors.New("subject has control characters")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from := s.from
	msg.FromMailAddress(&from)
	if err := msg.To(m.To); err != nil {
		return nil, errors.New("invalid recipient address") // the error would repeat it
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	}
	// RFC 3834: no vacation replies to account mail.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// sendError is a failed delivery. Its text has the recipient's address
// taken out (go-mail and servers quote it), because it is logged and
// stored with the mail; the cause is still there for errors.Is and As.
type sendError struct {
	msg string
	err error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

// redact replaces every occurrence of addr (case-insensitively: servers
// may lower-case it) in s.
func redact(s, addr string) string {
	if addr == "" {
		return s
	}
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(addr))
	return re.ReplaceAllString(s, "<recipient>")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
