package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/tidwall/redcon"
)

// Session is one client connection's state the engine needs.
type Session struct {
	DB        int    // selected logical database
	LastWrite uint64 // log index of this session's last write (WAIT, WAITAOF)
	RESP3     bool   // replies in RESP3 (HELLO 3); set by the session's owner
	Client    any    // the caller's handle on the connection, for Options.Observe
	// ScriptRESP3: the commands run through Atomic's run (and a
	// transaction's foreign run) reply in RESP3, as a script's do after
	// redis.setresp(3). The owner sets it inside the run's callback.
	ScriptRESP3 bool

	watching   map[watchKey]struct{} // keys under WATCH; committer and owner, see watch.go
	watchDirty atomic.Bool           // a watched key changed since WATCH
	done       chan struct{}         // reused per request
}

// NewSession returns a session on database 0.
func NewSession() *Session { return &Session{done: make(chan struct{}, 1)} }

// request is one unit of work for the committer.
type request struct {
	sess    *Session
	cmds    [][][]byte                 // a client pipeline, or a transaction's queued commands
	multi   bool                       // EXEC: the commands form one entry; the reply is an array
	foreign Foreign                    // non-engine commands in a transaction
	refuse  func(args [][]byte) string // a transaction's check of each command as it comes to run
	exec    func(c *ctx)
	atomic  func(run func(args [][]byte) []byte) // a script (Atomic)

	// A replica applying its master's entries at their indexes.
	first   uint64
	entries [][]byte

	out     []byte
	err     error
	failMsg string // the error reply failReplies gave, for Atomic
	done    chan struct{}
}

// group is the committer's state for one group commit.
type group struct {
	entries  [][]byte
	delta    map[uint16]int64    // key count changes per physical db
	dbmap    bool                // SWAPDB ran: persist the map
	metas    map[string][]byte   // metadata written by the group (nil: deleted)
	pending  map[string]struct{} // metas not yet written to the batch
	lastMeta string              // the key setMeta wrote last
	elems    map[string][]byte   // element keys written by the group (nil: deleted)
	// clearRows: a range deletion removed metadata (FLUSHDB): the row
	// cache no longer describes the batch and is cleared at commit.
	clearRows bool
	// ahead is the pops' read-ahead (see popElem). It outlives the group:
	// reset keeps it, and only a group that fails to commit drops it.
	ahead *popAhead
	// functions: a function library changed (function.go).
	functions bool
	notes     []Note // keyspace events, handed over once committed (notify.go)
}

func newGroup() *group {
	return &group{delta: map[uint16]int64{}, metas: map[string][]byte{}, pending: map[string]struct{}{}, elems: map[string][]byte{}}
}

// maxReusedRows bounds the maps a group keeps for the next one: maps
// that grow from empty in every group cost the committer their rehashes,
// but a map grown huge once (a large transaction) would make every later
// clear pay for its capacity.
const maxReusedRows = 4096

// reset empties g for the next group commit, keeping its maps.
func (g *group) reset() {
	clear(g.entries) // drop references to the entries' bytes
	g.entries = g.entries[:0]
	g.dbmap, g.clearRows, g.functions = false, false, false
	clear(g.notes)
	g.notes = g.notes[:0]
	clear(g.delta)
	clear(g.pending)
	if len(g.metas) > maxReusedRows {
		g.metas = map[string][]byte{}
	} else {
		clear(g.metas)
	}
	if len(g.elems) > maxReusedRows {
		g.elems = map[string][]byte{}
	} else {
		clear(g.elems)
	}
}

// materialize writes the group's pending metadata into the batch.
func (g *group) materialize(b *pebble.Batch) error {
	for k := range g.pending {
		var err error
		if v := g.metas[k]; v != nil {
			err = b.Set([]byte(k), v, nil)
		} else {
			err = b.Delete([]byte(k), nil)
		}
		if err != nil {
			return err
		}
	}
	clear(g.pending)
	return nil
}

// setMeta records a metadata write (nil: a delete). A map key made from
// k costs an allocation; a group writing one key again and again (a
// pipeline of pops from one list) reuses the string it made last.
func (g *group) setMeta(k, v []byte) {
	if string(k) != g.lastMeta {
		g.lastMeta = string(k)
	}
	g.metas[g.lastMeta] = v
	g.pending[g.lastMeta] = struct{}{}
}

