// Package config reads the server's settings from the environment once, at
// start, into one struct. Every variable is validated here so that a typo
// stops the server with a one-line message naming the variable, instead of
// surfacing later as odd behaviour.
//
// The settings are one table (Settings): Load parses it and the server's
// -h output prints it, so the help cannot drift from what is read.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is every setting the server reads. Field comments name the
// environment variable; Settings says what each one means.
type Config struct {
	Port          int    // PORT
	Host          string // HOST; empty means all interfaces
	RedisURL      string // REDIS_URL, as RedisNodes parses it; empty means an in-process Redis
	MongoURI      string // MONGODB_URI; empty means an in-process FerretDB
	MongoDatabase string // MONGODB_DATABASE
	DataDir       string // DATA_DIR, for the in-process database

	CORSOrigins []string // CORS_ORIGINS

	CookieSecure bool          // COOKIE_SECURE
	CookieName   string        // SESSION_COOKIE_NAME
	IdleTimeout  time.Duration // SESSION_IDLE_TIMEOUT
	Lifetime     time.Duration // SESSION_LIFETIME

	Introspection bool // GRAPHQL_INTROSPECTION
	MaxDepth      int  // GRAPHQL_MAX_DEPTH
	MaxComplexity int  // GRAPHQL_MAX_COMPLEXITY

	BcryptCost     int            // BCRYPT_COST
	TrustedProxies []netip.Prefix // TRUSTED_PROXIES

	LoginLimitPerEmail  int           // LOGIN_LIMIT_PER_EMAIL
	LoginLimitPerIP     int           // LOGIN_LIMIT_PER_IP
	LoginLimitWindow    time.Duration // LOGIN_LIMIT_WINDOW
	RegisterLimitPerIP  int           // REGISTER_LIMIT_PER_IP
	RegisterLimitWindow time.Duration // REGISTER_LIMIT_WINDOW

	StoreTimeout    time.Duration // STORE_TIMEOUT
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT

	WSMaxOperations int // WS_MAX_OPERATIONS: operations one websocket runs at once

	PasswordMinScore int // PASSWORD_MIN_SCORE: the least zxcvbn score of a new password

	AppName              string        // APP_NAME
	AppURL               string        // APP_URL, without a trailing slash
	SMTP                 *SMTPServer   // SMTP_URL; nil: mail is written to the log
	MailFrom             string        // MAIL_FROM
	PasswordResetTTL     time.Duration // PASSWORD_RESET_TTL
	EmailVerificationTTL time.Duration // EMAIL_VERIFICATION_TTL

	// EncryptionKeys is ENCRYPTION_KEY as secretbox.ParseKeys reads it;
	// empty (only with the in-process MongoDB) means a key generated into
	// DATA_DIR.
	EncryptionKeys       string
	SecurityLogRetention time.Duration // SECURITY_LOG_RETENTION

	WebAuthnRPID    string   // WEBAUTHN_RP_ID
	WebAuthnOrigins []string // WEBAUTHN_ORIGINS

	LogJSON  bool       // LOG_FORMAT=json; text otherwise
	LogLevel slog.Level // LOG_LEVEL
}

// StoresInProcess reports whether both stores run inside the process,
// which makes HOST default to the loopback address.
func (c Config) StoresInProcess() bool { return c.RedisURL == "" && c.MongoURI == "" }

// Setting is one environment variable the server reads.
type Setting struct {
	Name string
	// Default is the value used when the variable is unset or blank; when
	// it is empty, Unset says what happens instead.
	Default string
	// Unset, when set, describes the default in words: a default that
	// depends on another setting, or what no value means.
	Unset string
	// Meaning says what the variable sets and which values it takes.
	Meaning string

	// parse validates v (the trimmed value, or Default) into c. It may
	// read the fields of settings listed before it.
	parse func(c *Config, v string) error
}

// DefaultText is the default as the help shows it.
func (s Setting) DefaultText() string {
	switch {
	case s.Unset != "":
		return s.Unset
	case s.Default == "":
		return "empty"
	}
	return s.Default
}

// Settings returns every setting, in the order Load reads them. Both Load
// and Usage read this one table.
func Settings() []Setting { return append([]Setting(nil), settings...) }

