package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/devstack"
)

// These tests are internal: the TTL index FerretDB cannot create is
// checked as the model asked for.

const testRetention = 2160 * time.Hour

// securityTestDB starts an in-process FerretDB for t and returns a fresh
// database on it.
func securityTestDB(t *testing.T) *mongo.Database {
	t.Helper()
	m, err := devstack.StartMongo(t.Context(), t.TempDir(), nil)
	if errors.Is(err, devstack.ErrNotBuiltIn) {
		t.Skip("FerretDB is left out of this build")
	}
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	t.Cleanup(m.Close)
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	// Registered after StartMongo's, so it runs first.
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database("security_" + bson.NewObjectID().Hex())
}

func newTestSecurityEvents(t *testing.T, db *mongo.Database) *SecurityEvents {
	t.Helper()
	s, err := NewSecurityEvents(t.Context(), db, 10*time.Second, testRetention)
	if err != nil {
		t.Fatalf("NewSecurityEvents: %v", err)
	}
	return s
}

func mustInsertEvent(t *testing.T, s *SecurityEvents, e SecurityEvent) SecurityEvent {
	t.Helper()
	got, err := s.Insert(t.Context(), e)
	if err != nil {
		t.Fatalf("Insert(%s): %v", e.Kind, err)
	}
	return got
}

func eventIDs(events []SecurityEvent) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

