//go:build unix

package server

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// watchDisconnect reports (by closing gone) when a blocked client's peer
// closes its connection, by peeking at the socket without consuming a
// byte: redcon's reader is idle while the handler blocks. It also reports
// the socket closed on this side (CLIENT KILL, server stop). stop ends the
// watch and waits for its goroutine. Pipelined bytes from the client end
// the watch without a report (they are left for redcon to read).
func watchDisconnect(cl *client) (gone <-chan struct{}, stop func()) {
	ch := make(chan struct{})
	nc := cl.conn.NetConn()
	if g, ok := nc.(*guardConn); ok {
		nc = g.Conn
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return ch, func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return ch, func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf [1]byte
		closed := false
		err := rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				return false // wait until readable
			}
			closed = n == 0 || err != nil
			return true
		})
		// A read error other than stop's deadline: the socket was closed
		// here (CLIENT KILL, server stop), and the client is gone too.
		if closed || (err != nil && !errors.Is(err, os.ErrDeadlineExceeded)) {
			close(ch)
		}
	}()
	return ch, func() {
		nc.SetReadDeadline(time.Unix(1, 0))
		<-done
		nc.SetReadDeadline(time.Time{})
	}
}

var _ net.Conn = (*guardConn)(nil)
