package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// wsResult is what the ws scenario measured.
type wsResult struct {
	Subscriptions     int              `json:"subscriptions"` // acknowledged and subscribed
	OpenFailed        int              `json:"open_failed"`
	OpenFailures      map[string]int64 `json:"open_failures"`
	Revocations       int              `json:"revocations"` // sessions ended by a successful request
	RevocationsFailed int              `json:"revocations_failed"`
	Events            int              `json:"events"` // next with a reason, for an ended session
	Lost              int              `json:"lost"`   // ended sessions whose subscriber got no next
	Reasons           map[string]int64 `json:"reasons"`
	Completes         int              `json:"completes"`
	Closed4403        int              `json:"closed_4403"`
	Unexpected        map[string]int64 `json:"unexpected"` // messages or closes out of sequence
	BeforeResponse    int              `json:"events_before_response"`
	Latency           latencySummary   `json:"latency"`              // from the ending request's response to next (0 when next came first)
	FromRequest       latencySummary   `json:"latency_from_request"` // from sending the ending request to next
}

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscriber is one socket subscribed to sessionEnded on its own session.
type subscriber struct {
	index     int
	user      *user
	endpoint  *url.URL
	cookie    string
	sessionID string
	revoke    bool // the sockets scenario revokes its session
	conn      *websocket.Conn
	done      chan struct{} // closed when the reader returns
	closing   atomic.Bool   // the tool itself is closing the socket

	// Written by the reader; read after done.
	eventAt    time.Time
	reason     string
	completed  bool
	closed4403 bool
	closedAt   time.Time // when the server or the network closed it
	unexpected []string

	// Written by the ender; read after it returns.
	want      string
	ended     bool
	endSentAt time.Time
	endedAt   time.Time
}