func (g *group) addCount(phys uint16, n int64) { g.delta[phys] += n }

const maxGroup = 256 // requests per group commit

// Exec runs a client pipeline in order and appends the replies to out.
// A pipeline with any write goes through the committer as one request, so
// its reads see its writes; a read-only pipeline runs here, on Pebble.
func (e *Engine) Exec(s *Session, cmds [][][]byte, out []byte) []byte {
	for _, args := range cmds {
		if cmd := Lookup(args[0]); cmd != nil && cmd.WritesWith(args) {
			return e.submit(&request{sess: s, cmds: cmds, out: out})
		}
	}
	e.swap.RLock()
	defer e.swap.RUnlock()
	c := &ctx{e: e, r: e.db, sess: s, out: out, now: e.opts.Now().UnixMilli(), resp3: s.RESP3}
	c.selectDB(s.DB)
	for _, args := range cmds {
		c.run(Lookup(args[0]), args)
	}
	s.DB = c.db
	return c.out
}

// Foreign answers a command the engine does not know inside a
// transaction, appending its reply to out. run runs engine commands in
// the transaction, as Atomic's does (a script queued in the transaction).
type Foreign func(args [][]byte, out []byte, run func(args [][]byte) []byte) []byte

// ExecMulti runs a transaction: all commands in one entry, applied
// atomically, replies as one array. It returns a null array when a
// watched key changed. Commands the engine does not know (PING, INFO, ...
// queued by the client) are answered by foreign, in order, inside the
// transaction. refuse, if set, is asked about each command in order just
// before it would run, after the ones before it have run: a command it
// returns an error for is not run, and that error is its reply.
func (e *Engine) ExecMulti(s *Session, cmds [][][]byte, refuse func(args [][]byte) string, out []byte, foreign Foreign) []byte {
	return e.submit(&request{sess: s, cmds: cmds, refuse: refuse, multi: true, out: out, foreign: foreign})
}

// Atomic runs fn in the committer, as Redis runs a script: every command
// fn passes to run executes there and then, in one write context with
// s's database; it sees what the commands before it wrote, no other
// client's write runs until fn returns, and the effects of all of them
// form one log entry (a MULTI/EXEC), applied atomically by every replica.
// run takes engine commands only and returns the command's RESP reply,
// valid until the next run. A SELECT inside fn changes fn's database,
// not s's. Should the writes fail to reach the log, Atomic returns the
// error reply to give instead of what fn made ("" when they did).
func (e *Engine) Atomic(s *Session, fn func(run func(args [][]byte) []byte)) string {
	r := &request{sess: s, atomic: fn}
	e.submit(r)
	return r.failMsg
}

// Apply appends a master's entries to the log at their indexes and applies
// them (a replica). first must be the log's next index.
//
// When no group is being committed, the caller commits the entries itself,
// as a group of their own: a replica's link then reads, applies and reads
// again on one goroutine. Handing each batch to the committer goroutine
// and waiting for it to hand back made the Go scheduler wake and park a
// thread twice per batch, a quarter of a replica's CPU under a stream of
// SETs. Otherwise the entries queue for the committer like any write.
func (e *Engine) Apply(first uint64, entries [][]byte) error {
	if e.commitMu.TryLock() {
		defer e.commitMu.Unlock()
		if e.closed.Load() {
			return ErrClosed
		}
		r := &request{first: first, entries: entries}
		e.commitGroup([]*request{r})
		return r.err
	}
	r := &request{first: first, entries: entries, done: make(chan struct{}, 1)}
	e.submit(r)
	return r.err
}

// Do runs fn in the committer as a write of its own (internal work such
// as active expiry); what fn emits is logged like a client's command.
func (e *Engine) do(fn func(c *ctx)) error {
	r := &request{exec: fn, sess: NewSession()}
	e.submit(r)
	return r.err
}

func (e *Engine) submit(r *request) []byte {
	if r.done == nil {
		if r.sess != nil {
			r.done = r.sess.done
		} else {
			r.done = make(chan struct{}, 1)
		}
	}
	if e.closed.Load() {
		r.err = ErrClosed
		return e.failReplies(r, "ERR server is shutting down")
	}
	select {
	case e.reqs <- r:
	case <-e.stopped():
		r.err = ErrClosed
		return e.failReplies(r, "ERR server is shutting down")
	}
	<-r.done
	return r.out
}

