package engine

import (
	"encoding/binary"
	"errors"
	"hash"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble"
)

// Lists.
//
// Encoding: metadata extra = head(8) tail(8), two int64 positions; the
// list holds positions [head, tail), count = tail-head; one element per
// position,
//
//	elemPrefix(phys, version) + BE(uint64(pos) ^ 1<<63)  ->  value
//
// (the sign flip makes byte order numeric order for negative positions).
// LPUSH decrements head, RPUSH increments tail, so pushes and pops are
// O(1), LINDEX/LSET are one point operation whatever the index, LRANGE
// seeks to its start (O(log N + M)), LTRIM is two range deletions.
// LINSERT shifts the shorter side of the list: O(min(i, N-i)); LREM
// rewrites the list under a new version: O(N).
//
// Positions depend on history (LPUSH a vs RPUSH a), so DEBUG DIGEST
// hashes the logical sequence of values instead of the element keys.

func init() {
	l := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "list", Summary: summary}, run}
	}
	two := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 2, Step: 1, Group: "list", Summary: summary}, run}
	}
	blk := func(name string, arity int, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Group: "list", Summary: summary}, run}
	}
	register(
		l("lpush", -3, Write|DenyOOM|Fast, "Prepend one or multiple elements to a list", cmdPush),
		l("rpush", -3, Write|DenyOOM|Fast, "Append one or multiple elements to a list", cmdPush),
		l("lpushx", -3, Write|DenyOOM|Fast, "Prepend an element to a list, only if the list exists", cmdPush),
		l("rpushx", -3, Write|DenyOOM|Fast, "Append an element to a list, only if the list exists", cmdPush),
		l("lpop", -2, Write|Fast, "Remove and get the first elements in a list", cmdPop),
		l("rpop", -2, Write|Fast, "Remove and get the last elements in a list", cmdPop),
		l("llen", 2, ReadOnly|Fast, "Get the length of a list", cmdCollLen(typeList)),
		l("lindex", 3, ReadOnly, "Get an element from a list by its index", cmdLIndex),
		l("lset", 4, Write|DenyOOM, "Set the value of an element in a list by its index", cmdLSet),
		l("lrange", 4, ReadOnly, "Get a range of elements from a list", cmdLRange),
		l("ltrim", 4, Write, "Trim a list to the specified range", cmdLTrim),
		l("lrem", 4, Write, "Remove elements from a list", cmdLRem),
		l("linsert", 5, Write|DenyOOM, "Insert an element before or after another element in a list", cmdLInsert),
		l("lpos", -3, ReadOnly, "Return the index of matching elements on a list", cmdLPos),
		two("lmove", 5, Write|DenyOOM, "Pop an element from a list, push it to another list and return it", cmdLMove),
		two("rpoplpush", 3, Write|DenyOOM, "Remove the last element in a list, prepend it to another list and return it", cmdLMove),
		blk("blpop", -3, "Remove and get the first element in a list, or block until one is available", cmdBPop),
		blk("brpop", -3, "Remove and get the last element in a list, or block until one is available", cmdBPop),
		&Command{Spec{Name: "blmove", Arity: 6, Flags: Write | DenyOOM | Blocking, FirstKey: 1, LastKey: 2, Step: 1, Group: "list", Summary: "Pop an element from a list, push it to another list and return it; or block until one is available"}, cmdLMove},
		&Command{Spec{Name: "lmpop", Arity: -4, Flags: Write, NumKeysAt: 1, Group: "list", Summary: "Pop elements from a list"}, cmdLMPop},
		&Command{Spec{Name: "blmpop", Arity: -5, Flags: Write | Blocking, NumKeysAt: 2, Group: "list", Summary: "Pop elements from a list, or block until one is available"}, cmdLMPop},
		&Command{Spec{Name: "brpoplpush", Arity: 4, Flags: Write | DenyOOM | Blocking, FirstKey: 1, LastKey: 2, Step: 1, Group: "list", Summary: "Pop an element from a list, push it to another list and return it; or block until one is available"}, cmdLMove},
	)
	valueDigesters[typeList] = digestList
}

