package server

import (
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/walrus-kv/walrus/engine"
)

// MEMORY USAGE|STATS|DOCTOR|PURGE|MALLOC-STATS|HELP, for the tools that
// ask (redis-cli --memkeys, dashboards). walrus keeps its dataset in
// Pebble, so USAGE counts the bytes a key's rows take there.

func memoryRow(row rowFunc) *command {
	c := row("memory", -2, engine.ReadOnly, "server", "A container for memory diagnostics commands", cmdMemory)
	c.FirstKey, c.LastKey, c.Step = 2, 2, 1 // MEMORY USAGE key
	return c
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Print this help.",
}

func cmdMemory(s *Server, cl *client, args [][]byte) {
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "help" && len(args) == 2:
		cl.statusLines(memoryHelp)
	case sub == "usage" && len(args) >= 3:
		memoryUsage(s, cl, args)
	case sub == "stats" && len(args) == 2:
		memoryStats(s, cl)
	case sub == "doctor" && len(args) == 2:
		cl.verbatim("walrus keeps its dataset in Pebble, not in the heap, so there is no memory problem of Redis's kind to report. INFO memory shows the heap, Pebble's memtables and block cache, the row cache, and the process's RSS.")
	case sub == "purge" && len(args) == 2:
		debug.FreeOSMemory()
		cl.ok()
	case sub == "malloc-stats" && len(args) == 2:
		cl.verbatim("Stats not supported for the current allocator")
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + clip(string(args[1])) + "'. Try MEMORY HELP.")
	}
}

// memoryUsage is MEMORY USAGE key [SAMPLES count].
func memoryUsage(s *Server, cl *client, args [][]byte) {
	samples := int64(5)
	for i := 3; i < len(args); i++ {
		if !strings.EqualFold(string(args[i]), "samples") || i+1 == len(args) {
			cl.err("ERR syntax error")
			return
		}
		n, err := strconv.ParseInt(string(args[i+1]), 10, 64)
		if err != nil {
			cl.err("ERR value is not an integer or out of range")
			return
		}
		if n < 0 {
			cl.err("ERR syntax error")
			return
		}
		samples = n
		i++
	}
	n, ok, err := s.eng.KeyUsage(cl.sess, args[2], samples)
	switch {
	case err != nil:
		s.log.Error("storage error", "err", err)
		cl.err("ERR storage error: " + err.Error())
	case !ok:
		cl.null()
	default:
		cl.integer(n)
	}
}

// memoryStats is MEMORY STATS: Redis's fields that mean something here,
// from the same figures as INFO memory. RESP3: a map, whose ratios are
// doubles.
func memoryStats(s *Server, cl *client) {
	f := s.memoryFigures()
	used, dataset, frag := int64(f.used), int64(f.dataset), f.frag
	peak := max(int64(f.peak), used)
	keys := s.eng.KeyCount()
	perKey := int64(0)
	if keys > 0 {
		perKey = used / keys
	}
	pct := func(part, whole int64) float64 {
		if whole == 0 {
			return 0
		}
		return 100 * float64(part) / float64(whole)
	}
	s.mu.Lock()
	normal := len(s.clients)
	s.mu.Unlock()
	replicas := len(s.repl.master.Peers())
	ints := []struct {
		name string
		v    int64
	}{
		{"peak.allocated", peak},
		{"total.allocated", used},
		{"startup.allocated", 0},
		{"replication.backlog", 0},
		{"clients.slaves", int64(replicas)},
		{"clients.normal", int64(normal)},
		{"keys.count", keys},
		{"keys.bytes-per-key", perKey},
		{"dataset.bytes", dataset},
	}
	cl.mapLen(len(ints) + 3)
	for _, f := range ints {
		cl.bulkString(f.name)
		cl.integer(f.v)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"dataset.percentage", pct(dataset, used)},
		{"peak.percentage", pct(used, peak)},
		{"fragmentation", frag},
	} {
		cl.bulkString(f.name)
		if cl.sess.RESP3 {
			cl.double(f.v)
		} else {
			cl.bulkString(strconv.FormatFloat(f.v, 'f', -1, 64))
		}
	}
}
