package bench

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// countingProxy forwards TCP connections from a 127.0.0.1 listener to a
// target and counts the bytes flowing each way. A replica pointed at the
// proxy instead of its master shows how many bytes a sync transfers, for
// any server, without asking the server.
//
// It owns its accept goroutine and two copy goroutines per connection;
// close stops and waits for all of them.
type countingProxy struct {
	target string
	ln     net.Listener
	down   atomic.Int64 // bytes target -> client (master -> replica)
	up     atomic.Int64 // bytes client -> target

	mu     sync.Mutex // guards conns and closed
	conns  []net.Conn
	closed bool
	wg     sync.WaitGroup
}

func startProxy(target string) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy to %s: %w", target, err)
	}
	p := &countingProxy{target: target, ln: ln}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// port is the port clients should connect to.
func (p *countingProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *countingProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		t, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, t) {
			return
		}
		p.wg.Add(2)
		go p.pipe(t, c, &p.up)
		go p.pipe(c, t, &p.down)
	}
}

// track registers a connection pair for close; false if already closed.
func (p *countingProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

func (p *countingProxy) pipe(dst, src net.Conn, n *atomic.Int64) {
	defer p.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			n.Add(int64(k))
			if _, werr := dst.Write(buf[:k]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	// Closing both ends unblocks the opposite pipe.
	src.Close()
	dst.Close()
}

// close stops accepting, closes every forwarded connection and waits for
// the proxy's goroutines.
func (p *countingProxy) close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
