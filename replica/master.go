package replica

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/snapshot"
	"github.com/walrus-kv/walrus/wal"
	"golang.org/x/time/rate"
)

// Conn is a replica's connection as the front end hands it over after
// PSYNC (redcon.DetachedConn): commands are read through it, since it may
// already hold buffered bytes; replies and entries go to NetConn.
type Conn interface {
	ReadCommand() (redcon.Command, error)
	NetConn() net.Conn
	Close() error
}

// MasterOptions configures the master side.
type MasterOptions struct {
	// PingPeriod is how often an idle replica gets a PING
	// (repl-ping-replica-period). Default 10 s.
	PingPeriod time.Duration
	// Timeout drops a replica that sent nothing (no ACK) or accepted
	// nothing for this long (repl-timeout). Default 60 s.
	Timeout time.Duration
	// CheckpointMaxAge is how long one checkpoint is shared with replicas
	// that ask for a full sync. Default 10 s.
	CheckpointMaxAge time.Duration
	// ShareWindow keeps a new checkpoint alive this long even when its
	// first replica is done with it, so replicas that ask a moment later
	// share it (repl-diskless-sync-delay plays this part; it delays no
	// one). 0: a checkpoint lives only while streamed.
	ShareWindow time.Duration
	// CheckpointMaxLag is how many log entries a checkpoint of what Pebble
	// has already flushed may lag the master and still be shipped as it is
	// (see recent): the replica replays those entries from the log like
	// any others. Further behind, Pebble is flushed first. Default 8192.
	CheckpointMaxLag uint64
	// Gather is how long the master collects new entries for a replica
	// after it last sent it some, so that under a steady stream of writes
	// each send carries many. The first write after a quiet spell goes out
	// at once, and a GETACK (WAIT, WAITAOF) or a PUBLISH cuts the wait
	// short. Default DefaultGather; negative: send every commit as it
	// comes.
	Gather time.Duration
	// Logger receives the replication milestones. Default slog.Default().
	Logger *slog.Logger
}

// DefaultGather is MasterOptions.Gather's default. Sent one commit at a
// time, a stream of small writes costs a replica on the same machine
// almost half a CPU (a read, a hand-off to its committer and a Pebble
// commit per few entries), which it takes from the master's clients: 4
// closed-loop SET clients got 30,000 replies/s without a replica and
// 16,000 with one. A millisecond is well under the replication lag a
// network adds, and under a load it batches many commits per send.
const DefaultGather = time.Millisecond

// Master serves PSYNC: it hands each replica a checkpoint or a partial
// resync, then feeds it the log.
type Master struct {
	eng  *engine.Engine
	ids  *IDs
	opts MasterOptions
	log  *slog.Logger

	mu           sync.Mutex // guards peers, ckpt, ckptGen, closed, redisStreams
	peers        map[*Peer]struct{}
	ckpt         *snapshot.Manager
	ckptGen      uint64
	closed       bool
	redisStreams []*redisStream // Redis replicas' streams, kept for a partial resync (redis.go)

	limit *rate.Limiter // SetCheckpointRate's cap, shared by all checkpoint streams

	// The options CONFIG SET may change while replicas are served, as
	// durations: opts holds their values at start.
	pingPeriod  atomic.Int64
	timeout     atomic.Int64
	shareWindow atomic.Int64

	checkpoints atomic.Int64 // created by earlier managers
	fullSyncs   atomic.Int64
	partialOK   atomic.Int64
	partialErr  atomic.Int64

	ackMu sync.Mutex    // guards ackCh
	ackCh chan struct{} // closed (and replaced) whenever a replica acks

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	testHookCheckpoint func() // tests: runs while a checkpoint is being taken
}

