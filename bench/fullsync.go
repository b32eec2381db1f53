package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"time"
)

// FullSyncOptions configure the fullsync scenario: a master holding Keys
// keys, then a fresh replica joining it while the master serves a load.
type FullSyncOptions struct {
	// Keys is how many keys the master holds. Default 200000.
	Keys int `json:"keys"`
	// ValueSize is the size of each value in bytes. Default 100.
	ValueSize int `json:"value_size"`
	// Load runs on the master before the sync (for Baseline) and during it.
	// It must leave DBSIZE unchanged (only get, set, ping: SETs overwrite
	// filled keys), since the sync ends when the replica's DBSIZE equals the
	// master's. Its KeySpace and ValueSize are those of the fill. Default:
	// set:get=1:1, 4 clients, pipeline 1.
	Load Load `json:"load"`
	// Baseline is how long the load runs before the replica starts.
	// Default 3s.
	Baseline time.Duration `json:"baseline_ns"`
	// Settle bounds the wait, after the fill and before the baseline, for
	// the master to come to rest (see settle). Default 2m.
	Settle time.Duration `json:"settle_ns"`
	// Timeout bounds the sync. Default 5m.
	Timeout time.Duration `json:"timeout_ns"`
	// Placebo, when set, replaces the sync by a window of that length in
	// which nothing is asked of the replica: the load and the bench's
	// polling of both servers run as during a sync, and no sync starts.
	// The ratio of its p99 to the baseline's is how far the two windows
	// differ without any sync, the noise floor of the sync's ratio.
	Placebo time.Duration `json:"placebo_ns,omitempty"`
}

