package server

import (
	"errors"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
)

// Publish/subscribe.
//
// A client that subscribes for the first time is detached from redcon's
// loop (redcon connections may only be written from their own handler
// goroutine): from then on the connection is served by two goroutines of
// its own, a reader that dispatches its commands like any other client
// and a writer that drains a bounded outgoing queue. Replies and pushed
// messages share that queue, so their order is the order they were
// produced in. A subscriber whose queue grows past
// client-output-buffer-limit pubsub (hard, or soft for its seconds) is
// disconnected, as in Redis; a publisher never waits for a subscriber.
//
// The connection stays detached after its last unsubscribe (redcon cannot
// take it back); it is served the same way until it closes. The server
// owns these goroutines: stop closes every connection and waits for them.

// pubsub is the server's subscription registry. mu guards every map and
// every subscriber's channel and pattern sets.
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*client]struct{}
	patterns map[string]map[*client]struct{}
	shards   map[string]map[*client]struct{} // shard channels (SSUBSCRIBE)
	subs     map[*client]*subscriber
	wg       sync.WaitGroup // detached connection goroutines

	monitors map[*client]*subscriber // MONITOR (monitor.go)
	nmon     atomic.Int32            // len(monitors), read without the lock
}

// subscriber is a detached client's state.
type subscriber struct {
	cl      *client
	dc      redcon.DetachedConn
	q       outQueue
	chans   map[string]struct{}
	pats    map[string]struct{}
	shards  map[string]struct{}
	started atomic.Bool // serving goroutines started (handover done)
}

// outQueue is a detached connection's outgoing bytes. mu guards all.
type outQueue struct {
	mu        sync.Mutex
	buf       []byte
	closing   bool // close once buf is written
	dead      bool // closed: drop further output
	softSince time.Time
	wake      chan struct{} // cap 1: the writer has work
	// busy: the connection's reader is running a command; invalidations
	// wait in held until its reply is queued (pushTracking).
	busy bool
	held []byte
	// writing is the size of the batch the writer is sending, which is
	// out of buf until the socket has taken it all.
	writing int
}

// pending returns the bytes queued and not yet taken by the socket
// (CLIENT LIST's omem).
func (q *outQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) + len(q.held) + q.writing
}

func (ps *pubsub) init() {
	if ps.channels == nil {
		ps.channels = map[string]map[*client]struct{}{}
		ps.patterns = map[string]map[*client]struct{}{}
		ps.shards = map[string]map[*client]struct{}{}
		ps.subs = map[*client]*subscriber{}
		ps.monitors = map[*client]*subscriber{}
	}
}

func pubsubCommands(row rowFunc) []*command {
	const flags = engine.PubSub | engine.Loading | engine.Stale
	return []*command{
		row("subscribe", -2, flags, "pubsub", "Listen for messages published to the given channels", cmdSubscribe),
		row("psubscribe", -2, flags, "pubsub", "Listen for messages published to channels matching the given patterns", cmdSubscribe),
		row("unsubscribe", -1, flags, "pubsub", "Stop listening for messages posted to the given channels", cmdUnsubscribe),
		row("punsubscribe", -1, flags, "pubsub", "Stop listening for messages posted to channels matching the given patterns", cmdUnsubscribe),
		row("publish", 3, flags|engine.Fast, "pubsub", "Post a message to a channel", cmdPublish),
		row("pubsub", -2, flags, "pubsub", "A container for Pub/Sub commands", cmdPubSub),
		// Sharded pub/sub, as Redis has it without cluster mode: shard
		// channels of their own, which patterns do not reach. Their
		// channels sit where keys do, as in Redis, and ACL checks them as
		// channels, not keys.
		withKeys(row("ssubscribe", -2, flags, "pubsub", "Listen for messages published to the given shard channels", cmdSubscribe), 1, -1),
		withKeys(row("sunsubscribe", -1, flags, "pubsub", "Stop listening for messages posted to the given shard channels", cmdUnsubscribe), 1, -1),
		withKeys(row("spublish", 3, flags|engine.Fast, "pubsub", "Post a message to a shard channel", cmdPublish), 1, 1),
	}
}

func withKeys(c *command, first, last int) *command {
	c.FirstKey, c.LastKey, c.Step = first, last, 1
	return c
}

// subKind is one of the three kinds of subscription.
type subKind int

const (
	subChannel subKind = iota
	subPattern
	subShard
)

