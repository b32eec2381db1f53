package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/server/config"
)

// aclScript is a session of ACL administration whose replies walrus must
// give exactly as redis-server 7.0 does.
var aclScript = [][]string{
	{"ACL", "LIST"},
	{"ACL", "SETUSER", "ro", "on", ">pw", "+@read"},
	{"ACL", "GETUSER", "ro"},
	{"ACL", "SETUSER", "ro", "~foo*", "~bar", "+ping"},
	{"ACL", "SETUSER", "x"},
	{"ACL", "SETUSER", "y", "on", "nopass", "allkeys", "allchannels", "allcommands", "-flushall"},
	{"ACL", "SETUSER", "z", "&*"},
	{"ACL", "SETUSER", "ch", "on", ">a", ">b", "<a", "resetchannels", "&news.*", "-@all", "+@write", "+get"},
	{"ACL", "LIST"},
	{"ACL", "GETUSER", "z"},
	{"ACL", "GETUSER", "ch"},
	{"ACL", "GETUSER", "default"},
	{"ACL", "GETUSER", "nosuch"},
	{"ACL", "SETUSER", "bad", "bogus"},
	{"ACL", "SETUSER", "bad", "+nosuch"},
	{"ACL", "SETUSER", "bad", "+@nosuch"},
	{"ACL", "SETUSER", "bad", "#abc"},
	{"ACL", "SETUSER", "y", "~foo"},
	{"ACL", "SETUSER", "ro", "<nope"},
	{"ACL", "SETUSER", "ro", "%R~r*", "%W~w*", "%RW~rw*"},
	{"ACL", "USERS"},
	{"ACL", "DELUSER", "default"},
	{"ACL", "DELUSER", "nobody", "x"},
	{"ACL", "LIST"},
	{"ACL", "WHOAMI"},
	{"ACL", "CAT"},
	{"ACL", "CAT", "nosuch"},
	{"ACL", "DRYRUN", "ro", "set", "a", "b"},
	{"ACL", "DRYRUN", "ro", "get", "foo"},
	{"ACL", "DRYRUN", "ro", "get", "nope"},
	{"ACL", "DRYRUN", "nobody", "get", "foo"},
	{"ACL", "DRYRUN", "ro", "get"},
	{"AUTH", "ro", "wrong"},
	{"AUTH", "nouser", "x"},
	{"AUTH", "x", "x"},
	{"AUTH", "ro", "pw"},
	{"SET", "foo", "1"},
	{"GET", "a"},
	{"GET", "foo"},
	{"MGET", "foo", "bar"},
	{"GET"},
	{"AUTH", "y", "anything"},
	{"FLUSHALL"},
	{"SET", "k", "v"},
	{"AUTH", "default", "whatever"},
	{"ACL", "WHOAMI"},
	{"ACL", "SETUSER", "ps", "on", "nopass", "~*", "+@all", "resetchannels", "&news.*", "&alerts"},
	{"ACL", "GETUSER", "ps"},
	{"AUTH", "ps", "x"},
	{"PUBLISH", "news.today", "hi"},
	{"PUBLISH", "alerts", "hi"},
	{"PUBLISH", "sports", "hi"},
	{"SUBSCRIBE", "sports"},
	{"SUBSCRIBE", "news.a", "sports"},
	{"PSUBSCRIBE", "news*"},
	{"ACL", "DRYRUN", "ps", "publish", "sports", "x"},
	{"AUTH", "default", "x"},
	{"ACL", "SETUSER", "sp", "nopass", "skip-sanitize-payload", "on", ">p"},
	{"ACL", "SETUSER", "rs", "reset", ""},
	{"ACL", "SETUSER", "rs", "skip-sanitize-payload", "sanitize-payload"},
	{"ACL", "GETUSER", "sp"},
	{"ACL", "GETUSER", "rs"},
	{"ACL", "SETUSER", "sp", "~a b"},
	{"ACL", "SETUSER", "sp", "&a\tb"},
	{"ACL", "SETUSER", "sp", "%R~a\nb"},
	{"ACL", "SETUSER", "a\tb"},
	{"ACL", "LIST"},
	{"ACL", "LOAD"},
	{"ACL", "SAVE"},
}