var settings = []Setting{
	{"PORT", "8080", "", "listen port (0: any free port)", intIn(func(c *Config) *int { return &c.Port }, 0, 65535)},
	{"REDIS_URL", "", "unset: an in-process Redis (miniredis); sessions are lost on restart",
		"redis://…, rediss://…, or a Redis Cluster as comma-separated nodes, each redis://host:port or host:port", parseRedisURL},
	{"MONGODB_URI", "", "unset: an in-process MongoDB-compatible server (FerretDB), data in DATA_DIR",
		"a mongodb:// or mongodb+srv:// connection string", parseMongoURI},
	{"HOST", "", "127.0.0.1 when both stores are in-process, else all interfaces",
		"listen address (an IP address or host name; 0.0.0.0 or :: for all interfaces)", parseHost},
	{"MONGODB_DATABASE", "app", "", "database name", str(func(c *Config) *string { return &c.MongoDatabase })},
	{"DATA_DIR", "./data", "", "where the in-process database keeps its files", str(func(c *Config) *string { return &c.DataDir })},
	{"CORS_ORIGINS", "http://localhost:5173,http://localhost:3000", "", "allowed browser origins, comma-separated (scheme://host[:port])", parseOrigins},

	{"COOKIE_SECURE", "false", "", "HTTPS-only session cookie with the __Host- name", boolean(func(c *Config) *bool { return &c.CookieSecure })},
	{"SESSION_COOKIE_NAME", "", "sid; __Host-sid with COOKIE_SECURE=true", "session cookie name", parseCookieName},
	{"SESSION_IDLE_TIMEOUT", "24h", "", "a session ends after this long unused (Go duration)", duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"SESSION_LIFETIME", "720h", "", "a session ends this long after sign-in, however active (Go duration, at least SESSION_IDLE_TIMEOUT)", parseLifetime},

	{"GRAPHQL_INTROSPECTION", "true", "", "schema introspection on or off", boolean(func(c *Config) *bool { return &c.Introspection })},
	{"GRAPHQL_MAX_DEPTH", "15", "", "deeper queries are refused before they run (1 to 1000)", intIn(func(c *Config) *int { return &c.MaxDepth }, 1, 1000)},
	{"GRAPHQL_MAX_COMPLEXITY", "2000", "", "costlier queries are refused before they run", intIn(func(c *Config) *int { return &c.MaxComplexity }, 1, 10_000_000)},

	{"BCRYPT_COST", "12", "", "password hashing cost, 4 to 31", intIn(func(c *Config) *int { return &c.BcryptCost }, 4, 31)},
	{"TRUSTED_PROXIES", "", "", "CIDRs whose X-Forwarded-For is believed for the client address, comma-separated", parseProxies},

	{"LOGIN_LIMIT_PER_EMAIL", "5", "", "failed logins per email per LOGIN_LIMIT_WINDOW", intIn(func(c *Config) *int { return &c.LoginLimitPerEmail }, 1, 1_000_000)},
	{"LOGIN_LIMIT_PER_IP", "20", "", "failed logins per client address per LOGIN_LIMIT_WINDOW", intIn(func(c *Config) *int { return &c.LoginLimitPerIP }, 1, 1_000_000)},
	{"LOGIN_LIMIT_WINDOW", "15m", "", "Go duration", duration(func(c *Config) *time.Duration { return &c.LoginLimitWindow })},
	{"REGISTER_LIMIT_PER_IP", "10", "", "registrations per client address per REGISTER_LIMIT_WINDOW", intIn(func(c *Config) *int { return &c.RegisterLimitPerIP }, 1, 1_000_000)},
	{"REGISTER_LIMIT_WINDOW", "1h", "", "Go duration", duration(func(c *Config) *time.Duration { return &c.RegisterLimitWindow })},

	{"STORE_TIMEOUT", "2s", "", "longest wait for one Redis or MongoDB call before SERVICE_UNAVAILABLE", duration(func(c *Config) *time.Duration { return &c.StoreTimeout })},
	{"SHUTDOWN_TIMEOUT", "10s", "", "how long SIGTERM waits for in-flight requests", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"WS_MAX_OPERATIONS", "10", "", "operations one websocket may run at once", intIn(func(c *Config) *int { return &c.WSMaxOperations }, 1, 10_000)},

	{"PASSWORD_MIN_SCORE", "1", "", "0 to 4: the least zxcvbn score a new password needs (1 refuses common passwords, keyboard walks, repeats, the email itself)",
		intIn(func(c *Config) *int { return &c.PasswordMinScore }, 0, 4)},

	{"APP_NAME", "sessiongql", "", "the product's name: the sender name of mail, the issuer in authenticator apps", parseAppName},
	{"APP_URL", "http://localhost:5173", "", "the web app's base URL, for links in mail (…/reset-password, …/verify-email)", parseAppURL},
	{"SMTP_URL", "", "unset: mail is written to the log instead (for development)",
		"smtp://[user:pass@]host[:port] (port 587; STARTTLS when offered) or smtps://… (port 465)", parseSMTPURL},
	{"MAIL_FROM", "no-reply@localhost", "", "the sender address of mail", parseMailFrom},
	{"PASSWORD_RESET_TTL", "30m", "", "how long a password reset link works (Go duration, at least 1s)", atLeastSecond(func(c *Config) *time.Duration { return &c.PasswordResetTTL })},
	{"EMAIL_VERIFICATION_TTL", "24h", "", "how long an email verification link works (Go duration, at least 1s)", atLeastSecond(func(c *Config) *time.Duration { return &c.EmailVerificationTTL })},

	{"ENCRYPTION_KEY", "", "generated into DATA_DIR with the in-process MongoDB; required with MONGODB_URI",
		"32 random bytes in base64 (head -c32 /dev/urandom | base64) that encrypt TOTP secrets at rest; to rotate, list the new key first and the old after it, comma-separated", parseEncryptionKey},
	{"SECURITY_LOG_RETENTION", "2160h", "", "how long security log events are kept (Go duration)", duration(func(c *Config) *time.Duration { return &c.SecurityLogRetention })},

	{"WEBAUTHN_RP_ID", "localhost", "", "the passkeys' relying party: your site's domain (the web app's host or a parent of it)", parseRPID},
	{"WEBAUTHN_ORIGINS", "", "CORS_ORIGINS", "the origins passkey ceremonies may come from, comma-separated (scheme://host[:port]; https except for localhost)", parseWebAuthnOrigins},

	{"LOG_FORMAT", "text", "", "text or json: every line on stderr in that format", parseLogFormat},
	{"LOG_LEVEL", "info", "", "debug, info, warn or error: the least level logged", parseLogLevel},
	// Read by internal/tracing with the other standard OTEL_* variables;
	// listed here so that -h shows it.
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "unset: no tracing",
		"OTLP over HTTP (protobuf) collector for traces, e.g. http://localhost:4318; the standard OTEL_* variables apply", func(*Config, string) error { return nil }},
}

