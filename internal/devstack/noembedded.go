//go:build noembedded

package devstack

import (
	"context"
	"log/slog"
)

// Redis stands in for the in-process Redis, which this build leaves out.
type Redis struct{}

// StartRedis always returns [ErrNotBuiltIn] in this build.
func StartRedis() (*Redis, error) { return nil, ErrNotBuiltIn }

// Addr returns "" in this build.
func (r *Redis) Addr() string { return "" }

// URL returns "" in this build.
func (r *Redis) URL() string { return "" }

// Close does nothing in this build.
func (r *Redis) Close() {}

// Mongo stands in for the in-process MongoDB, which this build leaves out.
type Mongo struct{}

// StartMongo always returns [ErrNotBuiltIn] in this build.
func StartMongo(ctx context.Context, dir string, logger *slog.Logger) (*Mongo, error) {
	return nil, ErrNotBuiltIn
}

// StartMongoAt always returns [ErrNotBuiltIn] in this build.
func StartMongoAt(ctx context.Context, addr, dir string, logger *slog.Logger) (*Mongo, error) {
	return nil, ErrNotBuiltIn
}

// URI returns "" in this build.
func (m *Mongo) URI() string { return "" }

// Close does nothing in this build.
func (m *Mongo) Close() {}
