package server

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walrus-kv/walrus/server/config"
)

const testLibrary = `#!lua name=mylib
local function f1(keys, args) return redis.call('incr', keys[1]) end
redis.register_function('f1', f1)
redis.register_function{function_name='ro1', callback=function(keys, args) return args[1] end, flags={'no-writes'}, description='reads'}`

// TestFunctions compares FUNCTION and FCALL with redis-server's.
func TestFunctions(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		c.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
		c.expect(":1", "FCALL", "f1", "1", "k")
		c.expect(":2", "FCALL", "f1", "1", "k")
		c.expect("$hello", "FCALL", "ro1", "0", "hello")
		c.expect("$hello", "FCALL_RO", "ro1", "0", "hello")
		c.expect("-ERR Can not execute a script with write flag using *_ro command.", "FCALL_RO", "f1", "1", "k")
		c.expect("-ERR Function not found", "FCALL", "nosuch", "0")
		c.expect("-ERR Number of keys can't be greater than number of args", "FCALL", "f1", "2", "k")
		list := c.do("FUNCTION", "LIST") // a library's functions come in no set order
		for _, part := range []string{"[[$library_name $mylib $engine $LUA $functions [[$name ", "[$name $f1 $description (nil) $flags []]", "[$name $ro1 $description $reads $flags [+no-writes]]"} {
			if !strings.Contains(list, part) {
				t.Errorf("FUNCTION LIST = %q, without %q", list, part)
			}
		}
		c.expect("[]", "FUNCTION", "LIST", "LIBRARYNAME", "other*")
		if got := c.do("FUNCTION", "LIST", "WITHCODE"); !strings.Contains(got, "$library_code $"+testLibrary) {
			t.Errorf("FUNCTION LIST WITHCODE = %q, without the code", got)
		}
		c.expect("[$running_script (nil) $engines [$LUA [$libraries_count :1 $functions_count :2]]]", "FUNCTION", "STATS")

		for code, want := range map[string]string{
			"#!lua name=mylib\nredis.register_function('x', function() end)": "-ERR Library 'mylib' already exists",
			"#!lua name=lib2\nredis.register_function('f1', function() end)": "-ERR Function f1 already exists",
			"no shebang":                "-ERR Missing library metadata",
			"#!lua":                     "-ERR Invalid library metadata",
			"#!lua name=a-b":            "-ERR Invalid library metadata",
			"#!lua name=e\nlocal x = 1": "-ERR No functions registered",
			"#!lua name=e\nx = 1":       "-ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table",
			"#!lua name=e\nredis.register_function{function_name='z', callback=function() end, flags={'bogus'}}": "-ERR Error registering functions: ERR unknown flag given",
		} {
			if got := c.do("FUNCTION", "LOAD", code); got != want {
				t.Errorf("FUNCTION LOAD %q = %q, want %q", code, got, want)
			}
		}
		c.expect("$e2", "FUNCTION", "LOAD", "#!lua name=e2\nredis.register_function('boom', function(keys, args)\n  return redis.call('incr', 'x', 'bad')\nend)")
		c.expect("-ERR Wrong number of args calling Redis command from script script: boom, on @user_function:3.", "FCALL", "boom", "0")
		c.expect("-ERR Library not found", "FUNCTION", "DELETE", "nolib")
		c.expect("+OK", "FUNCTION", "DELETE", "e2")
		c.expect("-ERR Function not found", "FCALL", "boom", "0")
		c.expect("-ERR FUNCTION FLUSH only supports SYNC|ASYNC option", "FUNCTION", "FLUSH", "x")

		// REPLACE swaps the library's functions.
		c.expect("$mylib", "FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nredis.register_function('f2', function(keys, args) return #keys + #args end)")
		c.expect(":3", "FCALL", "f2", "2", "a", "b", "c")
		c.expect("-ERR Function not found", "FCALL", "f1", "1", "k")

		// In a transaction, and past FLUSHALL, which leaves functions.
		c.expect("+OK", "MULTI")
		c.expect("+QUEUED", "FCALL", "f2", "0", "x")
		c.expect("+QUEUED", "FLUSHALL")
		c.expect("+QUEUED", "FCALL", "f2", "0")
		c.expect("[:1 +OK :0]", "EXEC")
		c.expect("+OK", "FUNCTION", "FLUSH")
		c.expect("[]", "FUNCTION", "LIST")
		c.expect("-ERR Function not found", "FCALL", "f2", "0")
	})
}

// TestFunctionsReplicate: a library loaded on the master reaches its
// replica, which runs its read-only functions and refuses the others;
// a delete reaches it too (walrus only: what Redis does here is the same,
// but TestFunctions covers the replies).
func TestFunctionsReplicate(t *testing.T) {
	master := startServer(t, "--save", "")
	m := dialRaw(t, master.Addr().String())
	m.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	host, port, _ := strings.Cut(master.Addr().String(), ":")
	replica := startServer(t, "--save", "", "--replicaof", host, port)
	r := dialRaw(t, replica.Addr().String())
	waitFor(t, "the library on the replica (full sync)", 10*time.Second, func() bool {
		return r.do("FCALL_RO", "ro1", "0", "hi") == "$hi"
	})
	r.expect("-READONLY You can't write against a read only replica.", "FCALL", "f1", "1", "k")
	r.expect("-READONLY You can't write against a read only replica.", "FUNCTION", "FLUSH")
	m.expect("+OK", "FUNCTION", "DELETE", "mylib")
	waitFor(t, "the delete on the replica (the stream)", 10*time.Second, func() bool {
		return r.do("FCALL_RO", "ro1", "0", "hi") == "-ERR Function not found"
	})
	m.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	waitFor(t, "the load on the replica (the stream)", 10*time.Second, func() bool {
		return r.do("FCALL_RO", "ro1", "0", "again") == "$again"
	})
}

// TestFunctionsPersist: a library survives a restart, read back from the
// log and Pebble.
func TestFunctionsPersist(t *testing.T) {
	args := []string{"--port", strconv.Itoa(freePort(t)), "--dir", t.TempDir(), "--appendonly", "yes"}
	cfg, err := config.Load("", args)
	if err != nil {
		t.Fatal(err)
	}
	s, stop := runServer(t, cfg)
	dialRaw(t, s.Addr().String()).expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	stop()
	args[1] = strconv.Itoa(freePort(t))
	if cfg, err = config.Load("", args); err != nil {
		t.Fatal(err)
	}
	s, _ = runServer(t, cfg)
	c := dialRaw(t, s.Addr().String())
	c.expect(":1", "FCALL", "f1", "1", "k")
	c.expect("$hi", "FCALL_RO", "ro1", "0", "hi")
}
