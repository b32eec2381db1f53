package server

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/walrus-kv/walrus/replica"
)

// keepAliveListener sets TCP keepalive on each connection it accepts as
// tcp-keepalive says when the connection arrives (CONFIG SET reaches the
// connections accepted after it, as in Redis), with Redis's settings
// (replica.KeepAlive). 0 turns keepalive off. A replica's connection to
// its master gets the same (LinkOptions.KeepAlive).
type keepAliveListener struct {
	net.Listener
	period *atomic.Int64 // tcp-keepalive, a time.Duration
}

func (l keepAliveListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		setKeepAlive(tc, time.Duration(l.period.Load()))
	}
	return c, nil
}

func setKeepAlive(tc *net.TCPConn, period time.Duration) {
	if period <= 0 {
		tc.SetKeepAlive(false)
		return
	}
	tc.SetKeepAliveConfig(replica.KeepAlive(period))
}

// listenTCP listens on addr for clients, with tcp-keepalive.
func (s *Server) listenTCP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return keepAliveListener{Listener: ln, period: &s.keepAlive}, nil
}
