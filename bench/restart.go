package bench

import (
	"context"
	"fmt"
	"time"
)

// RestartOptions configure the restart scenario: how fast a node holding
// Keys keys serves again after kill -9 and after a clean stop.
type RestartOptions struct {
	// Keys is how many keys the node holds. Default 200000.
	Keys int `json:"keys"`
	// ValueSize is the size of each value in bytes. Default 100.
	ValueSize int `json:"value_size"`
	// Timeout bounds each stop and each restart. Default 5m.
	Timeout time.Duration `json:"timeout_ns"`
}

func (o RestartOptions) withDefaults() RestartOptions {
	if o.Keys <= 0 {
		o.Keys = 200_000
	}
	if o.ValueSize <= 0 {
		o.ValueSize = 100
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	return o
}

func (o RestartOptions) params() []Param {
	o = o.withDefaults()
	return []Param{
		{"keys", fmt.Sprint(o.Keys)},
		{"value", fmt.Sprintf("%d B", o.ValueSize)},
		{"persistence", "appendonly yes, appendfsync everysec, no RDB snapshots"},
		{"serving", "from process start to the first PONG (LOADING replies do not count)"},
	}
}

// restartResult is one restart: how long until the node served, what it
// recovered, and what the start-up cost.
type restartResult struct {
	serve time.Duration
	keys  int64
	usage Usage
}

// runRestart fills a node, kills it with SIGKILL right after the last
// acknowledged write and restarts it on the same data, then stops it with
// SIGTERM and restarts it again, timing each restart until the node
// answers PING.
func runRestart(ctx context.Context, e *env, o RestartOptions) (ServerRun, error) {
	o = o.withDefaults()
	node, err := e.start("node", RoleNode)
	if err != nil {
		return ServerRun{}, err
	}
	if err := e.fill(node, o.Keys, o.ValueSize); err != nil {
		return ServerRun{}, err
	}
	if err := node.Kill(); err != nil {
		return ServerRun{}, err
	}
	crash, err := e.restart(ctx, "after kill -9", o.Timeout)
	if err != nil {
		return ServerRun{}, err
	}
	node = e.procs[len(e.procs)-1]
	t0 := time.Now()
	if err := node.Stop(o.Timeout); err != nil {
		return ServerRun{}, err
	}
	stopTime := time.Since(t0)
	clean, err := e.restart(ctx, "after clean stop", o.Timeout)
	if err != nil {
		return ServerRun{}, err
	}
	figs := []Figure{
		{Name: "serving after kill -9", Unit: "ms", Value: ms(crash.serve), Better: Lower},
		{Name: "serving after clean stop", Unit: "ms", Value: ms(clean.serve), Better: Lower},
		{Name: "clean stop (SIGTERM to exit)", Unit: "ms", Value: ms(stopTime), Better: Lower},
		{Name: "keys after kill -9", Unit: "keys", Value: float64(crash.keys), Better: Higher},
		{Name: "keys after clean stop", Unit: "keys", Value: float64(clean.keys), Better: Higher},
	}
	for _, r := range []struct {
		what string
		res  restartResult
	}{{"kill -9", crash}, {"clean stop", clean}} {
		figs = append(figs,
			Figure{Name: "start-up cpu/key after " + r.what, Unit: "µs", Value: perOp(r.res.usage.CPU, r.res.keys), Better: Lower},
			Figure{Name: "start-up peak RSS after " + r.what, Unit: "MiB", Value: mib(r.res.usage.PeakRSS), Better: Lower})
	}
	run := ServerRun{Figures: figs}
	for _, r := range []struct {
		what string
		res  restartResult
	}{{"kill -9", crash}, {"clean stop", clean}} {
		if r.res.keys != int64(o.Keys) {
			run.Notes = append(run.Notes, fmt.Sprintf("after %s the node had %d keys, not %d", r.what, r.res.keys, o.Keys))
		}
	}
	return run, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// restart starts a new process on the data of the env's "node", waits until
// it answers PING, and reads its DBSIZE. CPU and peak RSS cover the
// start-up.
func (e *env) restart(ctx context.Context, what string, timeout time.Duration) (restartResult, error) {
	bar := e.bar("restart "+what, -1)
	defer bar.Finish()
	t0 := time.Now()
	p, err := e.spawn("node", RoleNode)
	if err != nil {
		return restartResult{}, err
	}
	var serve time.Duration
	u, err := measure(p, func() error {
		_, err := p.WaitReady(timeout)
		serve = time.Since(t0)
		return err
	})
	if err != nil {
		return restartResult{}, fmt.Errorf("restart %s: %w", what, err)
	}
	if err := ctx.Err(); err != nil {
		return restartResult{}, err
	}
	n, err := dbsize(p.Addr)
	if err != nil {
		return restartResult{}, fmt.Errorf("restart %s: %w", what, err)
	}
	return restartResult{serve: serve, keys: n, usage: u}, nil
}
