package engine

import (
	"math"
	"strings"
)

// Sets.
//
// Encoding: metadata count = number of members; one element per member,
//
//	elemPrefix(phys, version) + xxhash64(member) + member  ->  (empty)
//
// SADD/SREM/SISMEMBER are point operations, SCARD reads the metadata,
// SSCAN's cursor is a hash position, SPOP/SRANDMEMBER seek random hash
// positions (O(log N) each). SINTER iterates the smallest set and probes
// the others; SUNION/SDIFF read every set: O(total members).
// SPOP's effect is SREM of the members it chose.

func init() {
	s := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "set", Summary: summary}, run}
	}
	multi := func(name string, arity int, flags Flags, first int, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: first, LastKey: -1, Step: 1, Group: "set", Summary: summary}, run}
	}
	register(
		s("sadd", -3, Write|DenyOOM|Fast, "Add one or more members to a set", cmdSAdd),
		s("srem", -3, Write|Fast, "Remove one or more members from a set", cmdSRem),
		s("scard", 2, ReadOnly|Fast, "Get the number of members in a set", cmdCollLen(typeSet)),
		s("sismember", 3, ReadOnly|Fast, "Determine if a given value is a member of a set", cmdSIsMember),
		s("smismember", -3, ReadOnly|Fast, "Returns the membership associated with the given elements for a set", cmdSIsMember),
		s("smembers", 2, ReadOnly, "Get all the members in a set", cmdSMembers),
		s("spop", -2, Write|Fast, "Remove and return one or multiple random members from a set", cmdSPop),
		s("srandmember", -2, ReadOnly, "Get one or multiple random members from a set", cmdSRandMember),
		&Command{Spec{Name: "smove", Arity: 4, Flags: Write | Fast, FirstKey: 1, LastKey: 2, Step: 1, Group: "set", Summary: "Move a member from one set to another"}, cmdSMove},
		multi("sinter", -2, ReadOnly, 1, "Intersect multiple sets", cmdSetOp),
		multi("sunion", -2, ReadOnly, 1, "Add multiple sets", cmdSetOp),
		multi("sdiff", -2, ReadOnly, 1, "Subtract multiple sets", cmdSetOp),
		multi("sinterstore", -3, Write|DenyOOM, 1, "Intersect multiple sets and store the resulting set in a key", cmdSetOp),
		multi("sunionstore", -3, Write|DenyOOM, 1, "Add multiple sets and store the resulting set in a key", cmdSetOp),
		multi("sdiffstore", -3, Write|DenyOOM, 1, "Subtract multiple sets and store the resulting set in a key", cmdSetOp),
		&Command{Spec{Name: "sintercard", Arity: -3, Flags: ReadOnly, NumKeysAt: 1, Group: "set", Summary: "Intersect multiple sets and return the cardinality of the result"}, cmdSInterCard},
		s("sscan", -3, ReadOnly, "Incrementally iterate Set elements", cmdScanColl(typeSet, allElems, func(m, _ []byte) [][]byte { return [][]byte{clone(m)} })),
	)
}

func (c *ctx) setHas(m *meta, member []byte) bool {
	_, ok := c.get(hashedElem(elemPrefix(nil, c.phys, m.version), member))
	return ok
}

func cmdSAdd(c *ctx, args [][]byte) {
	key := args[1]
	m, exists, wrong := c.lookupColl(key, typeSet)
	if wrong {
		return
	}
	if !exists {
		m = c.newColl(typeSet)
	}
	p := elemPrefix(nil, c.phys, m.version)
	added := [][]byte{bs("SADD"), key}
	for _, mem := range args[2:] {
		ek := hashedElem(p, mem)
		if _, ok := c.get(ek); ok {
			continue
		}
		c.set(ek, nil)
		added = append(added, mem)
	}
	n := int64(len(added) - 2)
	if n > 0 {
		m.count += n
		c.saveColl(key, &m, exists)
		c.notify(NotifySet, "sadd", key)
		c.emit(added...)
	}
	c.replyInt(n)
}

func cmdSRem(c *ctx, args [][]byte) {
	key := args[1]
	m, ok, wrong := c.lookupColl(key, typeSet)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	n := c.setRemove(key, &m, args[2:], "srem")
	c.replyInt(n)
}

// setRemove removes members, saves the set, emits SREM of the ones that
// were there and notes event; it returns how many were.
func (c *ctx) setRemove(key []byte, m *meta, members [][]byte, event string) int64 {
	p := elemPrefix(nil, c.phys, m.version)
	removed := [][]byte{bs("SREM"), key}
	for _, mem := range members {
		ek := hashedElem(p, mem)
		if _, ok := c.get(ek); !ok {
			continue
		}
		c.del(ek)
		removed = append(removed, mem)
	}
	n := int64(len(removed) - 2)
	if n > 0 {
		m.count -= n
		c.saveColl(key, m, true)
		c.notifyColl(NotifySet, event, key, m)
		c.emit(removed...)
	}
	return n
}

