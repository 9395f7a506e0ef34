package redistest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// clusterSlots is the number of hash slots a Redis Cluster divides keys
	// into; every one must be served for the cluster to be healthy.
	clusterSlots = 16384

	// clusterNodeTimeout is how long, in milliseconds, a node may be
	// unreachable before the cluster considers it down. Small, so a failover
	// completes in a couple of seconds.
	clusterNodeTimeout = "1000"

	// clusterWaitTimeout bounds each wait on the cluster: creation, the
	// cluster becoming healthy, and a failover.
	clusterWaitTimeout = 30 * time.Second

	// clusterPollInterval is how often a wait asks the nodes again.
	clusterPollInterval = 50 * time.Millisecond

	// clusterBusOffset is the distance from a node's client port to its
	// cluster bus port, which Redis fixes at 10000.
	clusterBusOffset = 10000

	// Client ports are drawn from [clusterPortMin, clusterPortMax] so that
	// both a port and its bus port stay below Linux's default ephemeral
	// range (32768–60999): neither then races with the ports the kernel
	// hands to Start or to outgoing connections.
	clusterPortMin = 11000
	clusterPortMax = 32767 - clusterBusOffset
)

// clusterPorts holds the client ports of cluster nodes in this test binary,
// so parallel tests never pick the same port between checking it and
// redis-server binding it.
var clusterPorts = struct {
	sync.Mutex
	taken map[int]bool
}{taken: map[int]bool{}}

// Cluster is a Redis Cluster of real redis-server processes owned by one
// test. Its nodes listen on 127.0.0.1 only, keep nothing on disk, and are
// killed when the test ends.
type Cluster struct {
	nodes   []*clusterNode // in start order
	masters []string       // addresses of the masters when the cluster formed

	mu     sync.Mutex
	served map[string][]redis.ClusterSlot // slots of each killed node, by address
}

// clusterNode is one redis-server of a Cluster.
type clusterNode struct {
	addr   string
	port   int
	proc   *process
	client *redis.Client // for the helper's own queries
}

// StartCluster starts a Redis Cluster for t: masters masters (at least 3,
// as Redis requires) with replicasPerMaster replicas each, every node on
// its own free port and in its own folder. It returns once every node
// reports cluster_state:ok with all 16384 slots assigned and every replica
// reports its link to its master up. Like Start, it skips t if
// redis-server or redis-cli is not on PATH, or fails it if
// REQUIRE_REDIS_SERVER=1. Every node is killed in t's cleanup.
func StartCluster(t testing.TB, masters, replicasPerMaster int) *Cluster {
	t.Helper()
	serverBin := lookPath(t, "redis-server")
	cliBin := lookPath(t, "redis-cli")
	if masters < 3 || replicasPerMaster < 0 {
		t.Fatalf("redistest: a cluster needs at least 3 masters and no negative replicas, got %d masters with %d replicas each", masters, replicasPerMaster)
	}
	began := time.Now()
	dir := t.TempDir()
	c := &Cluster{
		nodes:  make([]*clusterNode, masters*(1+replicasPerMaster)),
		served: map[string][]redis.ClusterSlot{},
	}
	// Registered after t.TempDir, so it runs first: the processes are gone
	// before their folders are removed.
	t.Cleanup(c.stop)

	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i := range c.nodes {
		wg.Go(func() { c.nodes[i], errs[i] = startClusterNode(serverBin, dir) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("redistest: start cluster nodes: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), clusterWaitTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicasPerMaster), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cliBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}

	err := poll(t.Context(), func(ctx context.Context) (err error) {
		c.masters, err = c.checkFormed(ctx, masters, replicasPerMaster)
		return err
	})
	if err != nil {
		t.Fatalf("redistest: cluster did not become healthy: %v", err)
	}
	t.Logf("redistest: cluster of %d masters and %d replicas ready in %v",
		masters, masters*replicasPerMaster, time.Since(began).Round(time.Millisecond))
	return c
}

// Addrs returns "127.0.0.1:PORT" of every node, masters and replicas, in a
// fixed order; a killed node stays listed.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.addr
	}
	return addrs
}

// URL returns the masters as the cluster was formed, as comma-separated
// "redis://127.0.0.1:PORT": the form REDIS_URL takes for a cluster. The
// addresses are only seeds, from which a client discovers the rest.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.masters))
	for i, addr := range c.masters {
		urls[i] = "redis://" + addr
	}
	return strings.Join(urls, ",")
}

// MasterFor returns the address of the master serving key's hash slot now,
// as a live node sees it.
func (c *Cluster) MasterFor(t testing.TB, key string) string {
	t.Helper()
	var errs []error
	for _, n := range c.liveNodes() {
		addr, err := n.masterFor(t.Context(), key)
		if err == nil {
			return addr
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.addr, err))
	}
	t.Fatalf("redistest: find the master for %q: %v", key, errors.Join(errs...))
	return ""
}

