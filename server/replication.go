package server

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/replica"
	"github.com/walrus-kv/walrus/server/config"
)

// replication is the node's role: always a master to its own replicas
// (the master side serves PSYNC on any node, so chains work), and a
// replica of another node while link is set.
type replication struct {
	s      *Server
	ids    *replica.IDs
	master *replica.Master

	mu   sync.Mutex // serializes role changes
	link atomic.Pointer[replica.Link]

	loading      atomic.Bool
	readOnly     atomic.Bool
	serveStale   atomic.Bool
	minReplicas  atomic.Int64
	maxLagMillis atomic.Int64
}

func newReplication(s *Server) (*replication, error) {
	dir := ""
	if !s.eng.InMemory() {
		dir = s.cfg.Dir
	}
	ids, err := replica.LoadIDs(dir)
	if err != nil {
		return nil, err
	}
	r := &replication{s: s, ids: ids}
	r.master = replica.NewMaster(s.eng, ids, replica.MasterOptions{
		PingPeriod:  s.cfg.ReplPingReplicaPeriod,
		Timeout:     s.cfg.ReplTimeout,
		ShareWindow: configSeconds(s.cfg, "repl-diskless-sync-delay"),
		Logger:      s.log,
	})
	r.loadSettings(s.cfg)
	for _, name := range []string{"replica-read-only", "replica-serve-stale-data", "min-replicas-to-write", "min-replicas-max-lag", "repl-checkpoint-max-rate"} {
		s.cfg.OnChange(name, func(c *config.Config) error { r.loadSettings(c); return nil })
	}
	// These reach connections in flight, so each runs only for its own
	// directive.
	s.cfg.OnChange("repl-timeout", func(c *config.Config) error {
		c.RLock()
		d := c.ReplTimeout
		c.RUnlock()
		r.master.SetTimeout(d)
		if l := r.link.Load(); l != nil {
			l.SetTimeout(d)
		}
		return nil
	})
	s.cfg.OnChange("repl-ping-replica-period", func(c *config.Config) error {
		c.RLock()
		d := c.ReplPingReplicaPeriod
		c.RUnlock()
		r.master.SetPingPeriod(d)
		return nil
	})
	s.cfg.OnChange("repl-diskless-sync-delay", func(c *config.Config) error {
		r.master.SetShareWindow(configSeconds(c, "repl-diskless-sync-delay"))
		return nil
	})
	return r, nil
}

func (r *replication) loadSettings(c *config.Config) {
	c.RLock()
	defer c.RUnlock()
	r.readOnly.Store(c.ReplicaReadOnly)
	r.serveStale.Store(c.ReplicaServeStaleData)
	r.minReplicas.Store(int64(c.MinReplicasToWrite))
	r.maxLagMillis.Store(c.MinReplicasMaxLag.Milliseconds())
	r.master.SetCheckpointRate(c.ReplCheckpointMaxRate)
}

// start connects to the configured master, if any. A persistent master
// whose last run did not stop cleanly starts a new replication history.
func (r *replication) start() {
	if host, port, ok := r.s.cfg.ReplicaOf(); ok {
		r.becomeReplica(host, port, nil)
		return
	}
	last := r.s.eng.WAL().LastIndex()
	switched, err := r.ids.StartMaster(last)
	if err != nil {
		r.s.log.Error("cannot record the replication state", "err", err)
	}
	if switched {
		id, id2, _ := r.ids.Get()
		r.s.log.Warn("previous run did not stop cleanly: new replication ID; the old one stays valid up to the last durable index",
			"replid", id, "replid2", id2, "second_repl_offset", last+1)
	}
}

func (r *replication) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.link.Swap(nil); l != nil {
		l.Stop()
	}
	r.master.Close()
}

// stopped records a clean stop, once the log is synced and closed.
func (r *replication) stopped() {
	if err := r.ids.Stopped(); err != nil {
		r.s.log.Error("cannot record the clean stop", "err", err)
	}
}

func (r *replication) isReplica() bool { return r.link.Load() != nil }

func (r *replication) roleName() string {
	if r.isReplica() {
		return "replica"
	}
	return "master"
}

