package server

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// aclLogFields are Redis 7.0.15's ACL LOG entry fields, in its order.
var aclLogFields = []string{"count", "reason", "context", "object", "username", "age-seconds", "client-info"}

// logEntry is one ACL LOG entry: its values by field (count as decimal
// text), after its field names were checked against aclLogFields.
type logEntry map[string]string

// value reads one RESP reply as Go values: string (simple or bulk),
// respError, int64, nil or []any.
func (r *rawConn) value() (any, error) {
	line, err := r.rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return respError(line[1:]), nil
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.rd, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = r.value(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply line %q", line)
}

type respError string

// readACLLog runs ACL LOG [args] on r and checks the shape of every entry:
// Redis 7.0's fields in its order, count an integer, the rest strings,
// age-seconds a double written as %.17g.
func readACLLog(t *testing.T, r *rawConn, args ...string) []logEntry {
	t.Helper()
	r.send(append([]string{"ACL", "LOG"}, args...)...)
	v, err := r.value()
	if err != nil {
		t.Fatal(err)
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("ACL LOG %q: %#v, want an array", args, v)
	}
	out := make([]logEntry, len(list))
	for i, item := range list {
		flat, ok := item.([]any)
		if !ok || len(flat) != 2*len(aclLogFields) {
			t.Fatalf("ACL LOG entry %d: %#v, want %d fields", i, item, len(aclLogFields))
		}
		e := logEntry{}
		for j, f := range aclLogFields {
			if flat[2*j] != f {
				t.Fatalf("ACL LOG entry %d: field %d is %#v, want %q", i, j, flat[2*j], f)
			}
			switch v := flat[2*j+1].(type) {
			case int64:
				if f != "count" {
					t.Fatalf("ACL LOG entry %d: %s is an integer", i, f)
				}
				e[f] = strconv.FormatInt(v, 10)
			case string:
				if f == "count" {
					t.Fatalf("ACL LOG entry %d: count is %q, not an integer", i, v)
				}
				e[f] = v
			default:
				t.Fatalf("ACL LOG entry %d: %s is %#v", i, f, v)
			}
		}
		age, err := strconv.ParseFloat(e["age-seconds"], 64)
		if err != nil || age < 0 || age > 60 || strconv.FormatFloat(age, 'g', 17, 64) != e["age-seconds"] {
			t.Fatalf("ACL LOG entry %d: age-seconds %q, want a recent age written as %%.17g", i, e["age-seconds"])
		}
		out[i] = e
	}
	return out
}

// brief renders entries as "count reason context object username" lines.
func brief(entries []logEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s %s %s %s\n", e["count"], e["reason"], e["context"], e["object"], e["username"])
	}
	return b.String()
}

// clientField is one name=value field of a client-info line.
func clientField(info, name string) string {
	for _, f := range strings.Fields(info) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return "(missing)"
}

// aliceServer starts walrus with a user alice (password pw) who may run
// GET, SET, PUBLISH, SUBSCRIBE, PSUBSCRIBE, MULTI, EXEC and PING on keys
// foo* and channels chan*; it returns an admin connection (default user)
// and one authenticated as alice.
func aliceServer(t *testing.T, extra ...string) (s *Server, admin, alice *rawConn) {
	t.Helper()
	s = startServer(t, extra...)
	admin = dialRaw(t, s.Addr().String())
	if got := admin.do("ACL", "SETUSER", "alice", "on", ">pw", "~foo*", "&chan*", "-@all",
		"+get", "+set", "+publish", "+subscribe", "+psubscribe", "+multi", "+exec", "+ping"); got != "+OK" {
		t.Fatal(got)
	}
	alice = dialRaw(t, s.Addr().String())
	if got := alice.do("AUTH", "alice", "pw"); got != "+OK" {
		t.Fatal(got)
	}
	return s, admin, alice
}

