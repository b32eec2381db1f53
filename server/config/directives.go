package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// flag describes how a directive may be used.
type flag uint8

const (
	// mutable directives may be changed by CONFIG SET.
	mutable flag = 1 << iota
	// multi directives take several arguments; like Redis 7, a single
	// non-empty argument is split again, so `--save "60 1"` and
	// `CONFIG SET save "60 1 300 10"` work.
	multi
	// fileOnly directives are read from the file and the command line only:
	// CONFIG GET and SET do not know them, CONFIG REWRITE leaves their lines
	// as they are (except user lines, which it writes from the current ACL
	// users, as Redis does).
	fileOnly
	// hidden directives (Redis's debugging ones) answer CONFIG GET only
	// when named: a pattern such as * does not list them, as in Redis.
	hidden
)

// directive is one row of the table every other part of the package works
// from: parsing, defaults, CONFIG GET/SET and CONFIG REWRITE.
type directive struct {
	name    string   // canonical name, lower case
	aliases []string // older names (slaveof, slave-read-only, ...)
	def     string   // default value, in config-file syntax
	flags   flag
	v       value
	// check, when set, runs once a load is complete and refuses a value
	// walrus cannot run with; the error names the line that set it.
	check func(*Config) error
}

func (d *directive) defaultArgs() []string {
	if d.def == "" && d.flags&fileOnly != 0 {
		return nil // a list that is empty by default (rename-command, user)
	}
	if d.flags&multi == 0 {
		return []string{d.def}
	}
	args, err := SplitArgs(d.def)
	if err != nil {
		panic("config: default of " + d.name + ": " + err.Error())
	}
	return args
}

const (
	intMax  = math.MaxInt32
	longMax = math.MaxInt64
	mb      = 1024 * 1024
)

// Refusals of directives walrus knows but cannot honour.
var (
	// ErrDaemonize refuses `daemonize yes`.
	ErrDaemonize = errors.New("walrus does not fork: set 'daemonize no' and run it in the foreground (systemd, a container or another supervisor)")
	// ErrUnsupported is wrapped by the refusal of other features walrus
	// lacks (unix sockets, cluster mode).
	ErrUnsupported = errors.New("not supported by walrus")
	// ErrUsersAndACLFile refuses `user` lines together with aclfile, in
	// Redis's words.
	ErrUsersAndACLFile = errors.New("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.")
)