// KillNode kills the node at addr with SIGKILL, as in a crash, and waits
// for it to exit. The slots it served are remembered for WaitFailover.
// Killing a killed node does nothing.
func (c *Cluster) KillNode(t testing.TB, addr string) {
	t.Helper()
	n := c.node(t, addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, killed := c.served[addr]; killed {
		return
	}
	//lint:ignore SA1019 CLUSTER SLOTS gives the slot ranges this helper checks directly; Redis 7 still serves it.
	slots, err := n.client.ClusterSlots(t.Context()).Result()
	if err != nil {
		t.Fatalf("redistest: CLUSTER SLOTS on %s before killing it: %v", addr, err)
	}
	var served []redis.ClusterSlot
	for _, s := range slots {
		if len(s.Nodes) > 0 && s.Nodes[0].Addr == addr {
			served = append(served, s)
		}
	}
	n.proc.kill()
	c.served[addr] = served
}

// WaitFailover waits, up to 30 seconds, until every slot the killed node
// served is served by a live master that was promoted in its place, as
// every live node sees it, and every live node reports cluster_state:ok.
// For a killed replica it waits for cluster_state:ok alone.
func (c *Cluster) WaitFailover(t testing.TB, killed string) {
	t.Helper()
	c.node(t, killed)
	c.mu.Lock()
	served, ok := c.served[killed]
	c.mu.Unlock()
	if !ok {
		t.Fatalf("redistest: WaitFailover(%s) without KillNode(%s)", killed, killed)
	}
	err := poll(t.Context(), func(ctx context.Context) error {
		return c.checkFailover(ctx, served)
	})
	if err != nil {
		t.Fatalf("redistest: no failover from %s: %v", killed, err)
	}
}

// startClusterNode runs one cluster-enabled redis-server on a free port
// pair in a folder of its own under dir, retrying on another pair when
// someone else takes the port first.
func startClusterNode(bin, dir string) (*clusterNode, error) {
	var lastErr error
	for range startAttempts {
		port, err := reserveClusterPort()
		if err != nil {
			return nil, err
		}
		nodeDir := filepath.Join(dir, "node-"+strconv.Itoa(port))
		if err := os.Mkdir(nodeDir, 0o700); err != nil {
			releaseClusterPort(port)
			return nil, fmt.Errorf("create node folder: %w", err)
		}
		p, err := startProcess(bin, nodeDir, "redis.log", port,
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(nodeDir, "nodes-"+strconv.Itoa(port)+".conf"),
			"--cluster-node-timeout", clusterNodeTimeout,
			"--save", "",
			"--appendonly", "no",
			"--daemonize", "no",
			"--dir", nodeDir,
			// A replica's first sync would otherwise wait 5 s for more
			// replicas to join it.
			"--repl-diskless-sync-delay", "0",
		)
		if err == nil {
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			return &clusterNode{addr: addr, port: port, proc: p, client: nodeClient(addr)}, nil
		}
		releaseClusterPort(port)
		lastErr = err
		if !errors.Is(err, errExited) {
			break
		}
	}
	return nil, lastErr
}

// nodeClient returns a client for one node that fails fast and speaks
// plain RESP2, so the helper's polling is quick and sends nothing but its
// own commands.
func nodeClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:            addr,
		Protocol:        2,
		DisableIdentity: true,
		MaxRetries:      -1,
		DialTimeout:     time.Second,
		ReadTimeout:     2 * time.Second,
		WriteTimeout:    time.Second,
		PoolSize:        2,
	})
}