func TestACLLogRecordsEachReason(t *testing.T) {
	s, admin, alice := aliceServer(t)
	if got := readACLLog(t, admin); len(got) != 0 {
		t.Fatalf("fresh server: ACL LOG has %d entries", len(got))
	}
	steps := []struct {
		conn *rawConn
		cmd  []string
		want string
	}{
		{alice, []string{"DEL", "foo"}, "-NOPERM this user has no permissions to run the 'del' command"},
		{alice, []string{"GET", "bar"}, "-NOPERM this user has no permissions to access one of the keys used as arguments"},
		{alice, []string{"PUBLISH", "news", "m"}, "-NOPERM this user has no permissions to access one of the channels used as arguments"},
		{alice, []string{"SUBSCRIBE", "chan1", "other"}, "-NOPERM this user has no permissions to access one of the channels used as arguments"},
		{dialRaw(t, s.Addr().String()), []string{"AUTH", "alice", "wrong"}, "-" + errWrongPass},
		{dialRaw(t, s.Addr().String()), []string{"hello", "2", "AUTH", "bob", "x"}, "-" + errWrongPass},
		{dialRaw(t, s.Addr().String()), []string{"AUTH", "nopass-for-default"}, "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
		// Not ACL denials: allowed, SORT's own refusal, unknown command.
		{alice, []string{"GET", "foo"}, "(nil)"},
		{alice, []string{"PUBLISH", "chan1", "m"}, ":0"},
		{admin, []string{"NOSUCH"}, "-ERR unknown command 'NOSUCH', with args beginning with: "},
	}
	for _, st := range steps {
		if got := st.conn.do(st.cmd...); got != st.want {
			t.Fatalf("%q: %s, want %s", st.cmd, got, st.want)
		}
	}
	got := readACLLog(t, admin)
	want := "1 auth toplevel hello bob\n" + // AUTH's own name, as typed; the name tried
		"1 auth toplevel AUTH alice\n" +
		"1 channel toplevel other alice\n" +
		"1 channel toplevel news alice\n" +
		"1 key toplevel bar alice\n" +
		"1 command toplevel del alice\n"
	if brief(got) != want {
		t.Fatalf("ACL LOG:\n%s\nwant:\n%s", brief(got), want)
	}
	// client-info is the client's CLIENT LIST line at the denial: the
	// command it ran, and the user it ran as (default for a failed AUTH).
	for i, w := range []struct{ cmd, user string }{{"hello", "default"}, {"auth", "default"}, {"subscribe", "alice"}, {"publish", "alice"}, {"get", "alice"}, {"del", "alice"}} {
		info := got[i]["client-info"]
		if !strings.HasPrefix(info, "id=") || clientField(info, "cmd") != w.cmd || clientField(info, "user") != w.user || clientField(info, "flags") != "N" {
			t.Errorf("entry %d client-info %q, want cmd=%s user=%s flags=N", i, info, w.cmd, w.user)
		}
	}
	// alice's denials carry her connection's id, the AUTH ones theirs.
	aliceID := clientField(got[5]["client-info"], "id")
	for i, same := range []bool{false, false, true, true, true} {
		if id := clientField(got[i]["client-info"], "id"); (id == aliceID) != same {
			t.Errorf("entry %d: client id %s, alice's is %s", i, id, aliceID)
		}
	}
}

func TestACLLogGroupsRepeats(t *testing.T) {
	s, admin, alice := aliceServer(t)
	alice.do("GET", "bar")
	alice.do("GET", "bar")
	if got := brief(readACLLog(t, admin)); got != "2 key toplevel bar alice\n" {
		t.Fatalf("a repeated denial: ACL LOG\n%s", got)
	}
	alice.do("GET", "baz")
	alice.do("DEL", "bar") // same object text, another reason
	if got, want := brief(readACLLog(t, admin)), "1 command toplevel del alice\n1 key toplevel baz alice\n2 key toplevel bar alice\n"; got != want {
		t.Fatalf("ACL LOG\n%s\nwant\n%s", got, want)
	}
	// A repeat moves its entry to the head and takes its client-info,
	// here another connection's of the same user.
	aliceID := clientField(readACLLog(t, admin)[2]["client-info"], "id")
	alice2 := dialRaw(t, s.Addr().String())
	alice2.do("AUTH", "alice", "pw")
	bob := dialRaw(t, s.Addr().String())
	admin.do("ACL", "SETUSER", "bob", "on", ">pw", "~foo*", "+get")
	bob.do("AUTH", "bob", "pw")
	bob.do("GET", "bar") // another user: its own entry
	alice.do("INCR", "foo")
	alice2.do("GET", "bar")
	got := readACLLog(t, admin)
	if want := "3 key toplevel bar alice\n1 command toplevel incr alice\n1 key toplevel bar bob\n1 command toplevel del alice\n1 key toplevel baz alice\n"; brief(got) != want {
		t.Fatalf("ACL LOG\n%s\nwant\n%s", brief(got), want)
	}
	if info := got[0]["client-info"]; clientField(info, "id") == aliceID || clientField(info, "cmd") != "get" || clientField(info, "user") != "alice" {
		t.Errorf("the bumped entry's client-info is not the last denial's (alice's first connection is id=%s): %q", aliceID, info)
	}
	// Only the 10 newest entries are candidates: with 10 newer ones, a
	// repeat of bar starts a new entry, as in Redis.
	admin.do("ACL", "LOG", "RESET")
	alice.do("GET", "bar")
	for i := 0; i < 10; i++ {
		alice.do("GET", "k"+itoa(i))
	}
	alice.do("GET", "bar")
	got = readACLLog(t, admin, "100")
	if len(got) != 12 || got[0]["object"] != "bar" || got[0]["count"] != "1" || got[11]["object"] != "bar" || got[11]["count"] != "1" {
		t.Fatalf("a repeat behind 10 newer entries joined the old one:\n%s", brief(got))
	}
	// ... and with 9 newer ones it joins it.
	alice.do("GET", "k9")
	for i := 1; i <= 8; i++ {
		alice.do("GET", "n"+itoa(i))
	}
	alice.do("GET", "k9") // k9 is the 10th newest now
	got = readACLLog(t, admin, "100")
	if len(got) != 20 || got[0]["object"] != "k9" || got[0]["count"] != "3" {
		t.Fatalf("a repeat among the 10 newest did not join its entry:\n%s", brief(got))
	}
}

func TestACLLogCountAndReset(t *testing.T) {
	_, admin, alice := aliceServer(t)
	for i := 0; i < 12; i++ {
		alice.do("GET", "k"+itoa(i))
	}
	if got := readACLLog(t, admin); len(got) != 10 || got[0]["object"] != "k11" || got[9]["object"] != "k2" {
		t.Fatalf("ACL LOG shows the 10 newest by default; got\n%s", brief(got))
	}
	if got := readACLLog(t, admin, "3"); len(got) != 3 || got[0]["object"] != "k11" || got[2]["object"] != "k9" {
		t.Fatalf("ACL LOG 3:\n%s", brief(got))
	}
	if got := readACLLog(t, admin, "100"); len(got) != 12 || got[11]["object"] != "k0" {
		t.Fatalf("ACL LOG 100: %d entries\n%s", len(got), brief(got))
	}
	if got := readACLLog(t, admin, "9223372036854775807"); len(got) != 12 {
		t.Fatalf("ACL LOG <max int64>: %d entries", len(got))
	}
	const badArgs = "-ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP."
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"0"}, "[]"},
		{[]string{"-1"}, "[]"},
		{[]string{"-9223372036854775808"}, "[]"},
		{[]string{"x"}, "-ERR value is not an integer or out of range"},
		{[]string{"+1"}, "-ERR value is not an integer or out of range"},
		{[]string{"01"}, "-ERR value is not an integer or out of range"},
		{[]string{"-0"}, "-ERR value is not an integer or out of range"},
		{[]string{"1.5"}, "-ERR value is not an integer or out of range"},
		{[]string{""}, "-ERR value is not an integer or out of range"},
		{[]string{"9223372036854775808"}, "-ERR value is not an integer or out of range"},
		{[]string{"1", "2"}, badArgs},
		{[]string{"reset", "x"}, badArgs},
	} {
		if got := admin.do(append([]string{"ACL", "log"}, tc.args...)...); got != tc.want {
			t.Errorf("ACL log %q: %s, want %s", tc.args, got, tc.want)
		}
	}
	if got := admin.do("ACL", "LOG", "Reset"); got != "+OK" {
		t.Fatalf("ACL LOG RESET: %s", got)
	}
	if got := readACLLog(t, admin, "100"); len(got) != 0 {
		t.Fatalf("after RESET: %d entries", len(got))
	}
	alice.do("GET", "k0") // counts from 1 again
	if got := brief(readACLLog(t, admin)); got != "1 key toplevel k0 alice\n" {
		t.Fatalf("after RESET and a denial:\n%s", got)
	}
	if got := admin.do("ACL", "HELP"); !strings.Contains(got, " +LOG [<count> | RESET] +    Show the ACL log entries. ") {
		t.Errorf("ACL HELP does not list LOG: %s", got)
	}
}

