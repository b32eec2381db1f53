package engine

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Streams in Redis's RDB encoding, both ways: Redis's radix tree of
// listpack nodes (each a master entry, then entries as deltas from the
// node's ID, flagged deleted or with the master's fields), the stream's
// IDs and counters, then each consumer group with its pending entries
// and consumers. RESTORE, the RDB import and DUMP/SYNC use it.

// RDB stream types: Redis 5 and 6, 7.0, 7.2.
const (
	rdbStreamListpacks  = 15
	rdbStreamListpacks2 = 19
	rdbStreamListpacks3 = 21
)

// Entry flags in a stream listpack.
const (
	streamItemDeleted    = 1
	streamItemSameFields = 2
)

// dumpStream is a stream as a payload carries it.
type dumpStream struct {
	entries                 []dumpEntry
	last, first, maxDeleted streamID
	entriesAdded            int64
	groups                  []dumpGroup
}

type dumpEntry struct {
	id     streamID
	fields [][]byte // field, value, field, value, ...
}

type dumpGroup struct {
	name        []byte
	last        streamID
	entriesRead int64
	pel         []dumpPending
	consumers   []dumpConsumer
}

type dumpPending struct {
	id               streamID
	delivered, count int64
	consumer         []byte
}

type dumpConsumer struct {
	name []byte
	seen int64
}

// rawID reads a 128-bit big-endian stream ID.
func (r *rdbReader) rawID() streamID { return decodeID(r.take(16)) }

func (r *rdbReader) idLens() streamID {
	ms, e1 := r.length()
	seq, e2 := r.length()
	if e1 || e2 {
		bad()
	}
	return streamID{ms, seq}
}

func (r *rdbReader) msTime() int64 { return int64(binary.LittleEndian.Uint64(r.take(8))) }

// stream reads a stream of RDB type t.
func (r *rdbReader) stream(t byte) dumpValue {
	ds := &dumpStream{}
	nodes, enc := r.length()
	if enc || nodes > uint64(len(r.b)) {
		bad()
	}
	for range nodes {
		key := r.string()
		if len(key) != 16 {
			bad()
		}
		ds.readNode(decodeID(key), listpackEntries(r.string()))
	}
	length, enc := r.length()
	if enc || length != uint64(len(ds.entries)) {
		bad()
	}
	ds.last = r.idLens()
	if t >= rdbStreamListpacks2 {
		ds.first = r.idLens()
		ds.maxDeleted = r.idLens()
		added, e := r.length()
		if e {
			bad()
		}
		ds.entriesAdded = int64(added)
	} else {
		ds.entriesAdded = int64(length)
		if len(ds.entries) > 0 {
			ds.first = ds.entries[0].id
		}
	}
	groups, enc := r.length()
	if enc || groups > uint64(len(r.b)) {
		bad()
	}
	names := map[string]bool{}
	for range groups {
		g := dumpGroup{name: r.string(), last: r.idLens(), entriesRead: -1}
		if names[string(g.name)] {
			bad() // two groups of one name
		}
		names[string(g.name)] = true
		if t >= rdbStreamListpacks2 {
			n, e := r.length()
			if e {
				bad()
			}
			g.entriesRead = int64(n) // -1 is written as 2^64-1
		}
		npel, e := r.length()
		if e || npel > uint64(len(r.b))/16 {
			bad()
		}
		at := map[streamID]int{}
		for range npel {
			p := dumpPending{id: r.rawID(), delivered: r.msTime()}
			n, e := r.length()
			if e {
				bad()
			}
			p.count = int64(n)
			if _, dup := at[p.id]; dup {
				bad()
			}
			at[p.id] = len(g.pel)
			g.pel = append(g.pel, p)
		}
		ncons, e := r.length()
		if e || ncons > uint64(len(r.b)) {
			bad()
		}
		for range ncons {
			cs := dumpConsumer{name: r.string(), seen: r.msTime()}
			if t >= rdbStreamListpacks3 {
				r.msTime() // active time: walrus keeps the seen time only
			}
			owned, e := r.length()
			if e || owned > uint64(len(r.b))/16 {
				bad()
			}
			for range owned {
				i, ok := at[r.rawID()]
				if !ok || g.pel[i].consumer != nil {
					bad() // a consumer's entry the group does not have, or two owners
				}
				g.pel[i].consumer = cs.name
			}
			g.consumers = append(g.consumers, cs)
		}
		for _, p := range g.pel {
			if p.consumer == nil {
				bad() // a pending entry no consumer owns
			}
		}
		ds.groups = append(ds.groups, g)
	}
	return dumpValue{typ: typeStream, stream: ds}
}

