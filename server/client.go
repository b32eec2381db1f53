package server

import (
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
)

var randRead = rand.Read

// client is one connection's state. The connection's goroutine owns it;
// the fields other goroutines read (CLIENT LIST, INFO) are atomics or
// guarded by mu.
type client struct {
	id      int64
	conn    redcon.Conn
	addr    string
	laddr   string
	created time.Time
	sess    *engine.Session

	authed   bool
	detached bool // handed to replication after PSYNC: no longer ours

	user atomic.Pointer[aclUser] // who the connection runs as (acl.go)
	// killed: CLIENT KILL closed it. It stays in the table until its
	// read loop ends, but a later CLIENT KILL counts it no more.
	killed atomic.Bool

	// What a replica told us with REPLCONF before PSYNC or SYNC: where it
	// listens, whether it takes Redis's diskless framing (capa eof: a
	// Redis replica; walrus's never says so), whether it wants the RDB
	// file alone, and what it leaves out of it.
	replPort  int
	replIP    string
	capaEOF   bool
	rdbOnly   bool
	rdbFilter engine.RDBOptions // NoFunctions, NoKeys: REPLCONF rdb-filter-only

	// MULTI state. multiQueued is the number of commands queued, -1
	// outside MULTI; other connections read it too (CLIENT LIST), the
	// rest is the connection's own.
	multiQueued atomic.Int64
	multiErr    bool
	queued      [][][]byte
	txnRun      func([][]byte) []byte // EXEC's engine run while a queued script runs in it
	inScript    bool                  // running a script's command (MONITOR shows "lua")

	monitor atomic.Bool // MONITOR (monitor.go)

	track     trackState                   // CLIENT TRACKING; the server's trk.mu guards it (tracking.go)
	trackView atomic.Pointer[trackSummary] // what CLIENT LIST shows of it
	// resp3 mirrors sess.RESP3 for CLIENT LIST, which other
	// connections run: HELLO and RESET change it (see runCounted).
	resp3 atomic.Bool

	lastActive atomic.Int64 // Unix ms
	busy       atomic.Bool  // inside a command (the idle timeout spares it)
	blocked    atomic.Bool  // waiting in BLPOP & co or held by a pause
	db         atomic.Int64
	subs       atomic.Int64    // channels + patterns + shard channels subscribed
	subCounts  [3]atomic.Int32 // each kind's, by subKind (CLIENT LIST)

	mu      sync.Mutex // guards name and lastCmd
	name    string
	lastCmd string

	out []byte // reply buffer, reused

	// outq is the output queue of a connection served on goroutines of
	// its own (pubsub.go's detached connections): what CLIENT LIST's
	// omem counts.
	outq atomic.Pointer[outQueue]

	// CLIENT REPLY, as Redis keeps it: off, the reply of the command
	// running is skipped, the next command's will be. Only the
	// connection's own goroutine reads or writes them.
	replyOff, replySkip, replySkipNext bool
	replyAlone                         bool // dispatch runs one command whose reply it may drop
}

// nextReply moves CLIENT REPLY SKIP on once a command has run: the skip
// asked for applies to the next one.
func (cl *client) nextReply() {
	cl.replySkip, cl.replySkipNext = cl.replySkipNext, false
}

func newClient(s *Server, conn redcon.Conn) *client {
	cl := &client{
		id:      s.nextID.Add(1),
		conn:    conn,
		addr:    conn.RemoteAddr(),
		created: time.Now(),
		sess:    engine.NewSession(),
	}
	cl.sess.Client = cl
	if la := conn.NetConn().LocalAddr(); la != nil {
		cl.laddr = la.String()
	}
	cl.authed = s.acl.defaultOpen()
	cl.user.Store(s.acl.def)
	cl.lastActive.Store(time.Now().UnixMilli())
	cl.multiQueued.Store(-1)
	return cl
}

// inMulti reports whether a transaction is open (MULTI until EXEC's end
// or DISCARD).
func (cl *client) inMulti() bool { return cl.multiQueued.Load() >= 0 }

// beginMulti opens a transaction (MULTI).
func (cl *client) beginMulti() {
	cl.multiErr, cl.queued = false, nil
	cl.multiQueued.Store(0)
}

// queue adds a command to the open transaction.
func (cl *client) queue(args [][]byte) {
	cl.queued = append(cl.queued, args)
	cl.multiQueued.Store(int64(len(cl.queued)))
}

// endMulti closes the transaction (EXEC, DISCARD).
func (cl *client) endMulti() {
	cl.multiErr, cl.queued = false, nil
	cl.multiQueued.Store(-1)
}

func (cl *client) setName(n string) {
	cl.mu.Lock()
	cl.name = n
	cl.mu.Unlock()
}

func (cl *client) getName() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.name
}

// info renders the CLIENT LIST / CLIENT INFO line.
func (cl *client) info() string {
	cl.mu.Lock()
	name, cmd := cl.name, cl.lastCmd
	cl.mu.Unlock()
	now := time.Now()
	// Redis's flag letters, in its order.
	flags := ""
	if cl.subs.Load() > 0 {
		flags += "P"
	}
	multi := cl.multiQueued.Load()
	if multi >= 0 {
		flags += "x"
	}
	if cl.blocked.Load() {
		flags += "b"
	}
	redir := int64(-1)
	if tv := cl.trackView.Load(); tv != nil {
		flags += tv.flags
		redir = tv.redirect
	}
	if flags == "" {
		flags = "N"
	}
	if cmd == "" {
		cmd = "NULL"
	}
	// Output waiting for a slow reader: a detached connection's queue.
	// Other connections write each reply as it is made. walrus counts
	// no other buffer of a connection (redcon's are its own).
	omem := 0
	if q := cl.outq.Load(); q != nil {
		omem = q.pending()
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=0 name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=%d tot-mem=%d events=r cmd=%s user=%s redir=%d resp=%d",
		cl.id, cl.addr, cl.laddr, name, int(now.Sub(cl.created).Seconds()),
		(now.UnixMilli()-cl.lastActive.Load())/1000, flags, cl.db.Load(),
		cl.subCounts[subChannel].Load(), cl.subCounts[subPattern].Load(), cl.subCounts[subShard].Load(), multi, omem, omem, strings.ToLower(cmd), cl.user.Load().name, redir, 2+boolInt(cl.resp3.Load()))
}
