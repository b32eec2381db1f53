package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/server/config"
)

// ACL: users, their passwords and what they may run, as Redis 7.0 has
// them (ACL SETUSER/GETUSER/DELUSER/LIST/USERS/WHOAMI/CAT/DRYRUN/GENPASS),
// and the log of denials (ACL LOG, acllog-max-len; acllog.go).
//
// A user's rules live in an aclPerm that is never modified once
// published: ACL SETUSER builds a new one and swaps it in, so the
// dispatcher checks a command with two atomic loads and a bit test,
// without a lock. Command rules compile to a bitset indexed by the row's
// id (numberCommands).
//
// Users persist as in Redis 7.0 (aclfile.go), in one of two ways, never
// both (start-up is refused): `user <name> <rules...>` lines of the
// configuration, which CONFIG REWRITE rewrites from the current users; or
// an aclfile of ACL LIST's lines, read at start-up (a missing or bad file
// stops it), reloaded by ACL LOAD (all or nothing; the connections of
// every user but default are closed, since each user is new) and written
// by ACL SAVE (atomically). Without either, users live until restart and
// ACL LOAD/SAVE refuse with Redis's words.
//
// The default user starts from requirepass (its password, or nopass),
// and CONFIG SET requirepass resets its passwords again. A `user default`
// line resets it first, and an aclfile replaces it (with on nopass ~* &*
// +@all when the file has no default line), so either overrides
// requirepass at start-up, and ACL LOAD does again.

// aclCats is a set of ACL categories (@read, @write, ...).
type aclCats uint32

const (
	catKeyspace aclCats = 1 << iota
	catRead
	catWrite
	catSet
	catSortedSet
	catList
	catHash
	catString
	catBitmap
	catHyperLogLog
	catGeo
	catStream
	catPubSub
	catAdmin
	catFast
	catSlow
	catBlocking
	catDangerous
	catConnection
	catTransaction
	catScripting
)

// aclCategoryNames are the categories in catX bit order, which is the
// order ACL CAT lists them in Redis.
var aclCategoryNames = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
	"connection", "transaction", "scripting"}

