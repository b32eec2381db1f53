package engine

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"
	"strings"
)

// Sorted sets.
//
// Encoding: metadata count = number of members; two indexes under the
// collection's prefix P,
//
//	P + 'm' + xxhash64(member) + member   ->  score (8 bytes, IEEE bits)
//	P + 's' + sortable(score) + member    ->  score (8 bytes, IEEE bits)
//
// sortable(score) is the IEEE-754 bits with the sign bit flipped for
// positives and every bit flipped for negatives, so byte order is numeric
// order (-inf < ... < -1 < 0 < 1 < ... < +inf); -0 is encoded as +0 so the
// two sort together, ties broken by member bytes as in Redis. A score of
// -0 is stored as 0, as Redis 7.0 does for sorted sets small enough for a
// listpack (the usual case); ZINCRBY/ZADD INCR still reply the computed
// value ("-0") as Redis does.
//
// Complexity: ZSCORE/ZADD/ZREM/ZINCRBY are point operations, ZCARD reads
// the metadata; ZRANGE by score or lex seeks to its start, O(log N + M);
// ZRANGE by rank and ZRANK/ZREVRANK walk the score index from the nearer
// end, O(rank) (Redis's skiplist is O(log N): there is no rank index);
// ZCOUNT/ZLEXCOUNT are O(log N + M) in the counted range. ZSCAN's cursor is
// a hash position in the member index; ZRANDMEMBER seeks random hash
// positions. Lex ranges assume equal scores, as Redis documents; when all
// scores are equal the range is a seek, otherwise the set is filtered.

