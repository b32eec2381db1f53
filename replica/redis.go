package replica

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// RDBFunc writes the dataset as a Redis RDB file to w, calling begin with
// the log index the file holds (see engine.RDBOptions.Begin) before it
// writes anything.
type RDBFunc func(w io.Writer, begin func(index uint64) error) error

// ServeRedis serves a replica that speaks Redis's protocol: a real
// redis-server replicating from this node (its PSYNC), or a tool that
// sends SYNC (`redis-cli --replica`, `--rdb`). It gets what Redis sends
// on a full resync: `+FULLRESYNC <replid> <offset>` when psync, the
// dataset as an RDB file in the diskless framing ("$EOF:<mark>", the
// file, the mark), then, unless rdbOnly, the log from the file's index
// on as Redis commands (engine.AppendRedisEntry) with PINGs, GETACKs and
// PUBLISHes, as the Master feeds its own replicas.
//
// The offset announced is the file's log index; after it, offsets count
// the stream's bytes, as in Redis, and the replica's ACKs are mapped back
// to log indexes for WAIT and INFO. Every PSYNC is a full resync: a Redis
// replica's offset names bytes of a stream that is not kept.
func (m *Master) ServeRedis(conn Conn, ip string, port int, psync, rdbOnly bool, rdb RDBFunc) {
	m.start(&Peer{conn: conn, IP: ip, Port: port, isRedis: true}, func(p *Peer) error { return m.serveRedis(p, psync, rdbOnly, rdb) })
}

func (m *Master) serveRedis(p *Peer, psync, rdbOnly bool, rdb RDBFunc) error {
	w := m.eng.WAL()
	nc := p.conn.NetConn()
	counted := &countingWriter{w: deadlineWriter{nc, m}}
	bw := bufio.NewWriterSize(counted, 256<<10)
	pin := m.eng.Pin(w.FirstIndex())
	defer pin.Release()
	defer m.watchOverrun(p, pin)()

	m.fullSyncs.Add(1)
	id, _, _ := m.ids.Get()
	var mark [20]byte
	rand.Read(mark[:])
	eof := hex.EncodeToString(mark[:])
	var index uint64
	start := time.Now()
	err := rdb(bw, func(i uint64) error {
		if i+1 < w.FirstIndex() {
			return fmt.Errorf("dataset at %d is older than the log (first %d)", i, w.FirstIndex())
		}
		index = i
		pin.Move(i + 1)
		if psync {
			fmt.Fprintf(bw, "+FULLRESYNC %s %d\r\n", id, i)
		}
		bw.WriteString("$EOF:" + eof + "\r\n")
		p.state.Store(stateSendBulk)
		m.log.Info("streaming RDB to Redis replica", "replica", p.addr(), "replid", id, "index", i)
		return nil
	})
	if err == nil {
		bw.WriteString(eof)
		err = m.flush(nc, bw)
	}
	if err != nil {
		return fmt.Errorf("RDB: %w", err)
	}
	m.log.Info("RDB transferred to Redis replica", "replica", p.addr(), "index", index, "bytes", counted.n, "took", time.Since(start).Round(time.Millisecond))
	if rdbOnly {
		return nil
	}
	counted.n = 0
	p.redis = &redisStream{base: index, counted: counted, db: -1, acked: make(chan struct{})}
	p.state.Store(stateOnline)
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	go func() {
		m.readAcks(p, pin)
		cancel()
	}()
	// A replica reading an RDB that ends in a mark reads past the mark
	// whatever has come, and loses it; so, as Redis does, the stream
	// starts with its first ACK, sent once the file is loaded.
	select {
	case <-p.redis.acked:
	case <-ctx.Done():
		return errors.New("no ACK after the RDB")
	}
	// A PING first: redis-cli --replica reads one reply to the ACK it
	// sends (a master answers none), and takes whatever comes first.
	bw.WriteString("*1\r\n$4\r\nPING\r\n")
	return m.feed(ctx, p, bw, index+1)
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
// where each batch of them ends in the stream, to read its ACKs.
type redisStream struct {
	base    uint64          // the offset FULLRESYNC announced: the RDB's index
	counted *countingWriter // under the stream's bufio.Writer; counts from the RDB's end
	db      int             // the database the stream has selected; -1 before its first SELECT
	buf     []byte

	acked     chan struct{} // closed at the replica's first ACK
	ackedOnce sync.Once

	mu    sync.Mutex
	marks []streamMark // oldest first
}

// A streamMark says the stream's bytes up to offset carry the log up to
// index.
type streamMark struct{ offset, index uint64 }

// maxMarks bounds the marks a replica that never ACKs leaves behind; past
// it the older half goes, and an ACK older than what is left counts as
// nothing applied.
const maxMarks = 4096

// write writes the entries from index first on to bw.
func (r *redisStream) write(bw *bufio.Writer, ents [][]byte, first uint64) error {
	for _, e := range ents {
		var err error
		if r.buf, err = engine.AppendRedisEntry(r.buf[:0], e, &r.db); err != nil {
			return err
		}
		bw.Write(r.buf)
	}
	offset := r.base + r.counted.n + uint64(bw.Buffered())
	r.mu.Lock()
	if len(r.marks) == maxMarks {
		r.marks = append(r.marks[:0], r.marks[maxMarks/2:]...)
	}
	r.marks = append(r.marks, streamMark{offset, first + uint64(len(ents)) - 1})
	r.mu.Unlock()
	return nil
}

// ack maps an ACK's offsets to log indexes (see index), the first ACK
// starting the stream.
func (r *redisStream) ack(offset, fsynced uint64) (uint64, uint64) {
	r.ackedOnce.Do(func() { close(r.acked) })
	return r.index(offset), r.index(fsynced)
}

// index maps an acknowledged offset to the last log index it covers, and
// forgets the marks before it.
func (r *redisStream) index(offset uint64) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := 0
	for i < len(r.marks) && r.marks[i].offset <= offset {
		i++
	}
	if i == 0 {
		if offset >= r.base {
			return r.base // the RDB, and nothing after it yet
		}
		return 0
	}
	index := r.marks[i-1].index
	r.marks = append(r.marks[:0], r.marks[i-1:]...)
	return index
}
