package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// tinyConfig is every scenario at a size that runs in a few seconds.
func tinyConfig(scenario string, servers ...Server) Config {
	load := Load{Clients: 4, Pipeline: 4, KeySpace: 1000, ValueSize: 32, Duration: time.Second}
	return Config{
		Scenario:   scenario,
		Servers:    servers,
		Throughput: ThroughputOptions{Load: load},
		FullSync:   FullSyncOptions{Keys: 2000, ValueSize: 32, Load: Load{Clients: 2}, Baseline: 300 * time.Millisecond, Timeout: time.Minute},
		Lag:        LagOptions{Replicas: 1, Keys: 1000, Load: Load{Clients: 2, Pipeline: 4, ValueSize: 32, Duration: time.Second}, Timeout: time.Minute},
		Restart:    RestartOptions{Keys: 2000, ValueSize: 32, Timeout: time.Minute},
		ReadScale:  ReadScaleOptions{Keys: 1000, ValueSize: 32, Readers: 3, Duration: 500 * time.Millisecond, Timeout: time.Minute},
		// Over walrus's own memory (about 24 MB empty), under what the
		// load's SETs take in either server within a second or two: 1 KiB
		// values, so that some 30,000 SETs pass the limit even when the
		// race detector slows the load's clients tenfold.
		Evict: EvictOptions{MaxMemory: 32 << 20, Load: Load{Clients: 4, Pipeline: 16, ValueSize: 1024, Duration: 3 * time.Second}},
	}
}

// saneFigures are the checks every run of a scenario must pass: name ->
// a predicate on the value.
var saneFigures = map[string]map[string]func(float64) bool{
	ScenarioThroughput: {
		"ops/s": positive, "p50": positive, "max": positive, "error replies": zero,
		"server cpu/op": nonNegative, "server peak RSS": positive, "server PSS at end": positive,
	},
	ScenarioFullSync: {
		"sync time": positive, "bytes to replica": positive, "master ops/s before": positive,
		"master during peak RSS": positive, "master during PSS at end": positive, "replica peak RSS": positive, "master before cpu/op": nonNegative,
		"master idle after fill": positive, "replica CPU until in sync": nonNegative,
	},
	ScenarioLag: {
		"master ops/s": positive, "lag p50": nonNegative, "lag max": nonNegative, "offset lag max": nonNegative,
		"convergence": nonNegative, "master cpu/op": nonNegative, "master peak RSS": positive, "master PSS at end": positive, "replica peak RSS": positive,
	},
	ScenarioRestart: {
		"serving after kill -9": positive, "serving after clean stop": positive,
		// Redis with appendfsync everysec may lose acknowledged writes to
		// kill -9: it postpones its AOF write while a slow fsync runs.
		"keys after kill -9": between(1, 2000), "keys after clean stop": between(1, 2000),
		"start-up peak RSS after kill -9": positive,
	},
	ScenarioEvict: {
		"ops/s": positive, "evicted keys": positive, "keys at end": nonNegative, "error replies": nonNegative,
		"used_memory highest": positive, "server peak RSS": positive,
	},
	ScenarioReadScale: {
		"reads/s master alone": positive, "reads/s master+2 replicas": positive, "read scaling": positive,
		"read p99 master alone": positive, "read p99 master+2 replicas": positive,
		"writer ops/s master alone": positive, "writer ops/s master+2 replicas": positive,
	},
}

func positive(v float64) bool    { return v > 0 }
func nonNegative(v float64) bool { return v >= 0 }
func zero(v float64) bool        { return v == 0 }
func between(lo, hi float64) func(float64) bool {
	return func(v float64) bool { return lo <= v && v <= hi }
}
func equals(w float64) func(float64) bool {
	return func(v float64) bool { return v == w }
}

