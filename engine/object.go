package engine

import (
	"fmt"
	"strings"
)

// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ|HELP key.
//
// walrus has one encoding per type on Pebble; OBJECT ENCODING answers
// with the name Redis 7.0 would use for a value of that type and size
// by Redis's rules and thresholds (EncodingLimits: hashes and sorted sets
// of few short entries: listpack; sets of few integers: intset; lists:
// quicklist; strings: int, embstr or raw), so tools that branch on it
// behave sensibly. Redis converts one
// way only, so a collection that grew past a threshold and shrank back
// may say hashtable there and listpack here; and a short string APPEND
// or SETRANGE made is raw there, int or embstr here.

func init() {
	register(&Command{Spec{Name: "object", Arity: -2, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Group: "generic", Summary: "A container for object introspection commands"}, cmdObject})
}

// EncodingLimits are the thresholds OBJECT ENCODING names encodings by:
// hash-max-listpack-entries and -value, zset-max-listpack-entries and
// -value, set-max-intset-entries.
type EncodingLimits struct {
	HashEntries, HashValue int64
	ZSetEntries, ZSetValue int64
	IntsetEntries          int64
}

// DefaultEncodingLimits are Redis 7.0's defaults.
var DefaultEncodingLimits = EncodingLimits{HashEntries: 512, HashValue: 64, ZSetEntries: 128, ZSetValue: 64, IntsetEntries: 512}

// SetEncodingLimits changes the thresholds OBJECT ENCODING names
// encodings by.
func (e *Engine) SetEncodingLimits(l EncodingLimits) { e.encLimits.Store(&l) }

func (e *Engine) encodingLimits() *EncodingLimits {
	if l := e.encLimits.Load(); l != nil {
		return l
	}
	return &DefaultEncodingLimits
}

func cmdObject(c *ctx, args [][]byte) {
	c.noMiss = true // Redis looks the key up with LOOKUP_NONOTIFY
	defer func() { c.noMiss = false }()
	sub := strings.ToLower(string(args[1]))
	if sub == "help" && len(args) == 2 {
		lines := []string{
			"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"ENCODING <key>",
			"    Return the kind of internal representation used in order to store the value",
			"    associated with a <key>.",
			"FREQ <key>",
			"    Return the access frequency index of the <key>. The returned integer is",
			"    proportional to the logarithm of the recent access frequency of the key.",
			"IDLETIME <key>",
			"    Return the idle time of the <key>, that is the approximated number of",
			"    seconds elapsed since the last access to the key.",
			"REFCOUNT <key>",
			"    Return the number of references of the value associated with the specified",
			"    <key>.",
			"HELP",
			"    Prints this help.",
		}
		c.replyArray(len(lines))
		for _, l := range lines {
			c.replyStatus(l)
		}
		return
	}
	if len(args) != 3 || (sub != "encoding" && sub != "refcount" && sub != "idletime" && sub != "freq") {
		c.replyError("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try OBJECT HELP.")
		return
	}
	m, ok := c.lookup(args[2])
	if !ok {
		c.replyNull()
		return
	}
	switch sub {
	case "encoding":
		c.replyBulkString(c.encodingName(&m))
	case "refcount":
		c.replyInt(1)
	case "idletime":
		if c.e.access.lfu.Load() {
			c.replyError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.replyInt(c.e.access.idle(metaKey(nil, c.phys, args[2]), c.now))
	case "freq":
		if !c.e.access.lfu.Load() {
			c.replyError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.replyInt(int64(c.e.access.freq(metaKey(nil, c.phys, args[2]), c.now)))
	}
}

func (c *ctx) encodingName(m *meta) string {
	switch m.typ {
	case typeString:
		if _, err := parseInt(m.value); err == nil {
			return "int"
		}
		if len(m.value) <= 44 {
			return "embstr"
		}
		return "raw"
	case typeList:
		return "quicklist"
	case typeHash:
		lim := c.e.encodingLimits()
		if m.count <= lim.HashEntries && c.allHashed(m, func(f, v []byte) bool { return int64(len(f)) <= lim.HashValue && int64(len(v)) <= lim.HashValue }) {
			return "listpack"
		}
		return "hashtable"
	case typeSet:
		if m.count <= c.e.encodingLimits().IntsetEntries && c.allHashed(m, func(member, _ []byte) bool { _, err := parseInt(member); return err == nil }) {
			return "intset"
		}
		return "hashtable"
	case typeZSet:
		lim := c.e.encodingLimits()
		if m.count <= lim.ZSetEntries {
			short := true
			c.forEachUnder(c.openZSet(*m).mp, func(member, _ []byte) { short = short && int64(len(member)) <= lim.ZSetValue })
			if short {
				return "listpack"
			}
		}
		return "skiplist"
	case typeStream:
		return "stream"
	}
	return "unknown"
}

// allHashed reports whether ok holds for every member (and value) of a
// hash or a set.
func (c *ctx) allHashed(m *meta, ok func(member, value []byte) bool) bool {
	all := true
	c.forEachHashed(m, func(member, value []byte) bool {
		all = ok(member, value)
		return all
	})
	return all
}

// DebugObject is DEBUG OBJECT's line for key in the session's database,
// with Redis's fields: "Value at" is the key's hash (a value has no
// address of its own here); serializedlength is the length of its DUMP
// encoding without the type, version and checksum (walrus does not
// compress strings there, nor lay out small collections as listpacks);
// lru is the access table's stamp in Redis's 24-bit clock (under LFU,
// Redis's minute<<8 | counter). ok is false when there is no such key.
// The lookup touches nothing and counts as neither hit nor miss, as in
// Redis.
func (e *Engine) DebugObject(s *Session, key []byte) (line string, ok bool) {
	e.swap.RLock()
	defer e.swap.RUnlock()
	c := e.readCtx()
	c.selectDB(s.DB)
	c.noTouch = true
	m, found := c.lookup(key)
	if !found {
		return "", false
	}
	serialized := 0
	if b, ok := c.dump(&m); ok {
		serialized = len(b) - 1 - 2 - 8 // the type; the version and the CRC
	}
	mk := metaKey(nil, c.phys, key)
	var lru, idle int64
	if e.access.lfu.Load() {
		lru = int64(lfuMinute(c.now))<<8 | int64(e.access.freq(mk, c.now))
	} else {
		idle = e.access.idle(mk, c.now)
		lru = (c.now/1000 - idle) & (1<<24 - 1)
	}
	return fmt.Sprintf("Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d",
		hashKey(key), c.encodingName(&m), serialized, lru, idle), true
}
