package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SecurityEvent is one entry of a user's security log: a sign-in, a failed
// sign-in, a password change and so on. Kind is the GraphQL enum value
// (SIGNED_IN, …); IP and UserAgent are those of the request that caused
// it, empty when unknown.
type SecurityEvent struct {
	ID        string
	UserID    string
	Kind      string
	At        time.Time
	IP        string
	UserAgent string
}

// Stored lengths of an event's request details, in bytes. A User-Agent
// header is whatever a client sends, and failed sign-ins of an account can
// be caused by anyone: the bound keeps them from filling the database.
const (
	maxEventUserAgent = 256
	maxEventIP        = 64
)

// Index names of the security events collection.
const (
	securityByUserIndex = "user_id"
	securityTTLIndex    = "at_ttl"
)

type securityEventDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	UserID    bson.ObjectID `bson:"userId"`
	Kind      string        `bson:"kind"`
	At        time.Time     `bson:"at"`
	IP        string        `bson:"ip,omitempty"`
	UserAgent string        `bson:"userAgent,omitempty"`
}

func (d *securityEventDoc) event() SecurityEvent {
	return SecurityEvent{ID: d.ID.Hex(), UserID: d.UserID.Hex(), Kind: d.Kind, At: d.At.UTC(), IP: d.IP, UserAgent: d.UserAgent}
}

// SecurityEvents is the security events collection: each user's own
// security log, read newest first, kept for a retention period and then
// removed.
//
// MongoDB removes old events itself, by a TTL index on at. FerretDB v1
// refuses TTL indexes; there NeedsSweep reports true and someone must call
// Sweep periodically (internal/securitylog does).
type SecurityEvents struct {
	coll       *mongo.Collection
	timeout    time.Duration
	retention  time.Duration
	indexes    *Indexes
	needsSweep atomic.Bool
}

// NewSecurityEvents returns the security events collection of db and
// creates its indexes as NewUsers does: one to list a user's events, and a
// TTL index that removes events retention after they happened. A TTL index
// left by a different retention is dropped and created anew. A server
// that answers the TTL index as not implemented (FerretDB v1) does not
// fail the creation: NeedsSweep reports it once known. retention counts in
// whole seconds (a fraction is dropped), from 1s to 2³¹-1s; timeout bounds
// each call.
func NewSecurityEvents(ctx context.Context, db *mongo.Database, timeout, retention time.Duration) (*SecurityEvents, error) {
	if retention < time.Second || retention/time.Second > math.MaxInt32 {
		return nil, fmt.Errorf("security events: retention %v: want between 1s and %v", retention, time.Duration(math.MaxInt32)*time.Second)
	}
	s := &SecurityEvents{coll: db.Collection("security_events"), timeout: timeout, retention: retention.Truncate(time.Second)}
	ix, err := createIndexes(ctx, "security_events", timeout, s.ensureIndexes)
	if err != nil {
		return nil, err
	}
	s.indexes = ix
	return s, nil
}

// Indexes is the creation of the collection's indexes, for readiness
// checks and shutdown.
func (s *SecurityEvents) Indexes() *Indexes { return s.indexes }

// NeedsSweep reports whether the database refused the TTL index, so old
// events stay until Sweep removes them. It is false until the indexes'
// creation has learned it (see [Indexes]): ask again later rather than once
// at start.
func (s *SecurityEvents) NeedsSweep() bool { return s.needsSweep.Load() }

// byUserIndex serves Page: a user's events, newest first.
var byUserIndex = mongo.IndexModel{
	Keys:    bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: -1}},
	Options: options.Index().SetName(securityByUserIndex),
}

// ttlIndex is the index by which MongoDB removes events retention after
// their at.
func ttlIndex(retention time.Duration) mongo.IndexModel {
	return mongo.IndexModel{
		Keys:    bson.D{{Key: "at", Value: 1}},
		Options: options.Index().SetName(securityTTLIndex).SetExpireAfterSeconds(int32(retention / time.Second)),
	}
}

func (s *SecurityEvents) ensureIndexes(ctx context.Context) error {
	if err := ensureIndexes(ctx, s.coll, byUserIndex); err != nil {
		return err
	}
	return s.ensureTTLIndex(ctx)
}

// ensureTTLIndex creates the TTL index unless it exists with the
// retention wanted. One with another expireAfterSeconds (the retention
// setting changed) is dropped first: MongoDB refuses an index of the same
// name with other options, and collMod, which could change it in place,
// needs the dbAdmin role where createIndex and dropIndex come with
// readWrite. Events are kept meanwhile, not removed early.
func (s *SecurityEvents) ensureTTLIndex(ctx context.Context) error {
	specs, err := listIndexSpecs(ctx, s.coll)
	if err != nil {
		return err
	}
	want := int64(s.retention / time.Second)
	for _, spec := range specs {
		if spec.Name != securityTTLIndex {
			continue
		}
		if spec.expiresAfter(want) {
			s.needsSweep.Store(false)
			return nil
		}
		err := s.coll.Indexes().DropOne(ctx, securityTTLIndex)
		if err != nil && !isIndexNotFound(err) { // another instance dropped it first
			return classify("drop index "+securityTTLIndex+" on "+s.coll.Name(), err)
		}
	}
	_, err = s.coll.Indexes().CreateOne(ctx, ttlIndex(s.retention))
	switch {
	case isTTLNotImplemented(err):
		s.needsSweep.Store(true)
		return nil
	case err != nil:
		return classify("create index "+securityTTLIndex+" on "+s.coll.Name(), err)
	}
	s.needsSweep.Store(false)
	return nil
}

