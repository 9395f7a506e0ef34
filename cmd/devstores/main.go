// Command devstores serves the server's in-process stores on their own: the
// in-memory Redis (miniredis) and the MongoDB-compatible FerretDB on SQLite
// files, from internal/devstack, on addresses you choose. It lets several
// server instances share one Redis and one MongoDB on a machine with neither
// installed, and gives scripts/ a MongoDB to run against from a plain clone:
//
//	go run ./cmd/devstores -redis 127.0.0.1:6379 -mongo 127.0.0.1:27017 -data ./data/devstores
//	REDIS_URL=redis://127.0.0.1:6379 MONGODB_URI=mongodb://127.0.0.1:27017/ PORT=8080 go run .
//	REDIS_URL=redis://127.0.0.1:6379 MONGODB_URI=mongodb://127.0.0.1:27017/ PORT=8081 go run .
//
// An empty address leaves that store out (-redis "" serves MongoDB only);
// port 0 picks a free port. The log line "serving" names the URLs to use.
// Redis data lives in memory and is lost on exit; FerretDB's files stay in
// -data. SIGINT or SIGTERM stops both and exits 0.
//
// The in-process FerretDB reads every document of a collection for each
// query, so it serves development, tests and demos, not load beyond them
// (docs/decks-load.md). A binary built with -tags noembedded has neither
// store and exits with an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/sessiongql/server/internal/devstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "devstores:", err)
		os.Exit(1)
	}
}

// run serves the stores the flags in args ask for until ctx is done, logging
// to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("devstores", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisAddr := fs.String("redis", "127.0.0.1:6379", "`address` for the in-process Redis (miniredis); empty: no Redis")
	mongoAddr := fs.String("mongo", "127.0.0.1:27017", "`address` for the in-process MongoDB (FerretDB); empty: no MongoDB")
	dataDir := fs.String("data", "./data/devstores", "`folder` for FerretDB's SQLite files (created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *redisAddr == "" && *mongoAddr == "" {
		return errors.New("-redis and -mongo are both empty: nothing to serve")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	attrs := []any{}
	if *redisAddr != "" {
		url, stopRedis, err := serveRedis(*redisAddr, logger)
		if err != nil {
			return fmt.Errorf("-redis %q: %w", *redisAddr, err)
		}
		defer stopRedis()
		attrs = append(attrs, "redis_url", url)
	}
	if *mongoAddr != "" {
		m, err := devstack.StartMongoAt(ctx, *mongoAddr, *dataDir, logger)
		if err != nil {
			if errors.Is(err, devstack.ErrUnusableDir) {
				return fmt.Errorf("-data %q: %w", *dataDir, err)
			}
			return fmt.Errorf("-mongo %q: %w", *mongoAddr, err)
		}
		defer m.Close()
		attrs = append(attrs, "mongodb_uri", m.URI(), "data", *dataDir)
	}
	logger.Info("serving; SIGINT or SIGTERM stops", attrs...)
	<-ctx.Done()
	logger.Info("stopping")
	return nil
}

// serveRedis starts the in-process Redis and makes it answer on addr. The
// in-process Redis always listens on a free port, so an address with a port
// of its own gets a TCP forwarder to it. It returns the URL for REDIS_URL and
// a function that stops both.
func serveRedis(addr string, logger *slog.Logger) (string, func(), error) {
	r, err := devstack.StartRedis()
	if err != nil {
		return "", nil, err
	}
	if _, port, err := net.SplitHostPort(addr); err == nil && port == "0" {
		return r.URL(), r.Close, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.Close()
		return "", nil, err
	}
	f := &forwarder{ln: ln, target: r.Addr(), logger: logger, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.accept()
	return "redis://" + ln.Addr().String(), func() { f.close(); r.Close() }, nil
}

// forwarder copies bytes both ways between each connection accepted on ln
// and a new connection to target.
type forwarder struct {
	ln     net.Listener
	target string
	logger *slog.Logger
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

func (f *forwarder) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // the listener was closed
		}
		f.wg.Add(1)
		go f.forward(c)
	}
}

func (f *forwarder) forward(client net.Conn) {
	defer f.wg.Done()
	server, err := net.Dial("tcp", f.target)
	if err != nil {
		f.logger.Warn("redis: cannot reach the in-process server", "err", err)
		_ = client.Close()
		return
	}
	if !f.track(client, server) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done // one side ended: end both, then wait for the other copy
	_ = client.Close()
	_ = server.Close()
	<-done
	f.untrack(client, server)
}

// track records both ends of a connection, or closes them when the
// forwarder is already closed.
func (f *forwarder) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *forwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
	}
}

// close stops accepting, ends every open connection and waits for their
// copies to finish.
func (f *forwarder) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
