// Package mail composes and sends the application's email: account
// recovery links, address verification links and security notices.
//
// Templates renders each kind of message as text and HTML. A Transport
// delivers a rendered Message: SMTP in production, the log in development.
// Sender is the background worker that takes mail queued in the outbox
// (internal/store) and delivers each message once, even with several
// server instances polling the same outbox, retrying with backoff while
// the SMTP server is unavailable.
package mail

import "context"

// Message is one rendered email.
type Message struct {
	// ID is the outbox id of the mail. The SMTP transport turns it into the
	// Message-ID header (<ID@domain of From>), so a message sent again
	// after an ambiguous failure (the server may have taken it) carries
	// the same Message-ID and can be recognised as a duplicate. Sender sets
	// it; templates leave it empty.
	ID      string
	To      string
	Subject string
	Text    string
	HTML    string
}

// Transport delivers a Message. Send must honor ctx, and its error must not
// contain the message body or any credential: it is stored in the outbox
// and logged.
type Transport interface {
	Send(ctx context.Context, m Message) error
}
