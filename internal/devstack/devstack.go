// Package devstack runs the stores the server needs inside its own process:
// an in-memory Redis (miniredis) and a MongoDB wire-protocol server (FerretDB
// v1 on SQLite files). The server falls back to it when REDIS_URL or
// MONGODB_URI are unset, so a fresh checkout runs with no services installed,
// and tests use it for MongoDB.
//
// Both stores listen on 127.0.0.1 on a free port and are reached through the
// ordinary clients (go-redis, mongo-driver) with [Redis.URL] and [Mongo.URI],
// so the code using them cannot tell them from the real thing, except where
// FerretDB falls short of MongoDB (see [StartMongo]).
//
// Building with -tags noembedded leaves miniredis, FerretDB and their large
// dependency tree out of the binary; the Start functions then return
// [ErrNotBuiltIn].
package devstack

import "errors"

// ErrNotBuiltIn is returned by [StartRedis] and [StartMongo] in a binary built
// with -tags noembedded, so the caller can tell the operator to set REDIS_URL
// and MONGODB_URI instead of failing with an obscure error.
var ErrNotBuiltIn = errors.New("embedded stores left out of this build (-tags noembedded)")

// ErrUnusableDir is wrapped by [StartMongo]'s error when the data folder
// cannot be created, written to or used by FerretDB, so the caller can name
// the setting that chose the folder.
var ErrUnusableDir = errors.New("unusable data folder")
