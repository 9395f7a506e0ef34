package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// eventsChannel carries session ends and rotations between instances.
// Messages are "<storage id> <reason>" or "<old storage id> ROTATED <new
// storage id>", ids in base64url; a storage id is a hash, never a token.
const eventsChannel = "session-events"

const reasonRotated = "ROTATED"

// recheckEvery bounds how long a watcher trusts pub/sub alone: a message
// lost while the subscription reconnects is caught by reading Redis.
const recheckEvery = 30 * time.Second

// ErrNotSignedIn is returned by calls that need a live session when the
// request has none.
var ErrNotSignedIn = errors.New("session: not signed in")

func endedEvent(storageID, reason string) string { return encodeID(storageID) + " " + reason }

func rotatedEvent(oldID, newID string) string {
	return encodeID(oldID) + " " + reasonRotated + " " + encodeID(newID)
}

// publish tells every instance about an end or rotation. A lost message
// is caught by the watchers' periodic re-check, so failure is not fatal.
func (m *Manager) publish(ctx context.Context, msg string) {
	ctx, cancel := m.storeCtx(context.WithoutCancel(ctx))
	defer cancel()
	_ = m.rdb.Publish(ctx, eventsChannel, msg).Err()
}

// hub fans the instance's one Redis subscription out to its watchers.
type hub struct {
	startMu  sync.Mutex // serializes starting the subscription
	mu       sync.Mutex // guards the fields below
	pubsub   *redis.PubSub
	watchers map[string]map[chan string]struct{} // storage id → event messages
}

// subscribe starts the instance's subscription on first use; after a
// failure (Redis down) the next call tries again.
func (m *Manager) subscribe(ctx context.Context) error {
	h := &m.hub
	h.startMu.Lock()
	defer h.startMu.Unlock()
	h.mu.Lock()
	started := h.pubsub != nil
	h.mu.Unlock()
	if started {
		return nil
	}
	ps := m.rdb.Subscribe(context.WithoutCancel(ctx), eventsChannel)
	// Wait for the confirmation: an event published after Watch returns
	// must reach it.
	rctx, cancel := m.storeCtx(ctx)
	defer cancel()
	if _, err := ps.Receive(rctx); err != nil {
		_ = ps.Close()
		return unavailable("subscribe to session events", err)
	}
	h.mu.Lock()
	h.pubsub = ps
	h.mu.Unlock()
	go h.dispatch(ps.Channel())
	return nil
}

func (h *hub) dispatch(msgs <-chan *redis.Message) {
	for msg := range msgs {
		encoded, _, _ := strings.Cut(msg.Payload, " ")
		id, ok := decodeID(encoded)
		if !ok {
			continue
		}
		h.mu.Lock()
		for ch := range h.watchers[id] {
			select {
			case ch <- msg.Payload:
			default: // the watcher has an event pending already
			}
		}
		h.mu.Unlock()
	}
}

func (h *hub) add(id string, ch chan string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watchers == nil {
		h.watchers = map[string]map[chan string]struct{}{}
	}
	if h.watchers[id] == nil {
		h.watchers[id] = map[chan string]struct{}{}
	}
	h.watchers[id][ch] = struct{}{}
}

func (h *hub) remove(id string, ch chan string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watchers[id], ch)
	if len(h.watchers[id]) == 0 {
		delete(h.watchers, id)
	}
}

// Close stops the instance's event subscription.
func (m *Manager) Close() error {
	m.hub.mu.Lock()
	ps := m.hub.pubsub
	m.hub.mu.Unlock()
	if ps != nil {
		return ps.Close()
	}
	return nil
}

// Watch checks in Redis that the request's session is still live (it may
// have ended since the request began, e.g. on a long-lived websocket) and
// returns a channel that yields, once, the reason it ends — LOGOUT,
// REVOKED, PASSWORD_CHANGED or EXPIRED, on whichever instance that
// happens — and is then closed. It is closed without a value when ctx
// ends. A rotation (second login, password change on this session) is
// followed, not reported. ErrNotSignedIn when the session is not live.
func Watch(ctx context.Context) (<-chan string, error) {
	st, rec, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	m := st.m
	if err := m.subscribe(ctx); err != nil {
		return nil, err
	}
	w := &watch{m: m, userID: rec.UserID, id: currentID(st), events: make(chan string, 4), out: make(chan string, 1)}
	m.hub.add(w.id, w.events)
	live, err := w.check(ctx)
	if err != nil || live == nil {
		m.hub.remove(w.id, w.events)
		if err == nil {
			err = ErrNotSignedIn
		}
		return nil, err
	}
	go w.run(ctx, live)
	return w.out, nil
}

type watch struct {
	m      *Manager
	userID string
	id     string
	events chan string
	out    chan string
}

// check reads the watched session from Redis: nil when it is gone.
func (w *watch) check(ctx context.Context) (*record, error) {
	tag := tagOf(w.userID)
	return w.m.load(ctx, parsedToken{tag: tag, storageID: w.id})
}

func (w *watch) run(ctx context.Context, rec *record) {
	defer close(w.out)
	defer func() { w.m.hub.remove(w.id, w.events) }()
	timer := time.NewTimer(w.nextCheck(rec))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-w.events:
			parts := strings.Fields(msg)
			if len(parts) == 0 {
				continue
			}
			if id, ok := decodeID(parts[0]); !ok || id != w.id {
				continue
			}
			if len(parts) == 3 && parts[1] == reasonRotated {
				next, ok := decodeID(parts[2])
				if !ok {
					continue
				}
				w.m.hub.remove(w.id, w.events)
				w.id = next
				w.m.hub.add(w.id, w.events)
				continue
			}
			if len(parts) == 2 {
				w.out <- parts[1]
				return
			}
		case <-timer.C:
			rec, err := w.check(ctx)
			switch {
			case err != nil:
				// Redis is unreachable: keep watching and ask again soon.
				timer.Reset(time.Second)
			case rec == nil:
				w.out <- ReasonExpired
				return
			default:
				timer.Reset(w.nextCheck(rec))
			}
		}
	}
}

// nextCheck is when to read Redis next: at the session's expiry, or
// sooner to catch a missed message.
func (w *watch) nextCheck(rec *record) time.Duration {
	d := time.Until(w.m.expiresAt(rec)) + 10*time.Millisecond
	return max(min(d, recheckEvery), 10*time.Millisecond)
}

// Live reads Redis to tell whether the request's session still exists: a
// long-lived connection (a websocket) may outlive the session it opened
// with. False for an anonymous request.
func Live(ctx context.Context) (bool, error) {
	st, rec, err := signedIn(ctx)
	if errors.Is(err, ErrNotSignedIn) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	w := &watch{m: st.m, userID: rec.UserID, id: currentID(st)}
	live, err := w.check(ctx)
	return live != nil, err
}
