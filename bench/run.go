package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

// Scenario names.
const (
	ScenarioThroughput = "throughput"
	ScenarioFullSync   = "fullsync"
	ScenarioLag        = "lag"
	ScenarioRestart    = "restart"
	ScenarioReadScale  = "readscale"
	ScenarioEvict      = "evict"
)

// Scenarios lists every scenario.
var Scenarios = []string{ScenarioThroughput, ScenarioFullSync, ScenarioLag, ScenarioRestart, ScenarioReadScale, ScenarioEvict}

// AllScenarios are the scenarios "all" runs, in order: all but evict,
// whose load of 2,000,000 SETs takes walrus about two minutes.
var AllScenarios = []string{ScenarioThroughput, ScenarioFullSync, ScenarioLag, ScenarioRestart, ScenarioReadScale}

// ErrUnknownScenario reports a scenario name that is not in Scenarios.
var ErrUnknownScenario = errors.New("unknown scenario")

// Config is one benchmark: a scenario, the servers to run it against, and
// each scenario's options (only the chosen scenario's are used).
type Config struct {
	// Scenario is one of Scenarios.
	Scenario string
	// Servers are measured one after another with the same parameters; with
	// two servers the report gives the first's figures over the second's.
	Servers []Server
	// Rounds repeats the scenario, alternating the order of the servers each
	// round; the report gives each figure's median. Default 1.
	Rounds int

	Throughput ThroughputOptions
	FullSync   FullSyncOptions
	Lag        LagOptions
	Restart    RestartOptions
	ReadScale  ReadScaleOptions
	Evict      EvictOptions

	// ServerCPUs, above 0, caps every server process at that many CPUs
	// (a cgroup CPU quota each; needs root), as if each ran on a machine
	// of its own of that size. 0: no cap.
	ServerCPUs float64

	// WorkDir holds the servers' data directories, removed at the end.
	// Default: a new directory under os.TempDir().
	WorkDir string
	// Keep leaves the data directories and server logs in place (their
	// path is added to the report's notes). Default false: removed.
	Keep bool
	// Progress receives progress bars; nil shows none.
	Progress io.Writer
	// Logger logs server starts at debug level; nil discards.
	Logger *slog.Logger
	// Notes are added to the report as they are (for example that a server
	// was not found).
	Notes []string
}

// Run runs the scenario against each server for each round and returns the
// report. On error the report holds the runs that completed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if !slices.Contains(Scenarios, cfg.Scenario) {
		return nil, fmt.Errorf("%w %q (want one of %v)", ErrUnknownScenario, cfg.Scenario, Scenarios)
	}
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("run %s: no server to measure", cfg.Scenario)
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	root := cfg.WorkDir
	if root == "" {
		var err error
		if root, err = os.MkdirTemp("", "walrus-bench-"); err != nil {
			return nil, fmt.Errorf("run %s: %w", cfg.Scenario, err)
		}
		if !cfg.Keep {
			defer os.RemoveAll(root)
		}
	}
	rep := &Report{
		Scenario: cfg.Scenario,
		Started:  time.Now().UTC(),
		Params:   append(cfg.params(), Param{"machine", fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())}),
		Notes:    append([]string(nil), cfg.Notes...),
	}
	if cfg.Keep {
		rep.Notes = append(rep.Notes, "data directories and server logs kept in "+root)
	}
	if cfg.Rounds > 1 {
		rep.Params = append(rep.Params, Param{"rounds", fmt.Sprintf("%d, server order alternating, medians shown", cfg.Rounds)})
	}
	for round := 1; round <= cfg.Rounds; round++ {
		order := slices.Clone(cfg.Servers)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, srv := range order {
			if err := ctx.Err(); err != nil {
				rep.summarize()
				return rep, err
			}
			run, err := runOnce(ctx, cfg, srv, round, filepath.Join(root, fmt.Sprintf("%s-%s-%d", cfg.Scenario, srv.Name, round)))
			if err != nil {
				rep.summarize()
				return rep, fmt.Errorf("%s against %s (round %d): %w", cfg.Scenario, srv.Name, round, err)
			}
			rep.Runs = append(rep.Runs, run)
			for _, n := range run.Notes {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s round %d: %s", srv.Name, round, n))
			}
		}
	}
	rep.summarize()
	return rep, nil
}

// runOnce runs the scenario once against one server in its own directory,
// killing every process it started before returning.
func runOnce(ctx context.Context, cfg Config, srv Server, round int, dir string) (ServerRun, error) {
	e := &env{srv: srv, scenario: cfg.Scenario, root: dir, progress: cfg.Progress, log: cfg.Logger, cpus: cfg.ServerCPUs}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	defer e.close()
	var (
		run ServerRun
		err error
	)
	switch cfg.Scenario {
	case ScenarioThroughput:
		run, err = runThroughput(ctx, e, cfg.Throughput)
	case ScenarioFullSync:
		run, err = runFullSync(ctx, e, cfg.FullSync)
	case ScenarioLag:
		run, err = runLag(ctx, e, cfg.Lag)
	case ScenarioRestart:
		run, err = runRestart(ctx, e, cfg.Restart)
	case ScenarioReadScale:
		run, err = runReadScale(ctx, e, cfg.ReadScale)
	case ScenarioEvict:
		run, err = runEvict(ctx, e, cfg.Evict)
	}
	run.Server, run.Binary, run.Round = srv.Name, srv.Binary, round
	for _, role := range []string{RoleNode, RoleMaster, RoleReplica} {
		if t := srv.tuning(cfg.Scenario, role); len(t) > 0 {
			run.Tuning = append(run.Tuning, role+": "+joinArgs(t))
		}
	}
	return run, err
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		if a == "" {
			a = `""`
		}
		s += a
	}
	return s
}

func (cfg Config) params() []Param {
	var ps []Param
	switch cfg.Scenario {
	case ScenarioThroughput:
		ps = cfg.Throughput.params()
	case ScenarioFullSync:
		ps = cfg.FullSync.params()
	case ScenarioLag:
		ps = cfg.Lag.params()
	case ScenarioRestart:
		ps = cfg.Restart.params()
	case ScenarioReadScale:
		ps = cfg.ReadScale.params()
	case ScenarioEvict:
		ps = cfg.Evict.params()
	}
	if cfg.ServerCPUs > 0 {
		ps = append(ps, Param{"server CPUs", fmt.Sprintf("each server process capped at %v CPUs (cgroup quota)", cfg.ServerCPUs)})
	}
	return ps
}