func init() {
	z := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "sorted-set", Summary: summary}, run}
	}
	// nk: numkeys keys at numkeysAt, after the destination if there is one.
	nk := func(name string, arity int, flags Flags, numkeysAt int, summary string, run func(*ctx, [][]byte)) *Command {
		spec := Spec{Name: name, Arity: arity, Flags: flags, NumKeysAt: numkeysAt, Group: "sorted-set", Summary: summary}
		if numkeysAt == 2 {
			spec.FirstKey, spec.LastKey, spec.Step = 1, 1, 1
		}
		return &Command{spec, run}
	}
	register(
		z("zadd", -4, Write|DenyOOM|Fast, "Add one or more members to a sorted set, or update its score if it already exists", cmdZAdd),
		z("zincrby", 4, Write|DenyOOM|Fast, "Increment the score of a member in a sorted set", cmdZIncrBy),
		z("zrem", -3, Write|Fast, "Remove one or more members from a sorted set", cmdZRem),
		z("zcard", 2, ReadOnly|Fast, "Get the number of members in a sorted set", cmdCollLen(typeZSet)),
		z("zcount", 4, ReadOnly|Fast, "Count the members in a sorted set with scores within the given values", cmdZCount),
		z("zlexcount", 4, ReadOnly|Fast, "Count the number of members in a sorted set between a given lexicographical range", cmdZCount),
		z("zscore", 3, ReadOnly|Fast, "Get the score associated with the given member in a sorted set", cmdZScore),
		z("zmscore", -3, ReadOnly|Fast, "Get the score associated with the given members in a sorted set", cmdZMScore),
		z("zrank", 3, ReadOnly|Fast, "Determine the index of a member in a sorted set", cmdZRank),
		z("zrevrank", 3, ReadOnly|Fast, "Determine the index of a member in a sorted set, with scores ordered from high to low", cmdZRank),
		z("zrange", -4, ReadOnly, "Return a range of members in a sorted set", cmdZRange),
		z("zrangebyscore", -4, ReadOnly, "Return a range of members in a sorted set, by score", cmdZRange),
		z("zrevrangebyscore", -4, ReadOnly, "Return a range of members in a sorted set, by score, with scores ordered from high to low", cmdZRange),
		z("zrangebylex", -4, ReadOnly, "Return a range of members in a sorted set, by lexicographical range", cmdZRange),
		z("zrevrangebylex", -4, ReadOnly, "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", cmdZRange),
		z("zrevrange", -4, ReadOnly, "Return a range of members in a sorted set, by index, with scores ordered from high to low", cmdZRange),
		&Command{Spec{Name: "zrangestore", Arity: -5, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Group: "sorted-set", Summary: "Store a range of members from sorted set into another key"}, cmdZRange},
		z("zpopmin", -2, Write|Fast, "Remove and return members with the lowest scores in a sorted set", cmdZPop),
		z("zpopmax", -2, Write|Fast, "Remove and return members with the highest scores in a sorted set", cmdZPop),
		&Command{Spec{Name: "bzpopmin", Arity: -3, Flags: Write | Fast | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Group: "sorted-set", Summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available"}, cmdBZPop},
		&Command{Spec{Name: "bzpopmax", Arity: -3, Flags: Write | Fast | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Group: "sorted-set", Summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available"}, cmdBZPop},
		z("zremrangebyrank", 4, Write, "Remove all members in a sorted set within the given indexes", cmdZRemRange),
		z("zremrangebyscore", 4, Write, "Remove all members in a sorted set within the given scores", cmdZRemRange),
		z("zremrangebylex", 4, Write, "Remove all members in a sorted set between the given lexicographical range", cmdZRemRange),
		nk("zunionstore", -4, Write|DenyOOM, 2, "Add multiple sorted sets and store the resulting sorted set in a new key", cmdZSetOp),
		nk("zinterstore", -4, Write|DenyOOM, 2, "Intersect multiple sorted sets and store the resulting sorted set in a new key", cmdZSetOp),
		nk("zdiffstore", -4, Write|DenyOOM, 2, "Subtract multiple sorted sets and store the resulting sorted set in a new key", cmdZSetOp),
		nk("zunion", -3, ReadOnly, 1, "Add multiple sorted sets", cmdZSetOp),
		nk("zinter", -3, ReadOnly, 1, "Intersect multiple sorted sets", cmdZSetOp),
		nk("zdiff", -3, ReadOnly, 1, "Subtract multiple sorted sets", cmdZSetOp),
		&Command{Spec{Name: "zmpop", Arity: -4, Flags: Write, NumKeysAt: 1, Group: "sorted-set", Summary: "Remove and return members with scores in a sorted set"}, cmdZMPop},
		&Command{Spec{Name: "bzmpop", Arity: -5, Flags: Write | Blocking, NumKeysAt: 2, Group: "sorted-set", Summary: "Remove and return members with scores in a sorted set or block until one is available"}, cmdZMPop},
		nk("zintercard", -3, ReadOnly, 1, "Intersect multiple sorted sets and return the cardinality of the result", cmdZSetOp),
		z("zrandmember", -2, ReadOnly, "Get one or multiple random elements from a sorted set", cmdZRandMember),
		z("zscan", -3, ReadOnly, "Incrementally iterate sorted sets elements and associated scores", cmdScanColl(typeZSet, func(c *ctx, m *meta) []byte { return c.openZSet(*m).mp }, func(m, v []byte) [][]byte {
			return [][]byte{clone(m), []byte(formatScore(decScore(v)))}
		})),
	)
}

// sortableScore maps a score to 8 bytes whose order is numeric order.
func sortableScore(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 sorts with +0
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func zMemberPrefix(p []byte) []byte { return append(append(make([]byte, 0, len(p)+1), p...), 'm') }
func zScorePrefix(p []byte) []byte  { return append(append(make([]byte, 0, len(p)+1), p...), 's') }

func zScoreKey(sp []byte, score float64, member []byte) []byte {
	k := make([]byte, 0, len(sp)+8+len(member))
	k = append(k, sp...)
	k = binary.BigEndian.AppendUint64(k, sortableScore(score))
	return append(k, member...)
}

func encScore(f float64) []byte { return binary.BigEndian.AppendUint64(nil, math.Float64bits(f)) }
func decScore(b []byte) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b)) }

// zset is an open sorted set: its metadata and key prefixes.
type zset struct {
	m  meta
	mp []byte // member index prefix
	sp []byte // score index prefix
}

func (c *ctx) openZSet(m meta) *zset {
	p := elemPrefix(nil, c.phys, m.version)
	return &zset{m: m, mp: zMemberPrefix(p), sp: zScorePrefix(p)}
}

func (c *ctx) zscore(z *zset, member []byte) (float64, bool) {
	v, ok := c.get(hashedElem(z.mp, member))
	if !ok || len(v) != 8 {
		return 0, false
	}
	return decScore(v), true
}

// zput sets member's score; old is its current score when had.
func (c *ctx) zput(z *zset, member []byte, score float64, old float64, had bool) {
	if had {
		c.del(zScoreKey(z.sp, old, member))
	} else {
		z.m.count++
	}
	if score == 0 {
		score = 0 // -0 is stored as 0, as Redis's listpack does
	}
	sv := encScore(score)
	c.set(hashedElem(z.mp, member), sv)
	c.set(zScoreKey(z.sp, score, member), sv)
}

func (c *ctx) zdel(z *zset, member []byte, score float64) {
	c.del(hashedElem(z.mp, member))
	c.del(zScoreKey(z.sp, score, member))
	z.m.count--
}

// lookupZSet opens key as a sorted set.
func (c *ctx) lookupZSet(key []byte) (z *zset, ok, wrong bool) {
	m, ok, wrong := c.lookupColl(key, typeZSet)
	if !ok || wrong {
		return nil, ok, wrong
	}
	return c.openZSet(m), true, false
}

// replyScore replies with a score: a double in RESP3, a bulk string in
// RESP2, as Redis's addReplyDouble.
func (c *ctx) replyScore(f float64) { c.replyDouble(f) }

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
func cmdZAdd(c *ctx, args [][]byte) {
	var nx, xx, gt, lt, ch, incr bool
	i := 2
flags:
	for ; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "nx":
			nx = true
		case "xx":
			xx = true
		case "gt":
			gt = true
		case "lt":
			lt = true
		case "ch":
			ch = true
		case "incr":
			incr = true
		default:
			break flags
		}
	}
	elems := len(args) - i
	if elems == 0 || elems%2 != 0 {
		c.replyError(errSyntax)
		return
	}
	switch {
	case nx && xx:
		c.replyError("ERR XX and NX options at the same time are not compatible")
		return
	case (gt && nx) || (lt && nx) || (gt && lt):
		c.replyError("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	case incr && elems > 2:
		c.replyError("ERR INCR option supports a single increment-element pair")
		return
	}
	scores := make([]float64, elems/2)
	for j := range scores {
		f, err := parseFloat(args[i+2*j])
		if err != nil {
			c.replyError(errNotFloat)
			return
		}
		scores[j] = f
	}
	key := args[1]
	m, exists, wrong := c.lookupColl(key, typeZSet)
	if wrong {
		return
	}
	if !exists {
		if xx {
			if incr {
				c.replyNull()
			} else {
				c.replyInt(0)
			}
			return
		}
		m = c.newColl(typeZSet)
	}
	z := c.openZSet(m)
	var added, updated int64
	var result float64
	nop, changed := false, false
	for j, score := range scores {
		member := args[i+2*j+1]
		cur, had := c.zscore(z, member)
		if (nx && had) || (xx && !had) {
			nop = true
			continue
		}
		if had {
			if incr {
				score += cur
				if math.IsNaN(score) {
					c.replyError("ERR resulting score is not a number (NaN)")
					return
				}
			}
			if (gt && score <= cur) || (lt && score >= cur) {
				nop = true
				continue
			}
			result = score
			if score != cur { // -0 == 0: no update, as Redis
				c.zput(z, member, score, cur, true)
				changed = true
				updated++
			}
			continue
		}
		result = score
		c.zput(z, member, score, 0, false)
		added++
		changed = true
	}
	if changed {
		c.saveColl(key, &z.m, exists)
		if incr {
			c.notify(NotifyZSet, "zincr", key)
		} else {
			c.notify(NotifyZSet, "zadd", key)
		}
		c.emit(args...)
	}
	switch {
	case incr && nop:
		c.replyNull()
	case incr:
		c.replyScore(result)
	case ch:
		c.replyInt(added + updated)
	default:
		c.replyInt(added)
	}
}

