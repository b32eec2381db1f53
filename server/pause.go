package server

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// Client pauses: CLIENT PAUSE and CLIENT UNPAUSE, and the pause FAILOVER
// holds while its target catches up (failover.go).
//
// As in Redis, a pause holds a client when it tries to run a command,
// not before: CLIENT PAUSE itself answers at once, and a client that
// sends nothing costs nothing. Under a WRITE pause, a command is held if
// it may write or propagate (the engine's write commands, PUBLISH, an EXEC
// with a write queued); under ALL, every command is. Errors that need no
// execution (unknown command, arity, NOAUTH, NOPERM, READONLY) are
// answered at once. A held command is checked again when the pause lifts:
// the server may have become a replica meanwhile. Replicas' streams are
// never held: they leave the dispatcher at PSYNC.
//
// Active expiry stops while any pause is in effect, so that no DEL enters
// the log; reads already treat an expired key as absent without deleting
// it.
//
// Each purpose keeps its own pause, as in Redis: CLIENT UNPAUSE ends the
// clients' pause but not a failover's. The pause in effect is the
// strongest of the purposes' pauses that have not ended.

type pauseMode int32

const (
	pauseOff pauseMode = iota
	pauseWrite
	pauseAll
)

type pausePurpose int

const (
	pauseByClient   pausePurpose = iota // CLIENT PAUSE
	pauseByFailover                     // FAILOVER, until it ends
	pauseByShutdown                     // a shutdown waiting for replicas
	pausePurposes
)

type pauser struct {
	mode atomic.Int32 // pauseMode in effect: read before every command

	mu       sync.Mutex
	by       [pausePurposes]pauseSpan
	lifted   chan struct{} // closed, and replaced, when the pause in effect weakens
	timer    *time.Timer   // recomputes at the next end of a pause
	closed   bool          // server stopping: nobody waits any more
	onChange func(held bool)
}

type pauseSpan struct {
	mode pauseMode
	end  time.Time
}

// forever is the end of a pause that lasts until it is lifted.
var forever = time.Unix(math.MaxInt64/2, 0)

// pause starts or extends purpose's pause: like Redis, a new pause never
// shortens or weakens the one in effect for the same purpose.
func (p *pauser) pause(purpose pausePurpose, mode pauseMode, end time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := &p.by[purpose]
	if cur.mode == pauseOff || !cur.end.After(time.Now()) {
		*cur = pauseSpan{mode, end}
	} else {
		cur.mode = max(cur.mode, mode)
		if end.After(cur.end) {
			cur.end = end
		}
	}
	p.updateLocked()
}

// unpause ends purpose's pause.
func (p *pauser) unpause(purpose pausePurpose) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.by[purpose] = pauseSpan{}
	p.updateLocked()
}

// close releases every held client for good (server stop).
func (p *pauser) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.by = [pausePurposes]pauseSpan{}
	p.updateLocked()
}

// updateLocked sets the mode in effect from the purposes' pauses, wakes
// the held clients if it weakened, and arms the timer for the next end.
func (p *pauser) updateLocked() {
	now := time.Now()
	mode, next := pauseOff, time.Time{}
	for i := range p.by {
		s := &p.by[i]
		if s.mode == pauseOff {
			continue
		}
		if !s.end.After(now) {
			*s = pauseSpan{}
			continue
		}
		mode = max(mode, s.mode)
		if next.IsZero() || s.end.Before(next) {
			next = s.end
		}
	}
	old := pauseMode(p.mode.Swap(int32(mode)))
	if mode < old && p.lifted != nil {
		close(p.lifted)
		p.lifted = nil
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if !next.IsZero() && !next.Equal(forever) {
		p.timer = time.AfterFunc(next.Sub(now), func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.updateLocked()
		})
	}
	if (mode == pauseOff) != (old == pauseOff) && p.onChange != nil {
		p.onChange(mode != pauseOff)
	}
}

// liftedCh returns a channel closed when the pause in effect weakens, or
// nil if the server is stopping.
func (p *pauser) liftedCh() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.lifted == nil {
		p.lifted = make(chan struct{})
	}
	return p.lifted
}

// pauseHolds reports whether the pause in effect holds cl's command c.
func (s *Server) pauseHolds(cl *client, c *command) bool {
	switch pauseMode(s.pause.mode.Load()) {
	case pauseAll:
		return true
	case pauseWrite:
		return mayWrite(c) || (c.Name == "exec" && s.queuedWrite(cl))
	}
	return false
}

// mayWrite reports whether c writes the dataset or the replication
// stream (Redis's write and may-replicate commands).
func mayWrite(c *command) bool {
	return c.Flags&engine.Write != 0 || c.Name == "publish"
}

// queuedWrite reports whether the open transaction holds a command that
// may write.
func (s *Server) queuedWrite(cl *client) bool {
	for _, args := range cl.queued {
		if c := s.lookup(args[0]); c != nil && mayWrite(c) {
			return true
		}
	}
	return false
}

// waitLift waits, if held still says so, until the pause in effect
// weakens; the caller then asks again. It returns false if cancel closes
// first or the server is stopping. The channel is taken before held is
// asked, so a lift in between is not missed.
func (p *pauser) waitLift(held func() bool, cancel <-chan struct{}) bool {
	lifted := p.liftedCh()
	if lifted == nil {
		return false
	}
	if !held() {
		return true
	}
	select {
	case <-lifted:
		return !p.stopping()
	case <-cancel:
		return false
	}
}

// waitPause holds cl's command c until the pause in effect weakens, if
// it still holds c. It returns false if the client went away or the
// server is stopping.
func (s *Server) waitPause(cl *client, c *command) bool {
	cl.blocked.Store(true)
	defer cl.blocked.Store(false)
	gone, stopWatch := watchDisconnect(cl)
	defer stopWatch()
	return s.pause.waitLift(func() bool { return s.pauseHolds(cl, c) }, gone)
}

// stopping reports whether the server is stopping (close).
func (p *pauser) stopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// holdApply holds a replica's apply of its master's stream while a pause
// is in effect, as Redis holds its master's client: the replica reads on
// (slave_read_repl_offset grows) but applies nothing.
func (s *Server) holdApply(ctx context.Context) error {
	held := func() bool { return pauseMode(s.pause.mode.Load()) != pauseOff }
	for held() {
		if !s.pause.waitLift(held, ctx.Done()) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if held() {
				return errors.New("server stopping")
			}
		}
	}
	return nil
}

// CLIENT PAUSE timeout [WRITE|ALL]
func (s *Server) clientPause(cl *client, args [][]byte) {
	mode := pauseAll
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "write":
			mode = pauseWrite
		case "all":
		default:
			cl.err("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil {
		cl.err("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		cl.err("ERR timeout is negative")
		return
	}
	end := time.Now().Add(time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond)
	s.pause.pause(pauseByClient, mode, end)
	cl.ok()
}