// becomeReplica (re)starts the link to host:port. Sub-replicas are
// dropped so they resync with the new history. A failover's handover
// passes failover (replica.LinkOptions.Failover).
func (r *replication) becomeReplica(host string, port int, failover func(reply string, err error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.link.Swap(nil); old != nil {
		old.Stop()
	}
	r.master.DisconnectAll()
	s := r.s
	s.cfg.RLock()
	opts := replica.LinkOptions{
		Host: host, Port: port,
		MasterAuth: s.cfg.MasterAuth, MasterUser: s.cfg.MasterUser, TLS: s.tlsClient,
		ListeningPort: s.cfg.Port, AnnounceIP: s.cfg.ReplicaAnnounceIP,
		Timeout:   s.cfg.ReplTimeout,
		KeepAlive: linkKeepAlive(time.Duration(s.keepAlive.Load())),
		OnLoading: func(on bool) { r.loading.Store(on) },
		OnReset:   r.master.DisconnectAll,
		OnPublish: r.deliverPublish,
		Hold:      s.holdApply,
		OnApplied: s.wakeAllBlocked,
		Traffic: func(read, written int) {
			s.traffic.read(int64(read), true)
			s.traffic.wrote(int64(written), false) // acks: not the stream
		},
		Failover: failover,
		Logger:   s.log,
	}
	if s.cfg.TLSReplication && s.cfg.TLSPort != 0 {
		opts.ListeningPort = s.cfg.TLSPort // as Redis: a TLS replica is reached on its tls-port
	}
	if s.cfg.ReplicaAnnouncePort != 0 {
		opts.ListeningPort = s.cfg.ReplicaAnnouncePort
	}
	s.cfg.RUnlock()
	s.cfg.SetReplicaOf(host, port)
	l := replica.StartLink(s.eng, r.ids, opts)
	r.link.Store(l)
	// A CONFIG SET repl-timeout between the read above and the Store found
	// no link to tell.
	s.cfg.RLock()
	d := s.cfg.ReplTimeout
	s.cfg.RUnlock()
	if d != opts.Timeout {
		l.SetTimeout(d)
	}
	s.log.Info("connecting to master (REPLICAOF)", "master", fmt.Sprintf("%s:%d", host, port))
}

// linkKeepAlive is LinkOptions.KeepAlive for tcp-keepalive: 0 is off.
func linkKeepAlive(period time.Duration) time.Duration {
	if period <= 0 {
		return -1
	}
	return period
}

// becomeMaster stops the link and starts a new history; the old ID stays
// valid up to here so former siblings resync partially.
func (r *replication) becomeMaster() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.link.Swap(nil)
	if l == nil {
		return nil
	}
	l.Stop()
	r.s.eng.SetReplica(false)
	next := r.s.eng.WAL().LastIndex() + 1
	if err := r.ids.Switch(replica.NewID(), next); err != nil {
		return err
	}
	if err := r.ids.Running(); err != nil {
		return err
	}
	r.master.DisconnectAll()
	r.s.cfg.SetReplicaOf("", 0)
	id, id2, _ := r.ids.Get()
	r.s.log.Info("MASTER MODE enabled", "replid", id, "replid2", id2, "switch_index", next)
	return nil
}

// dropLinks closes this replica's link to its master (master) or this
// node's replica connections; each reconnects by itself and resumes. It
// returns how many it closed (CLIENT KILL TYPE).
func (r *replication) dropLinks(master bool) int {
	if master {
		if l := r.link.Load(); l != nil && l.Drop() {
			return 1
		}
		return 0
	}
	n := len(r.master.Peers())
	r.master.DisconnectAll()
	return n
}

// check applies the role rules to a command about to run.
func (r *replication) check(cl *client, c *command, args [][]byte) string {
	if r.loading.Load() && c.Flags&engine.Loading == 0 {
		return "LOADING Redis is loading the dataset in memory"
	}
	writes := c.Flags&engine.Write != 0 && (c.eng == nil || c.eng.WritesWith(args))
	if l := r.link.Load(); l != nil {
		if writes {
			return "READONLY You can't write against a read only replica."
		}
		if !r.serveStale.Load() && c.Flags&engine.Stale == 0 && !l.Info().Up {
			return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
		}
		return ""
	}
	if n := r.minReplicas.Load(); n > 0 && writes {
		if int64(r.master.GoodReplicas(time.Duration(r.maxLagMillis.Load())*time.Millisecond)) < n {
			return "NOREPLICAS Not enough good replicas to write."
		}
	}
	return ""
}

