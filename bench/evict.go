package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// EvictOptions configure the evict scenario: one node with its dataset in
// memory (no snapshots, no append-only file) under maxmemory and an
// evicting policy, and a load of SETs of new keys that keeps it at the
// limit: a cache at work.
type EvictOptions struct {
	// MaxMemory is the node's maxmemory in bytes. Default 256 MiB.
	MaxMemory int64 `json:"maxmemory"`
	// Policy is the node's maxmemory-policy. Default allkeys-lru.
	Policy string `json:"policy"`
	// Load is the load. Defaults: set, 20 clients, pipeline 16, a key space
	// of 100,000,000 (nearly every SET a new key), 100-byte values,
	// 2,000,000 requests.
	Load Load `json:"load"`
}

func (o EvictOptions) withDefaults() EvictOptions {
	if o.MaxMemory <= 0 {
		o.MaxMemory = 256 << 20
	}
	if o.Policy == "" {
		o.Policy = "allkeys-lru"
	}
	o.Load = o.Load.withSetDefaults(20, 16, 100_000_000)
	if o.Load.Duration <= 0 && o.Load.Requests <= 0 {
		o.Load.Requests = 2_000_000
	}
	o.Load = o.Load.withDefaults()
	return o
}

func (o EvictOptions) params() []Param {
	o = o.withDefaults()
	return append([]Param{
		{"maxmemory", fmt.Sprintf("%d MiB, policy %s, persistence off", o.MaxMemory>>20, o.Policy)},
	}, loadParams(o.Load)...)
}

// memoryPollPeriod is how often the evict scenario reads used_memory.
const memoryPollPeriod = 100 * time.Millisecond

// runEvict starts a node in memory under maxmemory, runs the load, and
// reports its throughput, its error replies (OOM refusals), the keys it
// evicted and held at the end, the highest used_memory it reported, and
// its CPU per operation, peak RSS and PSS.
func runEvict(ctx context.Context, e *env, o EvictOptions) (ServerRun, error) {
	o = o.withDefaults()
	node, err := e.start("node", RoleNode, "--appendonly", "no",
		"--maxmemory", strconv.FormatInt(o.MaxMemory, 10), "--maxmemory-policy", o.Policy)
	if err != nil {
		return ServerRun{}, err
	}
	poll, err := Dial(node.Addr, controlTimeout)
	if err != nil {
		return ServerRun{}, err
	}
	defer poll.Close()

	// The poller is owned here: stopped and waited for before the
	// figures are read.
	var (
		highest int64
		pollErr error
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(memoryPollPeriod)
		defer t.Stop()
		for stopped := false; !stopped; {
			select {
			case <-stop:
				stopped = true // a last reading, of the load's end
			case <-t.C:
			}
			info, err := poll.Info("memory")
			if err != nil {
				pollErr = err
				return
			}
			if used, err := strconv.ParseInt(info["used_memory"], 10, 64); err == nil {
				highest = max(highest, used)
			}
		}
	}()
	bar, progress := e.loadBar("evict "+o.Policy, o.Load)
	var res LoadResult
	u, err := measure(node, func() (err error) {
		res, err = RunLoad(ctx, node.Addr, o.Load, progress)
		return err
	})
	bar.Finish()
	close(stop)
	wg.Wait()
	if err == nil {
		err = pollErr
	}
	if err != nil {
		return ServerRun{}, err
	}
	stats, err := poll.Info("stats")
	if err != nil {
		return ServerRun{}, err
	}
	evicted, err := strconv.ParseInt(stats["evicted_keys"], 10, 64)
	if err != nil {
		return ServerRun{}, fmt.Errorf("INFO evicted_keys %q: %w", stats["evicted_keys"], err)
	}
	keys, err := poll.DBSize()
	if err != nil {
		return ServerRun{}, err
	}

	figs := []Figure{{Name: "ops/s", Unit: "ops/s", Value: res.OpsPerSec(), Better: Higher}}
	figs = append(figs, latencyFigures("", Summarize(res.Hist))...)
	figs = append(figs,
		Figure{Name: "error replies", Unit: "count", Value: float64(res.Errors), Better: Lower},
		Figure{Name: "evicted keys", Unit: "count", Value: float64(evicted)},
		Figure{Name: "keys at end", Unit: "count", Value: float64(keys), Better: Higher},
		Figure{Name: "used_memory highest", Unit: "MiB", Value: mib(highest), Better: Lower},
	)
	figs = append(figs, usageFigures("server", u, res.Ops)...)
	run := ServerRun{Figures: figs}
	if res.Errors > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("%d error replies, the first: %s", res.Errors, res.FirstError))
	}
	return run, nil
}
