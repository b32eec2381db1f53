package replica

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// RDBFunc writes the dataset as a Redis RDB file to w, calling begin with
// the log index the file holds (see engine.RDBOptions.Begin) before it
// writes anything.
type RDBFunc func(w io.Writer, begin func(index uint64) error) error

// ServeRedis serves a replica that speaks Redis's protocol: a real
// redis-server replicating from this node (PSYNC replid offset), or a
// tool that sends SYNC (`redis-cli --replica`, `--rdb`).
//
// On a full resync it gets what Redis sends: `+FULLRESYNC <id> <offset>`
// for a PSYNC, the dataset as an RDB file in the diskless framing
// ("$EOF:<mark>", the file, the mark), then, unless RDBOnly, the log
// from the file's index on as Redis commands (engine.AppendRedisEntry)
// with PINGs, GETACKs and PUBLISHes, as the Master feeds its own
// replicas. The id names this stream alone, and the offset announced is
// the file's log index; after it, offsets count the stream's bytes, as
// in Redis, and the Master remembers which log index every command
// boundary of the stream ends (streamMark) to map the replica's ACKs
// back to log indexes for WAIT and INFO.
//
// A replica that comes back with PSYNC <id> <offset> for a stream the
// Master still remembers, at a boundary it marked and with the log still
// holding what follows, continues where it was (`+CONTINUE <id>`), as
// after a partial resync in Redis; anything else is a full resync.
func (m *Master) ServeRedis(conn Conn, ip string, port int, req RedisSync) {
	m.start(&Peer{conn: conn, IP: ip, Port: port, isRedis: true}, func(p *Peer) error { return m.serveRedis(p, req) })
}

// RedisSync is what a client speaking Redis's replication protocol asked
// for.
type RedisSync struct {
	PSYNC          bool   // PSYNC (a replica), not SYNC (a tool)
	Replid, Offset string // PSYNC's arguments
	RDBOnly        bool   // REPLCONF rdb-only 1: the RDB file alone
	RDB            RDBFunc
}

func (m *Master) serveRedis(p *Peer, req RedisSync) error {
	w := m.eng.WAL()
	nc := p.conn.NetConn()
	counted := &countingWriter{w: deadlineWriter{nc, m}}
	bw := bufio.NewWriterSize(counted, 256<<10)
	pin := m.eng.Pin(w.FirstIndex())
	defer pin.Release()
	defer m.watchOverrun(p, pin)()

	var next uint64
	if old, at, ok := m.redisResume(req); ok {
		pin.Move(at.index + 1)
		fmt.Fprintf(bw, "+CONTINUE %s\r\n", old.id)
		if err := m.flush(nc, bw); err != nil {
			return err
		}
		counted.n = 0
		m.partialOK.Add(1)
		m.log.Info("partial resynchronization request accepted from Redis replica", "replica", p.addr(), "replid", old.id, "offset", at.offset, "from_index", at.index+1)
		p.redis = newRedisStream(old.id, at.offset, counted, at.index)
		next = at.index + 1
	} else {
		if req.PSYNC && req.Replid != "?" {
			m.partialErr.Add(1)
		}
		id := newStreamID()
		index, err := m.sendRDB(p, bw, pin, id, req)
		if err != nil || req.RDBOnly {
			return err
		}
		counted.n = 0
		p.redis = newRedisStream(id, index, counted, index)
		p.redis.acked = make(chan struct{})
		next = index + 1
	}
	if req.PSYNC {
		m.rememberRedis(p.redis)
	}
	p.state.Store(stateOnline)
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	go func() {
		m.readAcks(p, pin)
		cancel()
	}()
	if p.redis.acked != nil {
		// A replica reading an RDB that ends in a mark reads past the
		// mark whatever has come, and loses it; so, as Redis does, the
		// stream starts with its first ACK, sent once the file is loaded.
		select {
		case <-p.redis.acked:
		case <-ctx.Done():
			return errors.New("no ACK after the RDB")
		}
	}
	// A PING first: redis-cli --replica reads one reply to the ACK it
	// sends (a master answers none), and takes whatever comes first.
	bw.WriteString("*1\r\n$4\r\nPING\r\n")
	p.redis.mark(bw, next-1)
	return m.feed(ctx, p, bw, next)
}

// sendRDB sends the dataset as an RDB file, after +FULLRESYNC <id> for
// a PSYNC, and returns the log index it holds, from which the log stays
// pinned.
func (m *Master) sendRDB(p *Peer, bw *bufio.Writer, pin *engine.Pin, id string, req RedisSync) (uint64, error) {
	w := m.eng.WAL()
	m.fullSyncs.Add(1)
	eof := newStreamID() // 40 random hex digits, as Redis's mark
	var index uint64
	start := time.Now()
	// Paced as a checkpoint stream is (repl-checkpoint-max-rate), so the
	// RDB leaves the master's CPU to its clients; begin writes the header
	// straight to bw, which the first paced step flushes.
	paced := &pacedWriter{ctx: m.ctx, w: bw, limit: m.limit}
	err := req.RDB(paced, func(i uint64) error {
		if i+1 < w.FirstIndex() {
			return fmt.Errorf("dataset at %d is older than the log (first %d)", i, w.FirstIndex())
		}
		index = i
		pin.Move(i + 1)
		if req.PSYNC {
			fmt.Fprintf(bw, "+FULLRESYNC %s %d\r\n", id, i)
		}
		bw.WriteString("$EOF:" + eof + "\r\n")
		p.state.Store(stateSendBulk)
		m.log.Info("streaming RDB to Redis replica", "replica", p.addr(), "replid", id, "index", i)
		return nil
	})
	if err == nil {
		bw.WriteString(eof)
		err = m.flush(p.conn.NetConn(), bw)
	}
	if err != nil {
		return 0, fmt.Errorf("RDB: %w", err)
	}
	m.log.Info("RDB transferred to Redis replica", "replica", p.addr(), "index", index, "took", time.Since(start).Round(time.Millisecond))
	return index, nil
}