func (e *Engine) stopped() <-chan struct{} { return e.stopCh }

// physOf maps a logical database to its physical one.
func (e *Engine) physOf(db int) uint16 { return (*e.dbmap.Load())[db] }

// commitLoop is the committer: it owns the order of all writes.
func (e *Engine) commitLoop(stop context.Context) {
	group := make([]*request, 0, maxGroup)
	repair := time.NewTicker(repairInterval)
	defer repair.Stop()
	for {
		select {
		case r := <-e.reqs:
			group = append(group[:0], r)
		case <-repair.C:
			if e.logBroken.Load() != nil {
				e.commitMu.Lock()
				if err := e.repairLog(); err != nil {
					e.log.Debug("log not writable yet", "err", err)
				}
				e.commitMu.Unlock()
			}
			continue
		case <-stop.Done():
			e.drain()
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case r := <-e.reqs:
				group = append(group, r)
			default:
				break more
			}
		}
		e.commitMu.Lock()
		e.commitGroup(group)
		e.commitMu.Unlock()
		for _, r := range group {
			r.done <- struct{}{}
		}
	}
}

// drain fails whatever is still queued at shutdown.
func (e *Engine) drain() {
	for {
		select {
		case r := <-e.reqs:
			r.err = ErrClosed
			r.out = e.failReplies(r, "ERR server is shutting down")
			r.done <- struct{}{}
		default:
			return
		}
	}
}

// failReplies gives every command of r the same error reply.
func (e *Engine) failReplies(r *request, msg string) []byte {
	r.failMsg = msg
	r.out = r.out[:len(r.out):len(r.out)]
	if r.multi {
		return redcon.AppendError(r.out, "EXECABORT Transaction discarded because of: "+strings.TrimPrefix(msg, "ERR "))
	}
	for range r.cmds {
		r.out = redcon.AppendError(r.out, msg)
	}
	return r.out
}

// commitGroup executes a group, appends its entries to the log (the commit
// point), commits the Pebble batch and releases the replies.
func (e *Engine) commitGroup(reqs []*request) {
	e.swap.RLock()
	defer e.swap.RUnlock()
	if err := e.logBroken.Load(); err != nil {
		for _, r := range reqs {
			r.err = *err
			r.out = e.failReplies(r, "MISCONF Errors writing to the AOF file: "+(*err).Error())
		}
		return
	}
	b := e.db.NewIndexedBatch()
	g := e.grp // the committer's own, reused
	g.reset()
	savedMap := e.dbmap.Load()
	next := e.wlog.LastIndex() + 1
	marks := make([]int, len(reqs))
	ends := make([]int, len(reqs)) // entries in the group after each request
	for i, r := range reqs {
		marks[i] = len(r.out)
		switch {
		case r.entries != nil:
			r.err = e.applyReplicated(b, g, next+uint64(len(g.entries)), r)
		case r.exec != nil:
			c := e.writeCtx(b, g, r.sess, next, nil)
			c.exec(r.exec)
			c.finishEntry()
		case r.multi:
			e.execMulti(b, g, next, r)
		case r.atomic != nil:
			e.execAtomic(b, g, next, r)
		default:
			c := e.writeCtx(b, g, r.sess, next, r.out)
			for _, args := range r.cmds {
				c.runWrite(Lookup(args[0]), args)
			}
			r.sess.DB = c.db
			r.out = c.out
		}
		ends[i] = len(g.entries)
	}
	if err := replicatedError(reqs); err != nil {
		// A master's entry that does not apply leaves the entries before
		// it, and maybe part of it, in the batch but not in the log: commit
		// nothing, so the replica stays at an index its state matches.
		b.Close()
		g.ahead = nil
		e.dbmap.Store(savedMap)
		for i, r := range reqs {
			if r.err == nil {
				r.err = fmt.Errorf("not applied: %w", err)
			}
			r.out = r.out[:marks[i]]
			r.out = e.failReplies(r, "ERR "+r.err.Error())
		}
		return
	}
	if len(g.entries) > 0 {
		if err := e.wlog.Append(next, g.entries); err != nil {
			e.markBroken(err, "log append", next)
			b.Close()
			g.ahead = nil // it read ahead past pops that did not happen
			e.dbmap.Store(savedMap)
			for i, r := range reqs {
				r.err = err
				r.out = r.out[:marks[i]]
				r.out = e.failReplies(r, "MISCONF Errors writing to the AOF file: "+err.Error())
			}
			return
		}
	}
	if b.Empty() && len(g.entries) == 0 && len(g.pending) == 0 {
		if len(g.notes) > 0 && e.opts.Notify != nil {
			e.opts.Notify(g.notes) // events of writes that changed nothing (LTRIM of all)
		}
		b.Close()
		return
	}
	last := next + uint64(len(g.entries)) - 1
	if err := e.commitBatch(b, last, g); err != nil {
		// The entries are in the log: a restart replays them. Refuse
		// further writes rather than diverge from the log.
		e.markBroken(err, "pebble commit", last)
		g.ahead = nil
		for i, r := range reqs {
			r.err = err
			r.out = r.out[:marks[i]]
			r.out = e.failReplies(r, "MISCONF Errors writing to the AOF file: "+err.Error())
		}
		return
	}
	e.dirty.Add(int64(len(g.entries)))
	e.wroteOK()
	e.overrunPins()
	if len(g.notes) > 0 && e.opts.Notify != nil {
		e.opts.Notify(g.notes)
	}
	for i, r := range reqs {
		if r.sess != nil && ends[i] > 0 && (i == 0 || ends[i] > ends[i-1]) {
			r.sess.LastWrite = next + uint64(ends[i]) - 1
		}
	}
}

