package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

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
