package server

import (
	"bytes"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"github.com/walrus-kv/walrus/engine"
)

// COMMAND describes walrus's table as Redis 7.0 describes its own: every
// command and every subcommand of a container (config|get), with its
// arity, flags, key positions, ACL categories, tips and key specs (COMMAND
// INFO), its documentation (COMMAND DOCS), and the keys of a given call
// with what the call does to each (COMMAND GETKEYS, GETKEYSANDFLAGS).
// What walrus's own table does not hold comes from redisDocs
// (redisdocs.go).
//
// The subcommands shown are the containers' in redisContainers
// (aclsub.go), Redis 7.0's list: walrus answers every one of them, some
// with an error of its own where it lacks what the subcommand reaches
// (SCRIPT DEBUG YES, MEMORY MALLOC-STATS, the CLUSTER ones, which answer
// as a Redis without cluster mode does), so listing them all keeps
// COMMAND's list Redis's and tells a client what it may send. CLIENT
// SETINFO (walrusSubs), Redis 7.2's, is not listed, as Redis 7.0 does not
// list it.

// commandDoc is what redisDocs holds for a command or a subcommand.
type commandDoc struct {
	summary    string // a subcommand's; a command's is its row's
	since      string
	cx         string    // complexity
	flags      string    // COMMAND INFO's flags, space-separated
	tips       string    // space-separated
	keys       []keySpec // in Redis's order, which GETKEYSANDFLAGS follows
	syscmd     bool      // DOCS doc_flags: syscmd
	deprecated string    // DOCS deprecated_since, "" if it is not
	replacedBy string
}

// keySpec is one of a command's key specs. Its keys begin at index, or
// after the keyword found searching from startFrom (backwards from the
// end when negative); neither is set for an unknown spec, whose keys the
// command finds itself (SORT's BY, GET and STORE). From the beginning,
// keys run to lastKey (relative to the beginning, or counting from the
// end when negative, where limit > 1 takes only 1/limit of the rest)
// every step-th, or, for a keynum spec, the count at keyNumIdx gives
// the keys from firstKey on.
type keySpec struct {
	flags     string // "RW access delete"
	notes     string
	index     int
	keyword   string
	startFrom int
	keynum    bool
	lastKey   int
	step      int
	limit     int
	keyNumIdx int
	firstKey  int
}

// key is a spec of one key at index i.
func key(i int, flags string) keySpec { return keySpec{flags: flags, index: i, step: 1} }

// keyRange is a spec of the keys from index i to last, every step-th.
func keyRange(i, last, step int, flags string) keySpec {
	return keySpec{flags: flags, index: i, lastKey: last, step: step}
}

// numKeys is a spec of a count at index i followed by that many keys.
func numKeys(i int, flags string) keySpec {
	return keySpec{flags: flags, index: i, keynum: true, firstKey: 1, step: 1}
}

// keyword is a spec of the keys after a keyword.
func keyword(word string, from, last, step, limit int, flags string) keySpec {
	return keySpec{flags: flags, keyword: word, startFrom: from, lastKey: last, step: step, limit: limit}
}

// unknownKeys is a spec whose keys only the command can find.
func unknownKeys(flags string) keySpec { return keySpec{flags: flags} }

func (k keySpec) note(s string) keySpec { k.notes = s; return k }

func specs(k ...keySpec) []keySpec { return k }

func (k *keySpec) unknown() bool { return k.index == 0 && k.keyword == "" }

// positions returns the positions in args of the keys k finds, and false
// when args do not fit it (an unknown spec, an index or a numkeys past
// the arguments).
func (k *keySpec) positions(args [][]byte) ([]int, bool) {
	first := k.index
	if k.keyword != "" {
		first = 0
		from, to, dir := k.startFrom, len(args)-1, 1
		if from < 0 {
			from, to, dir = len(args)+from, 1, -1
		}
		for i := from; i >= 1 && i < len(args) && (i-to)*dir <= 0; i += dir {
			if strings.EqualFold(string(args[i]), k.keyword) {
				first = i + 1
				break
			}
		}
		if first == 0 {
			return nil, true // no keyword: no keys
		}
	}
	if first <= 0 {
		return nil, false
	}
	if first >= len(args) {
		return nil, k.keyword != ""
	}
	var last int
	step := max(k.step, 1)
	if k.keynum {
		n, err := strconv.Atoi(string(args[first+k.keyNumIdx]))
		if err != nil || n < 1 {
			return nil, false // as Redis has it, a numkeys of 0 does not fit
		}
		first += k.firstKey
		last = first + (n-1)*step
	} else {
		switch {
		case k.lastKey >= 0:
			last = first + k.lastKey
		case k.limit > 1:
			last = first + (len(args)-first)/k.limit + k.lastKey
		default:
			last = len(args) + k.lastKey
		}
	}
	if last >= len(args) {
		return nil, false
	}
	var out []int
	for i := first; i <= last; i += step {
		out = append(out, i)
	}
	return out, true
}

