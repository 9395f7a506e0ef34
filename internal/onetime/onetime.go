// Package onetime issues the single-use tokens that links in mail carry
// (a password reset, an email verification) and spends them.
//
// A token is its subject (the user or address it is for, so that a
// purpose has at most one live token per subject) followed by 32 random
// bytes, in base64url. Redis keeps only its SHA-256, with the token's
// payload, under a key that expires with the token, so nothing outlives
// it; spending compares and deletes in one script, so exactly one of any
// number of concurrent uses succeeds.
package onetime

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessiongql/server/internal/apperr"
)

// ErrInvalid is the one answer for a token that is malformed, unknown,
// already used, replaced by a newer one, or expired.
var ErrInvalid = errors.New("invalid or expired token")

// randomLen is the secret part of a token: 256 bits.
const randomLen = 32

// Purpose is what a token is for. Tokens of one purpose never work for
// another.
type Purpose struct {
	// Name is short and part of the Redis key, e.g. "reset".
	Name string
	// SubjectLen is the length in bytes of every subject of this purpose.
	SubjectLen int
}

// Tokens keeps tokens in Redis. It is safe for concurrent use.
type Tokens struct {
	rdb     redis.UniversalClient
	timeout time.Duration
}

// New returns Tokens kept in rdb; timeout bounds each Redis call.
func New(rdb redis.UniversalClient, timeout time.Duration) *Tokens {
	return &Tokens{rdb: rdb, timeout: timeout}
}

// key is one subject's token of p. The whole key is the hash tag: a Redis
// Cluster spreads subjects over its nodes.
func key(p Purpose, subject []byte) string {
	return "ot:{" + p.Name + ":" + hex.EncodeToString(subject) + "}"
}

// reservationKey holds the request that Reserve last named for the
// subject: the same hash tag as key, so one script may touch both.
func reservationKey(p Purpose, subject []byte) string {
	return key(p, subject) + ":r"
}

func digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// ErrSuperseded is IssueReserved's answer for a request that a newer
// Reserve has replaced: it makes no token.
var ErrSuperseded = errors.New("superseded by a newer request")

// issueScript replaces the subject's token, if the reservation (when one
// is named) is still the request's. KEYS: the key, the reservation key.
// ARGV: digest, payload, ttl in milliseconds, request or "".
var issueScript = redis.NewScript(`
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'p', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

// Issue makes a token of purpose p for subject, carrying payload, that
// works once within ttl. Any earlier token of p for subject stops working.
func (t *Tokens) Issue(ctx context.Context, p Purpose, subject []byte, payload string, ttl time.Duration) (string, error) {
	return t.issue(ctx, p, subject, "", payload, ttl)
}

// reserveScript ends the subject's token and names the request whose
// IssueReserved may make the next one. KEYS: the key, the reservation key.
// ARGV: request, how long the reservation lasts in milliseconds.
var reserveScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1`)

// Reserve ends the subject's token of p, if any, and makes request the
// only one whose IssueReserved makes the next token, for up to within.
// It is for tokens made later than they are asked for (when their mail is
// sent): of two requests, only the newer one's mail carries a link that
// works, whichever is sent first.
func (t *Tokens) Reserve(ctx context.Context, p Purpose, subject []byte, request string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if err := reserveScript.Run(ctx, t.rdb, []string{key(p, subject), reservationKey(p, subject)}, request, max(1, within.Milliseconds())).Err(); err != nil {
		return unavailable("reserve "+p.Name+" token", err)
	}
	return nil
}

// IssueReserved is Issue for the request that Reserve last named for
// subject; ErrSuperseded for any other (or once the reservation lapsed).
// It may be called again for the same request (a mail sent again): each
// call replaces the token.
func (t *Tokens) IssueReserved(ctx context.Context, p Purpose, subject []byte, request, payload string, ttl time.Duration) (string, error) {
	if request == "" {
		return "", fmt.Errorf("issue %s token: no request named", p.Name)
	}
	return t.issue(ctx, p, subject, request, payload, ttl)
}

