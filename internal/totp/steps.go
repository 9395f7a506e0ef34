package totp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
)

// stepTTL is how long a user's last accepted step is kept. A step's code
// matches for 90 seconds (one step early to one step late), so after 90
// seconds no code the stored step would refuse can match again; the rest
// covers server clocks up to 90 seconds apart.
const stepTTL = 3 * time.Minute

// Steps remembers each user's last accepted time step in Redis, so that a
// code works once: whichever mutation takes it, on whichever server. It is
// safe for concurrent use.
type Steps struct {
	rdb     redis.UniversalClient
	timeout time.Duration
}

// NewSteps returns Steps kept in rdb, which may be a Redis Cluster;
// timeout bounds each Redis call.
func NewSteps(rdb redis.UniversalClient, timeout time.Duration) *Steps {
	return &Steps{rdb: rdb, timeout: timeout}
}

// stepKey is one user's last accepted step. The user id is the hash tag,
// so a Redis Cluster spreads users over its nodes.
func stepKey(userID string) string {
	return "totp-step:{" + userID + "}"
}

// acceptScript stores the step if it is later than the stored one.
// KEYS: the key. ARGV: step, ttl in milliseconds. Returns 1 if stored.
var acceptScript = redis.NewScript(`
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// Accept reports whether step, from Match, may be used now by userID: true
// exactly once per step, and never for a step at or before the last one
// accepted, so of concurrent requests with one code exactly one succeeds,
// and an older code seen later does not work either. Call it only after
// Match succeeded, and treat false like a wrong code. Redis failures wrap
// apperr.ErrUnavailable.
func (s *Steps) Accept(ctx context.Context, userID string, step int64) (bool, error) {
	if userID == "" {
		return false, errors.New("accept totp step: no user")
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	n, err := acceptScript.Run(ctx, s.rdb, []string{stepKey(userID)}, step, stepTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("accept totp step: %w: %w", apperr.ErrUnavailable, err)
	}
	return n == 1, nil
}
