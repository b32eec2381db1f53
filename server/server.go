package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/server/config"
	"github.com/walrus-kv/walrus/snapshot"
	"github.com/walrus-kv/walrus/wal"
)

// Version is the Redis version walrus reports (INFO, HELLO): tools gate
// features on it.
const Version = "7.0.15"

// Server is one walrus node.
type Server struct {
	notifyMask atomic.Uint32 // notify-keyspace-events, as engine classes (notify.go)
	rdbLoaded  struct {      // the RDB file loaded at start (rdbimport.go), for INFO
		keys, expired atomic.Int64
	}

	cfg     *config.Config
	log     *slog.Logger
	eng     *engine.Engine
	lim     limits
	mem     memLimit            // maxmemory (maxmemory.go)
	table   map[string]*command // command name (after rename-command) -> row
	engRows []*command          // rows of engine commands by engine.Command.ID; nil: renamed away
	errs    errorStats          // error replies (INFO errorstats)
	latency latencySettings     // latency-tracking and the latency monitor (latency.go)
	monitor latencyMonitor      // the latency monitor's events
	slowlog slowLog             // SLOWLOG (slowlog.go)
	scripts scripts             // the Lua script cache and the running script (script.go)
	cmds    []*command          // rows by id (numberCommands)
	acl     *aclTable           // users; the default one follows requirepass (acl.go)
	renamed bool                // rename-command changed the table
	started time.Time
	runID   string

	// tlsClient is how the replica link dials its master under
	// tls-replication; nil means plain TCP (tls.go).
	tlsClient *tls.Config

	listeners []net.Listener
	servers   []*redcon.Server

	mu      sync.Mutex // guards clients
	clients map[int64]*client
	nextID  atomic.Int64

	protected  atomic.Bool
	maxClients atomic.Int64
	keepAlive  atomic.Int64 // tcp-keepalive, for the connections accepted next
	memStartup uint64       // used_memory less the dataset once the engine opened

	stats   stats
	traffic traffic // bytes on the network; see rates.go
	rates   rates

	sd         shutdown     // SHUTDOWN's request and its wait for replicas; see shutdown.go
	saveOnStop atomic.Int32 // 0 default, 1 SAVE, -1 NOSAVE
	stopping   atomic.Bool  // the stop itself has begun (stop): Stopping

	repl *replication // master and replica roles; see replication.go

	ps    pubsub   // subscriptions and detached connections; see pubsub.go
	trk   tracker  // client-side caching; see tracking.go
	block blocking // clients blocked in BLPOP & co; see blocking.go
	pause pauser   // CLIENT PAUSE and FAILOVER's pause; see pause.go
	fail  failover // FAILOVER's state; see failover.go
}

// stats are INFO's counters.
type stats struct {
	connections atomic.Int64
	commands    atomic.Int64
	rejected    atomic.Int64

	// SAVE and BGSAVE, BGREWRITEAOF (INFO persistence): how many ran
	// and how long the last took (ns; -1: none yet). Both finish before
	// their reply, so none is ever in progress.
	saves, lastBgsave     atomic.Int64
	rewrites, lastRewrite atomic.Int64
	rewriteFailures       atomic.Int64 // in a row: the last failed when not 0
}

