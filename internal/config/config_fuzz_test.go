package config

import (
	"strings"
	"testing"
)

// FuzzLoad feeds odd values to the settings whose checks interact. Load
// must either name the first bad variable in a one-line error or return a
// configuration the server can rely on.
func FuzzLoad(f *testing.F) {
	type seed struct{ cost, idle, lifetime, secure, cookie, proxies, origins, port string }
	for _, s := range []seed{
		{},
		{"12", "24h", "720h", "false", "sid", "10.0.0.0/8,::1", "https://app.example.com", "8080"},
		{"4", "1ns", "1ns", "true", "__Host-sid", "192.0.2.1", "http://localhost:5173/", "0"},
		{"31", "1h", "30m", "", "", "", "", ""},
		{"3", "", "", "", "", "", "", ""},
		{"32", "-5m", "0", "yes", "a b", "10.0.0.0/33", "*", "65536"},
		{" 12 ", " 90s ", "9223372036854775807ns", "1", "s\nid", "fe80::1%eth0", "https://a.example/path", "-1"},
		{"0x0c", "1e3s", "2562047h47m16.854775807s", "T", "__Host-x", "::ffff:10.0.0.0/104", "https://a.example,,http://b.example", "080"},
		{"12\n", "24h\n", "720h", "false", "sid;", "1.2.3.4, ,5.6.7.8", "ftp://x", "+80"},
	} {
		f.Add(s.cost, s.idle, s.lifetime, s.secure, s.cookie, s.proxies, s.origins, s.port)
	}
	f.Fuzz(func(t *testing.T, cost, idle, lifetime, secure, cookie, proxies, origins, port string) {
		vars := map[string]string{
			"BCRYPT_COST":          cost,
			"SESSION_IDLE_TIMEOUT": idle,
			"SESSION_LIFETIME":     lifetime,
			"COOKIE_SECURE":        secure,
			"SESSION_COOKIE_NAME":  cookie,
			"TRUSTED_PROXIES":      proxies,
			"CORS_ORIGINS":         origins,
			"PORT":                 port,
		}
		c, err := Load(env(vars))
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error spans lines: %q", msg)
			}
			name, _, ok := strings.Cut(msg, "=")
			if _, fuzzed := vars[name]; !ok || !fuzzed {
				t.Fatalf("error does not start with a fuzzed variable and '=': %q", msg)
			}
			if c.Port != 0 || c.CookieName != "" || c.TrustedProxies != nil {
				t.Fatalf("error %q with a non-zero config %+v", msg, c)
			}
			return
		}
		if c.BcryptCost < 4 || c.BcryptCost > 31 {
			t.Fatalf("bcrypt cost %d", c.BcryptCost)
		}
		if c.Port < 0 || c.Port > 65535 {
			t.Fatalf("port %d", c.Port)
		}
		for name, d := range map[string]int64{
			"idle": int64(c.IdleTimeout), "lifetime": int64(c.Lifetime),
			"login window": int64(c.LoginLimitWindow), "register window": int64(c.RegisterLimitWindow),
			"store": int64(c.StoreTimeout), "shutdown": int64(c.ShutdownTimeout),
		} {
			if d <= 0 {
				t.Fatalf("%s duration %d is not positive", name, d)
			}
		}
		if c.Lifetime < c.IdleTimeout {
			t.Fatalf("lifetime %s shorter than idle timeout %s", c.Lifetime, c.IdleTimeout)
		}
		if c.CookieName == "" || strings.HasPrefix(c.CookieName, "__Host-") && !c.CookieSecure {
			t.Fatalf("cookie name %q with secure=%v", c.CookieName, c.CookieSecure)
		}
		for _, r := range c.CookieName {
			if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
				t.Fatalf("cookie name %q has %q", c.CookieName, r)
			}
		}
		for _, p := range c.TrustedProxies {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("trusted proxy %v is not a valid masked prefix", p)
			}
		}
		for _, o := range c.CORSOrigins {
			if !(strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://")) || strings.Count(o, "/") != 2 ||
				strings.TrimSpace(o) != o || strings.HasSuffix(o, "/") {
				t.Fatalf("CORS origin %q", o)
			}
		}
	})
}

// FuzzStoreURLs feeds odd store addresses to Load: it must either refuse
// one in a one-line error naming it, or accept one the clients can use.
func FuzzStoreURLs(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""},
		{"redis://:pw@localhost:6379/1", "mongodb://u:pw@localhost:27017/app?authSource=admin"},
		{"a:7000, b:7001,rediss://c:7002", "mongodb://a,b/?replicaSet=rs"},
		{"ftp://x", "notauri"},
		{"redis://u:p@ss@h:x", "mongodb://u:p:w@h/"},
		{"a:1,,b", "mongodb+srv://cluster.example"},
		{"unix:///tmp/redis.sock", "mongodb://h/?connectTimeoutMS=soon"},
		{"@,:@,://@", "mongodb://@/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, redisURL, mongoURI string) {
		c, err := Load(env(map[string]string{"REDIS_URL": redisURL, "MONGODB_URI": mongoURI, "ENCRYPTION_KEY": testKey}))
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error spans lines: %q", msg)
			}
			if !strings.HasPrefix(msg, "REDIS_URL=") && !strings.HasPrefix(msg, "MONGODB_URI=") {
				t.Fatalf("error does not name the variable: %q", msg)
			}
			return
		}
		if c.RedisURL != "" {
			if nodes, err := RedisNodes(c.RedisURL); err != nil || len(nodes) == 0 {
				t.Fatalf("accepted REDIS_URL %q: %d nodes, %v", c.RedisURL, len(nodes), err)
			}
		}
		if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
			t.Fatalf("accepted MONGODB_URI %q", c.MongoURI)
		}
	})
}