// cmdEntry is a command or a container's subcommand as COMMAND shows it.
type cmdEntry struct {
	row *command
	sub *aclSub // nil for the command itself
	doc *commandDoc
}

// docOf returns redisDocs's entry for name, or an empty one.
func docOf(name string) *commandDoc {
	if d := redisDocs[name]; d != nil {
		return d
	}
	return &commandDoc{}
}

func entryOf(c *command) cmdEntry { return cmdEntry{row: c, doc: docOf(c.Name)} }

func subEntry(c *command, sub *aclSub) cmdEntry {
	return cmdEntry{row: c, sub: sub, doc: docOf(sub.name)}
}

// findEntry finds a command by name, or a subcommand by its full name
// (config|get), case-insensitively.
func (s *Server) findEntry(name []byte) (cmdEntry, bool) {
	parent, sub, isSub := bytes.Cut(name, []byte("|"))
	c := s.lookup(parent)
	if c == nil {
		return cmdEntry{}, false
	}
	if !isSub {
		return entryOf(c), true
	}
	as := c.subs[strings.ToLower(string(sub))]
	if as == nil {
		return cmdEntry{}, false
	}
	return subEntry(c, as), true
}

func (e cmdEntry) name() string {
	if e.sub != nil {
		return e.sub.name
	}
	return e.row.Name
}

// subs returns a command's subcommands by name.
func (e cmdEntry) subs() []cmdEntry {
	if e.sub != nil || len(e.row.subs) == 0 {
		return nil
	}
	out := make([]cmdEntry, 0, len(e.row.subs))
	for _, sub := range e.row.subs {
		out = append(out, subEntry(e.row, sub))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sub.name < out[j].sub.name })
	return out
}

func (e cmdEntry) arity() int {
	if e.sub != nil {
		return e.sub.arity
	}
	return e.row.Arity
}

func (e cmdEntry) cats() aclCats {
	if e.sub != nil {
		return e.sub.cats
	}
	return e.row.cats
}

// walrusFlags are the flags walrus's dispatcher acts on (engine.Flags):
// a command's row has the last word on them, so COMMAND INFO shows what
// walrus does. The rest of Redis's flags (noscript, allow_busy, ...)
// come from redisDocs.
var walrusFlags = map[string]bool{
	"write": true, "readonly": true, "denyoom": true, "admin": true, "pubsub": true,
	"blocking": true, "loading": true, "stale": true, "fast": true, "no_auth": true, "no_multi": true,
}

// redisFlagOrder is the order Redis 7.0 lists a command's flags in.
var redisFlagOrder = []string{"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
	"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
	"may_replicate", "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy"}

// flags returns the entry's COMMAND INFO flags. A container shows
// Redis's (none): the dispatcher's flags of its row apply to its
// subcommands, whose own flags are Redis's.
func (e cmdEntry) flags() []string {
	own := e.sub == nil && e.row.subs == nil
	set := map[string]bool{}
	for _, f := range strings.Fields(e.doc.flags) {
		if !own || !walrusFlags[f] {
			set[f] = true
		}
	}
	if own {
		for _, f := range e.row.Flags.Names() {
			set[f] = true
		}
		if e.row.NumKeysAt > 0 || e.row.KeysAfter != "" || e.row.KeysOf != nil {
			set["movablekeys"] = true
		}
	}
	out := make([]string, 0, len(set))
	for _, f := range redisFlagOrder {
		if set[f] {
			out = append(out, f)
		}
	}
	return out
}

func (e cmdEntry) hasFlag(f string) bool {
	for _, g := range e.flags() {
		if g == f {
			return true
		}
	}
	return false
}

// keyRange is COMMAND INFO's first key, last key and step: a row's own,
// none for a container (its subcommands have them), and for a
// subcommand those of its key spec.
func (e cmdEntry) keyRange() (first, last, step int) {
	if e.sub == nil {
		if e.row.subs != nil {
			return 0, 0, 0
		}
		return e.row.FirstKey, e.row.LastKey, e.row.Step
	}
	for _, k := range e.doc.keys {
		if k.index > 0 && !k.keynum {
			last := k.lastKey
			if last >= 0 {
				last += k.index
			}
			return k.index, last, k.step
		}
	}
	return 0, 0, 0
}

