package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/apperr"
)

// Indexes is the creation of a collection's indexes, which its constructor
// starts. A database that does not answer does not stop the server: the
// creation goes on in the background until it succeeds, so a server started
// before its database (as on a container platform) gets its indexes when
// the database appears. Readiness should wait for Ready, not just for an
// answer: a unique index is what refuses a second account for an email.
type Indexes struct {
	of      string // the collections, for errors
	mu      sync.Mutex
	err     error // the last attempt's failure; nil once the indexes exist
	stopped chan struct{}
}

// Ready returns nil once the indexes exist, else the error that kept the
// last attempt from creating them.
func (ix *Indexes) Ready() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.err != nil {
		return fmt.Errorf("indexes of %s not created yet: %w", ix.of, ix.err)
	}
	return nil
}

// Wait returns once no creation is running: the indexes exist, or the
// context given to the constructor has ended.
func (ix *Indexes) Wait() { <-ix.stopped }

// Retry delays in the background: doubling from retryFirst up to
// retryMaxUnavailable while MongoDB does not answer (an attempt costs a
// server selection), and up to retryMaxRefused when it answers but refuses
// (duplicate emails, say, which wait for an operator; an attempt may scan a
// whole collection).
const (
	retryFirst          = 250 * time.Millisecond
	retryMaxUnavailable = 2 * time.Second
	retryMaxRefused     = time.Minute
)

// createIndexes runs ensure once, for at most timeout. If MongoDB did not
// answer, it returns at once and keeps trying in the background, each
// attempt bounded by startupTimeout (or timeout if longer), until one
// succeeds or ctx ends. Any other failure is returned.
func createIndexes(ctx context.Context, of string, timeout time.Duration, ensure func(context.Context) error) (*Indexes, error) {
	ix := &Indexes{of: of, stopped: make(chan struct{})}
	first, cancel := context.WithTimeout(ctx, timeout)
	err := ensure(first)
	cancel()
	if err == nil {
		close(ix.stopped)
		return ix, nil
	}
	if !errors.Is(err, apperr.ErrUnavailable) {
		return nil, err
	}
	ix.err = err
	go ix.retry(ctx, max(timeout, startupTimeout), ensure)
	return ix, nil
}

func (ix *Indexes) retry(ctx context.Context, timeout time.Duration, ensure func(context.Context) error) {
	defer close(ix.stopped)
	delay := retryFirst
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		attempt, cancel := context.WithTimeout(ctx, timeout)
		err := ensure(attempt)
		cancel()
		if ctx.Err() != nil {
			return
		}
		ix.mu.Lock()
		ix.err = err
		ix.mu.Unlock()
		if err == nil {
			return
		}
		limit := retryMaxRefused
		if errors.Is(err, apperr.ErrUnavailable) {
			limit = retryMaxUnavailable
		}
		delay = min(2*delay, limit)
		timer.Reset(delay)
	}
}

// ensureIndexes creates those of models (each must be named) that coll
// lacks, one at a time. Asking for existing indexes again is what MongoDB
// allows, but FerretDB v1 drops the connection (a panic inside it) on a
// createIndexes that repeats existing ones, as every restart would.
func ensureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		return classify("list indexes of "+coll.Name(), err)
	}
	var existing []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &existing); err != nil {
		return classify("list indexes of "+coll.Name(), err)
	}
	have := map[string]bool{}
	for _, ix := range existing {
		have[ix.Name] = true
	}
	for _, m := range models {
		name := indexName(m)
		if name == "" {
			return fmt.Errorf("index on %s has no name", coll.Name())
		}
		if have[name] {
			continue
		}
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return classify("create index "+name+" on "+coll.Name(), err)
		}
	}
	return nil
}

func indexName(m mongo.IndexModel) string {
	if m.Options == nil {
		return ""
	}
	var o options.IndexOptions
	for _, set := range m.Options.List() {
		if err := set(&o); err != nil {
			return ""
		}
	}
	if o.Name == nil {
		return ""
	}
	return *o.Name
}

// startupTimeout bounds an attempt at creating indexes in the background,
// which is not a request: a busy database may take longer than
// STORE_TIMEOUT to answer it.
const startupTimeout = 30 * time.Second
