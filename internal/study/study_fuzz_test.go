package study

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sessiongql/server/internal/apperr"
)

func wantInputError(t *testing.T, err error, field string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != field || ae.Message == "" {
		t.Fatalf("error %#v, want BAD_USER_INPUT for %q", err, field)
	}
}

// FuzzText: titles and card sides are accepted trimmed, as valid UTF-8 of
// 1 to max characters, and unchanged by a second pass.
func FuzzText(f *testing.F) {
	for _, seed := range []string{"Spanish verbs", "  padded  ", "", "\t\n ", "\xff", "a\xc3", strings.Repeat("ü", MaxTitleChars), strings.Repeat("ü", MaxTitleChars+1), "\u3000x\u3000"} {
		f.Add(seed, uint16(MaxTitleChars))
	}
	f.Add("front", uint16(MaxSideChars))
	f.Add("x", uint16(0))
	f.Fuzz(func(t *testing.T, v string, maxChars uint16) {
		got, err := text("title", v, int(maxChars))
		n := utf8.RuneCountInString(strings.TrimSpace(v))
		if err != nil {
			wantInputError(t, err, "title")
			if utf8.ValidString(strings.TrimSpace(v)) && 1 <= n && n <= int(maxChars) {
				t.Fatalf("text(%q, %d) refused a valid value: %v", v, maxChars, err)
			}
			return
		}
		if !utf8.ValidString(got) || got != strings.TrimSpace(v) {
			t.Fatalf("text(%q, %d) = %q", v, maxChars, got)
		}
		if c := utf8.RuneCountInString(got); c < 1 || c > int(maxChars) {
			t.Fatalf("text(%q, %d) = %q with %d characters", v, maxChars, got, c)
		}
		if again, err := text("title", got, int(maxChars)); err != nil || again != got {
			t.Fatalf("text is not idempotent: %q -> %q -> %q, %v", v, got, again, err)
		}
	})
}

// FuzzCheckID: an id is accepted exactly when it is 24 hexadecimal digits
// (a MongoDB ObjectID); anything else is an input error for the field.
func FuzzCheckID(f *testing.F) {
	for _, seed := range []string{"65f0c0ffee0123456789abcd", "65F0C0FFEE0123456789ABCD", "", "65f0c0ffee0123456789abc", "65f0c0ffee0123456789abcdd", "zzf0c0ffee0123456789abcd", "65f0c0ffee0123456789abc\x00", "{\"$gt\":\"\"}"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := checkID("deckId", id)
		_, herr := hex.DecodeString(id)
		want := len(id) == 24 && herr == nil
		if (err == nil) != want {
			t.Fatalf("checkID(%q) = %v, want accepted=%v", id, err, want)
		}
		if err != nil {
			wantInputError(t, err, "deckId")
		}
	})
}

// FuzzCheckFirst: page sizes 0 to MaxPage pass, every other int is an
// input error for first.
func FuzzCheckFirst(f *testing.F) {
	for _, seed := range []int{0, 1, MaxPage, MaxPage + 1, -1, -1 << 63, 1<<63 - 1} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, first int) {
		err := CheckFirst(first)
		if want := 0 <= first && first <= MaxPage; (err == nil) != want {
			t.Fatalf("CheckFirst(%d) = %v, want accepted=%v", first, err, want)
		}
		if err != nil {
			wantInputError(t, err, "first")
		}
	})
}
