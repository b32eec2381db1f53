package server

import (
	"errors"
	"math"
	"net"
	"sync/atomic"
)

// Protocol limits, checked on the raw byte stream before redcon parses it,
// so an oversized request is refused before it is buffered:
//
//   - a multibulk count above maxMultibulk: "invalid multibulk length";
//   - a bulk length above proto-max-bulk-len: "invalid bulk length";
//   - an inline request longer than maxInline: "too big inline request";
//   - one request larger than client-query-buffer-limit: closed.
//
// Malformed multibulk syntax is caught the same way ("invalid multibulk
// length", "invalid bulk length", "expected '$', got 'x'"). The client gets
// Redis's error text, then the connection is closed; the requests before
// the offending one are still served. Inline-command quoting is left to
// redcon.
const (
	maxMultibulk = math.MaxInt32 // Redis's limit; client-query-buffer-limit bounds memory
	maxInline    = 64 * 1024
)

// errClosedByLimit ends a connection that broke a protocol limit.
var errClosedByLimit = errors.New("protocol limit")

type scanState uint8

const (
	stCmdStart    scanState = iota // expecting the first byte of a request
	stInline                       // inside an inline request line
	stMultiCount                   // reading the digits of *<count>
	stBulkDollar                   // expecting '$' of the next argument
	stBulkLen                      // reading the digits of $<len>
	stBulkBody                     // skipping a bulk's payload and CRLF
	stPassthrough                  // malformed: let redcon report it
)

// limits are the protocol limits; atomics so CONFIG SET applies at once.
type limits struct {
	maxBulk  atomic.Int64 // proto-max-bulk-len
	maxQuery atomic.Int64 // client-query-buffer-limit
}

// guardConn enforces the protocol limits on a client connection.
type guardConn struct {
	net.Conn
	lim  *limits
	tr   *traffic
	errs *errorStats // counts the protocol error it sends
	repl atomic.Bool // a replica's stream since PSYNC: its bytes count as replication too

	state    scanState
	num      int64  // digits being read
	neg      bool   // the number being read has a minus sign
	argsLeft int64  // arguments left in the multibulk
	skip     int64  // payload bytes (plus CRLF) left to skip
	reqBytes int64  // bytes of the request in progress
	pending  string // a violation found after returning the bytes before it
}

// Read passes through complete requests; once a request breaks a limit,
// the requests before it are returned first (redcon serves and flushes
// them), and the next Read sends the error and ends the connection.
func (g *guardConn) Read(p []byte) (int, error) {
	if g.pending != "" {
		if g.pending != "close" {
			msg := "ERR Protocol error: " + g.pending
			g.Conn.Write([]byte("-" + msg + "\r\n"))
			if g.errs != nil {
				g.errs.count([]byte(msg))
			}
		}
		return 0, errClosedByLimit
	}
	n, err := g.Conn.Read(p)
	if g.tr != nil {
		g.tr.reads.Add(1)
		if n > 0 {
			g.tr.read(int64(n), g.repl.Load())
		}
	}
	if n > 0 {
		kept, msg := g.scan(p[:n])
		if msg != "" {
			g.pending = msg
			if kept > 0 {
				return kept, nil
			}
			return g.Read(p)
		}
		if kept == 0 && err == nil {
			return g.Read(p) // only empty multibulks: nothing for redcon
		}
		n = kept
	}
	return n, err
}

// scan advances the state machine over b, removing empty multibulks
// (*0, *-1: no command in Redis, an error in redcon) in place. It returns
// how many bytes of b to pass on; on a violation, only the complete
// requests before it, with the error text ("close" for a silent close).
func (g *guardConn) scan(b []byte) (kept int, msg string) {
	reqStart := -1 // start in b of the request in progress (-1: an earlier read)
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if g.state != stCmdStart && g.state != stPassthrough {
			g.reqBytes++
		}
		switch g.state {
		case stPassthrough:
			return len(b), ""
		case stCmdStart:
			reqStart = i
			g.reqBytes = 1
			switch ch {
			case '*':
				g.state, g.num, g.neg = stMultiCount, 0, false
			case '\r', '\n':
			default:
				g.state = stInline
			}
		case stInline:
			if ch == '\n' {
				g.state = stCmdStart
			} else if g.reqBytes > maxInline {
				return max(reqStart, 0), "too big inline request"
			}
		case stMultiCount, stBulkLen:
			switch {
			case ch >= '0' && ch <= '9':
				g.num = g.num*10 + int64(ch-'0')
				if g.num > 1<<40 {
					g.num = 1 << 40
				}
			case ch == '-' && g.num == 0 && !g.neg:
				g.neg = true
			case ch == '\r':
			case ch == '\n':
				if g.state == stMultiCount {
					if g.num > maxMultibulk {
						return max(reqStart, 0), "invalid multibulk length"
					}
					g.argsLeft = g.num
					g.state = stBulkDollar
					if g.argsLeft == 0 || g.neg { // *0, *-1: no command, as in Redis
						g.state = stCmdStart
						if reqStart >= 0 { // drop the header when it is all in b
							b = append(b[:reqStart], b[i+1:]...)
							i = reqStart - 1
						}
					}
				} else {
					if g.neg || g.num > g.lim.maxBulk.Load() {
						return max(reqStart, 0), "invalid bulk length"
					}
					g.skip = g.num + 2
					g.state = stBulkBody
				}
				g.neg = false
			case g.state == stMultiCount:
				return max(reqStart, 0), "invalid multibulk length"
			default:
				return max(reqStart, 0), "invalid bulk length"
			}
		case stBulkDollar:
			if ch != '$' {
				return max(reqStart, 0), "expected '$', got '" + string(rune(ch)) + "'"
			}
			g.state, g.num, g.neg = stBulkLen, 0, false
		case stBulkBody:
			// Skip the payload in one step.
			take := min(g.skip, int64(len(b)-i))
			g.skip -= take
			g.reqBytes += take - 1
			i += int(take) - 1
			if g.skip == 0 {
				g.argsLeft--
				if g.argsLeft == 0 {
					g.state = stCmdStart
				} else {
					g.state = stBulkDollar
				}
			}
		}
		if g.state != stCmdStart && g.reqBytes > g.lim.maxQuery.Load() {
			return max(reqStart, 0), "close"
		}
	}
	return len(b), ""
}

// guardListener wraps accepted connections in guardConn.
type guardListener struct {
	net.Listener
	lim  *limits
	tr   *traffic
	errs *errorStats
}

func (l guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: c, lim: l.lim, tr: l.tr, errs: l.errs}, nil
}

// Write counts what the connection sends (INFO's net output bytes).
func (g *guardConn) Write(p []byte) (int, error) {
	n, err := g.Conn.Write(p)
	if g.tr != nil {
		g.tr.writes.Add(1)
		if n > 0 {
			g.tr.wrote(int64(n), g.repl.Load())
		}
	}
	return n, err
}