func (r *replication) info() [][2]string {
	w := r.s.eng.WAL()
	var out [][2]string
	if l := r.link.Load(); l != nil {
		host, port := l.Master()
		in := l.Info()
		status := "down"
		if in.Up {
			status = "up"
		}
		out = append(out,
			kv("role", "slave"),
			kv("master_host", host),
			kv("master_port", port),
			kv("master_link_status", status),
			kv("master_last_io_seconds_ago", in.LastIOSecs),
			kv("master_sync_in_progress", boolInt(in.SyncInProg)),
			kv("slave_read_repl_offset", max(l.ReadIndex(), r.s.eng.AppliedIndex())),
			kv("slave_repl_offset", r.s.eng.AppliedIndex()),
		)
		if in.SyncInProg {
			perc := 0.0
			if in.SyncTotal > 0 {
				perc = 100 * float64(in.SyncRead) / float64(in.SyncTotal)
			}
			out = append(out,
				kv("master_sync_total_bytes", in.SyncTotal),
				kv("master_sync_read_bytes", in.SyncRead),
				kv("master_sync_left_bytes", in.SyncTotal-in.SyncRead),
				kv("master_sync_perc", fmt.Sprintf("%.2f", perc)),
				kv("master_sync_last_io_seconds_ago", in.SyncLastIOAgo),
			)
		}
		if !in.Up {
			out = append(out, kv("master_link_down_since_seconds", in.DownSecs))
		}
		out = append(out,
			kv("slave_priority", r.s.cfg.ReplicaPriority),
			kv("slave_read_only", boolInt(r.readOnly.Load())),
			kv("replica_announced", boolInt(configValue(r.s.cfg, "replica-announced") == "yes")),
		)
	} else {
		out = append(out, kv("role", "master"))
	}
	peers := r.master.Peers()
	out = append(out, kv("connected_slaves", len(peers)))
	if r.minReplicas.Load() > 0 {
		out = append(out, kv("min_slaves_good_slaves", r.master.GoodReplicas(time.Duration(r.maxLagMillis.Load())*time.Millisecond)))
	}
	for i, p := range peers {
		out = append(out, kv(fmt.Sprintf("slave%d", i), fmt.Sprintf("ip=%s,port=%d,state=%s,offset=%d,lag=%d", p.IP, p.Port, p.State, p.Offset, p.Lag)))
	}
	id, id2, second := r.ids.Get()
	secondOff := int64(-1)
	if second > 0 {
		secondOff = int64(second)
	}
	first, last := w.FirstIndex(), w.LastIndex()
	out = append(out,
		kv("master_failover_state", failoverStateNames[r.s.fail.current()]),
		kv("master_replid", id),
		kv("master_replid2", id2),
		kv("master_repl_offset", last),
		kv("second_repl_offset", secondOff),
		kv("repl_backlog_active", 1),
		kv("repl_backlog_size", r.s.cfg.ReplBacklogSize),
		kv("repl_backlog_first_byte_offset", first),
		kv("repl_backlog_histlen", last+1-first),
	)
	return out
}

func (r *replication) stats() [][2]string {
	full, ok, bad := r.master.Stats()
	return [][2]string{
		kv("sync_full", full),
		kv("sync_partial_ok", ok),
		kv("sync_partial_err", bad),
		kv("walrus_checkpoints_created", r.master.Checkpoints()),
	}
}

func (r *replication) resetStats() { r.master.ResetStats() }

