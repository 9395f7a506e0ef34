package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sessiongql/server/internal/secretbox"
)

// parseEncryptionKey reads ENCRYPTION_KEY, after MONGODB_URI: required
// with an outside MongoDB, whose data outlives any one machine's DATA_DIR.
func parseEncryptionKey(c *Config, v string) error {
	if v == "" {
		if c.MongoURI != "" {
			return errors.New("required with MONGODB_URI: 32 random bytes in base64, e.g. from head -c32 /dev/urandom | base64")
		}
		c.EncryptionKeys = ""
		return nil
	}
	if _, err := secretbox.ParseKeys(v); err != nil {
		return err
	}
	c.EncryptionKeys = v
	return nil
}

// parseRPID reads WEBAUTHN_RP_ID: a host name, no scheme or port.
func parseRPID(c *Config, v string) error {
	v = strings.ToLower(v)
	if !isHostName(v) || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, "..") {
		return errors.New("must be a domain such as example.com, without scheme or port")
	}
	c.WebAuthnRPID = v
	return nil
}

// parseWebAuthnOrigins reads WEBAUTHN_ORIGINS, after CORS_ORIGINS and
// WEBAUTHN_RP_ID: unset, the CORS origins. An origin given here must be on
// the relying party's domain, or no browser would ever match it.
func parseWebAuthnOrigins(c *Config, v string) error {
	if v == "" {
		c.WebAuthnOrigins = c.CORSOrigins
		return nil
	}
	var tmp Config
	if err := parseOrigins(&tmp, v); err != nil {
		return err
	}
	for _, o := range tmp.CORSOrigins {
		host := o[strings.Index(o, "://")+3:]
		if i := strings.LastIndex(host, ":"); i >= 0 && !strings.HasSuffix(host, "]") {
			host = host[:i]
		}
		if host != c.WebAuthnRPID && !strings.HasSuffix(host, "."+c.WebAuthnRPID) {
			return fmt.Errorf("%s is not on WEBAUTHN_RP_ID=%s", o, c.WebAuthnRPID)
		}
	}
	c.WebAuthnOrigins = tmp.CORSOrigins
	return nil
}