// reserveClusterPort picks a client port P in the cluster range such that
// both P and its bus port P+10000 can be listened on now and no other
// cluster in this binary holds P.
func reserveClusterPort() (int, error) {
	clusterPorts.Lock()
	defer clusterPorts.Unlock()
	for range 200 {
		port := clusterPortMin + rand.IntN(clusterPortMax-clusterPortMin+1)
		if clusterPorts.taken[port] || !canListen(port) || !canListen(port+clusterBusOffset) {
			continue
		}
		clusterPorts.taken[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("no free port pair P, P+%d with P in [%d, %d]", clusterBusOffset, clusterPortMin, clusterPortMax)
}

// releaseClusterPort lets another cluster in this binary use port again.
func releaseClusterPort(port int) {
	clusterPorts.Lock()
	defer clusterPorts.Unlock()
	delete(clusterPorts.taken, port)
}

// canListen reports whether port on 127.0.0.1 is free to listen on.
func canListen(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// stop kills every node and frees its port.
func (c *Cluster) stop() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		if n == nil {
			continue
		}
		wg.Go(func() {
			n.proc.kill()
			_ = n.client.Close()
			releaseClusterPort(n.port)
		})
	}
	wg.Wait()
}

// node returns the node at addr, failing t if there is none.
func (c *Cluster) node(t testing.TB, addr string) *clusterNode {
	t.Helper()
	for _, n := range c.nodes {
		if n.addr == addr {
			return n
		}
	}
	t.Fatalf("redistest: no cluster node at %s; nodes are %v", addr, c.Addrs())
	return nil
}

// liveNodes returns the nodes not killed by KillNode.
func (c *Cluster) liveNodes() []*clusterNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live []*clusterNode
	for _, n := range c.nodes {
		if _, killed := c.served[n.addr]; !killed {
			live = append(live, n)
		}
	}
	return live
}

// poll calls check every clusterPollInterval until it returns nil, for at
// most clusterWaitTimeout, and then returns check's last error.
func poll(ctx context.Context, check func(context.Context) error) error {
	deadline := time.Now().Add(clusterWaitTimeout)
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still, after %v: %w", clusterWaitTimeout, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(clusterPollInterval):
		}
	}
}

// checkFormed reports why the cluster is not yet healthy, if it is not:
// each node must see cluster_state:ok, all slots assigned and every other
// node; the roles must add up; each replica's master link must be up. It
// returns the masters' addresses in start order.
func (c *Cluster) checkFormed(ctx context.Context, masters, replicasPerMaster int) ([]string, error) {
	var masterAddrs []string
	replicas := 0
	for _, n := range c.nodes {
		if err := n.checkHealthy(ctx, len(c.nodes)); err != nil {
			return nil, err
		}
		repl, err := n.info(ctx, "replication")
		if err != nil {
			return nil, err
		}
		switch repl["role"] {
		case "master":
			masterAddrs = append(masterAddrs, n.addr)
		case "slave":
			replicas++
			if repl["master_link_status"] != "up" {
				return nil, fmt.Errorf("%s: replica's master_link_status:%s", n.addr, repl["master_link_status"])
			}
		}
	}
	if len(masterAddrs) != masters || replicas != masters*replicasPerMaster {
		return nil, fmt.Errorf("%d masters and %d replicas, want %d and %d",
			len(masterAddrs), replicas, masters, masters*replicasPerMaster)
	}
	return masterAddrs, nil
}