// ZINCRBY key increment member
func cmdZIncrBy(c *ctx, args [][]byte) {
	incr, err := parseFloat(args[2])
	if err != nil {
		c.replyError(errNotFloat)
		return
	}
	key, member := args[1], args[3]
	m, exists, wrong := c.lookupColl(key, typeZSet)
	if wrong {
		return
	}
	if !exists {
		m = c.newColl(typeZSet)
	}
	z := c.openZSet(m)
	cur, had := c.zscore(z, member)
	score := incr
	if had {
		score = cur + incr
	}
	if math.IsNaN(score) {
		c.replyError("ERR resulting score is not a number (NaN)")
		return
	}
	if had && score == cur { // as ZADD INCR: no change, no write, no event
		c.replyScore(score)
		return
	}
	c.zput(z, member, score, cur, had)
	c.saveColl(key, &z.m, exists)
	c.notify(NotifyZSet, "zincr", key)
	c.emit(args...)
	c.replyScore(score)
}

func cmdZRem(c *ctx, args [][]byte) {
	key := args[1]
	z, ok, wrong := c.lookupZSet(key)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	removed := [][]byte{bs("ZREM"), key}
	for _, mem := range args[2:] {
		if s, had := c.zscore(z, mem); had {
			c.zdel(z, mem, s)
			removed = append(removed, mem)
		}
	}
	n := int64(len(removed) - 2)
	if n > 0 {
		c.saveColl(key, &z.m, true)
		c.notifyColl(NotifyZSet, "zrem", key, &z.m)
		c.emit(removed...)
	}
	c.replyInt(n)
}

func cmdZScore(c *ctx, args [][]byte) {
	z, ok, wrong := c.lookupZSet(args[1])
	switch {
	case wrong:
	case !ok:
		c.replyNull()
	default:
		if s, had := c.zscore(z, args[2]); had {
			c.replyScore(s)
		} else {
			c.replyNull()
		}
	}
}

func cmdZMScore(c *ctx, args [][]byte) {
	z, ok, wrong := c.lookupZSet(args[1])
	if wrong {
		return
	}
	c.replyArray(len(args) - 2)
	for _, mem := range args[2:] {
		if !ok {
			c.replyNull()
			continue
		}
		if s, had := c.zscore(z, mem); had {
			c.replyScore(s)
		} else {
			c.replyNull()
		}
	}
}

// ZRANK / ZREVRANK key member: O(rank) from the nearer end.
func cmdZRank(c *ctx, args [][]byte) {
	z, ok, wrong := c.lookupZSet(args[1])
	if wrong {
		return
	}
	if !ok {
		c.replyNull()
		return
	}
	s, had := c.zscore(z, args[2])
	if !had {
		c.replyNull()
		return
	}
	rank := c.zrankOf(z, s, args[2])
	if strings.EqualFold(string(args[0]), "zrevrank") {
		rank = z.m.count - 1 - rank
	}
	c.replyInt(rank)
}

// zrankOf counts the members before (score, member), walking from both
// ends at once so the cost is O(min(rank, N-rank)).
func (c *ctx) zrankOf(z *zset, score float64, member []byte) int64 {
	k := zScoreKey(z.sp, score, member)
	fwd := c.iter(z.sp, k) // exactly rank elements
	defer fwd.Close()
	bwd := c.iter(k, prefixEnd(z.sp)) // exactly N-rank elements
	defer bwd.Close()
	okF, okB := fwd.First(), bwd.Last()
	var nf, nb int64
	for {
		if !okF {
			return nf
		}
		if !okB {
			return z.m.count - nb
		}
		nf++
		okF = fwd.Next()
		nb++
		okB = bwd.Prev()
	}
}

