package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Load describes a load: Clients connections, each sending Pipeline
// commands, waiting for their replies, and sending again, until Duration
// passes, Requests commands are done, or the context ends. Without Rate
// the loop is closed: each client sends again as soon as its replies are
// in, so the load takes all the CPU the server and the clients can get.
type Load struct {
	// Workload is the command mix. Default: set:get=1:1.
	Workload Workload `json:"workload"`
	// Clients is the number of connections. Default 50.
	Clients int `json:"clients"`
	// Pipeline is how many commands a client sends per round trip. Default 1.
	Pipeline int `json:"pipeline"`
	// KeySpace is the number of distinct keys per op prefix. Default 100000.
	KeySpace int `json:"key_space"`
	// ValueSize is the size of SET/LPUSH/HSET values in bytes. Default 100.
	ValueSize int `json:"value_size"`
	// Duration bounds the load in time. Default 10s when Requests is 0.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Requests bounds the load in commands; 0 means no bound but Duration.
	Requests int64 `json:"requests,omitempty"`
	// Seed makes the command sequence reproducible. Default 1.
	Seed uint64 `json:"seed"`
	// Rate, above 0, paces the load to Rate commands per second over all
	// clients: each client sends its next pipeline at its scheduled time,
	// or at once when it is late. Latency is from send to reply, as with
	// redis-cli --latency: a late pipeline is not charged for the wait.
	Rate float64 `json:"rate,omitempty"`
	// Timeline, above 0, also reports the p99 of the commands sent in each
	// Timeline-long slice of the load (LoadResult.Timeline).
	Timeline time.Duration `json:"timeline_ns,omitempty"`
}

// withDefaults fills the zero fields.
func (l Load) withDefaults() Load {
	if len(l.Workload.Ops) == 0 {
		l.Workload = Workload{Ops: []WeightedOp{{OpSet, 1}, {OpGet, 1}}}
	}
	if l.Clients <= 0 {
		l.Clients = 50
	}
	if l.Pipeline <= 0 {
		l.Pipeline = 1
	}
	if l.KeySpace <= 0 {
		l.KeySpace = 100_000
	}
	if l.ValueSize < 0 {
		l.ValueSize = 0
	} else if l.ValueSize == 0 {
		l.ValueSize = 100
	}
	if l.Duration <= 0 && l.Requests <= 0 {
		l.Duration = 10 * time.Second
	}
	if l.Seed == 0 {
		l.Seed = 1
	}
	return l
}

// withSetDefaults fills the zero fields of a scenario's writing load: SETs
// only, and the scenario's clients, pipeline and key space.
func (l Load) withSetDefaults(clients, pipeline, keySpace int) Load {
	if len(l.Workload.Ops) == 0 {
		l.Workload = Workload{Ops: []WeightedOp{{OpSet, 1}}}
	}
	if l.Clients <= 0 {
		l.Clients = clients
	}
	if l.Pipeline <= 0 {
		l.Pipeline = pipeline
	}
	if l.KeySpace <= 0 {
		l.KeySpace = keySpace
	}
	return l
}

// describe names the load's shape for a report: mix, clients, pipeline
// and rate.
func (l Load) describe() string {
	d := fmt.Sprintf("%s, %d clients, pipeline %d", l.Workload, l.Clients, l.Pipeline)
	if l.Rate > 0 {
		d += fmt.Sprintf(", paced at %.0f commands/s", l.Rate)
	}
	return d
}

// LoadResult is what a load did.
type LoadResult struct {
	Ops     int64         // commands answered
	Errors  int64         // of which error replies
	Elapsed time.Duration // from the first send to the last reply
	// Hist holds every command's latency in µs: from the flush of its
	// pipeline to the parse of its reply.
	Hist *hdrhistogram.Histogram
	// FirstError is the text of the first error reply, if any.
	FirstError string
	// Timeline, when Load.Timeline is set, is the p99 in µs (Y) of the
	// commands sent in each slice of the load that had any, X being the
	// slice's start in seconds from the load's.
	Timeline []Point
}

// OpsPerSec is the throughput of the load.
func (r LoadResult) OpsPerSec() float64 { return perSecond(r.Ops, r.Elapsed) }