// Load reads and validates the configuration. getenv is os.Getenv in main
// and a map lookup in tests. The error names the first bad variable, in
// one line.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	for _, s := range settings {
		if err := s.read(&c, getenv); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// read parses s's value from getenv into c; the error names s.
func (s Setting) read(c *Config, getenv func(string) string) error {
	v := strings.TrimSpace(getenv(s.Name))
	shown := v
	if v == "" {
		v = s.Default
	}
	if err := s.parse(c, v); err != nil {
		switch s.Name {
		case "REDIS_URL", "MONGODB_URI", "SMTP_URL":
			shown = redact(shown)
		case "ENCRYPTION_KEY":
			shown = "(not shown)"
		}
		return fmt.Errorf("%s=%q: %w", s.Name, shown, err)
	}
	return nil
}

// LogSettings reads LOG_FORMAT and LOG_LEVEL alone, falling back to text
// and info for a value Load refuses. It is for the one line main writes
// when Load (or anything after it) fails.
func LogSettings(getenv func(string) string) (json bool, level slog.Level) {
	var c Config
	for _, s := range settings {
		if s.Name == "LOG_FORMAT" || s.Name == "LOG_LEVEL" {
			_ = s.read(&c, getenv)
		}
	}
	return c.LogJSON, c.LogLevel
}

