package bench

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
)

// startTimeout bounds how long a fresh server may take to answer PING.
const startTimeout = 30 * time.Second

// env is one scenario run against one server: it starts the processes the
// scenario asks for, owns them, and kills every one of them in close.
type env struct {
	srv      Server
	scenario string
	root     string // this run's data directories live under it
	progress io.Writer
	log      *slog.Logger
	procs    []*Process
	cpus     float64 // Config.ServerCPUs
	limits   []*cpuLimit
}

// start starts an instance named name (its data dir is root/name) in the
// given role, with the server's tuning for this scenario and role plus
// extra, and waits until it answers PING.
func (e *env) start(name, role string, extra ...string) (*Process, error) {
	p, err := e.spawn(name, role, extra...)
	if err != nil {
		return nil, err
	}
	if _, err := p.WaitReady(startTimeout); err != nil {
		return nil, err
	}
	return p, nil
}

// spawn starts an instance like start but does not wait for it to serve.
func (e *env) spawn(name, role string, extra ...string) (*Process, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	args := append(append([]string(nil), e.srv.tuning(e.scenario, role)...), extra...)
	p, err := e.srv.Start(filepath.Join(e.root, name), port, args...)
	if err != nil {
		return nil, err
	}
	e.procs = append(e.procs, p)
	if e.cpus > 0 {
		l, err := limitCPU(p.Pid(), e.cpus)
		if err != nil {
			return nil, fmt.Errorf("cap %s at %v CPUs: %w", name, e.cpus, err)
		}
		e.limits = append(e.limits, l)
	}
	e.log.Debug("server started", "server", e.srv.Name, "name", name, "addr", p.Addr, "pid", p.Pid(), "cpus", e.cpus)
	return p, nil
}

// close kills every process the env started and removes their cgroups.
func (e *env) close() {
	for _, p := range e.procs {
		p.Kill()
	}
	for _, l := range e.limits {
		if err := l.remove(); err != nil {
			e.log.Warn("cpu cap", "err", err)
		}
	}
}

// bar returns a progress bar for one phase: max units of work, or a spinner
// when max is -1. Without a progress writer the bar is invisible.
func (e *env) bar(desc string, max int64) *progressbar.ProgressBar {
	if e.progress == nil {
		return progressbar.NewOptions64(max, progressbar.OptionSetVisibility(false))
	}
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(e.progress),
		progressbar.OptionSetDescription(fmt.Sprintf("%-8s %-28s", e.srv.Name, desc)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(false),
	)
}

// loadBar returns a bar and a progress callback for RunLoad: it counts
// commands for a load bounded by Requests, else elapsed milliseconds.
func (e *env) loadBar(desc string, l Load) (*progressbar.ProgressBar, func(int64)) {
	l = l.withDefaults()
	if l.Requests > 0 {
		b := e.bar(desc, l.Requests)
		return b, func(ops int64) { b.Set64(ops) }
	}
	b := e.bar(desc, l.Duration.Milliseconds())
	start := time.Now()
	return b, func(int64) { b.Set64(min(time.Since(start).Milliseconds(), l.Duration.Milliseconds())) }
}

// fill fills the "key:" key space of p with a progress bar.
func (e *env) fill(p *Process, keys, valueSize int) error {
	b := e.bar(fmt.Sprintf("fill %d keys", keys), int64(keys))
	defer b.Finish()
	return Fill(p.Addr, keys, valueSize, func(n int64) { b.Set64(n) })
}

// usageFigures are the figures every scenario reports for a process: CPU
// time per operation, peak RSS and PSS at the end.
func usageFigures(who string, u Usage, ops int64) []Figure {
	return []Figure{
		{Name: who + " cpu/op", Unit: "µs", Value: perOp(u.CPU, ops), Better: Lower},
		{Name: who + " peak RSS", Unit: "MiB", Value: mib(u.PeakRSS), Better: Lower},
		{Name: who + " PSS at end", Unit: "MiB", Value: mib(u.PSS), Better: Lower},
	}
}

// perOp is CPU time per operation in µs; 0 without operations.
func perOp(cpu time.Duration, ops int64) float64 {
	if ops <= 0 {
		return 0
	}
	return float64(cpu.Nanoseconds()) / 1000 / float64(ops)
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// latencyFigures are a latency summary as figures, names prefixed.
func latencyFigures(prefix string, l Latency) []Figure {
	return []Figure{
		{Name: prefix + "p50", Unit: "µs", Value: float64(l.P50Us), Better: Lower},
		{Name: prefix + "p99", Unit: "µs", Value: float64(l.P99Us), Better: Lower},
		{Name: prefix + "p99.9", Unit: "µs", Value: float64(l.P999Us), Better: Lower},
		{Name: prefix + "max", Unit: "µs", Value: float64(l.MaxUs), Better: Lower},
	}
}
