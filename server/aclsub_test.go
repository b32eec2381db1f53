package server

import (
	"sort"
	"strings"
	"testing"
)

// aclSubcommandScript exercises subcommand rules; walrus must answer each
// step exactly as redis-server 7.0 does. conn "admin" stays the default
// user; "user" authenticates as the users the script makes.
var aclSubcommandScript = []struct {
	conn string
	cmd  []string
}{
	{"admin", []string{"ACL", "SETUSER", "one", "-@all", "+config|get"}},
	{"admin", []string{"ACL", "SETUSER", "two", "-@all", "+config|get", "+config"}},
	{"admin", []string{"ACL", "SETUSER", "three", "+@all", "-config", "+config|get"}},
	{"admin", []string{"ACL", "SETUSER", "four", "-@all", "+@admin", "-config|get"}},
	{"admin", []string{"ACL", "SETUSER", "five", "-@all", "+CONFIG|GET"}},
	{"admin", []string{"ACL", "LIST"}},
	{"admin", []string{"ACL", "SETUSER", "sub", "on", "nopass", "~*", "-@all", "+config|get", "+client|getname", "+acl|dryrun"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "+config|"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "+config|get|x"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "+config|nope"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "-config|nope"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "+nope|get"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "-select|0"}},
	// Commands of Redis that walrus does not have: rules naming them load.
	{"admin", []string{"ACL", "SETUSER", "lua", "-@all", "+script|kill"}},
	{"admin", []string{"ACL", "GETUSER", "lua"}},
	{"admin", []string{"ACL", "SETUSER", "nostream", "+@all", "-xadd"}},
	{"admin", []string{"ACL", "GETUSER", "nostream"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "+script|nope"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "+script|"}},
	{"admin", []string{"ACL", "SETUSER", "bad", "-eval|x"}},
	{"admin", []string{"ACL", "DRYRUN", "sub", "config", "get", "x"}},
	{"admin", []string{"ACL", "DRYRUN", "sub", "config", "set", "maxmemory", "0"}},
	{"admin", []string{"ACL", "DRYRUN", "four", "config", "get", "x"}},
	{"admin", []string{"ACL", "DRYRUN", "four", "config", "rewrite"}},
	{"admin", []string{"ACL", "DRYRUN", "four", "acl", "whoami"}},
	{"user", []string{"AUTH", "sub", "x"}},
	{"user", []string{"CONFIG", "GET", "nosuchparameter"}},
	{"user", []string{"CONFIG", "SET", "maxmemory", "0"}},
	{"user", []string{"CONFIG", "RESETSTAT"}},
	{"user", []string{"CLIENT", "GETNAME"}},
	{"user", []string{"CLIENT", "KILL", "127.0.0.1:1"}},
	{"user", []string{"ACL", "WHOAMI"}},
	{"user", []string{"ACL", "DRYRUN", "sub", "client", "list"}},
	{"user", []string{"MULTI"}},
	{"user", []string{"CONFIG", "GET", "nosuchparameter"}},
	{"user", []string{"EXEC"}},
	{"admin", []string{"ACL", "SETUSER", "sub", "-config|get"}},
	{"user", []string{"CONFIG", "GET", "nosuchparameter"}},
	{"admin", []string{"ACL", "SETUSER", "sub", "+config"}},
	{"user", []string{"CONFIG", "GET", "nosuchparameter"}},
	{"admin", []string{"ACL", "GETUSER", "two"}},
	{"admin", []string{"ACL", "SETUSER", "na", "on", "nopass", "~*", "+@all", "-@admin"}},
	{"user", []string{"AUTH", "na", "x"}},
	{"user", []string{"ACL", "WHOAMI"}},
	{"user", []string{"ACL", "LIST"}},
	{"user", []string{"CONFIG", "GET", "nosuchparameter"}},
	{"user", []string{"OBJECT", "ENCODING", "nokey"}},
	{"user", []string{"COMMAND", "COUNT"}},
	{"user", []string{"CLIENT", "LIST"}},
	{"user", []string{"PUBSUB", "NUMPAT"}},
	// A refused EXEC discards the transaction.
	{"admin", []string{"ACL", "SETUSER", "tx", "on", "nopass", "~*", "-@all", "+multi", "+set", "+get", "+discard"}},
	{"user", []string{"AUTH", "tx", "x"}},
	{"user", []string{"MULTI"}},
	{"user", []string{"SET", "k", "v"}},
	{"user", []string{"EXEC"}},
	{"user", []string{"DISCARD"}},
	{"user", []string{"GET", "k"}},
}

