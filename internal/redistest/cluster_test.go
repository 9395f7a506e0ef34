package redistest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterClient returns a go-redis cluster client seeded with every node
// of cl. go-redis does not reload the slot map when a master refuses
// connections, only on MOVED or once the map is ClusterStateReloadInterval
// old (60 s by default; redis/go-redis#3979), so a short interval lets it
// find a promoted replica soon after a failover.
func clusterClient(t *testing.T, cl *Cluster) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                      cl.Addrs(),
		DialTimeout:                time.Second,
		ClusterStateReloadInterval: time.Second,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// nodeConn returns a go-redis client for the single node at addr.
func nodeConn(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestClusterOfMasters(t *testing.T) {
	t.Parallel()
	cl := StartCluster(t, 3, 0)

	t.Run("AddrsAndURLNameTheNodes", func(t *testing.T) {
		t.Parallel()
		addrs := cl.Addrs()
		if len(addrs) != 3 {
			t.Fatalf("Addrs() = %v, want 3 nodes", addrs)
		}
		urls := strings.Split(cl.URL(), ",")
		if len(urls) != 3 {
			t.Fatalf("URL() = %q, want 3 masters", cl.URL())
		}
		for _, u := range urls {
			addr, ok := strings.CutPrefix(u, "redis://")
			if !ok || !slices.Contains(addrs, addr) {
				t.Errorf("URL() entry %q is not redis:// and a node of %v", u, addrs)
			}
		}
	})

	t.Run("ClientReachesKeysInEverySlot", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		cc := clusterClient(t, cl)
		masters := map[string]bool{}
		for i := range 30 {
			key := fmt.Sprintf("spread:%d", i)
			if err := cc.Set(ctx, key, i, 0).Err(); err != nil {
				t.Fatalf("SET %s: %v", key, err)
			}
			if got, err := cc.Get(ctx, key).Int(); err != nil || got != i {
				t.Fatalf("GET %s = %d, %v; want %d", key, got, err, i)
			}
			master := cl.MasterFor(t, key)
			client, err := cc.MasterForKey(ctx, key)
			if err != nil {
				t.Fatalf("go-redis MasterForKey(%s): %v", key, err)
			}
			if master != client.Options().Addr {
				t.Errorf("MasterFor(%s) = %s, go-redis routes it to %s", key, master, client.Options().Addr)
			}
			masters[master] = true
		}
		if len(masters) != 3 {
			t.Errorf("30 keys landed on %d masters, want all 3", len(masters))
		}
	})

	t.Run("ScriptRunsOnKeysWithOneHashTag", func(t *testing.T) {
		t.Parallel()
		const script = `redis.call("SET", KEYS[1], ARGV[1]); redis.call("SET", KEYS[2], ARGV[1]); return redis.call("GET", KEYS[2])`
		cc := clusterClient(t, cl)
		got, err := cc.Eval(t.Context(), script, []string{"{lua}a", "{lua}b"}, "v").Text()
		if err != nil || got != "v" {
			t.Errorf("EVAL on {lua}a {lua}b = %q, %v; want v", got, err)
		}
	})

	t.Run("ScriptAcrossSlotsFailsWithCrossSlot", func(t *testing.T) {
		t.Parallel()
		const script = `redis.call("SET", KEYS[1], ARGV[1]); redis.call("SET", KEYS[2], ARGV[1]); return 1`
		cc := clusterClient(t, cl)
		ctx := t.Context()
		if a, b := cc.ClusterKeySlot(ctx, "{x1}a").Val(), cc.ClusterKeySlot(ctx, "{x2}b").Val(); a == b {
			t.Fatalf("{x1} and {x2} share slot %d; pick other tags", a)
		}
		err := cc.Eval(ctx, script, []string{"{x1}a", "{x2}b"}, "v").Err()
		if err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
			t.Errorf("EVAL on {x1}a {x2}b: err = %v, want CROSSSLOT", err)
		}
	})

	t.Run("PublishReachesSubscriberOnAnotherNode", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		addrs := cl.Addrs()
		sub := nodeConn(t, addrs[0]).Subscribe(ctx, "news")
		t.Cleanup(func() { _ = sub.Close() })
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatalf("SUBSCRIBE on %s: %v", addrs[0], err)
		}
		if err := nodeConn(t, addrs[1]).Publish(ctx, "news", "hello").Err(); err != nil {
			t.Fatalf("PUBLISH on %s: %v", addrs[1], err)
		}
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil || msg.Payload != "hello" {
			t.Fatalf("subscriber on %s got %v, %v; want hello", addrs[0], msg, err)
		}
	})
}

func TestClusterFailoverKeepsAReplicatedKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := StartCluster(t, 3, 1)
	if n := len(cl.Addrs()); n != 6 {
		t.Fatalf("Addrs() has %d nodes, want 6", n)
	}
	const key = "{k}a"
	master := cl.MasterFor(t, key)

	// WAIT counts the replicas that have this connection's writes, so the
	// SET and the WAIT share one connection.
	conn := nodeConn(t, master).Conn()
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.Set(ctx, key, "kept", 0).Err(); err != nil {
		t.Fatalf("SET on %s: %v", master, err)
	}
	if n, err := conn.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 on %s = %d, %v; want 1 replica", master, n, err)
	}
	cc := clusterClient(t, cl)
	if got, err := cc.Get(ctx, key).Result(); err != nil || got != "kept" {
		t.Fatalf("GET before failover = %q, %v", got, err)
	}

	killed := time.Now()
	cl.KillNode(t, master)
	cl.WaitFailover(t, master)
	failedOver := time.Since(killed)

	promoted := cl.MasterFor(t, key)
	if promoted == master {
		t.Fatalf("MasterFor(%s) after failover is still the killed %s", key, master)
	}
	if slices.Contains(strings.Split(cl.URL(), ","), "redis://"+promoted) {
		t.Errorf("new master %s was a master before; want a promoted replica", promoted)
	}

	// The client learns the new topology on its own, after failed attempts
	// on the dead master.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := cc.Get(ctx, key).Result()
		if err == nil && got == "kept" {
			break
		}
		if errors.Is(err, redis.Nil) {
			t.Fatalf("GET after failover: key lost")
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET after failover = %q, %v", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("failover of %s to %s took %v; the cluster client read the key %v after the kill",
		master, promoted, failedOver.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
}

func TestClusterCleanupKillsEveryNode(t *testing.T) {
	t.Parallel()
	var addrs []string
	t.Run("owner", func(t *testing.T) {
		addrs = StartCluster(t, 3, 0).Addrs()
	})
	if addrs == nil {
		t.Skip("no cluster started")
	}
	for _, addr := range addrs {
		if _, err := ping(addr); err == nil {
			t.Errorf("cluster node %s still answers after its test ended", addr)
		}
	}
}