// perSecond is n over d, 0 for no time.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// RunLoad runs the load against addr. progress, if not nil, is called about
// every 100ms from one goroutine with the number of commands answered so
// far. A connection or protocol failure ends the load with an error; error
// replies are counted, not fatal.
func RunLoad(ctx context.Context, addr string, l Load, progress func(ops int64)) (LoadResult, error) {
	l = l.withDefaults()
	conns := make([]*Conn, 0, l.Clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < l.Clients; i++ {
		c, err := Dial(addr, controlTimeout)
		if err != nil {
			return LoadResult{}, fmt.Errorf("load: %w", err)
		}
		conns = append(conns, c)
	}

	var (
		done     atomic.Int64 // commands answered, all clients
		reserved atomic.Int64 // commands claimed, when Requests bounds the load
		errCount atomic.Int64
		mu       sync.Mutex // guards hist, firstErr, firstRpl
		hist     = newHistogram()
		bySlice  [][]int64 // Load.Timeline: latencies in µs by slice
		firstErr error
		firstRpl string
		wg       sync.WaitGroup
	)
	start := time.Now()
	var deadline time.Time
	if l.Duration > 0 {
		deadline = start.Add(l.Duration)
	}
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHistogram()
			var mine [][]int64 // Load.Timeline
			g := NewGenerator(l.Workload, l.KeySpace, l.ValueSize, l.Seed+uint64(i)*7919)
			var errs int64
			var errText string
			p := newPacer(l, i, start)
			err := func() error {
				for {
					if ctx.Err() != nil || (!deadline.IsZero() && !time.Now().Before(deadline)) {
						return nil
					}
					if !p.wait(ctx, deadline) {
						return nil
					}
					n := int64(l.Pipeline)
					if l.Requests > 0 {
						got := reserved.Add(n)
						if got-n >= l.Requests {
							return nil
						}
						n = min(n, l.Requests-(got-n))
					}
					for j := int64(0); j < n; j++ {
						_, args := g.Next()
						c.Write(args...)
					}
					t0 := time.Now()
					if err := c.Flush(); err != nil {
						return err
					}
					for j := int64(0); j < n; j++ {
						r, err := c.Read()
						if err != nil {
							return err
						}
						lat := time.Since(t0)
						recordLatency(h, lat)
						if l.Timeline > 0 {
							mine = addToSlice(mine, int(t0.Sub(start)/l.Timeline), lat.Microseconds())
						}
						if r.Kind == '-' {
							if errs == 0 {
								errText = r.Str
							}
							errs++
						}
					}
					done.Add(n)
				}
			}()
			errCount.Add(errs)
			mu.Lock()
			hist.Merge(h)
			for k, lats := range mine {
				bySlice = addToSlice(bySlice, k, lats...)
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if errText != "" && firstRpl == "" {
				firstRpl = errText
			}
			mu.Unlock()
		}()
	}

	// The progress reporter is owned here: stopped and waited for below.
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if progress == nil {
			return
		}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				progress(done.Load())
				return
			case <-t.C:
				progress(done.Load())
			}
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	<-progressDone

	res := LoadResult{
		Ops:        done.Load(),
		Errors:     errCount.Load(),
		Elapsed:    elapsed,
		Hist:       hist,
		FirstError: firstRpl,
		Timeline:   sliceP99s(bySlice, l.Timeline),
	}
	if firstErr != nil {
		return res, fmt.Errorf("load on %s: %w", addr, firstErr)
	}
	if res.Ops == 0 && ctx.Err() == nil {
		return res, fmt.Errorf("load on %s: %w", addr, errNoOps)
	}
	return res, nil
}

var errNoOps = errors.New("no command answered")

// pacer schedules one client's pipelines for a Load with a Rate.
type pacer struct {
	interval time.Duration // between this client's pipelines; 0: unpaced
	next     time.Time
}

// newPacer staggers the clients' schedules evenly over one interval.
func newPacer(l Load, client int, start time.Time) *pacer {
	if l.Rate <= 0 {
		return &pacer{}
	}
	interval := time.Duration(float64(time.Second) * float64(l.Pipeline*l.Clients) / l.Rate)
	return &pacer{interval: interval, next: start.Add(interval * time.Duration(client) / time.Duration(l.Clients))}
}

// wait sleeps until the next pipeline is due, if it is not yet. It
// returns false when ctx ends or the deadline passes first.
func (p *pacer) wait(ctx context.Context, deadline time.Time) bool {
	if p.interval == 0 {
		return true
	}
	sched := p.next
	p.next = p.next.Add(p.interval)
	d := time.Until(sched)
	if d <= 0 {
		return true
	}
	if !deadline.IsZero() && sched.After(deadline) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// addToSlice appends us to slice k of bySlice, growing it as needed.
func addToSlice(bySlice [][]int64, k int, us ...int64) [][]int64 {
	for len(bySlice) <= k {
		bySlice = append(bySlice, nil)
	}
	bySlice[k] = append(bySlice[k], us...)
	return bySlice
}

// sliceP99s is the p99 (nearest rank) of every non-empty slice, X being
// the slice's start in seconds.
func sliceP99s(bySlice [][]int64, step time.Duration) []Point {
	var pts []Point
	for k, lats := range bySlice {
		if len(lats) == 0 {
			continue
		}
		slices.Sort(lats)
		rank := (99*len(lats) + 99) / 100 // ceil(0.99 n)
		pts = append(pts, Point{X: (time.Duration(k) * step).Seconds(), Y: float64(lats[rank-1])})
	}
	return pts
}