func replicationCommands(row rowFunc) []*command {
	const anyState = engine.Loading | engine.Stale
	return []*command{
		row("replicaof", 3, engine.Admin|engine.Stale, "server", "Make the server a replica of another instance, or promote it as master.", cmdReplicaOf),
		row("slaveof", 3, engine.Admin|engine.Stale, "server", "Make the server a replica of another instance, or promote it as master.", cmdReplicaOf),
		row("role", 1, anyState|engine.Fast, "server", "Return the role of the instance in the context of replication", cmdRole),
		row("replconf", -1, engine.Admin|anyState|engine.NoMulti, "server", "An internal command for configuring the replication stream", cmdReplconf),
		row("psync", -3, engine.Admin|engine.NoMulti, "server", "Internal command used for replication", cmdPsync),
		row("sync", 1, engine.Admin|engine.NoMulti, "server", "Internal command used for replication", cmdSync),
		row("failover", -1, engine.Admin|engine.Stale, "server", "Start a coordinated failover between this server and one of its replicas.", cmdFailover),
		row("wait", 3, 0, "generic", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", cmdWait),
		row("waitaof", 4, engine.NoMulti, "generic", "Wait for all write commands sent by the client to be appended to the AOF of the local Redis and/or the replicas", cmdWaitAOF),
	}
}

// REPLICAOF host port | REPLICAOF NO ONE
func cmdReplicaOf(s *Server, cl *client, args [][]byte) {
	if s.fail.current() != noFailover {
		cl.err("ERR REPLICAOF not allowed while failing over.")
		return
	}
	host, portArg := string(args[1]), string(args[2])
	if strings.EqualFold(host, "no") && strings.EqualFold(portArg, "one") {
		if err := s.repl.becomeMaster(); err != nil {
			cl.err("ERR " + err.Error())
			return
		}
		cl.ok()
		return
	}
	port, err := strconv.Atoi(portArg)
	if err != nil || port < 0 || port > 65535 {
		cl.err("ERR Invalid master port")
		return
	}
	if l := s.repl.link.Load(); l != nil {
		if h, p := l.Master(); h == host && p == port {
			cl.status("OK Already connected to specified master")
			return
		}
	}
	s.repl.becomeReplica(host, port, nil)
	cl.ok()
}

func cmdRole(s *Server, cl *client, args [][]byte) {
	r := s.repl
	if l := r.link.Load(); l != nil {
		host, port := l.Master()
		cl.array(5)
		cl.bulkString("slave")
		cl.bulkString(host)
		cl.integer(int64(port))
		cl.bulkString(l.Info().State)
		cl.integer(int64(s.eng.AppliedIndex()))
		return
	}
	peers := r.master.Peers()
	cl.array(3)
	cl.bulkString("master")
	cl.integer(int64(s.eng.WAL().LastIndex()))
	cl.array(len(peers))
	for _, p := range peers {
		cl.array(3)
		cl.bulkString(p.IP)
		cl.bulkString(strconv.Itoa(p.Port))
		cl.bulkString(strconv.FormatUint(p.Offset, 10))
	}
}

// REPLCONF listening-port <port> | ip-address <ip> | capa <...> | ACK | GETACK
func cmdReplconf(s *Server, cl *client, args [][]byte) {
	if len(args)%2 == 0 {
		cl.err("ERR syntax error")
		return
	}
	for i := 1; i < len(args); i += 2 {
		switch strings.ToLower(string(args[i])) {
		case "listening-port":
			p, err := strconv.Atoi(string(args[i+1]))
			if err != nil {
				cl.err("ERR value is not an integer or out of range")
				return
			}
			cl.replPort = p
		case "ip-address":
			cl.replIP = string(args[i+1])
		case "rdb-only":
			v, err := strconv.ParseInt(string(args[i+1]), 10, 64)
			if err != nil {
				cl.err("ERR value is not an integer or out of range")
				return
			}
			if v != 0 && v != 1 {
				cl.err("ERR value is out of range, value must between 0 and 1")
				return
			}
			cl.rdbOnly = v == 1
		case "rdb-filter-only":
			// Include filters, all parts out unless named; Redis knows
			// one: "functions" (redis-cli --functions-rdb).
			filters, err := config.SplitArgs(string(args[i+1]))
			if err != nil {
				cl.err("ERR Missing rdb-filter-only values")
				return
			}
			filter := engine.RDBOptions{NoFunctions: true, NoKeys: true}
			for _, f := range filters {
				if !strings.EqualFold(f, "functions") {
					cl.err("ERR Unsupported rdb-filter-only option: " + f)
					return
				}
				filter.NoFunctions = false
			}
			cl.rdbFilter = filter
		case "capa":
			if strings.EqualFold(string(args[i+1]), "eof") {
				cl.capaEOF = true
			}
		case "ack", "getack":
		default:
			cl.err("ERR Unrecognized REPLCONF option: " + string(args[i]))
			return
		}
	}
	cl.ok()
}

// PSYNC replid offset [FAILOVER]: the connection becomes a replication
// stream the replica package serves: walrus's own (a checkpoint or a
// partial resync, then the log), or Redis's for a replica that said
// REPLCONF capa eof, as every redis-server replica does.
func cmdPsync(s *Server, cl *client, args [][]byte) {
	if len(args) > 3 && strings.EqualFold(string(args[3]), "failover") && !s.psyncFailover(cl, string(args[1])) {
		return
	}
	dc, ok := s.detachReplica(cl)
	if !ok {
		return
	}
	ip, port := cl.replIP, cl.replPort
	if ip == "" {
		ip = hostOf(cl.addr)
	}
	if cl.capaEOF {
		s.repl.master.ServeRedis(dc, ip, port, replica.RedisSync{PSYNC: true, Replid: string(args[1]), Offset: string(args[2]),
			RDBOnly: cl.rdbOnly, RDB: s.rdbFunc(cl)})
		return
	}
	s.repl.master.Serve(dc, string(args[1]), string(args[2]), ip, port)
}

// SYNC, as `redis-cli --replica` and `--rdb` send it: Redis's full
// resync without its +FULLRESYNC line. The dataset as a Redis RDB file
// in the diskless framing ("$EOF:<mark>", the file, the mark), then the
// writes as Redis commands; after REPLCONF rdb-only 1 the connection
// closes after the file. The RDB is also a backup Redis can load.
func cmdSync(s *Server, cl *client, _ [][]byte) {
	dc, ok := s.detachReplica(cl)
	if !ok {
		return
	}
	s.repl.master.ServeRedis(dc, hostOf(cl.addr), cl.replPort, replica.RedisSync{RDBOnly: cl.rdbOnly, RDB: s.rdbFunc(cl)})
}

// detachReplica takes a connection that asked for a replication stream
// from redcon, once the node can serve one.
func (s *Server) detachReplica(cl *client) (redcon.DetachedConn, bool) {
	if s.fail.current() != noFailover {
		cl.err("NOMASTERLINK Can't SYNC while failing over")
		return nil, false
	}
	if l := s.repl.link.Load(); l != nil && !l.Info().Up {
		cl.err("NOMASTERLINK Can't SYNC while not connected with my master")
		return nil, false
	}
	if len(cl.out) > 0 {
		cl.conn.WriteRaw(cl.out)
		cl.out = cl.out[:0]
	}
	dc := cl.conn.Detach()
	if err := dc.Flush(); err != nil {
		dc.Close()
		return nil, false
	}
	cl.detached = true
	if g, ok := cl.conn.NetConn().(*guardConn); ok {
		g.repl.Store(true) // its bytes are replication traffic from now on
	}
	return dc, true
}

// rdbFunc writes the RDB file a Redis replica or SYNC gets: the dataset,
// less what the client's REPLCONF rdb-filter-only left out.
func (s *Server) rdbFunc(cl *client) replica.RDBFunc {
	opts := cl.rdbFilter
	return func(w io.Writer, begin func(uint64) error) error {
		opts.Begin = begin
		return s.eng.WriteRDB(w, rdbAux(), opts)
	}
}

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// WAIT numreplicas timeout
func cmdWait(s *Server, cl *client, args [][]byte) {
	if s.repl.isReplica() {
		cl.err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	n, err1 := strconv.ParseInt(string(args[1]), 10, 64)
	ms, err2 := strconv.ParseInt(string(args[2]), 10, 64)
	if err1 != nil || err2 != nil {
		cl.err("ERR value is not an integer or out of range")
		return
	}
	if ms < 0 {
		cl.err("ERR timeout is negative")
		return
	}
	got := s.repl.master.WaitAcks(context.Background(), cl.sess.LastWrite, int(n), false, time.Duration(ms)*time.Millisecond)
	cl.integer(int64(got))
}

// WAITAOF numlocal numreplicas timeout
func cmdWaitAOF(s *Server, cl *client, args [][]byte) {
	if s.repl.isReplica() {
		cl.err("ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.")
		return
	}
	local, err1 := strconv.ParseInt(string(args[1]), 10, 64)
	n, err2 := strconv.ParseInt(string(args[2]), 10, 64)
	ms, err3 := strconv.ParseInt(string(args[3]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		cl.err("ERR value is not an integer or out of range")
		return
	}
	if ms < 0 {
		cl.err("ERR timeout is negative")
		return
	}
	if local > 0 && s.eng.InMemory() {
		cl.err("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.")
		return
	}
	target := cl.sess.LastWrite
	w := s.eng.WAL()
	if local > 0 && w.SyncedIndex() < target {
		if err := w.Sync(); err != nil {
			cl.err("ERR " + err.Error())
			return
		}
	}
	got := s.repl.master.WaitAcks(context.Background(), target, int(n), true, time.Duration(ms)*time.Millisecond)
	cl.array(2)
	cl.integer(int64(boolInt(!s.eng.InMemory() && w.SyncedIndex() >= target)))
	cl.integer(int64(got))
}

// propagate forwards a PUBLISH to replicas.
func (r *replication) publish(channel, message []byte, shard bool) {
	r.master.Publish(channel, message, shard)
}

// deliverPublish hands a PUBLISH or SPUBLISH forwarded by the master to
// local subscribers.
func (r *replication) deliverPublish(channel, message []byte, shard bool) {
	if shard {
		r.s.PublishShard(channel, message)
		return
	}
	r.s.Publish(channel, message)
}

// configValue reads a directive that has no typed field ("" if unknown).
func configValue(c *config.Config, name string) string {
	for _, kv := range c.Get(name) {
		return kv[1]
	}
	return ""
}

// configInt reads an integer directive that has no typed field.
func configInt(c *config.Config, name string) int64 {
	n, _ := strconv.ParseInt(configValue(c, name), 10, 64)
	return n
}

// configSeconds reads a directive that has no typed field, in seconds.
func configSeconds(c *config.Config, name string) time.Duration {
	return time.Duration(configInt(c, name)) * time.Second
}
