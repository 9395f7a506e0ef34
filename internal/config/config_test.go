package config

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// testKey is an ENCRYPTION_KEY: 32 bytes, base64.
const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.CookieName != "sid" || c.IdleTimeout != 24*time.Hour || c.Lifetime != 720*time.Hour ||
		c.BcryptCost != 12 || !c.Introspection || c.MongoDatabase != "app" || c.DataDir != "./data" ||
		c.StoreTimeout != 2*time.Second || c.ShutdownTimeout != 10*time.Second || c.MaxDepth != 15 || c.MaxComplexity != 2000 ||
		c.LoginLimitPerEmail != 5 || c.LoginLimitPerIP != 20 || c.LoginLimitWindow != 15*time.Minute ||
		c.RegisterLimitPerIP != 10 || c.RegisterLimitWindow != time.Hour || len(c.CORSOrigins) != 2 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadSecureCookieDefaultsToHostPrefix(t *testing.T) {
	c, err := Load(env(map[string]string{"COOKIE_SECURE": "true"}))
	if err != nil || c.CookieName != "__Host-sid" || !c.CookieSecure {
		t.Fatalf("got %q %v %v", c.CookieName, c.CookieSecure, err)
	}
}

func TestLoadRefusesBadValuesNamingTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"BCRYPT_COST": "99"}, "BCRYPT_COST"},
		{map[string]string{"BCRYPT_COST": "3"}, "BCRYPT_COST"},
		{map[string]string{"SESSION_IDLE_TIMEOUT": "banana"}, "SESSION_IDLE_TIMEOUT"},
		{map[string]string{"SESSION_IDLE_TIMEOUT": "-5m"}, "SESSION_IDLE_TIMEOUT"},
		{map[string]string{"SESSION_LIFETIME": "1h", "SESSION_IDLE_TIMEOUT": "2h"}, "SESSION_LIFETIME"},
		{map[string]string{"PORT": "http"}, "PORT"},
		{map[string]string{"PORT": "70000"}, "PORT"},
		{map[string]string{"COOKIE_SECURE": "yes please"}, "COOKIE_SECURE"},
		{map[string]string{"CORS_ORIGINS": "*"}, "CORS_ORIGINS"},
		{map[string]string{"CORS_ORIGINS": "https://a.example/path"}, "CORS_ORIGINS"},
		{map[string]string{"CORS_ORIGINS": "http:// /"}, "CORS_ORIGINS"},
		{map[string]string{"CORS_ORIGINS": "https://user@a.example"}, "CORS_ORIGINS"},
		{map[string]string{"CORS_ORIGINS": "https://a.example?x=1"}, "CORS_ORIGINS"},
		{map[string]string{"TRUSTED_PROXIES": "10.0.0.0/99"}, "TRUSTED_PROXIES"},
		{map[string]string{"SESSION_COOKIE_NAME": "bad name;"}, "SESSION_COOKIE_NAME"},
		{map[string]string{"SESSION_COOKIE_NAME": "__Host-x"}, "SESSION_COOKIE_NAME"},
		{map[string]string{"GRAPHQL_INTROSPECTION": "maybe"}, "GRAPHQL_INTROSPECTION"},
		{map[string]string{"STORE_TIMEOUT": "0s"}, "STORE_TIMEOUT"},
		{map[string]string{"LOGIN_LIMIT_PER_EMAIL": "0"}, "LOGIN_LIMIT_PER_EMAIL"},
		{map[string]string{"REDIS_URL": "ftp://x"}, "REDIS_URL"},
		{map[string]string{"REDIS_URL": "localhost:6379"}, "REDIS_URL"},
		{map[string]string{"REDIS_URL": "redis://x:notaport"}, "REDIS_URL"},
		{map[string]string{"SMTP_URL": "http://mail.example"}, "SMTP_URL"},
		{map[string]string{"SMTP_URL": "smtp://"}, "SMTP_URL"},
		{map[string]string{"SMTP_URL": "smtp://mail.example:0"}, "SMTP_URL"},
		{map[string]string{"SMTP_URL": "smtp://mail.example/path"}, "SMTP_URL"},
		{map[string]string{"MAIL_FROM": "App <no-reply@example.com>"}, "MAIL_FROM"},
		{map[string]string{"MAIL_FROM": "not an address"}, "MAIL_FROM"},
		{map[string]string{"APP_URL": "app.example.com"}, "APP_URL"},
		{map[string]string{"APP_URL": "https://app.example.com/?x=1"}, "APP_URL"},
		{map[string]string{"APP_URL": "javascript:alert(1)"}, "APP_URL"},
		{map[string]string{"APP_NAME": "two\nlines"}, "APP_NAME"},
		{map[string]string{"PASSWORD_RESET_TTL": "500ms"}, "PASSWORD_RESET_TTL"},
		{map[string]string{"EMAIL_VERIFICATION_TTL": "soon"}, "EMAIL_VERIFICATION_TTL"},
		{map[string]string{"PASSWORD_MIN_SCORE": "5"}, "PASSWORD_MIN_SCORE"},
		{map[string]string{"MONGODB_URI": "mongodb://h/"}, "ENCRYPTION_KEY"},
		{map[string]string{"ENCRYPTION_KEY": "c2hvcnQ="}, "ENCRYPTION_KEY"},
		{map[string]string{"ENCRYPTION_KEY": testKey + "," + testKey}, "ENCRYPTION_KEY"},
		{map[string]string{"SECURITY_LOG_RETENTION": "forever"}, "SECURITY_LOG_RETENTION"},
		{map[string]string{"WEBAUTHN_RP_ID": "https://example.com"}, "WEBAUTHN_RP_ID"},
		{map[string]string{"WEBAUTHN_RP_ID": "example.com:443"}, "WEBAUTHN_RP_ID"},
		{map[string]string{"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "https://evil.test"}, "WEBAUTHN_ORIGINS"},
		{map[string]string{"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "https://notexample.com"}, "WEBAUTHN_ORIGINS"},
		{map[string]string{"REDIS_URL": "redis://x/notadb"}, "REDIS_URL"},
		{map[string]string{"REDIS_URL": "a:7000,,b:7001"}, "REDIS_URL"},
		{map[string]string{"REDIS_URL": "a:7000,ftp://b:7001"}, "REDIS_URL"},
		{map[string]string{"MONGODB_URI": "notauri"}, "MONGODB_URI"},
		{map[string]string{"MONGODB_URI": "mongodb://"}, "MONGODB_URI"},
		{map[string]string{"MONGODB_URI": "mongodb://h:99999/"}, "MONGODB_URI"},
		{map[string]string{"MONGODB_URI": "mongodb://h/?connectTimeoutMS=soon"}, "MONGODB_URI"},
		{map[string]string{"MONGODB_URI": "postgres://h/db"}, "MONGODB_URI"},
		{map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"LOG_LEVEL": "info+2"}, "LOG_LEVEL"},
		{map[string]string{"HOST": "a host"}, "HOST"},
		{map[string]string{"HOST": "127.0.0.1:80"}, "HOST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil || !strings.HasPrefix(err.Error(), tt.name+"=") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line starting with %s=", err, tt.name)
			}
		})
	}
}