// commitBatch adds the system keys to b and commits it. index is the last
// log entry whose effects b holds.
func (e *Engine) commitBatch(b *pebble.Batch, index uint64, g *group) error {
	defer b.Close()
	if g != nil {
		if err := g.materialize(b); err != nil {
			return err
		}
		e.addKeys(g)
		for phys, d := range g.delta {
			if d == 0 {
				continue
			}
			n := e.counts[phys].Load() + d
			if err := b.Set(keyCount(phys), binary.BigEndian.AppendUint64(nil, uint64(n)), nil); err != nil {
				return err
			}
		}
		if g.dbmap {
			var v []byte
			for _, p := range *e.dbmap.Load() {
				v = binary.BigEndian.AppendUint16(v, p)
			}
			if err := b.Set(keyDBMap, v, nil); err != nil {
				return err
			}
		}
	}
	if err := b.Set(keyApplied, binary.BigEndian.AppendUint64(nil, index), nil); err != nil {
		return err
	}
	if e.opts.beforeCommit != nil {
		e.opts.beforeCommit()
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("commit batch at index %d: %w", index, err)
	}
	if g != nil {
		if g.functions {
			e.fnVersion.Add(1)
		}
		for phys, d := range g.delta {
			e.counts[phys].Add(d)
		}
		if g.clearRows {
			e.rows.clear()
		}
		write := e.rows.write
		if e.replica.Load() {
			// The master's writes would push out of the cache what the
			// replica's readers use, and putting each one there cost
			// about a tenth of a replica's CPU under a stream of SETs.
			write = e.rows.update
		}
		for k, v := range g.metas {
			write(k, v)
		}
		for k, v := range g.elems {
			write(k, v)
		}
	}
	e.applied.Store(index)
	return nil
}

// writeCtx returns a context writing into the group's batch; its entry
// will take the next free index.
func (e *Engine) writeCtx(b *pebble.Batch, g *group, s *Session, next uint64, out []byte) *ctx {
	c := &ctx{e: e, g: g, r: b, b: b, sess: s, out: out, now: e.opts.Now().UnixMilli(), resp3: s.RESP3}
	c.selectDB(s.DB)
	c.index = next + uint64(len(g.entries))
	return c
}