func listElem(p []byte, pos int64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(p)+8), p...), uint64(pos)^1<<63)
}

func listBounds(m *meta) (head, tail int64) {
	if len(m.value) < 16 {
		return 0, 0
	}
	return int64(binary.BigEndian.Uint64(m.value)), int64(binary.BigEndian.Uint64(m.value[8:]))
}

func setListBounds(m *meta, head, tail int64) {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(head))
	binary.BigEndian.PutUint64(v[8:], uint64(tail))
	m.value = v
	m.count = tail - head
}

func (c *ctx) newList() meta {
	m := c.newColl(typeList)
	setListBounds(&m, 0, 0)
	return m
}

// listIndex reads the element at logical index i (0 <= i < count).
func (c *ctx) listIndex(m *meta, i int64) []byte {
	head, _ := listBounds(m)
	return c.getListElem(listElem(elemPrefix(nil, c.phys, m.version), head+i))
}

// listRange calls fn for logical indexes [from, to) in order.
func (c *ctx) listRange(m *meta, from, to int64, fn func(i int64, v []byte) bool) {
	if from >= to {
		return
	}
	head, _ := listBounds(m)
	p := elemPrefix(nil, c.phys, m.version)
	it := c.iter(listElem(p, head+from), listElem(p, head+to))
	defer it.Close()
	i := from
	for it.First(); it.Valid(); it.Next() {
		if !fn(i, it.Value()) {
			return
		}
		i++
	}
}

// listReverse calls fn for logical indexes [from, to) from the end.
func (c *ctx) listReverse(m *meta, from, to int64, fn func(i int64, v []byte) bool) {
	if from >= to {
		return
	}
	head, _ := listBounds(m)
	p := elemPrefix(nil, c.phys, m.version)
	it := c.iter(listElem(p, head+from), listElem(p, head+to))
	defer it.Close()
	i := to - 1
	for it.Last(); it.Valid(); it.Prev() {
		if !fn(i, it.Value()) {
			return
		}
		i--
	}
}

// listPush adds values at the left or right end of m (not saved).
func (c *ctx) listPush(m *meta, left bool, values ...[]byte) {
	head, tail := listBounds(m)
	p := elemPrefix(nil, c.phys, m.version)
	for _, v := range values {
		if left {
			head--
			c.setListElem(listElem(p, head), v)
		} else {
			c.setListElem(listElem(p, tail), v)
			tail++
		}
	}
	setListBounds(m, head, tail)
}

// listPop removes up to n values from one end of m (not saved).
func (c *ctx) listPop(m *meta, left bool, n int64) [][]byte {
	head, tail := listBounds(m)
	n = min(n, tail-head)
	out := make([][]byte, 0, n)
	p := elemPrefix(nil, c.phys, m.version)
	for ; n > 0; n-- {
		var pos int64
		if left {
			pos = head
			head++
		} else {
			tail--
			pos = tail
		}
		bound := head // the other end
		if left {
			bound = tail
		}
		v := c.popElem(p, pos, left, bound)
		if err := c.b.Delete(listElem(p, pos), nil); err != nil { // consumes the read-ahead
			panic(storageError{err})
		}
		out = append(out, v)
	}
	setListBounds(m, head, tail)
	return out
}

// popAhead is the committer's read-ahead for pops from one end of one
// list: the values at pos, pos+1, ... (left) or pos, pos-1, ... (right),
// read with one iterator instead of a point lookup each. It lives across
// group commits, so a stream of pops reads its list in runs. Any other
// write to a list element drops it (setListElem, LTRIM's range deletion,
// FLUSHDB, a checkpoint install, a group that fails to commit); a pop's
// own delete only consumes it. Deleting a whole list needs no hook: a
// list created later has a new version, so a new prefix.
type popAhead struct {
	prefix string // the list's element prefix
	left   bool
	pos    int64    // the position vals[0] holds, or the next pop's
	vals   [][]byte // read ahead, not yet popped
	size   int      // the last read-ahead's length
}