// checkFailover reports why the slots a killed node served are not yet
// served by a live master in the view of every live node, if they are not.
func (c *Cluster) checkFailover(ctx context.Context, served []redis.ClusterSlot) error {
	live := c.liveNodes()
	liveAddrs := make([]string, len(live))
	for i, n := range live {
		liveAddrs[i] = n.addr
	}
	promoted := map[string]bool{}
	for _, n := range live {
		if err := n.checkHealthy(ctx, len(c.nodes)); err != nil {
			return err
		}
		//lint:ignore SA1019 CLUSTER SLOTS gives the slot ranges this helper checks directly; Redis 7 still serves it.
		slots, err := n.client.ClusterSlots(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER SLOTS: %w", n.addr, err)
		}
		for _, s := range served {
			for slot := s.Start; slot <= s.End; slot++ {
				owner, err := slotMaster(slots, slot)
				if err != nil {
					return fmt.Errorf("%s: %w", n.addr, err)
				}
				if !slices.Contains(liveAddrs, owner) {
					return fmt.Errorf("%s: slot %d still served by %s", n.addr, slot, owner)
				}
				promoted[owner] = true
			}
		}
	}
	for _, n := range live {
		if !promoted[n.addr] {
			continue
		}
		repl, err := n.info(ctx, "replication")
		if err != nil {
			return err
		}
		if repl["role"] != "master" {
			return fmt.Errorf("%s: serves the killed node's slots but reports role:%s", n.addr, repl["role"])
		}
	}
	return nil
}

// checkHealthy reports why the node does not see a healthy cluster of
// nodes nodes with every slot assigned, if it does not.
func (n *clusterNode) checkHealthy(ctx context.Context, nodes int) error {
	text, err := n.client.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("%s: CLUSTER INFO: %w", n.addr, err)
	}
	info := infoFields(text)
	switch {
	case info["cluster_state"] != "ok":
		return fmt.Errorf("%s: cluster_state:%s", n.addr, info["cluster_state"])
	case info["cluster_slots_assigned"] != strconv.Itoa(clusterSlots):
		return fmt.Errorf("%s: cluster_slots_assigned:%s", n.addr, info["cluster_slots_assigned"])
	case info["cluster_known_nodes"] != strconv.Itoa(nodes):
		return fmt.Errorf("%s: cluster_known_nodes:%s, want %d", n.addr, info["cluster_known_nodes"], nodes)
	}
	return nil
}

// masterFor returns the master of key's slot as n sees it.
func (n *clusterNode) masterFor(ctx context.Context, key string) (string, error) {
	slot, err := n.client.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", fmt.Errorf("CLUSTER KEYSLOT: %w", err)
	}
	return n.masterForSlot(ctx, int(slot))
}

// masterForSlot returns the master of slot as n sees it.
func (n *clusterNode) masterForSlot(ctx context.Context, slot int) (string, error) {
	//lint:ignore SA1019 CLUSTER SLOTS gives the slot ranges this helper checks directly; Redis 7 still serves it.
	slots, err := n.client.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("CLUSTER SLOTS: %w", err)
	}
	return slotMaster(slots, slot)
}

// info returns the fields of n's INFO section.
func (n *clusterNode) info(ctx context.Context, section string) (map[string]string, error) {
	text, err := n.client.Info(ctx, section).Result()
	if err != nil {
		return nil, fmt.Errorf("%s: INFO %s: %w", n.addr, section, err)
	}
	return infoFields(text), nil
}

// slotMaster returns the master's address for slot in a CLUSTER SLOTS
// reply, whose first node of each range is the master.
func slotMaster(slots []redis.ClusterSlot, slot int) (string, error) {
	for _, s := range slots {
		if s.Start <= slot && slot <= s.End && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("slot %d is not served", slot)
}

// infoFields splits the "name:value" lines of an INFO or CLUSTER INFO
// reply into a map.
func infoFields(text string) map[string]string {
	fields := map[string]string{}
	for line := range strings.Lines(text) {
		if name, value, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[name] = value
		}
	}
	return fields
}