func TestLoadParsesListsAndDurations(t *testing.T) {
	c, err := Load(env(map[string]string{
		"CORS_ORIGINS":         " https://a.example , http://localhost:5173/ ",
		"TRUSTED_PROXIES":      "10.0.0.0/8, 192.168.1.7",
		"SESSION_IDLE_TIMEOUT": "90m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.CORSOrigins, " ") != "https://a.example http://localhost:5173" {
		t.Errorf("origins %q", c.CORSOrigins)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.168.1.7/32" {
		t.Errorf("proxies %v", c.TrustedProxies)
	}
	if c.IdleTimeout != 90*time.Minute {
		t.Errorf("idle %v", c.IdleTimeout)
	}
}

func TestLoadAcceptsStoreAddresses(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"REDIS_URL", "redis://localhost:6379/0"},
		{"REDIS_URL", "rediss://user:p%40ss@redis.example:6380"},
		{"REDIS_URL", "redis://a:7000, b:7001 ,rediss://c:7002"},
		{"MONGODB_URI", "mongodb://localhost:27017/"},
		{"MONGODB_URI", "mongodb://u:p@a:27017,b:27017/app?replicaSet=rs0&authSource=admin"},
		// Checked for its scheme only: parsing it looks up DNS records.
		{"MONGODB_URI", "mongodb+srv://cluster0.example.net/app"},
	} {
		c, err := Load(env(map[string]string{tt.name: tt.value, "ENCRYPTION_KEY": testKey}))
		if err != nil {
			t.Errorf("%s=%s: %v", tt.name, tt.value, err)
			continue
		}
		if got := map[string]string{"REDIS_URL": c.RedisURL, "MONGODB_URI": c.MongoURI}[tt.name]; got != tt.value {
			t.Errorf("%s=%s: read as %q", tt.name, tt.value, got)
		}
	}
}

