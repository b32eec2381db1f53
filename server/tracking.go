package server

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
)

// Client-side caching: CLIENT TRACKING, CACHING, GETREDIR and
// TRACKINGINFO, as Redis 6 and later have them.
//
// In the default mode the server remembers, for each key a tracking
// client read, the clients that read it; the first change to the key
// sends each of them an invalidation and forgets the key. In BCAST mode a
// client names key prefixes instead and hears of every change under
// them. OPTIN and OPTOUT make the default mode remember only the keys of
// the command after CLIENT CACHING YES, or all but those after CLIENT
// CACHING NO; NOLOOP spares a client the invalidations of its own
// writes. A RESP3 client gets invalidations as push messages on its own
// connection; a client may instead redirect them to another connection,
// which gets them as push messages when it speaks RESP3 or as messages
// on __redis__:invalidate when it is subscribed to anything in RESP2.
//
// What changed comes from the engine: while any client tracks, it notes
// every change (the keyspace events, whatever notify-keyspace-events
// says) and every flush, and hands them over once committed
// (publishNotes). A read registers its keys before it runs, so a change
// committed after the read always invalidates what the read returned;
// and a connection's invalidations wait while it has a command under
// way, so they reach it after that command's reply, as in Redis 7.
//
// Unlike Redis, walrus can only push to a connection it serves on
// goroutines of its own (pubsub.go's detached connections): a RESP3
// client that turns tracking on is detached then, and a connection that
// is the target of a redirection must be a subscriber or a tracking
// RESP3 client itself; other targets get nothing.

// trackState is a client's tracking settings; tracker.mu guards it.
type trackState struct {
	on, bcast, optin, optout, noloop bool
	redirect                         int64
	prefixes                         []string
	caching                          bool // CLIENT CACHING given for the next command
	broken                           bool // the redirection's target is gone
	// enabling: an EXEC that turns tracking on is running, and its reads
	// were remembered before it ran (trackCommand, trackExecRan).
	enabling bool
}

// trackSummary is what CLIENT LIST shows of a client's tracking: its
// flag letters (t, R for a broken redirection, B for BCAST) and its
// redirection (-1 when tracking is off).
type trackSummary struct {
	flags    string
	redirect int64
}

// showLocked publishes cl's tracking state for CLIENT LIST.
func (cl *client) showLocked() {
	cur := &cl.track
	if !cur.on {
		cl.trackView.Store(nil)
		return
	}
	v := &trackSummary{flags: "t", redirect: cur.redirect}
	if cur.broken {
		v.flags += "R"
	}
	if cur.bcast {
		v.flags += "B"
	}
	cl.trackView.Store(v)
}

// tracker is the server's tracking table.
type tracker struct {
	on atomic.Bool // some client tracks (the engine notes every change)

	mu       sync.Mutex
	keys     map[string][]*client            // default mode: key -> clients that read it (a slice: most keys have one)
	items    int                             // sum of the keys' client counts
	prefixes map[string]map[*client]struct{} // BCAST: prefix -> clients
	clients  int                             // clients with tracking on
}

// invalidateChannel is where RESP2 redirections hear of invalidations.
const invalidateChannel = "__redis__:invalidate"

// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN]
// [OPTOUT] [NOLOOP]: Redis's checks in Redis's order.
func (s *Server) clientTracking(cl *client, args [][]byte) {
	var want trackState
	for j := 3; j < len(args); j++ {
		more := j < len(args)-1
		switch opt := strings.ToLower(string(args[j])); {
		case opt == "redirect" && more:
			j++
			if want.redirect != 0 {
				cl.err("ERR A client can only redirect to a single other client")
				return
			}
			id, err := strconv.ParseInt(string(args[j]), 10, 64)
			if err != nil {
				cl.err("ERR value is not an integer or out of range")
				return
			}
			if s.clientByID(id) == nil {
				cl.err("ERR The client ID you want redirect to does not exist")
				return
			}
			want.redirect = id
		case opt == "bcast":
			want.bcast = true
		case opt == "optin":
			want.optin = true
		case opt == "optout":
			want.optout = true
		case opt == "noloop":
			want.noloop = true
		case opt == "prefix" && more:
			j++
			want.prefixes = append(want.prefixes, string(args[j]))
		default:
			cl.err("ERR syntax error")
			return
		}
	}
	t := &s.trk
	switch strings.ToLower(string(args[2])) {
	case "on":
		t.mu.Lock()
		msg := t.refuseLocked(cl, &want)
		if msg == "" {
			t.enableLocked(cl, &want)
			s.eng.SetTracking(true)
			t.on.Store(true)
		}
		t.mu.Unlock()
		if msg != "" {
			cl.err(msg)
			return
		}
		if cl.resp3.Load() {
			s.makePushable(cl) // for its invalidations, or news of a broken redirection
		}
	case "off":
		s.forgetTracking(cl)
	default:
		cl.err("ERR syntax error")
		return
	}
	cl.ok()
}

// refuseLocked is the error for turning tracking on with want, or "".
func (t *tracker) refuseLocked(cl *client, want *trackState) string {
	cur := &cl.track
	switch {
	case !want.bcast && len(want.prefixes) > 0:
		return "ERR PREFIX option requires BCAST mode to be enabled"
	case cur.on && cur.bcast != want.bcast:
		return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	case want.bcast && (want.optin || want.optout):
		return "ERR OPTIN and OPTOUT are not compatible with BCAST"
	case want.optin && want.optout:
		return "ERR You can't specify both OPTIN mode and OPTOUT mode"
	case want.optin && cur.optout || want.optout && cur.optin:
		return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	}
	if want.bcast {
		for i, p := range want.prefixes {
			for _, old := range cur.prefixes {
				if overlap(p, old) {
					return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + old + "'. Prefixes for a single client must not overlap."
				}
			}
			for _, q := range want.prefixes[i+1:] {
				if overlap(p, q) {
					return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
				}
			}
		}
	}
	return ""
}

// overlap reports whether one of a and b is a prefix of the other.
func overlap(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }

// enableLocked turns tracking on as want says; prefixes add up, as in
// Redis, and BCAST with none tracks every key (the empty prefix).
func (t *tracker) enableLocked(cl *client, want *trackState) {
	cur := &cl.track
	if !cur.on {
		t.clients++
	}
	prefixes := want.prefixes
	if want.bcast && len(prefixes) == 0 && len(cur.prefixes) == 0 {
		prefixes = []string{""}
	}
	*cur = trackState{on: true, bcast: want.bcast, optin: want.optin, optout: want.optout,
		noloop: want.noloop, redirect: want.redirect, prefixes: cur.prefixes, caching: cur.caching}
	for _, p := range prefixes {
		if t.prefixes == nil {
			t.prefixes = map[string]map[*client]struct{}{}
		}
		if t.prefixes[p] == nil {
			t.prefixes[p] = map[*client]struct{}{}
		}
		t.prefixes[p][cl] = struct{}{}
		cur.prefixes = append(cur.prefixes, p)
	}
	cl.showLocked()
}

// disableLocked turns tracking off. The keys the client read stay in
// the table until they change, as in Redis; they reach nobody.
func (t *tracker) disableLocked(cl *client) {
	cur := &cl.track
	if !cur.on {
		return
	}
	for _, p := range cur.prefixes {
		if m := t.prefixes[p]; m != nil {
			delete(m, cl)
			if len(m) == 0 {
				delete(t.prefixes, p)
			}
		}
	}
	*cur = trackState{}
	cl.showLocked()
	t.clients--
	if t.clients == 0 {
		clear(t.keys)
		t.items = 0
	}
}

// forgetTracking turns a client's tracking off (CLIENT TRACKING OFF,
// RESET, a closed connection); with the last one, the engine stops
// noting every change.
func (s *Server) forgetTracking(cl *client) {
	t := &s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	t.disableLocked(cl)
	if t.clients == 0 && t.on.Load() {
		s.eng.SetTracking(false)
		t.on.Store(false)
	}
}

