package mail

import (
	"context"
	"log/slog"
)

// NewLog returns the Transport for development without an SMTP server
// (SMTP_URL unset): each message becomes one info line with its recipient,
// subject and text body, links included, so a developer can follow them.
// It is the one place a message body or token may reach a log. Send always
// returns nil.
func NewLog(logger *slog.Logger) Transport {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return logTransport{logger: logger}
}

type logTransport struct{ logger *slog.Logger }

func (l logTransport) Send(ctx context.Context, m Message) error {
	l.logger.InfoContext(ctx, "mail not sent: no SMTP server, logged instead",
		"id", m.ID, "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
