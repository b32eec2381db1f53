package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Link faults: a replica reaches its master through an in-process
// toxiproxy, which cuts, resets, delays, throttles, silences or corrupts
// the replication stream. Every time the replica must recover by itself,
// with a partial sync when the master still holds its next index, and
// converge to the master's digest.

// linkFaults counts the faults injected by this package's tests, for the
// closing figures.
var linkFaults atomic.Int64

// linkProxy is one toxiproxy proxy in front of a master.
type linkProxy struct {
	t    testing.TB
	p    *toxiproxy.Proxy
	port int
}

func startProxy(t testing.TB, upstream string) *linkProxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "replication", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("start proxy: %v", err)
	}
	t.Cleanup(p.Stop)
	_, port, _ := net.SplitHostPort(p.Listen)
	return &linkProxy{t: t, p: p, port: atoi(port)}
}

// replicaOf are the arguments that make a node a replica through the proxy.
func (lp *linkProxy) replicaOf() []string {
	return []string{"--replicaof", "127.0.0.1", strconv.Itoa(lp.port)}
}

// add installs a toxic: typ is a toxiproxy toxic type, stream "downstream"
// (master to replica) or "upstream".
func (lp *linkProxy) add(name, typ, stream string, attrs map[string]any) {
	lp.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "attributes": attrs})
	if _, err := lp.p.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
		lp.t.Fatalf("add toxic %s: %v", name, err)
	}
	linkFaults.Add(1)
}

func (lp *linkProxy) remove(name string) {
	lp.t.Helper()
	if err := lp.p.Toxics.RemoveToxic(context.Background(), name); err != nil {
		lp.t.Fatalf("remove toxic %s: %v", name, err)
	}
}

// corruptToxic flips one byte of a connection's stream, Skip bytes in.
type corruptToxic struct {
	Skip int64 `json:"skip"`
}

type corruptState struct{ seen int64 }

func (t *corruptToxic) NewState() interface{} { return new(corruptState) }

func (t *corruptToxic) Pipe(stub *toxics.ToxicStub) {
	st := stub.State.(*corruptState)
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if st.seen <= t.Skip && t.Skip < st.seen+int64(len(c.Data)) {
				d := append([]byte(nil), c.Data...)
				d[t.Skip-st.seen] ^= 0x5a
				c = &stream.StreamChunk{Data: d, Timestamp: c.Timestamp}
			}
			st.seen += int64(len(c.Data))
			stub.Output <- c
		}
	}
}

func init() {
	toxics.Register("corrupt", new(corruptToxic))
	zerolog.SetGlobalLevel(zerolog.Disabled) // toxiproxy's trace lines
}

// syncCounts returns the master's sync_full and sync_partial_ok.
func syncCounts(m *node) (full, partial int) {
	return atoi(m.info("stats", "sync_full")), atoi(m.info("stats", "sync_partial_ok"))
}

// bigWriter writes large values (so a cut almost surely lands inside an
// entry) until halted.
type bigWriter struct {
	n    atomic.Int64 // writes acknowledged
	quit chan struct{}
	done chan struct{}
}

func startBigWriter(m *node, prefix string, size int) *bigWriter {
	w := &bigWriter{quit: make(chan struct{}), done: make(chan struct{})}
	val := strings.Repeat("x", size)
	go func() {
		defer close(w.done)
		ctx := context.Background()
		for i := 0; i < 1_000_000; i++ {
			select {
			case <-w.quit:
				return
			default:
			}
			if err := m.rdb.Set(ctx, prefix+strconv.Itoa(i), val, 0).Err(); err != nil {
				return
			}
			w.n.Add(1)
		}
	}()
	return w
}

func (w *bigWriter) halt() int64 { close(w.quit); <-w.done; return w.n.Load() }

// linkLosses counts the replica's "connection with master lost" log lines.
func linkLosses(r *node) int {
	b, _ := os.ReadFile(r.log)
	return strings.Count(string(b), "connection with master lost")
}

// linkTrio is a persistent master, a proxy and a replica behind it with a
// short repl-timeout, the link up.
func linkTrio(t *testing.T) (m, r *node, lp *linkProxy) {
	t.Helper()
	m = startNode(t, "", "--repl-ping-replica-period", "1", "--repl-timeout", "5")
	lp = startProxy(t, m.addr())
	r = startNode(t, "", append(lp.replicaOf(), "--repl-timeout", "2")...)
	waitLinkUp(t, r)
	return m, r, lp
}

