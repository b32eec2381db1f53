package engine

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
)

// Streams.
//
// A stream is a collection: its metadata count is the number of entries
// (XLEN) and its extra holds what Redis keeps in the stream header:
//
//	last(16) maxDeleted(16) first(16) entriesAdded(8) groups(8) nodes(8)
//
// Every row lives under the stream's version, so DEL, overwrite and
// expiry are one range deletion and RENAME is O(1), as for the other
// collections. The first byte after the version names the row:
//
//	'e' id(16)                        an entry: node(16) then its fields
//	'n' id(16)                        a node: live(8) total(8) last(16) size(8) master fields
//	'g' group                         a group: lastID(16) entriesRead(8) pending(8) consumers(8)
//	'p' len(4) group id(16)           a pending entry: delivered(8) count(8) consumer
//	'c' len(4) group consumer         a consumer: seen(8) pending(8)
//	'q' len(4) group len(4) consumer id(16)   the consumer's own pending list
//
// IDs are 128 bits big-endian (ms, then seq), so XRANGE and XREAD are a
// seek and a scan: O(log N + M).
//
// Nodes stand for Redis's listpack nodes, whose boundaries decide what
// approximate (~) trimming removes: an entry joins the last node while
// that node has room by Redis's rule (streamnode.go), and a node goes
// when its last live entry does.
//
// Logging. Whatever depends on the clock or on the master's state is
// logged explicitly, as Redis propagates it: XADD logs the ID it gave and
// an exact MAXLEN for what `~` trimmed; XREADGROUP, XCLAIM and XAUTOCLAIM
// log an XCLAIM per pending entry they touched (TIME, RETRYCOUNT, FORCE,
// JUSTID) and XGROUP SETID with ENTRIESREAD for the group's position; a
// consumer's seen time travels as XGROUP CREATECONSUMER ... SEEN <ms>,
// an option only the log's apply accepts (like SET's PREV).