const (
	maxPopAhead      = 256
	maxPopAheadBytes = 64 << 10
)

// popElem returns the value at pos for a pop from the left (or right)
// end; bound is the list's other end (tail, or head). A pop that does not
// continue the read-ahead is a point lookup; the pops that follow it read
// ahead, twice as far each time, up to maxPopAhead elements.
func (c *ctx) popElem(p []byte, pos int64, left bool, bound int64) []byte {
	if c.g == nil {
		return c.getListElem(listElem(p, pos))
	}
	a := c.g.ahead
	step := int64(1)
	if !left {
		step = -1
	}
	if a == nil || a.prefix != string(p) || a.left != left || a.pos != pos {
		c.g.ahead = &popAhead{prefix: string(p), left: left, pos: pos + step}
		return c.getListElem(listElem(p, pos))
	}
	if len(a.vals) == 0 {
		a.size = min(max(8, 2*a.size), maxPopAhead)
		var it *pebble.Iterator
		if left {
			it = c.iter(listElem(p, pos), listElem(p, min(pos+int64(a.size), bound)))
			it.First()
		} else {
			it = c.iter(listElem(p, max(pos-int64(a.size)+1, bound)), listElem(p, pos+1))
			it.Last()
		}
		for bytes := 0; it.Valid(); {
			v := it.Value()
			if len(a.vals) > 0 && bytes+len(v) > maxPopAheadBytes {
				break
			}
			a.vals = append(a.vals, clone(v))
			bytes += len(v)
			if left {
				it.Next()
			} else {
				it.Prev()
			}
		}
		if err := it.Close(); err != nil {
			panic(storageError{err})
		}
		if len(a.vals) == 0 { // cannot happen within the bounds; be safe
			c.g.ahead = nil
			return c.getListElem(listElem(p, pos))
		}
	}
	v := a.vals[0]
	a.vals[0] = nil
	a.vals = a.vals[1:]
	a.pos += step
	return v
}

// LPUSH / RPUSH / LPUSHX / RPUSHX key element [element ...]
func cmdPush(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	key := args[1]
	m, exists, wrong := c.lookupColl(key, typeList)
	if wrong {
		return
	}
	if !exists {
		if strings.HasSuffix(name, "x") {
			c.replyInt(0)
			return
		}
		m = c.newList()
	}
	c.listPush(&m, name[0] == 'l', args[2:]...)
	c.saveColl(key, &m, exists)
	c.notify(NotifyList, name[:5], key) // lpush or rpush, for the X forms too
	c.emit(args...)
	c.replyInt(m.count)
}

// LPOP / RPOP key [count]
func cmdPop(c *ctx, args [][]byte) {
	if len(args) > 3 {
		c.replyArgsError(strings.ToLower(string(args[0])))
		return
	}
	count, ok := c.popCount(args, -1)
	if !ok {
		return
	}
	key := args[1]
	m, ok, wrong := c.lookupColl(key, typeList)
	if wrong {
		return
	}
	if !ok {
		if count < 0 {
			c.replyNull()
		} else {
			c.replyNullArray()
		}
		return
	}
	if count == 0 {
		c.replyArray(0)
		return
	}
	left := lower(args[0][0]) == 'l'
	vals := c.listPop(&m, left, max(count, 1))
	c.saveColl(key, &m, true)
	c.notifyColl(NotifyList, popEvent(left), key, &m)
	c.emit(args...)
	if count < 0 {
		c.replyBulk(vals[0])
		return
	}
	c.replyArray(len(vals))
	for _, v := range vals {
		c.replyBulk(v)
	}
}

func cmdLIndex(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeList)
	if wrong {
		return
	}
	if !ok {
		c.replyNull()
		return
	}
	idx, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if idx < 0 {
		idx += m.count
	}
	if idx < 0 || idx >= m.count {
		c.replyNull()
		return
	}
	c.replyBulk(c.listIndex(&m, idx))
}

