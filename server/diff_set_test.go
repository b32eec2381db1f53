package server

import "strings"

func init() { families = append(families, setFamily) }

var setFamily = family{
	name: "sets",
	unordered: map[string]bool{"SMEMBERS": true, "SINTER": true, "SUNION": true, "SDIFF": true, "KEYS": true,
		"SPOP": true},
	normalize: func(cmd []string, reply string) string {
		switch strings.ToUpper(cmd[0]) {
		case "SSCAN":
			return scanAll(reply, false)
		case "SRANDMEMBER":
			if len(cmd) == 2 {
				return present(reply)
			}
			return arrayLen(reply)
		}
		return reply
	},
	next: func(g *gen) []string {
		k := g.key()
		m := g.member()
		switch g.r.IntN(28) {
		case 0, 1, 2, 3:
			return append([]string{"SADD", k}, g.members(5)...)
		case 4:
			return append([]string{"SREM", k}, g.members(3)...)
		case 5:
			return []string{"SCARD", k}
		case 6:
			return []string{"SISMEMBER", k, m}
		case 7:
			return append([]string{"SMISMEMBER", k}, g.members(3)...)
		case 8:
			return []string{"SMEMBERS", k}
		case 9:
			// Only whole-set pops are deterministic.
			return []string{"SPOP", k, g.pick("100", "0", "-1", "x")}
		case 10:
			switch g.r.IntN(3) {
			case 0:
				return []string{"SRANDMEMBER", k}
			case 1:
				return []string{"SRANDMEMBER", k, g.int(-10, 20)}
			default:
				return []string{"SRANDMEMBER", k, g.pick("x", "1"), "2"}
			}
		case 11:
			return []string{"SMOVE", k, g.key(), m}
		case 12, 13:
			return append([]string{g.pick("SINTER", "SUNION", "SDIFF")}, k, g.key(), g.key())
		case 14, 15:
			return append([]string{g.pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), g.key()}, k, g.key())
		case 16:
			c := []string{"SINTERCARD", g.pick("2", "1", "0", "5", "x"), k, g.key()}
			if g.r.IntN(2) == 0 {
				c = append(c, "LIMIT", g.pick("0", "1", "3", "-1", "x"))
			}
			return c
		case 17:
			return append([]string{"SSCAN", k, "0", "COUNT", "1000"}, [][]string{{}, {"MATCH", "m1*"}}[g.r.IntN(2)]...)
		case 18:
			return []string{"SPOP", k, "1", "2"}
		case 19:
			return []string{"SADD", k}
		default:
			return g.commonKeyOp()
		}
	},
}
