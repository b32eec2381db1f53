package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Process tests start the real walrus-server binary on 127.0.0.1 with
// OS-chosen ports and temp dirs, and kill every process at the end.

var binary string // built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "walrus-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "walrus-server")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build walrus-server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// node is one walrus-server process.
type node struct {
	t    testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	log  string
	rdb  *redis.Client
}

// startNode starts walrus-server with --port/--dir set (a fresh temp dir
// unless dir is given) plus args.
func startNode(t testing.TB, dir string, args ...string) *node {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	n := &node{t: t, port: freePort(t), dir: dir, args: args}
	n.start()
	return n
}

func (n *node) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)) }

func (n *node) start() {
	n.t.Helper()
	n.launch()
	n.waitReady()
}

// launch starts the process without waiting for it to serve.
func (n *node) launch() {
	n.t.Helper()
	n.log = filepath.Join(n.dir, fmt.Sprintf("walrus-%d.log", time.Now().UnixNano()))
	n.launchArgs(append([]string{"--port", strconv.Itoa(n.port), "--dir", n.dir, "--logfile", n.log}, n.args...))
}

func (n *node) startArgs(args []string) {
	n.t.Helper()
	n.launchArgs(args)
	n.waitReady()
}

func (n *node) launchArgs(args []string) {
	n.t.Helper()
	n.cmd = exec.Command(binary, args...)
	n.cmd.Stderr = os.Stderr
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	cmd := n.cmd
	n.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	n.rdb = redis.NewClient(&redis.Options{Addr: n.addr(), Protocol: 2, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 30 * time.Second})
	rdb := n.rdb
	n.t.Cleanup(func() { rdb.Close() })
}

func (n *node) waitReady() {
	n.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := n.rdb.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if n.cmd.ProcessState != nil || time.Now().After(deadline) {
			b, _ := os.ReadFile(n.log)
			n.t.Fatalf("walrus-server on %d did not start: %v\n%s", n.port, err, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill9 kills the process without warning.
func (n *node) kill9() {
	n.t.Helper()
	n.cmd.Process.Signal(syscall.SIGKILL)
	n.cmd.Wait()
}

// stop sends SIGTERM and waits for a clean exit.
func (n *node) stop() {
	n.t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			n.t.Fatalf("walrus-server exited with %v", err)
		}
	case <-time.After(60 * time.Second):
		n.t.Fatal("walrus-server did not stop on SIGTERM")
	}
}

func (n *node) restart() {
	n.t.Helper()
	n.rdb.Close()
	n.start()
}

func (n *node) do(args ...any) (any, error) {
	return n.rdb.Do(context.Background(), args...).Result()
}

func (n *node) must(args ...any) any {
	n.t.Helper()
	v, err := n.do(args...)
	if err != nil {
		n.t.Fatalf("%v: %v", args, err)
	}
	return v
}

func (n *node) info(section, field string) string {
	n.t.Helper()
	v, err := n.tryInfo(section, field)
	if err != nil {
		n.t.Fatalf("INFO: %v", err)
	}
	return v
}

// tryInfo is info for a poll that may meet a closed connection (Sentinel
// ends a reconfiguration with CLIENT KILL TYPE normal).
func (n *node) tryInfo(section, field string) (string, error) {
	s, err := n.rdb.Info(context.Background(), section).Result()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v, nil
		}
	}
	return "", nil
}

func (n *node) digest() string {
	n.t.Helper()
	v, err := n.do("DEBUG", "DIGEST")
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitLinkUp(t testing.TB, r *node) {
	t.Helper()
	waitFor(t, "replica link up", 60*time.Second, func() bool { return r.info("replication", "master_link_status") == "up" })
}

func waitConverged(t testing.TB, m *node, rs ...*node) {
	t.Helper()
	waitFor(t, "replicas to match the master's digest", 60*time.Second, func() bool {
		want := m.digest()
		for _, r := range rs {
			if r.digest() != want {
				return false
			}
		}
		return true
	})
}

// fill writes n keys key:i = value:i with pipelines of 1000.
func fill(t testing.TB, n *node, prefix string, count int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < count; i += 1000 {
		p := n.rdb.Pipeline()
		for j := i; j < min(i+1000, count); j++ {
			p.Set(ctx, prefix+strconv.Itoa(j), "value:"+strconv.Itoa(j), 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}
