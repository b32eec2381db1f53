package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/walrus-kv/walrus/server/config"
)

// freePort returns a TCP port on 127.0.0.1 the OS considers free.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs an in-process walrus on a free port with a temp dir;
// extra are redis.conf directives as command-line pairs. It is stopped at
// the end of the test.
func startServer(t testing.TB, extra ...string) *Server {
	t.Helper()
	args := append([]string{"--port", strconv.Itoa(freePort(t)), "--dir", t.TempDir(), "--appendfsync", "no"}, extra...)
	cfg, err := config.Load("", args)
	if err != nil {
		t.Fatalf("config %v: %v", args, err)
	}
	s, _ := runServer(t, cfg)
	return s
}

// runServer serves cfg until stop, which the end of the test also calls.
func runServer(t testing.TB, cfg *config.Config) (*Server, func()) {
	t.Helper()
	s, err := New(cfg, discardLogger())
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("server did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// goRedis returns a go-redis client for s, closed at the end of the test,
// in RESP3 as go-redis speaks by default (the raw connections and the
// differential tests cover RESP2).
func goRedis(t testing.TB, s *Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 3, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a plain RESP connection for byte-exact replies.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	rd *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

// do sends one command and returns the reply rendered as text.
func (r *rawConn) do(args ...string) string {
	r.t.Helper()
	r.send(args...)
	s, err := r.read()
	if err != nil {
		r.t.Fatalf("%v: %v", args, err)
	}
	return s
}

func (r *rawConn) send(args ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	r.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(r.c, b.String()); err != nil {
		r.t.Fatal(err)
	}
}

// expect sends a command and fails the test unless the reply is want.
func (r *rawConn) expect(want string, args ...string) {
	r.t.Helper()
	if got := r.do(args...); got != want {
		r.t.Fatalf("%v: got %q, want %q", args, got, want)
	}
}

// expectRead reads the reply to a command sent earlier and fails the test
// unless it is want.
func (r *rawConn) expectRead(want string) {
	r.t.Helper()
	if got, err := r.read(); err != nil || got != want {
		r.t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// waitBlocked polls INFO until the server counts n blocked clients.
func (r *rawConn) waitBlocked(n string) {
	r.t.Helper()
	waitFor(r.t, "blocked_clients:"+n, 10*time.Second, func() bool { return infoField(r.t, r, "clients", "blocked_clients") == n })
}

// read renders one RESP reply: +s -e :n $bulk *[...] with nil as (nil).
// A RESP3 reply renders as its RESP2 counterpart would (a map or a set as
// a flat array, a double as a bulk string, a boolean as 1 or 0, a
// verbatim string as its text, null as (nil)), so the same comparisons
// serve both protocols; readShape tells the types apart.
func (r *rawConn) read() (string, error) {
	v, _, err := r.readShape()
	return v, err
}

// readShape reads one reply and returns its rendering and its shape: the
// type of each element, RESP3's included ('%' map, '~' set, '>' push, ','
// double, '#' boolean, '=' verbatim, '_' null, '(' big number), with the
// elements' shapes of an aggregate sorted, so replies whose order is
// unspecified have the same shape.
func (r *rawConn) readShape() (value, shape string, err error) {
	line, err := r.rd.ReadString('\n')
	if err != nil {
		return "", "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", "", fmt.Errorf("empty reply line")
	}
	kind := line[0]
	switch kind {
	case '+', ':', '-':
		return line, string(kind), nil
	case ',', '(':
		if kind == ',' {
			return "$" + line[1:], ",", nil
		}
		return ":" + line[1:], "(", nil
	case '#':
		if line == "#t" {
			return ":1", "#", nil
		}
		return ":0", "#", nil
	case '_':
		return "(nil)", "_", nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", "$nil", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.rd, buf); err != nil {
			return "", "", err
		}
		text := string(buf[:n])
		switch kind {
		case '=':
			return "$" + text[min(4, len(text)):], "=", nil
		case '!':
			return "-" + text, "-", nil
		}
		return "$" + text, "$", nil
	case '*', '%', '~', '>', '|':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil-array)", "*nil", nil
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		parts := make([]string, n)
		shapes := make([]string, n)
		for i := range parts {
			if parts[i], shapes[i], err = r.readShape(); err != nil {
				return "", "", err
			}
		}
		if kind == '|' { // an attribute: the reply follows it
			return r.readShape()
		}
		sort.Strings(shapes)
		return "[" + strings.Join(parts, " ") + "]", string(kind) + "(" + strings.Join(shapes, "") + ")", nil
	}
	return "", "", fmt.Errorf("bad reply line %q", line)
}

// redisCLI returns the path of redis-cli, or skips the test with a
// notice when it is not installed (and fails it in CI).
func redisCLI(t testing.TB) string {
	t.Helper()
	return installedOrSkip(t, "redis-cli", "redis-tools")
}

// installedOrSkip returns the path of the program name from the Debian
// package pkg, or skips the test with a notice saying how to install it;
// CI, which installs it, fails instead.
func installedOrSkip(t testing.TB, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("WALRUS_CI") != "" {
			t.Fatalf("%s is required in CI but not installed", name)
		}
		t.Skipf("%s not installed: test skipped (apt-get install %s to run it)", name, pkg)
	}
	return bin
}

// redisServer starts a real redis-server on a free port, or skips the
// test with a notice when it is not installed.
func redisServer(t testing.TB, extra ...string) string {
	t.Helper()
	bin := installedOrSkip(t, "redis-server", "redis-server")
	port := freePort(t)
	dir := t.TempDir()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log")}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Logf("redis-server on port %d logged:\n%s", port, log)
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("redis-server did not start on %s", addr)
	return ""
}

// againstBoth runs scenario against an in-process walrus and, when it is
// installed, against redis-server: a differential test of behaviour that
// takes more than one connection.
func againstBoth(t *testing.T, scenario func(t *testing.T, addr string)) {
	t.Run("walrus", func(t *testing.T) { scenario(t, startServer(t).Addr().String()) })
	t.Run("redis", func(t *testing.T) { scenario(t, redisServer(t)) })
}

// startFunc starts a server of a scenario, with extra arguments (such as
// --replicaof host port), and returns its address.
type startFunc func(args ...string) string

// againstBothStarting runs scenario against walrus and, when it is
// installed, against redis-server, handing it a way to start as many
// servers as it needs: walrus with persistence off, redis-server with no
// delay before a full sync.
func againstBothStarting(t *testing.T, scenario func(t *testing.T, start startFunc)) {
	t.Run("walrus", func(t *testing.T) {
		scenario(t, func(args ...string) string {
			return startServer(t, append([]string{"--save", ""}, args...)...).Addr().String()
		})
	})
	t.Run("redis", func(t *testing.T) {
		scenario(t, func(args ...string) string {
			return redisServer(t, append([]string{"--repl-diskless-sync-delay", "0"}, args...)...)
		})
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// startWith runs an in-process walrus with exactly args.
func startWith(t testing.TB, args []string) *Server {
	t.Helper()
	cfg, err := config.Load("", args)
	if err != nil {
		t.Fatalf("config %v: %v", args, err)
	}
	s, err := New(cfg, discardLogger())
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("server did not stop")
		}
	})
	return s
}