func TestACLLogMaxLen(t *testing.T) {
	_, admin, alice := aliceServer(t)
	if got := admin.do("CONFIG", "GET", "acllog-max-len"); got != "[$acllog-max-len $128]" {
		t.Fatalf("CONFIG GET acllog-max-len: %s", got)
	}
	for i := 0; i < 130; i++ {
		alice.do("GET", "k"+itoa(i))
	}
	got := readACLLog(t, admin, "1000")
	if len(got) != 128 || got[0]["object"] != "k129" || got[127]["object"] != "k2" {
		t.Fatalf("default acllog-max-len: %d entries, newest %s, oldest %s; want 128, k129, k2", len(got), got[0]["object"], got[len(got)-1]["object"])
	}
	if got := admin.do("CONFIG", "SET", "acllog-max-len", "-1"); got != "-ERR CONFIG SET failed (possibly related to argument 'acllog-max-len') - argument must be between 0 and 9223372036854775807 inclusive" {
		t.Fatalf("CONFIG SET acllog-max-len -1: %s", got)
	}
	if got := admin.do("CONFIG", "SET", "acllog-max-len", "3"); got != "+OK" {
		t.Fatal(got)
	}
	// As in Redis 7.0, lowering the length trims nothing until a new
	// entry, and a repeat that joins an entry is no new entry.
	if got := readACLLog(t, admin, "1000"); len(got) != 128 {
		t.Fatalf("acllog-max-len lowered to 3: %d entries at once, Redis keeps 128 until the next entry", len(got))
	}
	alice.do("GET", "k125")
	if got := readACLLog(t, admin, "1000"); len(got) != 128 || got[0]["object"] != "k125" || got[0]["count"] != "2" {
		t.Fatalf("a joining repeat: %d entries, head %v", len(got), got[0])
	}
	alice.do("GET", "new")
	if got, want := brief(readACLLog(t, admin, "1000")), "1 key toplevel new alice\n2 key toplevel k125 alice\n1 key toplevel k129 alice\n"; got != want {
		t.Fatalf("after a new entry with acllog-max-len 3:\n%s\nwant\n%s", got, want)
	}
	admin.do("CONFIG", "SET", "acllog-max-len", "0")
	alice.do("GET", "other")
	if got := readACLLog(t, admin, "1000"); len(got) != 0 {
		t.Fatalf("acllog-max-len 0: %d entries\n%s", len(got), brief(got))
	}
	if got := infoField(t, admin, "stats", "acl_access_denied_key"); got != "133" {
		t.Fatalf("acl_access_denied_key %s, want 133: every denial counts, logged or not", got)
	}
}

