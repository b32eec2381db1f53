package engine

import "sync"

// watchKey names a key in a physical database.
type watchKey struct {
	phys uint16
	key  string
}

// watchTable maps watched keys to the sessions watching them. The
// committer marks sessions dirty when it changes a watched key; EXEC then
// fails with a null reply, as in Redis.
type watchTable struct {
	mu   sync.Mutex // guards keys and every Session.watching
	keys map[watchKey]map[*Session]struct{}
	n    int // len(keys), read without the lock only by the committer's fast path
}

func (w *watchTable) init() { w.keys = map[watchKey]map[*Session]struct{}{} }

// Watch adds keys of the session's current database to its watch set.
func (e *Engine) Watch(s *Session, keys [][]byte) {
	w := &e.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	phys := e.physOf(s.DB)
	if s.watching == nil {
		s.watching = map[watchKey]struct{}{}
	}
	for _, k := range keys {
		wk := watchKey{phys, string(k)}
		if w.keys[wk] == nil {
			w.keys[wk] = map[*Session]struct{}{}
		}
		w.keys[wk][s] = struct{}{}
		s.watching[wk] = struct{}{}
	}
	w.n = len(w.keys)
}

// Unwatch forgets every key the session watches (UNWATCH, DISCARD, EXEC,
// and a closed connection).
func (e *Engine) Unwatch(s *Session) { e.watch.unwatchAll(s) }

func (w *watchTable) unwatchAll(s *Session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for wk := range s.watching {
		if m := w.keys[wk]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(w.keys, wk)
			}
		}
	}
	s.watching = nil
	s.watchDirty.Store(false)
	w.n = len(w.keys)
}

// touch marks the watchers of the keys a write command changed.
func (w *watchTable) touch(c *ctx, cmd *Command, args [][]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.keys) == 0 {
		return
	}
	for _, k := range cmd.Keys(args) {
		for s := range w.keys[watchKey{c.phys, string(k)}] {
			s.watchDirty.Store(true)
		}
	}
}

// touchDB marks every watcher of a physical database (FLUSHDB, SWAPDB).
func (w *watchTable) touchDB(phys uint16) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for wk, m := range w.keys {
		if wk.phys == phys {
			for s := range m {
				s.watchDirty.Store(true)
			}
		}
	}
}

// WatchFailed reports whether a key the session watches changed since
// WATCH (EXEC will fail).
func (s *Session) WatchFailed() bool { return s.watchDirty.Load() }
