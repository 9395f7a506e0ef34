package config

import (
	"errors"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// SMTPServer is where mail goes (SMTP_URL).
type SMTPServer struct {
	Host string
	Port int
	// Username and Password, when Username is set, authenticate.
	Username, Password string
	// ImplicitTLS is smtps://: TLS from the first byte. smtp:// upgrades
	// with STARTTLS when the server offers it.
	ImplicitTLS bool
}

// parseSMTPURL reads SMTP_URL: empty (mail to the log), or
// smtp://[user:pass@]host[:port] or smtps://….
func parseSMTPURL(c *Config, v string) error {
	c.SMTP = nil
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("must be a URL such as smtp://user:pass@mail.example.com:587")
	}
	s := &SMTPServer{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Port, s.ImplicitTLS = 465, true
	default:
		return errors.New("must start with smtp:// or smtps://")
	}
	if s.Host == "" {
		return errors.New("must name a host, as in smtp://mail.example.com:587")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must be only scheme, optional user:pass, host and port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("must have a port from 1 to 65535")
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	c.SMTP = s
	return nil
}

// parseMailFrom reads MAIL_FROM: one plain address.
func parseMailFrom(c *Config, v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return errors.New("must be one address such as no-reply@example.com")
	}
	c.MailFrom = v
	return nil
}

// parseAppURL reads APP_URL: an http(s) URL, perhaps with a path, that
// links in mail are built on.
func parseAppURL(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(v, " \t\n") {
		return errors.New("must be an http(s) URL such as https://app.example.com, without query or fragment")
	}
	c.AppURL = strings.TrimRight(v, "/")
	return nil
}

// parseAppName reads APP_NAME: one line of at most 64 printable characters,
// since it goes into mail headers.
func parseAppName(c *Config, v string) error {
	if len(v) > 64 || strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return errors.New("must be at most 64 printable characters")
	}
	c.AppName = v
	return nil
}