func TestACLLogContextMulti(t *testing.T) {
	_, admin, alice := aliceServer(t)
	for _, st := range []struct{ cmd, want string }{
		{"MULTI", "+OK"},
		{"GET foo", "+QUEUED"},
		{"DEL foo", "-NOPERM this user has no permissions to run the 'del' command"},
		{"GET bar", "-NOPERM this user has no permissions to access one of the keys used as arguments"},
		{"EXEC", "-EXECABORT Transaction discarded because of previous errors."},
		{"DEL foo", "-NOPERM this user has no permissions to run the 'del' command"},
	} {
		if got := alice.do(strings.Fields(st.cmd)...); got != st.want {
			t.Fatalf("%s: %s, want %s", st.cmd, got, st.want)
		}
	}
	got := readACLLog(t, admin)
	if want := "1 command toplevel del alice\n1 key multi bar alice\n1 command multi del alice\n"; brief(got) != want {
		t.Fatalf("ACL LOG\n%s\nwant\n%s", brief(got), want)
	}
	for i, w := range []struct{ flags, multi, cmd string }{{"N", "-1", "del"}, {"x", "1", "get"}, {"x", "1", "del"}} {
		info := got[i]["client-info"]
		if clientField(info, "flags") != w.flags || clientField(info, "multi") != w.multi || clientField(info, "cmd") != w.cmd {
			t.Errorf("entry %d client-info %q, want flags=%s multi=%s cmd=%s", i, info, w.flags, w.multi, w.cmd)
		}
	}
}