// NewMaster returns the master side of a node.
func NewMaster(eng *engine.Engine, ids *IDs, opts MasterOptions) *Master {
	if opts.PingPeriod <= 0 {
		opts.PingPeriod = 10 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.CheckpointMaxAge <= 0 {
		opts.CheckpointMaxAge = snapshot.DefaultMaxAge
	}
	if opts.CheckpointMaxLag == 0 {
		opts.CheckpointMaxLag = 1 << 13
	}
	if opts.Gather == 0 {
		opts.Gather = DefaultGather
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Master{eng: eng, ids: ids, opts: opts, log: opts.Logger, peers: map[*Peer]struct{}{},
		ackCh: make(chan struct{}), ctx: ctx, cancel: cancel}
	m.limit = rate.NewLimiter(rate.Inf, paceStep) // no cap until SetCheckpointRate
	m.pingPeriod.Store(int64(opts.PingPeriod))
	m.timeout.Store(int64(opts.Timeout))
	m.shareWindow.Store(int64(opts.ShareWindow))
	return m
}

// SetPingPeriod changes how often an idle replica gets a PING
// (repl-ping-replica-period). Replicas waiting for the old period start
// the new one at once.
func (m *Master) SetPingPeriod(d time.Duration) {
	if d <= 0 {
		return
	}
	m.pingPeriod.Store(int64(d))
	for _, p := range m.snapshotPeers() {
		p.poke()
	}
}

// SetTimeout changes repl-timeout: how long a replica may send nothing or
// accept nothing before it is dropped. Each replica gets the new timeout
// from now, so a shorter one cuts a silent replica off within it and a
// longer one spares a replica the old one would have dropped.
func (m *Master) SetTimeout(d time.Duration) {
	if d <= 0 {
		return
	}
	m.timeout.Store(int64(d))
	deadline := time.Now().Add(d)
	for _, p := range m.snapshotPeers() {
		p.conn.NetConn().SetDeadline(deadline)
	}
}

// SetShareWindow changes how long a new checkpoint waits for more replicas
// to share it (repl-diskless-sync-delay) from the next checkpoint on.
func (m *Master) SetShareWindow(d time.Duration) { m.shareWindow.Store(int64(max(d, 0))) }

func (m *Master) replTimeout() time.Duration { return time.Duration(m.timeout.Load()) }

// Peer states, as INFO spells them.
const (
	stateWaitBgsave int32 = iota
	stateSendBulk
	stateOnline
)

var stateNames = []string{"wait_bgsave", "send_bulk", "online"}

// Peer is one connected replica.
type Peer struct {
	m     *Master
	conn  Conn
	IP    string
	Port  int // its listening port (REPLCONF listening-port)
	state atomic.Int32

	ack     atomic.Uint64 // last index it applied
	fack    atomic.Uint64 // last index it fsynced
	lastAck atomic.Int64  // Unix ms of its last ACK (or of the sync start)

	wake    chan struct{} // a GETACK or a PUBLISH is waiting
	getack  atomic.Bool
	pubMu   sync.Mutex
	pubs    [][]byte // PUBLISH commands to forward; guarded by pubMu
	closeMu sync.Once

	isRedis bool         // served Redis's protocol (ServeRedis)
	redis   *redisStream // its stream, once the RDB is sent
}

// PeerInfo is one replica's line of INFO replication.
type PeerInfo struct {
	IP     string
	Port   int
	State  string
	Offset uint64
	Lag    int64 // seconds since its last ACK
	Redis  bool  // a redis-server (or a SYNC client), served Redis's protocol
}

// Serve takes over a replica's connection after PSYNC replid offset and
// serves it until it drops. It returns at once; the work runs in a
// goroutine the Master owns.
func (m *Master) Serve(conn Conn, replid, offset string, ip string, port int) {
	m.start(&Peer{conn: conn, IP: ip, Port: port}, func(p *Peer) error { return m.serve(p, replid, offset) })
}

// start registers a peer and runs serve for it in a goroutine the Master
// owns, until its connection drops.
func (m *Master) start(p *Peer, serve func(*Peer) error) {
	conn := p.conn
	p.m, p.wake = m, make(chan struct{}, 1)
	p.lastAck.Store(time.Now().UnixMilli())
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		conn.Close()
		return
	}
	m.peers[p] = struct{}{}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		err := serve(p)
		p.close()
		m.mu.Lock()
		delete(m.peers, p)
		m.mu.Unlock()
		if err != nil && m.ctx.Err() == nil {
			m.log.Info("connection with replica lost", "replica", p.addr(), "err", err)
		}
	}()
}

func (p *Peer) addr() string { return net.JoinHostPort(p.IP, strconv.Itoa(p.Port)) }

// close drops the replica. The socket goes first: the detached conn's
// Close flushes, which would wait behind a write blocked on a replica that
// stopped reading.
func (p *Peer) close() {
	p.closeMu.Do(func() {
		p.conn.NetConn().Close()
		p.conn.Close()
	})
}