// New opens the dataset (recovering it), and listens. Serve then serves
// until the context ends or a client sends SHUTDOWN.
func New(cfg *config.Config, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{
		cfg:     cfg,
		log:     logger,
		started: time.Now(),
		clients: map[int64]*client{},
		sd:      shutdown{ch: make(chan struct{})},
		runID:   newRunID(),
	}
	s.stats.lastBgsave.Store(-1)
	s.stats.lastRewrite.Store(-1)
	s.lim.maxBulk.Store(cfg.ProtoMaxBulkLen)
	s.lim.maxQuery.Store(cfg.ClientQueryBufferLimit)
	s.maxClients.Store(int64(cfg.MaxClients))
	s.keepAlive.Store(int64(cfg.TCPKeepAlive))
	s.protected.Store(cfg.ProtectedMode)
	if err := s.buildTable(); err != nil {
		return nil, err
	}
	s.watchLatencySettings()
	s.watchSlowlogSettings()
	s.acl = newACL(s.cmds, s.table, cfg.RequirePass)
	s.acl.watch(cfg)
	if err := s.loadUsers(); err != nil { // `user` lines or the aclfile
		return nil, err
	}
	if cfg.Persistent() {
		// Finish or roll back a checkpoint install a crash interrupted.
		if err := snapshot.Recover(filepath.Join(cfg.Dir, "db")); err != nil {
			return nil, fmt.Errorf("recover data dir: %w", err)
		}
	}
	fsync := fsyncPolicies[cfg.AppendFsync]
	eng, err := engine.Open(engine.Options{
		Dir:          cfg.Dir,
		InMemory:     !cfg.Persistent(),
		Fsync:        fsync,
		Databases:    cfg.Databases,
		BacklogBytes: cfg.ReplBacklogSize,
		// With the dataset in memory, the caches count against maxmemory.
		BlockCacheBytes: cacheBytes(cfg.Persistent(), cfg.MaxMemory),
		RowCacheBytes:   cacheBytes(cfg.Persistent(), cfg.MaxMemory),
		// client-output-buffer-limit replica <hard>: what a replica that
		// stops reading may pin of the in-memory log.
		ReplicaBufferBytes: cfg.OutputBufferLimits.Replica.Hard,
		Observe:            s.observe,
		Notify:             s.publishNotes,
		Logger:             logger,
	})
	if err != nil {
		return nil, err
	}
	s.eng = eng
	if f := s.memoryFigures(); f.used > f.dataset {
		s.memStartup = f.used - f.dataset
	}
	s.setNotify(cfg.NotifyKeyspaceEvents)
	s.pause.onChange = eng.HoldExpiry
	if s.repl, err = newReplication(s); err != nil {
		eng.Close()
		return nil, err
	}
	s.watchConfig()
	s.checkMemory(false)
	if _, err := s.importRDB(); err != nil {
		s.repl.close()
		eng.Close()
		return nil, err
	}
	if err := s.listen(); err != nil {
		s.repl.close()
		eng.Close()
		return nil, err
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			s.closeListeners()
			s.repl.close()
			eng.Close()
			return nil, fmt.Errorf("write pidfile %s: %w", cfg.PidFile, err)
		}
	}
	mode := "persistent"
	if !cfg.Persistent() {
		mode = "in-memory (persistence off)"
	}
	s.log.Info("walrus ready to accept connections", "addr", s.Addr().String(), "dir", cfg.Dir, "mode", mode,
		"applied_index", eng.AppliedIndex(), "version", Version)
	return s, nil
}

func (s *Server) listen() error {
	var binds []string
	for _, b := range s.cfg.Bind {
		if len(b) > 0 && b[0] == '-' { // Redis's "-::1": optional address
			b = b[1:]
		}
		binds = append(binds, b)
	}
	if len(binds) == 0 {
		binds = []string{"127.0.0.1"}
	}
	for _, b := range binds {
		if s.cfg.Port == 0 { // port 0: no plain TCP (TLS only)
			break
		}
		ln, err := s.listenTCP(net.JoinHostPort(b, strconv.Itoa(s.cfg.Port)))
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen on %s:%d: %w", b, s.cfg.Port, err)
		}
		s.listeners = append(s.listeners, ln)
		srv := redcon.NewServerNetwork("tcp", ln.Addr().String(), s.handle, s.accept, s.closed)
		s.servers = append(s.servers, srv)
	}
	if err := s.listenTLS(binds); err != nil {
		s.closeListeners()
		return err
	}
	if len(s.listeners) == 0 {
		return errors.New("nothing to listen on: port and tls-port are both 0")
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// Addr is the first listening address.
func (s *Server) Addr() net.Addr { return s.listeners[0].Addr() }

// Engine is the node's state machine (tests and replication).
func (s *Server) Engine() *engine.Engine { return s.eng }

// Serve serves clients until ctx ends or SHUTDOWN, then stops cleanly:
// listeners closed, clients disconnected, replication stopped, Pebble
// flushed and closed, the log synced and closed, the pidfile removed.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, len(s.servers))
	for i, srv := range s.servers {
		ln := guardListener{Listener: s.listeners[i], lim: &s.lim, tr: &s.traffic, errs: &s.errs}
		go func() { errc <- srv.Serve(ln) }()
	}
	s.repl.start()
	reaperStop, reaperDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(reaperDone); s.reapIdle(reaperStop) }()
	samplerDone := make(chan struct{})
	go func() { defer close(samplerDone); s.sampleRates(reaperStop) }()
	for stopping := false; !stopping; {
		select {
		case <-ctx.Done():
			stopping = s.waitForReplicas(ctx)
		case <-s.shutdownRequested():
			stopping = s.waitForReplicas(ctx)
		case err := <-errc:
			s.log.Error("listener failed", "err", err)
			s.endShutdownWait(true)
			stopping = true
		}
	}
	close(reaperStop)
	<-reaperDone
	<-samplerDone
	s.mem.mu.Lock()
	s.setGoMemoryLimit(false, 0)
	s.mem.mu.Unlock()
	return s.stop()
}

