package mail

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
)

// sentMarkerTTL is how long Redis remembers that a mail was delivered, in
// case removing it from the outbox failed: long enough to outlast a
// MongoDB outage, after which the mail is removed without being sent
// again.
const sentMarkerTTL = 24 * time.Hour

// The outcomes of claiming a mail.
const (
	leaseHeld    = 0 // another sender holds the lease: leave the mail alone
	leaseGot     = 1 // ours: go ahead
	leaseGotSent = 2 // ours, and the mail was delivered before: just remove it
)

// Both keys of a mail share the hash tag {id}, so the scripts touching
// both run on one Redis Cluster node. Each key has a TTL.
var (
	// claimScript takes the lease (KEYS[1]) if free, for ARGV[2] ms with
	// the holder's random ARGV[1], and says whether the mail's delivery
	// marker (KEYS[2]) exists.
	claimScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 2
end
return 1`)
	// releaseScript deletes the lease only if it still holds ARGV[1]: once
	// it expired, another sender's lease must survive. With ARGV[2] = "1"
	// it also deletes the delivery marker, no longer needed once the mail
	// left the outbox.
	releaseScript = redis.NewScript(`
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
)

// leases are the Redis keys that let one sender at a time work on a mail,
// across instances.
type leases struct {
	rdb     redis.UniversalClient
	ttl     time.Duration // rounded up to whole milliseconds
	timeout time.Duration // bounds each call
}

func leaseKey(id string) string  { return "mail-lease:{" + id + "}" }
func markerKey(id string) string { return "mail-sent:{" + id + "}" }

// claim tries to take the lease on mail id with the random token and
// returns one of leaseHeld, leaseGot, leaseGotSent.
func (l *leases) claim(ctx context.Context, id, token string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	ms := (l.ttl + time.Millisecond - 1) / time.Millisecond
	n, err := claimScript.Run(ctx, l.rdb, []string{leaseKey(id), markerKey(id)}, token, int64(ms)).Int()
	if err != nil {
		return leaseHeld, fmt.Errorf("claim mail %s: %w: %w", id, apperr.ErrUnavailable, err)
	}
	return n, nil
}

// markSent records that mail id was delivered, so that if it cannot be
// removed from the outbox now, the sender that claims it next removes it
// instead of sending it again.
func (l *leases) markSent(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	if err := l.rdb.Set(ctx, markerKey(id), "1", sentMarkerTTL).Err(); err != nil {
		return fmt.Errorf("mark mail %s sent: %w: %w", id, apperr.ErrUnavailable, err)
	}
	return nil
}

// release gives up the lease if token still holds it, and with removed
// (the mail left the outbox) deletes the delivery marker too.
func (l *leases) release(ctx context.Context, id, token string, removed bool) error {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	drop := "0"
	if removed {
		drop = "1"
	}
	if err := releaseScript.Run(ctx, l.rdb, []string{leaseKey(id), markerKey(id)}, token, drop).Err(); err != nil {
		return fmt.Errorf("release mail %s: %w: %w", id, apperr.ErrUnavailable, err)
	}
	return nil
}
