package server

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// Blocking commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BZPOPMIN BZPOPMAX
// BLMPOP BZMPOP, and XREAD and XREADGROUP with BLOCK.
//
// The engine owns the pop (its rows run the non-blocking form: pop if
// there is something, else a null reply; that is also what runs inside
// MULTI). The server rows here override them outside MULTI: the
// connection's goroutine registers a waiter on the command's keys, tries
// the pop, and if there was nothing it waits until it is served, its
// timeout passes (null array; RESP3's null), the client disconnects, or
// the server stops.
//
// Waking: after every pipeline that ran a write, when anyone is waiting
// (one atomic load otherwise), the keys the writes named are made ready.
// Waiters of a ready key are served in arrival order (FIFO, as Redis):
// the waking goroutine runs each waiter's pop through the engine on the
// waiter's behalf and hands it the reply, until one finds nothing. Keys
// are matched by name in any database, and commands that move data
// wholesale (EXEC, SWAPDB, MOVE, ...) make every key ready: a wake-up
// that finds nothing costs one engine call and nothing else. What a
// woken client pops travels to replicas as a plain LPOP/RPOP/LMOVE/
// ZPOPMIN/ZPOPMAX effect, emitted by the engine.
//
// The engine's form also checks the arguments, in Redis's order (BLMPOP
// checks numkeys, LEFT|RIGHT and COUNT before its timeout): a command
// whose timeout does not parse gets the engine form's reply.
//
// Streams: XREAD and XREADGROUP block only with BLOCK <ms>; XREAD's "$"
// is fixed to its stream's last ID when the wait starts. A stream waiter
// that finds nothing does not stop the serving of the key's later
// waiters (each waits for IDs of its own), and a woken XREADGROUP whose
// group or key went answers as Redis does (NOGROUP, UNBLOCKED).

// blocking is the table of waiting clients. mu guards keys, every
// waiter's state, and serializes serving.
type blocking struct {
	mu     sync.Mutex
	keys   map[string][]*waiter // key name -> waiters, oldest first
	parked map[int64]*waiter    // client id -> its parked waiter (CLIENT UNBLOCK)
	n      atomic.Int64         // waiters registered
	quit   chan struct{}        // closed at server stop; made lazily
	closed bool
}

type waiterState int

const (
	waitTrying waiterState = iota // running its own attempt: do not serve
	waitParked                    // waiting to be served
	waitDone                      // served: reply holds the result
)

type waiter struct {
	cl    *client
	args  [][]byte
	keys  []string
	state waiterState
	poked bool   // a key became ready during its own attempt
	reply []byte // when served
	// unblocked: reply is CLIENT UNBLOCK's, not the engine's (which the
	// engine's Observe counted in INFO commandstats)
	unblocked bool
	ch        chan struct{}
}

var blockingNames = []string{"blpop", "brpop", "blmove", "brpoplpush", "bzpopmin", "bzpopmax", "blmpop", "bzmpop", "xread", "xreadgroup"}

// blockingCommands are server rows that replace the engine's rows of the
// blocking commands (same spec) outside MULTI.
func blockingCommands() []*command {
	var rows []*command
	for _, name := range blockingNames {
		ec := engine.Lookup([]byte(name))
		if ec == nil {
			continue
		}
		// eng keeps the row an engine command inside MULTI/EXEC (the
		// non-blocking form); the dispatcher runs run outside MULTI.
		rows = append(rows, &command{Spec: ec.Spec, eng: ec, run: cmdBlockingPop})
	}
	return rows
}

func (b *blocking) quitCh() chan struct{} {
	if b.quit == nil {
		b.quit = make(chan struct{})
		if b.closed {
			close(b.quit)
		}
	}
	return b.quit
}

