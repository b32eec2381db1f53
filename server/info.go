package server

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"
)

// INFO [section ...]: Redis's sections and field names, so tools that
// parse INFO work.
func cmdInfo(s *Server, cl *client, args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[strings.ToLower(string(a))] = true
	}
	all := want["all"] || want["everything"]
	def := len(want) == 0 || want["default"]
	var b strings.Builder
	for _, sec := range infoSections {
		if !all && !want[sec.name] && (!def || notDefault[sec.name]) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + sec.title + "\r\n")
		for _, kv := range sec.fields(s) {
			b.WriteString(kv[0])
			b.WriteByte(':')
			b.WriteString(kv[1])
			b.WriteString("\r\n")
		}
	}
	cl.verbatim(b.String()) // RESP3: a verbatim string, as Redis replies it
}

type infoSection struct {
	name, title string
	fields      func(s *Server) [][2]string
}

// notDefault are the sections only INFO all, INFO everything or their
// own name show, as in Redis.
var notDefault = map[string]bool{"commandstats": true, "latencystats": true}

var infoSections = []infoSection{
	{"server", "Server", (*Server).infoServer},
	{"clients", "Clients", (*Server).infoClients},
	{"memory", "Memory", (*Server).infoMemory},
	{"persistence", "Persistence", (*Server).infoPersistence},
	{"stats", "Stats", (*Server).infoStats},
	{"replication", "Replication", func(s *Server) [][2]string { return s.repl.info() }},
	{"cpu", "CPU", (*Server).infoCPU},
	{"modules", "Modules", func(*Server) [][2]string { return nil }}, // walrus loads none
	{"commandstats", "Commandstats", (*Server).infoCommandStats},
	{"errorstats", "Errorstats", (*Server).infoErrorStats},
	{"latencystats", "Latencystats", (*Server).infoLatencyStats},
	// walrus has no cluster mode; clients read this to find out.
	{"cluster", "Cluster", func(*Server) [][2]string { return [][2]string{kv("cluster_enabled", 0)} }},
	{"keyspace", "Keyspace", (*Server).infoKeyspace},
}

func kv(k string, v any) [2]string { return [2]string{k, fmt.Sprint(v)} }

func (s *Server) infoServer() [][2]string {
	up := time.Since(s.started)
	exe, _ := os.Executable()
	out := [][2]string{
		kv("redis_version", Version),
		kv("redis_git_sha1", "00000000"),
		kv("redis_git_dirty", 0),
		kv("redis_build_id", "walrus"),
		kv("redis_mode", "standalone"),
		kv("os", runtime.GOOS+" "+runtime.GOARCH),
		kv("arch_bits", 64),
		kv("monotonic_clock", "POSIX clock_gettime"), // Go's monotonic clock: CLOCK_MONOTONIC
		kv("multiplexing_api", "epoll"),
		kv("gcc_version", "0.0.0"), // what Redis reports when not built by GCC
		kv("process_id", os.Getpid()),
		kv("process_supervised", "no"),
		kv("run_id", s.runID),
		kv("tcp_port", s.cfg.Port),
		kv("server_time_usec", time.Now().UnixMicro()),
		kv("uptime_in_seconds", int64(up.Seconds())),
		kv("uptime_in_days", int64(up.Hours()/24)),
		kv("hz", s.cfg.Hz),
		kv("configured_hz", s.cfg.Hz),
		kv("lru_clock", lruClock(time.Now())),
		kv("executable", exe),
		kv("config_file", s.cfg.Path()),
		kv("io_threads_active", 0),
	}
	if ms, ok := s.shutdownRemaining(); ok {
		out = append(out, kv("shutdown_in_milliseconds", ms))
	}
	return append(out, kv("walrus_go_version", runtime.Version()))
}

// lruClock is Redis's LRU clock: seconds, in 24 bits.
func lruClock(now time.Time) int64 { return now.Unix() & (1<<24 - 1) }

func (s *Server) infoClients() [][2]string {
	s.mu.Lock()
	n, blocked := len(s.clients), 0
	for _, cl := range s.clients {
		if cl.blocked.Load() {
			blocked++
		}
	}
	s.mu.Unlock()
	tracking, _, _, _ := s.trackingInfo()
	return [][2]string{
		kv("connected_clients", n),
		kv("cluster_connections", 0),
		kv("maxclients", s.maxClients.Load()),
		kv("client_recent_max_input_buffer", 0),
		kv("client_recent_max_output_buffer", 0),
		kv("blocked_clients", blocked),
		kv("tracking_clients", tracking),
		kv("clients_in_timeout_table", 0),
	}
}

// kbps renders a rate in bytes a second as Redis's KiB a second.
func kbps(bytesPerSec float64) string { return fmt.Sprintf("%.2f", bytesPerSec/1024) }