// execChanged is the start of Redis's reply to a queued command that
// EXEC's re-check refuses.
const execChanged = "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. " +
	"This command is no longer allowed for the following reason: "

func TestExecRechecksACLChangedAfterQueueing(t *testing.T) {
	_, admin, alice := aliceServer(t)
	for _, cmd := range []string{"MULTI", "SET foo2 v", "PUBLISH chan1 m", "PING", "SET foo1 v", "GET foo1"} {
		want := "+QUEUED"
		if cmd == "MULTI" {
			want = "+OK"
		}
		if got := alice.do(strings.Fields(cmd)...); got != want {
			t.Fatalf("%s: %s, want %s", cmd, got, want)
		}
	}
	if got := admin.do("ACL", "SETUSER", "alice", "resetkeys", "~foo1", "resetchannels", "-ping"); got != "+OK" {
		t.Fatal(got)
	}
	want := "[" + execChanged + "no permission to touch the specified keys " +
		execChanged + "no permission to access one of the channels used as arguments " +
		execChanged + "no permission to execute the command or subcommand +OK $v]"
	if got := alice.do("EXEC"); got != want {
		t.Fatalf("EXEC:\n%s\nwant\n%s", got, want)
	}
	if got := admin.do("GET", "foo2"); got != "(nil)" {
		t.Fatalf("the refused SET ran: foo2 is %s", got)
	}
	got := readACLLog(t, admin)
	if want := "1 command multi ping alice\n1 channel multi chan1 alice\n1 key multi foo2 alice\n"; brief(got) != want {
		t.Fatalf("ACL LOG\n%s\nwant\n%s", brief(got), want)
	}
	if info := got[0]["client-info"]; clientField(info, "cmd") != "exec" || clientField(info, "multi") != "5" {
		t.Errorf("client-info %q, want cmd=exec multi=5", info)
	}
	// A transaction of server commands only (run outside the engine),
	// and one whose every data command is refused.
	for _, c := range []struct{ cmd, rule string }{{"PING", "ping"}, {"GET foo1", "get"}} {
		admin.do("ACL", "SETUSER", "alice", "+"+c.rule)
		alice.do("MULTI")
		alice.do(strings.Fields(c.cmd)...)
		admin.do("ACL", "SETUSER", "alice", "-"+c.rule)
		if got, want := alice.do("EXEC"), "["+execChanged+"no permission to execute the command or subcommand]"; got != want {
			t.Fatalf("EXEC of a refused %s: %s, want %s", c.cmd, got, want)
		}
	}
}

func TestACLDeniedInfoCounters(t *testing.T) {
	s, admin, alice := aliceServer(t)
	counters := func() string {
		t.Helper()
		var parts []string
		for _, f := range []string{"auth", "cmd", "key", "channel"} {
			parts = append(parts, infoField(t, admin, "stats", "acl_access_denied_"+f))
		}
		return strings.Join(parts, " ")
	}
	if got := counters(); got != "0 0 0 0" {
		t.Fatalf("fresh server: auth cmd key channel = %s", got)
	}
	alice.do("DEL", "foo")
	alice.do("GET", "bar")
	alice.do("GET", "bar") // grouped in the log, counted twice
	alice.do("MGET", "bar")
	alice.do("PUBLISH", "x", "m")
	alice.do("PSUBSCRIBE", "c*")
	dialRaw(t, s.Addr().String()).do("AUTH", "alice", "bad")
	dialRaw(t, s.Addr().String()).do("HELLO", "2", "AUTH", "alice", "bad")
	alice.do("GET", "foo") // allowed
	// SORT's BY refusal is no ACL denial, in Redis neither.
	admin.do("ACL", "SETUSER", "alice", "+sort")
	if got := alice.do("SORT", "foo", "BY", "w_*"); got != "-ERR BY option of SORT denied due to insufficient ACL permissions." {
		t.Fatalf("SORT BY: %s", got)
	}
	if got := counters(); got != "2 2 2 2" {
		t.Fatalf("auth cmd key channel = %s, want 2 2 2 2", got)
	}
	// Redis's CONFIG RESETSTAT leaves these counters alone.
	if got := admin.do("CONFIG", "RESETSTAT"); got != "+OK" {
		t.Fatal(got)
	}
	if got := counters(); got != "2 2 2 2" {
		t.Fatalf("after CONFIG RESETSTAT: auth cmd key channel = %s, want 2 2 2 2", got)
	}
}

