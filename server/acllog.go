package server

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/server/config"
)

// ACL LOG, as Redis 7.0 has it: the recent denials (a command, key or
// channel refused by the user's rules; a failed AUTH or HELLO ... AUTH),
// newest first. A denial equal to one of the 10 newest entries (same
// reason, context, object and username) within 60 seconds of that
// entry's last update bumps its count, takes its client-info and time,
// and moves it to the head; any other adds an entry and drops the oldest
// beyond acllog-max-len. Lowering acllog-max-len trims nothing until the
// next new entry, as in Redis 7.0. The entries are Redis 7.0's seven
// fields (7.2's entry-id and timestamps are not there).
//
// The log is touched only on a denial: an allowed command never takes
// its lock. The acl_access_denied_* counters of INFO stats (Redis 7.2's)
// count every denial, logged or not (acllog-max-len 0), and, as in
// Redis, CONFIG RESETSTAT leaves them alone.

const (
	aclLogGroupMillis = 60 * 1000 // Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA
	aclLogScan        = 10        // newest entries a denial may join
	aclLogShow        = 10        // ACL LOG without a count
)

type aclLogEntry struct {
	count    int64
	reason   aclDenial // aclDeniedCommand, Key, Channel or Auth
	multi    bool      // context multi (else toplevel)
	object   string
	username string
	updated  int64 // Unix ms of the last denial counted
	cinfo    string
}

func (e *aclLogEntry) sameAs(o *aclLogEntry) bool {
	d := e.updated - o.updated
	if d < 0 {
		d = -d
	}
	return e.reason == o.reason && e.multi == o.multi && d <= aclLogGroupMillis &&
		e.object == o.object && e.username == o.username
}

type aclLog struct {
	maxLen atomic.Int64 // acllog-max-len

	// INFO stats counters.
	deniedAuth, deniedCmd, deniedKey, deniedChannel atomic.Int64

	mu      sync.Mutex
	entries []*aclLogEntry // oldest first: the head of ACL LOG is the last
}

// watch keeps maxLen equal to acllog-max-len.
func (l *aclLog) watch(cfg *config.Config) {
	cfg.RLock()
	l.maxLen.Store(int64(cfg.ACLLogMaxLen))
	cfg.RUnlock()
	cfg.OnChange("acllog-max-len", func(c *config.Config) error {
		c.RLock()
		l.maxLen.Store(int64(c.ACLLogMaxLen))
		c.RUnlock()
		return nil
	})
}

func (l *aclLog) add(e *aclLogEntry) {
	switch e.reason {
	case aclDeniedAuth:
		l.deniedAuth.Add(1)
	case aclDeniedCommand:
		l.deniedCmd.Add(1)
	case aclDeniedKey:
		l.deniedKey.Add(1)
	case aclDeniedChannel:
		l.deniedChannel.Add(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.entries)
	for i := n - 1; i >= 0 && i >= n-aclLogScan; i-- {
		if cur := l.entries[i]; cur.sameAs(e) {
			cur.count++
			cur.updated, cur.cinfo = e.updated, e.cinfo
			copy(l.entries[i:], l.entries[i+1:])
			l.entries[n-1] = cur
			return
		}
	}
	e.count = 1
	l.entries = append(l.entries, e)
	if drop := int64(len(l.entries)) - l.maxLen.Load(); drop > 0 {
		clear(l.entries[:drop])
		l.entries = l.entries[drop:]
	}
}

func (l *aclLog) reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}

// reply writes the newest count entries as ACL LOG does: each entry a
// map (RESP2: a flat array of field names and values).
func (l *aclLog) reply(cl *client, count int64) {
	now := time.Now().UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int64(len(l.entries))
	if count < n {
		n = max(count, 0)
	}
	cl.array(int(n))
	for i := len(l.entries) - 1; n > 0; i, n = i-1, n-1 {
		e := l.entries[i]
		cl.mapLen(7)
		cl.bulkString("count")
		cl.integer(e.count)
		cl.bulkString("reason")
		cl.bulkString(aclLogReason(e.reason))
		cl.bulkString("context")
		if e.multi {
			cl.bulkString("multi")
		} else {
			cl.bulkString("toplevel")
		}
		cl.bulkString("object")
		cl.bulkString(e.object)
		cl.bulkString("username")
		cl.bulkString(e.username)
		cl.bulkString("age-seconds")
		cl.double(float64(now-e.updated) / 1000) // RESP2: %.17g, as Redis 7.0 writes it
		cl.bulkString("client-info")
		cl.bulkString(e.cinfo)
	}
}

func aclLogReason(d aclDenial) string {
	switch d {
	case aclDeniedCommand:
		return "command"
	case aclDeniedKey:
		return "key"
	case aclDeniedChannel:
		return "channel"
	}
	return "auth"
}

// logACLDenial records a denial by cl: object is the command, key or
// channel refused (for a failed AUTH, the command's name as typed: AUTH,
// hello...), username the user refused (for AUTH, the name tried). The
// context is multi for a command refused while MULTI queues it, and for
// every denial while EXEC runs the queue: a command checked again
// (aclRecheck) or an AUTH failing, as in Redis.
func (s *Server) logACLDenial(cl *client, reason aclDenial, object, username string) {
	s.acl.denials.add(&aclLogEntry{
		reason:   reason,
		multi:    cl.inMulti(),
		object:   object,
		username: username,
		updated:  time.Now().UnixMilli(),
		cinfo:    cl.info(),
	})
}

// ACL LOG [count | RESET]
func aclLogCommand(s *Server, cl *client, args [][]byte) {
	count := int64(aclLogShow)
	if len(args) == 3 {
		a := string(args[2])
		if strings.EqualFold(a, "reset") {
			s.acl.denials.reset()
			cl.ok()
			return
		}
		n, err := engine.ParseInt(args[2])
		if err != nil {
			cl.err("ERR value is not an integer or out of range")
			return
		}
		count = n
	}
	s.acl.denials.reply(cl, count)
}

// aclInfoStats are the acl_access_denied_* lines of INFO stats.
func (l *aclLog) infoStats() [][2]string {
	return [][2]string{
		kv("acl_access_denied_auth", l.deniedAuth.Load()),
		kv("acl_access_denied_cmd", l.deniedCmd.Load()),
		kv("acl_access_denied_key", l.deniedKey.Load()),
		kv("acl_access_denied_channel", l.deniedChannel.Load()),
	}
}
