package server

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMonitor compares what MONITOR shows with redis-server's: the
// commands that ran, in order, with their database and client, secrets
// redacted; not the refused or administrative ones.
func TestMonitor(t *testing.T) { againstBoth(t, monitorScenario) }

func monitorScenario(t *testing.T, addr string) {
	m, c := dialRaw(t, addr), dialRaw(t, addr)
	m.expect("+OK", "MONITOR")
	me := c.c.LocalAddr().String()
	cmds := [][]string{
		{"SET", "k", "a b\n\"\x01\xff"},
		{"GET", "k"},
		{"SELECT", "2"},
		{"GET", "x"},
		{"NOSUCH", "x"},
		{"GET"},
		{"CONFIG", "GET", "port"},
		{"AUTH", "default", "pw"},
		{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"EXEC"},
		{"EVAL", "return redis.call('get', KEYS[1])", "1", "a"},
		{"CLIENT", "SETNAME", "x"},
		{"DEBUG", "SLEEP", "0"},
		{"HELLO", "2", "AUTH", "default", "x"},
		{"MULTI"}, {"GET", "q"}, {"DISCARD"},
		{"BLPOP", "zz", "0.01"},
		{"SELECT", "0"},
	}
	for _, args := range cmds {
		c.do(args...)
	}
	c.expect("+PONG", "PING") // the last line to wait for
	want := []string{
		`[0 c] "SET" "k" "a b\n\"\x01\xff"`,
		`[0 c] "GET" "k"`,
		`[2 c] "SELECT" "2"`,
		`[2 c] "GET" "x"`,
		`[2 c] "AUTH" "(redacted)" "(redacted)"`,
		`[2 c] "MULTI"`,
		`[2 c] "SET" "a" "1"`,
		`[2 c] "INCR" "a"`,
		`[2 c] "EXEC"`,
		`[2 c] "EVAL" "return redis.call('get', KEYS[1])" "1" "a"`,
		`[2 lua] "get" "a"`,
		`[2 c] "CLIENT" "SETNAME" "x"`,
		`[2 c] "HELLO" "2" "AUTH" "(redacted)" "(redacted)"`,
		`[2 c] "MULTI"`,
		`[2 c] "DISCARD"`,
		`[2 c] "BLPOP" "zz" "0.01"`,
		`[0 c] "SELECT" "0"`,
		`[0 c] "PING"`,
	}
	head := regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) ([^\]]+)\] `)
	for i, w := range want {
		line, err := m.read()
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		sm := head.FindStringSubmatch(line)
		if sm == nil {
			t.Fatalf("line %d = %q, not a MONITOR line", i, line)
		}
		who := sm[2]
		if who == me {
			who = "c"
		}
		if got := "[" + sm[1] + " " + who + "] " + line[len(sm[0]):]; got != w {
			t.Errorf("line %d = %q, want %q", i, got, w)
		}
	}
	// The monitor may not touch the keyspace; RESET ends its monitoring.
	m.expect("-ERR Replica can't interact with the keyspace", "GET", "k")
	m.expect("+RESET", "RESET")
	m.expect("(nil)", "GET", "nokey")
	c.expect("+PONG", "PING")
	m.expect("+PONG", "PING") // no MONITOR line came before it
	if !strings.HasPrefix(c.do("CLIENT", "LIST"), "$id=") {
		t.Error("CLIENT LIST after RESET")
	}
}

// TestMonitorOnReplica: a replica's monitor shows its master's entries,
// as coming from "master" (walrus only: Redis names the master's
// connection by its address).
func TestMonitorOnReplica(t *testing.T) {
	master := startServer(t, "--save", "")
	host, port, _ := strings.Cut(master.Addr().String(), ":")
	replica := startServer(t, "--save", "", "--replicaof", host, port)
	r := dialRaw(t, replica.Addr().String())
	waitFor(t, "replica link up", 10*time.Second, func() bool {
		return infoField(t, r, "replication", "master_link_status") == "up"
	})
	r.expect("+OK", "MONITOR")
	dialRaw(t, master.Addr().String()).expect("+OK", "SET", "k", "v")
	line, err := r.read()
	if err != nil || !regexp.MustCompile(`^\+\d+\.\d{6} \[0 master\] "SET" "k" "v"`).MatchString(line) {
		t.Fatalf("replica's MONITOR line = %q, %v", line, err)
	}
}
