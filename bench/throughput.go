package bench

import (
	"context"
	"fmt"
)

// ThroughputOptions configure the throughput scenario: one node under a
// closed-loop load.
type ThroughputOptions struct {
	// Load is the load; see Load for its defaults.
	Load Load `json:"load"`
	// NoFill skips filling the key space before a workload that reads
	// (GET/HGET then mostly miss). Default false: reads hit.
	NoFill bool `json:"no_fill,omitempty"`
}

func (o ThroughputOptions) params() []Param {
	return loadParams(o.Load.withDefaults())
}

func loadParams(l Load) []Param {
	ps := []Param{
		{"workload", l.Workload.String()},
		{"clients", fmt.Sprint(l.Clients)},
		{"pipeline", fmt.Sprint(l.Pipeline)},
		{"key space", fmt.Sprint(l.KeySpace)},
		{"value", fmt.Sprintf("%d B", l.ValueSize)},
	}
	if l.Requests > 0 {
		ps = append(ps, Param{"requests", fmt.Sprint(l.Requests)})
	}
	if l.Duration > 0 {
		ps = append(ps, Param{"duration", l.Duration.String()})
	}
	return ps
}

// runThroughput starts a node, fills the key space if the workload reads,
// runs the load and reports throughput, latency, and the node's CPU per
// operation, peak RSS and PSS.
func runThroughput(ctx context.Context, e *env, o ThroughputOptions) (ServerRun, error) {
	l := o.Load.withDefaults()
	node, err := e.start("node", RoleNode)
	if err != nil {
		return ServerRun{}, err
	}
	if l.Workload.Reads() && !o.NoFill {
		if err := e.fill(node, l.KeySpace, l.ValueSize); err != nil {
			return ServerRun{}, err
		}
	}
	bar, progress := e.loadBar("throughput "+l.Workload.String(), l)
	var res LoadResult
	u, err := measure(node, func() (err error) {
		res, err = RunLoad(ctx, node.Addr, l, progress)
		return err
	})
	bar.Finish()
	if err != nil {
		return ServerRun{}, err
	}
	lat := Summarize(res.Hist)
	figs := []Figure{{Name: "ops/s", Unit: "ops/s", Value: res.OpsPerSec(), Better: Higher}}
	figs = append(figs, latencyFigures("", lat)...)
	figs = append(figs, Figure{Name: "error replies", Unit: "count", Value: float64(res.Errors), Better: Lower})
	figs = append(figs, usageFigures("server", u, res.Ops)...)
	run := ServerRun{
		Figures: figs,
		Series: []Series{{
			Chart: "throughput-latency-cdf", Kind: KindCDF, Name: "latency",
			XLabel: "percentile", YLabel: "latency (µs)", Points: CDF(res.Hist),
		}},
	}
	if res.Errors > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("%d error replies, the first: %s", res.Errors, res.FirstError))
	}
	return run, nil
}
