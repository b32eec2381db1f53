package config

import (
	"strings"
	"sync"
	"time"
)

// Config is walrus's configuration: one typed field per directive it acts
// on. Directives it only accepts for compatibility (rdbcompression,
// maxmemory-eviction-tenacity, ...) are kept privately and reachable
// through Get.
//
// Guard: Load, Parse and Default fill a Config before anyone else sees it.
// Afterwards the fields change only in Set and SetReplicaOf, under mu held
// for writing. Fields of immutable directives (Port, Bind, Dir, Databases,
// ...; see Mutable) never change after Load and may be read directly. A
// goroutine that reads a mutable field while Set may run brackets the read
// with RLock/RUnlock, or keeps its own copy current from an OnChange hook
// (the cheap choice for per-command checks such as RequirePass). Slices
// in a Config are never modified in place once published: Set replaces
// them, so a slice read under RLock stays valid after RUnlock.
type Config struct {
	// Network.

	Bind                   []string           // bind: addresses to listen on; default 127.0.0.1
	Port                   int                // port: TCP port; default 6379; 0 = no TCP listener
	ProtectedMode          bool               // protected-mode: refuse non-loopback clients without a password; default yes
	TCPKeepAlive           time.Duration      // tcp-keepalive: default 300s; 0 = off
	Timeout                time.Duration      // timeout: close clients idle this long; default 0 = never
	MaxClients             int                // maxclients: default 10000
	TrackingTableMaxKeys   int                // tracking-table-max-keys: 0 for no limit
	MaxMemory              int64              // maxmemory: bytes; 0 = no limit (acted on with persistence off)
	MaxMemoryPolicy        string             // maxmemory-policy: default noeviction
	MaxMemorySamples       int                // maxmemory-samples: keys sampled per database per eviction; default 5
	LFULogFactor           int                // lfu-log-factor: default 10
	LFUDecayTime           int                // lfu-decay-time, in minutes: default 1
	ProtoMaxBulkLen        int64              // proto-max-bulk-len: largest bulk string in bytes; default 512mb
	ClientQueryBufferLimit int64              // client-query-buffer-limit: default 1gb
	OutputBufferLimits     OutputBufferLimits // client-output-buffer-limit

	// TLS (walrus keeps the settings; the server decides what it supports).

	TLSPort        int    // tls-port: default 0 = off
	TLSCertFile    string // tls-cert-file
	TLSKeyFile     string // tls-key-file
	TLSCACertFile  string // tls-ca-cert-file
	TLSReplication bool   // tls-replication: default no
	TLSAuthClients string // tls-auth-clients: "yes" (default), "no" or "optional"

	// Process.

	Daemonize          bool   // daemonize: only "no" loads; walrus never forks
	PidFile            string // pidfile: default "" = none
	LogFile            string // logfile: default "" = standard error
	LogLevel           string // loglevel: "debug", "verbose", "notice" (default) or "warning"
	Databases          int    // databases: default 16
	Hz                 int    // hz: background task frequency, clamped to 1..500; default 10
	EnableDebugCommand string // enable-debug-command: "yes" (walrus's default), "no" or "local"

	// Persistence.

	Dir        string     // dir: data directory; default "./data" (Redis's is ".")
	Save       []SaveRule // save: default 3600 1, 300 100, 60 10000; empty = no snapshots
	DBFilename string     // dbfilename: a Redis RDB file loaded into an empty dataset at start

	NotifyKeyspaceEvents string // notify-keyspace-events, canonical letters
	AppendOnly           bool   // appendonly: default no
	AppendFsync          string // appendfsync: "always", "everysec" (default) or "no"

	// Security.

	RequirePass    string          // requirepass: default "" = no password
	RenameCommands []CommandRename // rename-command lines, in file order
	ACLFile        string          // aclfile: the users file (ACL LOAD/SAVE); "" = none
	Users          []UserDirective // user lines, in file order; never with ACLFile
	ACLLogMaxLen   int             // acllog-max-len: most entries ACL LOG keeps; default 128

	// Replication.

	MasterHost            string        // replicaof host; "" = this server is a master
	MasterPort            int           // replicaof port
	MasterAuth            string        // masterauth
	MasterUser            string        // masteruser
	ReplicaReadOnly       bool          // replica-read-only: default yes
	ReplicaServeStaleData bool          // replica-serve-stale-data: default yes
	ReplicaPriority       int           // replica-priority: default 100
	ReplicaAnnounceIP     string        // replica-announce-ip
	ReplicaAnnouncePort   int           // replica-announce-port: default 0 = the real port
	MinReplicasToWrite    int           // min-replicas-to-write: default 0 = off
	MinReplicasMaxLag     time.Duration // min-replicas-max-lag: default 10s
	ReplBacklogSize       int64         // repl-backlog-size: default 1mb
	ReplCheckpointMaxRate int64         // repl-checkpoint-max-rate, bytes/s: default 64mb; 0 no cap
	ReplTimeout           time.Duration // repl-timeout: default 60s
	ReplPingReplicaPeriod time.Duration // repl-ping-replica-period: default 10s

	// mu guards every field above and extra against Set (see the type's
	// comment).
	mu sync.RWMutex
	// extra holds the values of directives without a field, by canonical
	// name, each as a pointer to its typed value. Guarded by mu.
	extra map[string]any

	// setMu serialises Set, SetReplicaOf and Rewrite, hooks included, and
	// guards hooks.
	setMu sync.Mutex
	hooks map[string][]func(*Config) error

	// path is the absolute path of the file Load read; "" when none. Set
	// once by Load.
	path string

	// listUsers, when set (SetUserLister), gives CONFIG REWRITE the current
	// ACL users. Guarded by setMu.
	listUsers func() []UserDirective
}

