package engine

import (
	"errors"
	"fmt"
	"time"
)

// Disk trouble: the way back after a failed write.
//
// A failed log append (a full disk, an I/O error) or a failed Pebble commit
// marks the engine broken (logBroken): the group's in-memory changes are
// dropped, its clients get Redis's "MISCONF Errors writing to the AOF file"
// error, every later write gets the same error, and reads go on. Nothing
// acknowledged is lost: a write is acknowledged only after its group's
// append and commit succeeded.
//
// Once a second (repairInterval) the committer tries the way back, which is
// exactly what a restart would do: reopen the log (wal.File.Reopen verifies
// every record and cuts a torn tail left by a partial write), then replay
// every entry after Pebble's applied index. Entries of the failed group that
// did reach the log are replayed too: their clients got an error, which
// in Redis as here promises nothing about absence, and the log stays the
// one truth that replicas and recovery follow. Then writes are accepted
// again. Redis retries a failed AOF write the same way, from its cron.

// repairInterval is how often a broken engine tries to recover.
const repairInterval = time.Second

// logReopener is a log that can recover from a failed write (*wal.File).
// A log without it (the in-memory ring never fails a write) is considered
// usable as it is.
type logReopener interface {
	Reopen() error
}

// errLogRepair wraps a failed recovery attempt.
var errLogRepair = errors.New("log still unusable")

// repairLog runs in the committer while the engine is broken. On success
// writes are accepted again.
func (e *Engine) repairLog() error {
	e.swap.RLock()
	defer e.swap.RUnlock()
	if e.logBroken.Load() == nil {
		return nil
	}
	if r, ok := e.wlog.(logReopener); ok {
		if err := r.Reopen(); err != nil {
			return fmt.Errorf("%w: %w", errLogRepair, err)
		}
	}
	if err := e.recover(); err != nil {
		return fmt.Errorf("%w: %w", errLogRepair, err)
	}
	e.logBroken.Store(nil)
	return nil
}

// markBroken records a failed append or commit. It logs once per episode
// of trouble (a disk that stays full fails every retry), not per group.
func (e *Engine) markBroken(err error, what string, index uint64) {
	e.logBroken.Store(&err)
	if !e.diskTrouble {
		e.diskTrouble = true
		e.log.Error(what+" failed: writes are refused (MISCONF) until the log is writable again",
			"err", err, "index", index)
	}
}

// wroteOK notes a group committed; it ends an episode of disk trouble.
func (e *Engine) wroteOK() {
	if e.diskTrouble {
		e.diskTrouble = false
		e.log.Info("log write error looks solved: writes are accepted again", "index", e.applied.Load())
	}
}