// aclLogScript runs on walrus and on redis-server 7.0 alike: each step
// names its connection (admin, alice, anon) and must get the same reply
// on both.
var aclLogScript = []struct {
	conn string
	cmd  []string
}{
	{"admin", []string{"ACL", "SETUSER", "alice", "on", ">pw", "~foo*", "%R~ro*", "&chan*", "-@all",
		"+get", "+set", "+publish", "+subscribe", "+psubscribe", "+multi", "+exec", "+ping", "+select", "+client"}},
	{"admin", []string{"ACL", "LOG"}},
	{"alice", []string{"AUTH", "alice", "pw"}},
	{"alice", []string{"CLIENT", "SETNAME", "al"}},
	{"alice", []string{"DEL", "foo"}},
	{"alice", []string{"GET", "bar"}},
	{"alice", []string{"GET", "bar"}},
	{"alice", []string{"MGET", "foo1", "bar"}},
	{"alice", []string{"GET", "ro1"}},
	{"alice", []string{"SET", "ro1", "v"}},
	{"alice", []string{"SET", "foo1", "v"}},
	{"alice", []string{"PUBLISH", "other", "m"}},
	{"alice", []string{"PUBLISH", "chan1", "m"}},
	{"alice", []string{"SUBSCRIBE", "chan1", "other"}},
	{"alice", []string{"PSUBSCRIBE", "ch*"}},
	{"alice", []string{"SELECT", "2"}},
	{"alice", []string{"GET", "bar2"}},
	{"alice", []string{"MULTI"}},
	{"alice", []string{"GET", "foo"}},
	{"alice", []string{"DEL", "foo"}},
	{"alice", []string{"GET", "bar"}},
	{"alice", []string{"EXEC"}},
	// EXEC checks the queued commands again against rules changed since.
	{"alice", []string{"MULTI"}},
	{"alice", []string{"SET", "foo2", "v"}},
	{"alice", []string{"PUBLISH", "chan1", "m"}},
	{"alice", []string{"PING"}},
	{"alice", []string{"SET", "foo1", "w"}},
	{"admin", []string{"ACL", "SETUSER", "alice", "resetkeys", "~foo1", "%R~ro*", "resetchannels", "-ping"}},
	{"alice", []string{"EXEC"}},
	{"admin", []string{"ACL", "SETUSER", "alice", "~foo*", "&chan*", "+ping"}},
	{"alice", []string{"DEL", "foo"}},
	// AUTH queued in a transaction switches the user for the commands
	// after it, a failed one is logged in the multi context, and an ACL
	// change made in the transaction applies to the commands after it.
	{"admin", []string{"ACL", "SETUSER", "carol", "on", ">pc", "~*", "&*", "-@all", "+get", "+multi", "+exec", "+acl"}},
	{"alice", []string{"MULTI"}},
	{"alice", []string{"SET", "foo3", "v"}},
	{"alice", []string{"AUTH", "carol", "pc"}},
	{"alice", []string{"SET", "foo4", "v"}},
	{"alice", []string{"GET", "foo3"}},
	{"alice", []string{"AUTH", "carol", "wrong"}},
	{"alice", []string{"AUTH", "alice", "pw"}},
	{"alice", []string{"GET", "foo3"}},
	{"alice", []string{"EXEC"}},
	{"admin", []string{"ACL", "SETUSER", "alice", "+acl"}},
	{"alice", []string{"MULTI"}},
	{"alice", []string{"AUTH", "carol", "pc"}},
	{"alice", []string{"ACL", "SETUSER", "carol", "-get"}},
	{"alice", []string{"GET", "foo3"}},
	{"alice", []string{"ACL", "SETUSER", "carol", "+get"}},
	{"alice", []string{"GET", "foo3"}},
	{"alice", []string{"AUTH", "alice", "pw"}},
	{"alice", []string{"EXEC"}},
	{"admin", []string{"ACL", "SETUSER", "alice", "-acl"}},
	{"alice", []string{"GET", "foo3"}},
	{"anon", []string{"AUTH", "alice", "wrong"}},
	{"anon", []string{"AUTH", "alice", "wrong"}},
	{"anon", []string{"Auth", "nosuch", "x"}},
	{"anon", []string{"hello", "2", "AUTH", "bob", "x"}},
	{"anon", []string{"AUTH", "x"}},
	{"admin", []string{"ACL", "LOG", "0"}},
	{"admin", []string{"ACL", "LOG", "-3"}},
	{"admin", []string{"ACL", "LOG", "ten"}},
	{"admin", []string{"ACL", "LOG", "1", "2"}},
	{"admin", []string{"CONFIG", "SET", "acllog-max-len", "4"}},
	{"admin", []string{"CONFIG", "GET", "acllog-max-len"}},
}