// scoreBound is one end of a score range.
type scoreBound struct {
	v  float64
	ex bool
}

// parseScoreBound parses "(1.5", "-inf", "3" the way zslParseRange does
// (strtod: leading spaces allowed, NaN refused).
func parseScoreBound(b []byte) (scoreBound, bool) {
	var sb scoreBound
	if len(b) > 0 && b[0] == '(' {
		sb.ex = true
		b = b[1:]
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" {
		return sb, false
	}
	f, err := parseFloat([]byte(s))
	if err != nil {
		return sb, false
	}
	sb.v = f
	return sb, true
}

// lexBound is one end of a lex range: inf -1 for "-", +1 for "+".
type lexBound struct {
	v   []byte
	ex  bool
	inf int
}

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+':
		if len(b) == 1 {
			return lexBound{inf: 1}, true
		}
	case '-':
		if len(b) == 1 {
			return lexBound{inf: -1}, true
		}
	case '(':
		return lexBound{v: b[1:], ex: true}, true
	case '[':
		return lexBound{v: b[1:]}, true
	}
	return lexBound{}, false
}

func (lb lexBound) gteMin(s []byte) bool {
	switch lb.inf {
	case -1:
		return true
	case 1:
		return false
	}
	cmp := bytes.Compare(s, lb.v)
	return cmp > 0 || (cmp == 0 && !lb.ex)
}

func (lb lexBound) lteMax(s []byte) bool {
	switch lb.inf {
	case 1:
		return true
	case -1:
		return false
	}
	cmp := bytes.Compare(s, lb.v)
	return cmp < 0 || (cmp == 0 && !lb.ex)
}

// zrange describes one range query.
type zrange struct {
	kind       byte // 'r' rank, 's' score, 'l' lex
	rev        bool
	start, end int64 // rank
	min, max   scoreBound
	lmin, lmax lexBound
	offset     int64
	limit      int64 // -1: all
}

func (r *zrange) scoreEmpty() bool {
	return r.min.v > r.max.v || (r.min.v == r.max.v && (r.min.ex || r.max.ex))
}

func (r *zrange) inScore(f float64) bool {
	lo := f > r.min.v || (f == r.min.v && !r.min.ex)
	hi := f < r.max.v || (f == r.max.v && !r.max.ex)
	return lo && hi
}

// zwalk calls fn for each member of r in order, after the offset and up
// to the limit; fn returns false to stop.
func (c *ctx) zwalk(z *zset, r *zrange, fn func(member []byte, score float64) bool) {
	n := z.m.count
	skip, limit := r.offset, r.limit
	if r.kind == 'r' {
		from, to, ok := clampRange(r.start, r.end, n)
		if !ok {
			return
		}
		skip, limit = from, to-from
	}
	if skip < 0 {
		return
	}
	if limit < 0 {
		limit = math.MaxInt64
	}
	if limit == 0 {
		return
	}
	lower, upper := z.sp, prefixEnd(z.sp)
	var filter func(member []byte, score float64) (in, past bool)
	switch r.kind {
	case 's':
		if r.scoreEmpty() {
			return
		}
		lower = binary.BigEndian.AppendUint64(append([]byte(nil), z.sp...), sortableScore(r.min.v))
		if u := sortableScore(r.max.v); u != math.MaxUint64 {
			upper = binary.BigEndian.AppendUint64(append([]byte(nil), z.sp...), u+1)
		}
		filter = func(_ []byte, s float64) (bool, bool) { return r.inScore(s), false }
	case 'l':
		if r.lmin.inf == 1 || r.lmax.inf == -1 {
			return
		}
		if r.lmin.inf == 0 && r.lmax.inf == 0 {
			cmp := bytes.Compare(r.lmin.v, r.lmax.v)
			if cmp > 0 || (cmp == 0 && (r.lmin.ex || r.lmax.ex)) {
				return
			}
		}
		if s0, s1, ok := c.zends(z); ok && sortableScore(s0) == sortableScore(s1) {
			// All scores equal: the lex range is a contiguous run.
			base := binary.BigEndian.AppendUint64(append([]byte(nil), z.sp...), sortableScore(s0))
			if r.lmin.inf == 0 {
				lower = append(append([]byte(nil), base...), r.lmin.v...)
			}
			if r.lmax.inf == 0 {
				upper = prefixEnd(append(append([]byte(nil), base...), r.lmax.v...))
			}
		}
		filter = func(m []byte, _ float64) (bool, bool) {
			return r.lmin.gteMin(m) && r.lmax.lteMax(m), false
		}
	}
	it := c.iter(lower, upper)
	defer it.Close()
	var ok bool
	if r.rev {
		ok = it.Last()
	} else {
		ok = it.First()
	}
	for ; ok; ok = advance(it, r.rev) {
		member := it.Key()[len(z.sp)+8:]
		score := decScore(it.Value())
		if filter != nil {
			if in, _ := filter(member, score); !in {
				continue
			}
		}
		if skip > 0 {
			skip--
			continue
		}
		if !fn(member, score) {
			return
		}
		limit--
		if limit == 0 {
			return
		}
	}
}

