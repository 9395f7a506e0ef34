package smtptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// Message is one message the server accepted, with its MIME structure
// undone: Text and HTML are the decoded text/plain and text/html parts
// (the first of each, at any depth of multipart nesting), with line
// endings turned from CRLF into LF.
type Message struct {
	// From is the From header, its encoded words decoded, e.g.
	// `"Flashcards" <no-reply@example.com>`; net/mail.ParseAddress reads it.
	From string
	// EnvelopeFrom is the address given in MAIL FROM.
	EnvelopeFrom string
	// To is the envelope recipients (RCPT TO): where the message went.
	To []string
	// Subject is the Subject header, decoded.
	Subject   string
	Text      string
	HTML      string
	MessageID string // the Message-ID header as sent, angle brackets included
	Header    mail.Header
	Raw       []byte
	// AuthUser is the username the client authenticated as, or "".
	AuthUser string
	// TLS says whether the message arrived over TLS (implicit or STARTTLS).
	TLS bool
	At  time.Time
}

// Link returns the first URL in Text that starts with prefix, failing the
// test if there is none. The URL ends at white space or at a character
// that cannot end one in text (<, >, ", ', parentheses).
func (m Message) Link(t testing.TB, prefix string) string {
	t.Helper()
	i := strings.Index(m.Text, prefix)
	if i < 0 {
		t.Fatalf("smtptest: no link starting with %q in the text of %q:\n%s", prefix, m.Subject, m.Text)
		return ""
	}
	rest := m.Text[i:]
	if end := strings.IndexAny(rest, " \t\r\n<>\"'()"); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// parse reads a raw RFC 5322 message into a Message.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("parse message: %w", err)
	}
	var dec mime.WordDecoder
	m := Message{Header: msg.Header, Raw: raw, MessageID: msg.Header.Get("Message-ID")}
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Message{}, fmt.Errorf("decode Subject: %w", err)
	}
	if m.From, err = dec.DecodeHeader(msg.Header.Get("From")); err != nil {
		return Message{}, fmt.Errorf("decode From: %w", err)
	}
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return Message{}, err
	}
	return m, nil
}

// walk decodes one MIME entity, descending into multipart ones, and keeps
// the first text/plain and text/html bodies.
func (m *Message) walk(contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("parse Content-Type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart leaves the transfer encoding to walk, so every
			// part is decoded the same way.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s part: %w", mediaType, err)
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
		r = body
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks
	default:
		return fmt.Errorf("unknown Content-Transfer-Encoding %q", encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("decode %s body (%s): %w", mediaType, encoding, err)
	}
	// SMTP carries lines ending in CRLF; tests compare with Go strings.
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = text
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}
