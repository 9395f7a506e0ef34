package secretbox

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateKeyFile returns the key kept in the file at path, creating
// the file with a new random key if there is none, for the embedded
// development stack, which has no ENCRYPTION_KEY but must open tomorrow
// what it seals today. The result is for ParseKeys.
//
// The file is written whole under a temporary name in the same folder and
// then hard-linked into place, which, unlike a rename, fails when the file
// already exists: of several processes starting at once, exactly one key
// wins and every one of them returns it. The folder must exist. A file whose
// content is not a valid key is an error naming path; it is never replaced.
func LoadOrCreateKeyFile(path string) (string, error) {
	if s, err := readKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	err := createKeyFile(path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	// Read back even what this call wrote: the file is the truth.
	return readKeyFile(path)
}

// readKeyFile reads and checks the key in path; fs.ErrNotExist (wrapped)
// when there is no file.
func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read encryption key file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if _, err := ParseKeys(s); err != nil {
		return "", fmt.Errorf("encryption key file %s: %w", path, err)
	}
	return s, nil
}

// createKeyFile writes a new key to path, mode 0600; fs.ErrExist (wrapped)
// when path appeared meanwhile.
func createKeyFile(path string) error {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("create encryption key file %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	// CreateTemp makes the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create encryption key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create encryption key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("create encryption key file %s: %w", path, err)
	}
	// The new name must survive a crash as surely as what it seals.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("create encryption key file %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
