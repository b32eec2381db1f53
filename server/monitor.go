package server

import (
	"fmt"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// MONITOR, as in Redis 7.0: a monitoring client receives a status line
// for every command the server runs, with its time, database and client:
//
//	+1701420000.123456 [0 127.0.0.1:50000] "SET" "k" "v"
//
// Commands refused before they run (unknown, arity, ACL, role) are not
// shown, nor administrative ones (CONFIG, DEBUG, CLIENT KILL, ...);
// AUTH's and the like's secrets read "(redacted)" as in the slow log. A
// transaction's commands are shown as EXEC runs them, then EXEC; a
// script's EVAL before the commands it calls, which show as coming from
// "lua". A replica shows its master's entries as coming from "master".
//
// The monitoring connection is detached like a subscriber's (pubsub.go):
// its lines go through the same bounded queue, so a monitor that does not
// read is disconnected at the pubsub output buffer limits, and the
// server never waits for it. A monitor may still run server commands
// (PING, INFO); the keyspace's it is refused, as Redis refuses them.

func cmdMonitor(s *Server, cl *client, args [][]byte) {
	ps := &s.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.init()
	if _, ok := ps.monitors[cl]; ok {
		return // Redis ignores a second MONITOR, without a reply
	}
	sub := ps.subs[cl]
	if sub == nil {
		sub = s.detach(cl)
	}
	ps.monitors[cl] = sub
	ps.nmon.Add(1)
	cl.monitor.Store(true)
	cl.ok()
}

// stopMonitorLocked ends cl's monitoring (RESET, or the connection
// closing); ps.mu must be held.
func (ps *pubsub) stopMonitorLocked(cl *client) {
	if _, ok := ps.monitors[cl]; ok {
		delete(ps.monitors, cl)
		ps.nmon.Add(-1)
		cl.monitor.Store(false)
	}
}

// feedMonitors shows a command that ran to the monitors. from is the
// client that ran it (nil: the replica's master), db its database then.
func (s *Server) feedMonitors(from *client, db int, c *command, args [][]byte) {
	if s.ps.nmon.Load() == 0 || !monitored(c, args) {
		return
	}
	addr := "master"
	if from != nil {
		addr = from.addr
		if from.inScript {
			addr = "lua"
		}
	}
	now := time.Now()
	line := fmt.Appendf(make([]byte, 0, 64), "+%d.%06d [%d %s]", now.Unix(), now.Nanosecond()/1000, db, addr)
	redacted := redactedArgs(args)
	for i, a := range args {
		line = append(line, ' ')
		if redacted[i] {
			line = append(line, `"(redacted)"`...)
			continue
		}
		line = appendRepr(line, a)
	}
	line = append(line, '\r', '\n')

	ps := &s.ps
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	for _, sub := range ps.monitors {
		s.pushTo(sub, line)
	}
}

// monitored reports whether MONITOR shows c: not administrative commands
// (a container's administrative subcommands included), as in Redis.
func monitored(c *command, args [][]byte) bool {
	if c == nil {
		return false
	}
	if sub, _ := subcommand(c, args); sub != nil {
		return sub.cats&catAdmin == 0
	}
	return c.Flags&engine.Admin == 0
}

// appendRepr quotes b as Redis's sdscatrepr does: "\n", "\"", "\\" and
// the like escaped, other unprintable bytes as \xNN.
func appendRepr(out, b []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, ch := range b {
		switch ch {
		case '\\', '"':
			out = append(out, '\\', ch)
		case '\n':
			out = append(out, `\n`...)
		case '\r':
			out = append(out, `\r`...)
		case '\t':
			out = append(out, `\t`...)
		case '\a':
			out = append(out, `\a`...)
		case '\b':
			out = append(out, `\b`...)
		default:
			if ch < 0x20 || ch > 0x7e {
				out = append(out, '\\', 'x', hex[ch>>4], hex[ch&15])
			} else {
				out = append(out, ch)
			}
		}
	}
	return append(out, '"')
}

// RESET puts the connection back as it was when it connected (Redis
// 6.2): no transaction or watched keys, database 0, no name, no
// subscriptions, not monitoring, and the default user (authenticated if
// it needs no password).
func cmdReset(s *Server, cl *client, args [][]byte) {
	cl.endMulti()
	s.eng.Unwatch(cl.sess)
	cl.sess.DB = 0
	cl.sess.RESP3 = false
	s.forgetTracking(cl)
	cl.db.Store(0)
	cl.setName("")
	s.unsubscribeAll(cl) // and stops monitoring
	cl.user.Store(s.acl.def)
	cl.authed = s.acl.defaultOpen()
	cl.replyOff, cl.replySkipNext = false, false // as Redis: a skip under way stays
	cl.status("RESET")
}
