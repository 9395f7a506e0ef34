package totp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessiongql/server/internal/apperr"
)

// onceTTL is how long Once remembers a use: longer than any request that
// spends what it guards takes.
const onceTTL = time.Hour

// Once reports whether this is the first use of what (e.g. a recovery
// code's hash) by userID within an hour, on any server: of concurrent
// callers exactly one gets true. It guards a spend in a database whose
// conditional updates read, then write (FerretDB), as Accept guards steps.
func (s *Steps) Once(ctx context.Context, userID, what string) (bool, error) {
	if userID == "" {
		return false, errors.New("once: no user")
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := s.rdb.SetNX(ctx, "totp-once:{"+userID+"}:"+what, 1, onceTTL).Result()
	if err != nil {
		return false, fmt.Errorf("once: %w: %w", apperr.ErrUnavailable, err)
	}
	return ok, nil
}