// quotient is a over b, 0 when b is: INFO's and MEMORY STATS's ratios.
func quotient(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// percent renders part of whole as Redis's "12.34%".
func percent(part, whole uint64) string { return fmt.Sprintf("%.2f%%", 100*quotient(part, whole)) }

// ratio renders a over b as Redis's "1.23".
func ratio(a, b uint64) string { return fmt.Sprintf("%.2f", quotient(a, b)) }

func human(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// memoryFigures are the numbers INFO memory and MEMORY STATS report.
type memoryFigures struct {
	used    uint64 // Go's heap, Pebble's memtables and block cache, the row cache
	peak    uint64 // what the runtime has taken from the OS, or used if more
	rss     uint64
	frag    float64 // rss / used
	pebble  *pebble.Metrics
	dataset uint64           // the memtables
	alloc   runtime.MemStats // Go's allocator, for INFO's allocator_ fields
}

func (s *Server) memoryFigures() memoryFigures {
	var f memoryFigures
	runtime.ReadMemStats(&f.alloc)
	ms := &f.alloc
	pm := s.eng.DB().Metrics()
	f.used = usedMemory(ms.HeapAlloc, pm, s.eng.RowCacheBytes())
	f.peak = max(ms.Sys, f.used) // built with cgo, Pebble keeps its cache and memtables outside Sys
	f.rss = readRSS()
	f.pebble = pm
	f.dataset = pm.MemTable.Size
	if f.used > 0 {
		f.frag = float64(f.rss) / float64(f.used)
	}
	return f
}

func (s *Server) infoMemory() [][2]string {
	f := s.memoryFigures()
	used, rss, frag, pm := f.used, f.rss, f.frag, f.pebble
	scripts, scriptBytes := s.scripts.cached()
	s.cfg.RLock()
	maxmemory, policy := s.cfg.MaxMemory, s.cfg.MaxMemoryPolicy
	s.cfg.RUnlock()
	// Go's heap stands for Redis's allocator: what is allocated, what
	// the spans in use hold, and what of the heap is resident.
	ms := &f.alloc
	allocated, active := ms.HeapAlloc, ms.HeapInuse
	resident := ms.HeapSys - ms.HeapReleased
	overhead := used - min(f.dataset, used)
	backlog := s.eng.BacklogMemory()
	return [][2]string{
		kv("used_memory", used),
		kv("used_memory_human", human(used)),
		kv("used_memory_rss", rss),
		kv("used_memory_rss_human", human(rss)),
		kv("used_memory_peak", f.peak),
		kv("used_memory_peak_human", human(f.peak)),
		kv("used_memory_peak_perc", percent(used, f.peak)),
		kv("used_memory_overhead", overhead),
		kv("used_memory_startup", s.memStartup),
		kv("used_memory_dataset", f.dataset),
		kv("used_memory_dataset_perc", percent(f.dataset, used-min(s.memStartup, used))),
		kv("allocator_allocated", allocated),
		kv("allocator_active", active),
		kv("allocator_resident", resident),
		kv("total_system_memory", totalSystemMemory()),
		kv("total_system_memory_human", human(totalSystemMemory())),
		kv("used_memory_scripts_eval", scriptBytes),
		kv("number_of_cached_scripts", scripts),
		kv("maxmemory", maxmemory),
		kv("maxmemory_human", human(uint64(maxmemory))),
		kv("maxmemory_policy", policy),
		kv("allocator_frag_ratio", ratio(active, allocated)),
		kv("allocator_frag_bytes", int64(active)-int64(allocated)),
		kv("allocator_rss_ratio", ratio(resident, active)),
		kv("allocator_rss_bytes", int64(resident)-int64(active)),
		kv("rss_overhead_ratio", ratio(rss, resident)),
		kv("rss_overhead_bytes", int64(rss)-int64(resident)),
		kv("mem_fragmentation_ratio", fmt.Sprintf("%.2f", frag)),
		kv("mem_fragmentation_bytes", int64(rss)-int64(used)),
		kv("mem_replication_backlog", backlog),
		kv("mem_total_replication_buffers", backlog), // replicas read the backlog itself: no buffers of their own
		kv("mem_cluster_links", 0),                   // no cluster bus
		kv("mem_allocator", "go"),
		kv("active_defrag_running", 0),    // Go's collector compacts nothing; no defrag
		kv("lazyfree_pending_objects", 0), // nothing is freed in the background: UNLINK deletes as DEL does
		kv("lazyfreed_objects", 0),
		kv("walrus_pebble_memtable_bytes", pm.MemTable.Size),
		kv("walrus_pebble_block_cache_bytes", pm.BlockCache.Size),
		kv("walrus_row_cache_bytes", s.eng.RowCacheBytes()),
		kv("walrus_key_filter_bytes", s.eng.KeyFilterBytes()),
		kv("walrus_pebble_disk_bytes", pm.DiskSpaceUsage()),
		kv("walrus_pebble_l0_tables", pm.Levels[0].NumFiles),
	}
}

// totalSystemMemory is the machine's memory from /proc (0 where
// unavailable), as Redis reports it.
func totalSystemMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb uint64
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fmt.Sscan(v, &kb)
		}
	}
	return kb * 1024
}

