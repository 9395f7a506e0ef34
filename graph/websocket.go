package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/session"
)

// Close code and reason for a socket without a live session: graphql-ws
// clients stop retrying on 4403, where a plain 1000 makes them reconnect in
// a loop.
const (
	closeForbidden       = 4403
	closeUnauthenticated = "UNAUTHENTICATED"
)

// websocketTransport serves graphql-transport-ws at /graphql. The handshake
// is authenticated by the session cookie on the upgrade request (the session
// middleware has loaded it); the upgrade's Origin was checked against the
// CORS allowlist before this runs (server routes), and coder/websocket
// checks it again against the same list.
func websocketTransport(allowedOrigins []string) transport.Websocket {
	var patterns []string
	for _, o := range allowedOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			patterns = append(patterns, u.Host)
		}
	}
	return transport.Websocket{
		Implementation: closingSockets{inner: transport.CoderWebsocketImplementation{
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: patterns},
		}},
		InitTimeout:      10 * time.Second,
		PingPongInterval: 20 * time.Second,
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			id, err := session.UserID(ctx)
			if err != nil || id == "" {
				ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
				ctx = transport.AppendCloseReason(ctx, closeUnauthenticated)
				return ctx, nil, errors.New(closeUnauthenticated)
			}
			return ctx, nil, nil
		},
	}
}

type socketKey struct{}

// socketHolder lets a subscription resolver reach its websocket: the
// connection is put here when accepted, and the request context carries it.
type socketHolder struct {
	mu   sync.Mutex
	conn *closingConn
}

// Sockets tracks the open websocket connections, which http.Server's
// Shutdown does not see (they are hijacked), so that shutdown can close
// them cleanly and wait for them.
type Sockets struct {
	mu      sync.Mutex
	wg      sync.WaitGroup
	closing bool
	cancels map[*socketHolder]context.CancelFunc
}

// Shutdown closes every open socket (close code 1000, "terminated";
// graphql-ws clients reconnect, to another instance) and refuses new ones,
// then waits until their handlers have returned or ctx ends.
func (s *Sockets) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, cancel := range s.cancels {
		cancel()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close websockets: %w", ctx.Err())
	}
}

// track prepares upgrade requests for closingSockets and for Shutdown.
func (s *Sockets) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := &socketHolder{}
		ctx, cancel := context.WithCancel(context.WithValue(r.Context(), socketKey{}, h))
		defer cancel()
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if s.cancels == nil {
			s.cancels = map[*socketHolder]context.CancelFunc{}
		}
		s.cancels[h] = cancel
		s.wg.Add(1)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.cancels, h)
			s.mu.Unlock()
			s.wg.Done()
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// closeAfterComplete makes the socket behind ctx close with 4403 right
// after the server's next "complete" message: the session-ended sequence is
// next, complete, close.
func closeAfterComplete(ctx context.Context) {
	h, _ := ctx.Value(socketKey{}).(*socketHolder)
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != nil {
		h.conn.endAfterComplete.Store(true)
	}
}

// closingSockets wraps accepted connections in closingConn.
type closingSockets struct {
	inner transport.WebsocketImplementation
}

func (s closingSockets) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := s.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	c := &closingConn{WebsocketConn: conn}
	if h, _ := r.Context().Value(socketKey{}).(*socketHolder); h != nil {
		h.mu.Lock()
		h.conn = c
		h.mu.Unlock()
	}
	return c, nil
}

// closingConn closes the socket with 4403 after the "complete" that ends a
// sessionEnded operation. It keeps the read limit and deadline of the
// connection it wraps, which gqlgen reaches by type assertion.
type closingConn struct {
	transport.WebsocketConn
	endAfterComplete atomic.Bool
}

func (c *closingConn) WriteJSON(v any) error {
	if !c.endAfterComplete.Load() {
		return c.WebsocketConn.WriteJSON(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var msg struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(b, &msg)
	if err := c.WebsocketConn.WriteJSON(json.RawMessage(b)); err != nil {
		return err
	}
	if msg.Type == "complete" {
		return c.WebsocketConn.WriteClose(closeForbidden, closeUnauthenticated)
	}
	return nil
}

func (c *closingConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *closingConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// SubscriptionAuth checks, when each subscription starts, that the session
// the socket opened with is still live (it may have ended since the
// handshake). If not, the operation is refused before it runs, which
// graphql-transport-ws delivers as an "error" message with UNAUTHENTICATED.
type SubscriptionAuth struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = SubscriptionAuth{}

// ExtensionName implements graphql.HandlerExtension.
func (SubscriptionAuth) ExtensionName() string { return "SubscriptionAuth" }

// Validate implements graphql.HandlerExtension. It registers UNAUTHENTICATED
// and SERVICE_UNAVAILABLE as errors that stop an operation before it runs,
// so the websocket transport sends them as "error" messages.
func (SubscriptionAuth) Validate(graphql.ExecutableSchema) error {
	registerKinds.Do(func() {
		errcode.RegisterErrorType(apperr.Unauthenticated, errcode.KindProtocol)
		errcode.RegisterErrorType(apperr.ServiceUnavailable, errcode.KindProtocol)
	})
	return nil
}

// registerKinds guards gqlgen's process-wide table of error kinds, which
// servers running side by side (tests, several instances in one process)
// would otherwise write while the others read it.
var registerKinds sync.Once

// MutateOperationContext implements graphql.OperationContextMutator.
func (SubscriptionAuth) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return nil
	}
	live, err := session.Live(ctx)
	switch {
	case err != nil:
		return &gqlerror.Error{Message: "The service is temporarily unavailable. Try again shortly.", Extensions: map[string]any{"code": apperr.ServiceUnavailable}}
	case !live:
		return &gqlerror.Error{Message: "Sign in to do this.", Extensions: map[string]any{"code": apperr.Unauthenticated}}
	}
	return nil
}