// clientInfoKept are the client-info fields both servers must agree on;
// the others are ids, addresses, times and memory figures.
var clientInfoKept = []string{"name", "flags", "db", "sub", "psub", "ssub", "multi", "cmd", "user", "resp"}

// comparable renders entries without their time and connection details.
func comparable(entries []logEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s %s %s %s |", e["count"], e["reason"], e["context"], e["object"], e["username"])
		for _, f := range clientInfoKept {
			fmt.Fprintf(&b, " %s=%s", f, clientField(e["client-info"], f))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestACLLogMatchesRedis(t *testing.T) {
	raddr := redisServer(t)
	s := startServer(t)
	conns := func(addr string) map[string]*rawConn {
		return map[string]*rawConn{"admin": dialRaw(t, addr), "alice": dialRaw(t, addr), "anon": dialRaw(t, addr)}
	}
	w, r := conns(s.Addr().String()), conns(raddr)
	for i, st := range aclLogScript {
		got, want := w[st.conn].do(st.cmd...), r[st.conn].do(st.cmd...)
		if got != want {
			t.Errorf("step %d %s %q:\nwalrus: %s\nredis:  %s", i, st.conn, st.cmd, got, want)
		}
	}
	compare := func(when string, args ...string) {
		t.Helper()
		got, want := readACLLog(t, w["admin"], args...), readACLLog(t, r["admin"], args...)
		if len(want) == 0 && when == "after the script" {
			t.Fatalf("redis logged nothing")
		}
		if comparable(got) != comparable(want) {
			t.Errorf("ACL LOG %q %s:\nwalrus:\n%s\nredis:\n%s", args, when, comparable(got), comparable(want))
		}
	}
	compare("after the script", "100")
	compare("after the script")
	compare("after the script", "2")
	// acllog-max-len 4 applies at the next new entry.
	w["alice"].do("GET", "later")
	r["alice"].do("GET", "later")
	compare("after acllog-max-len 4 and a new denial", "100")
	for _, c := range [][]string{{"ACL", "LOG", "RESET"}, {"ACL", "LOG"}} {
		if got, want := w["admin"].do(c...), r["admin"].do(c...); got != want {
			t.Errorf("%q: walrus %s, redis %s", c, got, want)
		}
	}
}

func TestHelloQueuedInATransactionSwitchesTheUser(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	if got := dialRaw(t, addr).do("ACL", "SETUSER", "dan", "on", ">pd", "~*", "+@all"); got != "+OK" {
		t.Fatalf("ACL SETUSER: %s", got)
	}
	c := dialRaw(t, addr)
	for _, st := range []struct{ cmd, want []string }{
		{[]string{"MULTI"}, []string{"+OK"}},
		{[]string{"HELLO", "2", "AUTH", "dan", "pd"}, []string{"+QUEUED"}},
		{[]string{"ACL", "WHOAMI"}, []string{"+QUEUED"}},
	} {
		if got := c.do(st.cmd...); got != st.want[0] {
			t.Fatalf("%q: %s, want %s", st.cmd, got, st.want[0])
		}
	}
	got := c.do("EXEC")
	if !strings.HasPrefix(got, "[[$server $redis") || !strings.HasSuffix(got, "] $dan]") {
		t.Fatalf("EXEC: %s, want HELLO's map then WHOAMI as dan", got)
	}
	if got := c.do("ACL", "WHOAMI"); got != "$dan" {
		t.Fatalf("ACL WHOAMI after EXEC: %s, want $dan", got)
	}
}
