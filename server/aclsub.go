package server

import (
	"slices"
	"sort"
	"strings"
)

// Subcommands in ACL rules. Redis 7.0 gives each subcommand of a container
// command (CONFIG GET, CLIENT KILL, ACL WHOAMI) a bit of its own and its
// own categories: `+config|get` allows that subcommand alone,
// `-client|kill` refuses it alone, `+config` allows the container with
// every subcommand, and a category rule reaches the subcommands in it
// (`+@admin` gives CONFIG GET, not ACL WHOAMI). A container itself has
// only the categories Redis gives it (@slow; COMMAND @slow @connection).
// A subcommand that is not in the table is checked against the
// container's own bit, so nothing runs unchecked.

// aclSub is one subcommand as ACL rules see it.
type aclSub struct {
	name string // "config|get": what rules, errors and ACL LOG call it
	id   int    // its bit, after the rows' (numberSubcommands)
	cats aclCats
}

// redisContainer is a container command as Redis 7.0 has it (COMMAND
// INFO): its own categories and its subcommands'.
type redisContainer struct {
	cats aclCats
	subs map[string]aclCats
}

// redisContainers are the containers walrus has. Subcommands walrus does
// not implement are listed too, so rules that name them load as they do
// in Redis; running one gets the container's unknown subcommand error.
// CLIENT SETINFO is Redis 7.2's, not 7.0's: it is checked against
// CLIENT's own bit.
var redisContainers = map[string]redisContainer{
	"acl": {cats: catSlow, subs: map[string]aclCats{
		"cat": catSlow, "deluser": catAdminSub, "dryrun": catAdminSub, "genpass": catSlow,
		"getuser": catAdminSub, "help": catSlow, "list": catAdminSub, "load": catAdminSub,
		"log": catAdminSub, "save": catAdminSub, "setuser": catAdminSub, "users": catAdminSub,
		"whoami": catSlow,
	}},
	"client": {cats: catSlow, subs: map[string]aclCats{
		"caching": catConnSub, "getname": catConnSub, "getredir": catConnSub, "help": catConnSub,
		"id": catConnSub, "info": catConnSub, "kill": catConnAdminSub, "list": catConnAdminSub,
		"no-evict": catConnAdminSub, "pause": catConnAdminSub, "reply": catConnSub,
		"setname": catConnSub, "tracking": catConnSub,
		"trackinginfo": catConnSub, "unblock": catConnAdminSub, "unpause": catConnAdminSub,
	}},
	"config": {cats: catSlow, subs: map[string]aclCats{
		"get": catAdminSub, "help": catSlow, "resetstat": catAdminSub, "rewrite": catAdminSub,
		"set": catAdminSub,
	}},
	"command": {cats: catSlow | catConnection, subs: map[string]aclCats{
		"count": catConnSub, "docs": catConnSub, "getkeys": catConnSub,
		"getkeysandflags": catConnSub, "help": catConnSub, "info": catConnSub, "list": catConnSub,
	}},
	"object": {cats: catSlow, subs: map[string]aclCats{
		"encoding": catKeyspace | catRead | catSlow, "freq": catKeyspace | catRead | catSlow,
		"help": catKeyspace | catSlow, "idletime": catKeyspace | catRead | catSlow,
		"refcount": catKeyspace | catRead | catSlow,
	}},
	"pubsub": {cats: catSlow, subs: map[string]aclCats{
		"channels": catPubSub | catSlow, "help": catSlow, "numpat": catPubSub | catSlow,
		"numsub": catPubSub | catSlow, "shardchannels": catPubSub | catSlow,
		"shardnumsub": catPubSub | catSlow,
	}},
}

const (
	catAdminSub     = catAdmin | catSlow | catDangerous
	catConnSub      = catSlow | catConnection
	catConnAdminSub = catAdminSub | catConnection
)

// numberSubcommands gives the subcommands of the containers among rows
// their bits, after the rows' own.
func numberSubcommands(rows []*command) {
	next := len(rows)
	for _, c := range rows {
		subs := redisContainers[c.Name].subs
		if subs == nil {
			continue
		}
		names := make([]string, 0, len(subs))
		for n := range subs {
			names = append(names, n)
		}
		sort.Strings(names)
		c.subs = make(map[string]*aclSub, len(names))
		for _, n := range names {
			c.subs[n] = &aclSub{name: c.Name + "|" + n, id: next, cats: subs[n]}
			next++
		}
	}
}

// aclTarget is the bit and the name an ACL check of c with args looks
// at: a known subcommand's, else the command's.
func aclTarget(c *command, args [][]byte) (id int, name string) {
	if c.subs != nil && len(args) > 1 {
		if sub := c.subs[strings.ToLower(string(args[1]))]; sub != nil {
			return sub.id, sub.name
		}
	}
	return c.id, c.Name
}

// subcommandRule applies +cmd|sub or -cmd|sub (lower is the rule in lower
// case); it returns Redis's error text, or "". A rule on a subcommand of
// a Redis command walrus does not have (`+script|kill`, aclredis.go) is
// kept, with nothing to allow or refuse.
func (t *aclTable) subcommandRule(p *aclPerm, lower string) string {
	allow := lower[0] == '+'
	parent, sub, _ := strings.Cut(lower[1:], "|")
	c := t.table[parent]
	redisSubs, redisOnly := redisOnlyCommands[parent]
	switch {
	case c == nil && !redisOnly:
		return errACLUnknown
	case c != nil && c.subs == nil, c == nil && redisSubs == nil:
		if !allow {
			return errACLUnknown
		}
		// Redis allows a first argument of a command this way (SELECT|0),
		// a use it deprecates; walrus does not.
		return "first-arg rules (command|first-arg) are not supported"
	case sub == "":
		return errACLSyntax
	case strings.Contains(sub, "|"):
		if allow {
			return "Allowing first-arg of a subcommand is not supported"
		}
		return errACLUnknown
	}
	if c == nil {
		if !slices.Contains(redisSubs, sub) {
			return errACLUnknown
		}
		addRule(p, lower)
		return ""
	}
	s := c.subs[sub]
	if s == nil {
		return errACLUnknown
	}
	setBit(p.cmds, s.id, allow)
	addRule(p, lower)
	return ""
}