func (o FullSyncOptions) withDefaults() FullSyncOptions {
	if o.Keys <= 0 {
		o.Keys = 200_000
	}
	if o.ValueSize <= 0 {
		o.ValueSize = 100
	}
	if o.Load.Clients <= 0 {
		o.Load.Clients = 4
	}
	if o.Baseline <= 0 {
		o.Baseline = 3 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Settle <= 0 {
		o.Settle = 2 * time.Minute
	}
	o.Load.KeySpace, o.Load.ValueSize = o.Keys, o.ValueSize
	o.Load.Duration, o.Load.Requests = o.Baseline, 0
	o.Load = o.Load.withDefaults()
	return o
}

func (o FullSyncOptions) params() []Param {
	o = o.withDefaults()
	p := []Param{
		{"keys", fmt.Sprint(o.Keys)},
		{"value", fmt.Sprintf("%d B", o.ValueSize)},
		{"master load", o.Load.describe()},
		{"baseline", o.Baseline.String() + ", after the master is idle"},
		{"in sync", "replica link up, DBSIZE = master's, and replica offset >= master's offset at link up"},
	}
	if o.Placebo > 0 {
		p = append(p, Param{"placebo", fmt.Sprintf("no sync: the second window is %s of the same load and polling", o.Placebo)})
	}
	return p
}

// fullSyncSlice is the slice of the load each point of the p99-over-time
// chart covers: where in a sync the slow requests fall (the checkpoint, the
// transfer, the replica's catch-up) shows there.
const fullSyncSlice = 50 * time.Millisecond

// ErrLoadChangesKeys reports a fullsync load that would change DBSIZE.
var ErrLoadChangesKeys = errors.New("fullsync load must only get/set/ping (DBSIZE must stay fixed)")

// runFullSync fills a master, measures it under load, then starts an empty
// replica of it and measures the time until
// the replica's link is up with the master's DBSIZE, the bytes transferred,
// and the master's latency, throughput, CPU and memory during the sync.
func runFullSync(ctx context.Context, e *env, o FullSyncOptions) (ServerRun, error) {
	o = o.withDefaults()
	if !o.Load.Workload.OnlyOverwrites() {
		return ServerRun{}, fmt.Errorf("%w: %s", ErrLoadChangesKeys, o.Load.Workload)
	}
	// The writers' latencies must be the server's. With as many Ps as the
	// machine's 2 cores, closed-loop writers keep both busy, and a reply
	// that arrives waits for the Go scheduler to poll the network and find
	// its writer a P: p99 0.70 ms before the sync and 3.5 ms during it,
	// against 0.52 and 1.1 ms with a P per writer and two for the bench's
	// own polling of the servers.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), o.Load.Clients+2)))
	master, err := e.start("master", RoleMaster)
	if err != nil {
		return ServerRun{}, err
	}
	if err := e.fill(master, o.Keys, o.ValueSize); err != nil {
		return ServerRun{}, err
	}
	want, err := dbsize(master.Addr)
	if err != nil {
		return ServerRun{}, err
	}
	// The replica is started now, empty, and the sync begins with
	// REPLICAOF: both windows below then run the same processes, and the
	// one during the sync measures the sync, not a process starting up.
	replica, err := e.start("replica", RoleReplica)
	if err != nil {
		return ServerRun{}, err
	}
	settled, err := settle(master.Pid(), o.Settle)
	if err != nil {
		return ServerRun{}, err
	}

	bar, progress := e.loadBar("master load before sync", o.Load)
	var before LoadResult
	baseline := o.Load
	baseline.Timeline = fullSyncSlice
	uBefore, err := measure(master, func() (err error) {
		before, err = RunLoad(ctx, master.Addr, baseline, progress)
		return err
	})
	bar.Finish()
	if err != nil {
		return ServerRun{}, err
	}

	link, err := newLinkCounter(master.Addr)
	if err != nil {
		return ServerRun{}, err
	}
	defer link.close()

	during := baseline
	during.Duration = o.Timeout
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var (
		duringRes   LoadResult
		loadErr     error
		syncTime    time.Duration
		bytes       int64
		replicaPeak int64
		replicaCPU  time.Duration // from REPLICAOF until in sync
	)
	sbar := e.bar(fmt.Sprintf("full sync of %d keys", o.Keys), -1)
	uDuring, err := measure(master, func() error {
		loadDone := make(chan struct{})
		go func() { // owned here: stopped by stopLoad, waited for below
			defer close(loadDone)
			duringRes, loadErr = RunLoad(loadCtx, master.Addr, during, nil)
		}()
		defer func() { stopLoad(); <-loadDone }()
		polls := controlConns{}
		defer polls.close()
		t0 := time.Now()
		cpu0, err := ReadCPU(replica.Pid())
		if err != nil {
			return err
		}
		ms := startMemSampler(replica.Pid())
		s := syncState{polls: polls}
		if o.Placebo > 0 {
			// The replica was never told to sync, so its link stays
			// down and inSync polls both servers as before a link is up.
			err = waitFor("placebo window", o.Placebo+o.Timeout, 10*time.Millisecond, func() (bool, error) {
				_, err := s.inSync(master, replica, want)
				return time.Since(t0) >= o.Placebo, err
			})
		} else {
			if err := polls.do(replica.Addr, func(c *Conn) error {
				_, err := c.Do("REPLICAOF", "127.0.0.1", strconv.Itoa(link.port))
				return err
			}); err != nil {
				ms.finish()
				return err
			}
			err = waitFor("replica in sync", o.Timeout, 10*time.Millisecond, func() (bool, error) {
				if n := link.proxied(); n >= 0 {
					sbar.Set64(n)
				}
				return s.inSync(master, replica, want)
			})
		}
		syncTime = time.Since(t0)
		// The window closes here: what follows (the kernel's socket
		// dump for the byte count above all) must not land in it.
		stopLoad()
		<-loadDone
		if bytes, err = link.received(replica.Pid()); err != nil {
			return err
		}
		replicaPeak = ms.finish()
		if cpu, cerr := ReadCPU(replica.Pid()); cerr == nil {
			replicaCPU = cpu - cpu0
		}
		return err
	})
	sbar.Finish()
	if err != nil {
		return ServerRun{}, err
	}
	if loadErr != nil {
		return ServerRun{}, fmt.Errorf("master load during sync: %w", loadErr)
	}

	syncName := "sync time"
	if o.Placebo > 0 {
		syncName = "placebo window"
	}
	lb, ld := Summarize(before.Hist), Summarize(duringRes.Hist)
	figs := []Figure{
		{Name: syncName, Unit: "s", Value: syncTime.Seconds(), Better: Lower},
		{Name: "master idle after fill", Unit: "s", Value: settled.Seconds(), Better: Lower},
		{Name: "bytes to replica", Unit: "MiB", Value: float64(bytes) / (1 << 20), Better: Lower},
		{Name: "master ops/s before", Unit: "ops/s", Value: before.OpsPerSec(), Better: Higher},
		{Name: "master ops/s during", Unit: "ops/s", Value: duringRes.OpsPerSec(), Better: Higher},
		{Name: "master p50 before", Unit: "µs", Value: float64(lb.P50Us), Better: Lower},
		{Name: "master p50 during", Unit: "µs", Value: float64(ld.P50Us), Better: Lower},
		{Name: "master p99 before", Unit: "µs", Value: float64(lb.P99Us), Better: Lower},
		{Name: "master p99 during", Unit: "µs", Value: float64(ld.P99Us), Better: Lower},
		{Name: "master max during", Unit: "µs", Value: float64(ld.MaxUs), Better: Lower},
		// A steadier reading of the tail than one p99 on a noisy machine:
		// the share of requests a slow moment delays.
		{Name: "master over 1 ms before", Unit: "%", Value: ShareOver(before.Hist, 1000), Better: Lower},
		{Name: "master over 1 ms during", Unit: "%", Value: ShareOver(duringRes.Hist, 1000), Better: Lower},
	}
	figs = append(figs, usageFigures("master before", uBefore, before.Ops)...)
	figs = append(figs, usageFigures("master during", uDuring, duringRes.Ops)...)
	figs = append(figs,
		Figure{Name: "master peak RSS growth", Unit: "%", Value: growth(uBefore.PeakRSS, uDuring.PeakRSS), Better: Lower},
		Figure{Name: "master PSS growth", Unit: "%", Value: growth(uBefore.PSS, uDuring.PSS), Better: Lower})
	figs = append(figs,
		Figure{Name: "replica CPU until in sync", Unit: "s", Value: replicaCPU.Seconds(), Better: Lower},
		Figure{Name: "replica peak RSS", Unit: "MiB", Value: mib(replicaPeak), Better: Lower})
	return ServerRun{
		Figures: figs,
		Series: []Series{
			{Chart: "fullsync-master-latency-cdf", Kind: KindCDF, Name: "before sync", XLabel: "percentile", YLabel: "latency (µs)", Points: CDF(before.Hist)},
			{Chart: "fullsync-master-latency-cdf", Kind: KindCDF, Name: "during sync", XLabel: "percentile", YLabel: "latency (µs)", Points: CDF(duringRes.Hist)},
			{Chart: "fullsync-master-p99-over-time", Name: "before sync", XLabel: "time since the window opened (s)", YLabel: "p99 of each 50 ms (µs)", Points: before.Timeline},
			{Chart: "fullsync-master-p99-over-time", Name: "during sync", XLabel: "time since the window opened (s)", YLabel: "p99 of each 50 ms (µs)", Points: duringRes.Timeline},
		},
	}, nil
}

// syncState follows a new replica until it is in sync: its link is up,
// its DBSIZE is the master's, and it has applied everything the master
// had written when the link came up (its slave_repl_offset reached the
// master_repl_offset read then), so the writes made during the transfer
// count towards the sync.
type syncState struct {
	polls  controlConns
	linkUp bool
	target int64 // master_repl_offset when the link came up
}

func (s *syncState) inSync(master, replica *Process, want int64) (bool, error) {
	if replica.Exited() {
		return false, fmt.Errorf("replica %s: %w; log:\n%s", replica.Addr, ErrExited, replica.LogTail(10))
	}
	if !s.linkUp {
		// The master's offset is read before the replica's link status,
		// so it cannot be ahead of what the master had when the link came up.
		var target int64
		err := s.polls.do(master.Addr, func(c *Conn) error {
			mi, err := c.Info("replication")
			if err != nil {
				return err
			}
			target, err = masterOffset(mi, master.Addr)
			return err
		})
		if err != nil {
			return false, err
		}
		var up bool
		if err := s.polls.do(replica.Addr, func(c *Conn) error {
			ri, err := c.Info("replication")
			up = ri["master_link_status"] == "up"
			return err
		}); err != nil || !up {
			return false, err
		}
		s.linkUp, s.target = true, target
	}
	var in bool
	err := s.polls.do(replica.Addr, func(c *Conn) (err error) {
		in, err = connInSync(c, want, s.target)
		return err
	})
	return in, err
}

// replicaInSync reports whether the replica's link to its master is up,
// its slave_repl_offset at least minOffset and its DBSIZE want. A replica
// still loading answers errors, which count as not yet.
func replicaInSync(replica *Process, want, minOffset int64) (bool, error) {
	if replica.Exited() {
		return false, fmt.Errorf("replica %s: %w; log:\n%s", replica.Addr, ErrExited, replica.LogTail(10))
	}
	c, err := Dial(replica.Addr, controlTimeout)
	if err != nil {
		return false, err
	}
	defer c.Close()
	return connInSync(c, want, minOffset)
}

// connInSync is replicaInSync over a connection to the replica.
func connInSync(c *Conn, want, minOffset int64) (bool, error) {
	m, err := c.Info("replication")
	if err != nil {
		return false, err
	}
	if off, ok := infoInt(m, "slave_repl_offset"); !ok || off < minOffset || m["master_link_status"] != "up" {
		return false, nil
	}
	n, err := c.DBSize()
	if err != nil {
		return false, err
	}
	return n == want, nil
}

// growth is how much after exceeds before, in percent of before (0 when
// before is unknown).
func growth(before, after int64) float64 {
	if before <= 0 {
		return 0
	}
	return 100 * float64(after-before) / float64(before)
}

// linkCounter counts the bytes a replica receives from its master: from
// the kernel's tcp_info of the replica's socket where sock_diag answers
// (the replica connects straight to the master), else through a counting
// proxy, which costs CPU on the measured machine.
type linkCounter struct {
	port       int // where the replica connects
	masterPort int
	proxy      *countingProxy // nil: counted by sock_diag
}

func newLinkCounter(masterAddr string) (*linkCounter, error) {
	_, ps, err := net.SplitHostPort(masterAddr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return nil, fmt.Errorf("master address %s: %w", masterAddr, err)
	}
	// The bench holds connections to the master: a probe that works on
	// them works on the replica's.
	if _, err := tcpReceived(os.Getpid(), port); err == nil {
		return &linkCounter{port: port, masterPort: port}, nil
	}
	proxy, err := startProxy(masterAddr)
	if err != nil {
		return nil, err
	}
	return &linkCounter{port: proxy.port(), masterPort: port, proxy: proxy}, nil
}

// proxied is the count so far through the proxy, for progress; -1 without.
func (l *linkCounter) proxied() int64 {
	if l.proxy == nil {
		return -1
	}
	return l.proxy.down.Load()
}

// received is what the replica (pid) has received from the master.
func (l *linkCounter) received(pid int) (int64, error) {
	if l.proxy != nil {
		return l.proxy.down.Load(), nil
	}
	n, err := tcpReceived(pid, l.masterPort)
	if err != nil {
		return 0, fmt.Errorf("bytes the replica received: %w", err)
	}
	return n, nil
}

func (l *linkCounter) close() {
	if l.proxy != nil {
		l.proxy.close()
	}
}
