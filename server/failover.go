package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/replica"
)

// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT: a
// coordinated switch of roles between this master and one of its
// replicas, as in Redis 6.2 and later.
//
//  1. waiting-for-sync: the master pauses its clients' writes (a WRITE
//     pause of its own, pause.go) and waits until the target, or the first
//     replica, has acknowledged everything in the log.
//  2. failover-in-progress: the master becomes a replica of that replica
//     and its first PSYNC carries FAILOVER. The target, if the request
//     comes from its own master (same replication ID), promotes itself,
//     as REPLICAOF NO ONE would, and answers +CONTINUE: the old master
//     follows it with a partial sync.
//  3. The pause ends. Writes it held are checked again, and now get
//     READONLY.
//
// A TIMEOUT in step 1 aborts, or with FORCE goes on to step 2 anyway. A
// PSYNC the target refuses aborts: the node becomes a master again, with
// a new replication ID. Step 2 is bounded by repl-timeout.

type failoverState int32

const (
	noFailover failoverState = iota
	failoverWaiting
	failoverInProgress
)

var failoverStateNames = [...]string{"no-failover", "waiting-for-sync", "failover-in-progress"}

type failover struct {
	state atomic.Int32 // failoverState, for INFO and the checks

	mu     sync.Mutex // serializes the steps and ABORT
	target string     // host:port, or "any replica"
	cancel context.CancelFunc
	done   chan struct{}
}

func (f *failover) current() failoverState { return failoverState(f.state.Load()) }

func cmdFailover(s *Server, cl *client, args [][]byte) {
	if len(args) == 2 && strings.EqualFold(string(args[1]), "abort") {
		if !s.abortFailover("Failover manually aborted") {
			cl.err("ERR No failover in progress.")
			return
		}
		cl.ok()
		return
	}
	var (
		timeout time.Duration
		force   bool
		host    string
		port    int64
	)
	for j := 1; j < len(args); j++ {
		a := strings.ToLower(string(args[j]))
		switch {
		case a == "timeout" && j+1 < len(args) && timeout == 0:
			ms, err := strconv.ParseInt(string(args[j+1]), 10, 64)
			if err != nil {
				cl.err("ERR value is not an integer or out of range")
				return
			}
			if ms <= 0 {
				cl.err("ERR FAILOVER timeout must be greater than 0")
				return
			}
			timeout = time.Duration(min(ms, int64(time.Duration(1<<62)/time.Millisecond))) * time.Millisecond
			j++
		case a == "to" && j+2 < len(args) && host == "":
			p, err := strconv.ParseInt(string(args[j+2]), 10, 64)
			if err != nil {
				cl.err("ERR value is not an integer or out of range")
				return
			}
			host, port = string(args[j+1]), p
			j += 2
		case a == "force" && !force:
			force = true
		default:
			cl.err("ERR syntax error")
			return
		}
	}
	f := &s.fail
	f.mu.Lock()
	defer f.mu.Unlock()
	r := s.repl
	switch {
	case f.current() != noFailover:
		cl.err("ERR FAILOVER already in progress.")
		return
	case r.isReplica():
		cl.err("ERR FAILOVER is not valid when server is a replica.")
		return
	case len(r.master.Peers()) == 0,
		host == "" && !slices.ContainsFunc(r.master.Peers(), func(p replica.PeerInfo) bool { return !p.Redis }):
		// A Redis replica cannot take over: walrus cannot follow it.
		cl.err("ERR FAILOVER requires connected replicas.")
		return
	case force && (timeout == 0 || host == ""):
		cl.err("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
		return
	}
	f.target = "any replica"
	if host != "" {
		state, isRedis := "", false
		for _, p := range r.master.Peers() {
			if p.IP == host && int64(p.Port) == port {
				state, isRedis = p.State, p.Redis
			}
		}
		switch {
		case state == "":
			cl.err("ERR FAILOVER target HOST and PORT is not a replica.")
			return
		case isRedis:
			cl.err("ERR FAILOVER target is a Redis replica: walrus hands its role only to a walrus replica.")
			return
		case state == "online":
		default:
			cl.err("ERR FAILOVER target replica is not online.")
			return
		}
		f.target = fmt.Sprintf("%s:%d", host, port)
	}
	s.log.Info("FAILOVER requested", "target", f.target, "timeout", timeout, "force", force)
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	f.state.Store(int32(failoverWaiting))
	s.pause.pause(pauseByFailover, pauseWrite, forever)
	go s.runFailover(ctx, f.done, host, int(port), timeout, force)
	cl.ok()
}

// runFailover waits for a replica to catch up, then hands it the role.
func (s *Server) runFailover(ctx context.Context, done chan struct{}, host string, port int, timeout time.Duration, force bool) {
	defer close(done)
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	m := s.repl.master
	for {
		if p, ok := m.CaughtUp(s.eng.WAL().LastIndex(), host, port); ok {
			s.log.Info("failover target is synced, failing over", "target", fmt.Sprintf("%s:%d", p.IP, p.Port))
			s.promoteTarget(ctx, p.IP, p.Port)
			return
		}
		m.RequestAcks()
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			if force {
				s.log.Info("FAILOVER time out exceeded, failing over", "target", fmt.Sprintf("%s:%d", host, port))
				s.promoteTarget(ctx, host, port)
				return
			}
			s.abortFailoverFrom(ctx, "Replica never caught up before timeout")
			return
		case <-tick.C:
		}
	}
}

