package secretbox

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestKeyFileIsCreatedOnceAndReadAfter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "encryption.key")
	first, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKeys(first); err != nil {
		t.Fatalf("the created key does not parse: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("key file mode %o, want 600", mode)
	}
	second, err := LoadOrCreateKeyFile(path)
	if err != nil || second != first {
		t.Fatalf("second call = %v, want the same key as the first", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("%d files in the folder, want only the key file (no temporary left)", len(entries))
	}
}

func TestKeyFileRacersAllGetOneKey(t *testing.T) {
	for range 20 {
		path := filepath.Join(t.TempDir(), "encryption.key")
		const n = 4
		keys := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		gun := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-gun
				keys[i], errs[i] = LoadOrCreateKeyFile(path)
			})
		}
		close(gun)
		wg.Wait()
		file, _ := os.ReadFile(path)
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("racer %d: %v", i, errs[i])
			}
			if keys[i] != strings.TrimSpace(string(file)) {
				t.Fatalf("racer %d returned a key that is not the one in the file", i)
			}
		}
	}
}

func TestKeyFileWithBadContentIsAnErrorNamingIt(t *testing.T) {
	for name, content := range map[string]string{
		"empty":     "",
		"not a key": "hunter2\n",
		"too short": "AAAA\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "encryption.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateKeyFile(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want an error naming %s", err, path)
			}
			if content != "" && strings.Contains(err.Error(), strings.TrimSpace(content)) {
				t.Fatalf("error %q echoes the file's content", err)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Fatal("a bad key file was replaced")
			}
		})
	}
}

func TestKeyFileInAMissingFolderFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "encryption.key")
	if _, err := LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want an error naming %s", err, path)
	}
}
