package server

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/server/config"
)

// Latency tracking, as Redis 7.0 has it:
//   - every command's latency histogram (latency-tracking, on by default),
//     which LATENCY HISTOGRAM shows and INFO latencystats reads its
//     percentiles from (latency-tracking-info-percentiles);
//   - the latency monitor (latency-monitor-threshold, in ms, off at 0): a
//     command that takes at least the threshold is a sample of the
//     "command" event, or "fast-command" for a fast one; LATENCY LATEST,
//     HISTORY, RESET, GRAPH and DOCTOR read the events.
//
// A histogram has power-of-two buckets from 1,024 ns up, the points
// Redis's LATENCY HISTOGRAM reports; Redis's percentiles come from a finer
// histogram, walrus's are a bucket's upper bound.

const latBuckets = 40 // the last holds everything from 1024<<38 ns (3 days) up

// latencyHist counts a command's calls by latency bucket.
type latencyHist struct{ b [latBuckets]atomic.Int64 }

// bucketOf is the bucket of d: bucket k holds (1024<<(k-1), 1024<<k] ns,
// bucket 0 up to 1024 ns.
func bucketOf(d time.Duration) int {
	if d <= 1024 {
		return 0
	}
	return min(bits.Len64(uint64(d-1)/1024), latBuckets-1)
}

func (h *latencyHist) record(d time.Duration) { h.b[bucketOf(d)].Add(1) }

func (h *latencyHist) reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
}

// counts returns the buckets' counts and their total.
func (h *latencyHist) counts() (c [latBuckets]int64, total int64) {
	for i := range h.b {
		c[i] = h.b[i].Load()
		total += c[i]
	}
	return c, total
}

// bucketMicros is bucket k's upper bound in µs, as Redis labels it.
func bucketMicros(k int) int64 { return (int64(1024) << k) / 1000 }

// percentile is the upper bound, in µs, of the bucket that holds the p-th
// percentile of c (total calls).
func percentile(c [latBuckets]int64, total int64, p float64) float64 {
	rank := int64(math.Ceil(p / 100 * float64(total)))
	var seen int64
	for k, n := range c {
		seen += n
		if seen >= max(rank, 1) {
			return float64(int64(1024)<<k) / 1000
		}
	}
	return 0
}

// latencySettings are the latency directives, loaded at start and on
// CONFIG SET.
type latencySettings struct {
	tracking    atomic.Bool
	percentiles atomic.Pointer[[]float64]
	thresholdMs atomic.Int64
}

func (l *latencySettings) load(c *config.Config) {
	l.tracking.Store(configValue(c, "latency-tracking") == "yes")
	var ps []float64
	for _, w := range strings.Fields(configValue(c, "latency-tracking-info-percentiles")) {
		if p, err := strconv.ParseFloat(w, 64); err == nil {
			ps = append(ps, p)
		}
	}
	l.percentiles.Store(&ps)
	l.thresholdMs.Store(configInt(c, "latency-monitor-threshold"))
}

func (s *Server) watchLatencySettings() {
	s.latency.load(s.cfg)
	for _, name := range []string{"latency-tracking", "latency-tracking-info-percentiles", "latency-monitor-threshold"} {
		s.cfg.OnChange(name, func(c *config.Config) error { s.latency.load(c); return nil })
	}
}

// latencyTSLen is how many samples an event keeps, one a second at most.
const latencyTSLen = 160

type latencySample struct {
	time    int64 // Unix seconds; 0: empty
	latency int64 // ms
}

// latencyEvent is one event's time series.
type latencyEvent struct {
	samples [latencyTSLen]latencySample
	idx     int // next slot
	max     int64
}

// latencyMonitor holds the monitor's events.
type latencyMonitor struct {
	mu     sync.Mutex
	events map[string]*latencyEvent
}