func cmdLSet(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeList)
	if !ok {
		c.replyError(errNoSuchKey)
		return
	}
	if wrong {
		return
	}
	idx, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if idx < 0 {
		idx += m.count
	}
	if idx < 0 || idx >= m.count {
		c.replyError(errOutOfRange)
		return
	}
	head, _ := listBounds(&m)
	c.setListElem(listElem(elemPrefix(nil, c.phys, m.version), head+idx), args[3])
	c.notify(NotifyList, "lset", args[1])
	c.emit(args...)
	c.replyOK()
}

func cmdLRange(c *ctx, args [][]byte) {
	start, err1 := parseInt(args[2])
	end, err2 := parseInt(args[3])
	if err1 != nil || err2 != nil {
		c.replyError(errNotInt)
		return
	}
	m, ok, wrong := c.lookupColl(args[1], typeList)
	if wrong {
		return
	}
	if !ok {
		c.replyArray(0)
		return
	}
	from, to, ok := clampRange(start, end, m.count)
	if !ok {
		c.replyArray(0)
		return
	}
	c.replyArray(int(to - from))
	c.listRange(&m, from, to, func(_ int64, v []byte) bool {
		c.replyBulk(v)
		return true
	})
}

// LTRIM key start stop: two range deletions.
func cmdLTrim(c *ctx, args [][]byte) {
	start, err1 := parseInt(args[2])
	end, err2 := parseInt(args[3])
	if err1 != nil || err2 != nil {
		c.replyError(errNotInt)
		return
	}
	key := args[1]
	m, ok, wrong := c.lookupColl(key, typeList)
	if wrong {
		return
	}
	if !ok {
		c.replyOK()
		return
	}
	from, to, ok := clampRange(start, end, m.count)
	if !ok {
		c.deleteKey(key, &m)
		c.notify(NotifyList, "ltrim", key)
		c.notify(NotifyGeneric, "del", key)
		c.emit(args...)
		c.replyOK()
		return
	}
	if from == 0 && to == m.count {
		c.notify(NotifyList, "ltrim", key) // as Redis: the event, though nothing goes
		c.replyOK()
		return
	}
	head, tail := listBounds(&m)
	p := elemPrefix(nil, c.phys, m.version)
	for _, r := range [][2]int64{{head, head + from}, {head + to, tail}} {
		if r[0] < r[1] {
			// List elements are not in the row cache (see
			// getListElem), so only the pops' read-ahead is stale.
			c.g.ahead = nil
			if err := c.b.DeleteRange(listElem(p, r[0]), listElem(p, r[1]), nil); err != nil {
				panic(storageError{err})
			}
		}
	}
	setListBounds(&m, head+from, head+to)
	c.saveColl(key, &m, true)
	c.notify(NotifyList, "ltrim", key)
	c.emit(args...)
	c.replyOK()
}

// LREM key count element: O(N); the survivors are rewritten under a new
// version (the old elements go in one range deletion).
func cmdLRem(c *ctx, args [][]byte) {
	count, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	key, elem := args[1], args[3]
	m, ok, wrong := c.lookupColl(key, typeList)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	vals := make([][]byte, 0, m.count)
	c.listRange(&m, 0, m.count, func(_ int64, v []byte) bool {
		vals = append(vals, clone(v))
		return true
	})
	drop := make([]bool, len(vals))
	removed := int64(0)
	if count >= 0 {
		for i, v := range vals {
			if string(v) == string(elem) {
				drop[i] = true
				removed++
				if removed == count {
					break
				}
			}
		}
	} else {
		for i := len(vals) - 1; i >= 0; i-- {
			if string(vals[i]) == string(elem) {
				drop[i] = true
				removed++
				if removed == -count {
					break
				}
			}
		}
	}
	if removed == 0 {
		c.replyInt(0)
		return
	}
	nm := c.newList()
	nm.expireAt = m.expireAt
	keep := vals[:0]
	for i, v := range vals {
		if !drop[i] {
			keep = append(keep, v)
		}
	}
	c.listPush(&nm, false, keep...)
	if nm.count == 0 {
		c.deleteKey(key, &m)
	} else {
		c.putMeta(key, &m, &nm)
	}
	c.notifyColl(NotifyList, "lrem", key, &nm)
	c.emit(args...)
	c.replyInt(removed)
}

