//go:build !noembedded

package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Mongo is an in-process MongoDB wire-protocol server: FerretDB v1 with its
// SQLite handler, one SQLite file per database under a folder, so data
// survives a restart on the same folder.
type Mongo struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// StartMongo starts FerretDB on a free port of 127.0.0.1, storing its files
// under dir (created with mode 0o700 if missing; its path must not contain ?,
// # or %). It returns once the listener accepts connections. A folder that
// cannot be created or written to fails the start with an error wrapping
// [ErrUnusableDir]. Only records at Warn level or above reach logger,
// because FerretDB logs every connection at Info; a nil logger discards
// them. FerretDB still logs each failed command (an unsupported feature,
// say) at Warn, with a dump of the reply.
//
// ctx bounds the start only, and its values reach FerretDB's log calls.
// Cancelling it later does not stop the server: Close does, so the caller
// decides the shutdown order (stop serving requests first, then the store).
//
// FerretDB v1 is not MongoDB. It has no transactions, no TTL, partial or
// collation indexes, no $lookup, and only $sum and $count among $group
// accumulators; and an update that breaks a unique index fails with an
// InternalError that mongo.IsDuplicateKeyError does not recognise, where an
// insert fails with the usual E11000. TestMongoLimitations lists what was
// checked.
func StartMongo(ctx context.Context, dir string, logger *slog.Logger) (*Mongo, error) {
	return StartMongoAt(ctx, "127.0.0.1:0", dir, logger)
}

// StartMongoAt is [StartMongo] listening on addr (host:port) instead of a
// free port, for a test that starts the database where a client already
// expects it.
func StartMongoAt(ctx context.Context, addr, dir string, logger *slog.Logger) (*Mongo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	abs, err := dataDir(dir)
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	// FerretDB v1 leaks its SQLite backend when it cannot listen (and
	// panics over it in race builds), so a taken address is refused here.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	_ = ln.Close()

	f, err := newFerretDB(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    warnOnly(logger),
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: abs + "/"}).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}

	// ferretdb.New has already bound the listener, so the URI is known and
	// connections queue in the backlog until Run accepts them.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Mongo{
		uri:    f.MongoDBURI(),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		_ = f.Run(runCtx) // always nil; it returns once runCtx is done
	}()
	return m, nil
}

// dataDir makes dir ready for FerretDB's files and returns its absolute
// path; its errors wrap ErrUnusableDir.
func dataDir(dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("%w: no folder given", ErrUnusableDir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnusableDir, err)
	}
	// FerretDB builds an SQLite URI from the path without escaping it, so
	// these would put the files elsewhere or fail to open them.
	if strings.ContainsAny(abs, "?#%") {
		return "", fmt.Errorf("%w: %q: FerretDB cannot use a path containing ?, # or %%", ErrUnusableDir, abs)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnusableDir, err)
	}
	// SQLite opens a database's file on its first use, so a folder that
	// cannot be written to would only show as failing requests.
	probe, err := os.CreateTemp(abs, ".write-test-*")
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnusableDir, err)
	}
	_ = probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnusableDir, err)
	}
	return abs, nil
}

// newMu serialises ferretdb.New, which writes a package-level variable of
// FerretDB's (version.Get().Package) and would race when tests start several
// servers in parallel.
var newMu sync.Mutex

func newFerretDB(c *ferretdb.Config) (*ferretdb.FerretDB, error) {
	newMu.Lock()
	defer newMu.Unlock()
	return ferretdb.New(c)
}

// URI returns "mongodb://127.0.0.1:PORT/", the form MONGODB_URI takes.
func (m *Mongo) URI() string { return m.uri }

// Close stops the listener and waits until FerretDB has closed its SQLite
// files, so the folder can be reopened or removed. Disconnect clients first:
// FerretDB gives connections still open up to 3 seconds before it cuts them.
// Calling it twice is harmless.
func (m *Mongo) Close() {
	m.once.Do(m.cancel)
	<-m.done
}

// warnOnly returns a logger that passes on only records at Warn level or
// above, or discards everything if l is nil.
func warnOnly(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(minLevelHandler{next: l.Handler(), min: slog.LevelWarn})
}

// minLevelHandler drops records below min before they reach next.
type minLevelHandler struct {
	next slog.Handler
	min  slog.Level
}

func (h minLevelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.next.Enabled(ctx, level)
}

func (h minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{next: h.next.WithAttrs(attrs), min: h.min}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{next: h.next.WithGroup(name), min: h.min}
}
