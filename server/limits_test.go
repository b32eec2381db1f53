package server

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Connection limits as Redis enforces them: maxclients, the idle timeout,
// client-query-buffer-limit, and garbage on the wire. In every case the
// offending connection goes and the others are served.

// expectClosed reads until the server closes c, failing on a reply or
// when nothing happens within the deadline.
func expectClosed(t *testing.T, r *rawConn, within time.Duration) {
	t.Helper()
	r.c.SetReadDeadline(time.Now().Add(within))
	line, err := r.rd.ReadString('\n')
	if err == nil {
		t.Fatalf("got %q, want the connection closed", line)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", within)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("read: %v, want EOF", err)
	}
}

// isReset: a server that closes with unread input sends a reset.
func isReset(err error) bool { return strings.Contains(err.Error(), "connection reset") }

func TestMaxClientsRefusesWithRedisErrorThenAdmitsAgain(t *testing.T) {
	s := startServer(t, "--maxclients", "2")
	addr := s.Addr().String()
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	for _, c := range []*rawConn{a, b} {
		if got := c.do("PING"); got != "+PONG" {
			t.Fatalf("PING within maxclients: %q", got)
		}
	}
	third := dialRaw(t, addr)
	third.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := third.read(); got != "-ERR max number of clients reached" {
		t.Fatalf("third client: %q, %v; want the maxclients error", got, err)
	}
	expectClosed(t, third, 10*time.Second)
	if got := a.do("PING"); got != "+PONG" {
		t.Fatalf("admitted client after a refusal: %q", got)
	}
	if got := a.do("INFO", "stats"); !strings.Contains(got, "rejected_connections:1") {
		t.Fatalf("INFO stats lacks rejected_connections:1")
	}
	// A slot frees up: a new client gets in.
	b.c.Close()
	waitFor(t, "a new client admitted after one left", 10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "*1\r\n$4\r\nPING\r\n")
		buf := make([]byte, 7)
		_, err = io.ReadFull(c, buf)
		return err == nil && string(buf) == "+PONG\r\n"
	})
}

func TestIdleTimeoutClosesIdleClientsButNotBusyOnes(t *testing.T) {
	s := startServer(t, "--timeout", "1")
	addr := s.Addr().String()
	idle := dialRaw(t, addr)
	if got := idle.do("PING"); got != "+PONG" {
		t.Fatalf("PING: %q", got)
	}
	// A command running longer than the timeout is not idleness.
	busy := dialRaw(t, addr)
	if got := busy.do("DEBUG", "SLEEP", "2.5"); got != "+OK" {
		t.Fatalf("DEBUG SLEEP longer than the timeout: %q, want +OK", got)
	}
	expectClosed(t, idle, 10*time.Second)
	expectClosed(t, busy, 10*time.Second) // and idle afterwards, it goes too
	// timeout 0 turns it off.
	fresh := dialRaw(t, addr)
	if got := fresh.do("CONFIG", "SET", "timeout", "0"); got != "+OK" {
		t.Fatalf("CONFIG SET timeout 0: %q", got)
	}
	if got := fresh.do("CONFIG", "GET", "timeout"); got != "[$timeout $0]" {
		t.Fatalf("CONFIG GET timeout: %q", got)
	}
}

func TestQueryBufferLimitClosesTheClientAndSparesOthers(t *testing.T) {
	s := startServer(t, "--client-query-buffer-limit", "1mb")
	addr := s.Addr().String()
	other := dialRaw(t, addr)
	half := strings.Repeat("v", 512<<10)
	if got := other.do("SET", "k", half); got != "+OK" {
		t.Fatalf("SET of 512 KiB under a 1 MiB query buffer limit: %q", got)
	}
	bad := dialRaw(t, addr)
	bad.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(bad.c, "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
	bad.c.Write([]byte(strings.Repeat("x", 1200<<10))) // may fail once the server closes
	bad.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := bad.read(); got != "+PONG" {
		t.Fatalf("request before the oversized one: %q, %v; want +PONG", got, err)
	}
	expectClosed(t, bad, 10*time.Second)
	if got := other.do("STRLEN", "k"); got != ":524288" {
		t.Fatalf("other client after the limit closed one: STRLEN %q", got)
	}
}

func TestInlineGarbageGetsProtocolErrorAndOthersUnaffected(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	other := dialRaw(t, addr)
	cases := []struct {
		name, send, want string
	}{
		{"unbalanced quotes", "SET \"k v\r\n", "-ERR Protocol error: unbalanced quotes in request"},
		{"bulk without a length", "*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length"},
		{"multibulk count not a number", "*x\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"oversized inline request", strings.Repeat("a", 70<<10), "-ERR Protocol error: too big inline request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := dialRaw(t, addr)
			r.c.SetDeadline(time.Now().Add(10 * time.Second))
			if got := r.do("PING"); got != "+PONG" {
				t.Fatalf("PING before the garbage: %q", got)
			}
			io.WriteString(r.c, c.send)
			if got, _ := r.read(); got != c.want {
				t.Fatalf("garbage %q: %q, want %q", c.name, got, c.want)
			}
			expectClosed(t, r, 10*time.Second)
			if got := other.do("PING"); got != "+PONG" {
				t.Fatalf("other client: %q", got)
			}
		})
	}
}
