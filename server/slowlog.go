package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/server/config"
)

// SLOWLOG, as Redis 7.0 keeps it: every command that takes at least
// slowlog-log-slower-than µs (negative: none, 0: all) is logged with its
// arguments (at most 32, each cut at 128 bytes, secrets redacted), its
// client's address and name, and an id; the newest slowlog-max-len
// entries are kept. EXEC is not logged, the commands it runs are; a
// blocking pop is logged when it runs without blocking; a replica does not
// log its master's entries.

const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

type slowEntry struct {
	id, time, micros int64
	args             []string
	addr, name       string
}

type slowLog struct {
	slowerThan atomic.Int64 // µs
	maxLen     atomic.Int64

	mu      sync.Mutex
	entries []slowEntry // oldest first
	nextID  int64
}

func (l *slowLog) load(c *config.Config) {
	l.slowerThan.Store(configInt(c, "slowlog-log-slower-than"))
	l.maxLen.Store(configInt(c, "slowlog-max-len"))
	l.mu.Lock()
	l.trimLocked()
	l.mu.Unlock()
}

func (s *Server) watchSlowlogSettings() {
	s.slowlog.load(s.cfg)
	for _, name := range []string{"slowlog-log-slower-than", "slowlog-max-len"} {
		s.cfg.OnChange(name, func(c *config.Config) error { s.slowlog.load(c); return nil })
	}
}

// add logs a command of cl's that took took, if that is slow.
func (l *slowLog) add(cl *client, args [][]byte, took time.Duration) {
	least := l.slowerThan.Load()
	if least < 0 || took.Microseconds() < least || len(args) == 0 {
		return
	}
	e := slowEntry{time: time.Now().Unix(), micros: took.Microseconds(), args: slowlogArgs(args), addr: cl.addr}
	cl.mu.Lock()
	e.name = cl.name
	cl.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.trimLocked()
}

func (l *slowLog) trimLocked() {
	if over := len(l.entries) - int(l.maxLen.Load()); over > 0 {
		l.entries = append(l.entries[:0:0], l.entries[over:]...)
	}
}

// slowlogArgs copies a command's arguments for the log: at most 32 (the
// last then says how many more there were), each at most 128 bytes (with
// how many more there were), and secrets as "(redacted)".
func slowlogArgs(args [][]byte) []string {
	redacted := redactedArgs(args)
	n := min(len(args), slowlogMaxArgc)
	out := make([]string, n)
	for i := range n {
		switch a := args[i]; {
		case n != len(args) && i == n-1:
			out[i] = fmt.Sprintf("... (%d more arguments)", len(args)-n+1)
		case redacted[i]:
			out[i] = "(redacted)"
		case len(a) > slowlogMaxString:
			out[i] = fmt.Sprintf("%s... (%d more bytes)", a[:slowlogMaxString], len(a)-slowlogMaxString)
		default:
			out[i] = string(a)
		}
	}
	return out
}

// sensitiveConfigs are the directives whose values CONFIG SET leaves out
// of the slow log.
var sensitiveConfigs = map[string]bool{"requirepass": true, "masterauth": true, "tls-key-file-pass": true, "tls-client-key-file-pass": true}

// redactedArgs marks the arguments Redis keeps out of its slow log:
// AUTH's, HELLO's after AUTH, ACL SETUSER's, and the values of CONFIG SET
// for passwords.
func redactedArgs(args [][]byte) []bool {
	r := make([]bool, len(args))
	lower := func(i int) string { return strings.ToLower(string(args[i])) }
	switch lower(0) {
	case "auth":
		for i := 1; i < len(args); i++ {
			r[i] = true
		}
	case "hello":
		for i := 1; i+2 < len(args); i++ {
			if lower(i) == "auth" {
				r[i+1], r[i+2] = true, true
			}
		}
	case "acl":
		if len(args) > 1 && lower(1) == "setuser" {
			for i := 2; i < len(args); i++ {
				r[i] = true
			}
		}
	case "config":
		if len(args) > 1 && lower(1) == "set" {
			for i := 2; i+1 < len(args); i += 2 {
				if sensitiveConfigs[lower(i)] {
					r[i+1] = true
				}
			}
		}
	}
	return r
}

var slowlogHelp = []string{
	"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
	"HELP",
	"    Prints this help.",
}

func cmdSlowlog(s *Server, cl *client, args [][]byte) {
	l := &s.slowlog
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "help" && len(args) == 2:
		cl.statusLines(slowlogHelp)
	case sub == "len" && len(args) == 2:
		l.mu.Lock()
		n := len(l.entries)
		l.mu.Unlock()
		cl.integer(int64(n))
	case sub == "reset" && len(args) == 2:
		l.mu.Lock()
		l.entries = nil
		l.mu.Unlock()
		cl.ok()
	case sub == "get" && len(args) <= 3:
		count := int64(10)
		if len(args) == 3 {
			n, err := strconv.ParseInt(string(args[2]), 10, 64)
			if err != nil || n < -1 {
				cl.err("ERR count should be greater than or equal to -1")
				return
			}
			count = n
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		n := int64(len(l.entries))
		if count >= 0 {
			n = min(n, count)
		}
		cl.array(int(n))
		for i := range n {
			e := l.entries[len(l.entries)-1-int(i)] // newest first
			cl.array(6)
			cl.integer(e.id)
			cl.integer(e.time)
			cl.integer(e.micros)
			cl.array(len(e.args))
			for _, a := range e.args {
				cl.bulkString(a)
			}
			cl.bulkString(e.addr)
			cl.bulkString(e.name)
		}
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + clip(string(args[1])) + "'. Try SLOWLOG HELP.")
	}
}
