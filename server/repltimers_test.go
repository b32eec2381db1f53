package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The replication timers CONFIG SET changes reach the connections already
// open: a replica attached before the change, a link to a master made
// before it. Each test starts with the default (repl-timeout 60,
// repl-ping-replica-period 10) and shows the new value at work well
// before the old one would have acted.

// attachRawReplica makes c a replica of the server mc talks to, with a
// partial resync from the master's next index: from then on the master
// feeds c and waits for its acks.
func attachRawReplica(t *testing.T, mc, c *rawConn) {
	t.Helper()
	mc.expect("+OK", "SET", "k", "v")
	id := infoField(t, mc, "replication", "master_replid")
	last, err := strconv.ParseUint(infoField(t, mc, "replication", "master_repl_offset"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	c.expect("+OK", "REPLCONF", "listening-port", "7777")
	if got := c.do("PSYNC", id, strconv.FormatUint(last+1, 10)); !strings.HasPrefix(got, "+CONTINUE") && got != "CONTINUE "+id {
		t.Fatalf("PSYNC %s %d = %q, want +CONTINUE", id, last+1, got)
	}
	waitFor(t, "the raw replica online", 10*time.Second, func() bool {
		return strings.Contains(infoField(t, mc, "replication", "slave0"), "state=online")
	})
}

// TestReplTimeoutFollowsConfigSet: a replica that never acks is dropped
// within the repl-timeout set after it attached, not the one it attached
// under.
func TestReplTimeoutFollowsConfigSet(t *testing.T) {
	m := startServer(t)
	mc := dialRaw(t, m.Addr().String())
	attachRawReplica(t, mc, dialRaw(t, m.Addr().String()))
	mc.expect("+OK", "CONFIG", "SET", "repl-timeout", "1")
	waitFor(t, "the silent replica dropped after CONFIG SET repl-timeout 1", 10*time.Second, func() bool {
		return infoField(t, mc, "replication", "connected_slaves") == "0"
	})
}

// TestReplPingPeriodFollowsConfigSet: an idle replica gets its PINGs at
// the period set after it attached.
func TestReplPingPeriodFollowsConfigSet(t *testing.T) {
	m := startServer(t)
	mc := dialRaw(t, m.Addr().String())
	c := dialRaw(t, m.Addr().String())
	attachRawReplica(t, mc, c)
	mc.expect("+OK", "CONFIG", "SET", "repl-ping-replica-period", "1")
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 2 { // the first may be one sent before the change
		args, err := readArgs(c.rd)
		if err != nil {
			t.Fatalf("no PING within 5 s of CONFIG SET repl-ping-replica-period 1: %v", err)
		}
		if len(args) != 1 || args[0] != "PING" {
			t.Fatalf("the master sent %q to an idle replica, want PING", args)
		}
	}
}

// TestReplicaTakesReplTimeoutAtRunTime: a replica whose master falls
// silent drops the link within the repl-timeout set while it was up.
func TestReplicaTakesReplTimeoutAtRunTime(t *testing.T) {
	fm := startSilentMaster(t)
	r := startServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(fm.port()))
	rc := dialRaw(t, r.Addr().String())
	waitFor(t, "link up", 10*time.Second, func() bool { return infoField(t, rc, "replication", "master_link_status") == "up" })
	rc.expect("+OK", "CONFIG", "SET", "repl-timeout", "1")
	select {
	case <-fm.dropped:
	case <-time.After(10 * time.Second):
		t.Fatal("the replica kept its link to a silent master 10 s after CONFIG SET repl-timeout 1")
	}
}

// silentMaster answers a replica's handshake with +CONTINUE and then sends
// nothing, reading the replica's acks until the replica hangs up.
type silentMaster struct {
	ln      net.Listener
	dropped chan struct{} // closed when a replica first hangs up after +CONTINUE
}

func startSilentMaster(t *testing.T) *silentMaster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fm := &silentMaster{ln: ln, dropped: make(chan struct{})}
	done := make(chan struct{})
	conns := make(chan net.Conn, 16)
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- c:
			default: // a replica reconnecting in a loop: enough kept
				c.Close()
				continue
			}
			go fm.serve(c)
		}
	}()
	return fm
}

func (fm *silentMaster) port() int { return fm.ln.Addr().(*net.TCPAddr).Port }

func (fm *silentMaster) serve(c net.Conn) {
	rd := bufio.NewReader(c)
	for {
		args, err := readArgs(rd)
		if err != nil {
			return
		}
		switch strings.ToUpper(args[0]) {
		case "PING":
			io.WriteString(c, "+PONG\r\n")
		case "PSYNC":
			io.WriteString(c, "+CONTINUE\r\n")
			for {
				if _, err := readArgs(rd); err != nil {
					select {
					case <-fm.dropped:
					default:
						close(fm.dropped)
					}
					return
				}
			}
		default:
			io.WriteString(c, "+OK\r\n")
		}
	}
}

// readArgs reads one command sent as a RESP array of bulk strings.
func readArgs(rd *bufio.Reader) ([]string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || !strings.HasPrefix(line, "*") || n < 1 {
		return nil, fmt.Errorf("not a command: %q", line)
	}
	args := make([]string, n)
	for i := range args {
		if line, err = rd.ReadString('\n'); err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
		if err != nil || !strings.HasPrefix(line, "$") {
			return nil, fmt.Errorf("not a bulk string: %q", line)
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(rd, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// TestReplicaAnnouncedFollowsConfig: INFO's replica_announced, which
// Sentinel reads to leave a replica out of what it reports, is
// replica-announced's value.
func TestReplicaAnnouncedFollowsConfig(t *testing.T) {
	fm := startSilentMaster(t)
	r := startServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(fm.port()), "--replica-announced", "no")
	rc := dialRaw(t, r.Addr().String())
	if got := infoField(t, rc, "replication", "replica_announced"); got != "0" {
		t.Errorf("replica_announced %q with replica-announced no", got)
	}
	rc.expect("+OK", "CONFIG", "SET", "replica-announced", "yes")
	if got := infoField(t, rc, "replication", "replica_announced"); got != "1" {
		t.Errorf("replica_announced %q after CONFIG SET replica-announced yes", got)
	}
}
