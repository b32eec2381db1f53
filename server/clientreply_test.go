package server

import "testing"

// TestClientReply: OFF silences every reply until ON, SKIP the next
// command's, errors and transactions included, against both servers.
func TestClientReply(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		c.send("CLIENT", "REPLY", "OFF")
		c.send("SET", "a", "1")
		c.send("INCR", "a")
		c.send("GET", "a", "extra")       // an error, silenced too
		c.send("CLIENT", "REPLY", "SKIP") // ignored while off
		c.send("CLIENT", "REPLY", "ON")
		c.expectRead("+OK")
		c.expect("$2", "GET", "a")
		c.send("CLIENT", "REPLY", "SKIP")
		c.send("INCR", "a") // skipped
		c.expect(":4", "INCR", "a")
		c.send("CLIENT", "REPLY", "SKIP")
		c.send("CLIENT", "REPLY", "SKIP") // skipped, and skips the next
		c.send("INCR", "a")
		c.expect(":6", "INCR", "a")
		c.send("CLIENT", "REPLY", "OFF")
		c.send("MULTI")
		c.send("INCR", "a")
		c.send("EXEC")
		c.expect("+RESET", "RESET") // RESET turns replies back on
		c.expect("$7", "GET", "a")
		c.expect("-ERR syntax error", "CLIENT", "REPLY", "MAYBE")
	})
}