func TestRedisNodesTellsASingleServerFromACluster(t *testing.T) {
	nodes, err := RedisNodes("redis://:pw@one:6379/2")
	if err != nil || len(nodes) != 1 || nodes[0].Addr != "one:6379" || nodes[0].DB != 2 || nodes[0].Password != "pw" {
		t.Fatalf("single: %+v, %v", nodes, err)
	}
	nodes, err = RedisNodes("a:7000, redis://b:7001")
	if err != nil || len(nodes) != 2 || nodes[0].Addr != "a:7000" || nodes[1].Addr != "b:7001" {
		t.Fatalf("cluster: %+v, %v", nodes, err)
	}
}

// The error quotes the value, which an operator reads in a log: a
// password in it is replaced, whatever the parser's reason says.
func TestLoadErrorHidesPasswords(t *testing.T) {
	for _, tt := range []struct{ name, value, want string }{
		{"REDIS_URL", "redis://user:s3cret@host:notaport", `REDIS_URL="redis://user:xxxxx@host:notaport": `},
		{"REDIS_URL", "ftp://:s3cret@host", `REDIS_URL="ftp://:xxxxx@host": `},
		{"REDIS_URL", "a:7000,redis://:s3cret@b:x", `REDIS_URL="a:7000,redis://:xxxxx@b:x": `},
		{"MONGODB_URI", "mongodb://u:s3cret@h:99999/", `MONGODB_URI="mongodb://u:xxxxx@h:99999/": `},
		{"MONGODB_URI", "mongodb://u:s3c%zzret@h/", `MONGODB_URI="mongodb://u:xxxxx@h/": `},
		{"MONGODB_URI", "http://u:s3cret@h/", `MONGODB_URI="http://u:xxxxx@h/": `},
	} {
		_, err := Load(env(map[string]string{tt.name: tt.value}))
		if err == nil {
			t.Errorf("%s=%s accepted", tt.name, tt.value)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, tt.want) || strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") {
			t.Errorf("%s=%s: error %q, want one line starting %s and no password", tt.name, tt.value, msg, tt.want)
		}
	}
}

// The help and Load share one table: every variable Load reads is in it,
// and nothing else.
func TestLoadReadsExactlyTheSettingsTable(t *testing.T) {
	var read []string
	if _, err := Load(func(k string) string { read = append(read, k); return "" }); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range Settings() {
		if s.Name == "" || s.Meaning == "" || s.DefaultText() == "" {
			t.Errorf("setting %+v lacks a name, meaning or default", s)
		}
		names = append(names, s.Name)
	}
	if !slices.Equal(read, names) {
		t.Fatalf("Load read %v\nthe table lists %v", read, names)
	}
}

func TestHostDefaultsToLoopbackOnlyWithBothStoresInProcess(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"both in-process", nil, "127.0.0.1"},
		{"external redis", map[string]string{"REDIS_URL": "redis://r:6379"}, ""},
		{"external mongodb", map[string]string{"MONGODB_URI": "mongodb://m/"}, ""},
		{"both external", map[string]string{"REDIS_URL": "redis://r:6379", "MONGODB_URI": "mongodb://m/"}, ""},
		{"set, in-process", map[string]string{"HOST": "0.0.0.0"}, "0.0.0.0"},
		{"set, external", map[string]string{"HOST": "10.1.2.3", "MONGODB_URI": "mongodb://m/"}, "10.1.2.3"},
		{"IPv6 in brackets", map[string]string{"HOST": "[::1]"}, "::1"},
		{"host name", map[string]string{"HOST": "localhost"}, "localhost"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{"ENCRYPTION_KEY": testKey}
			for k, v := range tt.env {
				e[k] = v
			}
			c, err := Load(env(e))
			if err != nil || c.Host != tt.want {
				t.Fatalf("HOST read as %q (%v), want %q", c.Host, err, tt.want)
			}
		})
	}
}

