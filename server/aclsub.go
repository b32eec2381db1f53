package server

import (
	"slices"
	"sort"
	"strings"

	"github.com/walrus-kv/walrus/engine"
)

// Subcommands in ACL rules. Redis 7.0 gives each subcommand of a container
// command (CONFIG GET, CLIENT KILL, ACL WHOAMI) a bit of its own and its
// own categories: `+config|get` allows that subcommand alone,
// `-client|kill` refuses it alone, `+config` allows the container with
// every subcommand, and a category rule reaches the subcommands in it
// (`+@admin` gives CONFIG GET, not ACL WHOAMI). A container itself has
// only the categories Redis gives it (@slow; COMMAND @slow @connection).
// A subcommand that is in neither table (redisContainers, walrusSubs)
// is refused before any of this, as in Redis.

// aclSub is one subcommand as ACL rules see it.
type aclSub struct {
	name  string // "config|get": what rules, errors and ACL LOG call it
	id    int    // its bit, after the rows' (numberSubcommands)
	cats  aclCats
	arity int
	stat  cmdStat // INFO commandstats (cmdstats.go)
}

// redisContainer is a container command as Redis 7.0 has it (COMMAND
// INFO): its own categories and its subcommands.
type redisContainer struct {
	cats aclCats
	subs map[string]redisSub
}

// redisSub is a subcommand as Redis 7.0 has it: its categories and its
// arity (COMMAND's: the container and the subcommand are counted, a
// negative arity is a minimum).
type redisSub struct {
	cats  aclCats
	arity int
}

// redisContainers are the containers walrus has, with Redis 7.0's
// subcommands, so rules that name them load as they do in Redis. walrus
// answers every one of them (some with an error of its own where it
// lacks what the subcommand reaches: SCRIPT DEBUG YES, the CLUSTER
// ones), and COMMAND lists them all (TestListedSubcommandsAreServed).
// CLIENT SETINFO is Redis 7.2's, not 7.0's: it is checked against
// CLIENT's own bit.
var redisContainers = map[string]redisContainer{
	"acl": {cats: catSlow, subs: map[string]redisSub{
		"cat": {catSlow, -2}, "deluser": {catAdminSub, -3}, "dryrun": {catAdminSub, -4},
		"genpass": {catSlow, -2}, "getuser": {catAdminSub, 3}, "help": {catSlow, 2},
		"list": {catAdminSub, 2}, "load": {catAdminSub, 2}, "log": {catAdminSub, -2},
		"save": {catAdminSub, 2}, "setuser": {catAdminSub, -3}, "users": {catAdminSub, 2},
		"whoami": {catSlow, 2},
	}},
	"client": {cats: catSlow, subs: map[string]redisSub{
		"caching": {catConnSub, 3}, "getname": {catConnSub, 2}, "getredir": {catConnSub, 2},
		"help": {catConnSub, 2}, "id": {catConnSub, 2}, "info": {catConnSub, 2},
		"kill": {catConnAdminSub, -3}, "list": {catConnAdminSub, -2},
		"no-evict": {catConnAdminSub, 3}, "pause": {catConnAdminSub, -3},
		"reply": {catConnSub, 3}, "setname": {catConnSub, 3}, "tracking": {catConnSub, -3},
		"trackinginfo": {catConnSub, 2}, "unblock": {catConnAdminSub, -3},
		"unpause": {catConnAdminSub, 2},
	}},
	"config": {cats: catSlow, subs: map[string]redisSub{
		"get": {catAdminSub, -3}, "help": {catSlow, 2}, "resetstat": {catAdminSub, 2},
		"rewrite": {catAdminSub, 2}, "set": {catAdminSub, -4},
	}},
	"command": {cats: catSlow | catConnection, subs: map[string]redisSub{
		"count": {catConnSub, 2}, "docs": {catConnSub, -2}, "getkeys": {catConnSub, -4},
		"getkeysandflags": {catConnSub, -4}, "help": {catConnSub, 2},
		"info": {catConnSub, -2}, "list": {catConnSub, -2},
	}},
	"latency": {cats: catSlow, subs: map[string]redisSub{
		"doctor": {catAdminSub, 2}, "graph": {catAdminSub, 3}, "help": {catSlow, 2},
		"histogram": {catAdminSub, -2}, "history": {catAdminSub, 3}, "latest": {catAdminSub, 2},
		"reset": {catAdminSub, -2},
	}},
	"slowlog": {cats: catSlow, subs: map[string]redisSub{
		"get": {catAdminSub, -2}, "help": {catSlow, 2}, "len": {catAdminSub, 2}, "reset": {catAdminSub, 2},
	}},
	"memory": {cats: catSlow, subs: map[string]redisSub{
		"doctor": {catSlow, 2}, "help": {catSlow, 2}, "malloc-stats": {catSlow, 2},
		"purge": {catSlow, 2}, "stats": {catSlow, 2}, "usage": {catRead | catSlow, -3},
	}},
	"object": {cats: catSlow, subs: map[string]redisSub{
		"encoding": {catKeyspace | catRead | catSlow, 3},
		"freq":     {catKeyspace | catRead | catSlow, 3}, "help": {catKeyspace | catSlow, 2},
		"idletime": {catKeyspace | catRead | catSlow, 3},
		"refcount": {catKeyspace | catRead | catSlow, 3},
	}},
	"function": {cats: catSlow, subs: map[string]redisSub{
		"delete": {catWrite | catSlow | catScripting, 3}, "dump": {catSlow | catScripting, 2},
		"flush": {catWrite | catSlow | catScripting, -2}, "help": {catSlow | catScripting, 2},
		"kill": {catSlow | catScripting, 2}, "list": {catSlow | catScripting, -2},
		"load": {catWrite | catSlow | catScripting, -3}, "restore": {catWrite | catSlow | catScripting, -3},
		"stats": {catSlow | catScripting, 2},
	}},
	"script": {cats: catSlow, subs: map[string]redisSub{
		"debug": {catSlow | catScripting, 3}, "exists": {catSlow | catScripting, -3},
		"flush": {catSlow | catScripting, -2}, "help": {catSlow | catScripting, 2},
		"kill": {catSlow | catScripting, 2}, "load": {catSlow | catScripting, 3},
	}},
	"xgroup": {cats: catSlow, subs: map[string]redisSub{
		"create": {catStreamWrite, -5}, "createconsumer": {catStreamWrite, 5},
		"delconsumer": {catStreamWrite, 5}, "destroy": {catStreamWrite, 4},
		"help": {catStream | catSlow, 2}, "setid": {catStreamWrite, -5},
	}},
	"xinfo": {cats: catSlow, subs: map[string]redisSub{
		"consumers": {catStreamRead, 4}, "groups": {catStreamRead, 3},
		"help": {catStream | catSlow, 2}, "stream": {catStreamRead, -3},
	}},
	"module": {cats: catSlow, subs: map[string]redisSub{
		"help": {catSlow, 2}, "list": {catAdminSub, 2}, "load": {catAdminSub, -3},
		"loadex": {catAdminSub, -3}, "unload": {catAdminSub, 3},
	}},
	"cluster": {cats: catSlow, subs: map[string]redisSub{
		"addslots": {catAdminSub, -3}, "addslotsrange": {catAdminSub, -4}, "bumpepoch": {catAdminSub, 2},
		"count-failure-reports": {catAdminSub, 3}, "countkeysinslot": {catSlow, 3},
		"delslots": {catAdminSub, -3}, "delslotsrange": {catAdminSub, -4}, "failover": {catAdminSub, -2},
		"flushslots": {catAdminSub, 2}, "forget": {catAdminSub, 3}, "getkeysinslot": {catSlow, 4},
		"help": {catSlow, 2}, "info": {catSlow, 2}, "keyslot": {catSlow, 3}, "links": {catSlow, 2},
		"meet": {catAdminSub, -4}, "myid": {catSlow, 2}, "nodes": {catSlow, 2}, "replicas": {catAdminSub, 3},
		"replicate": {catAdminSub, 3}, "reset": {catAdminSub, -2}, "saveconfig": {catAdminSub, 2},
		"set-config-epoch": {catAdminSub, 3}, "setslot": {catAdminSub, -4}, "shards": {catSlow, 2},
		"slaves": {catAdminSub, 3}, "slots": {catSlow, 2},
	}},
	"pubsub": {cats: catSlow, subs: map[string]redisSub{
		"channels": {catPubSub | catSlow, -2}, "help": {catSlow, 2},
		"numpat": {catPubSub | catSlow, 2}, "numsub": {catPubSub | catSlow, -2},
		"shardchannels": {catPubSub | catSlow, -2}, "shardnumsub": {catPubSub | catSlow, -2},
	}},
}