// directives is the table: one row per directive, in the order CONFIG
// REWRITE appends them. Rows with a nil field accessor are accepted for
// compatibility with redis.conf files and kept for CONFIG GET only.
var directives = []*directive{
	// Network.
	{name: "bind", def: "127.0.0.1", flags: multi, v: wordsField(func(c *Config) *[]string { return &c.Bind }, 1, 16, nonEmpty)},
	{name: "port", def: "6379", v: intField(func(c *Config) *int { return &c.Port }, 0, 65535)},
	{name: "unixsocket", def: "", v: unsupportedField(fmt.Errorf("%w: unix sockets (listen with bind and port)", ErrUnsupported))},
	{name: "unixsocketperm", def: "0", v: stringField(nil)},
	{name: "protected-mode", def: "yes", flags: mutable, v: boolField(func(c *Config) *bool { return &c.ProtectedMode })},
	{name: "tcp-backlog", def: "511", v: intField(nil, 0, intMax)},
	{name: "tcp-keepalive", def: "300", flags: mutable, v: secondsField(func(c *Config) *time.Duration { return &c.TCPKeepAlive }, 0, intMax)},
	{name: "timeout", def: "0", flags: mutable, v: secondsField(func(c *Config) *time.Duration { return &c.Timeout }, 0, intMax)},
	{name: "maxclients", def: "10000", flags: mutable, v: intField(func(c *Config) *int { return &c.MaxClients }, 1, math.MaxUint32)},
	{name: "proto-max-bulk-len", def: "512mb", flags: mutable, v: memoryField(func(c *Config) *int64 { return &c.ProtoMaxBulkLen }, mb, longMax)},
	{name: "client-query-buffer-limit", def: "1gb", flags: mutable, v: memoryField(func(c *Config) *int64 { return &c.ClientQueryBufferLimit }, mb, longMax)},
	{name: "client-output-buffer-limit", def: defaultOutputLimits, flags: mutable | multi, v: outputLimitsField(func(c *Config) *OutputBufferLimits { return &c.OutputBufferLimits })},
	{name: "socket-mark-id", def: "0", flags: mutable, v: intField(nil, 0, math.MaxUint32)},
	{name: "bind-source-addr", def: "", flags: mutable, v: stringField(nil)},

	// TLS.
	{name: "tls-port", def: "0", v: intField(func(c *Config) *int { return &c.TLSPort }, 0, 65535)},
	{name: "tls-cert-file", def: "", v: stringField(func(c *Config) *string { return &c.TLSCertFile })},
	{name: "tls-key-file", def: "", v: stringField(func(c *Config) *string { return &c.TLSKeyFile })},
	{name: "tls-ca-cert-file", def: "", v: stringField(func(c *Config) *string { return &c.TLSCACertFile })},
	{name: "tls-replication", def: "no", v: boolField(func(c *Config) *bool { return &c.TLSReplication })},
	{name: "tls-auth-clients", def: "yes", flags: mutable, v: enumField(func(c *Config) *string { return &c.TLSAuthClients }, "no", "yes", "optional")},
	{name: "tls-ca-cert-dir", def: "", v: stringField(nil)},
	{name: "tls-client-cert-file", def: "", v: stringField(nil)},
	{name: "tls-client-key-file", def: "", v: stringField(nil)},
	{name: "tls-key-file-pass", def: "", v: stringField(nil)},
	{name: "tls-client-key-file-pass", def: "", v: stringField(nil)},
	{name: "tls-dh-params-file", def: "", v: stringField(nil)},
	{name: "tls-protocols", def: "", v: stringField(nil)},
	{name: "tls-ciphers", def: "", v: stringField(nil)},
	{name: "tls-ciphersuites", def: "", v: stringField(nil)},
	{name: "tls-prefer-server-ciphers", def: "no", v: boolField(nil)},
	{name: "tls-session-caching", def: "yes", v: boolField(nil)},
	{name: "tls-session-cache-size", def: "20480", v: intField(nil, 0, intMax)},
	{name: "tls-session-cache-timeout", def: "300", v: intField(nil, 0, intMax)},
	{name: "tls-cluster", def: "no", v: boolField(nil)},

	// Process.
	{name: "daemonize", def: "no", v: boolField(func(c *Config) *bool { return &c.Daemonize }), check: func(c *Config) error {
		if c.Daemonize {
			return ErrDaemonize
		}
		return nil
	}},
	{name: "supervised", def: "no", v: enumField(nil, "upstart", "systemd", "auto", "no")},
	{name: "pidfile", def: "", v: stringField(func(c *Config) *string { return &c.PidFile })},
	{name: "loglevel", def: "notice", flags: mutable, v: enumField(func(c *Config) *string { return &c.LogLevel }, "debug", "verbose", "notice", "warning")},
	{name: "logfile", def: "", v: stringField(func(c *Config) *string { return &c.LogFile })},
	{name: "syslog-enabled", def: "no", v: boolField(nil)},
	{name: "syslog-ident", def: "redis", v: stringField(nil)},
	{name: "syslog-facility", def: "local0", v: enumField(nil, "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")},
	{name: "crash-log-enabled", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "crash-memcheck-enabled", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "databases", def: "16", v: intField(func(c *Config) *int { return &c.Databases }, 1, intMax)},
	{name: "always-show-logo", def: "no", v: boolField(nil)},
	{name: "set-proc-title", def: "yes", v: boolField(nil)},
	{name: "proc-title-template", def: "{title} {listen-addr} {server-mode}", flags: mutable, v: stringField(nil)},
	{name: "hz", def: "10", flags: mutable, v: intField(func(c *Config) *int { return &c.Hz }, 0, intMax, clampHz)},
	{name: "dynamic-hz", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "io-threads", def: "1", v: intField(nil, 1, 128)},
	{name: "io-threads-do-reads", def: "no", v: boolField(nil)},
	{name: "enable-debug-command", def: "yes", v: enumField(func(c *Config) *string { return &c.EnableDebugCommand }, "no", "yes", "local")},
	{name: "enable-protected-configs", def: "no", v: enumField(nil, "no", "yes", "local")},
	{name: "enable-module-command", def: "no", v: enumField(nil, "no", "yes", "local")},
	{name: "oom-score-adj", def: "no", flags: mutable, v: enumField(nil, "no", "yes", "relative", "absolute")},
	{name: "oom-score-adj-values", def: "0 200 800", flags: mutable | multi, v: wordsField(nil, 3, 3, intArg(-2000, 2000))},
	{name: "disable-thp", def: "yes", v: boolField(nil)},
	{name: "jemalloc-bg-thread", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "shutdown-timeout", def: "10", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "shutdown-on-sigint", def: "default", flags: mutable | multi, v: shutdownFlagsField()},
	{name: "shutdown-on-sigterm", def: "default", flags: mutable | multi, v: shutdownFlagsField()},
	{name: "cluster-enabled", def: "no", v: boolField(nil), check: func(c *Config) error {
		if v, _ := c.extra["cluster-enabled"].(*bool); v != nil && *v {
			return fmt.Errorf("%w: cluster mode", ErrUnsupported)
		}
		return nil
	}},

	{name: "server_cpulist", def: "", v: stringField(nil)},
	{name: "bio_cpulist", def: "", v: stringField(nil)},
	{name: "aof_rewrite_cpulist", def: "", v: stringField(nil)},
	{name: "bgsave_cpulist", def: "", v: stringField(nil)},

	// Cluster: walrus has no cluster mode. The tuning directives are accepted
	// so that a redis.conf carrying them loads while cluster-enabled is no.
	{name: "cluster-config-file", def: "nodes.conf", v: stringField(nil)},
	{name: "cluster-port", def: "0", v: intField(nil, 0, 65535)},
	{name: "cluster-node-timeout", def: "15000", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "cluster-replica-validity-factor", aliases: []string{"cluster-slave-validity-factor"}, def: "10", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "cluster-migration-barrier", def: "1", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "cluster-allow-replica-migration", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "cluster-require-full-coverage", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "cluster-replica-no-failover", aliases: []string{"cluster-slave-no-failover"}, def: "no", flags: mutable, v: boolField(nil)},
	{name: "cluster-allow-reads-when-down", def: "no", flags: mutable, v: boolField(nil)},
	{name: "cluster-allow-pubsubshard-when-down", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "cluster-link-sendbuf-limit", def: "0", flags: mutable, v: memoryField(nil, 0, longMax)},
	{name: "cluster-announce-hostname", def: "", flags: mutable, v: stringField(nil)},
	{name: "cluster-preferred-endpoint-type", def: "ip", flags: mutable, v: enumField(nil, "ip", "hostname", "unknown-endpoint")},
	{name: "cluster-announce-ip", def: "", flags: mutable, v: stringField(nil)},
	{name: "cluster-announce-port", def: "0", flags: mutable, v: intField(nil, 0, 65535)},
	{name: "cluster-announce-tls-port", def: "0", flags: mutable, v: intField(nil, 0, 65535)},
	{name: "cluster-announce-bus-port", def: "0", flags: mutable, v: intField(nil, 0, 65535)},

	// Persistence.
	{name: "dir", def: "./data", v: stringField(func(c *Config) *string { return &c.Dir })},
	{name: "save", def: "3600 1 300 100 60 10000", flags: mutable | multi, v: saveField(func(c *Config) *[]SaveRule { return &c.Save })},
	{name: "appendonly", def: "no", flags: mutable, v: boolField(func(c *Config) *bool { return &c.AppendOnly })},
	{name: "appendfsync", def: "everysec", flags: mutable, v: enumField(func(c *Config) *string { return &c.AppendFsync }, "everysec", "always", "no")},
	{name: "appendfilename", def: "appendonly.aof", v: stringField(nil)},
	{name: "appenddirname", def: "appendonlydir", v: stringField(nil)},
	{name: "dbfilename", def: "dump.rdb", v: stringField(func(c *Config) *string { return &c.DBFilename })},
	{name: "stop-writes-on-bgsave-error", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "rdbcompression", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "rdbchecksum", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "rdb-del-sync-files", def: "no", flags: mutable, v: boolField(nil)},
	{name: "rdb-save-incremental-fsync", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "rdb-key-save-delay", def: "0", flags: mutable | hidden, v: intField(nil, math.MinInt32, intMax)},
	{name: "key-load-delay", def: "0", flags: mutable | hidden, v: intField(nil, math.MinInt32, intMax)},
	{name: "no-appendfsync-on-rewrite", def: "no", flags: mutable, v: boolField(nil)},
	{name: "auto-aof-rewrite-percentage", def: "100", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "auto-aof-rewrite-min-size", def: "64mb", flags: mutable, v: memoryField(nil, 0, longMax)},
	{name: "aof-load-truncated", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "aof-use-rdb-preamble", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "aof-timestamp-enabled", def: "no", flags: mutable, v: boolField(nil)},
	{name: "aof-disable-auto-gc", def: "no", flags: mutable, v: boolField(nil)},
	{name: "aof-rewrite-incremental-fsync", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "sanitize-dump-payload", def: "no", flags: mutable, v: enumField(nil, "no", "yes", "clients")},

	// Security.
	{name: "requirepass", def: "", flags: mutable, v: stringField(func(c *Config) *string { return &c.RequirePass })},
	{name: "rename-command", def: "", flags: multi | fileOnly, v: renamesField(func(c *Config) *[]CommandRename { return &c.RenameCommands })},
	{name: "user", def: "", flags: fileOnly, v: usersField(func(c *Config) *[]UserDirective { return &c.Users })},
	{name: "aclfile", def: "", v: stringField(func(c *Config) *string { return &c.ACLFile }), check: func(c *Config) error {
		if c.ACLFile != "" && len(c.Users) > 0 {
			return ErrUsersAndACLFile
		}
		return nil
	}},
	{name: "acllog-max-len", def: "128", flags: mutable, v: intField(func(c *Config) *int { return &c.ACLLogMaxLen }, 0, longMax)},
	{name: "acl-pubsub-default", def: "resetchannels", flags: mutable, v: enumField(nil, "allchannels", "resetchannels")},

	// Replication.
	{name: "replicaof", aliases: []string{"slaveof"}, def: "no one", flags: multi, v: replicaOfValue{}},
	{name: "masterauth", def: "", flags: mutable, v: stringField(func(c *Config) *string { return &c.MasterAuth })},
	{name: "masteruser", def: "", flags: mutable, v: stringField(func(c *Config) *string { return &c.MasterUser })},
	{name: "replica-read-only", aliases: []string{"slave-read-only"}, def: "yes", flags: mutable, v: boolField(func(c *Config) *bool { return &c.ReplicaReadOnly })},
	{name: "replica-serve-stale-data", aliases: []string{"slave-serve-stale-data"}, def: "yes", flags: mutable, v: boolField(func(c *Config) *bool { return &c.ReplicaServeStaleData })},
	{name: "replica-priority", aliases: []string{"slave-priority"}, def: "100", flags: mutable, v: intField(func(c *Config) *int { return &c.ReplicaPriority }, 0, intMax)},
	{name: "replica-announce-ip", aliases: []string{"slave-announce-ip"}, def: "", flags: mutable, v: stringField(func(c *Config) *string { return &c.ReplicaAnnounceIP })},
	{name: "replica-announce-port", aliases: []string{"slave-announce-port"}, def: "0", flags: mutable, v: intField(func(c *Config) *int { return &c.ReplicaAnnouncePort }, 0, 65535)},
	{name: "replica-announced", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "min-replicas-to-write", aliases: []string{"min-slaves-to-write"}, def: "0", flags: mutable, v: intField(func(c *Config) *int { return &c.MinReplicasToWrite }, 0, intMax)},
	{name: "min-replicas-max-lag", aliases: []string{"min-slaves-max-lag"}, def: "10", flags: mutable, v: secondsField(func(c *Config) *time.Duration { return &c.MinReplicasMaxLag }, 0, intMax)},
	{name: "repl-backlog-size", def: "1mb", flags: mutable, v: memoryField(func(c *Config) *int64 { return &c.ReplBacklogSize }, 1, longMax)},
	// walrus: the checkpoint a full sync streams is paced to this many bytes a second.
	{name: "repl-checkpoint-max-rate", def: "64mb", flags: mutable, v: memoryField(func(c *Config) *int64 { return &c.ReplCheckpointMaxRate }, 0, longMax)},
	{name: "repl-backlog-ttl", def: "3600", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "repl-timeout", def: "60", flags: mutable, v: secondsField(func(c *Config) *time.Duration { return &c.ReplTimeout }, 1, intMax)},
	{name: "repl-ping-replica-period", aliases: []string{"repl-ping-slave-period"}, def: "10", flags: mutable, v: secondsField(func(c *Config) *time.Duration { return &c.ReplPingReplicaPeriod }, 1, intMax)},
	{name: "repl-diskless-sync", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "repl-diskless-sync-delay", def: "5", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "repl-diskless-sync-max-replicas", def: "0", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "repl-diskless-load", def: "disabled", flags: mutable, v: enumField(nil, "disabled", "on-empty-db", "swapdb")},
	{name: "repl-disable-tcp-nodelay", def: "no", flags: mutable, v: boolField(nil)},
	{name: "replica-lazy-flush", aliases: []string{"slave-lazy-flush"}, def: "no", flags: mutable, v: boolField(nil)},
	{name: "replica-ignore-maxmemory", aliases: []string{"slave-ignore-maxmemory"}, def: "yes", flags: mutable, v: boolField(nil)},
	{name: "replica-ignore-disk-write-errors", def: "no", flags: mutable, v: boolField(nil)},
	{name: "propagation-error-behavior", def: "ignore", flags: mutable, v: enumField(nil, "ignore", "panic", "panic-on-replicas")},

	// Memory, eviction and data-structure tuning: maxmemory and its policy
	// (with persistence off), maxmemory-samples and the LFU settings are
	// acted on (server/maxmemory.go); the rest are accepted.
	{name: "maxmemory", def: "0", flags: mutable, v: memoryField(func(c *Config) *int64 { return &c.MaxMemory }, 0, longMax)},
	{name: "maxmemory-policy", def: "noeviction", flags: mutable, v: enumField(func(c *Config) *string { return &c.MaxMemoryPolicy }, "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")},
	{name: "maxmemory-samples", def: "5", flags: mutable, v: intField(func(c *Config) *int { return &c.MaxMemorySamples }, 1, 64)},
	{name: "maxmemory-eviction-tenacity", def: "10", flags: mutable, v: intField(nil, 0, 100)},
	{name: "maxmemory-clients", def: "0", flags: mutable, v: stringField(nil)},
	{name: "lazyfree-lazy-eviction", def: "no", flags: mutable, v: boolField(nil)},
	{name: "lazyfree-lazy-expire", def: "no", flags: mutable, v: boolField(nil)},
	{name: "lazyfree-lazy-server-del", def: "no", flags: mutable, v: boolField(nil)},
	{name: "lazyfree-lazy-user-del", def: "no", flags: mutable, v: boolField(nil)},
	{name: "lazyfree-lazy-user-flush", def: "no", flags: mutable, v: boolField(nil)},
	{name: "active-expire-effort", def: "1", flags: mutable, v: intField(nil, 1, 10)},
	{name: "activerehashing", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "activedefrag", def: "no", flags: mutable, v: boolField(nil)},
	{name: "active-defrag-ignore-bytes", def: "100mb", flags: mutable, v: memoryField(nil, 1, longMax)},
	{name: "active-defrag-threshold-lower", def: "10", flags: mutable, v: intField(nil, 0, 1000)},
	{name: "active-defrag-threshold-upper", def: "100", flags: mutable, v: intField(nil, 0, 1000)},
	{name: "active-defrag-cycle-min", def: "1", flags: mutable, v: intField(nil, 1, 99)},
	{name: "active-defrag-cycle-max", def: "25", flags: mutable, v: intField(nil, 1, 99)},
	{name: "active-defrag-max-scan-fields", def: "1000", flags: mutable, v: intField(nil, 1, longMax)},
	{name: "lfu-log-factor", def: "10", flags: mutable, v: intField(func(c *Config) *int { return &c.LFULogFactor }, 0, intMax)},
	{name: "lfu-decay-time", def: "1", flags: mutable, v: intField(func(c *Config) *int { return &c.LFUDecayTime }, 0, intMax)},
	{name: "hash-max-listpack-entries", aliases: []string{"hash-max-ziplist-entries"}, def: "512", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "hash-max-listpack-value", aliases: []string{"hash-max-ziplist-value"}, def: "64", flags: mutable, v: memoryField(nil, 0, longMax)},
	{name: "list-max-listpack-size", aliases: []string{"list-max-ziplist-size"}, def: "-2", flags: mutable, v: intField(nil, math.MinInt32, intMax)},
	{name: "list-compress-depth", def: "0", flags: mutable, v: intField(nil, 0, intMax)},
	{name: "set-max-intset-entries", def: "512", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "zset-max-listpack-entries", aliases: []string{"zset-max-ziplist-entries"}, def: "128", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "zset-max-listpack-value", aliases: []string{"zset-max-ziplist-value"}, def: "64", flags: mutable, v: memoryField(nil, 0, longMax)},
	{name: "hll-sparse-max-bytes", def: "3000", flags: mutable, v: memoryField(nil, 0, longMax)},
	{name: "stream-node-max-bytes", def: "4096", flags: mutable, v: memoryField(nil, 0, longMax)},
	{name: "stream-node-max-entries", def: "100", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "tracking-table-max-keys", def: "1000000", flags: mutable, v: intField(func(c *Config) *int { return &c.TrackingTableMaxKeys }, 0, longMax)},

	// Monitoring and scripting (accepted, not acted on).
	{name: "busy-reply-threshold", aliases: []string{"lua-time-limit"}, def: "5000", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "slowlog-log-slower-than", def: "10000", flags: mutable, v: intField(nil, -1, longMax)},
	{name: "slowlog-max-len", def: "128", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "latency-monitor-threshold", def: "0", flags: mutable, v: intField(nil, 0, longMax)},
	{name: "latency-tracking", def: "yes", flags: mutable, v: boolField(nil)},
	{name: "latency-tracking-info-percentiles", def: "50 99 99.9", flags: mutable | multi, v: wordsField(nil, 0, 64, percentile)},
	{name: "notify-keyspace-events", def: "", flags: mutable, v: keyspaceEventsField(func(c *Config) *string { return &c.NotifyKeyspaceEvents })},
	{name: "ignore-warnings", def: "", flags: mutable, v: stringField(nil)},
}

// byName maps every canonical name and alias to its row.
var byName = func() map[string]*directive {
	m := make(map[string]*directive, 2*len(directives))
	for _, d := range directives {
		for _, n := range append([]string{d.name}, d.aliases...) {
			if _, dup := m[n]; dup {
				panic("config: directive " + n + " declared twice")
			}
			m[n] = d
		}
	}
	return m
}()

// lookup finds a directive by name or alias, ignoring case; nil if unknown.
func lookup(name string) *directive {
	if d, ok := byName[name]; ok {
		return d
	}
	return byName[strings.ToLower(name)]
}

func clampHz(v int) int { return min(max(v, 1), 500) }

func nonEmpty(s string) error {
	if s == "" {
		return errWrongArgs
	}
	return nil
}

func intArg(lo, hi int64) func(string) error {
	return func(s string) error {
		_, err := parseInt(s, lo, hi)
		return err
	}
}

func oneOf(values ...string) func(string) error {
	err := errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
	return func(s string) error {
		for _, v := range values {
			if strings.EqualFold(s, v) {
				return nil
			}
		}
		return err
	}
}

func percentile(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 100 {
		return errors.New("latency-tracking-info-percentiles should be greater than 0 and lower than 100")
	}
	return nil
}