// driveSubscriptions is the ws scenario: open cfg.Concurrency
// subscriptions, wait out the warmup, end one session every
// Duration/Concurrency, and collect what the subscribers saw.
func driveSubscriptions(ctx context.Context, cfg config, cl, setupCl *gqlClient, users []*user, res result, setupStart time.Time) (result, error) {
	ws := &wsResult{OpenFailures: map[string]int64{}, Reasons: map[string]int64{}, Unexpected: map[string]int64{}}
	res.WS = ws

	subs := make([]*subscriber, cfg.Concurrency)
	var opened atomic.Int64
	var mu sync.Mutex
	stop := every(cfg.Progress, func() string {
		return fmt.Sprintf("setup: opened %d/%d subscriptions", opened.Load(), cfg.Concurrency)
	})
	runCtx := ctx // the readers outlive forEach's context
	_ = forEach(ctx, cfg.Concurrency, setupConcurrency, func(ctx context.Context, i int) error {
		s, err := openSubscriber(ctx, cfg, setupCl, users, i)
		if err != nil {
			mu.Lock()
			ws.OpenFailed++
			ws.OpenFailures[err.Error()]++
			mu.Unlock()
			return nil
		}
		go s.read(runCtx)
		subs[i] = s
		opened.Add(1)
		return nil
	})
	stop()
	subs = slices.DeleteFunc(subs, func(s *subscriber) bool { return s == nil })
	ws.Subscriptions = len(subs)
	defer closeAll(subs)
	res.SetupSeconds = seconds(time.Since(setupStart))
	if len(subs) == 0 {
		if ctx.Err() != nil {
			res.Interrupted = true
			return res, nil
		}
		return res, fmt.Errorf("no subscription opened: %s", countsText(ws.OpenFailures))
	}

	// The warmup lets the server finish registering the subscriptions.
	if cfg.Warmup > 0 {
		fmt.Fprintf(cfg.Progress, "warmup %s, then ending %d sessions over %s\n", cfg.Warmup, len(subs), cfg.Duration)
		sleep(ctx, cfg.Warmup)
	}
	n := len(subs)
	if cfg.MaxRequests > 0 {
		n = min(n, int(cfg.MaxRequests))
	}
	from := time.Now()
	interval := cfg.Duration / time.Duration(n)
	tallies := map[string]*tally{}
	var wg sync.WaitGroup
	for i, s := range subs[:n] {
		if !sleep(ctx, time.Until(from.Add(interval*time.Duration(i)))) {
			break
		}
		wg.Go(func() {
			op, o := endSession(ctx, cfg, cl, s, i)
			mu.Lock()
			defer mu.Unlock()
			if tallies[op] == nil {
				tallies[op] = newTally(n)
			}
			tallies[op].add(o)
		})
	}
	wg.Wait()
	// The ending requests are spread over the whole duration.
	res.fill(tallies, cfg.Duration)

	// Wait for the ended sessions' subscribers to see next, complete, close.
	grace := time.NewTimer(min(cfg.Timeout, 5*time.Second))
	defer grace.Stop()
wait:
	for _, s := range subs {
		if !s.ended {
			continue
		}
		select {
		case <-s.done:
		case <-grace.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	closeAll(subs)
	res.Interrupted = ctx.Err() != nil

	var lat, fromReq []time.Duration
	var sum, maxLat, sumReq, maxReq time.Duration
	for _, s := range subs {
		for _, u := range s.unexpected {
			ws.Unexpected[u]++
		}
		if s.ended {
			ws.Revocations++
		} else if s.want != "" {
			ws.RevocationsFailed++
		}
		if s.completed {
			ws.Completes++
		}
		if s.closed4403 {
			ws.Closed4403++
		}
		if s.eventAt.IsZero() {
			if s.ended {
				ws.Lost++
			}
			continue
		}
		ws.Events++
		ws.Reasons[s.reason]++
		if !s.ended {
			ws.Unexpected["event without ending request"]++
			continue
		}
		if s.reason != s.want {
			ws.Unexpected["reason "+s.reason+", want "+s.want]++
		}
		r := s.eventAt.Sub(s.endSentAt)
		fromReq = append(fromReq, r)
		sumReq += r
		maxReq = max(maxReq, r)
		d := s.eventAt.Sub(s.endedAt)
		if d < 0 {
			ws.BeforeResponse++
			d = 0
		}
		lat = append(lat, d)
		sum += d
		maxLat = max(maxLat, d)
	}
	ws.Latency = summarize(lat, maxLat, sum, int64(len(lat)))
	ws.FromRequest = summarize(fromReq, maxReq, sumReq, int64(len(fromReq)))
	return res, nil
}

// openSubscriber signs user i%len(users) in afresh on URL i%len(URLs),
// finds the new session's public id, and subscribes to sessionEnded on a
// socket carrying that session's cookie.
func openSubscriber(ctx context.Context, cfg config, cl *gqlClient, users []*user, i int) (*subscriber, error) {
	s, err := signInSubscriber(ctx, cfg, cl, users, i)
	if err != nil {
		return nil, err
	}
	if err := s.lookupSessionID(ctx, cl); err != nil {
		return nil, err
	}
	if err := s.subscribe(ctx, cfg, cl); err != nil {
		return nil, err
	}
	return s, nil
}

// signInSubscriber signs user i%len(users) in afresh on URL i%len(URLs):
// the subscriber of socket i, with its own session, not yet connected.
func signInSubscriber(ctx context.Context, cfg config, cl *gqlClient, users []*user, i int) (*subscriber, error) {
	s := &subscriber{index: i, user: users[i%len(users)], endpoint: cfg.URLs[i%len(cfg.URLs)], done: make(chan struct{})}
	o := retry(ctx, func() outcome { return cl.post(ctx, s.endpoint.String(), s.user.loginBody, "") })
	o.expect("login", "null-login")
	if o.failed() || o.cookie == "" {
		return nil, fmt.Errorf("login: %s", o.describe())
	}
	s.cookie = o.cookie
	return s, nil
}

// lookupSessionID asks the sessions query, with the subscriber's own
// cookie, for the public id of its session (the one marked current).
func (s *subscriber) lookupSessionID(ctx context.Context, cl *gqlClient) error {
	o := retry(ctx, func() outcome { return cl.post(ctx, s.endpoint.String(), bodySessions, s.cookie) })
	var list []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	}
	_ = json.Unmarshal(o.expect("sessions", "signed-out"), &list)
	for _, l := range list {
		if l.Current {
			s.sessionID = l.ID
		}
	}
	if o.failed() || s.sessionID == "" {
		return fmt.Errorf("sessions: %s", o.describe())
	}
	return nil
}

// subscribe opens the subscriber's socket with its session cookie, waits
// for connection_ack and sends the sessionEnded subscription. The reader
// is not started.
func (s *subscriber) subscribe(ctx context.Context, cfg config, cl *gqlClient) error {
	wsURL := *s.endpoint
	wsURL.Scheme = map[string]string{"http": "ws", "https": "wss"}[wsURL.Scheme]
	h := http.Header{"Cookie": {s.cookie}}
	if cfg.Origin != "" {
		h.Set("Origin", cfg.Origin)
	}
	dctx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, wsURL.String(), &websocket.DialOptions{
		HTTPClient:   cfg.Client,
		HTTPHeader:   h,
		Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		if resp != nil {
			return fmt.Errorf("upgrade: HTTP %d", resp.StatusCode)
		}
		return fmt.Errorf("upgrade: %s", transportKind(err))
	}
	s.conn = conn
	if conn.Subprotocol() != "graphql-transport-ws" {
		conn.CloseNow()
		return errors.New("upgrade: server did not accept graphql-transport-ws")
	}
	if err := s.send(dctx, wsMessage{Type: "connection_init"}); err != nil {
		conn.CloseNow()
		return fmt.Errorf("connection_init: %s", transportKind(err))
	}
	for {
		m, err := s.receive(dctx)
		if err != nil {
			conn.CloseNow()
			return fmt.Errorf("connection_init: %s", closeText(err))
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type != "ping" && m.Type != "pong" {
			conn.CloseNow()
			return fmt.Errorf("connection_init: got %s", m.Type)
		}
	}
	payload, _ := json.Marshal(map[string]string{"query": subscriptionEnd})
	if err := s.send(dctx, wsMessage{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
		conn.CloseNow()
		return fmt.Errorf("subscribe: %s", transportKind(err))
	}
	return nil
}

// endSession ends subscriber s's session from another instance (the next
// URL): even i by revokeSession from the user's own registered session,
// odd i by logout with the subscriber's cookie.
func endSession(ctx context.Context, cfg config, cl *gqlClient, s *subscriber, i int) (string, outcome) {
	ep := cfg.URLs[(s.index+1)%len(cfg.URLs)].String()
	op, want, body, cookie := "revokeSession", "REVOKED", encode(mutationRevoke, map[string]any{"id": s.sessionID}), s.user.cookie
	if i%2 == 1 {
		op, want, body, cookie = "logout", "LOGOUT", bodyLogout, s.cookie
	}
	s.want = want
	o := cl.post(ctx, ep, body, cookie)
	if v := o.expect(op, "null-"+op); !o.failed() && string(v) != "true" {
		o.check = op + "-false"
	}
	if !o.failed() {
		s.ended, s.endSentAt, s.endedAt = true, o.start, o.done
	}
	return op, o
}

// read follows the socket until it closes, answering pings and recording
// the sessionEnded sequence.
func (s *subscriber) read(ctx context.Context) {
	defer close(s.done)
	for {
		m, err := s.receive(ctx)
		if err != nil {
			if !s.closing.Load() && ctx.Err() == nil {
				s.closedAt = time.Now()
			}
			switch {
			case websocket.CloseStatus(err) == 4403:
				s.closed4403 = true
			case s.closing.Load() || ctx.Err() != nil:
			default:
				s.unexpected = append(s.unexpected, "closed: "+closeText(err))
			}
			return
		}
		switch m.Type {
		case "ping":
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = s.send(wctx, wsMessage{Type: "pong"})
			cancel()
		case "pong":
		case "next":
			at := time.Now()
			var p struct {
				Data struct {
					SessionEnded struct {
						Reason string `json:"reason"`
					} `json:"sessionEnded"`
				} `json:"data"`
			}
			_ = json.Unmarshal(m.Payload, &p)
			if !s.eventAt.IsZero() || m.ID != "1" || p.Data.SessionEnded.Reason == "" {
				s.unexpected = append(s.unexpected, "extra or malformed next")
				continue
			}
			s.eventAt, s.reason = at, p.Data.SessionEnded.Reason
		case "complete":
			s.completed = true
		case "error":
			_, codes, _ := parseResponse(append(append([]byte(`{"errors":`), m.Payload...), '}'))
			s.unexpected = append(s.unexpected, fmt.Sprintf("error %v", codes))
		default:
			s.unexpected = append(s.unexpected, "message "+m.Type)
		}
	}
}

func (s *subscriber) send(ctx context.Context, m wsMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.conn.Write(ctx, websocket.MessageText, b)
}

func (s *subscriber) receive(ctx context.Context) (wsMessage, error) {
	_, b, err := s.conn.Read(ctx)
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return wsMessage{Type: "non-JSON"}, nil
	}
	return m, nil
}

// closeAll closes every socket and waits for its reader.
func closeAll(subs []*subscriber) {
	for _, s := range subs {
		s.closing.Store(true)
		s.conn.CloseNow()
	}
	for _, s := range subs {
		<-s.done
	}
}

func closeText(err error) string {
	if st := websocket.CloseStatus(err); st != -1 {
		var ce websocket.CloseError
		errors.As(err, &ce)
		return fmt.Sprintf("close %d %s", st, ce.Reason)
	}
	return transportKind(err)
}

// sleep waits d or until ctx ends; it reports whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