func (m *Master) serve(p *Peer, replid, offset string) error {
	w := m.eng.WAL()
	nc := p.conn.NetConn()
	bw := bufio.NewWriterSize(deadlineWriter{nc, m}, 256<<10)
	// Hold the whole log while deciding, so nothing we pick is dropped.
	pin := m.eng.Pin(w.FirstIndex())
	defer pin.Release()
	defer m.watchOverrun(p, pin)()

	id, id2, second := m.ids.Get()
	first, last := w.FirstIndex(), w.LastIndex()
	n, partial := canContinue(replid, offset, id, id2, second, first, last)
	var next uint64
	if partial {
		pin.Move(n)
		if _, err := fmt.Fprintf(bw, "+CONTINUE %s\r\n", id); err != nil {
			return err
		}
		m.partialOK.Add(1)
		m.log.Info("partial resynchronization request accepted", "replica", p.addr(), "replid", id, "from_index", n, "entries_behind", last+1-n)
		next = n
	} else {
		if replid != "?" {
			m.partialErr.Add(1)
		}
		m.fullSyncs.Add(1)
		m.log.Info("full resync requested by replica", "replica", p.addr(), "their_replid", replid, "their_offset", offset)
		idx, err := m.sendCheckpoint(p, bw, pin, id)
		if err != nil {
			return err
		}
		next = idx + 1
	}
	p.state.Store(stateOnline)
	if err := m.flush(nc, bw); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	go func() {
		m.readAcks(p, pin)
		cancel()
	}()
	return m.feed(ctx, p, bw, next)
}

// watchOverrun closes p if its pin overruns, until the returned func is
// called. A replica that stops reading pins the in-memory log; past the
// replica output buffer limit the engine drops its entries anyway and
// the replica is closed at once, as Redis does.
func (m *Master) watchOverrun(p *Peer, pin *engine.Pin) (stop func()) {
	served := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		select {
		case <-pin.Overrun():
			m.log.Warn("replica scheduled to be closed ASAP for overcoming of output buffer limits", "replica", p.addr())
			p.close()
		case <-served:
		}
	}()
	return func() {
		close(served)
		watch.Wait()
	}
}

// canContinue decides a PSYNC: the replica may continue from offset
// (its next index) when the log [first, last] holds it under the
// replica's replid, which is ours or our previous one (valid below second).
func canContinue(replid, offset, id, id2 string, second, first, last uint64) (uint64, bool) {
	n, err := strconv.ParseUint(offset, 10, 64)
	if err != nil || n < 1 || n < first || n > last+1 {
		return 0, false
	}
	return n, replid == id || (replid == id2 && replid != noID && n <= second)
}

// sendCheckpoint streams a shared checkpoint and returns its index.
func (m *Master) sendCheckpoint(p *Peer, bw *bufio.Writer, pin *engine.Pin, id string) (uint64, error) {
	p.state.Store(stateWaitBgsave)
	start := time.Now()
	ck, err := m.acquire()
	if err != nil {
		bw.WriteString("-ERR checkpoint failed: " + err.Error() + "\r\n")
		bw.Flush()
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	defer ck.Release()
	idx := ck.Index()
	if idx+1 < m.eng.WAL().FirstIndex() {
		return 0, fmt.Errorf("shared checkpoint at %d is older than the log (first %d)", idx, m.eng.WAL().FirstIndex())
	}
	pin.Move(idx + 1)
	if _, err := fmt.Fprintf(bw, "+FULLRESYNC %s %d\r\n", id, idx); err != nil {
		return 0, err
	}
	p.state.Store(stateSendBulk)
	m.log.Info("streaming checkpoint to replica", "replica", p.addr(), "replid", id, "index", idx, "bytes", ck.Size())
	sent, err := ck.WriteTo(&pacedWriter{ctx: m.ctx, w: bw, limit: m.limit}) // each write must progress within the timeout
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return 0, fmt.Errorf("stream checkpoint: %w", err)
	}
	m.log.Info("checkpoint transferred to replica", "replica", p.addr(), "index", idx, "bytes", sent, "took", time.Since(start).Round(time.Millisecond))
	return idx, nil
}