// Stopping reports that the server has begun to stop: the wait for
// replicas is over and it closes its listeners, its clients and the
// engine. A signal then ends the process at once (cmd/walrus-server), as
// Redis ends on a second SIGINT: a stop that hangs (the data directory
// removed under a running server leaves Pebble's flush retrying for
// ever) can still be ended.
func (s *Server) Stopping() bool { return s.stopping.Load() }

func (s *Server) stop() error {
	s.stopping.Store(true)
	s.log.Info("shutting down")
	for _, srv := range s.servers {
		srv.Close()
	}
	s.mu.Lock()
	for _, cl := range s.clients {
		// The socket, not redcon's Close: that flushes the client's
		// writer, which its own goroutine may be using.
		cl.conn.NetConn().Close()
	}
	s.mu.Unlock()
	s.scripts.stop()
	s.stopBlocking()
	s.stopFailover()
	s.pause.close()
	s.stopPubSub()
	s.repl.close()
	var errs []error
	if s.saveOnStop.Load() == 1 {
		if err := s.eng.Save(s.cfg.Dir); err != nil {
			errs = append(errs, fmt.Errorf("save: %w", err))
		} else if err := s.saveRDB(); err != nil {
			errs = append(errs, fmt.Errorf("save: %w", err))
		}
	}
	if err := s.eng.Close(); err != nil {
		errs = append(errs, err)
	} else {
		s.repl.stopped()
	}
	if s.cfg.PidFile != "" {
		os.Remove(s.cfg.PidFile)
	}
	s.log.Info("walrus is now ready to exit, bye bye...")
	return errors.Join(errs...)
}

// accept admits a connection: maxclients and protected mode, with Redis's
// words.
func (s *Server) accept(conn redcon.Conn) bool {
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	if int64(n) >= s.maxClients.Load() {
		s.stats.rejected.Add(1)
		conn.NetConn().Write([]byte("-ERR max number of clients reached\r\n"))
		return false
	}
	if s.protected.Load() && s.acl.defaultNoPass() && !isLoopback(conn.NetConn().RemoteAddr()) {
		s.stats.rejected.Add(1)
		conn.NetConn().Write([]byte("-" + errProtected + "\r\n"))
		return false
	}
	cl := newClient(s, conn)
	conn.SetContext(cl)
	s.mu.Lock()
	s.clients[cl.id] = cl
	s.mu.Unlock()
	s.stats.connections.Add(1)
	return true
}

func (s *Server) closed(conn redcon.Conn, err error) {
	cl, ok := conn.Context().(*client)
	if !ok {
		return
	}
	if s.detachedClose(cl, err) {
		return
	}
	s.mu.Lock()
	delete(s.clients, cl.id)
	s.mu.Unlock()
	s.eng.Unwatch(cl.sess)
	s.unsubscribeAll(cl)
	s.forgetTracking(cl)
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return !ok || ta.IP.IsLoopback()
}