type stepper interface {
	Next() bool
	Prev() bool
}

func advance(it stepper, rev bool) bool {
	if rev {
		return it.Prev()
	}
	return it.Next()
}

// zends returns the lowest and highest scores.
func (c *ctx) zends(z *zset) (lo, hi float64, ok bool) {
	it := c.iter(z.sp, prefixEnd(z.sp))
	defer it.Close()
	if !it.First() {
		return 0, 0, false
	}
	lo = decScore(it.Value())
	it.Last()
	return lo, decScore(it.Value()), true
}

// ZRANGE and every legacy range form, and ZRANGESTORE.
func cmdZRange(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	store := name == "zrangestore"
	base := 1
	if store {
		base = 2
	}
	r := zrange{kind: 0, limit: -1}
	auto := false
	switch name {
	case "zrange", "zrangestore":
		auto = true
	case "zrangebyscore":
		r.kind = 's'
	case "zrevrangebyscore":
		r.kind, r.rev = 's', true
	case "zrangebylex":
		r.kind = 'l'
	case "zrevrangebylex":
		r.kind, r.rev = 'l', true
	case "zrevrange":
		r.kind, r.rev = 'r', true
	}
	withScores, limitSet, revSet := false, false, r.rev
	for j := base + 3; j < len(args); j++ {
		opt := strings.ToLower(string(args[j]))
		left := len(args) - j - 1
		switch {
		case !store && opt == "withscores":
			withScores = true
		case opt == "limit" && left >= 2:
			o, err1 := parseInt(args[j+1])
			l, err2 := parseInt(args[j+2])
			if err1 != nil || err2 != nil {
				c.replyError(errNotInt)
				return
			}
			r.offset, r.limit, limitSet = o, l, true
			j += 2
		case auto && !revSet && opt == "rev":
			r.rev, revSet = true, true
		case auto && r.kind == 0 && opt == "bylex":
			r.kind = 'l'
		case auto && r.kind == 0 && opt == "byscore":
			r.kind = 's'
		default:
			c.replyError(errSyntax)
			return
		}
	}
	if r.kind == 0 {
		r.kind = 'r'
	}
	if limitSet && r.limit != -1 && r.kind == 'r' {
		c.replyError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && r.kind == 'l' {
		c.replyError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	a1, a2 := args[base+1], args[base+2]
	if r.rev && r.kind != 'r' {
		a1, a2 = a2, a1
	}
	switch r.kind {
	case 'r':
		s, err1 := parseInt(a1)
		e, err2 := parseInt(a2)
		if err1 != nil || err2 != nil {
			c.replyError(errNotInt)
			return
		}
		r.start, r.end = s, e
	case 's':
		mn, ok1 := parseScoreBound(a1)
		mx, ok2 := parseScoreBound(a2)
		if !ok1 || !ok2 {
			c.replyError("ERR min or max is not a float")
			return
		}
		r.min, r.max = mn, mx
	case 'l':
		mn, ok1 := parseLexBound(a1)
		mx, ok2 := parseLexBound(a2)
		if !ok1 || !ok2 {
			c.replyError("ERR min or max not valid string range item")
			return
		}
		r.lmin, r.lmax = mn, mx
	}
	z, ok, wrong := c.lookupZSet(args[base])
	if wrong {
		return
	}
	if store {
		var members [][]byte
		var scores []float64
		if ok {
			c.zrangeCollect(z, &r, func(m []byte, s float64) {
				members = append(members, clone(m))
				scores = append(scores, s)
			})
		}
		c.notifyStore(NotifyZSet, name, args[1], len(members), c.storeZSet(args[1], members, scores))
		c.emit(args...)
		c.replyInt(int64(len(members)))
		return
	}
	if !ok {
		c.replyArray(0)
		return
	}
	var members [][]byte
	var scores []float64
	c.zrangeCollect(z, &r, func(m []byte, s float64) {
		members = append(members, clone(m))
		scores = append(scores, s)
	})
	c.replyMembers(members, scores, withScores)
}

// zrangeCollect runs r over every member it selects. A reverse rank
// range counts ranks from the high end, which zwalk does by skipping from
// the last element.
func (c *ctx) zrangeCollect(z *zset, r *zrange, fn func(m []byte, s float64)) {
	c.zwalk(z, r, func(m []byte, s float64) bool {
		fn(m, s)
		return true
	})
}

// replyMembers replies with members, and their scores when withScores:
// a flat array in RESP2, an array of [member, score] pairs in RESP3, as
// Redis's range, set-operation and random replies.
func (c *ctx) replyMembers(members [][]byte, scores []float64, withScores bool) {
	c.replyScored(members, scores, withScores, c.resp3)
}

// replyScored is replyMembers with the pairs nested or not.
func (c *ctx) replyScored(members [][]byte, scores []float64, withScores, nested bool) {
	switch {
	case withScores && !nested:
		c.replyArray(2 * len(members))
	default:
		c.replyArray(len(members))
	}
	for i, m := range members {
		if withScores && nested {
			c.replyArray(2)
		}
		c.replyBulk(m)
		if withScores {
			c.replyScore(scores[i])
		}
	}
}

// storeZSet replaces key with a sorted set (deleted when empty); it says
// whether key existed.
func (c *ctx) storeZSet(key []byte, members [][]byte, scores []float64) bool {
	var old meta
	var exists bool
	c.writing(func() { old, exists = c.lookup(key) })
	if len(members) == 0 {
		if exists {
			c.deleteKey(key, &old)
		}
		return exists
	}
	m := c.newZSet(members, scores)
	var oldp *meta
	if exists {
		oldp = &old
	}
	c.putMetaStored(key, oldp, &m)
	return exists
}

// newZSet writes a new sorted set's elements (distinct members) and
// returns its metadata, not yet stored.
func (c *ctx) newZSet(members [][]byte, scores []float64) meta {
	z := c.openZSet(c.newColl(typeZSet))
	for i, m := range members {
		c.zput(z, m, scores[i], 0, false)
	}
	return z.m
}

// ZCOUNT key min max / ZLEXCOUNT key min max
func cmdZCount(c *ctx, args [][]byte) {
	r := zrange{limit: -1}
	if strings.EqualFold(string(args[0]), "zcount") {
		mn, ok1 := parseScoreBound(args[2])
		mx, ok2 := parseScoreBound(args[3])
		if !ok1 || !ok2 {
			c.replyError("ERR min or max is not a float")
			return
		}
		r.kind, r.min, r.max = 's', mn, mx
	} else {
		mn, ok1 := parseLexBound(args[2])
		mx, ok2 := parseLexBound(args[3])
		if !ok1 || !ok2 {
			c.replyError("ERR min or max not valid string range item")
			return
		}
		r.kind, r.lmin, r.lmax = 'l', mn, mx
	}
	z, ok, wrong := c.lookupZSet(args[1])
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	var n int64
	c.zwalk(z, &r, func([]byte, float64) bool { n++; return true })
	c.replyInt(n)
}

// ZPOPMIN / ZPOPMAX key [count]
func cmdZPop(c *ctx, args [][]byte) {
	if len(args) > 3 {
		c.replyError(errSyntax)
		return
	}
	count, ok := c.popCount(args, 1)
	if !ok {
		return
	}
	key := args[1]
	z, ok, wrong := c.lookupZSet(key)
	if wrong {
		return
	}
	if !ok || count == 0 {
		c.replyArray(0)
		return
	}
	max := strings.EqualFold(string(args[0]), "zpopmax")
	members, scores := c.zpop(z, max, count)
	c.saveColl(key, &z.m, true)
	c.notifyColl(NotifyZSet, zpopEvent(max), key, &z.m)
	c.emit(args...)
	// RESP3 nests the pairs when a count is given; a single pop is one
	// flat pair, as in RESP2.
	c.replyScored(members, scores, true, c.resp3 && len(args) == 3)
}

// zpop removes up to n members from the low (or high) end.
func (c *ctx) zpop(z *zset, max bool, n int64) ([][]byte, []float64) {
	var members [][]byte
	var scores []float64
	r := zrange{kind: 's', rev: max, min: scoreBound{v: math.Inf(-1)}, max: scoreBound{v: math.Inf(1)}, limit: n}
	c.zwalk(z, &r, func(m []byte, s float64) bool {
		members = append(members, clone(m))
		scores = append(scores, s)
		return true
	})
	for i, m := range members {
		c.zdel(z, m, scores[i])
	}
	return members, scores
}

// BZPOPMIN / BZPOPMAX key [key ...] timeout, non-blocking form; the
// effect is a plain ZPOPMIN/ZPOPMAX of one member.
func cmdBZPop(c *ctx, args [][]byte) {
	if _, err := ParseBlockTimeout(args[len(args)-1]); err != nil {
		c.replyError(err.Error())
		return
	}
	max := strings.EqualFold(string(args[0]), "bzpopmax")
	for _, key := range args[1 : len(args)-1] {
		z, ok, wrong := c.lookupZSet(key)
		if wrong {
			return
		}
		if !ok {
			continue
		}
		members, scores := c.zpop(z, max, 1)
		c.saveColl(key, &z.m, true)
		c.notifyColl(NotifyZSet, zpopEvent(max), key, &z.m)
		if max {
			c.emit(bs("ZPOPMAX"), key)
		} else {
			c.emit(bs("ZPOPMIN"), key)
		}
		c.replyArray(3)
		c.replyBulk(key)
		c.replyBulk(members[0])
		c.replyScore(scores[0])
		return
	}
	c.replyNullArray()
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count], and BZMPOP's
// non-blocking form: pops up to count members from the first non-empty
// sorted set, replying [key, [[member, score], ...]]. The effect is a
// plain ZPOPMIN/ZPOPMAX of what was popped.
func cmdZMPop(c *ctx, args [][]byte) {
	keys, min, count, ok := c.mpopArgs(args, [2]string{"min", "max"})
	if !ok {
		return
	}
	for _, key := range keys {
		z, ok, wrong := c.lookupZSet(key)
		if wrong {
			return
		}
		if !ok {
			continue
		}
		members, scores := c.zpop(z, !min, count)
		c.saveColl(key, &z.m, true)
		c.notifyColl(NotifyZSet, zpopEvent(!min), key, &z.m)
		pop := "ZPOPMAX"
		if min {
			pop = "ZPOPMIN"
		}
		c.mpopped(pop, key, len(members))
		for i, m := range members {
			c.replyArray(2)
			c.replyBulk(m)
			c.replyScore(scores[i])
		}
		return
	}
	c.replyNullArray()
}

// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX key a b
func cmdZRemRange(c *ctx, args [][]byte) {
	r := zrange{limit: -1}
	switch strings.ToLower(string(args[0])) {
	case "zremrangebyrank":
		s, err1 := parseInt(args[2])
		e, err2 := parseInt(args[3])
		if err1 != nil || err2 != nil {
			c.replyError(errNotInt)
			return
		}
		r.kind, r.start, r.end = 'r', s, e
	case "zremrangebyscore":
		mn, ok1 := parseScoreBound(args[2])
		mx, ok2 := parseScoreBound(args[3])
		if !ok1 || !ok2 {
			c.replyError("ERR min or max is not a float")
			return
		}
		r.kind, r.min, r.max = 's', mn, mx
	default:
		mn, ok1 := parseLexBound(args[2])
		mx, ok2 := parseLexBound(args[3])
		if !ok1 || !ok2 {
			c.replyError("ERR min or max not valid string range item")
			return
		}
		r.kind, r.lmin, r.lmax = 'l', mn, mx
	}
	key := args[1]
	z, ok, wrong := c.lookupZSet(key)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	var members [][]byte
	var scores []float64
	c.zwalk(z, &r, func(m []byte, s float64) bool {
		members = append(members, clone(m))
		scores = append(scores, s)
		return true
	})
	for i, m := range members {
		c.zdel(z, m, scores[i])
	}
	if len(members) > 0 {
		c.saveColl(key, &z.m, true)
		c.notifyColl(NotifyZSet, strings.ToLower(string(args[0])), key, &z.m)
		c.emit(args...)
	}
	c.replyInt(int64(len(members)))
}

// zsource is one input of ZUNION/ZINTER/ZDIFF: a sorted set, a set
// (every score 1), or nothing.
type zsource struct {
	z      *zset
	set    *meta
	weight float64
	count  int64
}

func (c *ctx) zsourceScore(s *zsource, member []byte) (float64, bool) {
	switch {
	case s.z != nil:
		return c.zscore(s.z, member)
	case s.set != nil:
		if c.setHas(s.set, member) {
			return 1, true
		}
	}
	return 0, false
}

func (c *ctx) zsourceEach(s *zsource, fn func(member []byte, score float64)) {
	switch {
	case s.z != nil:
		it := c.iter(s.z.sp, prefixEnd(s.z.sp))
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			fn(it.Key()[len(s.z.sp)+8:], decScore(it.Value()))
		}
	case s.set != nil:
		c.forEachHashed(s.set, func(m, _ []byte) bool {
			fn(m, 1)
			return true
		})
	}
}

func aggregate(agg string, acc, v float64) float64 {
	switch agg {
	// Redis keeps the score it has unless the new one is strictly
	// smaller (larger): with weights of opposite signs a 0 meets a -0,
	// and which one stays shows in the reply.
	case "min":
		if v < acc {
			return v
		}
		return acc
	case "max":
		if v > acc {
			return v
		}
		return acc
	}
	r := acc + v
	if math.IsNaN(r) {
		return 0
	}
	return r
}

func weighted(score, w float64) float64 {
	r := score * w
	if math.IsNaN(r) {
		return 0
	}
	return r
}

// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE dst numkeys key ... and ZUNION/
// ZINTER/ZDIFF/ZINTERCARD numkeys key ...
func cmdZSetOp(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	store := strings.HasSuffix(name, "store")
	op := strings.TrimSuffix(strings.TrimPrefix(name, "z"), "store")
	ni := 1
	if store {
		ni = 2
	}
	n, err := parseInt(args[ni])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if n < 1 {
		c.replyError("ERR at least 1 input key is needed for '" + name + "' command")
		return
	}
	if n > int64(len(args)-ni-1) {
		c.replyError(errSyntax)
		return
	}
	keys := args[ni+1 : ni+1+int(n)]
	srcs := make([]zsource, len(keys))
	for i := range srcs {
		srcs[i].weight = 1
	}
	for i, k := range keys {
		m, ok := c.lookup(k)
		if !ok {
			continue
		}
		switch m.typ {
		case typeZSet:
			srcs[i].z = c.openZSet(m)
		case typeSet:
			mm := m
			srcs[i].set = &mm
		default:
			c.replyWrongType()
			return
		}
		srcs[i].count = m.count
	}
	agg, withScores, limit := "sum", false, int64(0)
	rest := args[ni+1+int(n):]
	for j := 0; j < len(rest); j++ {
		opt := strings.ToLower(string(rest[j]))
		left := len(rest) - j - 1
		switch {
		case op == "intercard" && opt == "limit" && left >= 1:
			l, err := parseInt(rest[j+1])
			if err != nil || l < 0 {
				c.replyError("ERR LIMIT can't be negative")
				return
			}
			limit = l
			j++
		case op != "diff" && op != "intercard" && opt == "weights" && left >= len(keys):
			for i := range keys {
				w, err := parseFloat(rest[j+1+i])
				if err != nil {
					c.replyError("ERR weight value is not a float")
					return
				}
				srcs[i].weight = w
			}
			j += len(keys)
		case op != "diff" && op != "intercard" && opt == "aggregate" && left >= 1:
			agg = strings.ToLower(string(rest[j+1]))
			if agg != "sum" && agg != "min" && agg != "max" {
				c.replyError(errSyntax)
				return
			}
			j++
		case !store && op != "intercard" && opt == "withscores":
			withScores = true
		default:
			c.replyError(errSyntax)
			return
		}
	}
	result := map[string]float64{}
	var order [][]byte
	switch op {
	case "union":
		sorted := append([]zsource(nil), srcs...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].count < sorted[j].count })
		for i := range sorted {
			s := &sorted[i]
			c.zsourceEach(s, func(m []byte, sc float64) {
				v := weighted(sc, s.weight)
				if acc, ok := result[string(m)]; ok {
					result[string(m)] = aggregate(agg, acc, v)
				} else {
					result[string(m)] = v
					order = append(order, clone(m))
				}
			})
		}
	case "inter", "intercard":
		sorted := append([]zsource(nil), srcs...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].count < sorted[j].count })
		if sorted[0].count > 0 {
			c.zsourceEach(&sorted[0], func(m []byte, sc float64) {
				if op == "intercard" && limit > 0 && int64(len(order)) >= limit {
					return
				}
				acc := weighted(sc, sorted[0].weight)
				for i := 1; i < len(sorted); i++ {
					o, ok := c.zsourceScore(&sorted[i], m)
					if !ok {
						return
					}
					acc = aggregate(agg, acc, weighted(o, sorted[i].weight))
				}
				result[string(m)] = acc
				order = append(order, clone(m))
			})
		}
	case "diff":
		c.zsourceEach(&srcs[0], func(m []byte, sc float64) {
			for i := 1; i < len(srcs); i++ {
				if _, ok := c.zsourceScore(&srcs[i], m); ok {
					return
				}
			}
			result[string(m)] = sc
			order = append(order, clone(m))
		})
	}
	if op == "intercard" {
		c.replyInt(int64(len(order)))
		return
	}
	scores := make([]float64, len(order))
	for i, m := range order {
		scores[i] = result[string(m)]
	}
	idx := make([]int, len(order))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		sa, sb := scores[idx[a]], scores[idx[b]]
		if sa != sb {
			return sa < sb
		}
		return bytes.Compare(order[idx[a]], order[idx[b]]) < 0
	})
	members := make([][]byte, len(idx))
	sc := make([]float64, len(idx))
	for i, j := range idx {
		members[i], sc[i] = order[j], scores[j]
	}
	if store {
		c.notifyStore(NotifyZSet, name, args[1], len(members), c.storeZSet(args[1], members, sc))
		c.emit(args...)
		c.replyInt(int64(len(members)))
		return
	}
	c.replyMembers(members, sc, withScores)
}