// SetCheckpointRate caps the bytes per second of checkpoint streamed to
// all replicas together (repl-checkpoint-max-rate), so that a full sync
// leaves most of the master's CPU to its clients; 0 removes the cap.
// Streams in flight take it up at once.
func (m *Master) SetCheckpointRate(bytesPerSec int64) {
	if bytesPerSec <= 0 {
		m.limit.SetLimit(rate.Inf)
		return
	}
	m.limit.SetLimit(rate.Limit(bytesPerSec))
}

// CheckpointRate returns the current cap in bytes per second; 0: none.
func (m *Master) CheckpointRate() int64 {
	if l := m.limit.Limit(); l != rate.Inf {
		return int64(l)
	}
	return 0
}

// paceStep is the most a paced checkpoint stream sends at once: small
// steps spread the stream's CPU work (the master's sends, the kernel's
// loopback or NIC work, the replica's receive) evenly over time.
const paceStep = 64 << 10

// pacedWriter sends no faster than its limiter allows, in steps of at
// most paceStep, each flushed to the connection.
type pacedWriter struct {
	ctx   context.Context
	w     *bufio.Writer
	limit *rate.Limiter
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		k := min(len(b), paceStep)
		if err := p.limit.WaitN(p.ctx, k); err != nil {
			return n, err
		}
		m, err := p.w.Write(b[:k])
		n += m
		if err == nil {
			err = p.w.Flush()
		}
		if err != nil {
			return n, err
		}
		b = b[k:]
	}
	return n, nil
}

// acquire returns a checkpoint of the current dataset, shared with other
// full syncs in flight. The checkpoint is taken without m.mu held: taking
// one flushes Pebble, and m.mu is on the path of every PUBLISH, of
// min-replicas-to-write checks and of INFO.
func (m *Master) acquire() (*snapshot.Checkpoint, error) {
	var ck *snapshot.Checkpoint
	err := m.eng.Hold(func() error {
		mgr, err := m.manager()
		if err != nil {
			return err
		}
		before := mgr.Created()
		if ck, err = mgr.Acquire(); err != nil {
			return err
		}
		// Keep a new checkpoint for the share window (two syncs that both
		// saw it created just keep it twice as long as needed).
		if window := time.Duration(m.shareWindow.Load()); mgr.Created() > before && window > 0 {
			if hold, err := mgr.Acquire(); err == nil {
				time.AfterFunc(min(window, m.opts.CheckpointMaxAge), hold.Release)
			}
		}
		return nil
	})
	return ck, err
}

// manager returns the checkpoint manager of the current dataset, replacing
// the one of a dataset a checkpoint install replaced. The caller holds the
// engine (Hold), so the dataset cannot change meanwhile.
func (m *Master) manager() (*snapshot.Manager, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("master closed")
	}
	if m.ckpt != nil && m.ckptGen == m.eng.Generation() {
		return m.ckpt, nil
	}
	if m.ckpt != nil {
		m.checkpoints.Add(m.ckpt.Created())
		m.ckpt.Close()
	}
	dir := "checkpoints"
	if !m.eng.InMemory() {
		dir = m.eng.Dir() + "/checkpoints"
	}
	mgr, err := snapshot.NewManagerWithOptions(snapshot.Source{
		DB: m.eng.DB(), FS: m.eng.FS(), Dir: dir,
		ReadIndex: func(fs vfs.FS, d string) (uint64, error) { return engine.ReadAppliedIndex(fs, d) },
		Recent:    m.recent,
		Flushed:   m.eng.FlushedIndex,
	}, snapshot.ManagerOptions{MaxAge: m.opts.CheckpointMaxAge, Logger: m.log})
	if err != nil {
		return nil, err
	}
	m.ckpt, m.ckptGen = mgr, m.eng.Generation()
	return mgr, nil
}