// subKindOf names a (un)subscribe command's kind and its reply's word.
func subKindOf(cmd []byte) (subKind, string) {
	name := strings.ToLower(string(cmd))
	switch name {
	case "psubscribe", "punsubscribe":
		return subPattern, name
	case "ssubscribe", "sunsubscribe":
		return subShard, name
	}
	return subChannel, name
}

// sets returns the registry's and the subscriber's sets of a kind.
func (ps *pubsub) sets(sub *subscriber, k subKind) (map[string]map[*client]struct{}, map[string]struct{}) {
	switch k {
	case subPattern:
		return ps.patterns, sub.pats
	case subShard:
		return ps.shards, sub.shards
	}
	return ps.channels, sub.chans
}

// count is what a (un)subscribe reply counts: shard channels apart, as
// Redis counts them, channels and patterns together.
func (sub *subscriber) count(k subKind) int {
	if k == subShard {
		return len(sub.shards)
	}
	return len(sub.chans) + len(sub.pats)
}

// publishCounts stores sub's counts where other connections read them
// (subscribe mode lasts while any; CLIENT LIST shows each); ps.mu is held.
func (sub *subscriber) publishCounts() {
	cl := sub.cl
	cl.subs.Store(int64(len(sub.chans) + len(sub.pats) + len(sub.shards)))
	cl.subCounts[subChannel].Store(int32(len(sub.chans)))
	cl.subCounts[subPattern].Store(int32(len(sub.pats)))
	cl.subCounts[subShard].Store(int32(len(sub.shards)))
}

