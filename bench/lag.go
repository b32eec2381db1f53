package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// LagOptions configure the lag scenario: a master and its replicas under a
// write load.
type LagOptions struct {
	// Replicas is the number of replicas. Default 2.
	Replicas int `json:"replicas"`
	// Keys is how many keys the master holds before the replicas join.
	// Default 10000.
	Keys int `json:"keys"`
	// Load is the write load on the master. Default: set, 8 clients,
	// pipeline 16, over Keys keys, 10s.
	Load Load `json:"load"`
	// MarkerInterval is how often a timestamped marker key is written to the
	// master. Default 20ms.
	MarkerInterval time.Duration `json:"marker_interval_ns"`
	// SampleInterval is how often replication offsets are sampled. Default
	// 100ms.
	SampleInterval time.Duration `json:"sample_interval_ns"`
	// Timeout bounds the initial sync and the convergence. Default 2m.
	Timeout time.Duration `json:"timeout_ns"`
}

func (o LagOptions) withDefaults() LagOptions {
	if o.Replicas <= 0 {
		o.Replicas = 2
	}
	if o.Keys <= 0 {
		o.Keys = 10_000
	}
	o.Load = o.Load.withSetDefaults(8, 16, o.Keys)
	if o.MarkerInterval <= 0 {
		o.MarkerInterval = 20 * time.Millisecond
	}
	if o.SampleInterval <= 0 {
		o.SampleInterval = 100 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	o.Load = o.Load.withDefaults()
	return o
}

func (o LagOptions) params() []Param {
	o = o.withDefaults()
	ps := []Param{
		{"replicas", fmt.Sprint(o.Replicas)},
		{"keys", fmt.Sprint(o.Keys)},
	}
	ps = append(ps, loadParams(o.Load)...)
	return append(ps,
		Param{"marker", fmt.Sprintf("every %v, replicas polled every %v", o.MarkerInterval, markerPoll)},
		Param{"offsets", "replication offsets as each server counts them: bytes for redis-server, WAL entries for walrus"},
	)
}

// markerKey is the key the lag scenario writes timestamps to; markerPoll is
// how often each replica is read for it (the resolution of the ms lag).
const (
	markerKey  = "walrus-bench:marker"
	markerPoll = time.Millisecond
)

// lagWatch is the measurements of one replica, written by its watcher
// goroutine and the offset sampler; guarded by mu.
type lagWatch struct {
	mu         sync.Mutex
	lag        *hdrhistogram.Histogram // marker lag, µs
	offsetLag  *hdrhistogram.Histogram // master offset - replica offset
	lagSeries  []Point
	offSeries  []Point
	maxOffLag  int64
	watchError error
}

// runLag starts a master and its replicas, waits until they are in sync,
// then runs a write load on the master while (a) a marker key carrying a
// timestamp is written every MarkerInterval and watched for on every
// replica, giving the lag in milliseconds, and (b) replication offsets are
// sampled, giving the lag in offsets. After the load it measures how long
// the replicas take to converge on the master's offset.
func runLag(ctx context.Context, e *env, o LagOptions) (ServerRun, error) {
	o = o.withDefaults()
	master, err := e.start("master", RoleMaster)
	if err != nil {
		return ServerRun{}, err
	}
	if err := e.fill(master, o.Keys, o.Load.ValueSize); err != nil {
		return ServerRun{}, err
	}
	want, err := dbsize(master.Addr)
	if err != nil {
		return ServerRun{}, err
	}
	replicas, err := e.startReplicas(master, o.Replicas, want, o.Timeout)
	if err != nil {
		return ServerRun{}, err
	}

	watches := make([]*lagWatch, len(replicas))
	for i := range watches {
		watches[i] = &lagWatch{lag: newHistogram(), offsetLag: newHistogram()}
	}
	replicaMem := make([]*memSampler, len(replicas))
	for i, r := range replicas {
		replicaMem[i] = startMemSampler(r.Pid())
	}

	// Side goroutines (marker writer, watchers, offset sampler) run until
	// stopSide; the owner waits for them with side.Wait.
	sideCtx, stopSide := context.WithCancel(ctx)
	defer stopSide()
	var side sync.WaitGroup
	start := time.Now()
	var markerErr error
	side.Add(1)
	go func() {
		defer side.Done()
		markerErr = writeMarkers(sideCtx, master.Addr, o.MarkerInterval)
	}()
	for i, r := range replicas {
		side.Add(1)
		go func() {
			defer side.Done()
			watchMarkers(sideCtx, r.Addr, start, watches[i])
		}()
	}
	side.Add(1)
	go func() {
		defer side.Done()
		sampleOffsets(sideCtx, master.Addr, replicas, start, o.SampleInterval, watches)
	}()

	bar, progress := e.loadBar(fmt.Sprintf("write load, %d replicas", o.Replicas), o.Load)
	var res LoadResult
	u, err := measure(master, func() (err error) {
		res, err = RunLoad(ctx, master.Addr, o.Load, progress)
		return err
	})
	bar.Finish()
	stopSide()
	side.Wait()
	if err != nil {
		return ServerRun{}, err
	}
	if markerErr != nil {
		return ServerRun{}, markerErr
	}

	// Convergence: a last marker, then the master's offset; every replica
	// must reach both.
	stopAt := time.Now()
	final := fmt.Sprintf("final %d", stopAt.UnixNano())
	mc, err := Dial(master.Addr, controlTimeout)
	if err != nil {
		return ServerRun{}, err
	}
	defer mc.Close()
	if _, err := mc.Do("SET", markerKey, final); err != nil {
		return ServerRun{}, fmt.Errorf("final marker: %w", err)
	}
	mi, err := mc.Info("replication")
	if err != nil {
		return ServerRun{}, err
	}
	masterOff, err := masterOffset(mi, master.Addr)
	if err != nil {
		return ServerRun{}, err
	}
	for _, r := range replicas {
		err := waitFor("replica "+r.Addr+" converged", o.Timeout, time.Millisecond, func() (bool, error) {
			return replicaConverged(r, masterOff, final)
		})
		if err != nil {
			return ServerRun{}, err
		}
	}
	converge := time.Since(stopAt)

	lagAll, offAll := newHistogram(), newHistogram()
	var replicaPeak int64
	var series []Series
	for i, w := range watches {
		replicaPeak = max(replicaPeak, replicaMem[i].finish())
		w.mu.Lock()
		if w.watchError != nil {
			err = w.watchError
		}
		lagAll.Merge(w.lag)
		offAll.Merge(w.offsetLag)
		name := fmt.Sprintf("replica %d", i+1)
		series = append(series,
			Series{Chart: "lag-ms-over-time", Name: name, XLabel: "time since load start (s)", YLabel: "marker lag (ms)", Points: w.lagSeries},
			Series{Chart: "lag-offsets-over-time", Name: name, XLabel: "time since load start (s)", YLabel: "offset lag (bytes or entries)", Points: w.offSeries})
		w.mu.Unlock()
	}
	if err != nil {
		return ServerRun{}, err
	}
	if lagAll.TotalCount() == 0 {
		return ServerRun{}, fmt.Errorf("lag: no marker reached a replica during the load")
	}
	usMs := func(us int64) float64 { return float64(us) / 1000 }
	lat := Summarize(res.Hist)
	figs := []Figure{
		{Name: "master ops/s", Unit: "ops/s", Value: res.OpsPerSec(), Better: Higher},
		{Name: "master p99", Unit: "µs", Value: float64(lat.P99Us), Better: Lower},
		{Name: "lag p50", Unit: "ms", Value: usMs(lagAll.ValueAtQuantile(50)), Better: Lower},
		{Name: "lag p99", Unit: "ms", Value: usMs(lagAll.ValueAtQuantile(99)), Better: Lower},
		{Name: "lag max", Unit: "ms", Value: usMs(lagAll.Max()), Better: Lower},
		{Name: "offset lag p50", Unit: "offsets", Value: float64(offAll.ValueAtQuantile(50)), Better: Lower, NoRatio: true},
		{Name: "offset lag p99", Unit: "offsets", Value: float64(offAll.ValueAtQuantile(99)), Better: Lower, NoRatio: true},
		{Name: "offset lag max", Unit: "offsets", Value: float64(offAll.Max()), Better: Lower, NoRatio: true},
		{Name: "convergence", Unit: "ms", Value: ms(converge), Better: Lower},
	}
	figs = append(figs, usageFigures("master", u, res.Ops)...)
	figs = append(figs, Figure{Name: "replica peak RSS", Unit: "MiB", Value: mib(replicaPeak), Better: Lower})
	return ServerRun{Figures: figs, Series: series}, nil
}

// startReplicas starts n replicas of master and returns once each holds
// want keys and every node, master included, is idle.
func (e *env) startReplicas(master *Process, n int, want int64, timeout time.Duration) ([]*Process, error) {
	replicas := make([]*Process, n)
	for i := range replicas {
		var err error
		replicas[i], err = e.start(fmt.Sprintf("replica%d", i+1), RoleReplica, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
		if err != nil {
			return nil, err
		}
	}
	for _, r := range replicas {
		err := waitFor("replica "+r.Addr+" in sync", timeout, 20*time.Millisecond, func() (bool, error) { return replicaInSync(r, want, 0) })
		if err != nil {
			return nil, err
		}
	}
	// A replica may start background work once synced (redis-server
	// rewrites its AOF); measuring starts once every node is idle.
	for _, p := range append([]*Process{master}, replicas...) {
		err := waitFor(p.Addr+" idle", timeout, 20*time.Millisecond, func() (bool, error) { return idle(p.Addr) })
		if err != nil {
			return nil, err
		}
	}
	return replicas, nil
}

// idle reports whether a node runs no background save or rewrite, per the
// INFO persistence fields redis-server reports; a server without them is
// idle.
func idle(addr string) (bool, error) {
	m, err := info(addr, "persistence")
	if err != nil {
		return false, err
	}
	for _, k := range []string{"rdb_bgsave_in_progress", "aof_rewrite_in_progress", "aof_rewrite_scheduled"} {
		if m[k] == "1" {
			return false, nil
		}
	}
	return true, nil
}

// writeMarkers sets markerKey to "<seq> <unix nanos>" every interval until
// ctx ends.
func writeMarkers(ctx context.Context, addr string, interval time.Duration) error {
	c, err := Dial(addr, controlTimeout)
	if err != nil {
		return fmt.Errorf("marker writer: %w", err)
	}
	defer c.Close()
	t := time.NewTicker(interval)
	defer t.Stop()
	for seq := 1; ; seq++ {
		if _, err := c.Do("SET", markerKey, fmt.Sprintf("%d %d", seq, time.Now().UnixNano())); err != nil {
			return fmt.Errorf("marker writer: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// parseMarker splits a marker value into its sequence number and time.
func parseMarker(v string) (seq int64, at time.Time, ok bool) {
	s, ns, found := strings.Cut(v, " ")
	if !found {
		return 0, time.Time{}, false
	}
	n, err1 := strconv.ParseInt(s, 10, 64)
	t, err2 := strconv.ParseInt(ns, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, time.Time{}, false
	}
	return n, time.Unix(0, t), true
}

// watchMarkers polls markerKey on a replica every markerPoll and records,
// for each new marker seen, how long after its write it arrived.
func watchMarkers(ctx context.Context, addr string, start time.Time, w *lagWatch) {
	fail := func(err error) {
		w.mu.Lock()
		w.watchError = fmt.Errorf("marker watcher on %s: %w", addr, err)
		w.mu.Unlock()
	}
	c, err := Dial(addr, controlTimeout)
	if err != nil {
		fail(err)
		return
	}
	defer c.Close()
	var last int64
	t := time.NewTicker(markerPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r, err := c.Do("GET", markerKey)
		if err != nil {
			fail(err)
			return
		}
		seq, at, ok := parseMarker(r.Str)
		if !ok || seq == last {
			continue
		}
		last = seq
		now := time.Now()
		lag := now.Sub(at)
		w.mu.Lock()
		recordLatency(w.lag, lag)
		w.lagSeries = append(w.lagSeries, Point{X: now.Sub(start).Seconds(), Y: float64(lag.Microseconds()) / 1000})
		w.mu.Unlock()
	}
}

// sampleOffsets records, every interval, each replica's offset lag: the
// master's master_repl_offset minus the replica's slave_repl_offset.
func sampleOffsets(ctx context.Context, master string, replicas []*Process, start time.Time, interval time.Duration, ws []*lagWatch) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mi, err := info(master, "replication")
		if err != nil {
			continue // a sample missed under load is not fatal
		}
		mo, ok := infoInt(mi, "master_repl_offset")
		if !ok {
			continue
		}
		for i, r := range replicas {
			ri, err := info(r.Addr, "replication")
			if err != nil {
				continue
			}
			ro, ok := infoInt(ri, "slave_repl_offset")
			if !ok {
				continue
			}
			lag := max(mo-ro, 0)
			w := ws[i]
			w.mu.Lock()
			w.offsetLag.RecordValue(min(lag, histMaxUs))
			w.offSeries = append(w.offSeries, Point{X: time.Since(start).Seconds(), Y: float64(lag)})
			w.mu.Unlock()
		}
	}
}

// replicaConverged reports whether the replica has reached the master's
// offset and holds the final marker.
func replicaConverged(r *Process, masterOff int64, final string) (bool, error) {
	if r.Exited() {
		return false, fmt.Errorf("replica %s: %w", r.Addr, ErrExited)
	}
	c, err := Dial(r.Addr, controlTimeout)
	if err != nil {
		return false, err
	}
	defer c.Close()
	m, err := c.Info("replication")
	if err != nil {
		return false, err
	}
	off, ok := infoInt(m, "slave_repl_offset")
	if !ok || off < masterOff {
		return false, nil
	}
	v, err := c.Do("GET", markerKey)
	if err != nil {
		return false, err
	}
	return v.Str == final, nil
}