// recent decides whether a checkpoint of what Pebble has flushed, at
// index, is shipped as it is, the replica replaying the entries after it
// from the log. The alternative is to flush first, which costs the master
// little but hands L0 a new table; when that brings L0 to the depth at
// which Pebble compacts it (engine.FlushCompactsL0), a compaction (with
// keys spread over the key space, a rewrite of the bottom level) starts on
// the master while the checkpoint streams, and again on the replica when
// it opens the checkpoint. Replaying costs the replica instead (a Pebble
// read an entry, on caches still cold), so the tail is shipped only when
// it is short (CheckpointMaxLag) and a flush would start that compaction.
// The log must still hold the entries (serve pinned it).
func (m *Master) recent(index uint64) bool {
	if m.testHookCheckpoint != nil {
		m.testHookCheckpoint()
	}
	applied := m.eng.AppliedIndex()
	if index >= applied {
		return true
	}
	if applied-index > m.opts.CheckpointMaxLag || index+1 < m.eng.WAL().FirstIndex() {
		return false
	}
	return m.eng.FlushCompactsL0()
}

// Checkpoints is the number of checkpoints created for full syncs (INFO
// shows it; equal counts prove replicas shared one).
func (m *Master) Checkpoints() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.checkpoints.Load()
	if m.ckpt != nil {
		n += m.ckpt.Created()
	}
	return n
}

func (m *Master) flush(nc net.Conn, bw *bufio.Writer) error {
	nc.SetWriteDeadline(time.Now().Add(m.replTimeout()))
	return bw.Flush()
}

// feed streams log entries from next on, with PINGs when idle, GETACKs
// when asked and forwarded PUBLISHes.
func (m *Master) feed(ctx context.Context, p *Peer, bw *bufio.Writer, next uint64) error {
	w := m.eng.WAL()
	nc := p.conn.NetConn()
	ping := time.NewTimer(time.Duration(m.pingPeriod.Load()))
	defer ping.Stop()
	gather := time.NewTimer(0)
	defer gather.Stop()
	var sent time.Time // when entries last went out
	for {
		if ctx.Err() != nil {
			return errors.New("link closed")
		}
		ents, err := readFrom(w, next)
		if errors.Is(err, wal.ErrCompacted) {
			m.log.Warn("replica fell behind the retained log; disconnecting it so it resyncs", "replica", p.addr(), "needed", next, "first", w.FirstIndex())
			return err
		}
		if err != nil {
			return fmt.Errorf("read log at %d: %w", next, err)
		}
		if p.redis != nil {
			if err := p.redis.write(bw, ents, next); err != nil {
				return fmt.Errorf("log entries %d..: %w", next, err)
			}
		} else {
			for _, e := range ents {
				bw.Write(e)
			}
		}
		next += uint64(len(ents))
		m.sendPending(p, bw)
		if p.redis != nil { // every command boundary: the entries, a PING, what sendPending wrote
			p.redis.mark(bw, next-1)
		}
		if len(ents) > 0 && w.LastIndex() >= next {
			if bw.Buffered() > 128<<10 {
				if err := m.flush(nc, bw); err != nil {
					return err
				}
			}
			continue
		}
		if err := m.flush(nc, bw); err != nil {
			return err
		}
		if len(ents) > 0 {
			// Caught up: what comes next is gathered from now on.
			sent = time.Now()
		} else {
			why, err := m.waitLog(ctx, p, next-1, ping)
			if err != nil {
				return err
			}
			switch why {
			case pingDue:
				bw.WriteString("*1\r\n$4\r\nPING\r\n")
				continue
			case peerWoken:
				continue // sendPending writes what it was woken for
			}
		}
		if err := m.gather(ctx, p, sent, gather); err != nil {
			return err
		}
	}
}

// What ended a waitLog.
const (
	logGrew   = iota // the log passed the index waited on
	peerWoken        // a GETACK or a PUBLISH is waiting
	pingDue          // the ping period passed
)

// gather lets new entries collect until Gather has passed since entries
// were last sent (at sent), or the peer is woken (GETACK, PUBLISH).
func (m *Master) gather(ctx context.Context, p *Peer, sent time.Time, t *time.Timer) error {
	d := m.opts.Gather - time.Since(sent)
	if d <= 0 {
		return nil
	}
	t.Reset(d)
	select {
	case <-t.C:
	case <-p.wake: // sendPending writes what it was woken for
		t.Stop()
	case <-ctx.Done():
		return errors.New("link closed")
	}
	return nil
}

// deadlineWriter gives every write to a replica the replication timeout:
// a transfer of any length goes on while bytes move, and a replica that
// stops reading is dropped after repl-timeout (mid-checkpoint too).
type deadlineWriter struct {
	nc net.Conn
	m  *Master
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.nc.SetWriteDeadline(time.Now().Add(d.m.replTimeout()))
	return d.nc.Write(p)
}