func TestACLRepliesMatchRedis(t *testing.T) {
	raddr := redisServer(t)
	s := startServer(t)
	w, r := dialRaw(t, s.Addr().String()), dialRaw(t, raddr)
	for i, cmd := range aclScript {
		got, want := w.do(cmd...), r.do(cmd...)
		if got != want {
			t.Errorf("step %d %q:\nwalrus: %s\nredis:  %s", i, cmd, got, want)
		}
	}
}

func TestACLReadOnlyUserThroughGoRedis(t *testing.T) {
	s := startServer(t, "--requirepass", "adminpw")
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2, Password: "adminpw", MaxRetries: -1})
	t.Cleanup(func() { admin.Close() })
	if err := admin.Do(ctx, "ACL", "SETUSER", "reader", "on", ">rpw", "~*", "+@read", "+@connection").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	reader := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2, Username: "reader", Password: "rpw", MaxRetries: -1, ClientName: "rdr"})
	t.Cleanup(func() { reader.Close() })
	if v, err := reader.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("reader GET k = %q, %v", v, err)
	}
	err := reader.Set(ctx, "k", "w", 0).Err()
	if err == nil || err.Error() != "NOPERM this user has no permissions to run the 'set' command" {
		t.Fatalf("reader SET: %v, want NOPERM", err)
	}
	if err := reader.FlushAll(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("reader FLUSHALL: %v, want NOPERM", err)
	}
	if who, err := admin.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != "default" {
		t.Fatalf("admin WHOAMI = %q, %v", who, err)
	}
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "name=rdr ") || !regexpLine(list, "name=rdr ", "user=reader ") {
		t.Fatalf("CLIENT LIST does not show user=reader for the reader's connection:\n%s", list)
	}
	// Wrong credentials through go-redis.
	bad := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2, Username: "reader", Password: "nope", MaxRetries: -1})
	t.Cleanup(func() { bad.Close() })
	if err := bad.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v, want WRONGPASS", err)
	}
}

// regexpLine reports whether the line holding marker also holds want.
func regexpLine(text, marker, want string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, marker) {
			return strings.Contains(line, want)
		}
	}
	return false
}

func TestACLKeyPatternsLimitKeys(t *testing.T) {
	s := startServer(t)
	admin := dialRaw(t, s.Addr().String())
	if got := admin.do("ACL", "SETUSER", "app", "on", ">p", "+@all", "~app:*", "%R~shared:*", "%W~inbox:*"); got != "+OK" {
		t.Fatal(got)
	}
	admin.do("SET", "shared:x", "1")
	u := dialRaw(t, s.Addr().String())
	if got := u.do("AUTH", "app", "p"); got != "+OK" {
		t.Fatal(got)
	}
	const keyDenied = "-NOPERM this user has no permissions to access one of the keys used as arguments"
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"SET", "app:1", "a"}, "+OK"},
		{[]string{"GET", "app:1"}, "$a"},
		{[]string{"GET", "shared:x"}, "$1"},
		{[]string{"SET", "shared:x", "2"}, keyDenied},
		{[]string{"GET", "other"}, keyDenied},
		{[]string{"GET", "inbox:1"}, keyDenied},                   // write-only pattern
		{[]string{"MSET", "app:2", "b", "other", "c"}, keyDenied}, // one bad key refuses all
		{[]string{"EXISTS", "app:1", "app:2"}, ":1"},
		{[]string{"SORT", "app:l", "BY", "w_*"}, "-ERR BY option of SORT denied due to insufficient ACL permissions."},
		{[]string{"SORT_RO", "app:l", "GET", "#"}, "-ERR GET option of SORT denied due to insufficient ACL permissions."},
		{[]string{"SORT", "app:l", "STORE", "other"}, keyDenied},
		{[]string{"RENAME", "app:1", "other"}, keyDenied},
		{[]string{"LMPOP", "2", "app:l", "app:m", "LEFT", "COUNT", "2"}, "(nil-array)"}, // numkeys: LEFT and 2 are no keys
		{[]string{"LMPOP", "2", "app:l", "other", "LEFT"}, keyDenied},
		{[]string{"BZMPOP", "0.01", "1", "other", "MIN"}, keyDenied},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command"},
	} {
		if got := u.do(tc.cmd...); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if got := admin.do("GET", "shared:x"); got != "$1" {
		t.Fatalf("shared:x changed to %q", got)
	}
}