const errProtected = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

// watchConfig keeps the server's cached settings current under CONFIG SET.
func (s *Server) watchConfig() {
	encodings := func(c *config.Config) error {
		s.eng.SetEncodingLimits(engine.EncodingLimits{
			HashEntries: configInt(c, "hash-max-listpack-entries"), HashValue: configInt(c, "hash-max-listpack-value"),
			ZSetEntries: configInt(c, "zset-max-listpack-entries"), ZSetValue: configInt(c, "zset-max-listpack-value"),
			IntsetEntries: configInt(c, "set-max-intset-entries"),
		})
		return nil
	}
	encodings(s.cfg)
	for _, name := range []string{"hash-max-listpack-entries", "hash-max-listpack-value", "zset-max-listpack-entries", "zset-max-listpack-value", "set-max-intset-entries"} {
		s.cfg.OnChange(name, encodings)
	}
	s.cfg.OnChange("protected-mode", func(c *config.Config) error { s.protected.Store(c.ProtectedMode); return nil })
	s.cfg.OnChange("maxclients", func(c *config.Config) error { s.maxClients.Store(int64(c.MaxClients)); return nil })
	s.cfg.OnChange("tcp-keepalive", func(c *config.Config) error { s.keepAlive.Store(int64(c.TCPKeepAlive)); return nil })
	s.cfg.OnChange("proto-max-bulk-len", func(c *config.Config) error { s.lim.maxBulk.Store(c.ProtoMaxBulkLen); return nil })
	s.cfg.OnChange("client-output-buffer-limit", func(c *config.Config) error {
		c.RLock()
		hard := c.OutputBufferLimits.Replica.Hard
		c.RUnlock()
		s.eng.SetReplicaBufferLimit(hard)
		return nil
	})
	s.cfg.OnChange("appendfsync", func(c *config.Config) error {
		c.RLock()
		p := fsyncPolicies[c.AppendFsync]
		c.RUnlock()
		s.eng.SetFsync(p)
		return nil
	})
	s.cfg.OnChange("repl-backlog-size", func(c *config.Config) error {
		c.RLock()
		n := c.ReplBacklogSize
		c.RUnlock()
		s.eng.SetBacklogBytes(n)
		return nil
	})
	s.cfg.OnChange("notify-keyspace-events", func(c *config.Config) error {
		c.RLock()
		letters := c.NotifyKeyspaceEvents
		c.RUnlock()
		s.setNotify(letters)
		return nil
	})
	// The access table follows the policy before an eviction ranks keys
	// by it.
	for _, name := range []string{"maxmemory-policy", "lfu-log-factor", "lfu-decay-time"} {
		s.cfg.OnChange(name, func(*config.Config) error { s.setAccessPolicy(); return nil })
	}
	// The caches count in used_memory with the dataset in memory: they
	// follow maxmemory as at start.
	s.cfg.OnChange("maxmemory", func(c *config.Config) error {
		c.RLock()
		limit := c.MaxMemory
		c.RUnlock()
		s.eng.SetCacheBytes(cacheBytes(!s.eng.InMemory(), limit))
		return nil
	})
	for _, name := range []string{"maxmemory", "maxmemory-policy"} {
		s.cfg.OnChange(name, func(*config.Config) error { s.checkMemory(false); return nil })
	}
	s.setAccessPolicy()
	s.cfg.OnChange("client-query-buffer-limit", func(c *config.Config) error {
		s.lim.maxQuery.Store(c.ClientQueryBufferLimit)
		return nil
	})
}

// fsyncPolicies maps appendfsync's values to the log's policies.
var fsyncPolicies = map[string]wal.SyncPolicy{"always": wal.SyncAlways, "everysec": wal.SyncEverySec, "no": wal.SyncNo}

func newRunID() string {
	b := make([]byte, 20)
	if _, err := randRead(b); err != nil {
		return fmt.Sprintf("%040x", time.Now().UnixNano())
	}
	return fmt.Sprintf("%x", b)
}