// readRSS reads the resident set size from /proc (0 where unavailable).
func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss uint64
	fmt.Sscan(string(b), &size, &rss)
	return rss * uint64(os.Getpagesize())
}

func (s *Server) infoPersistence() [][2]string {
	e := s.eng
	w := e.WAL()
	aof := 0
	if s.cfg.AppendOnly {
		aof = 1
	}
	loading := 0
	if s.repl.loading.Load() {
		loading = 1
	}
	rewriteStatus := "ok"
	if s.stats.rewriteFailures.Load() > 0 {
		rewriteStatus = "err"
	}
	// A save is a Pebble checkpoint and a rewrite a truncation of the log:
	// both finish before their reply and neither forks, so nothing is
	// ever in progress and nothing is copied on write.
	return [][2]string{
		kv("loading", loading),
		kv("async_loading", 0),
		kv("current_cow_peak", 0),
		kv("current_cow_size", 0),
		kv("current_cow_size_age", 0),
		kv("current_fork_perc", "0.00"),
		kv("current_save_keys_processed", 0),
		kv("current_save_keys_total", 0),
		kv("rdb_changes_since_last_save", e.Dirty()),
		kv("rdb_bgsave_in_progress", 0),
		kv("rdb_last_save_time", e.LastSave()),
		kv("rdb_last_bgsave_status", "ok"),
		kv("rdb_last_bgsave_time_sec", seconds(s.stats.lastBgsave.Load())),
		kv("rdb_current_bgsave_time_sec", -1),
		kv("rdb_saves", s.stats.saves.Load()),
		kv("rdb_last_cow_size", 0),
		kv("rdb_last_load_keys_expired", s.rdbLoaded.expired.Load()),
		kv("rdb_last_load_keys_loaded", s.rdbLoaded.keys.Load()),
		kv("aof_enabled", aof),
		kv("aof_rewrite_in_progress", 0),
		kv("aof_rewrite_scheduled", 0),
		kv("aof_last_rewrite_time_sec", seconds(s.stats.lastRewrite.Load())),
		kv("aof_current_rewrite_time_sec", -1),
		kv("aof_last_bgrewrite_status", rewriteStatus),
		kv("aof_rewrites", s.stats.rewrites.Load()),
		kv("aof_rewrites_consecutive_failures", s.stats.rewriteFailures.Load()),
		kv("aof_last_write_status", e.WriteStatus()),
		kv("aof_last_cow_size", 0),
		kv("module_fork_in_progress", 0),
		kv("module_fork_last_cow_size", 0),
		kv("walrus_persistent", boolInt(!e.InMemory())),
		kv("walrus_wal_first_index", w.FirstIndex()),
		kv("walrus_wal_last_index", w.LastIndex()),
		kv("walrus_wal_synced_index", w.SyncedIndex()),
		kv("walrus_applied_index", e.AppliedIndex()),
		kv("walrus_flushed_index", e.FlushedIndex()),
	}
}