func aclCategory(name string) (aclCats, bool) {
	for i, n := range aclCategoryNames {
		if strings.EqualFold(n, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

// aclGroupCategory maps a row's Group (COMMAND DOCS) to its data-type or
// purpose category.
var aclGroupCategory = map[string]aclCats{
	"generic": catKeyspace, "string": catString, "hash": catHash, "list": catList, "set": catSet,
	"sorted-set": catSortedSet, "sorted_set": catSortedSet, "bitmap": catBitmap, "hyperloglog": catHyperLogLog,
	"geo": catGeo, "stream": catStream, "pubsub": catPubSub, "connection": catConnection,
	"transactions": catTransaction, "scripting": catScripting,
}

// aclNamedCategories replaces the group's category where Redis places a
// command elsewhere, and adds Redis's @dangerous commands that are not
// admin.
var aclNamedCategories = map[string]aclCats{
	"flushall": catKeyspace | catDangerous, "flushdb": catKeyspace | catDangerous,
	"swapdb": catKeyspace | catDangerous, "dbsize": catKeyspace, "keys": catKeyspace | catDangerous,
	"sort": catSet | catSortedSet | catList | catDangerous, "sort_ro": catSet | catSortedSet | catList | catDangerous,
	"info": catDangerous, "role": catAdmin | catDangerous, "lastsave": catAdmin | catDangerous,
	"command": catConnection, "monitor": catAdmin | catDangerous, "wait": catConnection,
	"waitaof": catConnection, "migrate": catKeyspace | catDangerous, "restore": catKeyspace | catDangerous,
	"restore-asking": catKeyspace | catDangerous, "object": catKeyspace, "readonly": catConnection,
	"readwrite": catConnection, "asking": catConnection,
}

// commandCategories derives a row's ACL categories from its flags, group
// and name.
func commandCategories(c *command) aclCats {
	var cats aclCats
	f := c.Flags
	if f&engine.Write != 0 {
		cats |= catWrite
	}
	if f&engine.ReadOnly != 0 {
		cats |= catRead
	}
	if f&engine.Admin != 0 {
		cats |= catAdmin | catDangerous
	}
	if f&engine.Fast != 0 {
		cats |= catFast
	} else {
		cats |= catSlow
	}
	if f&engine.Blocking != 0 {
		cats |= catBlocking
	}
	if f&engine.PubSub != 0 {
		cats |= catPubSub
	}
	if rc, ok := redisContainers[c.Name]; ok {
		return rc.cats
	}
	if named, ok := aclNamedCategories[c.Name]; ok {
		return cats | named
	}
	return cats | aclGroupCategory[c.Group]
}

// numberCommands gives every row of t an id (its bit in a user's command
// set) and its ACL categories, and returns the rows by id. Ids follow the
// names' order, so they are stable for a given table. Subcommands get
// the bits after the rows' (numberSubcommands).
func numberCommands(t map[string]*command) []*command {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	rows := make([]*command, len(names))
	for i, n := range names {
		c := t[n]
		c.id = i
		c.cats = commandCategories(c)
		rows[i] = c
	}
	numberSubcommands(rows)
	return rows
}

// keyPattern is one ~pattern (read and write), %R~ or %W~ pattern.
type keyPattern struct {
	glob        string
	read, write bool
}

func (k keyPattern) String() string {
	switch {
	case k.read && k.write:
		return "~" + k.glob
	case k.read:
		return "%R~" + k.glob
	default:
		return "%W~" + k.glob
	}
}

// aclPerm is one version of a user's settings. Immutable once published.
type aclPerm struct {
	on          bool
	nopass      bool
	payload     string   // "", "sanitize-payload" or "skip-sanitize-payload": a flag LIST shows
	passwords   []string // sha256 of each password, lower-case hex, in the order added
	allCmds     bool     // the command rules start from +@all (else -@all)
	rules       []string // command rules after the leading +@all / -@all, as LIST shows them
	cmds        []uint64 // bit id set: the row may run
	allKeys     bool
	keys        []keyPattern
	allChannels bool
	channels    []string
}

func (p *aclPerm) clone() *aclPerm {
	q := *p
	q.passwords = slices.Clone(p.passwords)
	q.rules = slices.Clone(p.rules)
	q.cmds = slices.Clone(p.cmds)
	q.keys = slices.Clone(p.keys)
	q.channels = slices.Clone(p.channels)
	return &q
}

func (p *aclPerm) canRun(id int) bool { return p.cmds[id>>6]&(1<<(id&63)) != 0 }

// aclUser is a user; perm is swapped whole by ACL SETUSER.
type aclUser struct {
	name string
	perm atomic.Pointer[aclPerm]
}

// aclTable holds the users.
type aclTable struct {
	rows  []*command          // by id
	bits  int                 // the rows' and their subcommands' (aclsub.go)
	table map[string]*command // by the name clients use (after rename-command)
	def   *aclUser            // "default": never deleted

	mu    sync.Mutex // guards users, and serialises changes to any user's perm
	users map[string]*aclUser

	fileMu sync.Mutex // serialises ACL LOAD and SAVE (aclfile.go)

	// allChannels: acl-pubsub-default is allchannels, so a new user, or
	// one reset, may use every channel.
	allChannels atomic.Bool

	denials aclLog // ACL LOG (acllog.go); its own lock
}

// newACL creates the users table with the default user: on, every
// command, key and channel, its password requirepass (nopass when empty).
func newACL(rows []*command, table map[string]*command, requirePass string) *aclTable {
	t := &aclTable{rows: rows, bits: len(rows), table: table, users: map[string]*aclUser{}}
	for _, c := range rows {
		t.bits += len(c.subs)
	}
	p := t.defaultPerm()
	if requirePass != "" {
		p.nopass, p.passwords = false, []string{hashPassword([]byte(requirePass))}
	}
	t.def = &aclUser{name: "default"}
	t.def.perm.Store(p)
	t.users["default"] = t.def
	return t
}

// defaultPerm is the default user of a server without requirepass: on,
// nopass, every command, key and channel.
func (t *aclTable) defaultPerm() *aclPerm {
	p := &aclPerm{on: true, nopass: true, allKeys: true, allChannels: true}
	t.setAll(p, true)
	return p
}

// newPerm is a new user's: off, no password, no command or key, and the
// channels acl-pubsub-default gives.
func (t *aclTable) newPerm() *aclPerm {
	p := &aclPerm{allChannels: t.allChannels.Load()}
	t.setAll(p, false)
	return p
}

// watch keeps the default user's password equal to requirepass, as
// CONFIG SET requirepass does in Redis (resetpass, then >pass or nopass),
// and the log's length equal to acllog-max-len.
func (t *aclTable) watch(cfg *config.Config) {
	pubsubDefault := func(c *config.Config) error {
		t.allChannels.Store(configValue(c, "acl-pubsub-default") == "allchannels")
		return nil
	}
	pubsubDefault(cfg)
	cfg.OnChange("acl-pubsub-default", pubsubDefault)
	cfg.OnChange("requirepass", func(c *config.Config) error {
		pass := c.RequirePass
		t.mu.Lock()
		defer t.mu.Unlock()
		p := t.def.perm.Load().clone()
		p.passwords, p.nopass = nil, pass == ""
		if pass != "" {
			p.passwords = []string{hashPassword([]byte(pass))}
		}
		t.def.perm.Store(p)
		return nil
	})
	t.denials.watch(cfg)
}

func hashPassword(pass []byte) string {
	h := sha256.Sum256(pass)
	return hex.EncodeToString(h[:])
}

// defaultNoPass reports whether the default user needs no password:
// protected mode is on, and AUTH <password> is refused.
func (t *aclTable) defaultNoPass() bool { return t.def.perm.Load().nopass }

// defaultOpen reports whether a new connection starts authenticated.
func (t *aclTable) defaultOpen() bool {
	p := t.def.perm.Load()
	return p.on && p.nopass
}

func (t *aclTable) user(name string) *aclUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.users[name]
}

// authenticate returns the user when it exists, is on, and pass is one of
// its passwords (any pass for a nopass user); nil otherwise.
func (t *aclTable) authenticate(name string, pass []byte) *aclUser {
	h := []byte(hashPassword(pass)) // first, so an unknown user costs the same
	u := t.user(name)
	if u == nil {
		return nil
	}
	p := u.perm.Load()
	if !p.on {
		return nil
	}
	if p.nopass {
		return u
	}
	ok := 0
	for _, stored := range p.passwords {
		ok |= subtle.ConstantTimeCompare(h, []byte(stored))
	}
	if ok == 0 {
		return nil
	}
	return u
}

func (t *aclTable) setAll(p *aclPerm, allow bool) {
	p.allCmds, p.rules = allow, nil
	p.cmds = make([]uint64, (t.bits+63)/64)
	if !allow {
		return
	}
	for id := range t.bits {
		p.cmds[id>>6] |= 1 << (id & 63)
	}
}

// setCommand allows or refuses c with all its subcommands.
func setCommand(p *aclPerm, c *command, allow bool) {
	setBit(p.cmds, c.id, allow)
	for _, s := range c.subs {
		setBit(p.cmds, s.id, allow)
	}
}

// addRule records a command rule for LIST, dropping earlier rules on the
// same command or category, or on a subcommand of the command, which the
// new one overrides.
func addRule(p *aclPerm, rule string) {
	p.rules = slices.DeleteFunc(p.rules, func(r string) bool {
		return r[1:] == rule[1:] || strings.HasPrefix(r[1:], rule[1:]+"|")
	})
	p.rules = append(p.rules, rule)
}

// setUser creates or changes a user; all rules apply or none. The error
// is Redis's text.
func (t *aclTable) setUser(name string, rules [][]byte) string {
	if hasSpace(name) {
		return "ERR Usernames can't contain spaces or null characters"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.users[name]
	var p *aclPerm
	if u != nil {
		p = u.perm.Load().clone()
	} else {
		p = t.newPerm()
	}
	for _, r := range rules {
		if msg := t.applyRule(p, string(r)); msg != "" {
			return "ERR Error in ACL SETUSER modifier '" + string(r) + "': " + msg
		}
	}
	if u == nil {
		u = &aclUser{name: name}
		t.users[name] = u
	}
	u.perm.Store(p)
	return ""
}

const (
	errACLSyntax       = "Syntax error"
	errACLUnknown      = "Unknown command or category name in ACL"
	errACLNoSuchPass   = "The password you are trying to remove from the user does not exist"
	errACLBadHash      = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	errACLKeyAfterAll  = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	errACLChanAfterAll = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
)

// applyRule applies one ACL SETUSER rule to p; it returns why it cannot.
// An empty rule does nothing, as in Redis.
func (t *aclTable) applyRule(p *aclPerm, rule string) string {
	switch lower := strings.ToLower(rule); lower {
	case "on":
		p.on = true
	case "off":
		p.on = false
	case "nopass":
		p.nopass, p.passwords = true, nil
	case "resetpass":
		p.nopass, p.passwords = false, nil
	case "allkeys", "~*":
		p.allKeys, p.keys = true, nil
	case "resetkeys":
		p.allKeys, p.keys = false, nil
	case "allchannels", "&*":
		p.allChannels, p.channels = true, nil
	case "resetchannels":
		p.allChannels, p.channels = false, nil
	case "allcommands", "+@all":
		t.setAll(p, true)
	case "nocommands", "-@all":
		t.setAll(p, false)
	case "reset":
		p.on, p.nopass, p.passwords, p.payload = false, false, nil, "sanitize-payload"
		p.allKeys, p.keys, p.allChannels, p.channels = false, nil, t.allChannels.Load(), nil
		t.setAll(p, false)
	case "sanitize-payload", "skip-sanitize-payload":
		// RESTORE payload checks: walrus decodes every payload whole,
		// but keeps the flag for LIST and GETUSER, as Redis shows it.
		p.payload = lower
	case "":
		// Nothing to do, as in Redis.
	default:
		return t.applyPatternRule(p, rule, lower)
	}
	return ""
}

func (t *aclTable) applyPatternRule(p *aclPerm, rule, lower string) string {
	switch rule[0] {
	case '>', '<':
		h := hashPassword([]byte(rule[1:]))
		if rule[0] == '>' {
			if !slices.Contains(p.passwords, h) {
				p.passwords = append(p.passwords, h)
			}
			p.nopass = false
			return ""
		}
		return removePassword(p, h)
	case '#', '!':
		h := rule[1:]
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			return errACLBadHash
		}
		if rule[0] == '#' {
			if !slices.Contains(p.passwords, h) {
				p.passwords = append(p.passwords, h)
			}
			p.nopass = false
			return ""
		}
		return removePassword(p, h)
	case '~', '%':
		k := keyPattern{read: true, write: true}
		glob := rule[1:]
		if rule[0] == '%' {
			perms, g, ok := strings.Cut(rule[1:], "~")
			if !ok || perms == "" || strings.Trim(strings.ToUpper(perms), "RW") != "" {
				return errACLSyntax
			}
			perms = strings.ToUpper(perms)
			k.read, k.write, glob = strings.Contains(perms, "R"), strings.Contains(perms, "W"), g
		}
		if hasSpace(glob) {
			return errACLSyntax
		}
		if p.allKeys {
			return errACLKeyAfterAll
		}
		k.glob = glob
		if !slices.Contains(p.keys, k) {
			p.keys = append(p.keys, k)
		}
		return ""
	case '&':
		if hasSpace(rule[1:]) {
			return errACLSyntax
		}
		if p.allChannels {
			return errACLChanAfterAll
		}
		if !slices.Contains(p.channels, rule[1:]) {
			p.channels = append(p.channels, rule[1:])
		}
		return ""
	case '+', '-':
		allow := rule[0] == '+'
		if strings.HasPrefix(lower, "+@") || strings.HasPrefix(lower, "-@") {
			cat, ok := aclCategory(lower[2:])
			if !ok {
				return errACLUnknown
			}
			for _, c := range t.rows {
				if c.cats&cat != 0 {
					setCommand(p, c, allow)
				}
				for _, s := range c.subs {
					if s.cats&cat != 0 {
						setBit(p.cmds, s.id, allow)
					}
				}
			}
			addRule(p, lower)
			return ""
		}
		if strings.Contains(lower, "|") {
			return t.subcommandRule(p, lower)
		}
		c := t.table[lower[1:]]
		if c == nil {
			if _, ok := redisOnlyCommands[lower[1:]]; ok {
				addRule(p, lower) // nothing to allow or refuse (aclredis.go)
				return ""
			}
			return errACLUnknown
		}
		setCommand(p, c, allow)
		addRule(p, lower)
		return ""
	case '(':
		return "selectors are not supported"
	}
	return errACLSyntax
}

func removePassword(p *aclPerm, h string) string {
	i := slices.Index(p.passwords, h)
	if i < 0 {
		return errACLNoSuchPass
	}
	p.passwords = slices.Delete(p.passwords, i, i+1)
	return ""
}

func setBit(set []uint64, id int, on bool) {
	if on {
		set[id>>6] |= 1 << (id & 63)
	} else {
		set[id>>6] &^= 1 << (id & 63)
	}
}

// delUser removes users; it returns those removed. Their perm becomes
// empty at once, so their connections can do nothing until they close.
func (t *aclTable) delUser(names []string) ([]*aclUser, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if slices.Contains(names, "default") {
		return nil, "ERR The 'default' user cannot be removed"
	}
	var gone []*aclUser
	for _, n := range names {
		if u := t.users[n]; u != nil {
			delete(t.users, n)
			u.perm.Store(t.newPerm())
			gone = append(gone, u)
		}
	}
	return gone, ""
}

// sortedUsers returns the users by name.
func (t *aclTable) sortedUsers() []*aclUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*aclUser, 0, len(t.users))
	for _, u := range t.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// describe renders a user as ACL LIST does.
func (u *aclUser) describe() string {
	p := u.perm.Load()
	parts := []string{"user", u.name, onOff(p.on)}
	if p.nopass {
		parts = append(parts, "nopass")
	}
	if p.payload != "" {
		parts = append(parts, p.payload)
	}
	for _, h := range p.passwords {
		parts = append(parts, "#"+h)
	}
	if k := p.keysText(); k != "" {
		parts = append(parts, k)
	}
	if p.allChannels {
		parts = append(parts, "&*")
	} else {
		parts = append(parts, "resetchannels")
		if c := p.channelsText(); c != "" {
			parts = append(parts, c)
		}
	}
	parts = append(parts, p.commandsText())
	return strings.Join(parts, " ")
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func (p *aclPerm) keysText() string {
	if p.allKeys {
		return "~*"
	}
	parts := make([]string, len(p.keys))
	for i, k := range p.keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, " ")
}

func (p *aclPerm) channelsText() string {
	if p.allChannels {
		return "&*"
	}
	parts := make([]string, len(p.channels))
	for i, c := range p.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

func (p *aclPerm) commandsText() string {
	base := "-@all"
	if p.allCmds {
		base = "+@all"
	}
	return strings.Join(append([]string{base}, p.rules...), " ")
}

// aclDenial says which rule refused a command.
type aclDenial int

const (
	aclAllowed aclDenial = iota
	aclDeniedCommand
	aclDeniedKey
	aclDeniedChannel
	aclDeniedSortBy
	aclDeniedSortGet
	aclDeniedAuth // a failed AUTH or HELLO ... AUTH: ACL LOG's, never check's
)

// check decides whether the user may run c with args; arg is the key or
// channel refused, or the command's name ("config|get" for a
// subcommand).
func (p *aclPerm) check(c *command, args [][]byte) (d aclDenial, arg []byte) {
	if c.Flags&engine.NoAuth != 0 {
		return aclAllowed, nil
	}
	if id, name := aclTarget(c, args); !p.canRun(id) {
		return aclDeniedCommand, []byte(name)
	}
	if !p.allKeys && (c.FirstKey > 0 || c.NumKeysAt > 0 || c.KeysAfter != "" || c.Name == "sort" || c.Name == "sort_ro") {
		if d, arg := p.checkKeys(c, args); d != aclAllowed {
			return d, arg
		}
	}
	if !p.allChannels && c.Flags&engine.PubSub != 0 {
		return p.checkChannels(c, args)
	}
	return aclAllowed, nil
}

// checkKeys matches every key argument against the user's patterns. A
// read-only command needs a readable pattern, a write command a readable
// and a writable one (stricter than Redis for write-only key specs such
// as SET's), any other command any matching pattern.
func (p *aclPerm) checkKeys(c *command, args [][]byte) (aclDenial, []byte) {
	if c.Flags&engine.PubSub != 0 {
		return aclAllowed, nil // shard channels sit where keys do; checkChannels has them
	}
	keys := c.Keys(args) // SORT's STORE destination too (engine/sort.go)
	if c.Name == "sort" || c.Name == "sort_ro" {
		for j := 2; j+1 < len(args); j++ {
			switch strings.ToLower(string(args[j])) {
			case "by":
				if strings.Contains(string(args[j+1]), "*") {
					return aclDeniedSortBy, nil
				}
				j++
			case "get":
				return aclDeniedSortGet, nil
			case "store":
				j++
			case "limit":
				j += 2
			}
		}
	}
	needRead := c.Flags&(engine.ReadOnly|engine.Write) != 0
	needWrite := c.Flags&engine.Write != 0
	for _, k := range keys {
		matched, readOK, writeOK := false, !needRead, !needWrite
		for _, kp := range p.keys {
			if engine.GlobMatch(kp.glob, string(k)) {
				matched, readOK, writeOK = true, readOK || kp.read, writeOK || kp.write
				if readOK && writeOK {
					break
				}
			}
		}
		if !matched || !readOK || !writeOK {
			return aclDeniedKey, k
		}
	}
	return aclAllowed, nil
}

// checkChannels applies &patterns: PUBLISH and SUBSCRIBE channels must
// match one, PSUBSCRIBE patterns must equal one (as in Redis).
func (p *aclPerm) checkChannels(c *command, args [][]byte) (aclDenial, []byte) {
	var chans [][]byte
	literal := false
	switch c.Name {
	case "publish", "spublish":
		chans = args[1:2]
	case "subscribe", "ssubscribe":
		chans = args[1:]
	case "psubscribe":
		chans, literal = args[1:], true
	}
	for _, ch := range chans {
		ok := false
		for _, pat := range p.channels {
			if literal && pat == string(ch) || !literal && engine.GlobMatch(pat, string(ch)) {
				ok = true
				break
			}
		}
		if !ok {
			return aclDeniedChannel, ch
		}
	}
	return aclAllowed, nil
}

// aclErrorText is Redis 7.0's wording for a denial; arg is what check
// refused (a command's name, a key, a channel), and verbose names the key
// or channel (ACL DRYRUN).
func aclErrorText(d aclDenial, arg []byte, verbose bool) string {
	switch d {
	case aclDeniedCommand:
		return "this user has no permissions to run the '" + string(arg) + "' command"
	case aclDeniedKey:
		if verbose {
			return "this user has no permissions to access the '" + string(arg) + "' key"
		}
		return "this user has no permissions to access one of the keys used as arguments"
	case aclDeniedChannel:
		if verbose {
			return "this user has no permissions to access the '" + string(arg) + "' channel"
		}
		return "this user has no permissions to access one of the channels used as arguments"
	case aclDeniedSortBy:
		return "BY option of SORT denied due to insufficient ACL permissions."
	case aclDeniedSortGet:
		return "GET option of SORT denied due to insufficient ACL permissions."
	}
	return ""
}

// aclDenied is the dispatcher's ACL rule: "" when the client's user may
// run c with args, else the error reply.
func (s *Server) aclDenied(cl *client, c *command, args [][]byte) string {
	switch d, arg := s.aclCheck(cl, c, args); d {
	case aclAllowed:
		return ""
	case aclDeniedSortBy, aclDeniedSortGet:
		return "ERR " + aclErrorText(d, arg, false)
	default:
		return "NOPERM " + aclErrorText(d, arg, false)
	}
}

// aclCheck checks c with args against the client's user as it is now. A
// denial of the command, a key or a channel goes to ACL LOG; SORT's BY
// and GET refusals do not, as in Redis.
func (s *Server) aclCheck(cl *client, c *command, args [][]byte) (aclDenial, []byte) {
	u := cl.user.Load()
	d, arg := u.perm.Load().check(c, args)
	switch d {
	case aclAllowed, aclDeniedSortBy, aclDeniedSortGet:
	default:
		s.logACLDenial(cl, d, string(arg), u.name)
	}
	return d, arg
}

// aclRecheck checks a queued command again as EXEC comes to run it, as
// Redis does: the rules may have changed since it was queued, before the
// EXEC or by an ACL command earlier in the transaction, and an AUTH
// earlier in it may have switched the user. It returns the command's
// error reply, or "" when it may run.
func (s *Server) aclRecheck(cl *client, args [][]byte) string {
	c := s.lookup(args[0])
	if c == nil {
		return ""
	}
	if d, arg := s.aclCheck(cl, c, args); d != aclAllowed {
		return aclExecText(d, arg)
	}
	return ""
}

// aclExecText is the reply to a queued command that EXEC's re-check
// refuses (Redis's text).
func aclExecText(d aclDenial, arg []byte) string {
	const changed = "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. " +
		"This command is no longer allowed for the following reason: "
	switch d {
	case aclDeniedCommand:
		return changed + "no permission to execute the command or subcommand"
	case aclDeniedKey:
		return changed + "no permission to touch the specified keys"
	case aclDeniedChannel:
		return changed + "no permission to access one of the channels used as arguments"
	}
	return "ERR " + aclErrorText(d, arg, false) // SORT's BY and GET, refused as when they run
}

// login makes u the client's user.
func (cl *client) login(u *aclUser) {
	cl.user.Store(u)
	cl.authed = true
}

func aclCommands(row rowFunc) []*command {
	return []*command{
		row("acl", -2, engine.Admin|engine.Loading|engine.Stale, "server", "A container for Access List Control commands ", cmdACL),
	}
}

// ACL <subcommand> ...
func cmdACL(s *Server, cl *client, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	n := len(args)
	switch {
	case sub == "setuser" && n >= 3:
		if msg := s.acl.setUser(string(args[2]), args[3:]); msg != "" {
			cl.err(msg)
			return
		}
		cl.ok()
	case sub == "getuser" && n == 3:
		u := s.acl.user(string(args[2]))
		if u == nil {
			cl.null()
			return
		}
		p := u.perm.Load()
		flags := []string{onOff(p.on)}
		if p.nopass {
			flags = append(flags, "nopass")
		}
		if p.payload != "" {
			flags = append(flags, p.payload)
		}
		cl.mapLen(6) // RESP3: a map, its flags a set
		cl.bulkString("flags")
		cl.setLen(len(flags))
		for _, f := range flags {
			cl.bulkString(f)
		}
		cl.bulkString("passwords")
		cl.array(len(p.passwords))
		for _, h := range p.passwords {
			cl.bulkString(h)
		}
		cl.bulkString("commands")
		cl.bulkString(p.commandsText())
		cl.bulkString("keys")
		cl.bulkString(p.keysText())
		cl.bulkString("channels")
		cl.bulkString(p.channelsText())
		cl.bulkString("selectors")
		cl.array(0)
	case sub == "deluser" && n >= 3:
		names := make([]string, n-2)
		for i, a := range args[2:] {
			names[i] = string(a)
		}
		gone, msg := s.acl.delUser(names)
		if msg != "" {
			cl.err(msg)
			return
		}
		cl.integer(int64(len(gone)))
		s.killUsers(cl, gone)
	case sub == "list" && n == 2:
		users := s.acl.sortedUsers()
		cl.array(len(users))
		for _, u := range users {
			cl.bulkString(u.describe())
		}
	case sub == "users" && n == 2:
		users := s.acl.sortedUsers()
		cl.array(len(users))
		for _, u := range users {
			cl.bulkString(u.name)
		}
	case sub == "whoami" && n == 2:
		cl.bulkString(cl.user.Load().name)
	case sub == "cat" && n <= 3:
		if n == 2 {
			cl.array(len(aclCategoryNames))
			for _, c := range aclCategoryNames {
				cl.bulkString(c)
			}
			return
		}
		cat, ok := aclCategory(string(args[2]))
		if !ok {
			cl.err("ERR Unknown category '" + string(args[2]) + "'")
			return
		}
		var names []string
		for name, c := range s.table {
			if c.cats&cat != 0 {
				names = append(names, name)
			}
			for _, sub := range c.subs {
				if sub.cats&cat != 0 {
					names = append(names, sub.name)
				}
			}
		}
		sort.Strings(names)
		cl.array(len(names))
		for _, name := range names {
			cl.bulkString(name)
		}
	case sub == "dryrun" && n >= 4:
		aclDryRun(s, cl, args)
	case sub == "genpass" && n <= 3:
		bits := 256
		if n == 3 {
			b, err := strconv.Atoi(string(args[2]))
			if err != nil || b <= 0 || b > 4096 {
				cl.err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
				return
			}
			bits = b
		}
		buf := make([]byte, (bits+7)/8)
		if _, err := randRead(buf); err != nil {
			cl.err("ERR " + err.Error())
			return
		}
		cl.bulkString(hex.EncodeToString(buf)[:(bits+3)/4])
	case (sub == "load" || sub == "save") && n == 2 && s.cfg.ACLFile == "":
		cl.err(errNoACLFile)
	case sub == "load" && n == 2:
		s.acl.fileMu.Lock()
		gone, msg := s.loadACLFile()
		s.acl.fileMu.Unlock()
		if msg != "" {
			cl.err("ERR " + msg)
			return
		}
		cl.ok()
		s.killUsers(cl, gone)
	case sub == "save" && n == 2:
		s.acl.fileMu.Lock()
		err := s.saveACLFile()
		s.acl.fileMu.Unlock()
		if err != nil {
			s.log.Warn("ACL SAVE failed", "aclfile", s.cfg.ACLFile, "err", err)
			cl.err(errACLSave)
			return
		}
		cl.ok()
	case sub == "log" && n <= 3:
		aclLogCommand(s, cl, args)
	case sub == "help" && n == 2:
		cl.statusLines(aclHelp)
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try ACL HELP.")
	}
}

// aclHelp is Redis 7.0's reply to ACL HELP.
var aclHelp = []string{
	"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CAT [<category>]",
	"    List all commands that belong to <category>, or all command categories",
	"    when no category is specified.",
	"DELUSER <username> [<username> ...]",
	"    Delete a list of users.",
	"DRYRUN <username> <command> [<arg> ...]",
	"    Returns whether the user can execute the given command without executing the command.",
	"GETUSER <username>",
	"    Get the user's details.",
	"GENPASS [<bits>]",
	"    Generate a secure 256-bit user password. The optional `bits` argument can",
	"    be used to specify a different size.",
	"LIST",
	"    Show users details in config file format.",
	"LOAD",
	"    Reload users from the ACL file.",
	"LOG [<count> | RESET]",
	"    Show the ACL log entries.",
	"SAVE",
	"    Save the current config to the ACL file.",
	"SETUSER <username> <attribute> [<attribute> ...]",
	"    Create or modify a user with the specified attributes.",
	"USERS",
	"    List all the registered usernames.",
	"WHOAMI",
	"    Return the current connection username.",
	"HELP",
	"    Prints this help.",
}

// ACL DRYRUN username command [arg ...]
func aclDryRun(s *Server, cl *client, args [][]byte) {
	u := s.acl.user(string(args[2]))
	if u == nil {
		cl.err("ERR User '" + string(args[2]) + "' not found")
		return
	}
	cmd := args[3:]
	c := s.lookup(args[3])
	var sub *aclSub
	unknown := c == nil
	if c != nil {
		sub, unknown = subcommand(c, cmd)
	}
	if unknown {
		cl.err("ERR Command '" + string(args[3]) + "' not found")
		return
	}
	if sub != nil {
		if msg := sub.arityError(len(cmd)); msg != "" {
			cl.err(msg)
			return
		}
	}
	if !c.ArityOK(len(cmd)) {
		cl.err("ERR wrong number of arguments for '" + c.Name + "' command")
		return
	}
	d, arg := u.perm.Load().check(c, cmd)
	if d == aclAllowed {
		cl.ok()
		return
	}
	msg := aclErrorText(d, arg, true)
	cl.bulkString(strings.ToUpper(msg[:1]) + msg[1:])
}

// killUsers closes the connections authenticated as any of users (ACL
// DELUSER, ACL LOAD); the caller's own connection closes after its reply.
func (s *Server) killUsers(self *client, users []*aclUser) {
	if len(users) == 0 {
		return
	}
	set := make(map[*aclUser]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	var victims []*client
	s.mu.Lock()
	for _, c := range s.clients {
		if set[c.user.Load()] {
			victims = append(victims, c)
		}
	}
	s.mu.Unlock()
	for _, v := range victims {
		s.kill(self, v)
	}
}
