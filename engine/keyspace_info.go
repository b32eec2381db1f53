package engine

// DBStats is one logical database's line of INFO keyspace.
type DBStats struct {
	Keys    int64
	Expires int64
}

// Keyspace returns the key and expiring-key counts of every logical db.
// Expires is counted from the expiry index (O(keys with a TTL)).
func (e *Engine) Keyspace() []DBStats {
	e.swap.RLock()
	defer e.swap.RUnlock()
	out := make([]DBStats, e.opts.Databases)
	c := e.readCtx()
	for db := range out {
		c.selectDB(db)
		out[db].Keys = e.counts[c.phys].Load()
		if out[db].Keys == 0 {
			continue
		}
		lo, hi := dbBounds(spaceExpiry, c.phys)
		it := c.iter(lo, hi)
		for it.First(); it.Valid(); it.Next() {
			out[db].Expires++
		}
		it.Close()
	}
	return out
}

// KeyCount is the number of keys in all databases (some may have expired
// and not yet been deleted).
func (e *Engine) KeyCount() int64 {
	var n int64
	for i := range e.counts {
		n += e.counts[i].Load()
	}
	return n
}

// RowCacheBytes is the memory the row cache has taken, off the Go heap.
func (e *Engine) RowCacheBytes() uint64 { return e.rows.bytes() }

// WriteStatus is "ok", or "err" once a log append or commit failed and
// writes are refused (INFO aof_last_write_status).
func (e *Engine) WriteStatus() string {
	if e.logBroken.Load() != nil {
		return "err"
	}
	return "ok"
}
