//go:build noembedded

package devstack

import (
	"errors"
	"testing"
)

func TestStartFunctionsReportNotBuiltIn(t *testing.T) {
	if _, err := StartRedis(); !errors.Is(err, ErrNotBuiltIn) {
		t.Errorf("StartRedis: err = %v, want ErrNotBuiltIn", err)
	}
	if _, err := StartMongo(t.Context(), t.TempDir(), nil); !errors.Is(err, ErrNotBuiltIn) {
		t.Errorf("StartMongo: err = %v, want ErrNotBuiltIn", err)
	}
	if _, err := StartMongoAt(t.Context(), "127.0.0.1:0", t.TempDir(), nil); !errors.Is(err, ErrNotBuiltIn) {
		t.Errorf("StartMongoAt: err = %v, want ErrNotBuiltIn", err)
	}
}
