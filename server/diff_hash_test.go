package server

import "strings"

func init() { families = append(families, hashFamily) }

var hashFamily = family{
	name:      "hashes",
	unordered: map[string]bool{"HKEYS": true, "HVALS": true, "KEYS": true},
	normalize: func(cmd []string, reply string) string {
		switch strings.ToUpper(cmd[0]) {
		case "HGETALL":
			return pairsSorted(reply)
		case "HSCAN":
			return scanAll(reply, true)
		case "HRANDFIELD":
			if len(cmd) == 2 {
				return present(reply)
			}
			return arrayLen(reply)
		}
		return reply
	},
	next: func(g *gen) []string {
		k := g.key()
		f := g.member()
		switch g.r.IntN(26) {
		case 0, 1, 2:
			c := []string{"HSET", k}
			for _, m := range g.members(4) {
				c = append(c, m, g.val())
			}
			return c
		case 3:
			return []string{"HSET", k, f}
		case 4:
			return []string{"HSETNX", k, f, g.val()}
		case 5:
			return []string{"HGET", k, f}
		case 6:
			return append([]string{"HMGET", k}, g.members(3)...)
		case 7:
			return []string{"HMSET", k, f, g.val(), g.member(), g.val()}
		case 8:
			return append([]string{"HDEL", k}, g.members(3)...)
		case 9:
			return []string{"HLEN", k}
		case 10:
			return []string{"HSTRLEN", k, f}
		case 11:
			return []string{"HEXISTS", k, f}
		case 12:
			return []string{"HKEYS", k}
		case 13:
			return []string{"HVALS", k}
		case 14:
			return []string{"HGETALL", k}
		case 15:
			return []string{"HINCRBY", k, f, g.pick(g.int(-100, 100), "abc", "9223372036854775807", "-9223372036854775808", "1.5")}
		case 16:
			return []string{"HINCRBYFLOAT", k, f, g.pick("1.5", "-2", "0.1", "abc", "1e2", "inf", "3", "-0.25")}
		case 17:
			switch g.r.IntN(4) {
			case 0:
				return []string{"HRANDFIELD", k}
			case 1:
				return []string{"HRANDFIELD", k, g.int(-5, 20)}
			case 2:
				return []string{"HRANDFIELD", k, g.int(-5, 20), "WITHVALUES"}
			default:
				return []string{"HRANDFIELD", k, g.pick("x", "3"), g.pick("WITHVALUES", "BAD")}
			}
		case 18:
			return append([]string{"HSCAN", k, "0", "COUNT", "1000"}, [][]string{{}, {"MATCH", "m1*"}, {"MATCH", "*"}}[g.r.IntN(3)]...)
		case 19:
			return []string{"HSCAN", k, g.pick("x", "1x")}
		case 20:
			return []string{"OBJECT", "ENCODING", k}
		case 21:
			return []string{g.pick("HGET", "HLEN", "HDEL", "HSET"), k}
		default:
			return g.commonKeyOp()
		}
	},
}