// newStreamID returns 40 random hex digits: a replication ID, or the
// mark that ends an RDB file.
func newStreamID() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxRedisStreams is how many Redis replicas' streams the Master
// remembers for a partial resync, the most recently served first.
const maxRedisStreams = 16

// rememberRedis keeps s for a partial resync of its replica, in place of
// any stream of the same ID (the one it continues), and forgets the
// oldest past maxRedisStreams.
func (m *Master) rememberRedis(s *redisStream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.redisStreams = slices.DeleteFunc(m.redisStreams, func(o *redisStream) bool { return o.id == s.id })
	m.redisStreams = append(m.redisStreams, s)
	if len(m.redisStreams) > maxRedisStreams {
		m.redisStreams = slices.Delete(m.redisStreams, 0, len(m.redisStreams)-maxRedisStreams)
	}
}

// redisResume finds where a Redis replica's PSYNC replid offset can
// continue: a stream of that ID the Master remembers, a command boundary
// of it at offset-1 (the last byte the replica applied), and the log
// still holding the entry after it.
func (m *Master) redisResume(req RedisSync) (*redisStream, streamMark, bool) {
	off, err := strconv.ParseUint(req.Offset, 10, 64)
	if !req.PSYNC || err != nil || off == 0 {
		return nil, streamMark{}, false
	}
	m.mu.Lock()
	i := slices.IndexFunc(m.redisStreams, func(s *redisStream) bool { return s.id == req.Replid })
	var s *redisStream
	if i >= 0 {
		s = m.redisStreams[i]
	}
	m.mu.Unlock()
	if s == nil {
		return nil, streamMark{}, false
	}
	at, ok := s.boundary(off - 1)
	w := m.eng.WAL()
	if !ok || at.index+1 < w.FirstIndex() || at.index > w.LastIndex() {
		return nil, streamMark{}, false
	}
	return s, at, true
}

// countingWriter counts the bytes that pass.
type countingWriter struct {
	w io.Writer
	n uint64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += uint64(n)
	return n, err
}

// redisStream encodes log entries for a Redis replica and remembers
// which log index each command boundary of the stream ends, to read its
// ACKs and to continue it after a reconnection.
type redisStream struct {
	id      string          // its replication ID
	base    uint64          // the offset counted at its start
	counted *countingWriter // under the stream's bufio.Writer; counts from its start
	db      int             // the database the stream has selected; -1 before its first SELECT
	buf     []byte

	acked     chan struct{} // after an RDB: closed at the replica's first ACK
	ackedOnce sync.Once

	mu    sync.Mutex
	marks []streamMark // oldest first
}

// A streamMark says the stream's bytes up to offset carry the log up to
// index.
type streamMark struct{ offset, index uint64 }

// maxMarks bounds the marks a stream keeps (16 bytes each). Past it the
// older half goes: an ACK older than what is left counts as nothing
// applied since the stream began, and the replica cannot continue from
// there.
const maxMarks = 1 << 16

func newRedisStream(id string, base uint64, counted *countingWriter, index uint64) *redisStream {
	r := &redisStream{id: id, base: base, counted: counted, db: -1}
	r.marks = append(r.marks, streamMark{base, index})
	return r
}

// write writes the entries from index first on to bw, marking the end
// of each.
func (r *redisStream) write(bw *bufio.Writer, ents [][]byte, first uint64) error {
	for i, e := range ents {
		var err error
		if r.buf, err = engine.AppendRedisEntry(r.buf[:0], e, &r.db); err != nil {
			return err
		}
		bw.Write(r.buf)
		r.mark(bw, first+uint64(i))
	}
	return nil
}

// mark records that the stream, as far as it has been written to bw,
// carries the log up to index.
func (r *redisStream) mark(bw *bufio.Writer, index uint64) {
	offset := r.base + r.counted.n + uint64(bw.Buffered())
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.marks); n > 0 && r.marks[n-1].offset == offset {
		return
	}
	if len(r.marks) == maxMarks {
		r.marks = append(r.marks[:0], r.marks[maxMarks/2:]...)
	}
	r.marks = append(r.marks, streamMark{offset, index})
}

// ack maps an ACK's offsets to log indexes (see index), the first ACK
// starting the stream.
func (r *redisStream) ack(offset, fsynced uint64) (uint64, uint64) {
	if r.acked != nil {
		r.ackedOnce.Do(func() { close(r.acked) })
	}
	f := r.index(fsynced) // first: index forgets what is before its offset
	return r.index(offset), f
}

// index maps an acknowledged offset to the last log index it covers, and
// forgets the marks before the last one it reaches: the replica will not
// go back past them.
func (r *redisStream) index(offset uint64) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, _ := slices.BinarySearchFunc(r.marks, offset, func(m streamMark, o uint64) int { return cmp.Compare(m.offset, o+1) })
	if i == 0 {
		return 0
	}
	index := r.marks[i-1].index
	r.marks = append(r.marks[:0], r.marks[i-1:]...)
	return index
}

// boundary returns the mark exactly at offset, if the stream has one.
func (r *redisStream) boundary(offset uint64) (streamMark, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := slices.BinarySearchFunc(r.marks, offset, func(m streamMark, o uint64) int { return cmp.Compare(m.offset, o) })
	if !ok {
		return streamMark{}, false
	}
	return r.marks[i], true
}