// LINSERT key BEFORE|AFTER pivot element: finds the pivot (O(i)) and
// shifts the shorter side by one position.
func cmdLInsert(c *ctx, args [][]byte) {
	var after bool
	switch strings.ToLower(string(args[2])) {
	case "before":
	case "after":
		after = true
	default:
		c.replyError(errSyntax)
		return
	}
	key := args[1]
	m, ok, wrong := c.lookupColl(key, typeList)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	at := int64(-1)
	c.listRange(&m, 0, m.count, func(i int64, v []byte) bool {
		if string(v) == string(args[3]) {
			at = i
			return false
		}
		return true
	})
	if at < 0 {
		c.replyInt(-1)
		return
	}
	if after {
		at++
	}
	head, tail := listBounds(&m)
	p := elemPrefix(nil, c.phys, m.version)
	if at >= m.count-at {
		// Shift [at, n) right by one, from the end.
		var moved [][]byte
		c.listRange(&m, at, m.count, func(_ int64, v []byte) bool {
			moved = append(moved, clone(v))
			return true
		})
		for i := len(moved) - 1; i >= 0; i-- {
			c.setListElem(listElem(p, head+at+int64(i)+1), moved[i])
		}
		c.setListElem(listElem(p, head+at), args[4])
		setListBounds(&m, head, tail+1)
	} else {
		// Shift [0, at) left by one.
		var moved [][]byte
		c.listRange(&m, 0, at, func(_ int64, v []byte) bool {
			moved = append(moved, clone(v))
			return true
		})
		for i, v := range moved {
			c.setListElem(listElem(p, head-1+int64(i)), v)
		}
		c.setListElem(listElem(p, head-1+at), args[4])
		setListBounds(&m, head-1, tail)
	}
	c.saveColl(key, &m, true)
	c.notify(NotifyList, "linsert", key)
	c.emit(args...)
	c.replyInt(m.count)
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
func cmdLPos(c *ctx, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.replyError(errSyntax)
			return
		}
		n, err := parseInt(args[i+1])
		opt := strings.ToLower(string(args[i]))
		if opt != "rank" && opt != "count" && opt != "maxlen" {
			c.replyError(errSyntax)
			return
		}
		if err != nil {
			c.replyError(errNotInt)
			return
		}
		switch opt {
		case "rank":
			if n == 0 {
				c.replyError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			if n == math.MinInt64 {
				c.replyError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
				return
			}
			rank = n
		case "count":
			if n < 0 {
				c.replyError("ERR COUNT can't be negative")
				return
			}
			count = n
		case "maxlen":
			if n < 0 {
				c.replyError("ERR MAXLEN can't be negative")
				return
			}
			maxlen = n
		}
	}
	m, ok, wrong := c.lookupColl(args[1], typeList)
	if wrong {
		return
	}
	if !ok {
		if count >= 0 {
			c.replyArray(0)
		} else {
			c.replyNull()
		}
		return
	}
	var found []int64
	want := count
	if want == 0 {
		want = math.MaxInt64
	} else if want < 0 {
		want = 1
	}
	skip := rank - 1
	if rank < 0 {
		skip = -rank - 1
	}
	scanned := int64(0)
	visit := func(i int64, v []byte) bool {
		if maxlen > 0 && scanned >= maxlen {
			return false
		}
		scanned++
		if string(v) == string(args[2]) {
			if skip > 0 {
				skip--
				return true
			}
			found = append(found, i)
			return int64(len(found)) < want
		}
		return true
	}
	if rank > 0 {
		c.listRange(&m, 0, m.count, visit)
	} else {
		c.listReverse(&m, 0, m.count, visit)
	}
	if count < 0 {
		if len(found) == 0 {
			c.replyNull()
		} else {
			c.replyInt(found[0])
		}
		return
	}
	c.replyArray(len(found))
	for _, i := range found {
		c.replyInt(i)
	}
}

