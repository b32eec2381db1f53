package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSlowlog: SLOWLOG logs commands past slowlog-log-slower-than with
// their arguments cut and redacted as Redis does, its client's address
// and name, newest first, keeps slowlog-max-len, and answers GET, LEN,
// RESET and its errors in Redis 7.0's words. Against redis-server too.
func TestSlowlog(t *testing.T) { againstBoth(t, slowlogScenario) }

func slowlogScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	me := c.c.LocalAddr().String()
	c.expect("+OK", "CONFIG", "SET", "slowlog-log-slower-than", "0") // log everything
	c.expect("+OK", "SLOWLOG", "RESET")
	c.expect("+OK", "CLIENT", "SETNAME", "bob")
	c.expect("+OK", "SET", "k", "v")
	if got := c.do("AUTH", "x", "y"); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Fatalf("AUTH x y = %q", got)
	}
	c.expect("+OK", "CONFIG", "SET", "masterauth", "secret")
	c.expect("+OK", "ACL", "SETUSER", "u1", "on", ">pw")
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "SET", "a", "1")
	c.expect("[+OK]", "EXEC")
	many := []string{"RPUSH", "l"}
	for i := range 39 {
		many = append(many, "a"+strconv.Itoa(i))
	}
	c.expect(":39", many...)
	c.expect("+OK", "SET", "long", strings.Repeat("x", 200))

	entry := func(name string, args ...string) string {
		return "[$" + strings.Join(args, " $") + "] $" + me + " $" + name
	}
	cut := append(append([]string(nil), many[:31]...), "... (10 more arguments)")
	want := []string{
		entry("bob", "SET", "long", strings.Repeat("x", 128)+"... (72 more bytes)"),
		entry("bob", cut...),
		entry("bob", "SET", "a", "1"),
		entry("bob", "MULTI"),
		entry("bob", "ACL", "SETUSER", "(redacted)", "(redacted)", "(redacted)"),
		entry("bob", "CONFIG", "SET", "masterauth", "(redacted)"),
		entry("bob", "AUTH", "(redacted)", "(redacted)"),
		entry("bob", "SET", "k", "v"),
		entry("bob", "CLIENT", "SETNAME", "bob"),
		entry("", "SLOWLOG", "RESET"),
	}
	head := regexp.MustCompile(`\[:(\d+) :\d+ :\d+ `)
	log := c.do("SLOWLOG", "GET", "-1")
	var ids []int
	for _, m := range head.FindAllStringSubmatch(log, -1) {
		id, _ := strconv.Atoi(m[1])
		ids = append(ids, id)
	}
	got := head.ReplaceAllString(log, "[")
	if w := "[[" + strings.Join(want, "] [") + "]]"; !strings.EqualFold(got, w) {
		t.Errorf("SLOWLOG GET -1:\n got %s\nwant %s", got, w)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]-1 {
			t.Errorf("SLOWLOG ids %v: want them one apart, newest first", ids)
			break
		}
	}

	c.expect("-ERR count should be greater than or equal to -1", "SLOWLOG", "GET", "x")
	c.expect("-ERR count should be greater than or equal to -1", "SLOWLOG", "GET", "-2")
	c.expect("-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.", "SLOWLOG", "GET", "1", "2")
	c.expect("-ERR unknown subcommand 'NOSUCH'. Try SLOWLOG HELP.", "SLOWLOG", "NOSUCH")
	c.expect("[]", "SLOWLOG", "GET", "0")
	if got := c.do("SLOWLOG", "GET", "2"); len(head.FindAllString(got, -1)) != 2 {
		t.Errorf("SLOWLOG GET 2 = %q, want 2 entries", got)
	}
	c.expect("+OK", "CONFIG", "SET", "slowlog-max-len", "3")
	c.expect(":3", "SLOWLOG", "LEN")
	c.expect("+OK", "CONFIG", "SET", "slowlog-log-slower-than", "-1") // log nothing
	c.expect("+OK", "SLOWLOG", "RESET")
	c.expect("+OK", "SET", "k", "v")
	c.expect(":0", "SLOWLOG", "LEN")
}