// finishEntry turns the effects of the command (or transaction) just run
// into one log entry: a lone command as itself, several wrapped in
// MULTI/EXEC (a lone command outside db 0 is wrapped with its SELECT).
func (c *ctx) finishEntry() {
	switch len(c.effects) {
	case 0:
	case 1:
		c.g.entries = append(c.g.entries, c.effects[0])
	default:
		n := 0
		for _, ef := range c.effects {
			n += len(ef)
		}
		entry := make([]byte, 0, n+32)
		entry = append(entry, multiCmd...)
		for _, ef := range c.effects {
			entry = append(entry, ef...)
		}
		entry = append(entry, execCmd...)
		c.g.entries = append(c.g.entries, entry)
	}
	c.effects = c.effects[:0]
	c.entryDB = 0
	c.seq = 0
	c.index = c.e.nextIndexOf(c.g)
}

var (
	multiCmd = encodeCommand(nil, bs("MULTI"))
	execCmd  = encodeCommand(nil, bs("EXEC"))
)

func (e *Engine) nextIndexOf(g *group) uint64 {
	return e.wlog.LastIndex() + 1 + uint64(len(g.entries))
}

// runWrite runs one command of a pipeline in a write context and closes
// its entry.
func (c *ctx) runWrite(cmd *Command, args [][]byte) {
	c.run(cmd, args)
	if len(c.effects) > 0 {
		if cmd != nil {
			c.e.watch.touch(c, cmd, args)
		}
		c.finishEntry()
	}
}

// run executes one command, turning a storage failure into an error reply.
func (c *ctx) run(cmd *Command, args [][]byte) {
	if cmd == nil {
		c.replyError(fmt.Sprintf("ERR unknown command '%s'", args[0]))
		return
	}
	if !cmd.ArityOK(len(args)) {
		c.replyArgsError(cmd.Name)
		return
	}
	if c.e.opts.Observe != nil && !c.noStats {
		defer c.observe(cmd, args, len(c.out), time.Now()) // after recoverStorage
	}
	defer c.recoverStorage()
	c.readCmd = cmd.Flags&ReadOnly != 0
	c.readLookup = !c.readCmd && readsSources[cmd.Name]
	c.noTouch = noTouch[cmd.Name]
	cmd.run(c, args)
}

// observe tells Options.Observe of a command that ran from start and
// appended its reply at out[mark:].
func (c *ctx) observe(cmd *Command, args [][]byte, mark int, start time.Time) {
	reply := c.out[mark:]
	if cmd.Flags&Blocking != 0 && !c.txn && IsNullReply(reply) && retried(cmd, args) {
		return
	}
	c.e.opts.Observe(c.sess, c.db, cmd, args, time.Since(start), reply)
}

// recoverStorage turns a storageError panic into an error reply; it must
// be called directly by a deferred statement.
func (c *ctx) recoverStorage() {
	if r := recover(); r != nil {
		se, ok := r.(storageError)
		if !ok {
			panic(r)
		}
		c.e.log.Error("storage error", "err", se.err)
		c.replyError("ERR storage error: " + se.err.Error())
	}
}

// exec calls fn, recovering a storageError into an error reply.
func (c *ctx) exec(fn func(c *ctx)) {
	defer c.recoverStorage()
	fn(c)
}

// execMulti runs a transaction's commands into one entry.
func (e *Engine) execMulti(b *pebble.Batch, g *group, next uint64, r *request) {
	s := r.sess
	if s.watchDirty.Load() {
		e.watch.unwatchAll(s)
		r.out = AppendNullArray(r.out, s.RESP3)
		return
	}
	e.watch.unwatchAll(s)
	c := e.writeCtx(b, g, s, next, r.out)
	c.txn = true
	c.replyArray(len(r.cmds))
	var run func(args [][]byte) []byte
	for _, args := range r.cmds {
		if r.refuse != nil {
			if msg := r.refuse(args); msg != "" {
				c.replyError(msg)
				continue
			}
		}
		cmd := Lookup(args[0])
		if cmd == nil && r.foreign != nil {
			if run == nil {
				run = c.nested()
			}
			db := c.db
			c.out = r.foreign(args, c.out, run)
			c.selectDB(db) // a script's SELECT is its own, as in Redis 7.0
			continue
		}
		before := len(c.effects)
		c.run(cmd, args)
		if len(c.effects) > before && cmd != nil {
			e.watch.touch(c, cmd, args)
		}
	}
	s.DB = c.db
	r.out = c.out
	c.finishEntry()
}