// LMOVE src dst LEFT|RIGHT LEFT|RIGHT, RPOPLPUSH src dst, and the
// non-blocking form of BLMOVE / BRPOPLPUSH (in MULTI, or the attempt the
// server makes before blocking): an empty source gives a null bulk.
// The effect of a blocking form is the plain LMOVE it performed.
func cmdLMove(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	fromLeft, toLeft := false, true
	if name == "lmove" || name == "blmove" {
		var ok1, ok2 bool
		fromLeft, ok1 = parseWhere(args[3])
		toLeft, ok2 = parseWhere(args[4])
		if !ok1 || !ok2 {
			c.replyError(errSyntax)
			return
		}
	}
	if name[0] == 'b' {
		if _, err := ParseBlockTimeout(args[len(args)-1]); err != nil {
			c.replyError(err.Error())
			return
		}
	}
	src, dst := args[1], args[2]
	sm, ok, wrong := c.lookupColl(src, typeList)
	if wrong {
		return
	}
	if !ok {
		c.replyNull()
		return
	}
	dm, dok, dwrong := c.lookupColl(dst, typeList)
	if dwrong {
		return
	}
	v := c.listPop(&sm, fromLeft, 1)[0]
	if string(src) == string(dst) {
		c.listPush(&sm, toLeft, v)
		c.saveColl(src, &sm, true)
		c.notify(NotifyList, pushEvent(toLeft), dst)
		c.notify(NotifyList, popEvent(fromLeft), src)
	} else {
		c.saveColl(src, &sm, true)
		if !dok {
			dm = c.newList()
		}
		c.listPush(&dm, toLeft, v)
		c.saveColl(dst, &dm, dok)
		c.notify(NotifyList, pushEvent(toLeft), dst)
		c.notifyColl(NotifyList, popEvent(fromLeft), src, &sm)
	}
	c.emit(bs("LMOVE"), src, dst, whereName(fromLeft), whereName(toLeft))
	c.replyBulk(v)
}

func parseWhere(b []byte) (left, ok bool) {
	switch strings.ToLower(string(b)) {
	case "left":
		return true, true
	case "right":
		return false, true
	}
	return false, false
}

func whereName(left bool) []byte {
	if left {
		return bs("LEFT")
	}
	return bs("RIGHT")
}

// ParseBlockTimeout parses a blocking command's timeout in seconds
// (fractions allowed); 0 means forever. The error text is Redis's.
func ParseBlockTimeout(b []byte) (time.Duration, error) {
	f, ok := parseLongDouble(b)
	if !ok || f.IsInf() {
		return 0, errTimeoutNotFloat
	}
	if f.Sign() < 0 {
		return 0, errTimeoutNegative
	}
	ms, _ := new(big.Float).Mul(f, big.NewFloat(1000)).Float64()
	if ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, errTimeoutNotFloat
	}
	return time.Duration(ms) * time.Millisecond, nil
}

var (
	errTimeoutNotFloat = errors.New("ERR timeout is not a float or out of range")
	errTimeoutNegative = errors.New("ERR timeout is negative")
)

// BLPOP / BRPOP key [key ...] timeout, non-blocking form: the first
// non-empty list gives one element; none gives a null array. The effect
// is a plain LPOP/RPOP.
func cmdBPop(c *ctx, args [][]byte) {
	if _, err := ParseBlockTimeout(args[len(args)-1]); err != nil {
		c.replyError(err.Error())
		return
	}
	left := lower(args[0][1]) == 'l'
	for _, key := range args[1 : len(args)-1] {
		m, ok, wrong := c.lookupColl(key, typeList)
		if wrong {
			return
		}
		if !ok {
			continue
		}
		v := c.listPop(&m, left, 1)[0]
		c.saveColl(key, &m, true)
		c.notifyColl(NotifyList, popEvent(left), key, &m)
		if left {
			c.emit(bs("LPOP"), key)
		} else {
			c.emit(bs("RPOP"), key)
		}
		c.replyArray(2)
		c.replyBulk(key)
		c.replyBulk(v)
		return
	}
	c.replyNullArray()
}