// readNode reads one listpack node's live entries.
func (ds *dumpStream) readNode(master streamID, lp [][]byte) {
	num := func(i int) int64 {
		if i >= len(lp) {
			bad()
		}
		n, err := strconv.ParseInt(string(lp[i]), 10, 64)
		if err != nil {
			bad()
		}
		return n
	}
	count, deleted, nfields := num(0), num(1), num(2)
	if count < 0 || deleted < 0 || nfields < 0 || 3+nfields > int64(len(lp)) || count+deleted > int64(len(lp)) {
		bad()
	}
	masterFields := lp[3 : 3+nfields]
	pos := 3 + int(nfields)
	if num(pos) != 0 { // the master entry's terminator
		bad()
	}
	pos++
	for range count + deleted {
		flags, msDiff, seqDiff := num(pos), num(pos+1), num(pos+2)
		pos += 3
		id := streamID{master.ms + uint64(msDiff), master.seq + uint64(seqDiff)}
		var fields [][]byte
		if flags&streamItemSameFields != 0 {
			if pos+int(nfields) > len(lp) {
				bad()
			}
			for i, f := range masterFields {
				fields = append(fields, f, lp[pos+i])
			}
			pos += int(nfields)
		} else {
			n := num(pos)
			pos++
			if n < 0 || n > int64(len(lp)) || pos+2*int(n) > len(lp) {
				bad()
			}
			fields = append(fields, lp[pos:pos+2*int(n)]...)
			pos += 2 * int(n)
		}
		num(pos) // the entry's element count, for walking backwards
		pos++
		if flags&streamItemDeleted != 0 {
			continue
		}
		if k := len(ds.entries); k > 0 && id.cmp(ds.entries[k-1].id) <= 0 {
			bad() // entries out of order
		}
		ds.entries = append(ds.entries, dumpEntry{id, fields})
	}
	if pos != len(lp) {
		bad()
	}
}

// restoreStream builds a stream from a payload's.
func (c *ctx) restoreStream(ds *dumpStream) meta {
	s := c.newStream()
	for _, e := range ds.entries {
		c.appendEntry(&s, e.id, e.fields)
	}
	s.last, s.first, s.maxDeleted, s.entriesAdded = ds.last, ds.first, ds.maxDeleted, ds.entriesAdded
	for _, dg := range ds.groups {
		g := streamGroup{name: dg.name, last: dg.last, entriesRead: dg.entriesRead}
		for _, cs := range dg.consumers {
			c.touchConsumer(&s, &g, cs.name, cs.seen)
		}
		for _, p := range dg.pel {
			c.setPending(&s, &g, p.id, pending{delivered: p.delivered, count: p.count, consumer: p.consumer}, pending{}, false)
		}
		c.putGroup(&s, &g)
		s.groups++
	}
	s.encode()
	return s.m
}

// appendStream writes a stream in RDB type 19 (Redis 7.0's): its
// entries in listpack nodes cut where Redis would cut them had the
// entries been added in order, each node's master fields the fields of
// its first entry.
func (c *ctx) appendStream(b []byte, m *meta) []byte {
	s := decodeStream(*m)
	var entries []dumpEntry
	c.scanRows(c.streamRow(&s, rowEntry), nil, func(sub, v []byte) bool {
		_, fields := decodeEntry(v)
		entries = append(entries, dumpEntry{decodeID(sub), cloneAll(fields)})
		return true
	})
	nodes := splitNodes(entries)
	b = appendRDBLen(b, uint64(len(nodes)))
	for _, node := range nodes {
		b = appendRDBString(b, idBytes(node[0].id))
		b = appendRDBString(b, streamListpack(node))
	}
	b = appendRDBLen(b, uint64(len(entries)))
	b = appendIDLens(b, s.last)
	b = appendIDLens(appendIDLens(b, s.first), s.maxDeleted)
	b = appendRDBLen(b, uint64(s.entriesAdded))

	type groupRows struct {
		g         streamGroup
		pel       []dumpPending
		consumers []dumpConsumer
	}
	var groups []groupRows
	c.scanRows(c.streamRow(&s, rowGroup), nil, func(sub, _ []byte) bool {
		if g, ok := c.getGroup(&s, sub); ok {
			groups = append(groups, groupRows{g: g})
		}
		return true
	})
	b = appendRDBLen(b, uint64(len(groups)))
	for _, gr := range groups {
		g := gr.g
		c.scanRows(c.streamRow(&s, rowPending, groupPart(g.name)), nil, func(sub, v []byte) bool {
			pe := decodePending(v)
			gr.pel = append(gr.pel, dumpPending{decodeID(sub), pe.delivered, pe.count, clone(pe.consumer)})
			return true
		})
		c.scanRows(c.streamRow(&s, rowConsumer, groupPart(g.name)), nil, func(sub, v []byte) bool {
			if len(v) >= 8 {
				gr.consumers = append(gr.consumers, dumpConsumer{clone(sub), int64(binary.BigEndian.Uint64(v))})
			}
			return true
		})
		b = appendRDBString(b, g.name)
		b = appendIDLens(b, g.last)
		b = appendRDBLen(b, uint64(g.entriesRead))
		b = appendRDBLen(b, uint64(len(gr.pel)))
		for _, p := range gr.pel {
			b = appendID(b, p.id)
			b = binary.LittleEndian.AppendUint64(b, uint64(p.delivered))
			b = appendRDBLen(b, uint64(p.count))
		}
		b = appendRDBLen(b, uint64(len(gr.consumers)))
		for _, cs := range gr.consumers {
			b = appendRDBString(b, cs.name)
			b = binary.LittleEndian.AppendUint64(b, uint64(cs.seen))
			var owned []streamID
			for _, p := range gr.pel {
				if string(p.consumer) == string(cs.name) {
					owned = append(owned, p.id)
				}
			}
			b = appendRDBLen(b, uint64(len(owned)))
			for _, id := range owned {
				b = appendID(b, id)
			}
		}
	}
	return b
}