func TestACLSubcommandRulesMatchRedis(t *testing.T) {
	raddr := redisServer(t)
	s := startServer(t)
	conns := func(addr string) map[string]*rawConn {
		return map[string]*rawConn{"admin": dialRaw(t, addr), "user": dialRaw(t, addr)}
	}
	w, r := conns(s.Addr().String()), conns(raddr)
	for i, st := range aclSubcommandScript {
		got, want := w[st.conn].do(st.cmd...), r[st.conn].do(st.cmd...)
		if st.cmd[0] == "COMMAND" && strings.HasPrefix(got, ":") && strings.HasPrefix(want, ":") {
			continue // the tables differ in size; that it ran is the point
		}
		if got != want {
			t.Errorf("step %d %s %q:\nwalrus: %s\nredis:  %s", i, st.conn, st.cmd, got, want)
		}
	}
	got, want := readACLLog(t, w["admin"], "100"), readACLLog(t, r["admin"], "100")
	if len(want) == 0 {
		t.Fatal("redis logged nothing")
	}
	if comparable(got) != comparable(want) {
		t.Errorf("ACL LOG:\nwalrus:\n%s\nredis:\n%s", comparable(got), comparable(want))
	}
}

// ACL CAT names the subcommands of walrus's containers in each category
// as Redis does.
func TestACLCategoriesOfSubcommandsMatchRedis(t *testing.T) {
	raddr := redisServer(t)
	s := startServer(t)
	w, r := dialRaw(t, s.Addr().String()), dialRaw(t, raddr)
	subs := func(c *rawConn, cat string) string {
		c.send("ACL", "CAT", cat)
		v, err := c.value()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range v.([]any) {
			name := n.(string)
			if parent, _, ok := strings.Cut(name, "|"); ok && redisContainers[parent].subs != nil {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		return strings.Join(names, " ")
	}
	for _, cat := range aclCategoryNames {
		if got, want := subs(w, cat), subs(r, cat); got != want {
			t.Errorf("ACL CAT %s, subcommands:\nwalrus: %s\nredis:  %s", cat, got, want)
		}
	}
	if got := subs(w, "admin"); !strings.Contains(got, "config|get") || strings.Contains(got, "acl|whoami") {
		t.Fatalf("ACL CAT admin: %s", got)
	}
}

// A subcommand the table does not know is checked against its container's
// own bit: a user allowed one subcommand runs nothing else of it.
func TestUnknownSubcommandNeedsTheContainer(t *testing.T) {
	s := startServer(t)
	admin, user := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	for _, st := range []struct {
		c    *rawConn
		cmd  []string
		want string
	}{
		{admin, []string{"ACL", "SETUSER", "u", "on", "nopass", "-@all", "+config|get"}, "+OK"},
		{user, []string{"AUTH", "u", "x"}, "+OK"},
		{user, []string{"CONFIG", "GET", "nosuchparameter"}, "[]"},
		{user, []string{"CONFIG", "NOSUCH"}, "-NOPERM this user has no permissions to run the 'config' command"},
		{admin, []string{"ACL", "SETUSER", "u", "+config"}, "+OK"},
		{user, []string{"CONFIG", "NOSUCH"}, "-ERR Unknown subcommand or wrong number of arguments for 'NOSUCH'. Try CONFIG HELP."},
	} {
		if got := st.c.do(st.cmd...); got != st.want {
			t.Fatalf("%q: %s, want %s", st.cmd, got, st.want)
		}
	}
}

// redisOnlyCommands holds no command walrus has; and, where redis-server
// is installed, it is exactly Redis's commands less walrus's, with their
// subcommands.
func TestRedisOnlyCommandsAreRedisLessWalrus(t *testing.T) {
	s := startServer(t)
	for name := range redisOnlyCommands {
		if s.table[name] != nil {
			t.Errorf("%s is in walrus's table and in redisOnlyCommands", name)
		}
	}
	raddr := redisServer(t)
	r := dialRaw(t, raddr)
	r.send("COMMAND")
	v, err := r.value()
	if err != nil {
		t.Fatal(err)
	}
	redisCmds := map[string][]string{}
	for _, item := range v.([]any) {
		info := item.([]any)
		var subs []string
		if len(info) > 9 {
			if list, ok := info[9].([]any); ok {
				for _, sub := range list {
					_, name, _ := strings.Cut(sub.([]any)[0].(string), "|")
					subs = append(subs, name)
				}
			}
		}
		sort.Strings(subs)
		redisCmds[info[0].(string)] = subs
	}
	for name, subs := range redisCmds {
		if s.table[name] != nil {
			continue
		}
		mine, ok := redisOnlyCommands[name]
		if !ok {
			t.Errorf("Redis's %s is neither in walrus's table nor in redisOnlyCommands", name)
			continue
		}
		if strings.Join(mine, " ") != strings.Join(subs, " ") {
			t.Errorf("%s: subcommands %v, Redis has %v", name, mine, subs)
		}
	}
	for name := range redisOnlyCommands {
		if _, ok := redisCmds[name]; !ok {
			t.Errorf("%s is in redisOnlyCommands but not a Redis command", name)
		}
	}
}
