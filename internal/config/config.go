// Package config reads the server's settings from the environment once, at
// start, into one struct. Every variable is validated here so that a typo
// stops the server with a one-line message naming the variable, instead of
// surfacing later as odd behaviour.
package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is every setting the server reads. Field comments name the
// environment variable; API.md's configuration table is the reference.
type Config struct {
	Port          int    // PORT
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
}

// Load reads and validates the configuration. getenv is os.Getenv in main
// and a map lookup in tests. The error names the first bad variable.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Port:          r.intIn("PORT", 8080, 0, 65535),
		RedisURL:      r.redisURL("REDIS_URL"),
		MongoURI:      r.mongoURI("MONGODB_URI"),
		MongoDatabase: r.str("MONGODB_DATABASE", "app"),
		DataDir:       r.str("DATA_DIR", "./data"),
		CORSOrigins:   r.origins("CORS_ORIGINS", "http://localhost:5173,http://localhost:3000"),

		CookieSecure: r.boolean("COOKIE_SECURE", false),
		IdleTimeout:  r.duration("SESSION_IDLE_TIMEOUT", 24*time.Hour),
		Lifetime:     r.duration("SESSION_LIFETIME", 720*time.Hour),

		Introspection: r.boolean("GRAPHQL_INTROSPECTION", true),
		MaxDepth:      r.intIn("GRAPHQL_MAX_DEPTH", 15, 1, 1000),
		MaxComplexity: r.intIn("GRAPHQL_MAX_COMPLEXITY", 2000, 1, 10_000_000),

		BcryptCost:     r.intIn("BCRYPT_COST", 12, 4, 31),
		TrustedProxies: r.prefixes("TRUSTED_PROXIES"),

		LoginLimitPerEmail:  r.intIn("LOGIN_LIMIT_PER_EMAIL", 5, 1, 1_000_000),
		LoginLimitPerIP:     r.intIn("LOGIN_LIMIT_PER_IP", 20, 1, 1_000_000),
		LoginLimitWindow:    r.duration("LOGIN_LIMIT_WINDOW", 15*time.Minute),
		RegisterLimitPerIP:  r.intIn("REGISTER_LIMIT_PER_IP", 10, 1, 1_000_000),
		RegisterLimitWindow: r.duration("REGISTER_LIMIT_WINDOW", time.Hour),

		StoreTimeout:    r.duration("STORE_TIMEOUT", 2*time.Second),
		ShutdownTimeout: r.duration("SHUTDOWN_TIMEOUT", 10*time.Second),

		WSMaxOperations: r.intIn("WS_MAX_OPERATIONS", 10, 1, 10_000),
	}
	defaultName := "sid"
	if c.CookieSecure {
		defaultName = "__Host-sid"
	}
	c.CookieName = r.cookieName("SESSION_COOKIE_NAME", defaultName)
	if r.err != nil {
		return Config{}, r.err
	}
	if c.Lifetime < c.IdleTimeout {
		return Config{}, fmt.Errorf("SESSION_LIFETIME=%s: must not be shorter than SESSION_IDLE_TIMEOUT=%s", c.Lifetime, c.IdleTimeout)
	}
	if strings.HasPrefix(c.CookieName, "__Host-") && !c.CookieSecure {
		return Config{}, fmt.Errorf("SESSION_COOKIE_NAME=%s: the __Host- prefix needs COOKIE_SECURE=true", c.CookieName)
	}
	return c, nil
}

// reader keeps the first error so Load reads as a flat list of settings.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) fail(name, value, why string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s=%q: %s", name, value, why)
	}
}

func (r *reader) str(name, def string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	return v
}

// redisURL reads REDIS_URL: empty, or what RedisNodes accepts.
func (r *reader) redisURL(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return ""
	}
	if _, err := RedisNodes(v); err != nil {
		r.fail(name, redact(v), err.Error())
		return ""
	}
	return v
}

// mongoURI reads MONGODB_URI: empty, or a MongoDB connection string.
func (r *reader) mongoURI(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return ""
	}
	if err := checkMongoURI(v); err != nil {
		r.fail(name, redact(v), err.Error())
		return ""
	}
	return v
}

func (r *reader) intIn(name string, def, lo, hi int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, v, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "must be true or false")
		return def
	}
	return b
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, v, "must be a positive Go duration such as 90s, 15m or 24h")
		return def
	}
	return d
}

func (r *reader) origins(name, def string) []string {
	v := r.str(name, def)
	var out []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if !isOrigin(o) {
			r.fail(name, v, "must list origins such as https://app.example.com (scheme and host, no path, no *)")
			return nil
		}
		out = append(out, o)
	}
	return out
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

func (r *reader) prefixes(name string) []netip.Prefix {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return nil
	}
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
				r.fail(name, v, "must be comma-separated CIDRs such as 10.0.0.0/8")
				return nil
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

func (r *reader) cookieName(name, def string) string {
	v := r.str(name, def)
	for _, c := range v {
		if c > 0x7e || c <= ' ' || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			r.fail(name, v, "must be a cookie token: letters, digits and !#$%&'*+-.^_`|~")
			return def
		}
	}
	return v
}
