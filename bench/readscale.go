package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ReadScaleOptions configure the readscale scenario: LRANGE and SORT reads
// served by a master alone, then by the master and its replicas, while the
// master takes writes.
type ReadScaleOptions struct {
	// Keys is how many "key:" keys the master holds before the replicas
	// join; the writer SETs over them. Default 10000.
	Keys int `json:"keys"`
	// ValueSize is the size of the filled and written values in bytes.
	// Default 100.
	ValueSize int `json:"value_size"`
	// Readers is the number of reader connections in each phase. Default 8.
	Readers int `json:"readers"`
	// Pipeline is how many reads a reader sends per round trip. Default 1.
	Pipeline int `json:"pipeline"`
	// Writers is the number of writer connections on the master, in both
	// phases. Default 1.
	Writers int `json:"writers"`
	// WriterPipeline is how many SETs a writer sends per round trip.
	// Default 16.
	WriterPipeline int `json:"writer_pipeline"`
	// Duration is the length of each phase. Default 5s.
	Duration time.Duration `json:"duration_ns"`
	// SortCommand is the sort the readers send: "SORT_RO" (default) or
	// "SORT", both without STORE. redis-server refuses SORT on a replica
	// (READONLY: SORT is flagged as a write for its STORE form), so the
	// default is the read-only variant, which both servers serve anywhere.
	SortCommand string `json:"sort_command"`
	// Timeout bounds the initial sync and the replicas' catch-up between
	// the phases. Default 2m.
	Timeout time.Duration `json:"timeout_ns"`
}