// readFrom reads a batch of entries; both logs implement ReadFrom.
func readFrom(l engine.Log, from uint64) ([][]byte, error) {
	r, ok := l.(interface {
		ReadFrom(uint64, int) ([][]byte, error)
	})
	if !ok {
		return nil, errors.New("log cannot be streamed")
	}
	return r.ReadFrom(from, 1<<20)
}

// waitLog blocks until the log passes after, the peer is woken (GETACK,
// PUBLISH) or the ping period passes on ping, and says which. One wait
// costs no goroutine and no timer: it runs for every send to a caught-up
// replica.
func (m *Master) waitLog(ctx context.Context, p *Peer, after uint64, ping *time.Timer) (int, error) {
	l, ok := m.eng.WAL().(interface{ Changed(uint64) <-chan struct{} })
	if !ok {
		return 0, errors.New("log cannot be followed")
	}
	changed := l.Changed(after)
	ping.Reset(time.Duration(m.pingPeriod.Load()))
	select {
	case <-changed:
		return logGrew, nil
	case <-p.wake:
		return peerWoken, nil
	case <-ping.C:
		return pingDue, nil
	case <-ctx.Done():
		return 0, errors.New("link closed")
	}
}

// sendPending writes a requested GETACK and queued PUBLISHes.
func (m *Master) sendPending(p *Peer, bw *bufio.Writer) {
	if p.getack.Swap(false) {
		bw.WriteString("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n")
	}
	p.pubMu.Lock()
	pubs := p.pubs
	p.pubs = nil
	p.pubMu.Unlock()
	for _, c := range pubs {
		bw.Write(c)
	}
}

// readAcks reads REPLCONF ACK <applied> [FACK <fsynced>] until the
// connection fails or stays silent past the timeout.
func (m *Master) readAcks(p *Peer, pin *engine.Pin) {
	nc := p.conn.NetConn()
	defer p.close()
	for {
		timeout := m.replTimeout()
		nc.SetReadDeadline(time.Now().Add(timeout))
		cmd, err := p.conn.ReadCommand()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				m.log.Warn("disconnecting timed-out replica", "replica", p.addr(), "timeout", m.replTimeout())
			}
			return
		}
		a := cmd.Args
		if len(a) >= 3 && strings.EqualFold(string(a[0]), "replconf") && strings.EqualFold(string(a[1]), "ack") {
			ack, err := strconv.ParseUint(string(a[2]), 10, 64)
			if err != nil {
				continue
			}
			var fack uint64
			if len(a) >= 5 && strings.EqualFold(string(a[3]), "fack") {
				fack, _ = strconv.ParseUint(string(a[4]), 10, 64)
			}
			if p.redis != nil { // byte offsets of the stream
				ack, fack = p.redis.ack(ack, fack)
			}
			p.ack.Store(ack)
			p.fack.Store(fack)
			p.lastAck.Store(time.Now().UnixMilli())
			keep := ack + 1
			if fack > 0 && fack < ack {
				keep = fack + 1
			}
			pin.Move(keep)
			m.notifyAck()
		}
	}
}

func (m *Master) notifyAck() {
	m.ackMu.Lock()
	close(m.ackCh)
	m.ackCh = make(chan struct{})
	m.ackMu.Unlock()
}

func (m *Master) ackChan() <-chan struct{} {
	m.ackMu.Lock()
	defer m.ackMu.Unlock()
	return m.ackCh
}

// snapshotPeers returns the connected replicas.
func (m *Master) snapshotPeers() []*Peer {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Peer, 0, len(m.peers))
	for p := range m.peers {
		out = append(out, p)
	}
	return out
}

// RequestAcks asks every online replica for an immediate ACK.
func (m *Master) RequestAcks() {
	for _, p := range m.snapshotPeers() {
		if p.state.Load() == stateOnline {
			p.getack.Store(true)
			p.poke()
		}
	}
}