func (t *Tokens) issue(ctx context.Context, p Purpose, subject []byte, request, payload string, ttl time.Duration) (string, error) {
	if len(subject) != p.SubjectLen {
		return "", fmt.Errorf("issue %s token: subject of %d bytes, want %d", p.Name, len(subject), p.SubjectLen)
	}
	raw := make([]byte, len(subject)+randomLen)
	copy(raw, subject)
	if _, err := rand.Read(raw[len(subject):]); err != nil {
		return "", fmt.Errorf("issue %s token: %w", p.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	ok, err := issueScript.Run(ctx, t.rdb, []string{key(p, subject), reservationKey(p, subject)}, digest(raw), payload, max(1, ttl.Milliseconds()), request).Int()
	if err != nil {
		return "", unavailable("issue "+p.Name+" token", err)
	}
	if ok == 0 {
		return "", ErrSuperseded
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// End makes the subject's token of p, if any, stop working.
func (t *Tokens) End(ctx context.Context, p Purpose, subject []byte) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if err := t.rdb.Del(ctx, key(p, subject)).Err(); err != nil {
		return unavailable("end "+p.Name+" token", err)
	}
	return nil
}

// decode splits a token into its subject and the key it lives under.
func decode(p Purpose, token string) (raw, subject []byte, err error) {
	// An exact length: the decoder would skip line breaks.
	if len(token) != base64.RawURLEncoding.EncodedLen(p.SubjectLen+randomLen) {
		return nil, nil, ErrInvalid
	}
	raw, err = base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != p.SubjectLen+randomLen {
		return nil, nil, ErrInvalid
	}
	return raw, raw[:p.SubjectLen], nil
}

// Token is a live token's content.
type Token struct {
	Subject []byte
	Payload string
}

// Peek returns what a live token carries without spending it: for checks
// that should not use the token up when they fail (a new password that is
// too weak). ErrInvalid when it would not spend.
func (t *Tokens) Peek(ctx context.Context, p Purpose, token string) (Token, error) {
	raw, subject, err := decode(p, token)
	if err != nil {
		return Token{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	vals, err := t.rdb.HMGet(ctx, key(p, subject), "h", "p").Result()
	if err != nil {
		return Token{}, unavailable("read "+p.Name+" token", err)
	}
	h, _ := vals[0].(string)
	payload, _ := vals[1].(string)
	if h == "" || subtle.ConstantTimeCompare([]byte(h), []byte(digest(raw))) != 1 {
		return Token{}, ErrInvalid
	}
	return Token{Subject: subject, Payload: payload}, nil
}

// spendScript deletes the token if its digest matches. KEYS: the key.
// ARGV: digest. Returns {payload, remaining ttl in ms}, or nil.
var spendScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'h') ~= ARGV[1] then return false end
local p = redis.call('HGET', KEYS[1], 'p')
local ttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
return {p, ttl}`)

// Spent is a token that Spend used up, with what Restore needs to put it
// back.
type Spent struct {
	Token
	purpose Purpose
	digest  string
	ttl     time.Duration
}

// Spend uses the token up: of any number of concurrent calls with one
// token, exactly one succeeds. ErrInvalid for a token that is malformed,
// unknown, used, replaced or expired.
func (t *Tokens) Spend(ctx context.Context, p Purpose, token string) (Spent, error) {
	raw, subject, err := decode(p, token)
	if err != nil {
		return Spent{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	d := digest(raw)
	res, err := spendScript.Run(ctx, t.rdb, []string{key(p, subject)}, d).Slice()
	if errors.Is(err, redis.Nil) {
		return Spent{}, ErrInvalid
	}
	if err != nil {
		return Spent{}, unavailable("spend "+p.Name+" token", err)
	}
	payload, _ := res[0].(string)
	ms, _ := res[1].(int64)
	return Spent{Token: Token{Subject: subject, Payload: payload}, purpose: p, digest: d, ttl: time.Duration(ms) * time.Millisecond}, nil
}

// restoreScript puts a token back unless a newer one was issued meanwhile.
// KEYS: the key. ARGV: digest, payload, ttl in milliseconds.
var restoreScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'p', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

// Restore puts a spent token back for the rest of its lifetime, when what
// it was spent on failed before changing anything (a store that did not
// answer), so the link still works on a retry. A token issued since stays
// the only one.
func (t *Tokens) Restore(ctx context.Context, s Spent) error {
	if s.ttl <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if err := restoreScript.Run(ctx, t.rdb, []string{key(s.purpose, s.Subject)}, s.digest, s.Payload, s.ttl.Milliseconds()).Err(); err != nil {
		return unavailable("restore "+s.purpose.Name+" token", err)
	}
	return nil
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, apperr.ErrUnavailable, err)
}