// CLIENT CACHING YES|NO
func (s *Server) clientCaching(cl *client, args [][]byte) {
	t := &s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := &cl.track
	if !cur.on {
		cl.err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch strings.ToLower(string(args[2])) {
	case "yes":
		if !cur.optin {
			cl.err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case "no":
		if !cur.optout {
			cl.err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		cl.err("ERR syntax error")
		return
	}
	cur.caching = true
	cl.ok()
}

// CLIENT GETREDIR: -1 when not tracking, else the redirection (0: none).
func (s *Server) clientGetRedir(cl *client) {
	s.trk.mu.Lock()
	cur := cl.track
	s.trk.mu.Unlock()
	if !cur.on {
		cl.integer(-1)
		return
	}
	cl.integer(cur.redirect)
}

// CLIENT TRACKINGINFO
func (s *Server) clientTrackingInfo(cl *client) {
	s.trk.mu.Lock()
	cur := cl.track
	cur.prefixes = append([]string(nil), cur.prefixes...)
	s.trk.mu.Unlock()
	var flags []string
	if !cur.on {
		flags = append(flags, "off")
	} else {
		flags = append(flags, "on")
		for _, f := range []struct {
			set  bool
			name string
		}{{cur.bcast, "bcast"}, {cur.optin, "optin"}, {cur.optout, "optout"},
			{cur.caching && cur.optin, "caching-yes"}, {cur.caching && cur.optout, "caching-no"},
			{cur.noloop, "noloop"}, {cur.broken, "broken_redirect"}} {
			if f.set {
				flags = append(flags, f.name)
			}
		}
	}
	cl.mapLen(3)
	cl.bulkString("flags")
	cl.setLen(len(flags))
	for _, f := range flags {
		cl.bulkString(f)
	}
	cl.bulkString("redirect")
	if cur.on {
		cl.integer(cur.redirect)
	} else {
		cl.integer(-1)
	}
	cl.bulkString("prefixes")
	cl.array(len(cur.prefixes))
	for _, p := range cur.prefixes {
		cl.bulkString(p)
	}
}

// trackCommand remembers the keys a tracking client is about to read,
// and ends a CLIENT CACHING's effect, as Redis does around each command
// it runs: dispatch calls it before running a command (not one queued in
// MULTI; EXEC stands for its queue).
func (s *Server) trackCommand(cl *client, c *command, args [][]byte) {
	// A transaction that turns tracking on tracks the reads queued in
	// it, as Redis does; they are remembered now, before any runs.
	enabling := c.Name == "exec" && slices.ContainsFunc(cl.queued, turnsTrackingOn)
	if !s.trk.on.Load() && !enabling {
		return
	}
	t := &s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := &cl.track
	if !cur.on && !enabling {
		return
	}
	switch c.Name {
	case "multi", "client":
		return // CACHING lasts through a transaction and other CLIENT commands
	case "exec":
		for _, q := range cl.queued {
			if row := s.lookup(q[0]); row != nil {
				t.rememberLocked(cl, row, q)
			}
		}
		cur.enabling = !cur.on
	default:
		t.rememberLocked(cl, c, args)
	}
	cur.caching = false
	s.cfg.RLock()
	limit := s.cfg.TrackingTableMaxKeys
	s.cfg.RUnlock()
	if limit > 0 && len(t.keys) > limit {
		evicted := t.evictLocked(len(t.keys) - limit)
		t.mu.Unlock()
		for _, p := range evicted {
			s.sendInvalidation(p.cl, p.keys)
		}
		t.mu.Lock()
	}
}

// trackExecRan runs at the end of every EXEC (cmdExec): when the
// transaction was to turn tracking on and did not (it was discarded, or
// its CLIENT TRACKING was refused), the reads trackCommand remembered for
// it are forgotten, so the table holds no key for a client that never
// tracked.
func (s *Server) trackExecRan(cl *client) {
	t := &s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := &cl.track
	if !cur.enabling {
		return
	}
	cur.enabling = false
	if cur.on {
		return
	}
	for key, ids := range t.keys {
		if i := slices.Index(ids, cl); i >= 0 {
			t.items--
			if len(ids) == 1 {
				delete(t.keys, key)
			} else {
				t.keys[key] = slices.Delete(ids, i, i+1)
			}
		}
	}
}

// evictLocked forgets n keys of the table, as Redis does past
// tracking-table-max-keys: their clients are told they changed.
func (t *tracker) evictLocked(n int) []trackPush {
	var out []trackPush
	for key, ids := range t.keys {
		if n == 0 {
			break
		}
		n--
		for _, cl := range ids {
			if cl.track.on && !cl.track.bcast {
				out = append(out, trackPush{cl, []string{key}})
			}
		}
		t.items -= len(ids)
		delete(t.keys, key)
	}
	return out
}

// trackScriptRead remembers the keys a script's command is about to
// read for the client running the script, as Redis tracks the reads of
// scripts' commands (CLIENT CACHING's effect lasts the whole script).
func (s *Server) trackScriptRead(cl *client, c *command, args [][]byte) {
	if !s.trk.on.Load() {
		return
	}
	t := &s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	if cl.track.on {
		t.rememberLocked(cl, c, args)
	}
}

// turnsTrackingOn reports whether a queued command is CLIENT TRACKING ON.
func turnsTrackingOn(args [][]byte) bool {
	return len(args) >= 3 && strings.EqualFold(string(args[0]), "client") &&
		strings.EqualFold(string(args[1]), "tracking") && strings.EqualFold(string(args[2]), "on")
}

// rememberLocked adds the keys of a read-only command to the table for
// cl, unless BCAST, OPTIN without CACHING YES or OPTOUT after CACHING NO
// say not to.
func (t *tracker) rememberLocked(cl *client, c *command, args [][]byte) {
	cur := &cl.track
	if cur.bcast || c.eng == nil || c.Flags&engine.ReadOnly == 0 ||
		cur.optin && !cur.caching || cur.optout && cur.caching {
		return
	}
	for _, k := range c.eng.Keys(args) {
		ids := t.keys[string(k)]
		if slices.Contains(ids, cl) {
			continue
		}
		if t.keys == nil {
			t.keys = map[string][]*client{}
		}
		t.keys[string(k)] = append(ids, cl)
		t.items++
	}
}

// invalidate sends the invalidations of a committed group of changes;
// the committer calls it (publishNotes).
func (s *Server) invalidate(notes []engine.Note) {
	t := &s.trk
	var out []trackPush
	var bcast map[string]map[string]*client // prefix -> changed key -> who changed it last
	t.mu.Lock()
	for i, n := range notes {
		if n.Class == engine.NotifyKeyMiss {
			continue // a read changes nothing
		}
		from := noteClient(n)
		if n.Key == nil {
			if i > 0 && notes[i-1].Key == nil && notes[i-1].Sess == n.Sess {
				continue // FLUSHALL empties every database: one message
			}
			for cl := range s.trackingClientsLocked() {
				out = append(out, trackPush{cl: cl})
			}
			clear(t.keys)
			t.items = 0
			continue
		}
		key := string(n.Key)
		for p := range t.prefixes {
			if strings.HasPrefix(key, p) {
				if bcast == nil {
					bcast = map[string]map[string]*client{}
				}
				if bcast[p] == nil {
					bcast[p] = map[string]*client{}
				}
				bcast[p][key] = from
			}
		}
		ids, ok := t.keys[key]
		if !ok {
			continue
		}
		for _, cl := range ids {
			if !cl.track.on || cl.track.bcast || cl.track.noloop && cl == from {
				continue
			}
			out = append(out, trackPush{cl: cl, keys: []string{key}})
		}
		t.items -= len(ids)
		delete(t.keys, key)
	}
	// BCAST: one message per prefix and client, its keys in order, as
	// Redis sends them once per event loop.
	prefixes := make([]string, 0, len(bcast))
	for p := range bcast {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		changed := bcast[p]
		for cl := range t.prefixes[p] {
			var keys []string
			for k, from := range changed {
				if !cl.track.noloop || from != cl {
					keys = append(keys, k)
				}
			}
			if len(keys) > 0 {
				sort.Strings(keys)
				out = append(out, trackPush{cl: cl, keys: keys})
			}
		}
	}
	t.mu.Unlock()
	for _, p := range out {
		s.sendInvalidation(p.cl, p.keys)
	}
}

// trackPush is an invalidation to send: keys changed, or with nil keys
// everything did (a flush).
type trackPush struct {
	cl   *client
	keys []string
}

// trackingClientsLocked is every client with tracking on.
func (s *Server) trackingClientsLocked() map[*client]struct{} {
	all := map[*client]struct{}{}
	s.mu.Lock()
	for _, cl := range s.clients {
		if cl.track.on {
			all[cl] = struct{}{}
		}
	}
	s.mu.Unlock()
	return all
}

// noteClient is the client whose command made a change, or nil.
func noteClient(n engine.Note) *client {
	if n.Sess == nil {
		return nil
	}
	cl, _ := n.Sess.Client.(*client)
	return cl
}

// sendInvalidation tells cl (or its redirection) that keys changed, or
// with nil keys that everything did.
func (s *Server) sendInvalidation(cl *client, keys []string) {
	s.trk.mu.Lock()
	redirect := cl.track.redirect
	s.trk.mu.Unlock()
	resp3 := cl.resp3.Load()
	to := cl
	if redirect != 0 {
		to = s.clientByID(redirect)
		if to == nil {
			s.trk.mu.Lock()
			cl.track.broken = true
			cl.showLocked()
			s.trk.mu.Unlock()
			if resp3 {
				msg := engine.AppendPush(nil, true, 2)
				msg = redcon.AppendBulkString(msg, "tracking-redir-broken")
				msg = redcon.AppendInt(msg, redirect)
				s.pushToClient(cl, msg)
			}
			return
		}
	}
	var msg []byte
	switch {
	case to.resp3.Load():
		msg = engine.AppendPush(msg, true, 2)
		msg = redcon.AppendBulkString(msg, "invalidate")
	case redirect != 0 && to.subs.Load() > 0:
		msg = redcon.AppendArray(msg, 3)
		msg = redcon.AppendBulkString(msg, "message")
		msg = redcon.AppendBulkString(msg, invalidateChannel)
	default:
		return // RESP2 with nowhere to push
	}
	if keys == nil {
		msg = engine.AppendNull(msg, resp3) // the tracking client's protocol, as in Redis
	} else {
		msg = redcon.AppendArray(msg, len(keys))
		for _, k := range keys {
			msg = redcon.AppendBulkString(msg, k)
		}
	}
	s.pushToClient(to, msg)
}

// pushToClient queues a push for a connection served on its own
// goroutines; others cannot be written to from here.
func (s *Server) pushToClient(cl *client, msg []byte) {
	ps := &s.ps
	ps.mu.RLock()
	sub := ps.subs[cl]
	ps.mu.RUnlock()
	if sub != nil {
		s.pushTracking(sub, msg)
	}
}

// makePushable detaches cl so that invalidations can reach it at any
// time (pubsub.go serves it from then on).
func (s *Server) makePushable(cl *client) {
	ps := &s.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.init()
	if ps.subs[cl] == nil {
		s.detach(cl)
	}
}

// clientByID is the connected client with id, or nil.
func (s *Server) clientByID(id int64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// trackingInfo is INFO's figures: tracking clients, keys, items and
// prefixes.
func (s *Server) trackingInfo() (clients, keys, items, prefixes int) {
	t := &s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clients, len(t.keys), t.items, len(t.prefixes)
}