func (o ReadScaleOptions) withDefaults() ReadScaleOptions {
	if o.Keys <= 0 {
		o.Keys = 10_000
	}
	if o.ValueSize <= 0 {
		o.ValueSize = 100
	}
	if o.Readers <= 0 {
		o.Readers = 8
	}
	if o.Pipeline <= 0 {
		o.Pipeline = 1
	}
	if o.Writers <= 0 {
		o.Writers = 1
	}
	if o.WriterPipeline <= 0 {
		o.WriterPipeline = 16
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.SortCommand == "" {
		o.SortCommand = "SORT_RO"
	}
	o.SortCommand = strings.ToUpper(o.SortCommand)
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	return o
}

// writerLoad is the write load on the master during each phase.
func (o ReadScaleOptions) writerLoad() Load {
	return Load{
		Workload:  Workload{Ops: []WeightedOp{{OpSet, 1}}},
		Clients:   o.Writers,
		Pipeline:  o.WriterPipeline,
		KeySpace:  o.Keys,
		ValueSize: o.ValueSize,
		Duration:  o.Duration,
	}.withDefaults()
}

func (o ReadScaleOptions) params() []Param {
	o = o.withDefaults()
	w := o.writerLoad()
	return []Param{
		{"keys", fmt.Sprint(o.Keys)},
		{"value", fmt.Sprintf("%d B", o.ValueSize)},
		{"read data", fmt.Sprintf("%s: %d elements (RPUSH); %s: %d integers (SADD)", readScaleList, readScaleLen, readScaleSet, readScaleLen)},
		{"readers", fmt.Sprintf("%d clients, pipeline %d, alternating LRANGE %s 0 %d and %s %s", o.Readers, o.Pipeline, readScaleList, readScaleLen-1, o.SortCommand, readScaleSet)},
		{"writer", fmt.Sprintf("%s on the master, %d clients, pipeline %d, over %d keys", w.Workload, w.Clients, w.Pipeline, w.KeySpace)},
		{"phases", fmt.Sprintf("%v each: every reader on the master, then reader i on node i%%%d (master, %d replicas)", o.Duration, readScaleReplicas+1, readScaleReplicas)},
		{"scaling", "reads/s with replicas over reads/s master alone; every node and the client share this machine's CPUs"},
	}
}

// The read data of the readscale scenario.
const (
	readScaleList     = "readscale:list"
	readScaleSet      = "readscale:set"
	readScaleLen      = 100 // elements of the list, members of the set
	readScaleReplicas = 2
)

// ErrBadRead reports a read reply of the readscale scenario that is not
// what the data makes it: an error, a wrong length, a wrong element.
var ErrBadRead = errors.New("malformed read reply")

// readScaleData is the list and set the readers read, and the replies they
// must get.
type readScaleData struct {
	list    []string // RPUSHed in this order: LRANGE 0 99 returns it
	members []string // SADDed in this order
	sorted  []string // members in ascending numeric order: SORT returns it
}

// newReadScaleData builds the data. The members are distinct integers,
// negative and positive, whose numeric order differs from their lexical
// order, so a reply sorted as strings is caught.
func newReadScaleData() readScaleData {
	var d readScaleData
	for i := range readScaleLen {
		d.list = append(d.list, fmt.Sprintf("item:%03d", i))
		d.members = append(d.members, strconv.Itoa(i*7919%10007-5000))
	}
	ints := make([]int, len(d.members))
	for i, m := range d.members {
		ints[i], _ = strconv.Atoi(m)
	}
	slices.Sort(ints)
	for _, n := range ints {
		d.sorted = append(d.sorted, strconv.Itoa(n))
	}
	return d
}

// build writes the list and the set to addr, replacing any earlier ones.
func (d readScaleData) build(addr string) error {
	c, err := Dial(addr, controlTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Do("DEL", readScaleList, readScaleSet); err != nil {
		return fmt.Errorf("readscale data: %w", err)
	}
	if _, err := c.Do(append([]string{"RPUSH", readScaleList}, d.list...)...); err != nil {
		return fmt.Errorf("readscale data: %w", err)
	}
	if _, err := c.Do(append([]string{"SADD", readScaleSet}, d.members...)...); err != nil {
		return fmt.Errorf("readscale data: %w", err)
	}
	return nil
}

// checkReadReply checks a reply to LRANGE (numeric false) or SORT (numeric
// true) against the elements it must hold, in order.
func checkReadReply(r Reply, want []string, numeric bool) error {
	switch {
	case r.Kind == '-':
		return fmt.Errorf("%w: error reply %q", ErrBadRead, r.Str)
	case r.Kind != '*' || r.Null:
		return fmt.Errorf("%w: reply of type %q (null %v), want an array", ErrBadRead, r.Kind, r.Null)
	case len(r.Array) != len(want):
		return fmt.Errorf("%w: %d elements, want %d", ErrBadRead, len(r.Array), len(want))
	}
	for i, e := range r.Array {
		if e.Kind != '$' || e.Null {
			return fmt.Errorf("%w: element %d of type %q (null %v), want a bulk string", ErrBadRead, i, e.Kind, e.Null)
		}
	}
	if numeric { // the order first: it says more than a mismatch
		prev := 0
		for i, e := range r.Array {
			n, err := strconv.Atoi(e.Str)
			if err != nil {
				return fmt.Errorf("%w: element %d is %q, not an integer", ErrBadRead, i, e.Str)
			}
			if i > 0 && n < prev {
				return fmt.Errorf("%w: element %d (%d) after %d: not in ascending order", ErrBadRead, i, n, prev)
			}
			prev = n
		}
	}
	for i, e := range r.Array {
		if e.Str != want[i] {
			return fmt.Errorf("%w: element %d is %q, want %q", ErrBadRead, i, e.Str, want[i])
		}
	}
	return nil
}

// readPhaseResult is what one phase did.
type readPhaseResult struct {
	reads   int64         // well-formed read replies
	elapsed time.Duration // from the readers' start to their last reply
	hist    *hdrhistogram.Histogram
	writer  LoadResult
}

func (r readPhaseResult) readsPerSec() float64 { return perSecond(r.reads, r.elapsed) }

// runReadScale starts a master holding the read data and Keys keys, then
// its replicas, and measures the reads the readers complete in two phases
// of Duration, each with the writer on the master: every reader on the
// master, then the readers spread round-robin over the master and the
// replicas.
func runReadScale(ctx context.Context, e *env, o ReadScaleOptions) (ServerRun, error) {
	o = o.withDefaults()
	if o.SortCommand != "SORT" && o.SortCommand != "SORT_RO" {
		return ServerRun{}, fmt.Errorf("readscale: sort command %q: want SORT or SORT_RO", o.SortCommand)
	}
	master, err := e.start("master", RoleMaster)
	if err != nil {
		return ServerRun{}, err
	}
	if err := e.fill(master, o.Keys, o.ValueSize); err != nil {
		return ServerRun{}, err
	}
	data := newReadScaleData()
	if err := data.build(master.Addr); err != nil {
		return ServerRun{}, err
	}
	want, err := dbsize(master.Addr)
	if err != nil {
		return ServerRun{}, err
	}
	replicas, err := e.startReplicas(master, readScaleReplicas, want, o.Timeout)
	if err != nil {
		return ServerRun{}, err
	}
	nodes := append([]*Process{master}, replicas...)

	alone := make([]string, o.Readers)
	spread := make([]string, o.Readers)
	for i := range o.Readers {
		alone[i] = master.Addr
		spread[i] = nodes[i%len(nodes)].Addr
	}
	one, err := readPhase(ctx, e, o, data, "reads, master alone", master.Addr, alone)
	if err != nil {
		return ServerRun{}, fmt.Errorf("phase master alone: %w", err)
	}
	// The replicas apply phase one's writes before phase two starts, so it
	// does not begin with their backlog.
	if err := replicasCaughtUp(master, replicas, o.Timeout); err != nil {
		return ServerRun{}, err
	}
	two, err := readPhase(ctx, e, o, data, fmt.Sprintf("reads, master+%d replicas", readScaleReplicas), master.Addr, spread)
	if err != nil {
		return ServerRun{}, fmt.Errorf("phase master+%d replicas: %w", readScaleReplicas, err)
	}

	withName := fmt.Sprintf("master+%d replicas", readScaleReplicas)
	scaling := 0.0
	if r := one.readsPerSec(); r > 0 {
		scaling = two.readsPerSec() / r
	}
	l1, l2 := Summarize(one.hist), Summarize(two.hist)
	figs := []Figure{
		{Name: "reads/s master alone", Unit: "reads/s", Value: one.readsPerSec(), Better: Higher},
		{Name: "reads/s " + withName, Unit: "reads/s", Value: two.readsPerSec(), Better: Higher},
		{Name: "read scaling", Unit: "x", Value: scaling, Better: Higher},
		{Name: "read p50 master alone", Unit: "µs", Value: float64(l1.P50Us), Better: Lower},
		{Name: "read p50 " + withName, Unit: "µs", Value: float64(l2.P50Us), Better: Lower},
		{Name: "read p99 master alone", Unit: "µs", Value: float64(l1.P99Us), Better: Lower},
		{Name: "read p99 " + withName, Unit: "µs", Value: float64(l2.P99Us), Better: Lower},
		{Name: "writer ops/s master alone", Unit: "ops/s", Value: one.writer.OpsPerSec(), Better: Higher},
		{Name: "writer ops/s " + withName, Unit: "ops/s", Value: two.writer.OpsPerSec(), Better: Higher},
	}
	run := ServerRun{
		Figures: figs,
		Series: []Series{
			{Chart: "readscale-read-latency-cdf", Kind: KindCDF, Name: "master alone", XLabel: "percentile", YLabel: "read latency (µs)", Points: CDF(one.hist)},
			{Chart: "readscale-read-latency-cdf", Kind: KindCDF, Name: withName, XLabel: "percentile", YLabel: "read latency (µs)", Points: CDF(two.hist)},
		},
	}
	for _, p := range []struct {
		name string
		res  LoadResult
	}{{"master alone", one.writer}, {withName, two.writer}} {
		if p.res.Errors > 0 {
			run.Notes = append(run.Notes, fmt.Sprintf("writer, %s: %d error replies, the first: %s", p.name, p.res.Errors, p.res.FirstError))
		}
	}
	return run, nil
}

// readPhase runs one phase: reader i reads from addrs[i] until Duration
// passes while the writer load runs on master. A malformed read reply, or a
// failure of a reader or of the writer, ends the phase with an error. Every
// goroutine it starts has ended when it returns.
func readPhase(ctx context.Context, e *env, o ReadScaleOptions, data readScaleData, desc, master string, addrs []string) (readPhaseResult, error) {
	conns := make([]*Conn, 0, len(addrs))
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i, a := range addrs {
		c, err := Dial(a, controlTimeout)
		if err != nil {
			return readPhaseResult{}, fmt.Errorf("reader %d: %w", i, err)
		}
		conns = append(conns, c)
	}

	// A reader or writer failure cancels the phase for the others.
	phaseCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	wl := o.writerLoad()
	bar, progress := e.loadBar(desc, wl)
	defer bar.Finish()
	var (
		res       = readPhaseResult{hist: newHistogram()}
		writerErr error
	)
	writerDone := make(chan struct{})
	go func() { // owned here: ends with Duration or phaseCtx, waited for below
		defer close(writerDone)
		res.writer, writerErr = RunLoad(phaseCtx, master, wl, progress)
		if writerErr != nil {
			cancel()
		}
	}()

	start := time.Now()
	deadline := start.Add(o.Duration)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards res.reads, res.hist, first
		first error
	)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHistogram()
			n, err := readLoop(phaseCtx, c, o, data, deadline, i, h)
			if err != nil {
				err = fmt.Errorf("reader %d on %s: %w", i, addrs[i], err)
				cancel()
			}
			mu.Lock()
			defer mu.Unlock()
			res.reads += n
			res.hist.Merge(h)
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	<-writerDone
	if first != nil {
		return readPhaseResult{}, first
	}
	if writerErr != nil {
		return readPhaseResult{}, fmt.Errorf("writer: %w", writerErr)
	}
	if err := ctx.Err(); err != nil {
		return readPhaseResult{}, err
	}
	if res.reads == 0 {
		return readPhaseResult{}, fmt.Errorf("readers: %w", errNoOps)
	}
	return res, nil
}

// readLoop sends Pipeline reads per round trip on c, alternating LRANGE of
// the list and a sort of the set (reader i starts with the one of parity
// i), until deadline or ctx ends. It records each read's latency, from the
// flush of its pipeline to the parse of its reply, in h and returns the
// number of well-formed replies; the first malformed one is an error.
func readLoop(ctx context.Context, c *Conn, o ReadScaleOptions, data readScaleData, deadline time.Time, i int, h *hdrhistogram.Histogram) (int64, error) {
	lrange := [][]byte{[]byte("LRANGE"), []byte(readScaleList), []byte("0"), []byte(strconv.Itoa(readScaleLen - 1))}
	sortCmd := [][]byte{[]byte(o.SortCommand), []byte(readScaleSet)}
	var reads int64
	seq := i
	isSort := make([]bool, o.Pipeline)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		for j := range isSort {
			isSort[j] = seq%2 == 1
			seq++
			if isSort[j] {
				c.Write(sortCmd...)
			} else {
				c.Write(lrange...)
			}
		}
		t0 := time.Now()
		if err := c.Flush(); err != nil {
			return reads, err
		}
		for _, s := range isSort {
			r, err := c.Read()
			if err != nil {
				return reads, err
			}
			recordLatency(h, time.Since(t0))
			if s {
				err = checkReadReply(r, data.sorted, true)
			} else {
				err = checkReadReply(r, data.list, false)
			}
			if err != nil {
				cmd := fmt.Sprintf("LRANGE %s 0 %d", readScaleList, readScaleLen-1)
				if s {
					cmd = o.SortCommand + " " + readScaleSet
				}
				return reads, fmt.Errorf("%s: %w", cmd, err)
			}
			reads++
		}
	}
	return reads, nil
}

// replicasCaughtUp writes the lag scenario's marker key on the master and
// waits until every replica holds it and has reached the master's
// replication offset.
func replicasCaughtUp(master *Process, replicas []*Process, timeout time.Duration) error {
	mark := fmt.Sprintf("readscale %d", time.Now().UnixNano())
	c, err := Dial(master.Addr, controlTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Do("SET", markerKey, mark); err != nil {
		return fmt.Errorf("catch-up marker: %w", err)
	}
	mi, err := c.Info("replication")
	if err != nil {
		return err
	}
	off, err := masterOffset(mi, master.Addr)
	if err != nil {
		return err
	}
	for _, r := range replicas {
		err := waitFor("replica "+r.Addr+" caught up", timeout, time.Millisecond, func() (bool, error) {
			return replicaConverged(r, off, mark)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
