package engine

import (
	"bytes"
	"math"
	"slices"
	"strings"
)

// SORT and SORT_RO.
//
// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
// [ALPHA] [STORE destination] sorts a list, set or sorted set the way
// Redis's sortCommandGeneric does: numeric by default (an element that is
// not a number is an error), ALPHA compares bytes, BY reads each weight
// from a key (or a hash field with "key->field"), a BY pattern without
// '*' means no sorting, GET returns other keys' values ('#' is the element
// itself). Ties are broken by comparing the elements, so the result is
// deterministic, and a STORE of a set with no sorting is sorted ALPHA
// first, as Redis does for replication. SORT with STORE emits itself: the
// result depends only on the data, identical on every node.
//
// SORT is flagged Write (STORE writes); WritesWith tells whether one
// invocation writes, so SORT without STORE can be served on read-only
// replicas.

func init() {
	register(
		&Command{Spec{Name: "sort", Arity: -2, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, KeysOf: sortKeys, Group: "generic", Summary: "Sort the elements in a list, set or sorted set"}, cmdSort},
		&Command{Spec{Name: "sort_ro", Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT."}, cmdSort},
	)
}

// sortKeys is SORT's keys: the one it sorts and the one it stores in,
// if any, found as Redis finds it: past LIMIT's, BY's and GET's
// arguments, the last STORE's. ACL key rules, WATCH and COMMAND GETKEYS
// see the destination this way.
func sortKeys(args [][]byte) [][]byte {
	if len(args) < 2 {
		return nil
	}
	keys := [][]byte{args[1]}
	var store []byte
	for i := 2; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "limit":
			i += 2
		case "by", "get":
			i++
		case "store":
			if i+1 < len(args) {
				store = args[i+1]
			}
			i++
		}
	}
	if store != nil {
		keys = append(keys, store)
	}
	return keys
}

// WritesWith reports whether this invocation of the command can change
// data: false for SORT without STORE (a read, allowed on read-only
// replicas), the Write flag otherwise.
func (c *Command) WritesWith(args [][]byte) bool {
	if c.Name == "sort" {
		for i := 2; i < len(args); i++ {
			switch strings.ToLower(string(args[i])) {
			case "store":
				return true
			case "by", "get":
				i++ // skip the pattern, which may itself read "store"
			case "limit":
				i += 2
			}
		}
		return false
	}
	if c.Name == "function" {
		if len(args) < 2 {
			return false
		}
		switch strings.ToLower(string(args[1])) {
		case "load", "delete", "flush", "restore":
			return true
		}
		return false
	}
	return c.Flags&Write != 0
}

type sortItem struct {
	elem  []byte
	score float64
	cmp   []byte // ALPHA with BY: the weight, nil when missing
}