// add records a sample of event: one per second, the worst of that
// second, as Redis does.
func (m *latencyMonitor) add(event string, ms int64) {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string]*latencyEvent{}
	}
	ev := m.events[event]
	if ev == nil {
		ev = &latencyEvent{}
		m.events[event] = ev
	}
	ev.max = max(ev.max, ms)
	prev := &ev.samples[(ev.idx+latencyTSLen-1)%latencyTSLen]
	if prev.time == now {
		prev.latency = max(prev.latency, ms)
		return
	}
	ev.samples[ev.idx] = latencySample{now, ms}
	ev.idx = (ev.idx + 1) % latencyTSLen
}

// history returns an event's samples, oldest first.
func (ev *latencyEvent) history() []latencySample {
	var out []latencySample
	for i := range latencyTSLen {
		s := ev.samples[(ev.idx+i)%latencyTSLen]
		if s.time != 0 {
			out = append(out, s)
		}
	}
	return out
}

// names returns the events' names, sorted.
func (m *latencyMonitor) names() []string {
	names := make([]string, 0, len(m.events))
	for n := range m.events {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// recordLatency feeds a command that ran for took to its histogram and,
// past the threshold, to the monitor.
func (s *Server) recordLatency(st *cmdStat, took time.Duration) {
	if s.latency.tracking.Load() {
		st.lat.record(took)
	}
	if t := s.latency.thresholdMs.Load(); t > 0 && took.Milliseconds() >= t {
		event := "command"
		if st.fast {
			event = "fast-command"
		}
		s.monitor.add(event, took.Milliseconds())
	}
}

var latencyHelp = []string{
	"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
	"HELP",
	"    Prints this help.",
}

func cmdLatency(s *Server, cl *client, args [][]byte) {
	m := &s.monitor
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "help" && len(args) == 2:
		cl.statusLines(latencyHelp)
	case sub == "histogram":
		latencyHistogram(s, cl, args[2:])
	case sub == "latest" && len(args) == 2:
		m.mu.Lock()
		defer m.mu.Unlock()
		names := m.names()
		cl.array(len(names))
		for _, n := range names {
			ev := m.events[n]
			last := ev.samples[(ev.idx+latencyTSLen-1)%latencyTSLen]
			cl.array(4)
			cl.bulkString(n)
			cl.integer(last.time)
			cl.integer(last.latency)
			cl.integer(ev.max)
		}
	case sub == "history" && len(args) == 3:
		m.mu.Lock()
		defer m.mu.Unlock()
		ev := m.events[string(args[2])]
		if ev == nil {
			cl.array(0)
			return
		}
		h := ev.history()
		cl.array(len(h))
		for _, s := range h {
			cl.array(2)
			cl.integer(s.time)
			cl.integer(s.latency)
		}
	case sub == "reset":
		m.mu.Lock()
		defer m.mu.Unlock()
		n := 0
		if len(args) == 2 {
			n = len(m.events)
			m.events = nil
		}
		for _, a := range args[2:] {
			if _, ok := m.events[string(a)]; ok {
				delete(m.events, string(a))
				n++
			}
		}
		cl.integer(int64(n))
	case sub == "graph" && len(args) == 3:
		m.mu.Lock()
		defer m.mu.Unlock()
		ev := m.events[string(args[2])]
		if ev == nil {
			cl.err("ERR No samples available for event '" + clip(string(args[2])) + "'")
			return
		}
		cl.verbatim(latencyGraph(string(args[2]), ev))
	case sub == "doctor" && len(args) == 2:
		cl.verbatim(latencyDoctor(s))
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + clip(string(args[1])) + "'. Try LATENCY HELP.")
	}
}