// subscribeModeError is the error for a command a RESP2 client in
// subscribe mode may not run, or "".
func (s *Server) subscribeModeError(cl *client, name string) string {
	if cl.subs.Load() == 0 || cl.sess.RESP3 {
		return ""
	}
	switch name {
	case "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		return ""
	}
	return "ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// SUBSCRIBE channel [channel ...] / PSUBSCRIBE pattern [pattern ...] /
// SSUBSCRIBE shardchannel [shardchannel ...]
func cmdSubscribe(s *Server, cl *client, args [][]byte) {
	k, kind := subKindOf(args[0])
	ps := &s.ps
	ps.mu.Lock()
	ps.init()
	sub := ps.subs[cl]
	if sub == nil {
		sub = s.detach(cl)
	}
	counts := make([]int, len(args)-1)
	for i, a := range args[1:] {
		name := string(a)
		set, own := ps.sets(sub, k)
		if _, dup := own[name]; !dup {
			own[name] = struct{}{}
			if set[name] == nil {
				set[name] = map[*client]struct{}{}
			}
			set[name][cl] = struct{}{}
		}
		counts[i] = sub.count(k)
	}
	sub.publishCounts()
	ps.mu.Unlock()
	for i, a := range args[1:] {
		cl.push(3)
		cl.bulkString(kind)
		cl.bulk(a)
		cl.integer(int64(counts[i]))
	}
}

// UNSUBSCRIBE [channel ...] / PUNSUBSCRIBE [pattern ...] / SUNSUBSCRIBE
// [shardchannel ...]; no argument means every one.
func cmdUnsubscribe(s *Server, cl *client, args [][]byte) {
	k, kind := subKindOf(args[0])
	ps := &s.ps
	ps.mu.Lock()
	ps.init()
	sub := ps.subs[cl]
	var names []string
	if len(args) > 1 {
		for _, a := range args[1:] {
			names = append(names, string(a))
		}
	} else if sub != nil {
		_, own := ps.sets(sub, k)
		for n := range own {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	type rep struct {
		name  string
		count int
	}
	var reps []rep
	for _, n := range names {
		left := 0
		if sub != nil {
			ps.removeLocked(sub, n, k)
			left = sub.count(k)
		}
		reps = append(reps, rep{n, left})
	}
	left := 0
	if sub != nil {
		left = sub.count(k)
		sub.publishCounts()
	}
	ps.mu.Unlock()
	if len(reps) == 0 {
		cl.push(3)
		cl.bulkString(kind)
		cl.null()
		cl.integer(int64(left))
		return
	}
	for _, r := range reps {
		cl.push(3)
		cl.bulkString(kind)
		cl.bulkString(r.name)
		cl.integer(int64(r.count))
	}
}

// removeLocked drops one subscription of sub; ps.mu must be held.
func (ps *pubsub) removeLocked(sub *subscriber, name string, k subKind) {
	set, own := ps.sets(sub, k)
	if _, ok := own[name]; !ok {
		return
	}
	delete(own, name)
	if m := set[name]; m != nil {
		delete(m, sub.cl)
		if len(m) == 0 {
			delete(set, name)
		}
	}
}

// PUBLISH channel message / SPUBLISH shardchannel message
func cmdPublish(s *Server, cl *client, args [][]byte) {
	shard := strings.EqualFold(string(args[0]), "spublish")
	var n int
	if shard {
		n = s.PublishShard(args[1], args[2])
	} else {
		n = s.Publish(args[1], args[2])
	}
	s.repl.publish(args[1], args[2], shard) // a master's messages reach its replicas' subscribers
	cl.integer(int64(n))
}

// PublishShard delivers a message to this node's subscribers of a shard
// channel and returns how many received it.
func (s *Server) PublishShard(channel, message []byte) int {
	ps := &s.ps
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return s.deliver(ps.shards[string(channel)], "smessage", channel, message)
}

// deliver pushes a message of kind (message, smessage) on channel to
// subs and returns how many they are; ps.mu is held.
func (s *Server) deliver(subs map[*client]struct{}, kind string, channel, message []byte) int {
	if len(subs) == 0 {
		return 0
	}
	msg := redcon.AppendArray(nil, 3)
	msg = redcon.AppendBulkString(msg, kind)
	msg = redcon.AppendBulk(msg, channel)
	msg = redcon.AppendBulk(msg, message)
	var msg3 []byte
	for cl := range subs {
		s.pushTo(s.ps.subs[cl], pushFor(cl, msg, &msg3))
	}
	return len(subs)
}

// pushFor is msg for cl: as it is (an array) for a RESP2 client, as a
// RESP3 push for a RESP3 one, made once in *msg3.
func pushFor(cl *client, msg []byte, msg3 *[]byte) []byte {
	if !cl.resp3.Load() {
		return msg
	}
	if *msg3 == nil {
		*msg3 = append([]byte{'>'}, msg[1:]...)
	}
	return *msg3
}

// push appends the header of a pub/sub reply of n elements: a push in
// RESP3, an array in RESP2.
func (cl *client) push(n int) { cl.out = engine.AppendPush(cl.out, cl.sess.RESP3, n) }

// Publish delivers a message to this node's subscribers of channel and of
// every matching pattern, and returns how many received it. It never
// blocks on a subscriber.
func (s *Server) Publish(channel, message []byte) int {
	ps := &s.ps
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	n := s.deliver(ps.channels[string(channel)], "message", channel, message)
	for pat, subs := range ps.patterns {
		if !engine.GlobMatch(pat, string(channel)) {
			continue
		}
		msg := redcon.AppendArray(nil, 4)
		msg = redcon.AppendBulkString(msg, "pmessage")
		msg = redcon.AppendBulkString(msg, pat)
		msg = redcon.AppendBulk(msg, channel)
		msg = redcon.AppendBulk(msg, message)
		var msg3 []byte
		for cl := range subs {
			s.pushTo(ps.subs[cl], pushFor(cl, msg, &msg3))
			n++
		}
	}
	return n
}

// pushTracking queues an invalidation for a connection: after the reply
// of the command it is running, if any, as Redis 7 orders them (so a
// read's reply never follows the invalidation of what it read).
func (s *Server) pushTracking(sub *subscriber, b []byte) {
	q := &sub.q
	q.mu.Lock()
	if q.busy && !q.dead && !sub.cl.blocked.Load() { // a blocked client runs nothing: as Redis, push now
		q.held = append(q.held, b...)
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	s.pushTo(sub, b)
}

// pushTo queues bytes for a subscriber, disconnecting it past the pubsub
// output buffer limits.
func (s *Server) pushTo(sub *subscriber, b []byte) {
	if sub == nil {
		return
	}
	lim := s.cfg.OutputBufferLimits.PubSub
	q := &sub.q
	q.mu.Lock()
	if q.dead {
		q.mu.Unlock()
		return
	}
	q.buf = append(q.buf, b...)
	size := int64(len(q.buf))
	over := lim.Hard > 0 && size > lim.Hard
	if lim.Soft > 0 && size > lim.Soft {
		if q.softSince.IsZero() {
			q.softSince = time.Now()
		} else if time.Since(q.softSince) >= lim.SoftSeconds {
			over = true
		}
	} else {
		q.softSince = time.Time{}
	}
	if over {
		q.dead = true
		q.buf = nil
	}
	q.mu.Unlock()
	if over {
		s.log.Warn("client closed for overcoming of output buffer limits", "client", sub.cl.addr, "class", "pubsub", "bytes", size)
		sub.closeNet()
		return
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT |
// SHARDCHANNELS [pattern] | SHARDNUMSUB [shardchannel ...] | HELP
func cmdPubSub(s *Server, cl *client, args [][]byte) {
	ps := &s.ps
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	switch sub := strings.ToLower(string(args[1])); {
	case (sub == "channels" || sub == "shardchannels") && len(args) <= 3:
		set := ps.channels
		if sub == "shardchannels" {
			set = ps.shards
		}
		var names []string
		for ch := range set {
			if len(args) == 2 || engine.GlobMatch(string(args[2]), ch) {
				names = append(names, ch)
			}
		}
		sort.Strings(names)
		cl.array(len(names))
		for _, n := range names {
			cl.bulkString(n)
		}
	case sub == "numsub" || sub == "shardnumsub":
		set := ps.channels
		if sub == "shardnumsub" {
			set = ps.shards
		}
		cl.array(2 * (len(args) - 2))
		for _, ch := range args[2:] {
			cl.bulk(ch)
			cl.integer(int64(len(set[string(ch)])))
		}
	case sub == "numpat" && len(args) == 2:
		cl.integer(int64(len(ps.patterns)))
	case sub == "help" && len(args) == 2:
		lines := []string{
			"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CHANNELS [<pattern>]",
			"    Return the currently active channels matching a <pattern> (default: '*').",
			"NUMPAT",
			"    Return number of subscriptions to patterns.",
			"NUMSUB [<channel> ...]",
			"    Return the number of subscribers for the specified channels, excluding",
			"    pattern subscriptions(default: no channels).",
			"SHARDCHANNELS [<pattern>]",
			"    Return the currently active shard level channels matching a <pattern> (default: '*').",
			"SHARDNUMSUB [<shardchannel> ...]",
			"    Return the number of subscribers for the specified shard level channel(s)",
			"HELP",
			"    Prints this help.",
		}
		cl.statusLines(lines)
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try PUBSUB HELP.")
	}
}

// detach takes cl's connection out of redcon's loop; ps.mu must be held.
// The goroutines that serve it start at the handover (detachedClose),
// once redcon's handler has queued its last replies.
func (s *Server) detach(cl *client) *subscriber {
	dc := cl.conn.Detach()
	sub := &subscriber{cl: cl, dc: dc, chans: map[string]struct{}{}, pats: map[string]struct{}{}, shards: map[string]struct{}{}}
	sub.q.wake = make(chan struct{}, 1)
	s.ps.subs[cl] = sub
	cl.outq.Store(&sub.q)
	s.mu.Lock()
	cl.conn = &queuedConn{DetachedConn: dc, sub: sub}
	s.mu.Unlock()
	return sub
}

// detachedClose is redcon's closed callback for a connection that was
// detached: it starts serving it and reports true; any other close
// reports false.
func (s *Server) detachedClose(cl *client, err error) bool {
	if err == nil || err.Error() != "detached" {
		return false
	}
	ps := &s.ps
	ps.mu.Lock()
	sub := ps.subs[cl]
	if sub == nil || sub.started.Load() {
		ps.mu.Unlock()
		return sub != nil
	}
	sub.started.Store(true)
	ps.wg.Add(2)
	ps.mu.Unlock()
	go func() { defer ps.wg.Done(); s.writeLoop(sub) }()
	go func() { defer ps.wg.Done(); s.readLoop(sub) }()
	return true
}

// writeLoop drains a detached connection's queue; it flushes what redcon's
// handler left in the writer first.
func (s *Server) writeLoop(sub *subscriber) {
	q := &sub.q
	if err := sub.dc.Flush(); err != nil {
		sub.closeNet()
	}
	for {
		q.mu.Lock()
		for len(q.buf) == 0 && !q.closing && !q.dead {
			q.mu.Unlock()
			<-q.wake
			q.mu.Lock()
		}
		buf, closing, dead := q.buf, q.closing, q.dead
		q.buf = nil
		q.writing = len(buf)
		q.mu.Unlock()
		if dead {
			return
		}
		if len(buf) > 0 {
			sub.dc.WriteRaw(buf)
			err := sub.dc.Flush()
			q.mu.Lock()
			q.writing = 0
			q.dead = q.dead || err != nil
			q.mu.Unlock()
			if err != nil {
				sub.closeNet()
				return
			}
		}
		if closing {
			q.mu.Lock()
			q.dead = true
			q.mu.Unlock()
			sub.closeNet()
			return
		}
	}
}

// readLoop serves a detached connection's commands until it closes, then
// forgets the client. Like redcon's loop it serves a pipeline at a time:
// the commands parsed from one read go to dispatch together, so a
// pipeline's writes share a group commit.
func (s *Server) readLoop(sub *subscriber) {
	cl := sub.cl
	var cmds [][][]byte
	for {
		cmd, err := sub.dc.ReadCommand()
		if err != nil {
			break
		}
		cmds, err = sub.readBuffered(append(cmds[:0], cmd.Args))
		s.stats.commands.Add(int64(len(cmds)))
		cl.lastActive.Store(time.Now().UnixMilli())
		sub.q.mu.Lock()
		sub.q.busy = true
		sub.q.mu.Unlock()
		out := s.dispatch(cl, cmds, nil)
		s.queueReply(sub, out) // and what waited for it
		s.wakeBlocked(cmds)
		if err != nil {
			break
		}
	}
	q := &sub.q
	q.mu.Lock()
	q.dead = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	sub.closeNet()
	s.mu.Lock()
	delete(s.clients, cl.id)
	s.mu.Unlock()
	s.eng.Unwatch(cl.sess)
	s.ps.forget(cl)
	s.forgetTracking(cl)
}

// readBuffered appends to cmds the commands already read from the
// socket, without waiting for more: a deadline in the past makes a read
// that would reach the socket fail at once, and leaves redcon's reader as
// it was. err is a failure other than that deadline.
func (sub *subscriber) readBuffered(cmds [][][]byte) (_ [][][]byte, err error) {
	nc := sub.dc.NetConn()
	nc.SetReadDeadline(time.Unix(1, 0))
	defer nc.SetReadDeadline(time.Time{})
	for {
		cmd, err := sub.dc.ReadCommand()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = nil
			}
			return cmds, err
		}
		cmds = append(cmds, cmd.Args)
	}
}

// queueReply queues a command's reply (replies are not subject to the
// pubsub limit's disconnect, only messages are).
func (s *Server) queueReply(sub *subscriber, out []byte) {
	q := &sub.q
	q.mu.Lock()
	n := len(out) + len(q.held)
	if !q.dead {
		q.buf = append(q.buf, out...)
		q.buf = append(q.buf, q.held...)
	}
	q.busy, q.held = false, nil
	q.mu.Unlock()
	if n == 0 {
		return
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// forget drops every subscription of cl.
func (ps *pubsub) forget(cl *client) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	sub := ps.subs[cl]
	if sub == nil {
		return
	}
	for _, k := range []subKind{subChannel, subPattern, subShard} {
		_, own := ps.sets(sub, k)
		for n := range own {
			ps.removeLocked(sub, n, k)
		}
	}
	delete(ps.subs, cl)
	sub.publishCounts()
	ps.stopMonitorLocked(cl)
}

// closeNet closes the socket under a detached connection. (redcon's
// Close flushes its writer first, which would block on a subscriber that
// does not read, and race with writeLoop.)
func (sub *subscriber) closeNet() { sub.dc.NetConn().Close() }

// queuedConn is a detached client's connection as the rest of the server
// sees it: writes go through the queue (in order with pushed messages),
// Close closes after the queue is written.
type queuedConn struct {
	redcon.DetachedConn
	sub *subscriber
}

func (qc *queuedConn) WriteRaw(b []byte) { qc.sub.q.mu.Lock(); qc.appendLocked(b); qc.wake() }

func (qc *queuedConn) appendLocked(b []byte) {
	if !qc.sub.q.dead {
		qc.sub.q.buf = append(qc.sub.q.buf, b...)
	}
	qc.sub.q.mu.Unlock()
}

func (qc *queuedConn) wake() {
	select {
	case qc.sub.q.wake <- struct{}{}:
	default:
	}
}

func (qc *queuedConn) Close() error {
	q := &qc.sub.q
	q.mu.Lock()
	q.closing = true
	started := qc.sub.started.Load()
	q.mu.Unlock()
	qc.wake()
	if !started {
		qc.sub.closeNet()
	}
	return nil
}

// unsubscribeAll is called when a (non-detached) connection closes.
func (s *Server) unsubscribeAll(cl *client) { s.ps.forget(cl) }

// stopPubSub closes every detached connection and waits for their
// goroutines (server stop).
func (s *Server) stopPubSub() {
	s.ps.mu.Lock()
	var subs []*subscriber
	for _, sub := range s.ps.subs {
		subs = append(subs, sub)
	}
	s.ps.mu.Unlock()
	for _, sub := range subs {
		sub.closeNet()
	}
	s.ps.wg.Wait()
}

func (s *Server) pubsubChannels() int {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.channels)
}

func (s *Server) pubsubShardChannels() int {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.shards)
}

func (s *Server) pubsubPatterns() int {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.patterns)
}
