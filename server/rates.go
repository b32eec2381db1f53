package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// Traffic and rates for INFO stats, kept as Redis 7.0 keeps them: every
// connection counts the bytes it reads and writes (guardConn for clients,
// the replica link for its master's connection). total_net_input_bytes
// and total_net_output_bytes count all of them; the repl fields count the
// replication streams among them (a replica's stream on the master once
// PSYNC hands it over, the master's stream on a replica). A goroutine
// owned by Serve samples the counters every 100 ms; the instantaneous_*
// fields are the mean of the last 16 samples.

type metric int

const (
	metricOps metric = iota
	metricNetIn
	metricNetOut
	metricReplIn
	metricReplOut
	metrics
)

const (
	samplePeriod = 100 * time.Millisecond
	samples      = 16
)

// traffic counts bytes on the network.
type traffic struct {
	in, out         atomic.Int64 // all
	replIn, replOut atomic.Int64 // the replication streams' among them
	reads, writes   atomic.Int64 // reads from and writes to client sockets
}

type rates struct {
	mu   sync.Mutex
	last [metrics]int64
	at   time.Time
	rate [metrics][samples]float64 // per second
	next int
}

// counters reads the totals the rates are taken of.
func (s *Server) counters() [metrics]int64 {
	return [metrics]int64{
		metricOps:     s.stats.commands.Load(),
		metricNetIn:   s.traffic.in.Load(),
		metricNetOut:  s.traffic.out.Load(),
		metricReplIn:  s.traffic.replIn.Load(),
		metricReplOut: s.traffic.replOut.Load(),
	}
}

func (t *traffic) read(n int64, repl bool) {
	t.in.Add(n)
	if repl {
		t.replIn.Add(n)
	}
}

func (t *traffic) wrote(n int64, repl bool) {
	t.out.Add(n)
	if repl {
		t.replOut.Add(n)
	}
}

// reset zeroes the byte counters (CONFIG RESETSTAT).
func (t *traffic) reset() {
	t.in.Store(0)
	t.out.Store(0)
	t.replIn.Store(0)
	t.replOut.Store(0)
	t.reads.Store(0)
	t.writes.Store(0)
}

// sampleRates records one sample every samplePeriod until stop is closed.
func (s *Server) sampleRates(stop <-chan struct{}) {
	t := time.NewTicker(samplePeriod)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.sample(now)
			s.checkMemory(true)
		}
	}
}

func (s *Server) sample(now time.Time) {
	cur := s.counters()
	r := &s.rates
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() {
		secs := now.Sub(r.at).Seconds()
		for m := range cur {
			// A counter reset (CONFIG RESETSTAT) counts as no traffic.
			r.rate[m][r.next] = max(0, float64(cur[m]-r.last[m])/secs)
		}
		r.next = (r.next + 1) % samples
	}
	r.last, r.at = cur, now
}

// instantaneous is the mean rate of m over the last samples, per second.
func (s *Server) instantaneous(m metric) float64 {
	r := &s.rates
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := 0.0
	for _, v := range r.rate[m] {
		sum += v
	}
	return sum / samples
}
