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

// A container's unknown subcommand, and the wrong number of arguments to
// a subcommand, are answered before authentication and ACL rules, with
// Redis's texts; arity comes before authentication for every command.
// The expected replies are Redis 7.0's: where redis-server is installed,
// the same steps run against it too and must get them.
func TestSubcommandErrorsComeFirst(t *testing.T) {
	clip := strings.Repeat("x", 128)
	steps := []struct {
		conn string
		cmd  []string
		want string
	}{
		{"admin", []string{"ACL", "SETUSER", "u", "on", "nopass", "-@all", "+config|get"}, "+OK"},
		{"user", []string{"AUTH", "u", "x"}, "+OK"},
		{"user", []string{"CONFIG", "GET", "nosuchparameter"}, "[]"},
		{"user", []string{"CONFIG", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP."},
		{"user", []string{"config", "nosuch", "x"}, "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP."},
		{"user", []string{"CONFIG", "GET"}, "-ERR wrong number of arguments for 'config|get' command"},
		{"user", []string{"CONFIG", "SET", "maxmemory"}, "-ERR wrong number of arguments for 'config|set' command"},
		{"user", []string{"CONFIG", "SET", "maxmemory", "0"}, "-NOPERM this user has no permissions to run the 'config|set' command"},
		{"user", []string{"CONFIG"}, "-ERR wrong number of arguments for 'config' command"},
		{"user", []string{"CLIENT", "KILL"}, "-ERR wrong number of arguments for 'client|kill' command"},
		{"user", []string{"CLIENT", "SETINFO", "LIB-NAME", "x"}, "-NOPERM this user has no permissions to run the 'client' command"},
		{"user", []string{"OBJECT", "ENCODING"}, "-ERR wrong number of arguments for 'object|encoding' command"},
		{"user", []string{"PUBSUB", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try PUBSUB HELP."},
		{"user", []string{"COMMAND", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP."},
		{"user", []string{"ACL", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try ACL HELP."},
		{"user", []string{"ACL", "WHOAMI", "x"}, "-ERR wrong number of arguments for 'acl|whoami' command"},
		{"user", []string{"CLIENT", clip + "yyy"}, "-ERR unknown subcommand '" + clip + "'. Try CLIENT HELP."},
		{"admin", []string{"ACL", "DRYRUN", "u", "CONFIG", "NOSUCH"}, "-ERR Command 'CONFIG' not found"},
		{"admin", []string{"ACL", "DRYRUN", "u", "CONFIG", "GET"}, "-ERR wrong number of arguments for 'config|get' command"},
		{"admin", []string{"ACL", "DRYRUN", "u", "CONFIG", "GET", "x"}, "+OK"},
		{"admin", []string{"ACL", "DRYRUN", "u", "CONFIG", "SET", "x", "y"}, "$This user has no permissions to run the 'config|set' command"},
		{"admin", []string{"ACL", "SETUSER", "u", "+config"}, "+OK"},
		{"user", []string{"CONFIG", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP."},
		// "anon" connects after the default user gets a password.
		{"admin", []string{"ACL", "SETUSER", "default", ">secret"}, "+OK"},
		{"anon", []string{"GET"}, "-ERR wrong number of arguments for 'get' command"},
		{"anon", []string{"GET", "k"}, "-NOAUTH Authentication required."},
		{"anon", []string{"CONFIG", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP."},
		{"anon", []string{"CONFIG", "GET"}, "-ERR wrong number of arguments for 'config|get' command"},
		{"anon", []string{"CONFIG", "GET", "maxmemory"}, "-NOAUTH Authentication required."},
		{"anon", []string{"CLIENT", "SETINFO", "LIB-NAME", "x"}, "-NOAUTH Authentication required."},
		{"admin", []string{"CLIENT", "SETINFO", "LIB-NAME", "x"}, "+OK"},
	}
	run := func(t *testing.T, addr string, redis bool) {
		conns := map[string]*rawConn{"admin": dialRaw(t, addr), "user": dialRaw(t, addr)}
		for i, st := range steps {
			if redis && st.cmd[0] == "CLIENT" && st.cmd[1] == "SETINFO" {
				continue // Redis 7.2's: Redis 7.0 does not have it
			}
			c := conns[st.conn]
			if c == nil {
				c = dialRaw(t, addr)
				conns[st.conn] = c
			}
			if got := c.do(st.cmd...); got != st.want {
				t.Fatalf("step %d %s %q: %s, want %s", i, st.conn, st.cmd, got, st.want)
			}
		}
	}
	t.Run("walrus", func(t *testing.T) { run(t, startServer(t).Addr().String(), false) })
	t.Run("redis", func(t *testing.T) { run(t, redisServer(t), true) })
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