// seconds renders a duration in ns as Redis's whole seconds; -1 stays -1
// (never happened).
func seconds(ns int64) int64 {
	if ns < 0 {
		return -1
	}
	return ns / int64(time.Second)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) infoStats() [][2]string {
	hits, misses, expired := s.eng.KeyspaceStats()
	_, trackedKeys, trackedItems, trackedPrefixes := s.trackingInfo()
	out := [][2]string{
		kv("total_connections_received", s.stats.connections.Load()),
		kv("total_commands_processed", s.stats.commands.Load()),
		kv("instantaneous_ops_per_sec", int64(s.instantaneous(metricOps))),
		kv("total_net_input_bytes", s.traffic.in.Load()),
		kv("total_net_output_bytes", s.traffic.out.Load()),
		kv("total_net_repl_input_bytes", s.traffic.replIn.Load()),
		kv("total_net_repl_output_bytes", s.traffic.replOut.Load()),
		kv("instantaneous_input_kbps", kbps(s.instantaneous(metricNetIn))),
		kv("instantaneous_output_kbps", kbps(s.instantaneous(metricNetOut))),
		kv("instantaneous_input_repl_kbps", kbps(s.instantaneous(metricReplIn))),
		kv("instantaneous_output_repl_kbps", kbps(s.instantaneous(metricReplOut))),
		kv("rejected_connections", s.stats.rejected.Load()),
	}
	out = append(out, s.repl.stats()...)
	expireSpent, expireCapped := s.eng.ExpireStats()
	exceededTotal, exceededNow := s.mem.exceededTimes(time.Now())
	out = append(out,
		kv("expired_keys", expired),
		kv("expired_time_cap_reached_count", expireCapped),
		kv("expire_cycle_cpu_milliseconds", expireSpent.Milliseconds()),
		kv("evicted_keys", s.eng.EvictedKeys()),
		kv("evicted_clients", 0), // maxmemory-clients is not acted on
		kv("total_eviction_exceeded_time", exceededTotal.Milliseconds()),
		kv("current_eviction_exceeded_time", exceededNow.Milliseconds()),
		kv("keyspace_hits", hits),
		kv("keyspace_misses", misses),
		kv("pubsub_channels", s.pubsubChannels()),
		kv("pubsub_patterns", s.pubsubPatterns()),
		kv("pubsubshard_channels", s.pubsubShardChannels()),
		kv("latest_fork_usec", 0), // walrus never forks
		kv("total_forks", 0),
		kv("migrate_cached_sockets", 0),     // MIGRATE dials for each call
		kv("slave_expires_tracked_keys", 0), // a replica takes no writes
		kv("active_defrag_hits", 0),         // no active defragmentation
		kv("active_defrag_misses", 0),
		kv("active_defrag_key_hits", 0),
		kv("active_defrag_key_misses", 0),
		kv("total_active_defrag_time", 0),
		kv("current_active_defrag_time", 0),
		kv("tracking_total_keys", trackedKeys),
		kv("tracking_total_items", trackedItems),
		kv("tracking_total_prefixes", trackedPrefixes),
		kv("total_error_replies", s.errs.total.Load()),
		kv("total_reads_processed", s.traffic.reads.Load()),
		kv("total_writes_processed", s.traffic.writes.Load()),
		kv("io_threaded_reads_processed", 0), // no I/O threads: io-threads is not acted on
		kv("io_threaded_writes_processed", 0),
	)
	return append(out, s.acl.denials.infoStats()...) // not reset by RESETSTAT, as in Redis
}

func (s *Server) infoCPU() [][2]string {
	var ru, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
	return [][2]string{
		kv("used_cpu_sys", tv(ru.Stime)),
		kv("used_cpu_user", tv(ru.Utime)),
		kv("used_cpu_sys_children", tv(children.Stime)),
		kv("used_cpu_user_children", tv(children.Utime)),
	}
}

func (s *Server) infoKeyspace() [][2]string {
	var out [][2]string
	for db, st := range s.eng.Keyspace() {
		if st.Keys == 0 {
			continue
		}
		out = append(out, kv(fmt.Sprintf("db%d", db), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", st.Keys, st.Expires)))
	}
	return out
}

// CONFIG GET pattern... | SET name value [name value ...] | REWRITE | RESETSTAT | HELP
func cmdConfig(s *Server, cl *client, args [][]byte) {
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "get" && len(args) >= 3:
		var pairs [][2]string
		seen := map[string]bool{}
		for _, p := range args[2:] {
			for _, kv := range s.cfg.Get(string(p)) {
				if !seen[kv[0]] {
					seen[kv[0]] = true
					pairs = append(pairs, kv)
				}
			}
		}
		cl.mapLen(len(pairs))
		for _, kv := range pairs {
			cl.bulkString(kv[0])
			cl.bulkString(kv[1])
		}
	case sub == "set" && len(args) >= 4 && len(args)%2 == 0:
		for i := 2; i < len(args); i += 2 {
			if err := s.cfg.Set(string(args[i]), string(args[i+1])); err != nil {
				cl.err(err.Error())
				return
			}
		}
		cl.ok()
	case sub == "rewrite" && len(args) == 2:
		if err := s.cfg.Rewrite(); err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "ERR ") {
				msg = "ERR Rewriting config file: " + msg
			}
			cl.err(msg)
			return
		}
		cl.ok()
	case sub == "help" && len(args) == 2:
		cl.statusLines([]string{
			"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET <pattern>",
			"    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>",
			"    Set the configuration <directive> to <value>.",
			"RESETSTAT",
			"    Reset statistics reported by the INFO command.",
			"REWRITE",
			"    Rewrite the configuration file.",
			"HELP",
			"    Prints this help.",
		})
	case sub == "resetstat" && len(args) == 2:
		s.stats.commands.Store(0)
		s.stats.connections.Store(0)
		s.stats.rejected.Store(0)
		s.stats.saves.Store(0)
		s.stats.rewrites.Store(0)
		s.mem.resetExceeded(time.Now())
		s.resetCommandStats()
		s.eng.ResetKeyspaceStats()
		s.traffic.reset()
		s.repl.resetStats()
		cl.ok()
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try CONFIG HELP.")
	}
}
