package server

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// INFO commandstats and errorstats, counted as Redis 7.0 counts them.
//
// A command that runs counts one call and the time it took; if its reply
// is an error it also counts a failed call. A command refused before it
// runs (arity, auth, ACL, role, MULTI rules) counts a rejected call, and
// an unknown command or subcommand counts nowhere but in the errors. A
// container's subcommands count on their own lines ("client|list").
// Engine commands are counted by the engine's Observe hook as they run
// (in the committer for writes, so the time is the command's own, not
// its wait for a group commit); server commands around their handler, so
// the time of WAIT and WAITAOF includes their wait, where Redis counts
// only the call. Every error reply counts in total_error_replies and,
// under its code (the first word), in errorstats.

// cmdStat is one line of INFO commandstats.
type cmdStat struct {
	calls, nanos, failed, rejected atomic.Int64
	lat                            latencyHist // LATENCY HISTOGRAM, INFO latencystats (latency.go)
	fast                           bool        // a fast command: the latency monitor's "fast-command" event
}

func (st *cmdStat) reset() {
	st.calls.Store(0)
	st.nanos.Store(0)
	st.failed.Store(0)
	st.rejected.Store(0)
	st.lat.reset()
}

// statOf is the line a command with args counts on: its subcommand's for
// a container, none for a subcommand the container does not have.
func statOf(c *command, args [][]byte) *cmdStat {
	if c == nil {
		return nil
	}
	sub, unknown := subcommand(c, args)
	switch {
	case unknown:
		return nil
	case sub != nil:
		return &sub.stat
	}
	return &c.stat
}

// countRun counts a command that ran for took and answered reply.
func (s *Server) countRun(st *cmdStat, took time.Duration, reply []byte) {
	if st != nil {
		st.calls.Add(1)
		st.nanos.Add(int64(took))
		s.recordLatency(st, took)
	}
	if len(reply) > 0 && reply[0] == '-' {
		if st != nil {
			st.failed.Add(1)
		}
		s.errs.count(reply[1:])
	}
}

// countRejected counts a command refused with msg before it ran.
func (s *Server) countRejected(args [][]byte, msg string) {
	if c := s.lookup(args[0]); c != nil {
		if st := statOf(c, args); st != nil {
			st.rejected.Add(1)
		}
	}
	s.errs.count([]byte(msg))
}

// runCounted runs a server command's handler and counts it.
func (s *Server) runCounted(c *command, cl *client, args [][]byte) {
	blocking, script := c.eng != nil && c.Flags&engine.Blocking != 0, isScript(c)
	if blocking || script {
		// MONITOR shows these as they start: a blocking pop may wait,
		// and a script's commands come after it.
		s.feedMonitors(cl, int(cl.db.Load()), c, args)
	}
	mark, start := len(cl.out), time.Now()
	c.run(s, cl, args)
	if c.Name == "hello" || c.Name == "reset" {
		cl.resp3.Store(cl.sess.RESP3) // the protocol CLIENT LIST shows
	}
	if blocking {
		return // a blocking pop counts itself (cmdBlockingPop)
	}
	if !script {
		s.feedMonitors(cl, int(cl.db.Load()), c, args)
	}
	took := time.Since(start)
	var reply []byte
	if len(cl.out) > mark { // a detached replica's handler may hand its buffer on
		reply = cl.out[mark:]
	}
	s.countRun(statOf(c, args), took, reply)
	if c.Name != "exec" { // EXEC's commands are logged each on its own, as in Redis
		s.slowlog.add(cl, args, took)
	}
}

// observe is the engine's Options.Observe.
func (s *Server) observe(sess *engine.Session, db int, cmd *engine.Command, args [][]byte, took time.Duration, reply []byte) {
	var st *cmdStat
	c := s.engRows[cmd.ID()] // nil: renamed away
	if c != nil {
		st = statOf(c, args)
	}
	s.countRun(st, took, reply)
	if sess == nil { // a replica applying its master's entries
		s.feedMonitors(nil, db, c, args)
		return
	}
	if cl, ok := sess.Client.(*client); ok {
		s.slowlog.add(cl, args, took)
		if cmd.Flags&engine.Blocking == 0 || cl.inMulti() || cl.inScript {
			s.feedMonitors(cl, db, c, args) // runCounted shows a blocking row
		}
	}
}

// maxErrorCodes bounds errorstats: a client sending errors with ever new
// codes (a script's own error texts, in Redis) cannot grow it without
// bound. Redis keeps 128 too; the errors past it still count in
// total_error_replies.
const maxErrorCodes = 128

// errorStats counts error replies, in all and by code.
type errorStats struct {
	total atomic.Int64
	mu    sync.Mutex
	codes map[string]int64
}

// count counts the error reply msg (without its '-'). Its code is its
// first word when a space ends one within 32 bytes, else ERR, as in
// Redis.
func (e *errorStats) count(msg []byte) {
	e.total.Add(1)
	code := "ERR"
	for i := 0; i < len(msg) && i < 32; i++ {
		if msg[i] == ' ' {
			code = string(msg[:i])
			break
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.codes == nil {
		e.codes = map[string]int64{}
	}
	if _, ok := e.codes[code]; ok || len(e.codes) < maxErrorCodes {
		e.codes[code]++
	}
}

func (e *errorStats) reset() {
	e.total.Store(0)
	e.mu.Lock()
	e.codes = nil
	e.mu.Unlock()
}

// infoCommandStats is INFO commandstats: every command and subcommand
// with a call, a failure or a rejection, by name.
func (s *Server) infoCommandStats() [][2]string {
	var out [][2]string
	add := func(name string, st *cmdStat) {
		calls, failed, rejected := st.calls.Load(), st.failed.Load(), st.rejected.Load()
		if calls == 0 && failed == 0 && rejected == 0 {
			return
		}
		usec := st.nanos.Load() / 1000
		perCall := 0.0
		if calls > 0 {
			perCall = float64(usec) / float64(calls)
		}
		out = append(out, [2]string{"cmdstat_" + name,
			fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d", calls, usec, perCall, rejected, failed)})
	}
	s.eachStat(add)
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// infoErrorStats is INFO errorstats, by code.
func (s *Server) infoErrorStats() [][2]string {
	s.errs.mu.Lock()
	out := make([][2]string, 0, len(s.errs.codes))
	for code, n := range s.errs.codes {
		out = append(out, kv("errorstat_"+code, fmt.Sprintf("count=%d", n)))
	}
	s.errs.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// resetCommandStats is CONFIG RESETSTAT's part here.
func (s *Server) resetCommandStats() {
	s.eachStat(func(_ string, st *cmdStat) { st.reset() })
	s.errs.reset()
}

// eachStat calls fn with every command's line and every subcommand's.
func (s *Server) eachStat(fn func(name string, st *cmdStat)) {
	for _, c := range s.cmds {
		fn(c.Name, &c.stat)
		for _, sub := range c.subs {
			fn(sub.name, &sub.stat)
		}
	}
}