func (p *Peer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// WaitAcks blocks until n replicas acknowledged index (their fsynced
// index when fsynced is set), ctx ends, or timeout passes (0: no
// timeout), and returns how many did.
func (m *Master) WaitAcks(ctx context.Context, index uint64, n int, fsynced bool, timeout time.Duration) int {
	count := func() int {
		c := 0
		for _, p := range m.snapshotPeers() {
			got := p.ack.Load()
			if fsynced {
				got = p.fack.Load()
			}
			if p.state.Load() == stateOnline && got >= index {
				c++
			}
		}
		return c
	}
	if c := count(); c >= n {
		return c
	}
	m.RequestAcks()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		ch := m.ackChan()
		if c := count(); c >= n {
			return c
		}
		select {
		case <-ch:
		case <-deadline:
			return count()
		case <-ctx.Done():
			return count()
		case <-m.ctx.Done():
			return count()
		}
	}
}

// CaughtUp returns an online walrus replica that has acknowledged index:
// the one at host:port, or when host is empty any (a Redis replica
// cannot take over: it could not serve walrus's PSYNC). It does not
// wait; RequestAcks asks for fresh acknowledgements.
func (m *Master) CaughtUp(index uint64, host string, port int) (PeerInfo, bool) {
	for _, p := range m.Peers() {
		if !p.Redis && (host == "" || p.IP == host && p.Port == port) && p.State == stateNames[stateOnline] && p.Offset >= index {
			return p, true
		}
	}
	return PeerInfo{}, false
}

// Lagging returns the replicas, in any state, that have not acknowledged
// index.
func (m *Master) Lagging(index uint64) []PeerInfo {
	var out []PeerInfo
	for _, p := range m.Peers() {
		if p.Offset < index {
			out = append(out, p)
		}
	}
	return out
}

// GoodReplicas counts online replicas whose last ACK is at most maxLag
// old (min-replicas-to-write).
func (m *Master) GoodReplicas(maxLag time.Duration) int {
	now := time.Now().UnixMilli()
	c := 0
	for _, p := range m.snapshotPeers() {
		if p.state.Load() == stateOnline && now-p.lastAck.Load() <= maxLag.Milliseconds() {
			c++
		}
	}
	return c
}

// Publish forwards a PUBLISH (an SPUBLISH when shard) to every online
// replica (pub/sub is not a data change: it consumes no log index).
func (m *Master) Publish(channel, message []byte, shard bool) {
	name := "PUBLISH"
	if shard {
		name = "SPUBLISH"
	}
	cmd := redcon.AppendArray(nil, 3)
	cmd = redcon.AppendBulkString(cmd, name)
	cmd = redcon.AppendBulk(cmd, channel)
	cmd = redcon.AppendBulk(cmd, message)
	for _, p := range m.snapshotPeers() {
		if p.state.Load() != stateOnline {
			continue
		}
		p.pubMu.Lock()
		if len(p.pubs) < 4096 {
			p.pubs = append(p.pubs, cmd)
		}
		p.pubMu.Unlock()
		p.poke()
	}
}

// Peers describes the connected replicas for INFO and ROLE.
func (m *Master) Peers() []PeerInfo {
	now := time.Now().UnixMilli()
	var out []PeerInfo
	for _, p := range m.snapshotPeers() {
		out = append(out, PeerInfo{IP: p.IP, Port: p.Port, State: stateNames[p.state.Load()],
			Offset: p.ack.Load(), Lag: (now - p.lastAck.Load()) / 1000, Redis: p.isRedis})
	}
	return out
}

// Stats returns sync_full, sync_partial_ok and sync_partial_err.
func (m *Master) Stats() (full, partialOK, partialErr int64) {
	return m.fullSyncs.Load(), m.partialOK.Load(), m.partialErr.Load()
}

// ResetStats zeroes the counters (CONFIG RESETSTAT).
func (m *Master) ResetStats() {
	m.fullSyncs.Store(0)
	m.partialOK.Store(0)
	m.partialErr.Store(0)
}

// DisconnectAll drops every replica (they reconnect and resync): the
// node's history changed under them.
func (m *Master) DisconnectAll() {
	for _, p := range m.snapshotPeers() {
		p.close()
	}
}

// Close disconnects every replica, waits for their goroutines and removes
// the checkpoints.
func (m *Master) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.DisconnectAll()
	m.wg.Wait()
	m.mu.Lock()
	if m.ckpt != nil {
		m.ckpt.Close()
	}
	m.mu.Unlock()
}