// splitNodes cuts entries into nodes by Redis's rule (streamnode.go).
func splitNodes(entries []dumpEntry) [][]dumpEntry {
	var nodes [][]dumpEntry
	var n streamNode
	start := 0
	for i, e := range entries {
		if i == 0 || !n.fits(e.fields) {
			if i > 0 {
				nodes = append(nodes, entries[start:i])
			}
			start, n = i, openNode(e.fields)
		}
		n.add(entries[start].id, e.id, e.fields)
	}
	if len(entries) > 0 {
		nodes = append(nodes, entries[start:])
	}
	return nodes
}

func appendIDLens(b []byte, id streamID) []byte {
	return appendRDBLen(appendRDBLen(b, id.ms), id.seq)
}

// streamListpack encodes one node as Redis lays it out.
func streamListpack(node []dumpEntry) []byte {
	lp := listpack{}
	master := node[0]
	var masterFields [][]byte
	for i := 0; i < len(master.fields); i += 2 {
		masterFields = append(masterFields, master.fields[i])
	}
	lp.int(int64(len(node)))
	lp.int(0) // deleted
	lp.int(int64(len(masterFields)))
	for _, f := range masterFields {
		lp.str(f)
	}
	lp.int(0)
	for _, e := range node {
		same := len(e.fields) == 2*len(masterFields)
		for i := 0; same && i < len(masterFields); i++ {
			same = string(e.fields[2*i]) == string(masterFields[i])
		}
		start := lp.n
		if same {
			lp.int(streamItemSameFields)
		} else {
			lp.int(0)
		}
		lp.int(int64(e.id.ms - master.id.ms))
		lp.int(int64(e.id.seq - master.id.seq))
		if same {
			for i := 1; i < len(e.fields); i += 2 {
				lp.str(e.fields[i])
			}
		} else {
			lp.int(int64(len(e.fields) / 2))
			for _, f := range e.fields {
				lp.str(f)
			}
		}
		lp.int(int64(lp.n - start)) // this entry's elements before the count
	}
	return lp.bytes()
}

// listpack builds a listpack: Redis's encodings of integers and strings,
// each entry followed by its back-length.
type listpack struct {
	body []byte
	n    int // elements
}

func (lp *listpack) int(v int64) {
	var e []byte
	switch {
	case v >= 0 && v <= 127:
		e = []byte{byte(v)}
	case v >= -4096 && v <= 4095:
		e = []byte{0xc0 | byte(uint64(v)>>8)&0x1f, byte(v)}
	case v >= math.MinInt16 && v <= math.MaxInt16:
		e = binary.LittleEndian.AppendUint16([]byte{0xf1}, uint16(v))
	case v >= -1<<23 && v < 1<<23:
		e = []byte{0xf2, byte(v), byte(v >> 8), byte(v >> 16)}
	case v >= math.MinInt32 && v <= math.MaxInt32:
		e = binary.LittleEndian.AppendUint32([]byte{0xf3}, uint32(v))
	default:
		e = binary.LittleEndian.AppendUint64([]byte{0xf4}, uint64(v))
	}
	lp.add(e)
}

// str adds a string, as an integer when it is one (as Redis stores it).
func (lp *listpack) str(s []byte) {
	if v, ok := lpInt(s); ok {
		lp.int(v)
		return
	}
	var e []byte
	switch n := len(s); {
	case n < 64:
		e = append([]byte{0x80 | byte(n)}, s...)
	case n < 4096:
		e = append([]byte{0xe0 | byte(n>>8), byte(n)}, s...)
	default:
		e = append(binary.LittleEndian.AppendUint32([]byte{0xf0}, uint32(n)), s...)
	}
	lp.add(e)
}

func (lp *listpack) add(e []byte) {
	lp.body = append(lp.body, e...)
	lp.body = appendBacklen(lp.body, uint64(len(e)))
	lp.n++
}

// appendBacklen writes an entry's length so that it reads backwards, as
// Redis's lpEncodeBacklen.
func appendBacklen(b []byte, l uint64) []byte {
	switch n := int(backlenSize(int(l))); n {
	case 1:
		return append(b, byte(l))
	default:
		out := make([]byte, n)
		for i := n - 1; i >= 0; i-- {
			out[i] = byte(l & 127)
			if i > 0 {
				out[i] |= 128
			}
			l >>= 7
		}
		return append(b, out...)
	}
}

func (lp *listpack) bytes() []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(6+len(lp.body)+1))
	out = binary.LittleEndian.AppendUint16(out, uint16(min(lp.n, 65535)))
	return append(append(out, lp.body...), 0xff)
}
