package engine

import (
	"context"
	"encoding/binary"
	"time"
)

// Active expiry, on the master only and not while clients are paused
// (HoldExpiry): every 100 ms the committer deletes up to expireBatch keys
// whose time has come (found through the expiry index), emitting a DEL
// entry for each so replicas follow. A cycle that filled its batch runs
// again at once, up to expireCycles times.
const (
	expireBatch  = 200
	expireCycles = 10
)

func (e *Engine) expireLoop(stop context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
		if e.replica.Load() || e.noExpire.Load() || e.expireOff.Load() || e.logBroken.Load() != nil {
			continue
		}
		for i := 0; i < expireCycles; i++ {
			n := 0
			err := e.do(func(c *ctx) {
				start := time.Now()
				n = c.expireDue(expireBatch)
				e.expireTime.Add(int64(time.Since(start)))
			})
			if err != nil || n < expireBatch {
				break
			}
			if i == expireCycles-1 {
				e.expireCapped.Add(1)
			}
		}
	}
}

// ExpireStats returns the time active expiry has spent deleting keys and
// how many times a tick stopped with keys still due (INFO's
// expire_cycle_cpu_milliseconds and expired_time_cap_reached_count).
func (e *Engine) ExpireStats() (spent time.Duration, capped int64) {
	return time.Duration(e.expireTime.Load()), e.expireCapped.Load()
}

// expireDue deletes up to limit expired keys across all databases and
// returns how many it deleted.
func (c *ctx) expireDue(limit int) int {
	deleted := 0
	for db := 0; db < c.e.opts.Databases && deleted < limit; db++ {
		c.selectDB(db)
		lo, hi := dbBounds(spaceExpiry, c.phys)
		hi = binary.BigEndian.AppendUint64(lo[:len(lo):len(lo)], uint64(c.now+1))
		it := c.iter(lo, hi)
		var keys [][]byte
		for it.First(); it.Valid() && len(keys) < limit-deleted; it.Next() {
			keys = append(keys, append([]byte(nil), it.Key()[11:]...))
		}
		it.Close()
		for _, k := range keys {
			// lookup deletes an expired key and emits its DEL.
			c.lookup(k)
			c.finishEntry()
			deleted++
		}
	}
	return deleted
}