func TestACLDisabledDeletedAndKilledUsers(t *testing.T) {
	s := startServer(t)
	admin := dialRaw(t, s.Addr().String())
	admin.do("ACL", "SETUSER", "bob", "on", ">pw", "+@all", "~*")
	b1 := dialRaw(t, s.Addr().String())
	if got := b1.do("AUTH", "bob", "pw"); got != "+OK" {
		t.Fatal(got)
	}
	// Off: no new logins; the authenticated connection keeps working.
	admin.do("ACL", "SETUSER", "bob", "off")
	b2 := dialRaw(t, s.Addr().String())
	if got := b2.do("AUTH", "bob", "pw"); got != "-"+errWrongPass {
		t.Fatalf("AUTH to a disabled user: %q", got)
	}
	if got := b2.do("ACL", "WHOAMI"); got != "$default" {
		t.Fatalf("failed AUTH changed the user: %q", got)
	}
	if got := b1.do("PING"); got != "+PONG" {
		t.Fatalf("existing connection of a disabled user: %q", got)
	}
	// CLIENT KILL USER closes bob's connection only.
	if got := admin.do("CLIENT", "KILL", "USER", "bob"); got != ":1" {
		t.Fatalf("CLIENT KILL USER bob = %q", got)
	}
	if _, err := b1.read(); err == nil {
		t.Fatal("bob's connection still open after CLIENT KILL USER")
	}
	if got := admin.do("CLIENT", "KILL", "USER", "nobody"); got != "-ERR No such user 'nobody'" {
		t.Fatalf("CLIENT KILL USER nobody = %q", got)
	}
	// DELUSER closes the deleted user's connections.
	admin.do("ACL", "SETUSER", "bob", "on")
	b3 := dialRaw(t, s.Addr().String())
	b3.do("AUTH", "bob", "pw")
	if got := admin.do("ACL", "DELUSER", "bob"); got != ":1" {
		t.Fatalf("DELUSER bob = %q", got)
	}
	b3.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := b3.read(); err == nil {
		t.Fatal("deleted user's connection still open")
	}
	if got := admin.do("PING"); got != "+PONG" {
		t.Fatalf("admin after DELUSER: %q", got)
	}
}

func TestRequirePassIsTheDefaultUsersPassword(t *testing.T) {
	s := startServer(t, "--requirepass", "first")
	r := dialRaw(t, s.Addr().String())
	if got := r.do("HELLO", "2", "AUTH", "default", "first"); !strings.Contains(got, "$proto :2") {
		t.Fatalf("HELLO AUTH: %q", got)
	}
	if got := r.do("ACL", "LIST"); got != "[$user default on #"+hashPassword([]byte("first"))+" ~* &* +@all]" {
		t.Fatalf("ACL LIST with requirepass: %q", got)
	}
	r.do("CONFIG", "SET", "requirepass", "second")
	fresh := dialRaw(t, s.Addr().String())
	if got := fresh.do("AUTH", "first"); got != "-"+errWrongPass {
		t.Fatalf("old password after CONFIG SET: %q", got)
	}
	if got := fresh.do("AUTH", "second"); got != "+OK" {
		t.Fatalf("new password: %q", got)
	}
	r.do("CONFIG", "SET", "requirepass", "")
	if got := r.do("ACL", "LIST"); got != "[$user default on nopass ~* &* +@all]" {
		t.Fatalf("ACL LIST without requirepass: %q", got)
	}
	open := dialRaw(t, s.Addr().String())
	if got := open.do("GET", "k"); got != "(nil)" {
		t.Fatalf("new connection without requirepass: %q", got)
	}
	// A password set through ACL guards new connections too.
	r.do("ACL", "SETUSER", "default", ">viaacl")
	guarded := dialRaw(t, s.Addr().String())
	if got := guarded.do("GET", "k"); got != "-NOAUTH Authentication required." {
		t.Fatalf("after ACL SETUSER default >pw: %q", got)
	}
	if got := guarded.do("HELLO", "2", "AUTH", "default", "viaacl"); !strings.Contains(got, "$proto :2") {
		t.Fatalf("HELLO AUTH via ACL password: %q", got)
	}
}