const (
	catAdminSub     = catAdmin | catSlow | catDangerous
	catConnSub      = catSlow | catConnection
	catConnAdminSub = catAdminSub | catConnection
	catStreamWrite  = catWrite | catStream | catSlow
	catStreamRead   = catRead | catStream | catSlow
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
			c.subs[n] = &aclSub{name: c.Name + "|" + n, id: next, cats: subs[n].cats, arity: subs[n].arity}
			next++
		}
	}
}

// walrusSubs are subcommands walrus runs that Redis 7.0 does not have
// (go-redis and redis-py send CLIENT SETINFO on connecting). ACL checks
// them against the container's own bit; their handler checks their
// arguments.
var walrusSubs = map[string][]string{"client": {"setinfo"}}

// subcommand returns the subcommand of a container command c that args
// run: nil for the container itself or a subcommand in walrusSubs, and
// unknown for one that c does not have. Redis refuses an unknown
// subcommand, and the wrong number of arguments to one, before it looks
// at authentication or ACL rules, as it does an unknown command.
func subcommand(c *command, args [][]byte) (sub *aclSub, unknown bool) {
	if c.subs == nil || len(args) < 2 {
		return nil, false
	}
	lower := strings.ToLower(string(args[1]))
	if sub := c.subs[lower]; sub != nil {
		return sub, false
	}
	return nil, !slices.Contains(walrusSubs[c.Name], lower)
}

// unknownSubcommand is Redis's error for a subcommand args[1] that the
// container args[0] does not have.
func unknownSubcommand(args [][]byte) string {
	return "ERR unknown subcommand '" + clip(string(args[1])) + "'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

// arityError is Redis's error for n arguments to s (the container and the
// subcommand counted), or "" when n fits.
func (s *aclSub) arityError(n int) string {
	if (&engine.Spec{Arity: s.arity}).ArityOK(n) {
		return ""
	}
	return "ERR wrong number of arguments for '" + s.name + "' command"
}

// aclTarget is the bit and the name an ACL check of c with args looks
// at: a known subcommand's, else the command's.
func aclTarget(c *command, args [][]byte) (id int, name string) {
	if sub, _ := subcommand(c, args); sub != nil {
		return sub.id, sub.name
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