// SaveRule is one `save <seconds> <changes>` rule: snapshot when at least
// Changes writes happened in the last Seconds.
type SaveRule struct {
	Seconds time.Duration
	Changes int64
}

// BufferLimit is one class of client-output-buffer-limit: a client is
// disconnected when its pending output exceeds Hard, or stays above Soft
// for SoftSeconds. Zero means no limit.
type BufferLimit struct {
	Hard        int64
	Soft        int64
	SoftSeconds time.Duration
}

// OutputBufferLimits are the client-output-buffer-limit classes. Replica
// is the one replication relies on: default 256mb hard, 64mb soft for 60s.
type OutputBufferLimits struct {
	Normal  BufferLimit // default 0 0 0
	Replica BufferLimit // default 256mb 64mb 60
	PubSub  BufferLimit // default 32mb 8mb 60
}

// class returns the limit named by a Redis class name, or nil.
func (o *OutputBufferLimits) class(name string) *BufferLimit {
	switch strings.ToLower(name) {
	case "normal":
		return &o.Normal
	case "replica", "slave":
		return &o.Replica
	case "pubsub":
		return &o.PubSub
	}
	return nil
}

// CommandRename is one `rename-command name new-name` line. NewName ""
// disables the command. Name is lower case; apply renames in order.
type CommandRename struct {
	Name    string
	NewName string
}

// UserDirective is one `user <name> [rule ...]` line: an ACL user the
// server creates at start-up as ACL SETUSER name rule... would (the
// default user is reset first, so the line overrides requirepass). As in
// Redis, a name may be declared once per load, and `user` lines and
// aclfile exclude each other.
type UserDirective struct {
	Name  string
	Rules []string

	// Where the line is, for errors: File is "" and Line 0 on the command
	// line. Text is the line as written.
	File string
	Line int
	Text string

	// elsewhere: the line came from the command line or an included file,
	// which CONFIG REWRITE does not rewrite.
	elsewhere bool
}

// Fail returns err as a *ParseError naming the line u came from.
func (u UserDirective) Fail(err error) error {
	return &ParseError{File: u.File, Line: u.Line, Text: u.Text, Err: err}
}

// Default returns a Config holding every directive's default value.
func Default() *Config {
	c := &Config{}
	for _, d := range directives {
		args := d.defaultArgs()
		if len(args) == 0 {
			continue // a list that is empty by default (rename-command)
		}
		if err := d.v.set(c, d, args, true); err != nil {
			panic("config: default of " + d.name + ": " + err.Error())
		}
	}
	return c
}

// Persistent reports whether this server keeps its data on disk: appendonly
// is on or there is at least one save rule. With `save ""` and `appendonly
// no` walrus keeps everything in memory. It takes the read lock itself: do
// not call it between RLock and RUnlock.
func (c *Config) Persistent() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.AppendOnly || len(c.Save) > 0
}

// ReplicaOf returns the master this server replicates from; ok is false on
// a master. It takes the read lock itself: do not call it between RLock and
// RUnlock.
func (c *Config) ReplicaOf() (host string, port int, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.MasterHost, c.MasterPort, c.MasterHost != ""
}

// RLock locks c for reading mutable fields while Set may run.
func (c *Config) RLock() { c.mu.RLock() }

// RUnlock undoes RLock.
func (c *Config) RUnlock() { c.mu.RUnlock() }

// Path returns the absolute path of the config file Load read, or "".
func (c *Config) Path() string { return c.path }

// Mutable reports whether CONFIG SET may change the directive name (or
// alias). Unknown names are not mutable.
func Mutable(name string) bool {
	d := lookup(name)
	return d != nil && d.flags&mutable != 0 && d.flags&fileOnly == 0
}
