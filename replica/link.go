package replica

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/snapshot"
)

// LinkOptions configures the replica side.
type LinkOptions struct {
	Host string
	Port int
	// MasterAuth and MasterUser authenticate to the master.
	MasterAuth string
	MasterUser string
	// TLS, when set, wraps the connection to the master in TLS
	// (tls-replication); an empty ServerName becomes Host.
	TLS *tls.Config
	// ListeningPort and AnnounceIP are told to the master (INFO, ROLE).
	ListeningPort int
	AnnounceIP    string
	// Timeout (repl-timeout) drops a master silent for this long. Default 60 s.
	Timeout time.Duration
	// KeepAlive (tcp-keepalive) sets the connection's TCP keepalive as
	// Redis does (KeepAlive); negative turns it off, 0 leaves Go's
	// default.
	KeepAlive time.Duration
	// OnLoading is told when the dataset is being replaced (LOADING).
	OnLoading func(bool)
	// OnReset is called after a full sync replaced the data or the
	// history changed: sub-replicas must resync.
	OnReset func()
	// OnPublish delivers a PUBLISH (or, shard set, an SPUBLISH) the
	// master forwarded.
	OnPublish func(channel, message []byte, shard bool)
	// Traffic, when set, is told the bytes the link reads from and
	// writes to its master (INFO's network counters).
	Traffic func(read, written int)
	// Hold, when set, is called before the link applies what it read; it
	// returns when the link may go on (a client pause holds a replica's
	// apply, as in Redis), or with an error that drops the link.
	Hold func(ctx context.Context) error
	// OnApplied, when set, is called after the link applied entries, so
	// that clients blocked on keys (XREAD BLOCK) see the master's writes.
	OnApplied func()
	// Failover, when set, makes the link's first PSYNC that gets an
	// answer a PSYNC ... FAILOVER: it asks the master, this node's
	// replica until then, to take over (the FAILOVER command). Failover
	// is told that answer, or the error that stood for it, and must not
	// block; the link then goes on as any other.
	Failover func(reply string, err error)
	Logger   *slog.Logger
}

// Link states, as ROLE spells them.
const (
	linkConnect    int32 = iota // waiting to (re)connect
	linkConnecting              // handshake
	linkSync                    // receiving a checkpoint
	linkConnected               // streaming
)

var linkStateNames = []string{"connect", "connecting", "sync", "connected"}

// Link is a replica's connection to its master. It reconnects by itself,
// with backoff, resuming from its own log when the master allows.
type Link struct {
	eng  *engine.Engine
	ids  *IDs
	opts LinkOptions
	log  *slog.Logger

	state     atomic.Int32
	lastIO    atomic.Int64 // Unix ms of the last byte from the master
	downSince atomic.Int64 // Unix ms the link went down (0: up)
	syncTotal atomic.Int64
	syncRead  atomic.Int64
	syncLast  atomic.Int64 // Unix ms of the last checkpoint byte
	readIdx   atomic.Uint64
	failover  atomic.Pointer[func(string, error)] // LinkOptions.Failover, until told
	conn      atomic.Pointer[net.Conn]            // the session's connection, for Drop
	timeout   atomic.Int64                        // repl-timeout; SetTimeout changes it

	cancel context.CancelFunc
	done   chan struct{}
}

// StartLink connects to the master in a goroutine it owns; Stop ends it.
func StartLink(eng *engine.Engine, ids *IDs, opts LinkOptions) *Link {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Link{eng: eng, ids: ids, opts: opts, log: opts.Logger, cancel: cancel, done: make(chan struct{})}
	l.downSince.Store(time.Now().UnixMilli())
	l.timeout.Store(int64(opts.Timeout))
	if opts.Failover != nil {
		l.failover.Store(&opts.Failover)
	}
	eng.SetReplica(true)
	go l.run(ctx)
	return l
}

// Stop closes the link and waits for its goroutine.
func (l *Link) Stop() {
	l.cancel()
	<-l.done
}

// Drop closes the connection to the master, if there is one; the link
// reconnects by itself and resumes (CLIENT KILL TYPE master).
func (l *Link) Drop() bool {
	if c := l.conn.Load(); c != nil {
		(*c).Close()
		return true
	}
	return false
}

// KeepAlive is Redis's TCP keepalive for a tcp-keepalive period (its
// anetKeepAlive): probes after period without traffic, then every third
// of it, and the peer given up after three unanswered.
func KeepAlive(period time.Duration) net.KeepAliveConfig {
	return net.KeepAliveConfig{Enable: true, Idle: period, Interval: max(period/3, time.Second), Count: 3}
}

