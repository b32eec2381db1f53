package server

import (
	"time"
)

// Idle clients: the `timeout` directive. Like Redis's clientsCron, a
// goroutine owned by Serve looks at every client once a second and closes
// those that sent nothing for longer than timeout (0: never). Exempt, as in
// Redis: clients inside a command (a blocking command waits as long as it
// asked), subscribers (they only listen), and replicas (handed to the
// replication code, so no longer in the client table; repl-timeout governs
// them).

// idlePeriod is how often idle clients are looked for.
const idlePeriod = time.Second

// reapIdle closes idle clients until stop is closed.
func (s *Server) reapIdle(stop <-chan struct{}) {
	t := time.NewTicker(idlePeriod)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.cfg.RLock()
		timeout := s.cfg.Timeout
		s.cfg.RUnlock()
		if timeout <= 0 {
			continue
		}
		cutoff := time.Now().Add(-timeout).UnixMilli()
		var idle []*client
		s.mu.Lock()
		for _, cl := range s.clients {
			if cl.lastActive.Load() < cutoff && !cl.busy.Load() && cl.subs.Load() == 0 {
				idle = append(idle, cl)
			}
		}
		s.mu.Unlock()
		for _, cl := range idle {
			// Closing the socket ends redcon's read; its close callback
			// removes the client.
			cl.conn.NetConn().Close()
		}
		if len(idle) > 0 {
			s.log.Debug("closed idle clients", "count", len(idle), "timeout", timeout)
		}
	}
}
