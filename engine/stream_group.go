package engine

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
)

// Stream consumer groups: XGROUP, XREADGROUP (and XREAD, which shares its
// parsing), XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO GROUPS and
// CONSUMERS. The rows are described in stream.go.

func init() {
	s := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "stream", Summary: summary}, run}
	}
	register(
		&Command{Spec{Name: "xreadgroup", Arity: -7, Flags: Write | Blocking, KeysAfter: "streams", Group: "stream", Summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block."}, cmdXRead},
		&Command{Spec{Name: "xgroup", Arity: -2, Flags: Write, FirstKey: 2, LastKey: 2, Step: 1, Group: "stream", Summary: "A container for consumer groups commands"}, cmdXGroup},
		s("xack", -4, Write|Fast, "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", cmdXAck),
		s("xpending", -3, ReadOnly, "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", cmdXPending),
		s("xclaim", -6, Write|Fast, "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", cmdXClaim),
		s("xautoclaim", -6, Write|Fast, "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", cmdXAutoClaim),
	)
}

// streamGroup is a consumer group's row, decoded.
type streamGroup struct {
	name        []byte
	last        streamID
	entriesRead int64 // -1: unknown
	pending     int64
	consumers   int64
}

// pending is a pending entry's row, decoded.
type pending struct {
	delivered int64 // Unix ms of the last delivery
	count     int64 // deliveries
	consumer  []byte
}

// consumer is a consumer's row, decoded.
type consumer struct {
	seen    int64 // Unix ms of its last read or claim
	pending int64
}

// groupPart is a group name with its length first, so that one group's
// rows never share a prefix with another's.
func groupPart(name []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(name))), name...)
}

func (c *ctx) groupKey(s *stream, name []byte) []byte { return c.streamRow(s, rowGroup, name) }

func (c *ctx) getGroup(s *stream, name []byte) (streamGroup, bool) {
	v, ok := c.get(c.groupKey(s, name))
	if !ok || len(v) < 40 {
		return streamGroup{}, false
	}
	return streamGroup{
		name:        clone(name),
		last:        decodeID(v),
		entriesRead: int64(binary.BigEndian.Uint64(v[16:])),
		pending:     int64(binary.BigEndian.Uint64(v[24:])),
		consumers:   int64(binary.BigEndian.Uint64(v[32:])),
	}, true
}

func (c *ctx) putGroup(s *stream, g *streamGroup) {
	v := appendID(nil, g.last)
	v = binary.BigEndian.AppendUint64(v, uint64(g.entriesRead))
	v = binary.BigEndian.AppendUint64(v, uint64(g.pending))
	v = binary.BigEndian.AppendUint64(v, uint64(g.consumers))
	c.set(c.groupKey(s, g.name), v)
}

func (c *ctx) consumerKey(s *stream, g *streamGroup, name []byte) []byte {
	return c.streamRow(s, rowConsumer, groupPart(g.name), name)
}

func (c *ctx) getConsumer(s *stream, g *streamGroup, name []byte) (consumer, bool) {
	v, ok := c.get(c.consumerKey(s, g, name))
	if !ok || len(v) < 16 {
		return consumer{}, false
	}
	return consumer{int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))}, true
}

func (c *ctx) putConsumer(s *stream, g *streamGroup, name []byte, cs consumer) {
	v := binary.BigEndian.AppendUint64(nil, uint64(cs.seen))
	v = binary.BigEndian.AppendUint64(v, uint64(cs.pending))
	c.set(c.consumerKey(s, g, name), v)
}

// touchConsumer creates the consumer if missing and, when seen is not
// negative, records it as its seen time; it reports whether it created it.
func (c *ctx) touchConsumer(s *stream, g *streamGroup, name []byte, seen int64) bool {
	cs, ok := c.getConsumer(s, g, name)
	if !ok {
		g.consumers++
		cs.seen = max(seen, 0)
	} else if seen >= 0 {
		cs.seen = seen
	} else {
		return false
	}
	c.putConsumer(s, g, name, cs)
	return !ok
}

func (c *ctx) pendingKey(s *stream, g *streamGroup, id streamID) []byte {
	return c.streamRow(s, rowPending, groupPart(g.name), idBytes(id))
}

func (c *ctx) ownedKey(s *stream, g *streamGroup, cons []byte, id streamID) []byte {
	return c.streamRow(s, rowOwned, groupPart(g.name), groupPart(cons), idBytes(id))
}

func decodePending(v []byte) pending {
	if len(v) < 16 {
		return pending{}
	}
	return pending{int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:])), v[16:]}
}

func (c *ctx) getPending(s *stream, g *streamGroup, id streamID) (pending, bool) {
	v, ok := c.get(c.pendingKey(s, g, id))
	if !ok {
		return pending{}, false
	}
	return decodePending(v), true
}

// addPendingCount moves a consumer's pending count by d.
func (c *ctx) addPendingCount(s *stream, g *streamGroup, name []byte, d int64) {
	cs, ok := c.getConsumer(s, g, name)
	if !ok {
		return
	}
	cs.pending += d
	c.putConsumer(s, g, name, cs)
}