// SISMEMBER key member / SMISMEMBER key member [member ...]
func cmdSIsMember(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeSet)
	if wrong {
		return
	}
	multi := strings.EqualFold(string(args[0]), "smismember")
	if multi {
		c.replyArray(len(args) - 2)
	}
	for _, mem := range args[2:] {
		if ok && c.setHas(&m, mem) {
			c.replyInt(1)
		} else {
			c.replyInt(0)
		}
	}
}

// setMembers reads every member of a set.
func (c *ctx) setMembers(m *meta) [][]byte {
	out := make([][]byte, 0, m.count)
	c.forEachHashed(m, func(f, _ []byte) bool {
		out = append(out, clone(f))
		return true
	})
	return out
}

func cmdSMembers(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeSet)
	if wrong {
		return
	}
	if !ok {
		c.replySet(0)
		return
	}
	c.replySet(int(m.count))
	c.forEachHashed(&m, func(f, _ []byte) bool {
		c.replyBulk(f)
		return true
	})
}

// SPOP key [count]
func cmdSPop(c *ctx, args [][]byte) {
	if len(args) > 3 {
		c.replyError(errSyntax)
		return
	}
	count, ok := c.popCount(args, -1)
	if !ok {
		return
	}
	key := args[1]
	m, ok, wrong := c.lookupColl(key, typeSet)
	if wrong {
		return
	}
	if !ok {
		if count < 0 {
			c.replyNull()
		} else {
			c.replySet(0)
		}
		return
	}
	if count == 0 {
		c.replySet(0)
		return
	}
	n := count
	if n < 0 {
		n = 1
	}
	picked := c.randomHashed(&m, int(min(n, m.count)))
	members := make([][]byte, len(picked))
	for i, p := range picked {
		members[i] = p[0]
	}
	c.setRemove(key, &m, members, "spop")
	if count < 0 {
		c.replyBulk(members[0])
		return
	}
	c.replySet(len(members))
	for _, mem := range members {
		c.replyBulk(mem)
	}
}

// SRANDMEMBER key [count]
func cmdSRandMember(c *ctx, args [][]byte) {
	if len(args) > 3 {
		c.replyError(errSyntax)
		return
	}
	if len(args) == 2 {
		m, ok, wrong := c.lookupColl(args[1], typeSet)
		switch {
		case wrong:
		case !ok:
			c.replyNull()
		default:
			mem, _ := c.randomOne(&m)
			c.replyBulk(mem)
		}
		return
	}
	count, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if count < -math.MaxInt64/2 {
		c.replyError("ERR value is out of range")
		return
	}
	m, ok, wrong := c.lookupColl(args[1], typeSet)
	if wrong {
		return
	}
	if !ok || count == 0 {
		c.replyArray(0)
		return
	}
	c.replyRandom(&m, count, false)
}

// SMOVE source destination member
func cmdSMove(c *ctx, args [][]byte) {
	src, dst, mem := args[1], args[2], args[3]
	sm, ok := c.lookup(src)
	dm, dok := c.lookup(dst)
	if !ok {
		c.replyInt(0)
		return
	}
	if sm.typ != typeSet || (dok && dm.typ != typeSet) {
		c.replyWrongType()
		return
	}
	if string(src) == string(dst) {
		if c.setHas(&sm, mem) {
			c.replyInt(1)
		} else {
			c.replyInt(0)
		}
		return
	}
	sk := hashedElem(elemPrefix(nil, c.phys, sm.version), mem)
	if _, found := c.get(sk); !found {
		c.replyInt(0)
		return
	}
	c.del(sk)
	sm.count--
	c.saveColl(src, &sm, true)
	c.notifyColl(NotifySet, "srem", src, &sm)
	if !dok {
		dm = c.newColl(typeSet)
	}
	dk := hashedElem(elemPrefix(nil, c.phys, dm.version), mem)
	if _, found := c.get(dk); !found {
		c.set(dk, nil)
		dm.count++
		defer c.notify(NotifySet, "sadd", dst) // once dst is saved
	}
	c.saveColl(dst, &dm, dok)
	c.emit(args...)
	c.replyInt(1)
}

// loadSets looks up every key as a set (nil for a missing key); false
// when one holds another type (WRONGTYPE written).
func (c *ctx) loadSets(keys [][]byte) ([]*meta, bool) {
	out := make([]*meta, len(keys))
	for i, k := range keys {
		m, ok, wrong := c.lookupColl(k, typeSet)
		if wrong {
			return nil, false
		}
		if ok {
			mm := m
			out[i] = &mm
		}
	}
	return out, true
}