// promoteTarget makes this node a replica of host:port with a PSYNC
// FAILOVER, and ends the failover on the answer.
func (s *Server) promoteTarget(ctx context.Context, host string, port int) {
	f := &s.fail
	answer := make(chan error, 1)
	f.mu.Lock()
	if ctx.Err() != nil { // aborted meanwhile
		f.mu.Unlock()
		return
	}
	f.state.Store(int32(failoverInProgress))
	s.repl.becomeReplica(host, port, func(reply string, err error) {
		if err == nil && !strings.HasPrefix(reply, "+CONTINUE") && !strings.HasPrefix(reply, "+FULLRESYNC") {
			err = fmt.Errorf("%s", reply)
		}
		answer <- err
	})
	f.mu.Unlock()
	s.cfg.RLock()
	t := time.NewTimer(s.cfg.ReplTimeout)
	s.cfg.RUnlock()
	defer t.Stop()
	select {
	case <-ctx.Done():
	case err := <-answer:
		if err != nil {
			s.log.Warn("failover target refused the PSYNC", "target", fmt.Sprintf("%s:%d", host, port), "err", err)
			s.abortFailoverFrom(ctx, "Failover target rejected psync request")
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if ctx.Err() == nil {
			s.log.Info("FAILOVER completed: this node is now a replica of the target", "target", f.target)
			s.endFailoverLocked()
		}
	case <-t.C:
		s.abortFailoverFrom(ctx, "Failover target did not answer the PSYNC within repl-timeout")
	}
}

// abortFailover ends a failover in progress, if any (FAILOVER ABORT).
func (s *Server) abortFailover(why string) bool {
	f := &s.fail
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.current() == noFailover {
		return false
	}
	s.abortFailoverLocked(why)
	return true
}

// abortFailoverFrom aborts the failover the goroutine with ctx runs,
// unless it has already ended.
func (s *Server) abortFailoverFrom(ctx context.Context, why string) {
	f := &s.fail
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() == nil && f.current() != noFailover {
		s.abortFailoverLocked(why)
	}
}

// abortFailoverLocked rolls back: a node that was handing over becomes a
// master again. s.fail.mu is held.
func (s *Server) abortFailoverLocked(why string) {
	f := &s.fail
	s.log.Info("FAILOVER aborted", "target", f.target, "reason", why)
	if f.current() == failoverInProgress {
		if err := s.repl.becomeMaster(); err != nil {
			s.log.Error("cannot become a master again after the aborted failover", "err", err)
		}
	}
	s.endFailoverLocked()
}

// endFailoverLocked clears the state and lifts the pause; s.fail.mu is
// held.
func (s *Server) endFailoverLocked() {
	f := &s.fail
	f.cancel()
	f.state.Store(int32(noFailover))
	s.pause.unpause(pauseByFailover)
}

// stopFailover ends the coordinating goroutine at server stop.
func (s *Server) stopFailover() {
	f := &s.fail
	f.mu.Lock()
	done := f.done
	if f.cancel != nil {
		f.cancel()
	}
	f.mu.Unlock()
	if done != nil {
		<-done
	}
}

// psyncFailover handles PSYNC replid offset FAILOVER on the node asked to
// take over: it must be a replica, of the node asking (same replication
// ID). It then promotes itself; the PSYNC goes on as for any replica.
func (s *Server) psyncFailover(cl *client, replid string) bool {
	if !s.repl.isReplica() {
		cl.err("ERR PSYNC FAILOVER can't be sent to a master.")
		return false
	}
	if id, _, _ := s.repl.ids.Get(); replid != id {
		cl.err("ERR PSYNC FAILOVER replid must match my replid.")
		return false
	}
	if err := s.repl.becomeMaster(); err != nil {
		cl.err("ERR " + err.Error())
		return false
	}
	s.log.Info("MASTER MODE enabled (failover request)", "from", cl.addr)
	return true
}