// SetTimeout changes repl-timeout. The connection in use gets the new
// timeout from now: a shorter one drops a master silent that long, a
// longer one spares a master the old one would have dropped.
func (l *Link) SetTimeout(d time.Duration) {
	if d <= 0 {
		return
	}
	l.timeout.Store(int64(d))
	if c := l.conn.Load(); c != nil {
		(*c).SetDeadline(time.Now().Add(d))
	}
}

func (l *Link) replTimeout() time.Duration { return time.Duration(l.timeout.Load()) }

// Master returns the master's address.
func (l *Link) Master() (string, int) { return l.opts.Host, l.opts.Port }

func (l *Link) run(ctx context.Context) {
	defer close(l.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		err := l.session(ctx)
		l.state.Store(linkConnect)
		l.downSince.Store(time.Now().UnixMilli())
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("connection with master lost", "master", l.addr(), "err", err)
		if time.Since(start) > 5*time.Second {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (l *Link) addr() string { return net.JoinHostPort(l.opts.Host, strconv.Itoa(l.opts.Port)) }

// session runs one connection: handshake, sync, stream.
func (l *Link) session(ctx context.Context) error {
	l.state.Store(linkConnecting)
	d := net.Dialer{Timeout: 5 * time.Second}
	switch {
	case l.opts.KeepAlive < 0:
		d.KeepAlive = -1
	case l.opts.KeepAlive > 0:
		d.KeepAliveConfig = KeepAlive(l.opts.KeepAlive)
	}
	nc, err := d.DialContext(ctx, "tcp", l.addr())
	if err != nil {
		return err
	}
	if l.opts.TLS != nil {
		if nc, err = l.handshakeTLS(ctx, nc); err != nil {
			return err
		}
	}
	if l.opts.Traffic != nil {
		nc = countedConn{Conn: nc, count: l.opts.Traffic}
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	defer nc.Close()
	l.conn.Store(&nc)
	defer l.conn.Store(nil)
	l.log.Info("connecting to master", "master", l.addr())
	br := bufio.NewReaderSize(nc, 256<<10)
	bw := bufio.NewWriter(nc)
	call := func(args ...string) (string, error) {
		writeCommand(bw, args...)
		if err := bw.Flush(); err != nil {
			return "", err
		}
		nc.SetReadDeadline(time.Now().Add(l.replTimeout()))
		return readLine(br)
	}
	reply, err := call("PING")
	if err != nil {
		return err
	}
	if reply[0] == '-' && !strings.HasPrefix(reply, "-NOAUTH") {
		return fmt.Errorf("error reply to PING from master: %s", reply)
	}
	if l.opts.MasterAuth != "" {
		args := []string{"AUTH", l.opts.MasterAuth}
		if l.opts.MasterUser != "" {
			args = []string{"AUTH", l.opts.MasterUser, l.opts.MasterAuth}
		}
		if reply, err = call(args...); err != nil {
			return err
		} else if reply != "+OK" {
			return fmt.Errorf("unable to AUTH to master: %s", reply)
		}
	}
	if reply, err = call("REPLCONF", "listening-port", strconv.Itoa(l.opts.ListeningPort)); err != nil {
		return err
	} else if reply[0] == '-' {
		return fmt.Errorf("master refused REPLCONF listening-port: %s", reply)
	}
	if l.opts.AnnounceIP != "" {
		if _, err = call("REPLCONF", "ip-address", l.opts.AnnounceIP); err != nil {
			return err
		}
	}
	if _, err = call("REPLCONF", "capa", "psync2"); err != nil {
		return err
	}
	w := l.eng.WAL()
	id, _, _ := l.ids.Get()
	next := w.LastIndex() + 1
	psyncID, psyncOff := id, strconv.FormatUint(next, 10)
	if w.LastIndex() == 0 {
		psyncID, psyncOff = "?", "-1"
	}
	psync := []string{"PSYNC", psyncID, psyncOff}
	failover := l.failover.Load()
	if failover != nil {
		psync = []string{"PSYNC", id, strconv.FormatUint(next, 10), "FAILOVER"}
	}
	reply, err = call(psync...)
	if failover != nil && l.failover.CompareAndSwap(failover, nil) {
		(*failover)(reply, err)
	}
	if err != nil {
		return err
	}
	f := strings.Fields(reply)
	switch {
	case len(f) == 3 && f[0] == "+FULLRESYNC":
		x, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil || len(f[1]) != 40 {
			return fmt.Errorf("bad FULLRESYNC reply %q", reply)
		}
		if err := l.fullSync(nc, br, f[1], x); err != nil {
			return err
		}
		next = x + 1
	case len(f) >= 1 && f[0] == "+CONTINUE":
		if len(f) == 2 && f[1] != id {
			if err := l.ids.Switch(f[1], next); err != nil {
				return err
			}
			l.log.Info("master replication ID changed", "new_replid", f[1], "old_replid", id, "switch_index", next)
			l.reset()
		}
		l.log.Info("successful partial resynchronization with master", "master", l.addr(), "from_index", next)
	default:
		return fmt.Errorf("unexpected reply to PSYNC: %q", reply)
	}
	l.state.Store(linkConnected)
	l.downSince.Store(0)
	l.log.Info("MASTER <-> REPLICA sync: streaming from master", "master", l.addr(), "next_index", next)
	return l.stream(ctx, nc, br, next)
}

// countedConn tells LinkOptions.Traffic what crosses the connection.
type countedConn struct {
	net.Conn
	count func(read, written int)
}

func (c countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.count(n, 0)
	}
	return n, err
}

func (c countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.count(0, n)
	}
	return n, err
}

// handshakeTLS runs the TLS handshake over nc, within the dial timeout.
func (l *Link) handshakeTLS(ctx context.Context, nc net.Conn) (net.Conn, error) {
	conf := l.opts.TLS.Clone()
	if conf.ServerName == "" {
		conf.ServerName = l.opts.Host
	}
	tc := tls.Client(nc, conf)
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("tls handshake with master %s: %w", l.addr(), err)
	}
	return tc, nil
}

// fullSync receives a checkpoint and installs it in place of the data.
func (l *Link) fullSync(nc net.Conn, br *bufio.Reader, id string, index uint64) error {
	l.state.Store(linkSync)
	l.log.Info("MASTER <-> REPLICA sync: receiving checkpoint", "master", l.addr(), "replid", id, "index", index)
	start := time.Now()
	l.syncTotal.Store(0)
	l.syncRead.Store(0)
	defer l.syncTotal.Store(0)
	parent := l.eng.Dir()
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	nc.SetReadDeadline(time.Time{})
	dir, got, err := snapshot.ReceiveWith(&deadlineReader{nc: nc, r: br, l: l}, parent, snapshot.ReceiveOptions{
		Progress: func(read, total int64) {
			l.syncRead.Store(read)
			l.syncTotal.Store(total)
			l.syncLast.Store(time.Now().UnixMilli())
		},
	})
	if err != nil {
		return fmt.Errorf("receive checkpoint: %w", err)
	}
	if got != index {
		os.RemoveAll(dir)
		return fmt.Errorf("checkpoint stream is at index %d, FULLRESYNC said %d", got, index)
	}
	l.log.Info("MASTER <-> REPLICA sync: checkpoint received; loading it", "bytes", l.syncRead.Load(), "took", time.Since(start).Round(time.Millisecond))
	if err := l.ids.Forget(); err != nil {
		return err
	}
	if l.opts.OnLoading != nil {
		l.opts.OnLoading(true)
	}
	err = l.eng.Install(dir, index, snapshot.Install)
	if l.opts.OnLoading != nil {
		l.opts.OnLoading(false)
	}
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("install checkpoint: %w", err)
	}
	if err := l.ids.Adopt(id); err != nil {
		return err
	}
	l.reset()
	l.log.Info("MASTER <-> REPLICA sync: finished with success", "replid", id, "index", index, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (l *Link) reset() {
	if l.opts.OnReset != nil {
		l.opts.OnReset()
	}
}

// deadlineReader extends the read deadline as bytes arrive, so a stalled
// transfer times out but a long one does not.
type deadlineReader struct {
	nc net.Conn
	r  io.Reader
	l  *Link
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	d.nc.SetReadDeadline(time.Now().Add(d.l.replTimeout()))
	n, err := d.r.Read(p)
	if n > 0 {
		d.l.lastIO.Store(time.Now().UnixMilli())
	}
	return n, err
}

// stream applies the master's entries as they come and acknowledges them.
func (l *Link) stream(ctx context.Context, nc net.Conn, br *bufio.Reader, next uint64) error {
	var wmu sync.Mutex // guards bw: acks come from two goroutines
	bw := bufio.NewWriter(nc)
	ack := func() error {
		wmu.Lock()
		defer wmu.Unlock()
		synced := l.eng.WAL().SyncedIndex()
		if l.eng.InMemory() {
			synced = 0
		}
		writeCommand(bw, "REPLCONF", "ACK", strconv.FormatUint(l.eng.AppliedIndex(), 10), "FACK", strconv.FormatUint(synced, 10))
		nc.SetWriteDeadline(time.Now().Add(l.replTimeout()))
		return bw.Flush()
	}
	if err := ack(); err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				if ack() != nil {
					nc.Close()
					return
				}
			}
		}
	}()
	rd := redcon.NewReader(&deadlineReader{nc: nc, r: br, l: l})
	var entries [][]byte
	var txn []byte // an entry being assembled from MULTI ... EXEC
	inTxn := false
	apply := func() error {
		if len(entries) == 0 {
			return nil
		}
		if l.opts.Hold != nil {
			l.readIdx.Store(next + uint64(len(entries)) - 1)
			if err := l.opts.Hold(ctx); err != nil {
				return err
			}
		}
		if err := l.eng.Apply(next, entries); err != nil {
			return fmt.Errorf("apply entries %d..%d: %w", next, next+uint64(len(entries))-1, err)
		}
		next += uint64(len(entries))
		l.readIdx.Store(next - 1)
		entries = entries[:0]
		if l.opts.OnApplied != nil {
			l.opts.OnApplied()
		}
		return nil
	}
	for {
		cmds, err := rd.ReadCommands()
		if err != nil {
			return err
		}
		for _, c := range cmds {
			if len(c.Args) == 0 {
				continue
			}
			name := strings.ToUpper(string(c.Args[0]))
			switch {
			case inTxn:
				txn = append(txn, c.Raw...)
				if name == "EXEC" {
					entries = append(entries, txn)
					txn, inTxn = nil, false
				}
			case name == "MULTI":
				txn, inTxn = append([]byte(nil), c.Raw...), true
			case name == "PING":
				// heartbeat: consumes no index
			case name == "REPLCONF":
				if err := apply(); err != nil {
					return err
				}
				if len(c.Args) >= 2 && strings.EqualFold(string(c.Args[1]), "getack") {
					if err := ack(); err != nil {
						return err
					}
				}
			case (name == "PUBLISH" || name == "SPUBLISH") && len(c.Args) == 3:
				if err := apply(); err != nil {
					return err
				}
				if l.opts.OnPublish != nil {
					l.opts.OnPublish(c.Args[1], c.Args[2], name == "SPUBLISH")
				}
			default:
				entries = append(entries, c.Raw)
			}
		}
		if err := apply(); err != nil {
			return err
		}
	}
}