// execAtomic runs a script's commands (Atomic) into one entry.
func (e *Engine) execAtomic(b *pebble.Batch, g *group, next uint64, r *request) {
	c := e.writeCtx(b, g, r.sess, next, nil)
	c.txn = true
	r.atomic(c.nested())
	c.finishEntry()
}

// nested returns a function that runs a command in c and returns its
// reply alone, valid until the next call: Atomic's run.
func (c *ctx) nested() func(args [][]byte) []byte {
	var reply []byte
	return func(args [][]byte) []byte {
		cmd := Lookup(args[0])
		saved, resp3 := c.out, c.resp3
		// A script reads RESP2 (Redis's default) unless it asked for RESP3.
		c.out, c.resp3 = reply[:0], c.sess != nil && c.sess.ScriptRESP3
		before := len(c.effects)
		c.run(cmd, args)
		if len(c.effects) > before && cmd != nil {
			c.e.watch.touch(c, cmd, args)
		}
		reply = c.out
		c.out, c.resp3 = saved, resp3
		return reply
	}
}

// replicatedError is the first error of a group's replicated requests.
func replicatedError(reqs []*request) error {
	for _, r := range reqs {
		if r.entries != nil && r.err != nil {
			return r.err
		}
	}
	return nil
}

// applyReplicated applies a master's entries at their indexes.
func (e *Engine) applyReplicated(b *pebble.Batch, g *group, next uint64, r *request) error {
	if r.first != next {
		return fmt.Errorf("entries start at %d but the log's next index is %d", r.first, next)
	}
	for i, data := range r.entries {
		if err := e.applyEntry(b, next+uint64(i), data, g); err != nil {
			return fmt.Errorf("apply entry %d: %w", next+uint64(i), err)
		}
	}
	g.entries = append(g.entries, r.entries...)
	return nil
}

// applyEntry applies one entry's commands in raw mode. An effect that
// answers an error did not apply as it did on the master (a storage
// error, or a log this build does not understand): that is an error, never
// a write silently skipped.
func (e *Engine) applyEntry(b *pebble.Batch, index uint64, data []byte, g *group) error {
	c := &ctx{e: e, g: g, r: b, b: b, raw: true, index: index}
	c.selectDB(0)
	return forEachCommand(data, func(args [][]byte) error {
		name := strings.ToUpper(string(args[0]))
		switch name {
		case "MULTI", "EXEC":
			return nil
		case "SELECT":
			if len(args) != 2 {
				return errors.New("bad SELECT in entry")
			}
			db, err := parseInt(args[1])
			if err != nil || db < 0 || int(db) >= e.opts.Databases {
				return fmt.Errorf("entry selects db %q out of range", args[1])
			}
			c.selectDB(int(db))
			return nil
		}
		cmd := Lookup(args[0])
		if cmd == nil || cmd.Flags&Write == 0 {
			return fmt.Errorf("entry holds %q, not a write command", args[0])
		}
		if !cmd.ArityOK(len(args)) {
			return fmt.Errorf("entry holds %q with %d arguments", args[0], len(args))
		}
		mark := len(c.out)
		c.run(cmd, args)
		if len(c.out) > mark && c.out[mark] == '-' {
			return fmt.Errorf("%s: %s", name, strings.TrimSpace(string(c.out[mark+1:])))
		}
		c.out = c.out[:0]
		return nil
	})
}

// forEachCommand calls fn for each RESP command in data.
func forEachCommand(data []byte, fn func(args [][]byte) error) error {
	for len(data) > 0 {
		complete, args, _, rest, err := redcon.ReadNextCommand(data, nil)
		if err != nil {
			return fmt.Errorf("bad entry: %w", err)
		}
		if !complete || len(args) == 0 {
			return errors.New("bad entry: incomplete command")
		}
		if err := fn(args); err != nil {
			return err
		}
		data = rest
	}
	return nil
}

// encodeCommand appends args as a RESP array of bulk strings.
func encodeCommand(dst []byte, args ...[]byte) []byte {
	if dst == nil {
		n := 16
		for _, a := range args {
			n += len(a) + 16
		}
		dst = make([]byte, 0, n)
	}
	dst = redcon.AppendArray(dst, len(args))
	for _, a := range args {
		dst = redcon.AppendBulk(dst, a)
	}
	return dst
}
