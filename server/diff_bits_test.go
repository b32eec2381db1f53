package server

import "strconv"

func init() { families = append(families, bitsFamily) }

// bitsFamily mixes the bitmap commands with the string commands that
// shape the same values, other types on the same keys, and the edges of
// offsets and ranges.
// bitfield builds a BITFIELD (or BITFIELD_RO) of one to four operations
// on small offsets, now and then a bad type, offset, value or OVERFLOW.
func (g *gen) bitfield(k string, ro bool) []string {
	cmd := []string{"BITFIELD", k}
	if ro {
		cmd[0] = "BITFIELD_RO"
	}
	typ := func() string {
		if g.r.IntN(15) == 0 {
			return g.pick("i65", "u64", "i0", "x8", "I8", "u")
		}
		return g.pick("i", "u") + strconv.Itoa(1+g.r.IntN(63))
	}
	off := func() string {
		switch g.r.IntN(15) {
		case 0:
			return g.pick("-1", "x", "#-1", "4294967296", "")
		case 1, 2, 3:
			return "#" + g.int(0, 6)
		}
		return g.int(0, 100)
	}
	num := func() string {
		if g.r.IntN(10) == 0 {
			return g.pick("9223372036854775807", "-9223372036854775808", "x", "1.5")
		}
		return g.int(-300, 300)
	}
	for n := 1 + g.r.IntN(4); n > 0; n-- {
		switch op := g.r.IntN(8); {
		case op < 3 || ro && op < 6:
			cmd = append(cmd, "GET", typ(), off())
		case op < 5:
			cmd = append(cmd, "SET", typ(), off(), num())
		case op < 7:
			cmd = append(cmd, "INCRBY", typ(), off(), num())
		default:
			cmd = append(cmd, "OVERFLOW", g.pick("WRAP", "SAT", "FAIL", "fail", "BAD"))
		}
	}
	if g.r.IntN(30) == 0 {
		cmd = append(cmd, g.pick("GET", "SET", "FOO"))
	}
	return cmd
}

var bitsFamily = family{
	name: "bits",
	next: func(g *gen) []string {
		k := g.key()
		offset := func() string {
			switch g.r.IntN(10) {
			case 0:
				return g.pick("-1", "x", "4294967296", "99999999999", "1.5", "")
			case 1:
				return g.int(0, 200)
			default:
				return g.int(0, 40)
			}
		}
		idx := func() string {
			if g.r.IntN(12) == 0 {
				return g.pick("x", "9223372036854775807", "-9223372036854775808", "")
			}
			return g.int(-12, 12)
		}
		unit := func() []string {
			return [][]string{{}, {"BYTE"}, {"BIT"}, {"bit"}, {"NIBBLE"}}[g.r.IntN(5)]
		}
		switch g.r.IntN(24) {
		case 20, 21, 22:
			return g.bitfield(k, false)
		case 23:
			return g.bitfield(k, true)
		case 0, 1, 2:
			return []string{"SETBIT", k, offset(), g.pick("0", "1", "1", "2", "-1", "x")}
		case 3, 4:
			return []string{"GETBIT", k, offset()}
		case 5:
			return []string{"BITCOUNT", k}
		case 6, 7:
			return append([]string{"BITCOUNT", k, idx(), idx()}, unit()...)
		case 8:
			return []string{"BITCOUNT", k, idx()}
		case 9:
			return []string{"BITPOS", k, g.pick("0", "1", "1", "2", "x")}
		case 10, 11:
			return []string{"BITPOS", k, g.pick("0", "1"), idx()}
		case 12, 13:
			return append([]string{"BITPOS", k, g.pick("0", "1"), idx(), idx()}, unit()...)
		case 14:
			op := g.pick("AND", "OR", "XOR", "NOT", "and", "NAND")
			srcs := []string{g.key()}
			if op != "NOT" || g.r.IntN(4) == 0 {
				for range g.r.IntN(3) {
					srcs = append(srcs, g.key())
				}
			}
			return append([]string{"BITOP", op, k}, srcs...)
		case 15:
			return []string{"SET", k, g.pick("", "\xff", "\x00\x01", "foobar", "\xf0\x0f\xaa", g.val())}
		case 16:
			return []string{"GET", k}
		case 17:
			return []string{"SETRANGE", k, g.int(0, 6), g.pick("\xff", "\x00", "ab")}
		case 18:
			return []string{"BITPOS", k, "0", "0", "-1", "BIT"}
		default:
			return g.commonKeyOp()
		}
	},
}
