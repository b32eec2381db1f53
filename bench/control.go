package bench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// controlTimeout bounds each control round trip (INFO, DBSIZE, a fill batch).
const controlTimeout = 30 * time.Second

// ParseInfo parses an INFO reply into its fields. Section headers ("#
// Replication") and blank lines are skipped; a field's value is everything
// after its first ':'.
func ParseInfo(s string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		m[k] = v
	}
	return m
}

// infoInt reads an integer field; a missing or unparsable field is 0, false.
func infoInt(m map[string]string, key string) (int64, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// masterOffset is master_repl_offset from a master's INFO replication m.
func masterOffset(m map[string]string, addr string) (int64, error) {
	off, ok := infoInt(m, "master_repl_offset")
	if !ok {
		return 0, fmt.Errorf("master %s INFO replication has no master_repl_offset", addr)
	}
	return off, nil
}

// controlConns keeps one connection per server for a poll loop, so a poll
// costs the servers a command rather than a connection: accepting one is
// work the servers being measured would not otherwise do. Not safe for
// concurrent use.
type controlConns map[string]*Conn

// do runs fn on the connection to addr, dialing it first if need be. On
// an error the connection is dropped, and the next call dials again.
func (cc controlConns) do(addr string, fn func(c *Conn) error) error {
	c := cc[addr]
	if c == nil {
		var err error
		if c, err = Dial(addr, controlTimeout); err != nil {
			return err
		}
		cc[addr] = c
	}
	if err := fn(c); err != nil {
		c.Close()
		delete(cc, addr)
		return err
	}
	return nil
}

// close closes every connection.
func (cc controlConns) close() {
	for addr, c := range cc {
		c.Close()
		delete(cc, addr)
	}
}

// info runs INFO section on addr.
func info(addr, section string) (map[string]string, error) {
	c, err := Dial(addr, controlTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Info(section)
}

// Info runs INFO for one section and parses the reply.
func (c *Conn) Info(section string) (map[string]string, error) {
	r, err := c.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	return ParseInfo(r.Str), nil
}

// DBSize runs DBSIZE.
func (c *Conn) DBSize() (int64, error) {
	r, err := c.Do("DBSIZE")
	if err != nil {
		return 0, err
	}
	return r.Int, nil
}

func dbsize(addr string) (int64, error) {
	c, err := Dial(addr, controlTimeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.DBSize()
}

// fillBatch is how many SETs a fill pipelines per round trip.
const fillBatch = 1000

// Fill writes keys 0..n-1 of the "key:" prefix with values of valueSize
// bytes, pipelined in batches, and calls progress (if not nil) after each
// batch with the number of keys written so far.
func Fill(addr string, n, valueSize int, progress func(done int64)) error {
	c, err := Dial(addr, controlTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	val := Value(valueSize)
	set := []byte("SET")
	var key []byte
	for i := 0; i < n; i += fillBatch {
		end := min(i+fillBatch, n)
		for k := i; k < end; k++ {
			key = appendPadded(append(key[:0], opPrefix[OpSet]...), k)
			c.Write(set, key, val)
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("fill %s: %w", addr, err)
		}
		for k := i; k < end; k++ {
			r, err := c.Read()
			if err != nil {
				return fmt.Errorf("fill %s: %w", addr, err)
			}
			if err := r.Err(); err != nil {
				return fmt.Errorf("fill %s key %d: %w", addr, k, err)
			}
		}
		if progress != nil {
			progress(int64(end))
		}
	}
	return nil
}

// waitFor polls cond every interval until it returns true or an error, or
// timeout passes. An error wrapping ErrExited ends the wait at once; other
// errors are retried, and the last one is reported on timeout.
func waitFor(what string, timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if errors.Is(err, ErrExited) {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("%s: not reached after %v: %w", what, timeout, last)
			}
			return fmt.Errorf("%s: not reached after %v", what, timeout)
		}
		time.Sleep(interval)
	}
}