// LinkInfo is the replica's side of INFO replication.
type LinkInfo struct {
	State         string
	Up            bool
	LastIOSecs    int64
	DownSecs      int64 // -1 when up
	SyncInProg    bool
	SyncTotal     int64
	SyncRead      int64
	SyncLastIOAgo int64
}

// Info reports the link's state.
func (l *Link) Info() LinkInfo {
	now := time.Now().UnixMilli()
	st := l.state.Load()
	in := LinkInfo{State: linkStateNames[st], Up: st == linkConnected, LastIOSecs: -1, DownSecs: -1}
	if t := l.lastIO.Load(); t > 0 {
		in.LastIOSecs = (now - t) / 1000
	}
	if t := l.downSince.Load(); t > 0 {
		in.DownSecs = (now - t) / 1000
	}
	if st == linkSync {
		in.SyncInProg = true
		in.SyncTotal, in.SyncRead = l.syncTotal.Load(), l.syncRead.Load()
		if t := l.syncLast.Load(); t > 0 {
			in.SyncLastIOAgo = (now - t) / 1000
		}
	}
	return in
}

// ReadIndex is the last index received from the master.
func (l *Link) ReadIndex() uint64 { return l.readIdx.Load() }

func writeCommand(bw *bufio.Writer, args ...string) {
	b := redcon.AppendArray(nil, len(args))
	for _, a := range args {
		b = redcon.AppendBulkString(b, a)
	}
	bw.Write(b)
}

// readLine reads one reply line, skipping the empty keep-alive lines a
// master may send while it prepares.
func readLine(br *bufio.Reader) (string, error) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			return line, nil
		}
	}
}

var errStopped = errors.New("link stopped")
