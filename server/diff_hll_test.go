package server

import (
	"strconv"
	"testing"
	"time"
)

func init() { families = append(families, hllFamily) }

// hllFamily mixes PFADD, PFCOUNT and PFMERGE with GET, SET and the
// other commands on the same keys: the values must be Redis's byte for
// byte, sparse and dense, and so must the counts. PFCOUNT runs on two or
// more keys only: on one key Redis stores the count in the value's
// cache, which walrus does not (docs/architecture.md).
var hllFamily = family{
	name: "hll",
	next: func(g *gen) []string {
		k := g.key()
		elem := func() string {
			switch g.r.IntN(40) {
			case 0:
				// Its hash has 32 zeros past the register's bits: a count of
				// 33, more than a sparse opcode holds, which makes the value
				// dense at once.
				return "1692856687"
			case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12:
				return g.val()
			}
			return "e" + strconv.Itoa(g.r.IntN(20000))
		}
		switch g.r.IntN(16) {
		case 0, 1, 2, 3:
			cmd := []string{"PFADD", k}
			for range g.r.IntN(5) {
				cmd = append(cmd, elem())
			}
			return cmd
		case 4:
			cmd := []string{"PFADD", k} // enough at once to go dense
			for range 100 + g.r.IntN(400) {
				cmd = append(cmd, elem())
			}
			return cmd
		case 5, 6:
			cmd := []string{"PFCOUNT", k, g.key()}
			for range g.r.IntN(2) {
				cmd = append(cmd, g.key())
			}
			return cmd
		case 7, 8:
			cmd := []string{"PFMERGE", k}
			for range g.r.IntN(3) {
				cmd = append(cmd, g.key())
			}
			return cmd
		case 9, 10:
			return []string{"GET", k}
		case 11:
			return []string{"STRLEN", k}
		case 12:
			// Values that are not HyperLogLogs, or corrupt ones.
			return []string{"SET", k, g.pick("", "abc", "HYLL", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff",
				"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
				"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff", g.val())}
		case 13:
			return []string{"PFADD", k}
		default:
			return g.commonKeyOp()
		}
	},
}

// TestPFAddKeepsWhatACorruptHLLTook: PFADD on a corrupt sparse value
// sets the registers of the elements before the one that finds it
// corrupt, and replies the error; Redis keeps those registers (and
// invalidates the cached count), and so does walrus, on its replicas
// too. e1396 falls in register 0, the only one the value covers.
func TestPFAddKeepsWhatACorruptHLLTook(t *testing.T) {
	corrupt := "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	after := "$HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x80"
	scenario := func(t *testing.T, c *rawConn) {
		c.expect("+OK", "SET", "h", corrupt)
		c.expect(":1", "EXPIRE", "h", "100")
		c.expect("-INVALIDOBJ Corrupted HLL object detected", "PFADD", "h", "v23")
		c.expect("$"+corrupt, "GET", "h")
		c.expect("-INVALIDOBJ Corrupted HLL object detected", "PFADD", "h", "e1396", "v23")
		c.expect(after, "GET", "h")
		c.expect(":100", "TTL", "h")
	}
	againstBoth(t, func(t *testing.T, addr string) { scenario(t, dialRaw(t, addr)) })
	t.Run("replicated", func(t *testing.T) {
		_, _, mc, rc := masterAndReplica(t)
		scenario(t, mc)
		waitFor(t, "the replica to hold the master's value", 10*time.Second, func() bool { return rc.do("GET", "h") == after })
	})
}
