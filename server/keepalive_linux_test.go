package server

import (
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestTCPKeepaliveFollowsConfigSet: a client connection gets Redis's
// keepalive settings for tcp-keepalive (probes after that many idle
// seconds, then every third of it, three of them), and a CONFIG SET
// reaches the connections accepted after it; 0 turns keepalive off.
func TestTCPKeepaliveFollowsConfigSet(t *testing.T) {
	s := startServer(t)
	admin := dialRaw(t, s.Addr().String())
	for _, tc := range []struct {
		set                  string // "" keeps the default, 300
		on, idle, intvl, cnt int
	}{
		{"", 1, 300, 100, 3},
		{"60", 1, 60, 20, 3},
		{"2", 1, 2, 1, 3},
		{"0", 0, 0, 0, 0},
	} {
		if tc.set != "" {
			admin.expect("+OK", "CONFIG", "SET", "tcp-keepalive", tc.set)
		}
		c := dialRaw(t, s.Addr().String())
		id, err := strconv.ParseInt(strings.TrimPrefix(c.do("CLIENT", "ID"), ":"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		cl := s.clients[id]
		s.mu.Unlock()
		tcp := cl.conn.NetConn().(*guardConn).Conn.(*net.TCPConn)
		on := sockopt(t, tcp, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		if on != tc.on {
			t.Fatalf("tcp-keepalive %q: SO_KEEPALIVE = %d, want %d", tc.set, on, tc.on)
		}
		if on == 0 {
			continue
		}
		idle := sockopt(t, tcp, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		intvl := sockopt(t, tcp, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
		cnt := sockopt(t, tcp, syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
		if idle != tc.idle || intvl != tc.intvl || cnt != tc.cnt {
			t.Errorf("tcp-keepalive %q: idle %d s, interval %d s, count %d; want %d, %d, %d",
				tc.set, idle, intvl, cnt, tc.idle, tc.intvl, tc.cnt)
		}
	}
}

func sockopt(t *testing.T, c *net.TCPConn, level, opt int) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v
}