func TestACLCategoriesComeFromTheCommandTable(t *testing.T) {
	s := startServer(t)
	cases := []struct {
		name string
		want []string
		not  []string
	}{
		{"get", []string{"read", "string", "fast"}, []string{"write", "slow", "dangerous"}},
		{"set", []string{"write", "string", "slow"}, []string{"read", "fast"}},
		{"hset", []string{"write", "hash", "fast"}, nil},
		{"zadd", []string{"write", "sortedset"}, nil},
		{"lpush", []string{"write", "list"}, nil},
		{"sadd", []string{"write", "set"}, nil},
		{"del", []string{"write", "keyspace"}, nil},
		{"flushall", []string{"write", "keyspace", "dangerous"}, []string{"read"}},
		{"keys", []string{"read", "keyspace", "dangerous"}, nil},
		// A container has Redis's own categories; its subcommands have
		// theirs (aclsub.go).
		{"config", []string{"slow"}, []string{"admin", "dangerous", "read", "write"}},
		{"psync", []string{"admin", "dangerous"}, nil},
		{"ping", []string{"connection", "fast"}, []string{"admin"}},
		{"multi", []string{"transaction"}, nil},
		{"blpop", []string{"blocking", "list", "write"}, nil},
		{"acl", []string{"slow"}, []string{"admin"}},
		{"debug", []string{"admin", "dangerous"}, nil},
	}
	for _, tc := range cases {
		c := s.table[tc.name]
		if c == nil {
			t.Errorf("%s: not in the table", tc.name)
			continue
		}
		for _, cat := range tc.want {
			if b, _ := aclCategory(cat); c.cats&b == 0 {
				t.Errorf("%s lacks @%s", tc.name, cat)
			}
		}
		for _, cat := range tc.not {
			if b, _ := aclCategory(cat); c.cats&b != 0 {
				t.Errorf("%s is wrongly in @%s", tc.name, cat)
			}
		}
	}
	r := dialRaw(t, s.Addr().String())
	if got := r.do("ACL", "CAT", "dangerous"); !strings.Contains(got, "$flushall") || strings.Contains(got, "$get ") {
		t.Fatalf("ACL CAT dangerous: %s", got)
	}
	// Every row has a distinct id within the table's bitset.
	seen := map[int]bool{}
	for _, c := range s.cmds {
		if seen[c.id] || s.cmds[c.id] != c {
			t.Fatalf("row %s has id %d, not its own", c.Name, c.id)
		}
		seen[c.id] = true
	}
}

func TestACLCategoriesMatchRedis(t *testing.T) {
	raddr := redisServer(t)
	s := startServer(t)
	ctx := context.Background()
	w := goRedis(t, s)
	r := redis.NewClient(&redis.Options{Addr: raddr, Protocol: 2})
	t.Cleanup(func() { r.Close() })
	wi, err := w.Command(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	ri, err := r.Command(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for name, wc := range wi {
		rc := ri[name]
		if rc == nil {
			continue
		}
		if len(wc.ACLFlags) == 0 {
			t.Errorf("%s: no ACL categories in COMMAND", name)
		}
		compared++
		if strings.Join(wc.ACLFlags, " ") != strings.Join(rc.ACLFlags, " ") {
			t.Errorf("%s: walrus %v, redis %v", name, wc.ACLFlags, rc.ACLFlags)
		}
	}
	if compared < 100 {
		t.Fatalf("compared only %d commands", compared)
	}
}

func TestRenamedCommandKeepsItsACLBit(t *testing.T) {
	s := startServer(t, "--rename-command", "flushdb", "wipe")
	r := dialRaw(t, s.Addr().String())
	if got := r.do("ACL", "SETUSER", "u", "on", "nopass", "~*", "+@all", "-wipe"); got != "+OK" {
		t.Fatal(got)
	}
	if got := r.do("ACL", "SETUSER", "u", "-flushdb"); !strings.Contains(got, "Unknown command") {
		t.Fatalf("rule on the old name: %q", got)
	}
	r.do("AUTH", "u", "x")
	if got := r.do("WIPE"); got != "-NOPERM this user has no permissions to run the 'flushdb' command" {
		t.Fatalf("renamed denied command: %q", got)
	}
}

// lockedBuffer is a log sink tests read while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startLogged is startServer with the server's log kept in the returned
// buffer.
func startLogged(t testing.TB, extra ...string) (*Server, *lockedBuffer) {
	t.Helper()
	args := append([]string{"--port", itoa(freePort(t)), "--dir", t.TempDir(), "--appendfsync", "no"}, extra...)
	cfg, err := config.Load("", args)
	if err != nil {
		t.Fatalf("config %v: %v", args, err)
	}
	logs := &lockedBuffer{}
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("server did not stop")
		}
	})
	return s, logs
}