// indexSpec is an entry of listIndexes, with the options ensureTTLIndex
// compares.
type indexSpec struct {
	Name               string        `bson:"name"`
	ExpireAfterSeconds bson.RawValue `bson:"expireAfterSeconds"`
}

// expiresAfter reports whether the index is a TTL index of seconds.
// MongoDB reports expireAfterSeconds as an int32, an int64 or a double,
// depending on how it was set.
func (s indexSpec) expiresAfter(seconds int64) bool {
	if s.ExpireAfterSeconds.Type == 0 {
		return false
	}
	got, ok := s.ExpireAfterSeconds.AsInt64OK()
	return ok && got == seconds
}

func listIndexSpecs(ctx context.Context, coll *mongo.Collection) ([]indexSpec, error) {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		return nil, classify("list indexes of "+coll.Name(), err)
	}
	var specs []indexSpec
	if err := cur.All(ctx, &specs); err != nil {
		return nil, classify("list indexes of "+coll.Name(), err)
	}
	return specs, nil
}

// Server error codes ensureTTLIndex tells apart.
const (
	codeIndexNotFound  = 27
	codeNotImplemented = 238
)

// isTTLNotImplemented recognizes FerretDB v1's answer to a TTL index: a
// NotImplemented (238) command error, `Index option "expireAfterSeconds"
// is not implemented yet`. The option's name is checked too, so that
// another refusal is not taken for it.
func isTTLNotImplemented(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == codeNotImplemented && strings.Contains(ce.Message, "expireAfterSeconds")
}

func isIndexNotFound(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == codeIndexNotFound
}

// Insert stores e, with a new ID, and returns it as stored: At is the
// current time if zero, in UTC to the millisecond (as MongoDB keeps it);
// UserAgent is cut at 256 bytes, IP at 64. A malformed user id is
// ErrNotFound. It does not wait for the indexes to exist: nothing unique
// depends on them.
func (s *SecurityEvents) Insert(ctx context.Context, e SecurityEvent) (SecurityEvent, error) {
	user, ok := parseID(e.UserID)
	if !ok {
		return SecurityEvent{}, fmt.Errorf("insert security event: user %q: %w", e.UserID, ErrNotFound)
	}
	if e.Kind == "" {
		return SecurityEvent{}, errors.New("insert security event: no kind")
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	doc := securityEventDoc{
		ID:        bson.NewObjectID(),
		UserID:    user,
		Kind:      e.Kind,
		At:        at.UTC().Truncate(time.Millisecond),
		IP:        truncateUTF8(e.IP, maxEventIP),
		UserAgent: truncateUTF8(e.UserAgent, maxEventUserAgent),
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.coll.InsertOne(ctx, doc); err != nil {
		return SecurityEvent{}, classify("insert security event", err)
	}
	return doc.event(), nil
}

// Page returns up to first of the user's events, newest first, starting
// after the event whose ID is after ("" for the newest), and whether more
// follow. Order is by ID, which grows with time on each instance; events
// written by different instances in the same second may come in either
// order, but always the same one, so pages neither skip nor repeat an
// event. A malformed user id is ErrNotFound, a malformed cursor
// ErrBadCursor; first is capped by the caller.
func (s *SecurityEvents) Page(ctx context.Context, userID string, first int, after string) (events []SecurityEvent, hasNext bool, err error) {
	if first < 0 {
		return nil, false, fmt.Errorf("security events page: first = %d, want at least 0", first)
	}
	user, ok := parseID(userID)
	if !ok {
		return nil, false, ErrNotFound
	}
	filter := bson.D{{Key: "userId", Value: user}}
	if after != "" {
		from, ok := parseID(after)
		if !ok {
			return nil, false, ErrBadCursor
		}
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: from}}})
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cur, err := s.coll.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(first)+1))
	if err != nil {
		return nil, false, classify("security events page", err)
	}
	var docs []securityEventDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, classify("security events page", err)
	}
	n := min(len(docs), first)
	events = make([]SecurityEvent, n)
	for i := range docs[:n] {
		events[i] = docs[i].event()
	}
	return events, len(docs) > first, nil
}

// Sweep deletes every user's events that happened before before, and says
// how many, where the TTL index cannot (NeedsSweep). Its timeout is the
// store's: a sweep cut short has removed some, and the next removes the
// rest.
func (s *SecurityEvents) Sweep(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.coll.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}})
	if err != nil {
		return 0, classify("sweep security events", err)
	}
	return res.DeletedCount, nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
