package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/session"
)

// Close codes and reasons (docs/API.md, "Subscriptions"): graphql-ws clients
// stop retrying on 4403, where a plain 1000 makes them reconnect in a
// loop; 1011 asks them to try again later.
const (
	closeForbidden       = 4403
	closeUnauthenticated = "UNAUTHENTICATED"
	closeTryAgain        = 1011
)

// drainBeforeClose bounds how long a socket whose session ended waits for
// its operations (the sessionEnded events) to be written before closing.
const drainBeforeClose = 500 * time.Millisecond

// websocketTransport serves graphql-transport-ws at /graphql. The handshake
// is authenticated by the session cookie on the upgrade request (the session
// middleware has loaded it); the upgrade's Origin was checked against the
// CORS allowlist before this runs (server routes), and coder/websocket
// checks it again against the same list. Each socket then follows its
// session (session.Socket): every operation is authorized against it
// (socketOperations), and its end closes the socket with 4403.
func websocketTransport(allowedOrigins []string, maxOperations int) graphql.Transport {
	var patterns []string
	for _, o := range allowedOrigins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			patterns = append(patterns, u.Host)
		}
	}
	return plainSocketErrors{transport.Websocket{
		Implementation: sessionSockets{maxOperations: maxOperations, inner: transport.CoderWebsocketImplementation{
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: patterns},
		}},
		InitTimeout:      10 * time.Second,
		PingPongInterval: 20 * time.Second,
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			conn := connFrom(ctx)
			sock, err := session.OpenSocket(ctx, func(string) {
				if conn != nil {
					conn.closeWhenDrained(drainBeforeClose)
				}
			})
			if err != nil {
				code, reason := closeForbidden, closeUnauthenticated
				if !errors.Is(err, session.ErrNotSignedIn) {
					code, reason = closeTryAgain, "SERVICE_UNAVAILABLE"
				}
				ctx = transport.WithWebsocketCloseCode(ctx, code)
				ctx = transport.AppendCloseReason(ctx, reason)
				return ctx, nil, errors.New(reason)
			}
			if conn != nil {
				conn.setSocket(sock)
			}
			return context.WithValue(ctx, sessionSocketKey{}, sock), nil, nil
		},
	}}
}

// plainSocketErrors is the websocket transport with the variable errors of
// the POST and GET transports (plainVariableErrors): gqlgen's websocket
// sends the library's own, which name Go types, without the presenter.
type plainSocketErrors struct{ transport.Websocket }

func (t plainSocketErrors) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Websocket.Do(w, r, plainErrorsExecutor{exec})
}

type plainErrorsExecutor struct{ graphql.GraphExecutor }

func (e plainErrorsExecutor) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	oc, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	return oc, plainVariableErrors(errs, params.Variables)
}

type (
	socketKey        struct{}
	sessionSocketKey struct{}
)

// socketHolder lets the handshake reach its connection: the connection is
// put here when accepted, and the request context carries it.
type socketHolder struct {
	mu   sync.Mutex
	conn *sessionConn
}

func connFrom(ctx context.Context) *sessionConn {
	h, _ := ctx.Value(socketKey{}).(*socketHolder)
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conn
}

// socketFrom returns the session the operation's socket follows, or nil
// for an HTTP request.
func socketFrom(ctx context.Context) *session.Socket {
	s, _ := ctx.Value(sessionSocketKey{}).(*session.Socket)
	return s
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

// track prepares upgrade requests for sessionSockets and for Shutdown.
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
			// gqlgen returns once the connection is gone, however it ended.
			if c := connFrom(ctx); c != nil {
				c.stopFollowing()
			}
			s.mu.Lock()
			delete(s.cancels, h)
			s.mu.Unlock()
			s.wg.Done()
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// sessionSockets wraps accepted connections in sessionConn.
type sessionSockets struct {
	inner         transport.WebsocketImplementation
	maxOperations int
}

func (s sessionSockets) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := s.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	c := &sessionConn{WebsocketConn: conn, max: s.maxOperations, active: map[string]struct{}{}}
	if h, _ := r.Context().Value(socketKey{}).(*socketHolder); h != nil {
		h.mu.Lock()
		h.conn = c
		h.mu.Unlock()
	}
	return c, nil
}

