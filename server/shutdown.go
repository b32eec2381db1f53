package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Shutting down, as Redis 7.0 does: before it stops, a node with replicas
// pauses its clients' writes and waits up to shutdown-timeout seconds for
// every replica to acknowledge the last index of its log. A master with
// persistence off (`save ""`) keeps nothing of its own: what its replicas
// have not received when it exits is lost, so it gives them the time to
// get it. SHUTDOWN NOW skips the wait. SHUTDOWN ABORT, during the wait,
// cancels the shutdown: the clients that sent SHUTDOWN get Redis's error
// and the node serves on. A stop that comes from Serve's context (an
// embedding program's, the tests') waits the same way but cannot be
// aborted.

type shutdown struct {
	mu      sync.Mutex
	ch      chan struct{} // closed to ask Serve to stop; remade after an ABORT
	asked   bool
	now     bool          // SHUTDOWN NOW: no wait
	waiting bool          // for the replicas
	abort   chan struct{} // closed by SHUTDOWN ABORT; nil unless an abortable wait runs
	ended   chan struct{} // closed when the wait ends
	until   time.Time     // end of the wait (INFO shutdown_in_milliseconds)
	waiters []chan bool   // SHUTDOWN clients: true, the node stops; false, aborted
}

// Shutdown asks Serve to stop (SHUTDOWN, a signal). Asked again while
// the node waits for its replicas, it stops at once, as SHUTDOWN NOW.
func (s *Server) Shutdown() { s.shutdownAsked(false) }

// shutdownAsked asks Serve to stop for a caller that waits for no answer,
// at once if now or if the node already waits for its replicas.
func (s *Server) shutdownAsked(now bool) {
	s.sd.mu.Lock()
	again := s.sd.waiting
	s.sd.mu.Unlock()
	s.requestShutdown(again || now)
}

// ShutdownSignal asks Serve to stop for SIGTERM (term) or SIGINT, with
// the SHUTDOWN options shutdown-on-sigterm or shutdown-on-sigint give:
// save or nosave, and now to skip the wait for the replicas (force adds
// nothing: a failed save never keeps walrus from stopping). A signal
// that comes while the node waits stops it at once, as Shutdown.
func (s *Server) ShutdownSignal(term bool) {
	name := "shutdown-on-sigint"
	if term {
		name = "shutdown-on-sigterm"
	}
	flags := strings.Fields(configValue(s.cfg, name))
	switch {
	case slices.Contains(flags, "save"):
		s.saveOnStop.Store(1)
	case slices.Contains(flags, "nosave"):
		s.saveOnStop.Store(-1)
	}
	s.shutdownAsked(slices.Contains(flags, "now"))
}

// requestShutdown asks Serve to stop, without the wait for replicas if
// now, and returns a channel told whether it will (true) or the shutdown
// was aborted (false).
func (s *Server) requestShutdown(now bool) <-chan bool {
	d := &s.sd
	d.mu.Lock()
	defer d.mu.Unlock()
	res := make(chan bool, 1)
	d.waiters = append(d.waiters, res)
	d.now = d.now || now
	if !d.asked {
		d.asked = true
		close(d.ch)
	}
	return res
}

// shutdownRequested returns the channel closed when a stop is asked.
func (s *Server) shutdownRequested() <-chan struct{} {
	s.sd.mu.Lock()
	defer s.sd.mu.Unlock()
	return s.sd.ch
}

// abortShutdown cancels a shutdown that waits for replicas (SHUTDOWN
// ABORT), and returns once the node serves on as before; false if no
// shutdown waits.
func (s *Server) abortShutdown() bool {
	d := &s.sd
	d.mu.Lock()
	if d.abort == nil {
		d.mu.Unlock()
		return false
	}
	close(d.abort)
	d.abort = nil
	ended := d.ended
	d.mu.Unlock()
	<-ended
	return true
}

// shutdownRemaining is INFO's shutdown_in_milliseconds: false unless the
// node is waiting for its replicas.
func (s *Server) shutdownRemaining() (int64, bool) {
	d := &s.sd
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.waiting {
		return 0, false
	}
	return max(0, time.Until(d.until).Milliseconds()), true
}

// waitForReplicas runs the wait before a stop. It returns false if the
// shutdown was aborted: Serve then serves on.
func (s *Server) waitForReplicas(ctx context.Context) bool {
	timeout := configSeconds(s.cfg, "shutdown-timeout")
	d := &s.sd
	d.mu.Lock()
	now := d.now
	m := s.repl.master
	if now || timeout <= 0 || len(m.Peers()) == 0 {
		d.mu.Unlock()
		s.endShutdownWait(true)
		return true
	}
	abort := make(chan struct{})
	if ctx.Err() == nil {
		d.abort = abort // a context's stop cannot be aborted
	}
	d.waiting, d.until, d.ended = true, time.Now().Add(timeout), make(chan struct{})
	d.mu.Unlock()

	s.pause.pause(pauseByShutdown, pauseWrite, forever)
	s.log.Info("waiting for replicas before shutting down", "timeout", timeout)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		last := s.eng.WAL().LastIndex()
		lagging := m.Lagging(last)
		if len(lagging) == 0 {
			s.log.Info("replicas are in sync: shutting down", "replicas", len(m.Peers()), "index", last)
			break
		}
		d.mu.Lock()
		now = d.now
		d.mu.Unlock()
		if now {
			s.log.Warn("shutting down now, without waiting for the replicas", "lagging", len(lagging))
			break
		}
		m.RequestAcks()
		select {
		case <-abort:
			s.log.Info("shutdown manually aborted")
			s.pause.unpause(pauseByShutdown)
			s.endShutdownWait(false)
			return false
		case <-deadline.C:
			for _, p := range lagging {
				s.log.Warn("lagging replica at shutdown", "replica", fmt.Sprintf("%s:%d", p.IP, p.Port), "acked", p.Offset, "behind", last-p.Offset, "state", p.State)
			}
			s.log.Warn("shutting down with replicas out of sync", "in_sync", len(m.Peers())-len(lagging), "replicas", len(m.Peers()))
			s.endShutdownWait(true)
			return true
		case <-tick.C:
		}
	}
	s.endShutdownWait(true)
	return true
}

// endShutdownWait tells the SHUTDOWN clients the outcome; after an abort
// the node can be asked to stop again.
func (s *Server) endShutdownWait(stopping bool) {
	d := &s.sd
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.waiters {
		w <- stopping
	}
	d.waiters, d.abort, d.waiting = nil, nil, false
	if d.ended != nil {
		close(d.ended)
		d.ended = nil
	}
	if !stopping {
		d.ch, d.asked, d.now = make(chan struct{}), false, false
		s.saveOnStop.Store(0)
	}
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] | SHUTDOWN ABORT
func cmdShutdown(s *Server, cl *client, args [][]byte) {
	if len(args) == 2 && strings.EqualFold(string(args[1]), "abort") {
		if !s.abortShutdown() {
			cl.err("ERR No shutdown in progress.")
			return
		}
		cl.ok()
		return
	}
	save, now := int32(0), false
	for _, a := range args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			save = -1
		case "save":
			save = 1
		case "now":
			now = true
		case "force":
		default:
			cl.err("ERR syntax error")
			return
		}
	}
	if save != 0 {
		s.saveOnStop.Store(save)
	}
	s.log.Info("user requested shutdown", "client", cl.addr)
	cl.blocked.Store(true) // while the node waits for its replicas, as in Redis
	stopping := <-s.requestShutdown(now)
	cl.blocked.Store(false)
	if !stopping {
		cl.err("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	cl.conn.Close()
}