// latencyHistogram is LATENCY HISTOGRAM [command ...]: for each command
// called (all of them when none is named), its calls and the cumulative
// count at each bucket's upper bound in µs, where it grows. RESP3: a map
// of maps, as Redis replies it.
func latencyHistogram(s *Server, cl *client, names [][]byte) {
	type line struct {
		name string
		st   *cmdStat
	}
	var lines []line
	byName := map[string]*cmdStat{}
	s.eachStat(func(name string, st *cmdStat) { byName[name] = st })
	if len(names) == 0 {
		for n, st := range byName {
			lines = append(lines, line{n, st})
		}
		sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	}
	seen := map[string]bool{}
	for _, n := range names {
		name := strings.ToLower(string(n))
		if st := byName[name]; st != nil && !seen[name] {
			seen[name] = true
			lines = append(lines, line{name, st})
		}
	}
	type hist struct {
		name   string
		counts [latBuckets]int64
		total  int64
	}
	var out []hist
	for _, l := range lines {
		c, total := l.st.lat.counts()
		if total > 0 {
			out = append(out, hist{l.name, c, total})
		}
	}
	cl.mapLen(len(out))
	for _, h := range out {
		cl.bulkString(h.name)
		cl.mapLen(2)
		cl.bulkString("calls")
		cl.integer(h.total)
		cl.bulkString("histogram_usec")
		points := 0
		for _, n := range h.counts {
			if n > 0 {
				points++
			}
		}
		cl.mapLen(points)
		var cum int64
		for k, n := range h.counts {
			if n == 0 {
				continue
			}
			cum += n
			cl.integer(bucketMicros(k))
			cl.integer(cum)
		}
	}
}

// infoLatencyStats is INFO latencystats: each called command's
// percentiles, in µs.
func (s *Server) infoLatencyStats() [][2]string {
	if !s.latency.tracking.Load() {
		return nil
	}
	ps := *s.latency.percentiles.Load()
	var out [][2]string
	add := func(name string, st *cmdStat) {
		c, total := st.lat.counts()
		if total == 0 {
			return
		}
		var b strings.Builder
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "p%s=%.3f", strconv.FormatFloat(p, 'f', -1, 64), percentile(c, total, p))
		}
		out = append(out, [2]string{"latency_percentiles_usec_" + name, b.String()})
	}
	s.eachStat(add)
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// latencyGraph draws an event's samples, newest last: one line each,
// with a bar scaled to the event's worst. (Redis draws the samples
// sideways in ASCII art; this carries the same figures.)
func latencyGraph(name string, ev *latencyEvent) string {
	h := ev.history()
	low := int64(math.MaxInt64)
	high := int64(0)
	for _, s := range h {
		low, high = min(low, s.latency), max(high, s.latency)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", name, high, low, ev.max)
	b.WriteString(strings.Repeat("-", 80) + "\n")
	now := time.Now().Unix()
	for _, s := range h {
		bar := 1
		if ev.max > 0 {
			bar = max(1, int(60*s.latency/ev.max))
		}
		fmt.Fprintf(&b, "%6ds ago %6d ms %s\n", now-s.time, s.latency, strings.Repeat("#", bar))
	}
	return b.String()
}

// latencyDoctor is LATENCY DOCTOR's report: Redis's words when the
// monitor is off or saw nothing, else each event's spikes.
func latencyDoctor(s *Server) string {
	if s.latency.thresholdMs.Load() == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" if you want to enable it.\n"
	}
	m := &s.monitor
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events) == 0 {
		return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n"
	}
	var b strings.Builder
	b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
	for i, n := range m.names() {
		h := m.events[n].history()
		var sum int64
		for _, s := range h {
			sum += s.latency
		}
		avg := float64(sum) / float64(len(h))
		var dev float64
		for _, s := range h {
			dev += math.Abs(float64(s.latency) - avg)
		}
		dev /= float64(len(h))
		period := 0.0
		if len(h) > 1 {
			period = float64(h[len(h)-1].time-h[0].time) / float64(len(h)-1)
		}
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %.0fms, mean deviation %.0fms, period %.2f sec). Worst all time event %dms.\n",
			i+1, n, len(h), avg, dev, period, m.events[n].max)
	}
	b.WriteString("\nwalrus gives no advice beyond these figures: INFO commandstats and LATENCY HISTOGRAM show which commands are slow.\n")
	return b.String()
}