// blockingKeys are the keys a blocking command waits on.
func blockingKeys(spec *engine.Spec, args [][]byte) []string {
	var keys [][]byte
	switch name := strings.ToLower(string(args[0])); {
	case name == "blmove" || name == "brpoplpush":
		keys = args[1:2]
	case spec.NumKeysAt > 0 || spec.KeysAfter != "": // BLMPOP, BZMPOP, XREAD, XREADGROUP
		keys = spec.Keys(args)
	default:
		keys = args[1 : len(args)-1]
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

// blockTimeout is the timeout argument of a blocking command: the last,
// or for BLMPOP and BZMPOP the first.
func blockTimeout(spec *engine.Spec, args [][]byte) []byte {
	if spec.NumKeysAt > 0 {
		return args[1]
	}
	return args[len(args)-1]
}

func cmdBlockingPop(s *Server, cl *client, args [][]byte) {
	spec := &engine.Lookup(args[0]).Spec
	var timeout time.Duration
	if spec.KeysAfter != "" {
		var blocks bool
		if timeout, blocks = engine.StreamBlockTimeout(args); !blocks {
			cl.out = s.eng.Exec(cl.sess, [][][]byte{args}, cl.out)
			return
		}
		args = s.eng.ResolveStreamIDs(cl.sess, args)
	} else {
		var err error
		if timeout, err = engine.ParseBlockTimeout(blockTimeout(spec, args)); err != nil {
			cl.out = s.eng.Exec(cl.sess, [][][]byte{args}, cl.out)
			return
		}
	}
	b := &s.block
	w := &waiter{cl: cl, args: args, keys: blockingKeys(spec, args), ch: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.keys == nil {
		b.keys = map[string][]*waiter{}
	}
	for _, k := range w.keys {
		b.keys[k] = append(b.keys[k], w)
	}
	b.n.Add(1)
	quit := b.quitCh()
	b.mu.Unlock()
	for {
		out := s.eng.Exec(cl.sess, [][][]byte{args}, nil)
		if !engine.IsNullReply(out) {
			b.mu.Lock()
			b.removeLocked(w)
			b.mu.Unlock()
			cl.out = append(cl.out, out...)
			s.wakeBlocked([][][]byte{args}) // BLMOVE pushed to its destination
			return
		}
		b.mu.Lock()
		if w.poked {
			w.poked = false
			b.mu.Unlock()
			continue
		}
		w.state = waitParked
		if b.parked == nil {
			b.parked = map[int64]*waiter{}
		}
		b.parked[cl.id] = w
		b.mu.Unlock()
		break
	}
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	gone, stopWatch := watchDisconnect(cl)
	defer stopWatch()
	cl.blocked.Store(true)
	defer cl.blocked.Store(false)
	timedOut := false
	select {
	case <-w.ch:
	case <-timer:
		timedOut = true
	case <-gone:
	case <-quit:
	}
	b.mu.Lock()
	served := w.state == waitDone
	if !served {
		b.removeLocked(w)
	}
	b.mu.Unlock()
	// The engine counted the attempt that served the client; a reply
	// made here counts here (INFO commandstats).
	stat := statOf(s.engRows[engine.Lookup(args[0]).ID()], args)
	if served {
		cl.out = append(cl.out, w.reply...)
		if w.unblocked {
			s.countRun(stat, 0, w.reply)
		}
		return
	}
	cl.out = engine.AppendNullArray(cl.out, cl.sess.RESP3) // RESP3: null
	if timedOut {
		s.countRun(stat, 0, nil)
	}
}

// removeLocked unregisters w; b.mu must be held.
func (b *blocking) removeLocked(w *waiter) {
	if w.state == waitDone {
		return
	}
	for _, k := range w.keys {
		ws := b.keys[k]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(b.keys, k)
		} else {
			b.keys[k] = ws
		}
	}
	if b.parked[w.cl.id] == w {
		delete(b.parked, w.cl.id)
	}
	w.state = waitDone
	b.n.Add(-1)
}

// unblock ends client id's wait with reply, as if served (CLIENT
// UNBLOCK). It reports whether the client was waiting.
func (b *blocking) unblock(id int64, reply string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.parked[id]
	if w == nil || w.state != waitParked {
		return false
	}
	b.removeLocked(w)
	w.reply = []byte(reply)
	if engine.IsNullReply(w.reply) {
		// A timeout, in the blocked client's protocol (not the caller's).
		w.reply = engine.AppendNullArray(nil, w.cl.resp3.Load())
	}
	w.unblocked = true
	w.ch <- struct{}{}
	return true
}

// wakeBlocked serves waiters whose keys the writes among cmds may have
// filled. It costs one atomic load when nobody waits.
func (s *Server) wakeBlocked(cmds [][][]byte) {
	b := &s.block
	if b.n.Load() == 0 {
		return
	}
	var ready []string
	all := false
	for _, args := range cmds {
		if len(args) == 0 {
			continue
		}
		c := s.lookup(args[0])
		if c == nil {
			continue
		}
		switch c.Name {
		case "exec", "eval", "evalsha", "fcall", "swapdb", "move", "copy", "flushall", "flushdb", "select":
			all = true
			continue
		}
		if c.Flags&engine.Write == 0 {
			continue
		}
		for _, a := range args[1:] {
			ready = append(ready, string(a))
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if all {
		ready = ready[:0]
		for k := range b.keys {
			ready = append(ready, k)
		}
	}
	seen := map[string]bool{}
	for len(ready) > 0 {
		k := ready[0]
		ready = ready[1:]
		if seen[k] {
			continue
		}
		seen[k] = true
		for _, w := range append([]*waiter(nil), b.keys[k]...) {
			switch w.state {
			case waitTrying:
				w.poked = true
				continue
			case waitDone:
				continue
			}
			out := s.eng.Exec(w.cl.sess, [][][]byte{w.args}, nil)
			stream := len(w.args[0]) > 1 && (w.args[0][0]|0x20) == 'x'
			if engine.IsNullReply(out) {
				if stream {
					continue // later waiters may wait for earlier IDs
				}
				break // the key is empty again: later waiters stay parked
			}
			if stream && out[0] == '-' {
				if out = s.streamGoneReply(w, out); out == nil {
					continue // XREAD waits on through a key of another type
				}
			}
			b.removeLocked(w)
			w.reply = out
			w.ch <- struct{}{}
			if name := strings.ToLower(string(w.args[0])); name == "blmove" || name == "brpoplpush" {
				ready = append(ready, string(w.args[2]))
				seen[string(w.args[2])] = false
			}
		}
	}
}

// wakeAllBlocked retries every waiter (a replica applied its master's
// entries, whose keys it does not look into); it costs one atomic load
// when nobody waits.
func (s *Server) wakeAllBlocked() { s.wakeBlocked(allKeysReady) }

var allKeysReady = [][][]byte{{[]byte("exec")}}

// streamGoneReply rewords the error a woken XREAD or XREADGROUP got
// (out) as Redis answers a waiter: XREAD waits on through a key of
// another type (nil), XREADGROUP is told its key or group is gone.
func (s *Server) streamGoneReply(w *waiter, out []byte) []byte {
	isWrongType := strings.HasPrefix(string(out), "-WRONGTYPE ")
	switch {
	case isWrongType && len(w.args[0]) == len("xread"):
		return nil
	case isWrongType:
		return []byte("-UNBLOCKED the stream key no longer exists\r\n")
	case !strings.HasPrefix(string(out), "-NOGROUP "):
		return out
	}
	for _, k := range w.keys {
		if _, ok, _ := s.eng.KeyUsage(w.cl.sess, []byte(k), 1); !ok {
			return []byte("-UNBLOCKED the stream key no longer exists\r\n")
		}
	}
	return []byte("-NOGROUP the consumer group this client was blocked on no longer exists\r\n")
}

// stopBlocking wakes every blocked client (server stop): each replies a
// null array and returns.
func (s *Server) stopBlocking() {
	b := &s.block
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		if b.quit != nil {
			close(b.quit)
		}
	}
}
