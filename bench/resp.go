package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Limits on what the reply parser accepts, so a broken or hostile server
// cannot make the harness allocate without bound.
const (
	maxBulkLen    = 512 << 20
	maxArrayLen   = 1 << 20
	maxReplyDepth = 8
)

// ErrProtocol reports a reply that is not valid RESP.
var ErrProtocol = errors.New("resp protocol error")

// Reply is one RESP reply. Kind is the RESP type byte: '+' simple string,
// '-' error, ':' integer, '$' bulk string, '*' array. A null bulk string or
// array has Null set.
type Reply struct {
	Kind  byte
	Str   string
	Int   int64
	Array []Reply
	Null  bool
}

// Err returns the reply as an error when it is an error reply, else nil.
func (r Reply) Err() error {
	if r.Kind == '-' {
		return ServerError(r.Str)
	}
	return nil
}

// ServerError is an error reply from the server, with Redis's text
// ("ERR ...", "LOADING ...").
type ServerError string

func (e ServerError) Error() string { return string(e) }

// Conn is a pipelined RESP client over one TCP connection. It is not safe for
// concurrent use: the load generator gives each client its own Conn.
type Conn struct {
	nc      net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	timeout time.Duration
	num     []byte // scratch for integer formatting
}

// Dial connects to addr. timeout bounds the dial and every later round trip
// (0 means 10s).
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return newConn(nc, timeout), nil
}

func newConn(nc net.Conn, timeout time.Duration) *Conn {
	return &Conn{
		nc:      nc,
		r:       bufio.NewReaderSize(nc, 64<<10),
		w:       bufio.NewWriterSize(nc, 64<<10),
		timeout: timeout,
		num:     make([]byte, 0, 24),
	}
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Write buffers one command; nothing is sent until Flush.
func (c *Conn) Write(args ...[]byte) {
	c.w.WriteByte('*')
	c.writeInt(int64(len(args)))
	for _, a := range args {
		c.w.WriteByte('$')
		c.writeInt(int64(len(a)))
		c.w.Write(a)
		c.w.WriteString("\r\n")
	}
}

// WriteStrings buffers one command given as strings.
func (c *Conn) WriteStrings(args ...string) {
	c.w.WriteByte('*')
	c.writeInt(int64(len(args)))
	for _, a := range args {
		c.w.WriteByte('$')
		c.writeInt(int64(len(a)))
		c.w.WriteString(a)
		c.w.WriteString("\r\n")
	}
}

func (c *Conn) writeInt(n int64) {
	c.num = strconv.AppendInt(c.num[:0], n, 10)
	c.w.Write(c.num)
	c.w.WriteString("\r\n")
}

// Flush sends every buffered command.
func (c *Conn) Flush() error {
	c.nc.SetDeadline(time.Now().Add(c.timeout))
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("send to %s: %w", c.nc.RemoteAddr(), err)
	}
	return nil
}

// Read reads one reply. An error reply is returned as a Reply, not as an
// error: err is only for I/O and protocol failures.
func (c *Conn) Read() (Reply, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	return readReply(c.r, 0)
}

// Do sends one command and reads its reply; an error reply becomes an error.
func (c *Conn) Do(args ...string) (Reply, error) {
	c.WriteStrings(args...)
	if err := c.Flush(); err != nil {
		return Reply{}, err
	}
	r, err := c.Read()
	if err != nil {
		return Reply{}, fmt.Errorf("%s: %w", args[0], err)
	}
	if err := r.Err(); err != nil {
		return r, fmt.Errorf("%s: %w", args[0], err)
	}
	return r, nil
}

// readLine returns one CRLF-terminated line without the CRLF. The slice is
// valid until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line too long", ErrProtocol)
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not terminated by CRLF", ErrProtocol)
	}
	return line[:len(line)-2], nil
}

func parseInt(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad integer %q", ErrProtocol, b)
	}
	return n, nil
}

func readReply(r *bufio.Reader, depth int) (Reply, error) {
	if depth > maxReplyDepth {
		return Reply{}, fmt.Errorf("%w: arrays nested deeper than %d", ErrProtocol, maxReplyDepth)
	}
	line, err := readLine(r)
	if err != nil {
		return Reply{}, err
	}
	if len(line) == 0 {
		return Reply{}, fmt.Errorf("%w: empty line", ErrProtocol)
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+', '-':
		return Reply{Kind: kind, Str: string(rest)}, nil
	case ':':
		n, err := parseInt(rest)
		return Reply{Kind: kind, Int: n}, err
	case '$':
		n, err := parseInt(rest)
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			return Reply{Kind: kind, Null: true}, nil
		}
		if n < 0 || n > maxBulkLen {
			return Reply{}, fmt.Errorf("%w: bulk length %d", ErrProtocol, n)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Reply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Reply{}, fmt.Errorf("%w: bulk string not terminated by CRLF", ErrProtocol)
		}
		return Reply{Kind: kind, Str: string(buf[:n])}, nil
	case '*':
		n, err := parseInt(rest)
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			return Reply{Kind: kind, Null: true}, nil
		}
		if n < 0 || n > maxArrayLen {
			return Reply{}, fmt.Errorf("%w: array length %d", ErrProtocol, n)
		}
		out := Reply{Kind: kind, Array: make([]Reply, 0, min(n, 1024))}
		for i := int64(0); i < n; i++ {
			e, err := readReply(r, depth+1)
			if err != nil {
				return Reply{}, err
			}
			out.Array = append(out.Array, e)
		}
		return out, nil
	default:
		return Reply{}, fmt.Errorf("%w: unknown reply type %q", ErrProtocol, kind)
	}
}