// hasKeys reports whether the entry takes keys: a key spec that is not
// only a place for keys (SPUBLISH's channel is not a key).
func (e cmdEntry) hasKeys() bool {
	for _, k := range e.doc.keys {
		if !hasWord(k.flags, "not_key") {
			return true
		}
	}
	return false
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}

// COMMAND [COUNT | INFO name... | DOCS name... | LIST [FILTERBY ...] |
// GETKEYS cmd... | GETKEYSANDFLAGS cmd... | HELP]
func cmdCommand(s *Server, cl *client, args [][]byte) {
	sub := ""
	if len(args) > 1 {
		sub = strings.ToLower(string(args[1]))
	}
	// pick returns every command, or those named (nil: not found).
	pick := func() []*cmdEntry {
		var out []*cmdEntry
		if len(args) <= 2 {
			for _, r := range s.rows() {
				e := entryOf(r)
				out = append(out, &e)
			}
			return out
		}
		for _, a := range args[2:] {
			if e, ok := s.findEntry(a); ok {
				out = append(out, &e)
			} else {
				out = append(out, nil)
			}
		}
		return out
	}
	switch sub {
	case "", "info":
		entries := pick()
		cl.array(len(entries))
		for _, e := range entries {
			if e == nil {
				cl.null() // Redis 7.0: $-1 in RESP2
				continue
			}
			cl.commandInfo(*e)
		}
	case "count":
		cl.integer(int64(len(s.rows())))
	case "list":
		s.commandList(cl, args)
	case "docs":
		var docs []cmdEntry
		for _, e := range pick() {
			if e != nil {
				docs = append(docs, *e)
			}
		}
		cl.mapLen(len(docs))
		for _, e := range docs {
			cl.bulkString(e.name())
			cl.commandDocs(e)
		}
	case "help":
		cl.statusLines([]string{
			"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"(no subcommand)",
			"    Return details about all Redis commands.",
			"COUNT",
			"    Return the total number of commands in this Redis server.",
			"LIST",
			"    Return a list of all commands in this Redis server.",
			"INFO [<command-name> ...]",
			"    Return details about multiple Redis commands.",
			"    If no command names are given, documentation details for all",
			"    commands are returned.",
			"DOCS [<command-name> ...]",
			"    Return documentation details about multiple Redis commands.",
			"    If no command names are given, documentation details for all",
			"    commands are returned.",
			"GETKEYS <full-command>",
			"    Return the keys from a full Redis command.",
			"GETKEYSANDFLAGS <full-command>",
			"    Return the keys and the access flags from a full Redis command.",
			"HELP",
			"    Prints this help.",
		})
	case "getkeys", "getkeysandflags":
		// Their arity (COMMAND's subcommand table) is checked before.
		keys, msg := s.commandKeys(args[2:])
		if msg != "" {
			cl.err(msg)
			return
		}
		cl.array(len(keys))
		for _, k := range keys {
			if sub == "getkeys" {
				cl.bulk(k.key)
				continue
			}
			cl.array(2)
			cl.bulk(k.key)
			flags := strings.Fields(k.flags)
			cl.setLen(len(flags))
			for _, f := range flags {
				cl.status(f)
			}
		}
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try COMMAND HELP.")
	}
}

// commandList is COMMAND LIST [FILTERBY MODULE name | ACLCAT category |
// PATTERN pattern]: the names of the commands and of their subcommands.
// walrus loads no module; an unknown category lists nothing, as in Redis.
func (s *Server) commandList(cl *client, args [][]byte) {
	match := func(cmdEntry) bool { return true }
	switch {
	case len(args) == 2:
	case len(args) == 5 && strings.EqualFold(string(args[2]), "filterby"):
		value := string(args[4])
		switch strings.ToLower(string(args[3])) {
		case "module":
			match = func(cmdEntry) bool { return false }
		case "aclcat":
			cat, ok := aclCategory(value)
			match = func(e cmdEntry) bool { return ok && e.cats()&cat != 0 }
		case "pattern":
			match = func(e cmdEntry) bool { return engine.GlobMatchFold(value, e.name()) }
		default:
			cl.err("ERR syntax error")
			return
		}
	default:
		cl.err("ERR syntax error")
		return
	}
	var names []string
	for _, r := range s.rows() {
		e := entryOf(r)
		for _, e := range append([]cmdEntry{e}, e.subs()...) {
			if match(e) {
				names = append(names, e.name())
			}
		}
	}
	cl.array(len(names))
	for _, n := range names {
		cl.bulkString(n)
	}
}

