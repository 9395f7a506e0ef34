//go:build !noembedded

package devstack

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// Redis is an in-process Redis server (miniredis) listening on 127.0.0.1.
// Its data lives in memory only and is lost on Close. Keys expire on the wall
// clock, as in a real Redis.
type Redis struct {
	mr *miniredis.Miniredis
}

// StartRedis starts an in-process Redis on a free port of 127.0.0.1. The
// caller must Close it.
func StartRedis() (*Redis, error) {
	mr := miniredis.NewMiniRedis()
	// Without ClockTTL miniredis only expires keys on FastForward; a
	// development server needs sessions and rate limits to expire on time.
	mr.ClockTTL(true)
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start miniredis: %w", err)
	}
	return &Redis{mr: mr}, nil
}

// Addr returns the listening address, "127.0.0.1:PORT", for clients that take
// a host:port.
func (r *Redis) Addr() string { return r.mr.Addr() }

// URL returns "redis://127.0.0.1:PORT", the form REDIS_URL takes, for
// redis.ParseURL.
func (r *Redis) URL() string { return "redis://" + r.mr.Addr() }

// Close stops the server and drops its data. Calling it twice is harmless.
func (r *Redis) Close() { r.mr.Close() }