func cmdSort(c *ctx, args [][]byte) {
	ro := strings.EqualFold(string(args[0]), "sort_ro")
	var (
		desc, alpha, dontSort bool
		by                    []byte
		gets                  [][]byte
		store                 []byte
		offset, count         int64 = 0, -1
	)
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch opt := strings.ToLower(string(args[j])); {
		case opt == "asc":
			desc = false
		case opt == "desc":
			desc = true
		case opt == "alpha":
			alpha = true
		case opt == "limit" && left >= 2:
			o, err1 := parseInt(args[j+1])
			n, err2 := parseInt(args[j+2])
			if err1 != nil || err2 != nil {
				c.replyError(errNotInt)
				return
			}
			offset, count = o, n
			j += 2
		case opt == "store" && left >= 1 && !ro:
			store = args[j+1]
			j++
		case opt == "by" && left >= 1:
			by = args[j+1]
			if !bytes.Contains(by, []byte("*")) {
				dontSort = true
			}
			j++
		case opt == "get" && left >= 1:
			gets = append(gets, args[j+1])
			j++
		default:
			c.replyError(errSyntax)
			return
		}
	}
	m, ok := c.lookup(args[1])
	if ok && m.typ != typeList && m.typ != typeSet && m.typ != typeZSet {
		c.replyWrongType()
		return
	}
	if ok && dontSort && m.typ == typeSet && store != nil {
		// Sorted anyway so every node stores the same list.
		dontSort, alpha, by = false, true, nil
	}
	var elems [][]byte
	if ok {
		switch m.typ {
		case typeList:
			c.listRange(&m, 0, m.count, func(_ int64, v []byte) bool {
				elems = append(elems, clone(v))
				return true
			})
			if dontSort && desc {
				// Unsorted DESC is the list's reverse order, as Redis.
				for i, j := 0, len(elems)-1; i < j; i, j = i+1, j-1 {
					elems[i], elems[j] = elems[j], elems[i]
				}
			}
		case typeSet:
			elems = c.setMembers(&m)
		case typeZSet:
			z := c.openZSet(m)
			r := zrange{kind: 'r', start: 0, end: -1, limit: -1, rev: dontSort && desc}
			c.zwalk(z, &r, func(mem []byte, _ float64) bool {
				elems = append(elems, clone(mem))
				return true
			})
		}
	}
	items := make([]sortItem, len(elems))
	for i, e := range elems {
		items[i].elem = e
	}
	if !dontSort {
		for i := range items {
			it := &items[i]
			var w []byte
			if by != nil {
				w = c.sortLookup(by, it.elem)
				if w == nil {
					continue
				}
			} else {
				w = it.elem
			}
			if alpha {
				if by != nil {
					it.cmp = w
				}
				continue
			}
			f, ok := parseSortScore(w)
			if !ok {
				c.replyError("ERR One or more scores can't be converted into double")
				return
			}
			it.score = f
		}
		// Only BY ... ALPHA can tie two different items (equal weights);
		// there Redis's order is its qsort's, and ours keeps the input
		// order. Elsewhere a tie is between equal elements.
		sortFunc := slices.SortFunc[[]sortItem]
		if alpha && by != nil {
			sortFunc = slices.SortStableFunc[[]sortItem]
		}
		sortFunc(items, func(x, y sortItem) int {
			var cmp int
			switch {
			case !alpha:
				switch {
				case x.score < y.score:
					cmp = -1
				case x.score > y.score:
					cmp = 1
				default:
					cmp = bytes.Compare(x.elem, y.elem)
				}
			case by != nil:
				switch {
				case x.cmp == nil && y.cmp == nil:
					cmp = 0
				case x.cmp == nil:
					cmp = -1
				case y.cmp == nil:
					cmp = 1
				default:
					cmp = bytes.Compare(x.cmp, y.cmp)
				}
			default:
				cmp = bytes.Compare(x.elem, y.elem)
			}
			if desc {
				return -cmp
			}
			return cmp
		})
	}
	n := int64(len(items))
	start := max(offset, 0)
	end := n - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	if end >= n {
		end = n - 1
	}
	var out [][]byte
	var nulls []bool
	for i := start; i <= end && i >= 0; i++ {
		e := items[i].elem
		if len(gets) == 0 {
			out = append(out, e)
			nulls = append(nulls, false)
			continue
		}
		for _, g := range gets {
			v := c.sortLookup(g, e)
			out = append(out, v)
			nulls = append(nulls, v == nil)
		}
	}
	if store == nil {
		c.replyArray(len(out))
		for i, v := range out {
			if nulls[i] {
				c.replyNull()
			} else {
				c.replyBulk(v)
			}
		}
		return
	}
	var old meta
	var exists bool
	c.writing(func() { old, exists = c.lookup(store) })
	if len(out) == 0 {
		if exists {
			c.deleteKey(store, &old)
			c.notify(NotifyGeneric, "del", store)
			c.emit(args...)
		}
		c.replyInt(0)
		return
	}
	nm := c.newList()
	for i := range out {
		if out[i] == nil {
			out[i] = []byte{}
		}
	}
	c.listPush(&nm, false, out...)
	var oldp *meta
	if exists {
		oldp = &old
	}
	c.putMetaStored(store, oldp, &nm)
	c.notify(NotifyList, "sortstore", store)
	c.emit(args...)
	c.replyInt(int64(len(out)))
}

// parseSortScore parses a weight like strtod in SORT: leading spaces are
// allowed, trailing garbage and NaN are not, an empty string is 0.
func parseSortScore(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true // strtod("") is 0 with nothing left over
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" {
		return 0, false
	}
	f, err := parseFloat([]byte(s))
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// sortLookup resolves a BY/GET pattern for one element: '#' is the
// element, "pre*post" names a string key, "pre*post->field" a hash
// field. nil when absent or of another type.
func (c *ctx) sortLookup(pattern, elem []byte) []byte {
	v, ok := c.sortLookupOK(pattern, elem)
	if !ok {
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

func (c *ctx) sortLookupOK(pattern, elem []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return elem, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	keyEnd := len(pattern)
	var field []byte
	if arrow := bytes.Index(pattern[star:], []byte("->")); arrow >= 0 && star+arrow+2 < len(pattern) {
		keyEnd = star + arrow
		field = pattern[star+arrow+2:]
	}
	key := make([]byte, 0, keyEnd+len(elem))
	key = append(key, pattern[:star]...)
	key = append(key, elem...)
	key = append(key, pattern[star+1:keyEnd]...)
	m, ok := c.lookup(key)
	if !ok {
		return nil, false
	}
	if field != nil {
		if m.typ != typeHash {
			return nil, false
		}
		return c.hashField(&m, field)
	}
	if m.typ != typeString {
		return nil, false
	}
	return m.value, true
}