func indexNames(t *testing.T, coll *mongo.Collection) []string {
	t.Helper()
	specs, err := listIndexSpecs(t.Context(), coll)
	if err != nil {
		t.Fatalf("list indexes: %v", err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	return names
}

func TestSecurityEventsPageNewestFirstWithoutOtherUsers(t *testing.T) {
	t.Parallel()
	s := newTestSecurityEvents(t, securityTestDB(t))
	alice, bob := bson.NewObjectID().Hex(), bson.NewObjectID().Hex()

	before := time.Now()
	var aliceIDs, bobIDs []string
	for i, kind := range []string{"SIGN_IN_FAILED", "SIGNED_IN", "PASSWORD_CHANGED", "SIGNED_OUT", "SIGNED_IN"} {
		e := mustInsertEvent(t, s, SecurityEvent{UserID: alice, Kind: kind, IP: "203.0.113.7", UserAgent: "curl/8.5.0"})
		aliceIDs = append(aliceIDs, e.ID)
		if i%2 == 0 {
			bobIDs = append(bobIDs, mustInsertEvent(t, s, SecurityEvent{UserID: bob, Kind: "SIGNED_IN"}).ID)
		}
	}
	slices.Reverse(aliceIDs)
	slices.Reverse(bobIDs)

	var walked []string
	after := ""
	for page, want := range []struct {
		n       int
		hasNext bool
	}{{2, true}, {2, true}, {1, false}} {
		events, hasNext, err := s.Page(t.Context(), alice, 2, after)
		if err != nil {
			t.Fatalf("page %d: %v", page+1, err)
		}
		if len(events) != want.n || hasNext != want.hasNext {
			t.Fatalf("page %d: %d events, hasNext %v; want %d, %v", page+1, len(events), hasNext, want.n, want.hasNext)
		}
		for _, e := range events {
			if e.UserID != alice || e.IP != "203.0.113.7" || e.UserAgent != "curl/8.5.0" {
				t.Errorf("event %+v: wrong user or request details", e)
			}
			if e.At.Location() != time.UTC || e.At.Nanosecond()%int(time.Millisecond) != 0 ||
				e.At.Before(before.Truncate(time.Millisecond)) || e.At.After(time.Now()) {
				t.Errorf("event At %v: want UTC milliseconds since %v", e.At, before)
			}
		}
		walked = append(walked, eventIDs(events)...)
		after = events[len(events)-1].ID
	}
	if !slices.Equal(walked, aliceIDs) {
		t.Errorf("pages walked %v, want newest first %v", walked, aliceIDs)
	}
	if first, _, _ := s.Page(t.Context(), alice, 1, ""); first[0].Kind != "SIGNED_IN" {
		t.Errorf("newest kind %q, want SIGNED_IN", first[0].Kind)
	}

	events, hasNext, err := s.Page(t.Context(), bob, 10, "")
	if err != nil || hasNext || !slices.Equal(eventIDs(events), bobIDs) {
		t.Errorf("bob's page: %v, %v, %v; want %v", eventIDs(events), hasNext, err, bobIDs)
	}
	// Alice's event as a cursor in Bob's log is only a position: Bob's
	// older events follow it (his newest came after it).
	events, _, err = s.Page(t.Context(), bob, 10, aliceIDs[0])
	if err != nil || !slices.Equal(eventIDs(events), bobIDs[1:]) {
		t.Errorf("bob's page after alice's newest: %v, %v; want %v", eventIDs(events), err, bobIDs[1:])
	}
	events, hasNext, err = s.Page(t.Context(), bson.NewObjectID().Hex(), 10, "")
	if err != nil || hasNext || len(events) != 0 {
		t.Errorf("page of a user without events: %v, %v, %v", events, hasNext, err)
	}
	events, hasNext, err = s.Page(t.Context(), alice, 0, "")
	if err != nil || !hasNext || len(events) != 0 {
		t.Errorf("page of 0: %v, %v, %v; want none and hasNext", events, hasNext, err)
	}
}

func TestSecurityEventsRefuseMalformedInput(t *testing.T) {
	t.Parallel()
	s := newTestSecurityEvents(t, securityTestDB(t))
	user := bson.NewObjectID().Hex()
	mustInsertEvent(t, s, SecurityEvent{UserID: user, Kind: "SIGNED_IN"})

	for _, cursor := range []string{"x", "zzzzzzzzzzzzzzzzzzzzzzzz", bson.NewObjectID().Hex() + "00", "AAAAAAAAAAAAAAAA"} {
		if _, _, err := s.Page(t.Context(), user, 10, cursor); !errors.Is(err, ErrBadCursor) {
			t.Errorf("Page after %q: %v, want ErrBadCursor", cursor, err)
		}
	}
	if _, _, err := s.Page(t.Context(), "nobody", 10, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Page of a malformed user: %v, want ErrNotFound", err)
	}
	if _, _, err := s.Page(t.Context(), user, -1, ""); err == nil {
		t.Error("Page of -1 succeeded")
	}
	if _, err := s.Insert(t.Context(), SecurityEvent{UserID: "nobody", Kind: "SIGNED_IN"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Insert for a malformed user: %v, want ErrNotFound", err)
	}
	if _, err := s.Insert(t.Context(), SecurityEvent{UserID: user}); err == nil {
		t.Error("Insert without a kind succeeded")
	}
}

func TestSecurityEventInsertKeepsGivenTimeAndBoundsRequestDetails(t *testing.T) {
	t.Parallel()
	s := newTestSecurityEvents(t, securityTestDB(t))
	user := bson.NewObjectID().Hex()
	at := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.FixedZone("CET", 3600))
	// "é" is two bytes; the cut falls inside the last one.
	ua := strings.Repeat("a", maxEventUserAgent-1) + "é" + strings.Repeat("b", 1000)
	e := mustInsertEvent(t, s, SecurityEvent{UserID: user, Kind: "SIGNED_IN", At: at, UserAgent: ua, IP: strings.Repeat("1", 100)})
	if want := at.UTC().Truncate(time.Millisecond); !e.At.Equal(want) || e.At.Location() != time.UTC {
		t.Errorf("At = %v, want %v", e.At, want)
	}
	if e.UserAgent != strings.Repeat("a", maxEventUserAgent-1) || len(e.IP) != maxEventIP {
		t.Errorf("user agent %d bytes, IP %d bytes", len(e.UserAgent), len(e.IP))
	}
	stored, _, err := s.Page(t.Context(), user, 1, "")
	if err != nil || len(stored) != 1 || stored[0] != e {
		t.Errorf("stored %+v, %v; want %+v", stored, err, e)
	}
}

func TestSecurityEventsSweepRemovesOnlyOlderEvents(t *testing.T) {
	t.Parallel()
	s := newTestSecurityEvents(t, securityTestDB(t))
	alice, bob := bson.NewObjectID().Hex(), bson.NewObjectID().Hex()
	now := time.Now()
	mustInsertEvent(t, s, SecurityEvent{UserID: alice, Kind: "SIGNED_IN", At: now.Add(-3 * time.Hour)})
	mustInsertEvent(t, s, SecurityEvent{UserID: bob, Kind: "SIGNED_IN", At: now.Add(-2 * time.Hour)})
	keptAlice := mustInsertEvent(t, s, SecurityEvent{UserID: alice, Kind: "SIGNED_OUT", At: now.Add(-30 * time.Minute)})
	keptBob := mustInsertEvent(t, s, SecurityEvent{UserID: bob, Kind: "SIGNED_OUT", At: now})

	n, err := s.Sweep(t.Context(), now.Add(-time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 removed", n, err)
	}
	for user, want := range map[string]string{alice: keptAlice.ID, bob: keptBob.ID} {
		events, _, err := s.Page(t.Context(), user, 10, "")
		if err != nil || !slices.Equal(eventIDs(events), []string{want}) {
			t.Errorf("left %v, %v; want %v", eventIDs(events), err, want)
		}
	}
	if n, err := s.Sweep(t.Context(), now.Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v; want 0", n, err)
	}
}

// FerretDB v1 refuses TTL indexes; the collection is usable all the same,
// and says it needs sweeping. A restart asks again.
func TestSecurityEventsNeedSweepOnFerretDB(t *testing.T) {
	t.Parallel()
	db := securityTestDB(t)
	_, err := db.Collection("probe").Indexes().CreateOne(t.Context(), ttlIndex(testRetention))
	if !isTTLNotImplemented(err) {
		t.Fatalf("FerretDB answered a TTL index with %v; want the NotImplemented error", err)
	}
	t.Logf("FerretDB's answer to a TTL index: %v", err)

	for i := range 2 {
		s := newTestSecurityEvents(t, db)
		if err := s.Indexes().Ready(); err != nil {
			t.Errorf("#%d: Ready: %v", i+1, err)
		}
		if !s.NeedsSweep() {
			t.Errorf("#%d: NeedsSweep false on FerretDB", i+1)
		}
	}
	if names := indexNames(t, db.Collection("security_events")); !slices.Contains(names, securityByUserIndex) || slices.Contains(names, securityTTLIndex) {
		t.Errorf("indexes %v, want %s and no %s", names, securityByUserIndex, securityTTLIndex)
	}
}

// An index named at_ttl that is not the TTL index wanted is dropped before
// the TTL index is asked for again (MongoDB refuses a second index of the
// name with other options).
func TestSecurityEventsReplaceAStaleTTLIndex(t *testing.T) {
	t.Parallel()
	db := securityTestDB(t)
	coll := db.Collection("security_events")
	if _, err := coll.Indexes().CreateOne(t.Context(), mongo.IndexModel{
		Keys:    bson.D{{Key: "at", Value: 1}},
		Options: options.Index().SetName(securityTTLIndex),
	}); err != nil {
		t.Fatalf("create stale index: %v", err)
	}
	s := newTestSecurityEvents(t, db)
	if !s.NeedsSweep() {
		t.Error("NeedsSweep false on FerretDB")
	}
	if names := indexNames(t, coll); slices.Contains(names, securityTTLIndex) {
		t.Errorf("indexes %v: the stale %s is still there", names, securityTTLIndex)
	}
}

func TestTTLIndexExpiresAfterRetention(t *testing.T) {
	t.Parallel()
	for _, retention := range []time.Duration{time.Second, 2160 * time.Hour, 90 * time.Minute} {
		m := ttlIndex(retention)
		var o options.IndexOptions
		for _, set := range m.Options.List() {
			if err := set(&o); err != nil {
				t.Fatal(err)
			}
		}
		want := int32(retention / time.Second)
		if o.ExpireAfterSeconds == nil || *o.ExpireAfterSeconds != want {
			t.Errorf("retention %v: expireAfterSeconds %v, want %d", retention, o.ExpireAfterSeconds, want)
		}
		if o.Name == nil || *o.Name != securityTTLIndex {
			t.Errorf("retention %v: name %v, want %s", retention, o.Name, securityTTLIndex)
		}
		if keys, ok := m.Keys.(bson.D); !ok || len(keys) != 1 || keys[0].Key != "at" {
			t.Errorf("retention %v: keys %v, want at alone", retention, m.Keys)
		}
	}
}

func TestIndexSpecExpiresAfter(t *testing.T) {
	t.Parallel()
	raw := func(v any) bson.RawValue {
		typ, data, err := bson.MarshalValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return bson.RawValue{Type: typ, Value: data}
	}
	tests := []struct {
		name string
		spec indexSpec
		want bool
	}{
		{"int32", indexSpec{ExpireAfterSeconds: raw(int32(7776000))}, true},
		{"int64", indexSpec{ExpireAfterSeconds: raw(int64(7776000))}, true},
		{"double", indexSpec{ExpireAfterSeconds: raw(7776000.0)}, true},
		{"other retention", indexSpec{ExpireAfterSeconds: raw(int32(3600))}, false},
		{"not a TTL index", indexSpec{}, false},
		{"not a number", indexSpec{ExpireAfterSeconds: raw("7776000")}, false},
	}
	for _, tt := range tests {
		if got := tt.spec.expiresAfter(7776000); got != tt.want {
			t.Errorf("%s: expiresAfter = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTTLNotImplementedIsRecognizedOnlyForTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"FerretDB v1", mongo.CommandError{Code: 238, Name: "NotImplemented", Message: `Index option "expireAfterSeconds" is not implemented yet`}, true},
		{"wrapped", errors.Join(errors.New("x"), mongo.CommandError{Code: 238, Message: `Index option "expireAfterSeconds" is not implemented yet`}), true},
		{"other option", mongo.CommandError{Code: 238, Message: `Index option "hidden" is not implemented yet`}, false},
		{"other code", mongo.CommandError{Code: 85, Message: "IndexOptionsConflict: expireAfterSeconds"}, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := isTTLNotImplemented(tt.err); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}

func TestNewSecurityEventsRefusesBadRetention(t *testing.T) {
	t.Parallel()
	// Checked before any call: a database that is never reached will do.
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	for _, retention := range []time.Duration{0, -time.Hour, 999 * time.Millisecond, 1 << 62} {
		if _, err := NewSecurityEvents(t.Context(), client.Database("x"), time.Second, retention); err == nil {
			t.Errorf("retention %v accepted", retention)
		}
	}
}
