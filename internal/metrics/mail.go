package metrics

import "github.com/prometheus/client_golang/prometheus"

// mail counts what the outbox sender does, by kind of mail
// (internal/mail's Counters).
type mail struct {
	sent, retried, gaveUp *prometheus.CounterVec
	securityLogFailures   prometheus.Counter
}

func newMail() *mail {
	return &mail{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mail_sent_total", Help: "Mail accepted by the SMTP server (or written to the log without SMTP_URL), by kind.",
		}, []string{"kind"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mail_retries_total", Help: "Failed attempts at sending mail that will be retried, by kind.",
		}, []string{"kind"}),
		gaveUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mail_given_up_total", Help: "Mail the sender stopped retrying (after 24 h of failures), by kind: each is an error in the log.",
		}, []string{"kind"}),
		securityLogFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "security_log_write_failures_total", Help: "Security log events that could not be written; the requests that caused them succeeded.",
		}),
	}
}

func (m *mail) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.sent, m.retried, m.gaveUp, m.securityLogFailures}
}

// SecurityLogFailures counts security log events that could not be
// written (the request went on).
func (m *Metrics) SecurityLogFailures() prometheus.Counter { return m.mail.securityLogFailures }

// MailSent counts a mail delivered.
func (m *Metrics) MailSent(kind string) { m.mail.sent.WithLabelValues(kind).Inc() }

// MailRetried counts a failed attempt that will be retried.
func (m *Metrics) MailRetried(kind string) { m.mail.retried.WithLabelValues(kind).Inc() }

// MailGaveUp counts a mail given up on.
func (m *Metrics) MailGaveUp(kind string) { m.mail.gaveUp.WithLabelValues(kind).Inc() }