// sessionConn is one graphql-transport-ws connection as the server sees
// its messages. It keeps the operations running on it (from the client's
// "subscribe" to the server's "complete" or "error") to at most max,
// answering one more with RATE_LIMITED before gqlgen starts anything for
// it; and once its session has ended it closes with 4403 when those
// operations have been answered. It keeps the read limit and deadline of
// the connection it wraps, which gqlgen reaches by type assertion.
type sessionConn struct {
	transport.WebsocketConn
	max int

	writeMu sync.Mutex // serializes writes (gqlgen's and the refusals)

	mu      sync.Mutex // guards the fields below
	active  map[string]struct{}
	drained chan struct{} // closed when active empties, once ending
	sock    *session.Socket
}

// wsEnvelope is the part of a graphql-transport-ws message the connection
// reads.
type wsEnvelope struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

func (c *sessionConn) setSocket(s *session.Socket) {
	c.mu.Lock()
	c.sock = s
	c.mu.Unlock()
}

// stopFollowing releases the session the connection followed.
func (c *sessionConn) stopFollowing() {
	c.mu.Lock()
	sock := c.sock
	c.mu.Unlock()
	if sock != nil {
		sock.Close()
	}
}

// NextReader passes the client's messages to gqlgen, but answers a
// "subscribe" beyond the operation limit itself.
func (c *sessionConn) NextReader() (int, io.Reader, error) {
	for {
		typ, r, err := c.WebsocketConn.NextReader()
		if err != nil {
			return typ, r, err
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return typ, nil, err
		}
		var env wsEnvelope
		if json.Unmarshal(b, &env) != nil || env.Type != "subscribe" || env.ID == "" {
			return typ, bytes.NewReader(b), nil
		}
		c.mu.Lock()
		_, dup := c.active[env.ID]
		refuse := !dup && len(c.active) >= c.max
		if !refuse {
			c.active[env.ID] = struct{}{}
		}
		c.mu.Unlock()
		if !refuse {
			return typ, bytes.NewReader(b), nil
		}
		if err := c.refuse(env.ID); err != nil {
			return typ, nil, err
		}
	}
}

// refuse answers an operation over the limit with an "error" message.
func (c *sessionConn) refuse(id string) error {
	payload, err := json.Marshal([]*gqlerror.Error{{
		Message: fmt.Sprintf("At most %d operations may run at once on one connection.", c.max),
		Extensions: map[string]any{
			"code":       apperr.RateLimited,
			"retryAfter": 1,
		},
	}})
	if err != nil {
		return err
	}
	return c.WriteJSON(struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}{id, "error", payload})
}

func (c *sessionConn) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	err = c.WebsocketConn.WriteJSON(json.RawMessage(b))
	c.writeMu.Unlock()
	var env wsEnvelope
	if json.Unmarshal(b, &env) == nil && env.ID != "" && (env.Type == "complete" || env.Type == "error") {
		c.mu.Lock()
		delete(c.active, env.ID)
		if c.drained != nil && len(c.active) == 0 {
			close(c.drained)
			c.drained = nil
		}
		c.mu.Unlock()
	}
	return err
}

// closeWhenDrained closes the connection with 4403 once every running
// operation has been answered (the sessionEnded events: next, complete),
// or after wait.
func (c *sessionConn) closeWhenDrained(wait time.Duration) {
	c.mu.Lock()
	var drained <-chan struct{}
	if len(c.active) > 0 {
		ch := make(chan struct{})
		c.drained, drained = ch, ch
	}
	c.mu.Unlock()
	if drained != nil {
		select {
		case <-drained:
		case <-time.After(wait):
		}
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.WebsocketConn.WriteClose(closeForbidden, closeUnauthenticated)
}

func (c *sessionConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *sessionConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// socketOperations authorizes each operation on a websocket against the
// live session (it may have ended since the handshake): the operation runs
// with the session as Redis has it now, or not at all, answering
// UNAUTHENTICATED (or SERVICE_UNAVAILABLE). HTTP requests pass untouched:
// the session middleware loaded theirs.
type socketOperations struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = socketOperations{}

// ExtensionName implements graphql.HandlerExtension.
func (socketOperations) ExtensionName() string { return "SocketOperations" }

// Validate implements graphql.HandlerExtension.
func (socketOperations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor.
func (socketOperations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	sock := socketFrom(ctx)
	if sock == nil {
		return next(ctx)
	}
	opCtx, err := sock.Operation(ctx)
	if err == nil {
		return next(opCtx)
	}
	e := &gqlerror.Error{Message: "Sign in to do this.", Extensions: map[string]any{"code": apperr.Unauthenticated}}
	if !errors.Is(err, session.ErrNotSignedIn) {
		e = &gqlerror.Error{Message: "The service is temporarily unavailable. Try again shortly.", Extensions: map[string]any{"code": apperr.ServiceUnavailable}}
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{e}})
}
