package session

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrNotSignedIn is returned by calls that need a live session when the
// request has none.
var ErrNotSignedIn = errors.New("session: not signed in")

// event is one message of eventsChannel.
type event struct {
	id       string // the storage id the event is about
	reason   string // why it ended, or reasonRotated
	rotateTo string // with reasonRotated: the successor's storage id
}

// parseEvent reads a message written by endLua.
func parseEvent(payload string) (event, bool) {
	if len(payload) <= storageIDLen {
		return event{}, false
	}
	e := event{id: payload[:storageIDLen], reason: payload[storageIDLen:]}
	if next, ok := strings.CutPrefix(e.reason, reasonRotated); ok {
		if len(next) != storageIDLen {
			return event{}, false
		}
		e.reason, e.rotateTo = reasonRotated, next
	}
	return e, true
}

// hub fans the instance's one Redis subscription out to the sockets of
// the sessions the events are about.
type hub struct {
	startMu sync.Mutex // serializes starting the subscription
	mu      sync.Mutex // guards the fields below
	pubsub  *redis.PubSub
	sockets map[string]map[*Socket]struct{} // storage id → sockets
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
	// Wait for the confirmation: an event published after OpenSocket
	// returns must reach it.
	rctx, cancel := m.storeCtx(ctx)
	defer cancel()
	if _, err := ps.Receive(rctx); err != nil {
		_ = ps.Close()
		return unavailable("subscribe to session events", err)
	}
	h.mu.Lock()
	h.pubsub = ps
	h.mu.Unlock()
	go h.dispatch(ps.Channel(redis.WithChannelSize(1000)))
	return nil
}

func (h *hub) dispatch(msgs <-chan *redis.Message) {
	var targets []*Socket
	for msg := range msgs {
		e, ok := parseEvent(msg.Payload)
		if !ok {
			continue
		}
		h.mu.Lock()
		targets = targets[:0]
		for s := range h.sockets[e.id] {
			targets = append(targets, s)
		}
		h.mu.Unlock()
		for _, s := range targets {
			s.handle(e)
		}
	}
}

func (h *hub) add(id string, s *Socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sockets == nil {
		h.sockets = map[string]map[*Socket]struct{}{}
	}
	if h.sockets[id] == nil {
		h.sockets[id] = map[*Socket]struct{}{}
	}
	h.sockets[id][s] = struct{}{}
}

func (h *hub) remove(id string, s *Socket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sockets[id], s)
	if len(h.sockets[id]) == 0 {
		delete(h.sockets, id)
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