// Usage writes every setting with its default and meaning, for -h.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "Settings (environment variables):")
	for _, s := range settings {
		fmt.Fprintf(w, "  %s (default: %s)\n      %s\n", s.Name, s.DefaultText(), s.Meaning)
	}
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func intIn(field func(*Config) *int, lo, hi int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		*field(c) = n
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

func duration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive Go duration such as 90s, 15m or 24h")
		}
		*field(c) = d
		return nil
	}
}

// atLeastSecond is a duration of at least a second: a link's lifetime.
func atLeastSecond(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return errors.New("must be a Go duration of at least 1s, such as 30m or 24h")
		}
		*field(c) = d
		return nil
	}
}

// parseRedisURL reads REDIS_URL: empty, or what RedisNodes accepts.
func parseRedisURL(c *Config, v string) error {
	if v != "" {
		if _, err := RedisNodes(v); err != nil {
			return err
		}
	}
	c.RedisURL = v
	return nil
}

// parseMongoURI reads MONGODB_URI: empty, or a MongoDB connection string.
func parseMongoURI(c *Config, v string) error {
	if v != "" {
		if err := checkMongoURI(v); err != nil {
			return err
		}
	}
	c.MongoURI = v
	return nil
}

// parseHost reads HOST. Unset, a server whose stores are both in-process
// is a development server: it listens on the loopback address only, so it
// is not put on the network by accident.
func parseHost(c *Config, v string) error {
	if v == "" {
		if c.StoresInProcess() {
			c.Host = "127.0.0.1"
		}
		return nil
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	if _, err := netip.ParseAddr(v); err != nil && !isHostName(v) {
		return errors.New("must be an IP address or a host name, without a port")
	}
	c.Host = v
	return nil
}

// isHostName reports whether s is made of a DNS name's characters.
func isHostName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return s != ""
}

func parseOrigins(c *Config, v string) error {
	c.CORSOrigins = nil
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if !isOrigin(o) {
			c.CORSOrigins = nil
			return errors.New("must list origins such as https://app.example.com (scheme and host, no path, no *)")
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	return nil
}

// isOrigin reports whether o is exactly an http(s) origin as a browser
// sends it: scheme and host (with an optional port), nothing else.
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return false
	}
	return u.Scheme+"://"+u.Host == o && !strings.ContainsAny(u.Host, " \t")
}

func parseProxies(c *Config, v string) error {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return errors.New("must be comma-separated CIDRs such as 10.0.0.0/8")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	c.TrustedProxies = out
	return nil
}

// parseCookieName reads SESSION_COOKIE_NAME, after COOKIE_SECURE.
func parseCookieName(c *Config, v string) error {
	if v == "" {
		v = "sid"
		if c.CookieSecure {
			v = "__Host-sid"
		}
	}
	for _, r := range v {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return errors.New("must be a cookie token: letters, digits and !#$%&'*+-.^_`|~")
		}
	}
	if strings.HasPrefix(v, "__Host-") && !c.CookieSecure {
		return errors.New("the __Host- prefix needs COOKIE_SECURE=true")
	}
	c.CookieName = v
	return nil
}

// parseLifetime reads SESSION_LIFETIME, after SESSION_IDLE_TIMEOUT.
func parseLifetime(c *Config, v string) error {
	if err := duration(func(c *Config) *time.Duration { return &c.Lifetime })(c, v); err != nil {
		return err
	}
	if c.Lifetime < c.IdleTimeout {
		return fmt.Errorf("must not be shorter than SESSION_IDLE_TIMEOUT=%s", c.IdleTimeout)
	}
	return nil
}

func parseLogFormat(c *Config, v string) error {
	switch strings.ToLower(v) {
	case "text":
		c.LogJSON = false
	case "json":
		c.LogJSON = true
	default:
		return errors.New("must be text or json")
	}
	return nil
}

func parseLogLevel(c *Config, v string) error {
	switch strings.ToLower(v) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return errors.New("must be debug, info, warn or error")
	}
	return nil
}
