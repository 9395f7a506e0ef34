package config

import (
	"errors"

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