// saneWalrusFigures are further checks on walrus's runs: it writes every
// entry to its log before it acknowledges it, so kill -9 loses nothing.
var saneWalrusFigures = map[string]map[string]func(float64) bool{
	ScenarioRestart: {"keys after kill -9": equals(2000), "keys after clean stop": equals(2000)},
}

// saneSeries are the charts a scenario must always have points for, by
// series name.
var saneSeries = map[string]map[string][]string{
	ScenarioFullSync: {"fullsync-master-p99-over-time": {"before sync", "during sync"}},
}

func checkSane(t *testing.T, rep *Report) {
	t.Helper()
	if len(rep.Results) == 0 {
		t.Fatal("no results")
	}
	for _, res := range rep.Results {
		for chart, names := range saneSeries[rep.Scenario] {
			for _, name := range names {
				if !slices.ContainsFunc(res.Series, func(s Series) bool { return s.Chart == chart && s.Name == name && len(s.Points) > 0 }) {
					t.Errorf("%s: no points in series %q of chart %q", res.Server, name, chart)
				}
			}
		}
		checks := []map[string]func(float64) bool{saneFigures[rep.Scenario]}
		if res.Server == "walrus" {
			checks = append(checks, saneWalrusFigures[rep.Scenario])
		}
		for _, figures := range checks {
			for name, ok := range figures {
				f, found := findFigure(res.Figures, name)
				if !found {
					t.Errorf("%s: no figure %q", res.Server, name)
				} else if !ok(f.Value) {
					t.Errorf("%s: %s = %v %s is not sane", res.Server, name, f.Value, f.Unit)
				}
			}
		}
	}
}

func runScenarios(t *testing.T, srv Server) {
	for _, sc := range Scenarios {
		t.Run(sc, func(t *testing.T) {
			cfg := tinyConfig(sc, srv)
			cfg.WorkDir = t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkSane(t, rep)
		})
	}
}

func redisOrSkip(t *testing.T) Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts servers")
	}
	s, err := Redis("")
	if err != nil {
		t.Skip("redis-server not installed: ", err)
	}
	return s
}

func TestScenariosAgainstRedis(t *testing.T) {
	runScenarios(t, redisOrSkip(t))
}

var (
	walrusOnce sync.Once
	walrusBin  string
	walrusErr  error
)

// buildWalrus builds cmd/walrus-server once per test binary.
func buildWalrus(t *testing.T) Server {
	t.Helper()
	walrusOnce.Do(func() {
		dir, err := os.MkdirTemp("", "walrus-bench-test-")
		if err != nil {
			walrusErr = err
			return
		}
		walrusBin = filepath.Join(dir, "walrus-server")
		out, err := exec.Command("go", "build", "-o", walrusBin, "github.com/walrus-kv/walrus/cmd/walrus-server").CombinedOutput()
		if err != nil {
			walrusErr = fmt.Errorf("go build cmd/walrus-server: %v\n%s", err, out)
		}
	})
	if walrusErr != nil {
		t.Fatalf("walrus-server must build for the benchmark harness to measure it: %v", walrusErr)
	}
	s, err := Walrus(walrusBin)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if walrusBin != "" {
		os.RemoveAll(filepath.Dir(walrusBin))
	}
	os.Exit(code)
}

func TestScenariosAgainstWalrus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	runScenarios(t, buildWalrus(t))
}

// A placebo fullsync runs the second window for its length without
// asking the replica to sync: nothing reaches the replica, and both
// windows are measured.
func TestFullSyncPlacebo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	cfg := tinyConfig(ScenarioFullSync, buildWalrus(t))
	cfg.FullSync.Placebo = 300 * time.Millisecond
	cfg.WorkDir = t.TempDir()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	figs := rep.Results[0].Figures
	want := map[string]func(float64) bool{
		"placebo window": between(0.3, 30), "bytes to replica": zero,
		"master ops/s before": positive, "master ops/s during": positive,
		"master p99 before": positive, "master p99 during": positive,
	}
	for name, ok := range want {
		if f, found := findFigure(figs, name); !found || !ok(f.Value) {
			t.Errorf("%s: %v (found %v)", name, f.Value, found)
		}
	}
	if _, found := findFigure(figs, "sync time"); found {
		t.Error("a placebo run reports a sync time")
	}
}