func TestReplicaAuthenticatesAsMasterUser(t *testing.T) {
	m := startServer(t, "--save", "", "--requirepass", "adminpw")
	mc := dialRaw(t, m.Addr().String())
	mc.do("AUTH", "adminpw")
	if got := mc.do("ACL", "SETUSER", "replica-user", "on", ">replpw", "+psync", "+replconf", "+ping"); got != "+OK" {
		t.Fatal(got)
	}
	for i := 0; i < 100; i++ {
		mc.do("SET", "k"+itoa(i), itoa(i))
	}
	host, port, _ := strings.Cut(m.Addr().String(), ":")

	good := startServer(t, "--replicaof", host, port, "--masteruser", "replica-user", "--masterauth", "replpw")
	gc := dialRaw(t, good.Addr().String())
	waitFor(t, "link up", 20*time.Second, func() bool { return infoField(t, gc, "replication", "master_link_status") == "up" })
	mc.do("SET", "after", "sync")
	waitConverged(t, mc, gc)

	bad, logs := startLogged(t, "--replicaof", host, port, "--masteruser", "replica-user", "--masterauth", "wrong")
	bc := dialRaw(t, bad.Addr().String())
	waitFor(t, "a log line about the refused AUTH", 20*time.Second, func() bool {
		return strings.Contains(logs.String(), "WRONGPASS")
	})
	if got := infoField(t, bc, "replication", "master_link_status"); got != "down" {
		t.Fatalf("link with a wrong masterauth is %q", got)
	}
	if got := infoField(t, mc, "replication", "connected_slaves"); got != "1" {
		t.Fatalf("master has %s replicas, want only the authenticated one", got)
	}
	if got := bc.do("GET", "after"); got != "(nil)" {
		t.Fatalf("unauthenticated replica got data: %q", got)
	}
}

// aclTestTable builds a server's command table without a server.
func aclTestTable() *aclTable {
	t := map[string]*command{}
	for _, c := range engine.Commands() {
		t[c.Name] = &command{Spec: c.Spec, eng: c}
	}
	for _, c := range serverCommands() {
		t[c.Name] = c
	}
	return newACL(numberCommands(t), t, "")
}

// FuzzACLSetUser feeds arbitrary rules to ACL SETUSER: it never panics,
// and a user rebuilt from its own ACL LIST line is the same user.
func FuzzACLSetUser(f *testing.F) {
	for _, seed := range []string{
		"on >pw +@read",
		"on nopass allkeys allchannels allcommands -flushall",
		"~foo* ~bar %R~r* %W~w* +ping -get +get",
		"reset on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4",
		"resetchannels &news.* &x -@all +@write -@dangerous +@hash",
		"off nocommands resetkeys ~* <pw",
		"+config|get",
		"-@all +@admin -config|get +acl|whoami",
		"+@all -client +client|id -@connection +config|nope +config -config|set",
		"%RX~a",
		"",
		"reset skip-sanitize-payload on nopass",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rules string) {
		tab := aclTestTable()
		var args [][]byte
		for _, r := range strings.Fields(rules) {
			args = append(args, []byte(r))
		}
		if msg := tab.setUser("u", args); msg != "" {
			if !strings.HasPrefix(msg, "ERR Error in ACL SETUSER modifier '") {
				t.Fatalf("bad error text %q", msg)
			}
			if tab.user("u") != nil {
				t.Fatal("a failed SETUSER created the user")
			}
			return
		}
		line := tab.user("u").describe()
		again := strings.Fields(line)[2:] // drop "user u"
		var args2 [][]byte
		for _, r := range again {
			args2 = append(args2, []byte(r))
		}
		if msg := tab.setUser("v", args2); msg != "" {
			t.Fatalf("ACL LIST line %q does not load back: %s", line, msg)
		}
		p, q := tab.user("u").perm.Load(), tab.user("v").perm.Load()
		if got := tab.user("v").describe(); strings.TrimPrefix(got, "user v") != strings.TrimPrefix(line, "user u") {
			t.Fatalf("round trip changed the user:\n%s\n%s", line, got)
		}
		for id := range tab.rows {
			if p.canRun(id) != q.canRun(id) {
				t.Fatalf("round trip changed permission on %s: %s", tab.rows[id].Name, line)
			}
		}
		// The line ACL SAVE writes loads back (ACL LOAD) as the same user.
		users, errs := tab.parseUsers("users.acl", []byte(line+"\n"))
		if errs != "" || users["u"] == nil {
			t.Fatalf("ACL SAVE line %q does not load: %s", line, errs)
		}
		loaded := &aclUser{name: "u"}
		loaded.perm.Store(users["u"])
		if got := loaded.describe(); got != line {
			t.Fatalf("ACL SAVE then LOAD changed the user:\n%s\n%s", line, got)
		}
	})
}

