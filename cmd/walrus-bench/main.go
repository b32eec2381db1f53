// Command walrus-bench measures walrus-server and redis-server from the
// outside: throughput and tail latency, full sync of a new replica,
// replication lag, restart time, and how reads scale from a master alone to
// a master and its replicas, alone or side by side.
//
//	walrus-bench <throughput|fullsync|lag|restart|readscale|evict|all> [flags]
//	walrus-bench compare <scenario|all> [flags]
//
// It is a thin layer over package bench: flags become a bench.Config.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/walrus-kv/walrus/bench"
)

const usage = `usage:
  walrus-bench <scenario> [flags]          one server (--server, default walrus)
  walrus-bench compare <scenario> [flags]  walrus and redis-server, same parameters
scenarios: throughput, fullsync, lag, restart, readscale, evict, all (all but evict)

flags:
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "walrus-bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("walrus-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	var (
		compare    = fs.Bool("compare", false, "run against walrus and redis-server (same as the compare sub-command)")
		server     = fs.String("server", "walrus", "server to measure without --compare: walrus or redis")
		walrusPath = fs.String("walrus", "", "walrus-server binary (default: walrus-server on PATH)")
		redisPath  = fs.String("redis", "", "redis-server binary (default: redis-server on PATH)")
		rounds     = fs.Int("rounds", 1, "rounds, alternating server order; medians are reported")
		jsonFile   = fs.String("json", "", "write the reports as JSON to this file")
		plotDir    = fs.String("plot", "", "write PNG charts (latency CDF, lag over time) to this directory")
		quiet      = fs.Bool("quiet", false, "no progress bars")
		verbose    = fs.Bool("v", false, "debug logs on stderr")
		keep       = fs.Bool("keep", false, "keep the servers' data directories and logs")

		workload  = fs.String("workload", "", "command mix: set, get,set,incr or set:get=1:9 (default per scenario)")
		clients   = fs.Int("clients", 0, "client connections (default: throughput 50, fullsync 4, lag 8); readscale: reader connections (default 8)")
		pipeline  = fs.Int("pipeline", 0, "commands per round trip (default: 1, lag 16); readscale: the readers' (default 1)")
		writers   = fs.Int("writers", 0, "readscale: writer connections on the master, pipeline 16 (default 1)")
		keys      = fs.Int("keys", 0, "throughput: key space; others: keys the master/node holds (default per scenario)")
		valueSize = fs.Int("value-size", 0, "value size in bytes (default 100)")
		duration  = fs.Duration("duration", 0, "load duration for throughput and lag (default 10s); readscale: each phase (default 5s)")
		requests  = fs.Int64("requests", 0, "throughput: stop after this many commands instead of --duration")
		cpus      = fs.Float64("server-cpus", 0, "cap every server process at this many CPUs with a cgroup quota, as if each had a machine of that size (needs root; default: no cap)")
		rate      = fs.Float64("rate", 0, "pace the load to this many commands per second over all clients (default: as fast as the clients go)")
		baseline  = fs.Duration("baseline", 0, "fullsync: master load before the replica starts (default 3s)")
		placebo   = fs.Duration("placebo", 0, "fullsync: no sync; measure a second window this long with the same load and polling (the noise floor of the p99 ratio)")
		replicas  = fs.Int("replicas", 0, "lag: number of replicas (default 2)")
		maxMemMB  = fs.Int64("maxmemory-mb", 0, "evict: the node's maxmemory in MiB (default 256)")
		policy    = fs.String("policy", "", "evict: the node's maxmemory-policy (default allkeys-lru)")
		timeout   = fs.Duration("timeout", 0, "bound on a sync, convergence or restart (default: fullsync/restart 5m, lag/readscale 2m)")
	)
	// The sub-command (and compare's scenario) come first; flags follow.
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	pos = append(pos, fs.Args()...)
	if len(pos) > 0 && pos[0] == "compare" {
		*compare, pos = true, pos[1:]
	}
	if len(pos) != 1 {
		fs.Usage()
		return errors.New("want exactly one scenario")
	}
	scenarios := []string{pos[0]}
	if pos[0] == "all" {
		scenarios = bench.AllScenarios
	} else if !slices.Contains(bench.Scenarios, pos[0]) {
		return fmt.Errorf("%w %q", bench.ErrUnknownScenario, pos[0])
	}

	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg := bench.Config{Rounds: *rounds, Logger: logger, Keep: *keep, ServerCPUs: *cpus}
	if !*quiet {
		cfg.Progress = stderr
	}
	var err error
	if cfg.Servers, cfg.Notes, err = servers(*compare, *server, *walrusPath, *redisPath); err != nil {
		return err
	}

	var w bench.Workload
	if *workload != "" {
		if w, err = bench.ParseWorkload(*workload); err != nil {
			return err
		}
	}
	load := bench.Load{Workload: w, Clients: *clients, Pipeline: *pipeline, ValueSize: *valueSize, Rate: *rate}
	tl := load
	tl.KeySpace, tl.Duration, tl.Requests = *keys, *duration, *requests
	cfg.Throughput = bench.ThroughputOptions{Load: tl}
	cfg.FullSync = bench.FullSyncOptions{Keys: *keys, ValueSize: *valueSize, Load: load, Baseline: *baseline, Timeout: *timeout, Placebo: *placebo}
	ll := load
	ll.Duration = *duration
	cfg.Lag = bench.LagOptions{Replicas: *replicas, Keys: *keys, Load: ll, Timeout: *timeout}
	cfg.Restart = bench.RestartOptions{Keys: *keys, ValueSize: *valueSize, Timeout: *timeout}
	el := load
	el.KeySpace, el.Duration, el.Requests = *keys, *duration, *requests
	cfg.Evict = bench.EvictOptions{MaxMemory: *maxMemMB << 20, Policy: *policy, Load: el}
	cfg.ReadScale = bench.ReadScaleOptions{Keys: *keys, ValueSize: *valueSize, Readers: *clients, Pipeline: *pipeline, Writers: *writers, Duration: *duration, Timeout: *timeout}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	var reps []*bench.Report
	var runErr error
	for _, sc := range scenarios {
		cfg.Scenario = sc
		rep, err := bench.Run(ctx, cfg)
		if rep != nil {
			reps = append(reps, rep)
			if werr := rep.WriteTable(stdout); werr != nil {
				return werr
			}
		}
		if err != nil {
			runErr = err
			break
		}
	}
	fmt.Fprintf(stdout, "total time %v\n", time.Since(start).Round(100*time.Millisecond))
	if *jsonFile != "" {
		if err := bench.WriteJSONFile(*jsonFile, reps); err != nil {
			return err
		}
	}
	if *plotDir != "" {
		files, err := bench.WritePlots(*plotDir, reps)
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Fprintln(stdout, "chart", f)
		}
	}
	return runErr
}

// servers picks the servers to measure. compare wants walrus and, when it
// can be found, redis-server; without it the run is walrus alone, with a
// note saying so.
func servers(compare bool, name, walrusPath, redisPath string) ([]bench.Server, []string, error) {
	if !compare {
		switch name {
		case "walrus":
			s, err := bench.Walrus(walrusPath)
			return []bench.Server{s}, nil, err
		case "redis":
			s, err := bench.Redis(redisPath)
			return []bench.Server{s}, nil, err
		}
		return nil, nil, fmt.Errorf("--server %q: want walrus or redis", name)
	}
	w, err := bench.Walrus(walrusPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (build it with: go build -o bin/walrus-server ./cmd/walrus-server, then pass --walrus bin/walrus-server)", err)
	}
	r, err := bench.Redis(redisPath)
	if err != nil {
		return []bench.Server{w}, []string{fmt.Sprintf("no comparison: %v; walrus ran alone", err)}, nil
	}
	return []bench.Server{w, r}, nil, nil
}
