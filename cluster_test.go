package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiongql/server/internal/redistest"
)

// TestClusterFailoverKeepsSessions kills a Redis Cluster master under load:
// requests meanwhile answer the right user or SERVICE_UNAVAILABLE, never
// a wrong answer (anonymous or someone else), and sessions created more
// than a second before the kill are live once a replica has taken over.
func TestClusterFailoverKeepsSessions(t *testing.T) {
	cluster := redistest.StartCluster(t, 3, 1)
	ts := startServer(t, map[string]string{"REDIS_URL": cluster.URL(), "STORE_TIMEOUT": "500ms", "REGISTER_LIMIT_PER_IP": "100"})

	type signedIn struct {
		c *http.Client
		u user
	}
	users := make([]signedIn, 12) // spread over the slots, so some are on the killed master
	for i := range users {
		c := ts.client(t)
		u, _ := ts.register(t, c)
		users[i] = signedIn{c, u}
	}
	time.Sleep(1200 * time.Millisecond) // replication has caught up

	victim := cluster.Addrs()[0]
	var wrong, unavailable, ok atomic.Int64
	// The request loops run on goroutines of their own: they count and
	// describe what they saw, and the test goroutine judges (t.Fatal ends
	// only the goroutine that calls it).
	var mu sync.Mutex
	var firstWrong []string
	noteWrong := func(format string, args ...any) {
		wrong.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if len(firstWrong) < 5 {
			firstWrong = append(firstWrong, fmt.Sprintf(format, args...))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := ts.tryGQL(s.c, `{ me { id } }`, nil)
				var me *user
				switch {
				case err != nil:
					noteWrong("request failed: %v", err)
				case r.code() == "SERVICE_UNAVAILABLE":
					unavailable.Add(1)
				case len(r.Errors) == 0:
					if err := json.Unmarshal(r.Data["me"], &me); err != nil || me == nil || me.ID != s.u.ID {
						noteWrong("me = %s, want %s", r.Data["me"], s.u.ID)
					} else {
						ok.Add(1)
					}
				default:
					noteWrong("errors %+v", r.Errors)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	cluster.KillNode(t, victim)
	cluster.WaitFailover(t, victim)
	time.Sleep(2 * time.Second) // the server's client refreshes its slot map
	close(stop)
	wg.Wait()
	t.Logf("during failover: %d right, %d SERVICE_UNAVAILABLE, %d wrong", ok.Load(), unavailable.Load(), wrong.Load())
	if wrong.Load() != 0 {
		t.Fatalf("%d wrong answers during failover, first: %q", wrong.Load(), firstWrong)
	}
	for i, s := range users {
		if me := ts.me(t, s.c); me == nil || me.ID != s.u.ID {
			t.Fatalf("session %d lost after failover: me = %+v", i, me)
		}
	}
}
