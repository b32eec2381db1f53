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
	"    Prints this help.",
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
// in Redis's order, from the same figures as INFO memory. Left out, as
// in INFO: the clients' memory (walrus does not count its connections'
// buffers), the AOF buffer, the functions' caches and the per-database
// hash table overheads (there are no hash tables: the keys are in
// Pebble). RESP3: a map, whose ratios are doubles.
func memoryStats(s *Server, cl *client) {
	f := s.memoryFigures()
	used, dataset := f.used, f.dataset
	peak := f.peak
	net := used - min(s.memStartup, used) // what the data and the clients added
	keys := uint64(max(s.eng.KeyCount(), 0))
	perKey := uint64(0)
	if keys > 0 {
		perKey = net / keys
	}
	_, scriptBytes := s.scripts.cached()
	ms := &f.alloc
	allocated, active, resident := ms.HeapAlloc, ms.HeapInuse, ms.HeapSys-ms.HeapReleased
	type field struct {
		name  string
		n     int64
		ratio float64
		isNum bool // an integer; else a ratio (RESP3 double)
	}
	num := func(name string, n int64) field { return field{name: name, n: n, isNum: true} }
	frac := func(name string, a, b uint64) field { return field{name: name, ratio: quotient(a, b)} }
	pct := func(name string, a, b uint64) field { return field{name: name, ratio: 100 * quotient(a, b)} }
	fields := []field{
		num("peak.allocated", int64(peak)),
		num("total.allocated", int64(used)),
		num("startup.allocated", int64(s.memStartup)),
		num("replication.backlog", s.eng.BacklogMemory()),
		num("cluster.links", 0),
		num("lua.caches", scriptBytes),
		num("overhead.total", int64(used-min(dataset, used))),
		num("keys.count", int64(keys)),
		num("keys.bytes-per-key", int64(perKey)),
		num("dataset.bytes", int64(dataset)),
		pct("dataset.percentage", dataset, net),
		pct("peak.percentage", used, peak),
		num("allocator.allocated", int64(allocated)),
		num("allocator.active", int64(active)),
		num("allocator.resident", int64(resident)),
		frac("allocator-fragmentation.ratio", active, allocated),
		num("allocator-fragmentation.bytes", int64(active)-int64(allocated)),
		frac("allocator-rss.ratio", resident, active),
		num("allocator-rss.bytes", int64(resident)-int64(active)),
		frac("rss-overhead.ratio", f.rss, resident),
		num("rss-overhead.bytes", int64(f.rss)-int64(resident)),
		{name: "fragmentation", ratio: f.frag},
		num("fragmentation.bytes", int64(f.rss)-int64(used)),
	}
	cl.mapLen(len(fields))
	for _, f := range fields {
		cl.bulkString(f.name)
		switch {
		case f.isNum:
			cl.integer(f.n)
		case cl.sess.RESP3:
			cl.double(f.ratio)
		default:
			cl.bulkString(strconv.FormatFloat(f.ratio, 'f', -1, 64))
		}
	}
}