func TestReplicaRecoversFromLinkResetsWithPartialSync(t *testing.T) {
	m, r, lp := linkTrio(t)
	fill(t, m, "base:", 2000)
	waitConverged(t, m, r)
	cases := []struct {
		name   string
		toxic  string
		attrs  func() map[string]any
		stream string
	}{
		// The connection ends after a byte count that lands inside an
		// entry of 4 KiB values: the replica holds half an entry.
		{"cut mid-entry", "limit_data", func() map[string]any { return map[string]any{"bytes": 20_000 + rand.IntN(4096)} }, "downstream"},
		// A TCP reset (SO_LINGER 0) on the next bytes.
		{"reset", "reset_peer", func() map[string]any { return map[string]any{"timeout": 0} }, "downstream"},
		// The replica's ACKs are cut instead.
		{"cut upstream", "limit_data", func() map[string]any { return map[string]any{"bytes": 100 + rand.IntN(100)} }, "upstream"},
	}
	rounds := 1
	if os.Getenv("WALRUS_LONG") != "" {
		rounds = 5
	}
	for round := 0; round < rounds; round++ {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%d", c.name, round), func(t *testing.T) {
				full, partial := syncCounts(m)
				losses := linkLosses(r)
				w := startBigWriter(m, fmt.Sprintf("%s:%d:", strings.ReplaceAll(c.name, " ", "-"), round), 4096)
				lp.add("fault", c.toxic, c.stream, c.attrs())
				waitFor(t, "the fault to break the link", 60*time.Second, func() bool { return linkLosses(r) > losses })
				lp.remove("fault")
				w.halt()
				waitLinkUp(t, r)
				waitConverged(t, m, r)
				gotFull, gotPartial := syncCounts(m)
				if gotFull != full || gotPartial <= partial {
					t.Fatalf("sync_full %d->%d, sync_partial_ok %d->%d: the master held the index, a partial sync was due",
						full, gotFull, partial, gotPartial)
				}
			})
		}
	}
	t.Logf("link faults: %d resets/cuts injected, each recovered by a partial sync and converged (digests equal); %d faults injected so far in all",
		rounds*len(cases), linkFaults.Load())
}

func TestReplicaRecoversFromResetMidCheckpoint(t *testing.T) {
	m := startNode(t, "", "--repl-timeout", "5")
	fill(t, m, "ck:", 100_000)
	lp := startProxy(t, m.addr())
	// Cut every connection 256 KiB in: inside the checkpoint stream.
	lp.add("fault", "limit_data", "downstream", map[string]any{"bytes": 256 << 10})
	r := startNode(t, "", append(lp.replicaOf(), "--repl-timeout", "2")...)
	waitFor(t, "two checkpoint transfers cut", 60*time.Second, func() bool {
		full, _ := syncCounts(m)
		return full >= 2
	})
	if r.info("replication", "master_link_status") == "up" {
		t.Fatal("link up although every checkpoint transfer was cut")
	}
	lp.remove("fault")
	waitLinkUp(t, r)
	waitConverged(t, m, r)
}

func TestReplicationSurvivesLatencyAndBandwidthLimits(t *testing.T) {
	m, r, lp := linkTrio(t)
	cases := []struct {
		name   string
		toxic  string
		stream string
		attrs  map[string]any
	}{
		{"latency", "latency", "downstream", map[string]any{"latency": 300, "jitter": 100}},
		{"latency upstream", "latency", "upstream", map[string]any{"latency": 300}},
		{"bandwidth 256 KiB/s", "bandwidth", "downstream", map[string]any{"rate": 256}},
		{"small chunks", "slicer", "downstream", map[string]any{"average_size": 7, "size_variation": 5, "delay": 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full, partial := syncCounts(m)
			lp.add("fault", c.toxic, c.stream, c.attrs)
			w := startBigWriter(m, strings.ReplaceAll(c.name, " ", "-")+":", 1024)
			waitFor(t, "writes under the fault", 30*time.Second, func() bool { return w.n.Load() >= 200 })
			n := w.halt()
			waitConverged(t, m, r)
			lp.remove("fault")
			gotFull, gotPartial := syncCounts(m)
			if gotFull != full || gotPartial != partial {
				t.Fatalf("a slow link is not a broken one: sync_full %d->%d, sync_partial_ok %d->%d", full, gotFull, partial, gotPartial)
			}
			t.Logf("%s: %d writes replicated", c.name, n)
		})
	}
}

func TestSilentLinkTripsReplTimeoutAndResumesPartially(t *testing.T) {
	m, r, lp := linkTrio(t)
	fill(t, m, "pre:", 1000)
	waitConverged(t, m, r)
	full, partial := syncCounts(m)
	// Nothing passes either way, and the connection stays open.
	lp.add("silent-down", "timeout", "downstream", map[string]any{"timeout": 0})
	lp.add("silent-up", "timeout", "upstream", map[string]any{"timeout": 0})
	fill(t, m, "during:", 1000)
	waitFor(t, "repl-timeout to take the link down", 30*time.Second, func() bool {
		return r.info("replication", "master_link_status") == "down"
	})
	lp.remove("silent-down")
	lp.remove("silent-up")
	waitLinkUp(t, r)
	waitConverged(t, m, r)
	gotFull, gotPartial := syncCounts(m)
	if gotFull != full || gotPartial <= partial {
		t.Fatalf("after a silent link: sync_full %d->%d, sync_partial_ok %d->%d; want a partial sync", full, gotFull, partial, gotPartial)
	}
	if b, _ := os.ReadFile(r.log); !strings.Contains(string(b), "i/o timeout") {
		t.Errorf("the replica's log does not show the timeout")
	}
}