// ZRANDMEMBER key [count [WITHSCORES]]
func cmdZRandMember(c *ctx, args [][]byte) {
	if len(args) == 2 {
		z, ok, wrong := c.lookupZSet(args[1])
		switch {
		case wrong:
		case !ok:
			c.replyNull()
		default:
			c.replyBulk(c.zrandom(z, 1)[0][0])
		}
		return
	}
	count, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	withScores := false
	if len(args) == 4 {
		if !strings.EqualFold(string(args[3]), "withscores") {
			c.replyError(errSyntax)
			return
		}
		withScores = true
	} else if len(args) > 4 {
		c.replyError(errSyntax)
		return
	}
	if count < -math.MaxInt64/2 || (withScores && count < -math.MaxInt64/4) {
		c.replyError("ERR value is out of range")
		return
	}
	z, ok, wrong := c.lookupZSet(args[1])
	if wrong {
		return
	}
	if !ok || count == 0 {
		c.replyArray(0)
		return
	}
	per := 1
	if withScores {
		per = 2
	}
	var els [][2][]byte
	n := count
	if count > 0 {
		els = c.zrandom(z, min(count, z.m.count))
	} else {
		n = -count
		pool := c.zrandom(z, min(n, z.m.count, 1024))
		for i := int64(0); i < n; i++ {
			els = append(els, pool[int(i)%len(pool)])
		}
	}
	if c.resp3 {
		per = 1 // RESP3 nests [member, score] pairs
	}
	c.replyArray(len(els) * per)
	for _, e := range els {
		if withScores && c.resp3 {
			c.replyArray(2)
		}
		c.replyBulk(e[0])
		if withScores {
			c.replyScore(decScore(e[1]))
		}
	}
}

// zrandom draws n distinct members (with raw scores) from the member
// index.
func (c *ctx) zrandom(z *zset, n int64) [][2][]byte {
	return c.randomUnder(z.mp, z.m.count, int(n))
}

// zpopEvent is the keyspace event of a pop from one end of a sorted set.
func zpopEvent(max bool) string {
	if max {
		return "zpopmax"
	}
	return "zpopmin"
}
