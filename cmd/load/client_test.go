package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestMeteredClientCountsRequestsWithoutAnAnswerAsLost(t *testing.T) {
	answer := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"me":{"id":"1"}}}`))
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		answered bool
		kind     string
	}{
		{"answer", answer, true, kindOK},
		{"SERVICE_UNAVAILABLE", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"errors":[{"message":"x","extensions":{"code":"SERVICE_UNAVAILABLE"}}],"data":{"me":null}}`))
		}, true, kindUnavailable},
		{"500", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"errors":[{"message":"internal"}]}`))
		}, true, kindOther},
		{"hang past the timeout", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
			<-r.Context().Done()
		}, false, kindLost},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, false, kindLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			now := time.Now()
			m := &meter{from: now.Add(-time.Second), to: now.Add(time.Minute), timeline: true}
			cl := &gqlClient{http: newClient(1, time.Second, false), timeout: 200 * time.Millisecond, meter: m}
			o := cl.post(context.Background(), srv.URL, bodyMe, "")
			o.expect("me", "signed-out")
			if m.sent.Load() != 1 || (m.answered.Load() == 1) != tt.answered {
				t.Errorf("sent %d answered %d, want 1 and answered=%v", m.sent.Load(), m.answered.Load(), tt.answered)
			}
			if got := kindOf(o); got != tt.kind {
				t.Errorf("kind %s, want %s (%s)", got, tt.kind, o.describe())
			}
			if o.second != 2 {
				t.Errorf("second %d, want 2", o.second)
			}
		})
	}
}