func init() {
	s := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "stream", Summary: summary}, run}
	}
	register(
		s("xadd", -5, Write|DenyOOM|Fast, "Appends a new entry to a stream", cmdXAdd),
		s("xlen", 2, ReadOnly|Fast, "Return the number of entries in a stream", cmdCollLen(typeStream)),
		s("xrange", -4, ReadOnly, "Return a range of elements in a stream, with IDs matching the specified IDs interval", cmdXRange),
		s("xrevrange", -4, ReadOnly, "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", cmdXRange),
		s("xdel", -3, Write|Fast, "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", cmdXDel),
		s("xtrim", -4, Write, "Trims the stream to (approximately if '~' is passed) a certain size", cmdXTrim),
		s("xsetid", -3, Write|DenyOOM|Fast, "An internal command for replicating stream values", cmdXSetID),
		&Command{Spec{Name: "xread", Arity: -4, Flags: ReadOnly | Blocking, KeysAfter: "streams", Group: "stream", Summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block."}, cmdXRead},
		&Command{Spec{Name: "xinfo", Arity: -2, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Group: "stream", Summary: "A container for stream introspection commands"}, cmdXInfo},
	)
}

// Row tags under a stream's version.
const (
	rowEntry    = 'e'
	rowNode     = 'n'
	rowGroup    = 'g'
	rowPending  = 'p'
	rowConsumer = 'c'
	rowOwned    = 'q'
)

// streamID is an entry ID: milliseconds and a sequence number.
type streamID struct{ ms, seq uint64 }

var maxStreamID = streamID{math.MaxUint64, math.MaxUint64}

func (a streamID) cmp(b streamID) int {
	switch {
	case a.ms < b.ms:
		return -1
	case a.ms > b.ms:
		return 1
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

func (a streamID) isZero() bool { return a.ms == 0 && a.seq == 0 }

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

func (a streamID) bytes() []byte { return []byte(a.String()) }

// next is the smallest ID greater than a; ok is false for the maximum.
func (a streamID) next() (streamID, bool) {
	switch {
	case a.seq < math.MaxUint64:
		return streamID{a.ms, a.seq + 1}, true
	case a.ms < math.MaxUint64:
		return streamID{a.ms + 1, 0}, true
	}
	return a, false
}

// prev is the greatest ID smaller than a; ok is false for 0-0.
func (a streamID) prev() (streamID, bool) {
	switch {
	case a.seq > 0:
		return streamID{a.ms, a.seq - 1}, true
	case a.ms > 0:
		return streamID{a.ms - 1, math.MaxUint64}, true
	}
	return a, false
}

func appendID(dst []byte, id streamID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id.ms)
	return binary.BigEndian.AppendUint64(dst, id.seq)
}

func decodeID(b []byte) streamID {
	return streamID{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

const errInvalidStreamID = "ERR Invalid stream ID specified as stream command argument"

// parseUllRedis parses a number as Redis's string2ull does: a strict
// integer that is not negative, else what C's strtoull accepts whole
// (leading spaces, a sign, up to 2^64-1; a minus sign wraps).
func parseUllRedis(s string) (uint64, bool) {
	if n, err := parseInt([]byte(s)); err == nil {
		return uint64(n), n >= 0
	}
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:], 10, 64)
	if err != nil || s[i] == '+' || s[i] == '-' {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseStreamID parses an ID as Redis's streamGenericParseIDOrReply:
// "-" and "+" (unless strict), "<ms>" (seq missingSeq), "<ms>-<seq>",
// and with seqAuto "<ms>-*", reported by auto.
func parseStreamID(b []byte, missingSeq uint64, strict, seqAuto bool) (id streamID, auto, ok bool) {
	s := string(b)
	if len(s) > 127 {
		return id, false, false
	}
	switch s {
	case "-":
		return streamID{}, false, !strict
	case "+":
		return maxStreamID, false, !strict
	}
	msPart, seqPart, dot := strings.Cut(s, "-")
	ms, ok := parseUllRedis(msPart)
	if !ok {
		return id, false, false
	}
	if !dot {
		return streamID{ms, missingSeq}, false, true
	}
	if seqAuto && seqPart == "*" {
		return streamID{ms, 0}, true, true
	}
	seq, ok := parseUllRedis(seqPart)
	if !ok {
		return id, false, false
	}
	return streamID{ms, seq}, false, true
}

// parseStrictID parses an ID that may not be "-" or "+", writing the error.
func (c *ctx) parseStrictID(b []byte) (streamID, bool) {
	id, _, ok := parseStreamID(b, 0, true, false)
	if !ok {
		c.replyError(errInvalidStreamID)
	}
	return id, ok
}

// parseRangeID parses an interval bound, "(" making it exclusive, as
// Redis's streamParseIntervalIDOrReply; the exclusive bound is moved to
// the next (start) or previous (end) ID.
func (c *ctx) parseRangeID(b []byte, missingSeq uint64, start bool) (streamID, bool) {
	if len(b) > 1 && b[0] == '(' {
		id, _, ok := parseStreamID(b[1:], missingSeq, true, false)
		if !ok {
			c.replyError(errInvalidStreamID)
			return id, false
		}
		if start {
			if id, ok = id.next(); !ok {
				c.replyError("ERR invalid start ID for the interval")
			}
		} else if id, ok = id.prev(); !ok {
			c.replyError("ERR invalid end ID for the interval")
		}
		return id, ok
	}
	id, _, ok := parseStreamID(b, missingSeq, false, false)
	if !ok {
		c.replyError(errInvalidStreamID)
	}
	return id, ok
}

// stream is a stream's metadata, decoded.
type stream struct {
	m            meta
	last         streamID // last-generated-id
	maxDeleted   streamID // max-deleted-entry-id
	first        streamID // recorded-first-entry-id
	entriesAdded int64
	groups       int64
	nodes        int64
	tail         streamID // the last node's ID; 0-0 when not known
}

// streamExtra is the header's size before the last node's ID, which
// streams written by earlier walrus versions do not have.
const streamExtra = 16*3 + 8*3

func decodeStream(m meta) stream {
	s := stream{m: m}
	if v := m.value; len(v) >= streamExtra {
		s.last, s.maxDeleted, s.first = decodeID(v), decodeID(v[16:]), decodeID(v[32:])
		s.entriesAdded = int64(binary.BigEndian.Uint64(v[48:]))
		s.groups = int64(binary.BigEndian.Uint64(v[56:]))
		s.nodes = int64(binary.BigEndian.Uint64(v[64:]))
	}
	if v := m.value; len(v) >= streamExtra+16 {
		s.tail = decodeID(v[streamExtra:])
	}
	return s
}

func (s *stream) encode() {
	v := make([]byte, 0, streamExtra+16)
	v = appendID(appendID(appendID(v, s.last), s.maxDeleted), s.first)
	v = binary.BigEndian.AppendUint64(v, uint64(s.entriesAdded))
	v = binary.BigEndian.AppendUint64(v, uint64(s.groups))
	v = binary.BigEndian.AppendUint64(v, uint64(s.nodes))
	s.m.value = appendID(v, s.tail)
}

// lookupStream returns key's stream; wrong is true (the WRONGTYPE reply
// written) when key holds another type.
func (c *ctx) lookupStream(key []byte) (s stream, ok, wrong bool) {
	m, ok, wrong := c.lookupColl(key, typeStream)
	if !ok || wrong {
		return stream{}, ok, wrong
	}
	return decodeStream(m), true, false
}

// newStream returns an empty stream not yet stored.
func (c *ctx) newStream() stream {
	s := stream{m: c.newColl(typeStream)}
	s.encode()
	return s
}

// saveStream writes a stream's metadata. Unlike the other collections an
// empty stream stays, as in Redis.
func (c *ctx) saveStream(key []byte, s *stream, existed bool) {
	s.encode()
	if existed {
		c.putMeta(key, &s.m, &s.m)
	} else {
		c.putMeta(key, nil, &s.m)
	}
}

// streamRow is the key of a row of s: its prefix, the tag and parts.
func (c *ctx) streamRow(s *stream, tag byte, parts ...[]byte) []byte {
	k := elemPrefix(nil, c.phys, s.m.version)
	k = append(k, tag)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func idBytes(id streamID) []byte { return appendID(nil, id) }

// --- entries ---

// encodeEntry is an entry row's value: its node, then each field and
// value with a uvarint length.
func encodeEntry(node streamID, fields [][]byte) []byte {
	n := 16
	for _, f := range fields {
		n += len(f) + binary.MaxVarintLen32
	}
	v := appendID(make([]byte, 0, n), node)
	for _, f := range fields {
		v = binary.AppendUvarint(v, uint64(len(f)))
		v = append(v, f...)
	}
	return v
}

// decodeEntry splits an entry row's value.
func decodeEntry(v []byte) (node streamID, fields [][]byte) {
	if len(v) < 16 {
		return node, nil
	}
	node = decodeID(v)
	for rest := v[16:]; len(rest) > 0; {
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < n {
			break
		}
		fields = append(fields, rest[w:w+int(n)])
		rest = rest[w+int(n):]
	}
	return node, fields
}

// streamNode is a node row's value.
// lastNode returns the stream's last node, if any: a point read when the
// header knows its ID. (Reading backwards is slow here: every XADD
// rewrites the last node's row, and Pebble steps back over each of the
// row's versions still in the memtable.)
func (c *ctx) lastNode(s *stream) (id streamID, n streamNode, ok bool) {
	if !s.tail.isZero() {
		if v, found := c.get(c.streamRow(s, rowNode, idBytes(s.tail))); found {
			return s.tail, decodeNode(v), true
		}
	}
	p := c.streamRow(s, rowNode)
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	if !it.Last() {
		return id, n, false
	}
	return decodeID(it.Key()[len(p):]), decodeNode(it.Value()), true
}

// appendEntry stores a new entry with an ID greater than the last.
func (c *ctx) appendEntry(s *stream, id streamID, fields [][]byte) {
	nodeID, node, ok := c.lastNode(s)
	if !ok || !node.fits(fields) {
		nodeID, node = id, openNode(fields)
		s.nodes++
	}
	s.tail = nodeID
	node.add(nodeID, id, fields)
	c.set(c.streamRow(s, rowNode, idBytes(nodeID)), node.encode())
	c.set(c.streamRow(s, rowEntry, idBytes(id)), encodeEntry(nodeID, fields))
	s.m.count++
	s.entriesAdded++
	s.last = id
	if s.m.count == 1 {
		s.first = id
	}
}

// deleteEntry removes an entry (XDEL, exact trimming) and returns whether
// it existed.
func (c *ctx) deleteEntry(s *stream, id streamID) bool {
	ek := c.streamRow(s, rowEntry, idBytes(id))
	v, ok := c.get(ek)
	if !ok {
		return false
	}
	c.del(ek)
	nodeID, _ := decodeEntry(v)
	nk := c.streamRow(s, rowNode, idBytes(nodeID))
	nv, _ := c.get(nk)
	node := decodeNode(nv)
	node.live--
	if node.live <= 0 {
		c.del(nk)
		s.nodes--
		if nodeID == s.tail {
			s.tail = streamID{}
		}
	} else {
		c.set(nk, node.encode())
	}
	s.m.count--
	return true
}

// firstEntryID is the stream's first live entry, 0-0 when empty.
func (c *ctx) firstEntryID(s *stream) streamID {
	if s.m.count == 0 {
		return streamID{}
	}
	p := c.streamRow(s, rowEntry)
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	if !it.First() {
		return streamID{}
	}
	return decodeID(it.Key()[len(p):])
}

// lastEntryID is the stream's last live entry; ok is false when empty.
func (c *ctx) lastEntryID(s *stream) (streamID, bool) {
	p := c.streamRow(s, rowEntry)
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	if !it.Last() {
		return streamID{}, false
	}
	return decodeID(it.Key()[len(p):]), true
}

// entryExists reports whether id is a live entry of s.
func (c *ctx) entryExists(s *stream, id streamID) bool {
	_, ok := c.get(c.streamRow(s, rowEntry, idBytes(id)))
	return ok
}

// rangeEntries calls fn for each entry from start to end (inclusive), in
// order or reversed, until fn returns false or count entries (0: all).
func (c *ctx) rangeEntries(s *stream, start, end streamID, rev bool, count int64, fn func(id streamID, fields [][]byte) bool) {
	if start.cmp(end) > 0 {
		return
	}
	p := c.streamRow(s, rowEntry)
	lower := append(append([]byte(nil), p...), idBytes(start)...)
	upper := prefixEnd(append(append([]byte(nil), p...), idBytes(end)...))
	it := c.iter(lower, upper)
	defer it.Close()
	valid := it.First()
	step := it.Next
	if rev {
		valid, step = it.Last(), it.Prev
	}
	for n := int64(0); valid && (count == 0 || n < count); valid = step() {
		_, fields := decodeEntry(it.Value())
		if !fn(decodeID(it.Key()[len(p):]), fields) {
			return
		}
		n++
	}
}

// replyEntry writes one entry: [id, [field, value, ...]].
func (c *ctx) replyEntry(id streamID, fields [][]byte) {
	c.replyArray(2)
	c.replyBulk(id.bytes())
	c.replyArray(len(fields))
	for _, f := range fields {
		c.replyBulk(f)
	}
}

// replyRange writes the entries from start to end as an array.
func (c *ctx) replyRange(s *stream, start, end streamID, rev bool, count int64) {
	type entry struct {
		id     streamID
		fields [][]byte
	}
	var out []entry
	c.rangeEntries(s, start, end, rev, count, func(id streamID, fields [][]byte) bool {
		out = append(out, entry{id, cloneAll(fields)})
		return true
	})
	c.replyArray(len(out))
	for _, e := range out {
		c.replyEntry(e.id, e.fields)
	}
}

func cloneAll(bs [][]byte) [][]byte {
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = clone(b)
	}
	return out
}

// --- trimming ---

// trimArgs are XADD's and XTRIM's trimming options.
type trimArgs struct {
	strategy byte // 0 none, 'M' MAXLEN, 'I' MINID
	approx   bool
	maxLen   int64
	minID    streamID
	limit    int64 // 0: none
	idAt     int   // XADD: position of the ID argument
	noMk     bool  // XADD NOMKSTREAM
}

// parseTrimArgs parses the options of XADD (xadd: up to and including
// the ID) or XTRIM (all of them), as Redis's
// streamParseAddOrTrimArgsOrReply.
func (c *ctx) parseTrimArgs(args [][]byte, xadd bool) (t trimArgs, ok bool) {
	limitGiven := false
	i := 2
parse:
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := strings.ToLower(string(args[i]))
		switch {
		case xadd && opt == "*":
			t.idAt = i
			break parse
		case (opt == "maxlen" || opt == "minid") && more > 0:
			if t.strategy != 0 {
				c.replyError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
				return t, false
			}
			t.approx = false
			if next := string(args[i+1]); more >= 2 && (next == "~" || next == "=") {
				t.approx = next == "~"
				i++
			}
			if opt == "maxlen" {
				n, err := parseInt(args[i+1])
				if err != nil {
					c.replyError(errNotInt)
					return t, false
				}
				if n < 0 {
					c.replyError("ERR The MAXLEN argument must be >= 0.")
					return t, false
				}
				t.strategy, t.maxLen = 'M', n
			} else {
				id, ok := c.parseStrictID(args[i+1])
				if !ok {
					return t, false
				}
				t.strategy, t.minID = 'I', id
			}
			i++
		case opt == "limit" && more > 0:
			n, err := parseInt(args[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return t, false
			}
			if n < 0 {
				c.replyError("ERR The LIMIT argument must be >= 0.")
				return t, false
			}
			t.limit, limitGiven = n, true
			i++
		case xadd && opt == "nomkstream":
			t.noMk = true
		case xadd:
			if _, _, ok := parseStreamID(args[i], 0, true, true); !ok {
				c.replyError(errInvalidStreamID)
				return t, false
			}
			t.idAt = i
			break parse
		default:
			c.replyError(errSyntax)
			return t, false
		}
	}
	if xadd && t.idAt == 0 {
		t.idAt = i
	}
	if t.limit != 0 && t.strategy == 0 {
		c.replyError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return t, false
	}
	if !xadd && t.strategy == 0 {
		c.replyError("ERR syntax error, XTRIM must be called with a trimming strategy")
		return t, false
	}
	if c.raw {
		t.limit = 0 // the master logged what it trimmed
		return t, true
	}
	switch {
	case limitGiven && !t.approx:
		c.replyError("ERR syntax error, LIMIT cannot be used without the special ~ option")
		return t, false
	case limitGiven:
	case t.approx:
		t.limit = 100 * streamNodeMaxEntries
	default:
		t.limit = 0
	}
	return t, true
}

// trim removes entries from the front as Redis's streamTrim does: whole
// nodes while the threshold allows, then, unless approximate, entries
// inside the next node. It returns how many it removed.
func (c *ctx) trim(s *stream, t *trimArgs) int64 {
	if t.strategy == 0 {
		return 0
	}
	var deleted int64
	p := c.streamRow(s, rowNode)
	for {
		if t.strategy == 'M' && s.m.count <= t.maxLen {
			break
		}
		nodeID, node, ok := c.firstNode(s, p)
		if !ok {
			break
		}
		if t.limit > 0 && deleted+node.live > t.limit {
			break
		}
		var whole bool
		if t.strategy == 'M' {
			whole = s.m.count-node.live >= t.maxLen
		} else {
			whole = node.last.cmp(t.minID) < 0
		}
		if whole {
			c.dropNode(s, nodeID, node)
			deleted += node.live
			continue
		}
		if t.approx {
			break
		}
		var doomed []streamID
		left := s.m.count
		c.rangeEntries(s, nodeID, node.last, false, 0, func(id streamID, _ [][]byte) bool {
			if t.strategy == 'M' && left <= t.maxLen || t.strategy == 'I' && id.cmp(t.minID) >= 0 {
				return false
			}
			doomed = append(doomed, id)
			left--
			return true
		})
		for _, id := range doomed {
			c.deleteEntry(s, id)
		}
		deleted += int64(len(doomed))
		break
	}
	if deleted > 0 {
		s.first = c.firstEntryID(s)
	}
	return deleted
}

func (c *ctx) firstNode(s *stream, p []byte) (streamID, streamNode, bool) {
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	if !it.First() {
		return streamID{}, streamNode{}, false
	}
	return decodeID(it.Key()[len(p):]), decodeNode(it.Value()), true
}

// dropNode removes a node and its entries.
func (c *ctx) dropNode(s *stream, id streamID, n streamNode) {
	var doomed []streamID
	c.rangeEntries(s, id, n.last, false, 0, func(id streamID, _ [][]byte) bool {
		doomed = append(doomed, id)
		return true
	})
	for _, e := range doomed {
		c.del(c.streamRow(s, rowEntry, idBytes(e)))
	}
	c.del(c.streamRow(s, rowNode, idBytes(id)))
	s.nodes--
	if id == s.tail {
		s.tail = streamID{}
	}
	s.m.count -= n.live
}

// --- commands ---

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
func cmdXAdd(c *ctx, args [][]byte) {
	t, ok := c.parseTrimArgs(args, true)
	if !ok {
		return
	}
	fieldAt := t.idAt + 1
	if n := len(args) - fieldAt; n < 2 || n%2 == 1 {
		c.replyArgsError("xadd")
		return
	}
	var id streamID
	given, auto := false, false
	if string(args[t.idAt]) != "*" {
		if id, auto, ok = parseStreamID(args[t.idAt], 0, true, true); !ok {
			c.replyError(errInvalidStreamID)
			return
		}
		given = true
		if !auto && id.isZero() {
			c.replyError("ERR The ID specified in XADD must be greater than 0-0")
			return
		}
	}
	key := args[1]
	s, exists, wrong := c.lookupStream(key)
	if wrong {
		return
	}
	if !exists {
		if t.noMk {
			c.replyNull()
			return
		}
		s = c.newStream()
	}
	if s.last == maxStreamID {
		c.replyError("ERR The stream has exhausted the last possible ID, unable to add more items")
		return
	}
	switch {
	case !given:
		ms := uint64(max(c.now, 0))
		if ms > s.last.ms {
			id = streamID{ms, 0}
		} else {
			id, _ = s.last.next()
		}
	case auto:
		switch {
		case id.ms == s.last.ms && s.last.seq == math.MaxUint64:
			ok = false
		case id.ms == s.last.ms:
			id.seq = s.last.seq + 1
		case id.ms < s.last.ms:
			ok = false
		}
	default:
		ok = id.cmp(s.last) > 0
	}
	if !ok {
		c.replyError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
		return
	}
	c.appendEntry(&s, id, args[fieldAt:])
	trimmed := c.trim(&s, &t)
	c.saveStream(key, &s, exists)
	c.notify(NotifyStream, "xadd", key)
	if trimmed > 0 {
		c.notify(NotifyStream, "xtrim", key)
	}
	effect := [][]byte{bs("XADD"), key}
	if trimmed > 0 {
		effect = append(effect, bs("MAXLEN"), bs("="), []byte(strconv.FormatInt(s.m.count, 10)))
	}
	effect = append(append(effect, id.bytes()), args[fieldAt:]...)
	c.emit(effect...)
	c.replyBulk(id.bytes())
}

// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n]
func cmdXRange(c *ctx, args [][]byte) {
	rev := len(args[0]) == len("xrevrange")
	startArg, endArg := args[2], args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := c.parseRangeID(startArg, 0, true)
	if !ok {
		return
	}
	end, ok := c.parseRangeID(endArg, math.MaxUint64, false)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(args); j++ {
		if !strings.EqualFold(string(args[j]), "count") || j+1 >= len(args) {
			c.replyError(errSyntax)
			return
		}
		n, err := parseInt(args[j+1])
		if err != nil {
			c.replyError(errNotInt)
			return
		}
		count = max(n, 0)
		j++
	}
	s, ok, wrong := c.lookupStream(args[1])
	switch {
	case wrong:
	case !ok:
		c.replyArray(0)
	case count == 0:
		c.replyNullArray()
	default:
		c.replyRange(&s, start, end, rev, max(count, 0))
	}
}

// XDEL key id [id ...]
func cmdXDel(c *ctx, args [][]byte) {
	key := args[1]
	s, ok, wrong := c.lookupStream(key)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	ids := make([]streamID, 0, len(args)-2)
	for _, a := range args[2:] {
		id, ok := c.parseStrictID(a)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	var deleted int64
	firstGone := false
	for _, id := range ids {
		if c.deleteEntry(&s, id) {
			firstGone = firstGone || id == s.first
			if id.cmp(s.maxDeleted) > 0 {
				s.maxDeleted = id
			}
			deleted++
		}
	}
	if deleted > 0 {
		if s.m.count == 0 || firstGone {
			s.first = c.firstEntryID(&s)
		}
		c.saveStream(key, &s, true)
		c.notify(NotifyStream, "xdel", key)
		c.emit(args...)
	}
	c.replyInt(deleted)
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
func cmdXTrim(c *ctx, args [][]byte) {
	t, ok := c.parseTrimArgs(args, false)
	if !ok {
		return
	}
	key := args[1]
	s, ok, wrong := c.lookupStream(key)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	n := c.trim(&s, &t)
	if n > 0 {
		c.saveStream(key, &s, true)
		c.notify(NotifyStream, "xtrim", key)
		c.emit(bs("XTRIM"), key, bs("MAXLEN"), bs("="), []byte(strconv.FormatInt(s.m.count, 10)))
	}
	c.replyInt(n)
}

// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]
func cmdXSetID(c *ctx, args [][]byte) {
	id, ok := c.parseStrictID(args[2])
	if !ok {
		return
	}
	added := int64(-1)
	var maxDel streamID
	for i := 3; i < len(args); i += 2 {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "entriesadded" && i+1 < len(args):
			n, err := parseInt(args[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			if n < 0 {
				c.replyError("ERR entries_added must be positive")
				return
			}
			added = n
		case opt == "maxdeletedid" && i+1 < len(args):
			if maxDel, ok = c.parseStrictID(args[i+1]); !ok {
				return
			}
			if id.cmp(maxDel) < 0 {
				c.replyError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
		default:
			c.replyError(errSyntax)
			return
		}
	}
	key := args[1]
	s, ok, wrong := c.lookupStream(key)
	switch {
	case wrong:
		return
	case !ok:
		c.replyError(errNoSuchKey)
		return
	}
	if s.m.count > 0 {
		if top, _ := c.lastEntryID(&s); id.cmp(top) < 0 {
			c.replyError("ERR The ID specified in XSETID is smaller than the target stream top item")
			return
		}
		if added != -1 && s.m.count > added {
			c.replyError("ERR The entries_added specified in XSETID is smaller than the target stream length")
			return
		}
	}
	s.last = id
	if added != -1 {
		s.entriesAdded = added
	}
	if !maxDel.isZero() {
		s.maxDeleted = maxDel
	}
	c.saveStream(key, &s, true)
	c.notify(NotifyStream, "xsetid", key)
	c.emit(args...)
	c.replyOK()
}

// XINFO STREAM|GROUPS|CONSUMERS|HELP
func cmdXInfo(c *ctx, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		lines := []string{
			"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CONSUMERS <key> <groupname>",
			"    Show consumers of <groupname>.",
			"GROUPS <key>",
			"    Show the stream consumer groups.",
			"STREAM <key> [FULL [COUNT <count>]",
			"    Show information about the stream.",
			"HELP",
			"    Prints this help.",
		}
		c.replyArray(len(lines))
		for _, l := range lines {
			c.replyStatus(l)
		}
		return
	case sub == "stream" && len(args) >= 3:
	case sub == "groups" && len(args) == 3:
	case sub == "consumers" && len(args) == 4:
	default:
		c.replyError(xinfoSyntax(args))
		return
	}
	s, ok, wrong := c.lookupStream(args[2])
	switch {
	case wrong:
		return
	case !ok:
		c.replyError(errNoSuchKey)
		return
	}
	full, fullCount := false, int64(10)
	if sub == "stream" && len(args) > 3 {
		if len(args) != 4 && len(args) != 6 || !strings.EqualFold(string(args[3]), "full") ||
			len(args) == 6 && !strings.EqualFold(string(args[4]), "count") {
			c.replyError(xinfoSyntax(args))
			return
		}
		full = true
		if len(args) == 6 {
			n, err := parseInt(args[5])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			if fullCount = n; n < 0 {
				fullCount = 10 // as Redis: a negative COUNT is the default
			}
		}
	}
	switch sub {
	case "stream":
		if full {
			c.xinfoStreamFull(&s, fullCount)
		} else {
			c.xinfoStream(&s)
		}
	case "groups":
		c.xinfoGroups(&s)
	case "consumers":
		c.xinfoConsumers(&s, args[2], args[3])
	}
}

func xinfoSyntax(args [][]byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try XINFO HELP."
}

// radixTreeNodes stands for Redis's count of radix tree nodes, which
// depends on how the node keys share prefixes; walrus has no radix tree
// and reports one more than the keys.
func radixTreeNodes(s *stream) int64 { return s.nodes + 1 }

func (c *ctx) xinfoStream(s *stream) {
	c.replyMap(10)
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
	c.replyBulkString("groups")
	c.replyInt(s.groups)
	for _, rev := range []bool{false, true} {
		if rev {
			c.replyBulkString("last-entry")
		} else {
			c.replyBulkString("first-entry")
		}
		found := false
		c.rangeEntries(s, streamID{}, maxStreamID, rev, 1, func(id streamID, fields [][]byte) bool {
			c.replyEntry(id, fields)
			found = true
			return false
		})
		if !found {
			c.replyNull()
		}
	}
}