// mpopArgs parses what LMPOP, BLMPOP, ZMPOP and BZMPOP share:
// [timeout] numkeys key [key ...] end [COUNT count], end being one of ends
// (LEFT/RIGHT, MIN/MAX). It checks them in Redis's order (numkeys, end,
// COUNT, then a blocking form's timeout) and returns the keys, whether
// end is ends[0], and the count (default 1); on an error it replies and
// returns ok false.
func (c *ctx) mpopArgs(args [][]byte, ends [2]string) (keys [][]byte, first bool, count int64, ok bool) {
	blocking := lower(args[0][0]) == 'b'
	at := 1 // numkeys
	if blocking {
		at = 2
	}
	n, err := parseInt(args[at])
	if err != nil || n <= 0 {
		c.replyError("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	if n >= int64(len(args)-at-1) { // no argument left for end
		c.replyError(errSyntax)
		return nil, false, 0, false
	}
	keys = args[at+1 : at+1+int(n)]
	i := at + 1 + int(n)
	switch end := string(args[i]); {
	case strings.EqualFold(end, ends[0]):
		first = true
	case strings.EqualFold(end, ends[1]):
	default:
		c.replyError(errSyntax)
		return nil, false, 0, false
	}
	count = -1
	for i++; i < len(args); i++ {
		if count != -1 || !strings.EqualFold(string(args[i]), "count") || i+1 == len(args) {
			c.replyError(errSyntax)
			return nil, false, 0, false
		}
		i++
		if count, err = parseInt(args[i]); err != nil || count <= 0 {
			c.replyError("ERR count should be greater than 0")
			return nil, false, 0, false
		}
	}
	if count == -1 {
		count = 1
	}
	if blocking {
		if _, err := ParseBlockTimeout(args[1]); err != nil {
			c.replyError(err.Error())
			return nil, false, 0, false
		}
	}
	return keys, first, count, true
}

// mpopped emits the plain pop (pop key n) that replicates an LMPOP or
// ZMPOP which popped n elements of key, and starts its reply: [key, [the
// n elements, which the caller writes]].
func (c *ctx) mpopped(pop string, key []byte, n int) {
	c.emit(bs(pop), key, strconv.AppendInt(nil, int64(n), 10))
	c.replyArray(2)
	c.replyBulk(key)
	c.replyArray(n)
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], and BLMPOP's
// non-blocking form: pops up to count elements from the first non-empty
// list. The effect is a plain LPOP/RPOP of what was popped.
func cmdLMPop(c *ctx, args [][]byte) {
	keys, left, count, ok := c.mpopArgs(args, [2]string{"left", "right"})
	if !ok {
		return
	}
	for _, key := range keys {
		m, ok, wrong := c.lookupColl(key, typeList)
		if wrong {
			return
		}
		if !ok {
			continue
		}
		vals := c.listPop(&m, left, count)
		c.saveColl(key, &m, true)
		c.notifyColl(NotifyList, popEvent(left), key, &m)
		pop := "RPOP"
		if left {
			pop = "LPOP"
		}
		c.mpopped(pop, key, len(vals))
		for _, v := range vals {
			c.replyBulk(v)
		}
		return
	}
	c.replyNullArray()
}

// popEvent and pushEvent are the keyspace events of a list end.
func popEvent(left bool) string {
	if left {
		return "lpop"
	}
	return "rpop"
}

func pushEvent(left bool) string {
	if left {
		return "lpush"
	}
	return "rpush"
}

// digestList hashes a list's values in order (positions depend on
// history, the sequence does not).
func digestList(c *ctx, m *meta, h hash.Hash) {
	c.listRange(m, 0, m.count, func(_ int64, v []byte) bool {
		writeLen(h, v)
		return true
	})
}