// commandInfo replies COMMAND INFO's entry for e. RESP3: the flags,
// categories, tips and key specs are sets, and so are no subcommands
// (Redis 7.0 replies an array of them when there are some).
func (cl *client) commandInfo(e cmdEntry) {
	cl.array(10)
	cl.bulkString(e.name())
	cl.integer(int64(e.arity()))
	flags := e.flags()
	cl.setLen(len(flags))
	for _, f := range flags {
		cl.status(f)
	}
	first, last, step := e.keyRange()
	cl.integer(int64(first))
	cl.integer(int64(last))
	cl.integer(int64(step))
	cats := e.cats()
	cl.setLen(bits.OnesCount32(uint32(cats))) // ACL categories (acl.go)
	for i, name := range aclCategoryNames {
		if cats&(1<<i) != 0 {
			cl.status("@" + name)
		}
	}
	tips := strings.Fields(e.doc.tips)
	cl.setLen(len(tips))
	for _, t := range tips {
		cl.bulkString(t)
	}
	cl.setLen(len(e.doc.keys))
	for i := range e.doc.keys {
		cl.keySpec(&e.doc.keys[i])
	}
	subs := e.subs()
	if len(subs) == 0 {
		cl.setLen(0)
		return
	}
	cl.array(len(subs))
	for _, sub := range subs {
		cl.commandInfo(sub)
	}
}

// keySpec replies a key spec as a map, Redis's fields in its order.
func (cl *client) keySpec(k *keySpec) {
	n := 3
	if k.notes != "" {
		n++
		cl.mapLen(n)
		cl.bulkString("notes")
		cl.bulkString(k.notes)
	} else {
		cl.mapLen(n)
	}
	flags := strings.Fields(k.flags)
	cl.bulkString("flags")
	cl.setLen(len(flags))
	for _, f := range flags {
		cl.status(f)
	}
	ints := func(kv ...any) { // name, value, ...
		cl.mapLen(len(kv) / 2)
		for i := 0; i < len(kv); i += 2 {
			cl.bulkString(kv[i].(string))
			cl.integer(int64(kv[i+1].(int)))
		}
	}
	kind := func(name string) {
		cl.mapLen(2)
		cl.bulkString("type")
		cl.bulkString(name)
		cl.bulkString("spec")
	}
	cl.bulkString("begin_search")
	switch {
	case k.index > 0:
		kind("index")
		ints("index", k.index)
	case k.keyword != "":
		kind("keyword")
		cl.mapLen(2)
		cl.bulkString("keyword")
		cl.bulkString(k.keyword)
		cl.bulkString("startfrom")
		cl.integer(int64(k.startFrom))
	default:
		kind("unknown")
		cl.mapLen(0)
	}
	cl.bulkString("find_keys")
	switch {
	case k.unknown():
		kind("unknown")
		cl.mapLen(0)
	case k.keynum:
		kind("keynum")
		ints("keynumidx", k.keyNumIdx, "firstkey", k.firstKey, "keystep", k.step)
	default:
		kind("range")
		ints("lastkey", k.lastKey, "keystep", k.step, "limit", k.limit)
	}
}

// commandDocs replies COMMAND DOCS's map for e: Redis's fields but the
// arguments and the history.
func (cl *client) commandDocs(e cmdEntry) {
	d := e.doc
	summary := e.row.Summary
	if e.sub != nil {
		summary = d.summary
	}
	var docFlags []string
	if d.deprecated != "" {
		docFlags = append(docFlags, "deprecated")
	}
	if d.syscmd {
		docFlags = append(docFlags, "syscmd")
	}
	subs := e.subs()
	n := 3
	for _, has := range []bool{d.cx != "", len(docFlags) > 0, d.deprecated != "", d.replacedBy != "", len(subs) > 0} {
		if has {
			n++
		}
	}
	cl.mapLen(n)
	for _, kv := range [][2]string{{"summary", summary}, {"since", d.since}, {"group", e.row.Group}} {
		cl.bulkString(kv[0])
		cl.bulkString(kv[1])
	}
	if d.cx != "" {
		cl.bulkString("complexity")
		cl.bulkString(d.cx)
	}
	if len(docFlags) > 0 {
		cl.bulkString("doc_flags")
		cl.setLen(len(docFlags))
		for _, f := range docFlags {
			cl.status(f)
		}
	}
	if d.deprecated != "" {
		cl.bulkString("deprecated_since")
		cl.bulkString(d.deprecated)
	}
	if d.replacedBy != "" {
		cl.bulkString("replaced_by")
		cl.bulkString(d.replacedBy)
	}
	if len(subs) > 0 {
		cl.bulkString("subcommands")
		cl.mapLen(len(subs))
		for _, sub := range subs {
			cl.bulkString(sub.name())
			cl.commandDocs(sub)
		}
	}
}