// setInter computes the intersection of sets, stopping at limit members
// (0: no limit). It iterates the smallest set and probes the others.
func (c *ctx) setInter(sets []*meta, limit int) [][]byte {
	for _, s := range sets {
		if s == nil {
			return nil
		}
	}
	small := 0
	for i, s := range sets {
		if s.count < sets[small].count {
			small = i
		}
	}
	var out [][]byte
	c.forEachHashed(sets[small], func(mem, _ []byte) bool {
		for i, s := range sets {
			if i != small && !c.setHas(s, mem) {
				return true
			}
		}
		out = append(out, clone(mem))
		return limit == 0 || len(out) < limit
	})
	return out
}

func (c *ctx) setUnion(sets []*meta) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, s := range sets {
		if s == nil {
			continue
		}
		c.forEachHashed(s, func(mem, _ []byte) bool {
			if !seen[string(mem)] {
				seen[string(mem)] = true
				out = append(out, clone(mem))
			}
			return true
		})
	}
	return out
}

func (c *ctx) setDiff(sets []*meta) [][]byte {
	if sets[0] == nil {
		return nil
	}
	var out [][]byte
	c.forEachHashed(sets[0], func(mem, _ []byte) bool {
		for _, s := range sets[1:] {
			if s != nil && c.setHas(s, mem) {
				return true
			}
		}
		out = append(out, clone(mem))
		return true
	})
	return out
}

// SINTER/SUNION/SDIFF key [key ...] and their STORE forms.
func cmdSetOp(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	store := strings.HasSuffix(name, "store")
	keys := args[1:]
	if store {
		keys = args[2:]
	}
	sets, ok := c.loadSets(keys)
	if !ok {
		return
	}
	var res [][]byte
	switch strings.TrimSuffix(name, "store") {
	case "sinter":
		res = c.setInter(sets, 0)
	case "sunion":
		res = c.setUnion(sets)
	default:
		res = c.setDiff(sets)
	}
	if !store {
		c.replySet(len(res))
		for _, mem := range res {
			c.replyBulk(mem)
		}
		return
	}
	c.notifyStore(NotifySet, name, args[1], len(res), c.storeSet(args[1], res))
	c.emit(args...)
	c.replyInt(int64(len(res)))
}

// storeSet replaces key (whatever it holds) with a set of members, or
// deletes it when members is empty; it says whether key existed.
func (c *ctx) storeSet(key []byte, members [][]byte) bool {
	var old meta
	var exists bool
	c.writing(func() { old, exists = c.lookup(key) })
	if len(members) == 0 {
		if exists {
			c.deleteKey(key, &old)
		}
		return exists
	}
	m := c.newSet(members)
	var oldp *meta
	if exists {
		oldp = &old
	}
	c.putMetaStored(key, oldp, &m)
	return exists
}

// newSet writes a new set's elements (distinct members) and returns its
// metadata, not yet stored.
func (c *ctx) newSet(members [][]byte) meta {
	m := c.newColl(typeSet)
	p := elemPrefix(nil, c.phys, m.version)
	for _, mem := range members {
		c.set(hashedElem(p, mem), nil)
	}
	m.count = int64(len(members))
	return m
}

// parseNumKeys reads a numkeys argument at args[i] for SINTERCARD,
// ZUNION and friends, writing Redis's errors.
func (c *ctx) parseNumKeys(args [][]byte, i int, what string) (int, bool) {
	n, err := parseInt(args[i])
	if err != nil || n <= 0 {
		c.replyError("ERR numkeys should be greater than 0")
		return 0, false
	}
	if n > int64(len(args)-i-1) {
		c.replyError("ERR Number of keys can't be greater than number of args")
		return 0, false
	}
	return int(n), true
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
func cmdSInterCard(c *ctx, args [][]byte) {
	n, ok := c.parseNumKeys(args, 1, "sintercard")
	if !ok {
		return
	}
	limit := 0
	rest := args[2+n:]
	for i := 0; i < len(rest); i++ {
		if strings.EqualFold(string(rest[i]), "limit") && i+1 < len(rest) {
			l, err := parseInt(rest[i+1])
			if err != nil {
				c.replyError("ERR LIMIT can't be negative")
				return
			}
			if l < 0 {
				c.replyError("ERR LIMIT can't be negative")
				return
			}
			limit = int(min(l, math.MaxInt32))
			i++
			continue
		}
		c.replyError(errSyntax)
		return
	}
	sets, ok := c.loadSets(args[2 : 2+n])
	if !ok {
		return
	}
	c.replyInt(int64(len(c.setInter(sets, limit))))
}