// BenchmarkACLCheck measures the dispatcher's per-command ACL rule for
// the default user (bit test only) and for a user with key patterns.
func BenchmarkACLCheck(b *testing.B) {
	tab := aclTestTable()
	tab.setUser("ro", [][]byte{[]byte("on"), []byte("+@read"), []byte("~app:*"), []byte("~cache:*")})
	get := tab.table["get"]
	args := [][]byte{[]byte("GET"), []byte("app:1")}
	for _, name := range []string{"default", "ro"} {
		u := tab.user(name)
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if d, _ := u.perm.Load().check(get, args); d != aclAllowed {
					b.Fatal("denied")
				}
			}
		})
	}
}

// TestACLPubsubDefault: acl-pubsub-default gives the channels of users
// created, or reset, after it is set, against both servers.
func TestACLPubsubDefault(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		c.expect("+OK", "ACL", "SETUSER", "before")
		c.expect("+OK", "CONFIG", "SET", "acl-pubsub-default", "allchannels")
		c.expect("+OK", "ACL", "SETUSER", "after")
		c.expect("+OK", "ACL", "SETUSER", "wasreset", "reset")
		c.expect("+OK", "ACL", "SETUSER", "sub", "on", "nopass", "+@all")
		list := c.do("ACL", "LIST")
		for _, want := range []string{
			"$user before off resetchannels -@all",
			"$user after off &* -@all",
			"$user wasreset off sanitize-payload &* -@all",
		} {
			if !strings.Contains(list, want) {
				t.Errorf("ACL LIST has no %q: %s", want, list)
			}
		}
		s := dialRaw(t, addr)
		s.expect("+OK", "AUTH", "sub", "x")
		s.expect("[$subscribe $news :1]", "SUBSCRIBE", "news")
	})
}

// TestACLXReadGroupNamedStreams: a consumer group named "streams" is not
// XREADGROUP's STREAMS keyword, so ACL key rules check the stream read,
// not the names, against both servers.
func TestACLXReadGroupNamedStreams(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		c.expect("+OK", "XGROUP", "CREATE", "s", "streams", "0", "MKSTREAM")
		c.do("XADD", "s", "*", "f", "v")
		c.expect("[$s]", "COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s", ">")
		c.expect("+OK", "ACL", "SETUSER", "names", "on", "nopass", "+@all", "~c", "~STREAMS")
		c.expect("+OK", "ACL", "SETUSER", "stream", "on", "nopass", "+@all", "~s")
		u := dialRaw(t, addr)
		u.expect("+OK", "AUTH", "names", "x")
		if got := u.do("XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s", ">"); !strings.HasPrefix(got, "-NOPERM") {
			t.Errorf("a user with keys c and STREAMS read stream s: %s", got)
		}
		u.expect("+OK", "AUTH", "stream", "x")
		if got := u.do("XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s", ">"); !strings.HasPrefix(got, "[[$s ") {
			t.Errorf("a user with key s could not read stream s: %s", got)
		}
	})
}
