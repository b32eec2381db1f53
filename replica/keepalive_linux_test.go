package replica

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/wal"
)

// TestLinkKeepAlive: the link's connection to its master gets Redis's TCP
// keepalive for tcp-keepalive (probes after that many idle seconds, then
// every third of it, three of them), or none when it is off.
func TestLinkKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		keepAlive            time.Duration
		on, idle, intvl, cnt int
	}{
		{60 * time.Second, 1, 60, 20, 3},
		{-1, 0, 0, 0, 0},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c // a master that never answers: the link waits in its handshake
			}
		}()
		eng, err := engine.Open(engine.Options{Dir: t.TempDir(), Fsync: wal.SyncNo})
		if err != nil {
			t.Fatal(err)
		}
		ids, err := LoadIDs(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		l := StartLink(eng, ids, LinkOptions{Host: "127.0.0.1", Port: port, KeepAlive: tc.keepAlive})
		var c net.Conn
		select {
		case c = <-accepted:
		case <-time.After(10 * time.Second):
			t.Fatal("the link did not connect")
		}
		var nc *net.TCPConn
		deadline := time.Now().Add(10 * time.Second)
		for nc == nil && time.Now().Before(deadline) {
			if p := l.conn.Load(); p != nil {
				nc, _ = (*p).(*net.TCPConn)
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if nc == nil {
			t.Fatal("the link has no TCP connection")
		}
		on := sockopt(t, nc, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		if on != tc.on {
			t.Errorf("KeepAlive %v: SO_KEEPALIVE %d, want %d", tc.keepAlive, on, tc.on)
		} else if on == 1 {
			idle := sockopt(t, nc, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
			intvl := sockopt(t, nc, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
			cnt := sockopt(t, nc, syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
			if idle != tc.idle || intvl != tc.intvl || cnt != tc.cnt {
				t.Errorf("KeepAlive %v: idle %d s, interval %d s, count %d; want %d, %d, %d", tc.keepAlive, idle, intvl, cnt, tc.idle, tc.intvl, tc.cnt)
			}
		}
		l.Stop()
		c.Close()
		ln.Close()
		eng.Close()
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