// keyArg is a key of a call and what the call does to it (the flags of
// the key spec that finds it).
type keyArg struct {
	key   []byte
	flags string
}

// commandKeys is COMMAND GETKEYS and GETKEYSANDFLAGS: the keys cmd would
// touch, or Redis's error text. The keys are walrus's own (the row's
// Keys, which ACL key rules and WATCH see too); each has the flags of the
// key spec that finds the same argument.
func (s *Server) commandKeys(cmd [][]byte) ([]keyArg, string) {
	c := s.lookup(cmd[0])
	if c == nil {
		return nil, "ERR Invalid command specified"
	}
	sub, unknown := subcommand(c, cmd)
	if unknown {
		return nil, "ERR Invalid command specified"
	}
	e := entryOf(c)
	if sub != nil {
		e = subEntry(c, sub)
	}
	if !e.hasKeys() {
		return nil, "ERR The command has no key arguments"
	}
	if !c.ArityOK(len(cmd)) || sub != nil && sub.arityError(len(cmd)) != "" {
		return nil, "ERR Invalid number of arguments specified for command"
	}
	keys := c.Keys(cmd)
	if c.NumKeysAt > 0 {
		// A numkeys past the arguments names no keys, as in Redis.
		if n, err := strconv.Atoi(string(cmd[c.NumKeysAt])); err != nil || n > len(cmd)-c.NumKeysAt-1 {
			keys = nil
		}
	}
	for i := range e.doc.keys {
		if k := &e.doc.keys[i]; !k.unknown() {
			if _, fits := k.positions(cmd); !fits {
				keys = nil // a key spec past the arguments: no keys, as in Redis
			}
		}
	}
	if len(keys) == 0 && !e.hasFlag("no_mandatory_keys") {
		return nil, "ERR Invalid arguments specified for command"
	}
	return e.keyFlags(cmd, keys), ""
}

// specKeys returns the keys of args that e's key specs find, in the
// specs' order; an unknown spec, or one args do not fit, finds none.
func (e cmdEntry) specKeys(args [][]byte) []keyArg {
	var out []keyArg
	for i := range e.doc.keys {
		k := &e.doc.keys[i]
		pos, _ := k.positions(args)
		for _, p := range pos {
			out = append(out, keyArg{args[p], k.flags})
		}
	}
	return out
}

// keyFlags pairs each of keys (arguments of args) with the flags of the
// spec that finds it. A key no spec finds is one an unknown spec stands
// for (SORT's STORE key): it takes the last unknown spec's flags. The
// flags that describe a spec rather than a key (incomplete,
// variable_flags) are left out, and a spec with variable flags has its
// call's: SET without GET only writes its key, a BITFIELD of GETs only
// reads it.
func (e cmdEntry) keyFlags(args, keys [][]byte) []keyArg {
	found := e.specKeys(args)
	fallback := ""
	for _, k := range e.doc.keys {
		if k.unknown() {
			fallback = k.flags
		}
	}
	out := make([]keyArg, len(keys))
	for i, key := range keys {
		flags := fallback
		for j, f := range found {
			if f.key != nil && bytes.Equal(f.key, key) {
				flags, found[j].key = f.flags, nil
				break
			}
		}
		if hasWord(flags, "variable_flags") {
			flags = variableKeyFlags(e.name(), args, flags)
		}
		var kept []string
		for _, f := range strings.Fields(flags) {
			if f != "incomplete" && f != "variable_flags" {
				kept = append(kept, f)
			}
		}
		out[i] = keyArg{key, strings.Join(kept, " ")}
	}
	return out
}

// variableKeyFlags returns what a call of a command whose key spec has
// variable flags does to its key.
func variableKeyFlags(name string, args [][]byte, flags string) string {
	switch name {
	case "set":
		for _, a := range args[3:] {
			if strings.EqualFold(string(a), "get") {
				return flags
			}
		}
		return "OW update"
	case "bitfield":
		// Only reads when every operation is a whole GET or OVERFLOW.
		for i := 2; i < len(args); {
			switch op := strings.ToLower(string(args[i])); {
			case op == "get" && i+2 < len(args):
				i += 3
			case op == "overflow" && i+1 < len(args):
				i += 2
			default:
				return flags
			}
		}
		return "RO access"
	}
	return flags
}

// rows returns the table's rows sorted by name, once each.
func (s *Server) rows() []*command {
	seen := map[*command]bool{}
	var out []*command
	for _, c := range s.table {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