// setPending writes a pending entry. had and old say what was there:
// an entry that changes consumer leaves the old one's list for the new
// one's. The consumer must exist.
func (c *ctx) setPending(s *stream, g *streamGroup, id streamID, pe pending, old pending, had bool) {
	v := binary.BigEndian.AppendUint64(nil, uint64(pe.delivered))
	v = binary.BigEndian.AppendUint64(v, uint64(pe.count))
	c.set(c.pendingKey(s, g, id), append(v, pe.consumer...))
	if had && string(old.consumer) == string(pe.consumer) {
		return
	}
	if had {
		c.del(c.ownedKey(s, g, old.consumer, id))
		c.addPendingCount(s, g, old.consumer, -1)
	} else {
		g.pending++
	}
	c.set(c.ownedKey(s, g, pe.consumer, id), nil)
	c.addPendingCount(s, g, pe.consumer, 1)
}

// removePending deletes a pending entry from the group and its consumer.
func (c *ctx) removePending(s *stream, g *streamGroup, id streamID, pe pending) {
	c.del(c.pendingKey(s, g, id))
	c.del(c.ownedKey(s, g, pe.consumer, id))
	c.addPendingCount(s, g, pe.consumer, -1)
	g.pending--
}

// scanRows calls fn for each row under prefix p from the key at or after
// from (nil: the start), in order, until fn returns false.
func (c *ctx) scanRows(p, from []byte, fn func(sub, value []byte) bool) {
	lower := p
	if from != nil {
		lower = append(append([]byte(nil), p...), from...)
	}
	it := c.iter(lower, prefixEnd(p))
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		if !fn(it.Key()[len(p):], it.Value()) {
			return
		}
	}
}

// --- lag, as Redis 7.0 computes it ---

// rangeHasTombstones is Redis's streamRangeHasTombstones from start to
// the end of the stream.
func (s *stream) rangeHasTombstones(start streamID) bool {
	if s.m.count == 0 || s.maxDeleted.isZero() {
		return false
	}
	if s.first.cmp(s.maxDeleted) > 0 {
		return false
	}
	return start.cmp(s.maxDeleted) <= 0
}

// estimateDistance is Redis's streamEstimateDistanceFromFirstEverEntry:
// the logical read counter of id, or -1 when it cannot be known.
func (s *stream) estimateDistance(id streamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.m.count == 0 && id.cmp(s.last) < 1 {
		return s.entriesAdded
	}
	switch cmpLast := id.cmp(s.last); {
	case cmpLast == 0:
		return s.entriesAdded
	case cmpLast > 0:
		return -1
	}
	cmpFirst := id.cmp(s.first)
	if s.maxDeleted.isZero() || s.maxDeleted.cmp(s.first) < 0 {
		switch {
		case cmpFirst < 0:
			return s.entriesAdded - s.m.count
		case cmpFirst == 0:
			return s.entriesAdded - s.m.count + 1
		}
	}
	return -1
}

// lag is XINFO GROUPS's lag; ok is false when it is unknown (null).
func (s *stream) lag(g *streamGroup) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.entriesRead != -1 && !s.rangeHasTombstones(g.last) {
		return s.entriesAdded - g.entriesRead, true
	}
	if read := s.estimateDistance(g.last); read != -1 {
		return s.entriesAdded - read, true
	}
	return 0, false
}

// --- XREAD / XREADGROUP ---

const errDollarInGroup = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."

// streamRead is a parsed XREAD or XREADGROUP.
type streamRead struct {
	group, consumer []byte
	noack           bool
	count           int64
	block           int64 // ms; -1 without BLOCK
	keys, ids       [][]byte
}

// parseStreamRead parses XREAD's and XREADGROUP's options, writing
// Redis's error when they are wrong.
func (c *ctx) parseStreamRead(args [][]byte) (r streamRead, ok bool) {
	isGroup := len(args[0]) == len("xreadgroup")
	r.block = -1
	streamsAt := 0
	for i := 1; i < len(args) && streamsAt == 0; i++ {
		more := len(args) - i - 1
		switch opt := strings.ToLower(string(args[i])); {
		case opt == "block" && more > 0:
			i++
			n, err := parseInt(args[i])
			if err != nil {
				c.replyError("ERR timeout is not an integer or out of range")
				return r, false
			}
			if n < 0 {
				c.replyError("ERR timeout is negative")
				return r, false
			}
			r.block = n
		case opt == "count" && more > 0:
			i++
			n, err := parseInt(args[i])
			if err != nil {
				c.replyError(errNotInt)
				return r, false
			}
			r.count = max(n, 0)
		case opt == "streams" && more > 0:
			streamsAt = i + 1
			if (len(args)-streamsAt)%2 != 0 {
				c.replyError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
				return r, false
			}
		case opt == "group" && more >= 2:
			if !isGroup {
				c.replyError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return r, false
			}
			r.group, r.consumer = args[i+1], args[i+2]
			i += 2
		case opt == "noack":
			if !isGroup {
				c.replyError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return r, false
			}
			r.noack = true
		default:
			c.replyError(errSyntax)
			return r, false
		}
	}
	if streamsAt == 0 {
		c.replyError(errSyntax)
		return r, false
	}
	if isGroup && r.group == nil {
		c.replyError("ERR Missing GROUP option for XREADGROUP")
		return r, false
	}
	n := (len(args) - streamsAt) / 2
	r.keys, r.ids = args[streamsAt:streamsAt+n], args[streamsAt+n:]
	return r, true
}

// XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]
// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
//
// The engine's form never blocks (as inside MULTI): with nothing to
// serve it answers a null array, and the server's blocking rows retry it.
func cmdXRead(c *ctx, args [][]byte) {
	r, ok := c.parseStreamRead(args)
	if !ok {
		return
	}
	isGroup := r.group != nil
	// A key named twice shares its stream and group, as in Redis.
	type keyState struct {
		s  stream
		ok bool
		g  streamGroup
	}
	type target struct {
		*keyState
		gt     streamID
		newest bool // ">"
	}
	states := map[string]*keyState{}
	ts := make([]target, len(r.keys))
	for i, key := range r.keys {
		t := &ts[i]
		if t.keyState = states[string(key)]; t.keyState == nil {
			t.keyState = &keyState{}
			var wrong bool
			if t.s, t.ok, wrong = c.lookupStream(key); wrong {
				return
			}
			states[string(key)] = t.keyState
			if isGroup && t.ok {
				var found bool
				if t.g, found = c.getGroup(&t.s, r.group); !found {
					t.ok = false
				}
			}
		} else if !t.ok {
			c.notifyMiss(key) // Redis looks a key up again for each time it is named
		}
		if isGroup && !t.ok {
			c.replyError("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(r.group) + "' in XREADGROUP with GROUP option")
			return
		}
		switch id := string(r.ids[i]); {
		case id == "$":
			if isGroup {
				c.replyError(errDollarInGroup)
				return
			}
			if t.ok {
				t.gt = t.s.last
			}
		case id == ">":
			if !isGroup {
				c.replyError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return
			}
			t.newest = true
		default:
			if t.gt, ok = c.parseStrictID(r.ids[i]); !ok {
				return
			}
			// Redis marks ">" as the maximum ID, so the maximum reads as ">".
			t.newest = isGroup && t.gt == maxStreamID
		}
	}
	out := c.out
	c.out = nil
	served := 0
	for i, key := range r.keys {
		t := &ts[i]
		if !t.ok {
			// Redis looks each key up again to serve it: a second
			// "keymiss" for a missing one.
			c.notifyMiss(key)
			continue
		}
		serve, history := false, false
		if isGroup {
			if !t.newest {
				serve, history = true, true
			} else if top, ok := c.lastEntryID(&t.s); ok && top.cmp(t.g.last) > 0 {
				serve, t.gt = true, t.g.last
			}
		} else if top, ok := c.lastEntryID(&t.s); ok && top.cmp(t.gt) > 0 {
			serve = true
		}
		if serve {
			if isGroup {
				if c.touchConsumer(&t.s, &t.g, r.consumer, c.now) {
					c.notify(NotifyStream, "xgroup-createconsumer", key)
				}
				c.emit(bs("XGROUP"), bs("CREATECONSUMER"), key, r.group, r.consumer, bs("SEEN"), []byte(strconv.FormatInt(c.now, 10)))
			}
			served++
			if !c.resp3 { // RESP3: a map of keys to entries
				c.replyArray(2)
			}
			c.replyBulk(key)
			start, ok := t.gt.next()
			if !ok {
				c.replyArray(0)
			} else if history {
				c.readHistory(&t.s, &t.g, key, r, start)
			} else if isGroup {
				c.readNew(&t.s, &t.g, key, r, start)
			} else {
				c.replyRange(&t.s, start, maxStreamID, false, r.count)
			}
			if isGroup {
				c.putGroup(&t.s, &t.g)
			}
		}
	}
	body := c.out
	c.out = out
	if served == 0 {
		c.replyNullArray()
		return
	}
	if c.resp3 {
		c.replyMap(served)
	} else {
		c.replyArray(served)
	}
	c.out = append(c.out, body...)
}

// claimEffect logs a pending entry as the master left it: an XCLAIM
// that sets it exactly (FORCE creates it, JUSTID keeps the count given).
func (c *ctx) claimEffect(key, group []byte, id streamID, pe pending) {
	c.emit(bs("XCLAIM"), key, group, pe.consumer, bs("0"), id.bytes(),
		bs("TIME"), []byte(strconv.FormatInt(pe.delivered, 10)),
		bs("RETRYCOUNT"), []byte(strconv.FormatInt(pe.count, 10)), bs("FORCE"), bs("JUSTID"))
}

// readHistory serves XREADGROUP with an ID: the consumer's own pending
// entries after it, each delivered again.
func (c *ctx) readHistory(s *stream, g *streamGroup, key []byte, r streamRead, start streamID) {
	p := c.streamRow(s, rowOwned, groupPart(g.name), groupPart(r.consumer))
	var ids []streamID
	c.scanRows(p, idBytes(start), func(sub, _ []byte) bool {
		if r.count > 0 && int64(len(ids)) >= r.count {
			return false
		}
		ids = append(ids, decodeID(sub))
		return true
	})
	c.replyArray(len(ids))
	for _, id := range ids {
		v, ok := c.get(c.streamRow(s, rowEntry, idBytes(id)))
		if !ok {
			c.replyArray(2)
			c.replyBulk(id.bytes())
			c.replyNullArray()
			continue
		}
		_, fields := decodeEntry(v)
		c.replyEntry(id, fields)
		pe, _ := c.getPending(s, g, id)
		old := pe
		pe.delivered = c.now
		pe.count++
		c.setPending(s, g, id, pe, old, true)
		c.claimEffect(key, g.name, id, pe)
	}
}

// readNew serves XREADGROUP with ">": entries after the group's last
// delivered ID, which moves, each added to the consumer's pending list
// unless NOACK.
func (c *ctx) readNew(s *stream, g *streamGroup, key []byte, r streamRead, start streamID) {
	type entry struct {
		id     streamID
		fields [][]byte
	}
	var es []entry
	c.rangeEntries(s, start, maxStreamID, false, r.count, func(id streamID, fields [][]byte) bool {
		es = append(es, entry{id, cloneAll(fields)})
		return true
	})
	c.replyArray(len(es))
	for _, e := range es {
		if e.id.cmp(g.last) > 0 {
			if g.entriesRead != -1 && !s.rangeHasTombstones(e.id) {
				g.entriesRead++
			} else if s.entriesAdded != 0 {
				g.entriesRead = s.estimateDistance(e.id)
			}
			g.last = e.id
		}
		c.replyEntry(e.id, e.fields)
		if r.noack {
			continue
		}
		old, had := c.getPending(s, g, e.id)
		pe := pending{delivered: c.now, count: 1, consumer: r.consumer}
		c.setPending(s, g, e.id, pe, old, had)
		c.claimEffect(key, g.name, e.id, pe)
	}
	if len(es) > 0 {
		c.emit(bs("XGROUP"), bs("SETID"), key, g.name, g.last.bytes(), bs("ENTRIESREAD"), []byte(strconv.FormatInt(g.entriesRead, 10)))
	}
}

// --- XGROUP ---

func (c *ctx) replyGroupSyntax(args [][]byte) {
	c.replyError("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try XGROUP HELP.")
}

// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP
func cmdXGroup(c *ctx, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	if sub == "help" && len(args) == 2 {
		lines := []string{
			"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CREATE <key> <groupname> <id|$> [option]",
			"    Create a new consumer group. Options are:",
			"    * MKSTREAM",
			"      Create the empty stream if it does not exist.",
			"    * ENTRIESREAD entries_read",
			"      Set the group's entries_read counter (internal use).",
			"CREATECONSUMER <key> <groupname> <consumer>",
			"    Create a new consumer in the specified group.",
			"DELCONSUMER <key> <groupname> <consumer>",
			"    Remove the specified consumer.",
			"DESTROY <key> <groupname>",
			"    Remove the specified group.",
			"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
			"    Set the current group ID and entries_read counter.",
			"HELP",
			"    Prints this help.",
		}
		c.replyArray(len(lines))
		for _, l := range lines {
			c.replyStatus(l)
		}
		return
	}
	if len(args) < 4 {
		c.replyGroupSyntax(args)
		return
	}
	mkstream := false
	entriesRead := int64(-1)
	seen := int64(-1)
	if sub == "create" || sub == "setid" {
		for i := 5; i < len(args); {
			switch opt := strings.ToLower(string(args[i])); {
			case sub == "create" && opt == "mkstream":
				mkstream = true
				i++
			case opt == "entriesread" && i+1 < len(args):
				n, err := parseInt(args[i+1])
				if err != nil {
					c.replyError(errNotInt)
					return
				}
				if n < 0 && n != -1 {
					c.replyError("ERR value for ENTRIESREAD must be positive or -1")
					return
				}
				entriesRead = n
				i += 2
			default:
				c.replyGroupSyntax(args)
				return
			}
		}
	}
	if sub == "createconsumer" && c.raw && len(args) == 7 && strings.EqualFold(string(args[5]), "seen") {
		// The log's form: the consumer's seen time, as the master set it.
		n, err := parseInt(args[6])
		if err != nil {
			c.replyError(errNotInt)
			return
		}
		seen = n
		args = args[:5]
	}
	key, name := args[2], args[3]
	s, exists, wrong := c.lookupStream(key)
	if wrong {
		return
	}
	if !exists && !(sub == "create" && mkstream) {
		c.replyError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
		return
	}
	var g streamGroup
	found := false
	if exists {
		g, found = c.getGroup(&s, name)
	}
	if !found && (sub == "setid" || sub == "createconsumer" || sub == "delconsumer") {
		c.replyError("NOGROUP No such consumer group '" + string(name) + "' for key name '" + string(key) + "'")
		return
	}
	switch {
	case sub == "create" && len(args) >= 5 && len(args) <= 8:
		var id streamID
		if string(args[4]) == "$" {
			id = s.last // 0-0 for a stream about to be made
		} else {
			var ok bool
			if id, ok = c.parseStrictID(args[4]); !ok {
				return
			}
		}
		if found {
			c.replyError("BUSYGROUP Consumer Group name already exists")
			return
		}
		if !exists {
			s = c.newStream()
		}
		g = streamGroup{name: name, last: id, entriesRead: entriesRead}
		c.putGroup(&s, &g)
		s.groups++
		c.saveStream(key, &s, exists)
		c.notify(NotifyStream, "xgroup-create", key)
		effect := [][]byte{bs("XGROUP"), bs("CREATE"), key, name, id.bytes(), bs("ENTRIESREAD"), []byte(strconv.FormatInt(entriesRead, 10))}
		if !exists {
			effect = append(effect, bs("MKSTREAM"))
		}
		c.emit(effect...)
		c.replyOK()
	case sub == "setid" && (len(args) == 5 || len(args) == 7):
		var id streamID
		if string(args[4]) == "$" {
			id = s.last
		} else {
			var ok bool
			if id, _, ok = parseStreamID(args[4], 0, false, false); !ok {
				c.replyError(errInvalidStreamID)
				return
			}
		}
		g.last, g.entriesRead = id, entriesRead
		c.putGroup(&s, &g)
		c.notify(NotifyStream, "xgroup-setid", key)
		c.emit(bs("XGROUP"), bs("SETID"), key, name, id.bytes(), bs("ENTRIESREAD"), []byte(strconv.FormatInt(entriesRead, 10)))
		c.replyOK()
	case sub == "destroy" && len(args) == 4:
		if !found {
			c.replyInt(0)
			return
		}
		c.destroyGroup(&s, &g)
		s.groups--
		c.saveStream(key, &s, true)
		c.notify(NotifyStream, "xgroup-destroy", key)
		c.emit(args...)
		c.replyInt(1)
	case sub == "createconsumer" && len(args) == 5:
		if _, ok := c.getConsumer(&s, &g, args[4]); ok && seen < 0 {
			c.replyInt(0) // as Redis: an existing consumer is left as it is
			return
		}
		if seen < 0 {
			seen = c.now
		}
		created := c.touchConsumer(&s, &g, args[4], seen)
		c.putGroup(&s, &g)
		if created {
			c.notify(NotifyStream, "xgroup-createconsumer", key)
			c.emit(bs("XGROUP"), bs("CREATECONSUMER"), key, name, args[4], bs("SEEN"), []byte(strconv.FormatInt(seen, 10)))
			c.replyInt(1)
		} else {
			c.replyInt(0)
		}
	case sub == "delconsumer" && len(args) == 5:
		cs, ok := c.getConsumer(&s, &g, args[4])
		if !ok {
			c.replyInt(0)
			return
		}
		c.deleteConsumer(&s, &g, args[4])
		c.putGroup(&s, &g)
		c.notify(NotifyStream, "xgroup-delconsumer", key)
		c.emit(args...)
		c.replyInt(cs.pending)
	default:
		c.replyGroupSyntax(args)
	}
}

// deleteConsumer removes a consumer and its pending entries (from the
// group's list too), as Redis's streamDelConsumer.
func (c *ctx) deleteConsumer(s *stream, g *streamGroup, name []byte) {
	p := c.streamRow(s, rowOwned, groupPart(g.name), groupPart(name))
	var ids []streamID
	c.scanRows(p, nil, func(sub, _ []byte) bool {
		ids = append(ids, decodeID(sub))
		return true
	})
	for _, id := range ids {
		c.del(c.pendingKey(s, g, id))
		c.del(c.ownedKey(s, g, name, id))
		g.pending--
	}
	c.del(c.consumerKey(s, g, name))
	g.consumers--
}

// destroyGroup removes a group with its consumers and pending entries.
func (c *ctx) destroyGroup(s *stream, g *streamGroup) {
	for _, tag := range []byte{rowPending, rowConsumer, rowOwned} {
		p := c.streamRow(s, tag, groupPart(g.name))
		var doomed [][]byte
		c.scanRows(p, nil, func(sub, _ []byte) bool {
			doomed = append(doomed, append(append([]byte(nil), p...), sub...))
			return true
		})
		for _, k := range doomed {
			c.del(k)
		}
	}
	c.del(c.groupKey(s, g.name))
}

// --- XACK, XPENDING, XCLAIM, XAUTOCLAIM ---

// XACK key group id [id ...]
func cmdXAck(c *ctx, args [][]byte) {
	key := args[1]
	s, ok, wrong := c.lookupStream(key)
	if wrong {
		return
	}
	var g streamGroup
	if ok {
		g, ok = c.getGroup(&s, args[2])
	}
	if !ok {
		c.replyInt(0)
		return
	}
	ids := make([]streamID, 0, len(args)-3)
	for _, a := range args[3:] {
		id, ok := c.parseStrictID(a)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	var acked int64
	for _, id := range ids {
		if pe, ok := c.getPending(&s, &g, id); ok {
			c.removePending(&s, &g, id, pe)
			acked++
		}
	}
	if acked > 0 {
		c.putGroup(&s, &g)
		c.emit(args...)
	}
	c.replyInt(acked)
}

// XPENDING key group [[IDLE min-idle] start end count [consumer]]
func cmdXPending(c *ctx, args [][]byte) {
	summary := len(args) == 3
	if !summary && (len(args) < 6 || len(args) > 9) {
		c.replyError(errSyntax)
		return
	}
	var start, end streamID
	var count, minIdle int64
	var consumerName []byte
	if !summary {
		at := 3
		if strings.EqualFold(string(args[3]), "idle") {
			n, err := parseInt(args[4])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			minIdle = n
			if len(args) < 8 {
				c.replyError(errSyntax)
				return
			}
			at += 2
		}
		n, err := parseInt(args[at+2])
		if err != nil {
			c.replyError(errNotInt)
			return
		}
		count = max(n, 0)
		var ok bool
		if start, ok = c.parseRangeID(args[at], 0, true); !ok {
			return
		}
		if end, ok = c.parseRangeID(args[at+1], math.MaxUint64, false); !ok {
			return
		}
		if at+3 < len(args) {
			consumerName = args[at+3]
		}
	}
	key, name := args[1], args[2]
	s, g, ok := c.lookupGroup(key, name)
	if !ok {
		return
	}
	if summary {
		c.pendingSummary(&s, &g)
		return
	}
	p := c.streamRow(&s, rowPending, groupPart(g.name))
	if consumerName != nil {
		if _, ok := c.getConsumer(&s, &g, consumerName); !ok {
			c.replyArray(0)
			return
		}
		p = c.streamRow(&s, rowOwned, groupPart(g.name), groupPart(consumerName))
	}
	type row struct {
		id streamID
		pe pending
	}
	var rows []row
	c.scanRows(p, idBytes(start), func(sub, v []byte) bool {
		if int64(len(rows)) >= count {
			return false
		}
		id := decodeID(sub)
		if id.cmp(end) > 0 {
			return false
		}
		var pe pending
		if consumerName != nil {
			pe, _ = c.getPending(&s, &g, id)
		} else {
			pe = decodePending(v)
			pe.consumer = clone(pe.consumer)
		}
		if minIdle != 0 && c.now-pe.delivered < minIdle {
			return true
		}
		rows = append(rows, row{id, pe})
		return true
	})
	c.replyArray(len(rows))
	for _, r := range rows {
		c.replyArray(4)
		c.replyBulk(r.id.bytes())
		c.replyBulk(r.pe.consumer)
		c.replyInt(max(c.now-r.pe.delivered, 0))
		c.replyInt(r.pe.count)
	}
}

func (c *ctx) pendingSummary(s *stream, g *streamGroup) {
	c.replyArray(4)
	c.replyInt(g.pending)
	if g.pending == 0 {
		c.replyNull()
		c.replyNull()
		c.replyNullArray()
		return
	}
	p := c.streamRow(s, rowPending, groupPart(g.name))
	it := c.iter(p, prefixEnd(p))
	first, last := streamID{}, streamID{}
	if it.First() {
		first = decodeID(it.Key()[len(p):])
	}
	if it.Last() {
		last = decodeID(it.Key()[len(p):])
	}
	it.Close()
	c.replyBulk(first.bytes())
	c.replyBulk(last.bytes())
	type owner struct {
		name []byte
		n    int64
	}
	var owners []owner
	c.scanRows(c.streamRow(s, rowConsumer, groupPart(g.name)), nil, func(sub, v []byte) bool {
		if n := int64(binary.BigEndian.Uint64(v[8:])); n > 0 {
			owners = append(owners, owner{clone(sub), n})
		}
		return true
	})
	c.replyArray(len(owners))
	for _, o := range owners {
		c.replyArray(2)
		c.replyBulk(o.name)
		c.replyBulkInt(o.n)
	}
}

// claimOne gives the pending entry id to consumer name as XCLAIM and
// XAUTOCLAIM do, and logs it; had says whether it was pending.
func (c *ctx) claimOne(s *stream, g *streamGroup, key, name []byte, id streamID, old pending, had bool, delivered, retry int64, justID bool) pending {
	pe := old
	if !had {
		pe.count = 1 // FORCE made it, as Redis's streamCreateNACK
	}
	pe.consumer = name
	pe.delivered = delivered
	switch {
	case retry >= 0:
		pe.count = retry
	case !justID:
		pe.count++
	}
	c.setPending(s, g, id, pe, old, had)
	c.claimEffect(key, g.name, id, pe)
	return pe
}

// replyClaimed writes a claimed entry, or its ID with JUSTID.
func (c *ctx) replyClaimed(s *stream, id streamID, justID bool) {
	if justID {
		c.replyBulk(id.bytes())
		return
	}
	if v, ok := c.get(c.streamRow(s, rowEntry, idBytes(id))); ok {
		_, fields := decodeEntry(v)
		c.replyEntry(id, fields)
	} else {
		c.replyNull()
	}
}

// lookupGroup opens a stream's consumer group, or replies WRONGTYPE or
// NOGROUP (XPENDING's, XCLAIM's and XAUTOCLAIM's text) and returns false.
func (c *ctx) lookupGroup(key, name []byte) (stream, streamGroup, bool) {
	s, ok, wrong := c.lookupStream(key)
	if wrong {
		return s, streamGroup{}, false
	}
	var g streamGroup
	if ok {
		g, ok = c.getGroup(&s, name)
	}
	if !ok {
		c.replyError("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(name) + "'")
	}
	return s, g, ok
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]
func cmdXClaim(c *ctx, args [][]byte) {
	key, name, cons := args[1], args[2], args[3]
	s, g, ok := c.lookupGroup(key, name)
	if !ok {
		return
	}
	minIdle, err := parseInt(args[4])
	if err != nil {
		c.replyError("ERR Invalid min-idle-time argument for XCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	j := 5
	var ids []streamID
	for ; j < len(args); j++ {
		id, _, ok := parseStreamID(args[j], 0, true, false)
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	delivered, retry := int64(-1), int64(-1)
	force, justID := false, false
	var lastID streamID
	seen := c.now
	for ; j < len(args); j++ {
		more := len(args) - 1 - j
		intOpt := func(what string) (int64, bool) {
			j++
			n, err := parseInt(args[j])
			if err != nil {
				c.replyError("ERR Invalid " + what + " option argument for XCLAIM")
				return 0, false
			}
			return n, true
		}
		switch opt := strings.ToLower(string(args[j])); {
		case opt == "force":
			force = true
		case opt == "justid":
			justID = true
		case opt == "idle" && more > 0:
			n, ok := intOpt("IDLE")
			if !ok {
				return
			}
			delivered = c.now - n
		case opt == "time" && more > 0:
			if delivered, ok = intOpt("TIME"); !ok {
				return
			}
		case opt == "retrycount" && more > 0:
			if retry, ok = intOpt("RETRYCOUNT"); !ok {
				return
			}
		case opt == "lastid" && more > 0:
			j++
			if lastID, ok = c.parseStrictID(args[j]); !ok {
				return
			}
		default:
			c.replyError("ERR Unrecognized XCLAIM option '" + string(args[j]) + "'")
			return
		}
	}
	logLast := false
	if lastID.cmp(g.last) > 0 {
		g.last = lastID
		logLast = true
	}
	if c.raw {
		seen = -1 // the log carries the consumer's seen time on its own
	} else if delivered < 0 || delivered > c.now {
		delivered = c.now
	}
	out := c.out
	c.out = nil
	n := 0
	touched := false
	for _, id := range ids {
		old, had := c.getPending(&s, &g, id)
		if !c.entryExists(&s, id) {
			if had {
				c.removePending(&s, &g, id, old)
				c.claimEffect(key, name, id, old)
			}
			continue
		}
		if !had && !force {
			continue
		}
		if had && minIdle > 0 && c.now-old.delivered < minIdle {
			continue
		}
		if !touched {
			touched = true
			if c.touchConsumer(&s, &g, cons, seen) {
				c.notify(NotifyStream, "xgroup-createconsumer", key)
			}
			c.emit(bs("XGROUP"), bs("CREATECONSUMER"), key, name, cons, bs("SEEN"), []byte(strconv.FormatInt(seen, 10)))
		}
		c.claimOne(&s, &g, key, cons, id, old, had, delivered, retry, justID)
		c.replyClaimed(&s, id, justID)
		n++
	}
	c.putGroup(&s, &g)
	if logLast {
		c.emit(bs("XGROUP"), bs("SETID"), key, name, g.last.bytes(), bs("ENTRIESREAD"), []byte(strconv.FormatInt(g.entriesRead, 10)))
	}
	body := c.out
	c.out = out
	c.replyArray(n)
	c.out = append(c.out, body...)
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
func cmdXAutoClaim(c *ctx, args [][]byte) {
	key, name, cons := args[1], args[2], args[3]
	if c.missWanted() {
		c.lookupRead(key) // Redis looks the key up before its arguments: a "keymiss" first
	}
	minIdle, err := parseInt(args[4])
	if err != nil {
		c.replyError("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := c.parseRangeID(args[5], 0, true)
	if !ok {
		return
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := strings.ToLower(string(args[j])); {
		case opt == "count" && more > 0:
			n, err := parseInt(args[j+1])
			if err != nil || n < 1 || n > math.MaxInt64/16 {
				c.replyError("ERR COUNT must be > 0")
				return
			}
			count = n
			j++
		case opt == "justid":
			justID = true
		default:
			c.replyError(errSyntax)
			return
		}
	}
	s, g, ok := c.lookupGroup(key, name)
	if !ok {
		return
	}
	attempts := count * 10
	type row struct {
		id streamID
		pe pending
	}
	// Read ahead: at most attempts rows are examined, plus the cursor.
	var rows []row
	c.scanRows(c.streamRow(&s, rowPending, groupPart(g.name)), idBytes(start), func(sub, v []byte) bool {
		pe := decodePending(v)
		pe.consumer = clone(pe.consumer)
		rows = append(rows, row{decodeID(sub), pe})
		return int64(len(rows)) <= attempts
	})
	out := c.out
	c.out = nil
	var deleted []streamID
	n, i := 0, 0
	touched := false
	for ; i < len(rows) && attempts > 0 && count > 0; i++ {
		attempts--
		r := rows[i]
		if !c.entryExists(&s, r.id) {
			c.removePending(&s, &g, r.id, r.pe)
			c.claimEffect(key, name, r.id, r.pe)
			deleted = append(deleted, r.id)
			count--
			continue
		}
		if minIdle > 0 && c.now-r.pe.delivered < minIdle {
			continue
		}
		if !touched {
			touched = true
			if c.touchConsumer(&s, &g, cons, c.now) {
				c.notify(NotifyStream, "xgroup-createconsumer", key)
			}
			c.emit(bs("XGROUP"), bs("CREATECONSUMER"), key, name, cons, bs("SEEN"), []byte(strconv.FormatInt(c.now, 10)))
		}
		c.claimOne(&s, &g, key, cons, r.id, r.pe, true, c.now, -1, justID)
		c.replyClaimed(&s, r.id, justID)
		n++
		count--
	}
	body := c.out
	c.out = out
	c.putGroup(&s, &g)
	c.replyArray(3)
	if i < len(rows) {
		c.replyBulk(rows[i].id.bytes())
	} else {
		c.replyBulkString("0-0")
	}
	c.replyArray(n)
	c.out = append(c.out, body...)
	c.replyArray(len(deleted))
	for _, id := range deleted {
		c.replyBulk(id.bytes())
	}
}

// --- XINFO GROUPS, CONSUMERS, STREAM FULL ---

func (c *ctx) groups(s *stream) []streamGroup {
	var gs []streamGroup
	c.scanRows(c.streamRow(s, rowGroup), nil, func(sub, _ []byte) bool {
		gs = append(gs, streamGroup{name: clone(sub)})
		return true
	})
	for i := range gs {
		gs[i], _ = c.getGroup(s, gs[i].name)
	}
	return gs
}

func (c *ctx) replyLag(s *stream, g *streamGroup) {
	if lag, ok := s.lag(g); ok {
		c.replyInt(lag)
	} else {
		c.replyNull()
	}
}

func (c *ctx) replyEntriesRead(g *streamGroup) {
	if g.entriesRead != -1 {
		c.replyInt(g.entriesRead)
	} else {
		c.replyNull()
	}
}

func (c *ctx) xinfoGroups(s *stream) {
	gs := c.groups(s)
	c.replyArray(len(gs))
	for i := range gs {
		g := &gs[i]
		c.replyMap(6)
		c.replyBulkString("name")
		c.replyBulk(g.name)
		c.replyBulkString("consumers")
		c.replyInt(g.consumers)
		c.replyBulkString("pending")
		c.replyInt(g.pending)
		c.replyBulkString("last-delivered-id")
		c.replyBulk(g.last.bytes())
		c.replyBulkString("entries-read")
		c.replyEntriesRead(g)
		c.replyBulkString("lag")
		c.replyLag(s, g)
	}
}

type namedConsumer struct {
	name []byte
	consumer
}

func (c *ctx) consumers(s *stream, g *streamGroup) []namedConsumer {
	var cs []namedConsumer
	c.scanRows(c.streamRow(s, rowConsumer, groupPart(g.name)), nil, func(sub, v []byte) bool {
		cs = append(cs, namedConsumer{clone(sub), consumer{int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))}})
		return true
	})
	return cs
}

func (c *ctx) xinfoConsumers(s *stream, key, name []byte) {
	g, ok := c.getGroup(s, name)
	if !ok {
		c.replyError("NOGROUP No such consumer group '" + string(name) + "' for key name '" + string(key) + "'")
		return
	}
	cs := c.consumers(s, &g)
	c.replyArray(len(cs))
	for _, cn := range cs {
		c.replyMap(3)
		c.replyBulkString("name")
		c.replyBulk(cn.name)
		c.replyBulkString("pending")
		c.replyInt(cn.pending)
		c.replyBulkString("idle")
		c.replyInt(max(c.now-cn.seen, 0))
	}
}

// xinfoStreamFull is XINFO STREAM key FULL [COUNT n] (count 0: all).
func (c *ctx) xinfoStreamFull(s *stream, count int64) {
	c.replyMap(9)
	c.replyBulkString("length")
	c.replyInt(s.m.count)
	c.replyBulkString("radix-tree-keys")
	c.replyInt(s.nodes)
	c.replyBulkString("radix-tree-nodes")
	c.replyInt(radixTreeNodes(s))
	c.replyBulkString("last-generated-id")
	c.replyBulk(s.last.bytes())
	c.replyBulkString("max-deleted-entry-id")
	c.replyBulk(s.maxDeleted.bytes())
	c.replyBulkString("entries-added")
	c.replyInt(s.entriesAdded)
	c.replyBulkString("recorded-first-entry-id")
	c.replyBulk(s.first.bytes())
	c.replyBulkString("entries")
	c.replyRange(s, streamID{}, maxStreamID, false, count)
	c.replyBulkString("groups")
	gs := c.groups(s)
	c.replyArray(len(gs))
	for i := range gs {
		g := &gs[i]
		c.replyMap(7)
		c.replyBulkString("name")
		c.replyBulk(g.name)
		c.replyBulkString("last-delivered-id")
		c.replyBulk(g.last.bytes())
		c.replyBulkString("entries-read")
		c.replyEntriesRead(g)
		c.replyBulkString("lag")
		c.replyLag(s, g)
		c.replyBulkString("pel-count")
		c.replyInt(g.pending)
		c.replyBulkString("pending")
		type row struct {
			id streamID
			pe pending
		}
		var rows []row
		c.scanRows(c.streamRow(s, rowPending, groupPart(g.name)), nil, func(sub, v []byte) bool {
			if count > 0 && int64(len(rows)) >= count {
				return false
			}
			pe := decodePending(v)
			pe.consumer = clone(pe.consumer)
			rows = append(rows, row{decodeID(sub), pe})
			return true
		})
		c.replyArray(len(rows))
		for _, r := range rows {
			c.replyArray(4)
			c.replyBulk(r.id.bytes())
			c.replyBulk(r.pe.consumer)
			c.replyInt(r.pe.delivered)
			c.replyInt(r.pe.count)
		}
		c.replyBulkString("consumers")
		cs := c.consumers(s, g)
		c.replyArray(len(cs))
		for _, cn := range cs {
			c.replyMap(4)
			c.replyBulkString("name")
			c.replyBulk(cn.name)
			c.replyBulkString("seen-time")
			c.replyInt(cn.seen)
			c.replyBulkString("pel-count")
			c.replyInt(cn.pending)
			c.replyBulkString("pending")
			var ids []streamID
			c.scanRows(c.streamRow(s, rowOwned, groupPart(g.name), groupPart(cn.name)), nil, func(sub, _ []byte) bool {
				if count > 0 && int64(len(ids)) >= count {
					return false
				}
				ids = append(ids, decodeID(sub))
				return true
			})
			c.replyArray(len(ids))
			for _, id := range ids {
				pe, _ := c.getPending(s, g, id)
				c.replyArray(3)
				c.replyBulk(id.bytes())
				c.replyInt(pe.delivered)
				c.replyInt(pe.count)
			}
		}
	}
}