func TestLogSettings(t *testing.T) {
	for _, tt := range []struct {
		format, level string
		json          bool
		want          slog.Level
	}{
		{"", "", false, slog.LevelInfo},
		{"json", "warn", true, slog.LevelWarn},
		{"JSON", "DEBUG", true, slog.LevelDebug},
		{"text", "error", false, slog.LevelError},
		// Refused by Load; main still needs a format for the line naming it.
		{"xml", "loud", false, slog.LevelInfo},
	} {
		vars := map[string]string{"LOG_FORMAT": tt.format, "LOG_LEVEL": tt.level}
		if json, level := LogSettings(env(vars)); json != tt.json || level != tt.want {
			t.Errorf("%v: json %v level %v, want %v %v", vars, json, level, tt.json, tt.want)
		}
		if c, err := Load(env(vars)); err == nil && (c.LogJSON != tt.json || c.LogLevel != tt.want) {
			t.Errorf("%v: Load read json %v level %v", vars, c.LogJSON, c.LogLevel)
		}
	}
}

func TestLoadReadsMailAndSecuritySettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP != nil || c.MailFrom != "no-reply@localhost" || c.AppURL != "http://localhost:5173" || c.AppName != "sessiongql" ||
		c.PasswordResetTTL != 30*time.Minute || c.EmailVerificationTTL != 24*time.Hour || c.PasswordMinScore != 1 ||
		c.EncryptionKeys != "" || c.SecurityLogRetention != 2160*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	for _, tt := range []struct {
		url  string
		want SMTPServer
	}{
		{"smtp://mail.example", SMTPServer{Host: "mail.example", Port: 587}},
		{"smtp://mail.example:1025", SMTPServer{Host: "mail.example", Port: 1025}},
		{"smtps://u%40x:p%3Ass@mail.example", SMTPServer{Host: "mail.example", Port: 465, Username: "u@x", Password: "p:ss", ImplicitTLS: true}},
	} {
		c, err := Load(env(map[string]string{"SMTP_URL": tt.url}))
		if err != nil || c.SMTP == nil || *c.SMTP != tt.want {
			t.Errorf("SMTP_URL=%s: %+v, %v; want %+v", tt.url, c.SMTP, err, tt.want)
		}
	}
	c, err = Load(env(map[string]string{"APP_URL": "https://app.example.com/base/", "MONGODB_URI": "mongodb://h/", "ENCRYPTION_KEY": " " + testKey + " "}))
	if err != nil || c.AppURL != "https://app.example.com/base" || c.EncryptionKeys != testKey {
		t.Fatalf("APP_URL %q, ENCRYPTION_KEY %q, %v", c.AppURL, c.EncryptionKeys, err)
	}
}

// Neither the SMTP password nor any part of an encryption key reaches
// the one-line error an operator reads.
func TestLoadErrorHidesMailPasswordAndKeys(t *testing.T) {
	for _, tt := range []struct{ name, value, secret string }{
		{"SMTP_URL", "smtp://u:s3cret@h:notaport", "s3cret"},
		{"ENCRYPTION_KEY", "s3cretAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "s3cret"},
		{"ENCRYPTION_KEY", testKey + ",s3cret", "s3cret"},
	} {
		_, err := Load(env(map[string]string{tt.name: tt.value}))
		if err == nil {
			t.Errorf("%s=%s accepted", tt.name, tt.value)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, tt.name+"=") || strings.Contains(msg, tt.secret) || strings.Contains(msg, "MDEy") {
			t.Errorf("%s: error %q names a secret", tt.name, msg)
		}
	}
}

func TestLoadReadsWebAuthnSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"CORS_ORIGINS": "http://localhost:5173"}))
	if err != nil || c.WebAuthnRPID != "localhost" || !slices.Equal(c.WebAuthnOrigins, []string{"http://localhost:5173"}) {
		t.Fatalf("defaults: %q %v, %v", c.WebAuthnRPID, c.WebAuthnOrigins, err)
	}
	c, err = Load(env(map[string]string{"WEBAUTHN_RP_ID": "Example.com", "WEBAUTHN_ORIGINS": "https://example.com, https://app.example.com:8443"}))
	if err != nil || c.WebAuthnRPID != "example.com" || !slices.Equal(c.WebAuthnOrigins, []string{"https://example.com", "https://app.example.com:8443"}) {
		t.Fatalf("set: %q %v, %v", c.WebAuthnRPID, c.WebAuthnOrigins, err)
	}
}