func TestCompareAlternatesServersAndGivesRatios(t *testing.T) {
	a := redisOrSkip(t)
	b := a
	a.Name, b.Name = "redis-a", "redis-b"
	cfg := tinyConfig(ScenarioThroughput, a, b)
	cfg.Throughput.Load.Duration = 300 * time.Millisecond
	cfg.Rounds = 2
	cfg.WorkDir = t.TempDir()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range rep.Runs {
		order = append(order, fmt.Sprintf("%s#%d", r.Server, r.Round))
	}
	if got, want := strings.Join(order, " "), "redis-a#1 redis-b#1 redis-b#2 redis-a#2"; got != want {
		t.Errorf("run order %q, want %q", got, want)
	}
	if rep.RatioOf != "redis-a/redis-b" || len(rep.Ratios) == 0 {
		t.Errorf("ratios %q %+v", rep.RatioOf, rep.Ratios)
	}
	for _, r := range rep.Ratios {
		if r.Value <= 0 {
			t.Errorf("ratio %s = %v", r.Figure, r.Value)
		}
	}
	checkSane(t, rep)
}

// startReady starts srv on a free port and waits until it serves; the
// test's cleanup kills it.
func startReady(t *testing.T, srv Server) *Process {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := srv.Start(t.TempDir(), port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	if _, err := p.WaitReady(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunLoadStopsAtRequestCount(t *testing.T) {
	p := startReady(t, redisOrSkip(t))
	w, _ := ParseWorkload("incr")
	res, err := RunLoad(context.Background(), p.Addr, Load{Workload: w, Clients: 3, Pipeline: 7, KeySpace: 1, Requests: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 1000 || res.Hist.TotalCount() != 1000 || res.Errors != 0 {
		t.Errorf("ops %d, recorded %d, errors %d; want 1000, 1000, 0", res.Ops, res.Hist.TotalCount(), res.Errors)
	}
	c, err := Dial(p.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Do("GET", Key(OpIncr, 0))
	if err != nil || r.Str != "1000" {
		t.Errorf("counter = %q, %v; want 1000 INCRs applied", r.Str, err)
	}
	if err := p.Stop(10 * time.Second); err != nil || !p.Exited() {
		t.Errorf("Stop: %v, exited %v", err, p.Exited())
	}
}

func TestStartReportsAServerThatExits(t *testing.T) {
	srv := redisOrSkip(t)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := srv.Start(t.TempDir(), port, "--no-such-directive", "1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	if _, err := p.WaitReady(10 * time.Second); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitReady = %v, want an exited error", err)
	}
}

func TestRunLoadKeepsToItsRate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	p := startReady(t, buildWalrus(t))
	l := Load{Clients: 4, Pipeline: 2, KeySpace: 100, Rate: 2000, Duration: 500 * time.Millisecond}
	res, err := RunLoad(context.Background(), p.Addr, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A paced client sends no earlier than its schedule: at most one
	// pipeline per client beyond Rate × Duration. Unpaced, the same load
	// sends tens of times more.
	if most := int64(l.Rate*l.Duration.Seconds()) + int64(l.Clients*l.Pipeline); res.Ops > most {
		t.Errorf("paced at %.0f/s for %v: %d commands, more than the %d scheduled", l.Rate, l.Duration, res.Ops, most)
	}
	if res.Ops < 100 || res.Hist.TotalCount() != res.Ops {
		t.Errorf("paced load answered %d commands and recorded %d latencies", res.Ops, res.Hist.TotalCount())
	}
	if d := l.describe(); !strings.Contains(d, "paced at 2000 commands/s") {
		t.Errorf("describe() = %q, want the rate", d)
	}
}
