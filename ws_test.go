package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a minimal graphql-transport-ws client.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	resp *http.Response
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a socket to /graphql sending cookie (may be empty) and
// origin (may be empty) with the upgrade request.
func (ts *testServer) dialWS(t *testing.T, cookie, origin string) (*wsClient, error) {
	t.Helper()
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", "sid="+cookie)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", &websocket.DialOptions{
		HTTPHeader: h, Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		return &wsClient{t: t, resp: resp}, err
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn, resp: resp}, nil
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("ws write: %v", err)
	}
}

// next reads one message, skipping pings; err is the close error.
func (c *wsClient) next(timeout time.Duration) (wsMessage, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("ws message is not JSON: %q", b)
		}
		if m.Type == "ping" {
			c.send(wsMessage{Type: "pong"})
			continue
		}
		return m, nil
	}
}

// init sends connection_init and returns the server's answer or close error.
func (c *wsClient) init() (wsMessage, error) {
	c.send(wsMessage{Type: "connection_init"})
	return c.next(5 * time.Second)
}

// openSocket dials with cookie and completes connection_init.
func (ts *testServer) openSocket(t *testing.T, cookie string) *wsClient {
	t.Helper()
	ws, err := ts.dialWS(t, cookie, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if m, err := ws.init(); err != nil || m.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v, want connection_ack", m, err)
	}
	return ws
}

func (c *wsClient) subscribe(id, query string) {
	payload, _ := json.Marshal(map[string]any{"query": query})
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

const sessionEndedSubscription = `subscription { sessionEnded { reason } }`

// expectSessionEnded reads the event sequence the contract requires: one
// next with reason, complete, then the socket closed with 4403.
func (c *wsClient) expectSessionEnded(id, reason string, within time.Duration) {
	c.t.Helper()
	m, err := c.next(within)
	if err != nil {
		c.t.Fatalf("waiting for sessionEnded %s: %v", reason, err)
	}
	var payload struct {
		Data struct {
			SessionEnded struct{ Reason string } `json:"sessionEnded"`
		} `json:"data"`
	}
	_ = json.Unmarshal(m.Payload, &payload)
	if m.Type != "next" || m.ID != id || payload.Data.SessionEnded.Reason != reason {
		c.t.Fatalf("got %s %s %s, want next with reason %s", m.Type, m.ID, m.Payload, reason)
	}
	if m, err = c.next(5 * time.Second); err != nil || m.Type != "complete" || m.ID != id {
		c.t.Fatalf("after the event: %+v %v, want complete", m, err)
	}
	_, err = c.next(5 * time.Second)
	if websocket.CloseStatus(err) != 4403 {
		c.t.Fatalf("after complete: %v, want the socket closed with 4403", err)
	}
}

// subscribeSessionEnded opens a socket with the session cookie, initializes
// it and subscribes to sessionEnded as operation id.
func (ts *testServer) subscribeSessionEnded(t *testing.T, cookie, id string) *wsClient {
	t.Helper()
	ws := ts.openSocket(t, cookie)
	ws.subscribe(id, sessionEndedSubscription)
	time.Sleep(100 * time.Millisecond) // the server has registered the watch
	return ws
}

func TestSocketErrorsNameNoGoType(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	ws := ts.openSocket(t, ts.sessionCookie(t, c))
	tests := []struct{ query, vars string }{
		{`query($n: String!) { __type(name: $n) { name } }`, `{"n": true}`},
		{`query($n: String!) { __type(name: $n) { name } }`, `{"n": {"a": 1}}`},
		{`query($n: String!) { __type(name: $n) { name } }`, `{"n": [1]}`},
		{`mutation($i: UpdateMeInput!) { updateMe(input: $i) { id } }`, `{"i": 7}`},
		{`mutation($i: UpdateMeInput!) { updateMe(input: $i) { id } }`, `{"i": {"name": false}}`},
	}
	for i, tt := range tests {
		id := strconv.Itoa(i)
		payload, _ := json.Marshal(map[string]any{"query": tt.query, "variables": json.RawMessage(tt.vars)})
		ws.send(wsMessage{ID: id, Type: "subscribe", Payload: payload})
		m, err := ws.next(5 * time.Second)
		for err == nil && m.Type == "complete" { // of the previous operation
			m, err = ws.next(5 * time.Second)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", tt.query, tt.vars, err)
		}
		if m.ID != id || !strings.Contains(string(m.Payload), `"message"`) {
			t.Fatalf("%s %s: %+v, want an error", tt.query, tt.vars, m)
		}
		for _, leak := range []string{"cannot use", "map[", "interface", "float64", "slice", "Go value", "json:"} {
			if strings.Contains(string(m.Payload), leak) {
				t.Errorf("%s %s: answer %s names %q", tt.query, tt.vars, m.Payload, leak)
			}
		}
	}
}
