package server

import "strings"

func init() { families = append(families, zsetFamily) }

// lexBound draws a ZRANGEBYLEX bound.
func (g *gen) lexBound() string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick("-", "+")
	case 1:
		return g.pick("x", "", "m1")
	case 2:
		return "(" + g.member()
	default:
		return "[" + g.member()
	}
}

// scoreBound draws a ZRANGEBYSCORE bound.
func (g *gen) scoreBound() string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick("-inf", "+inf", "inf", "(inf", "(-inf", "x", "(x", " 1")
	case 1:
		return "(" + g.score()
	default:
		return g.score()
	}
}

var zsetFamily = family{
	name:      "zsets",
	unordered: map[string]bool{"KEYS": true},
	normalize: func(cmd []string, reply string) string {
		switch strings.ToUpper(cmd[0]) {
		case "ZSCAN":
			return scanAll(reply, true)
		case "ZRANDMEMBER":
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
		// Lex commands run on one key whose scores are all 0, as Redis
		// requires for meaningful results.
		const lex = "lexkey"
		switch g.r.IntN(44) {
		case 0, 1, 2, 3:
			c := []string{"ZADD", k}
			for _, o := range [][]string{nil, {"NX"}, {"XX"}, {"GT"}, {"LT"}, {"CH"}, {"XX", "CH"}, {"GT", "CH"}, {"NX", "XX"}, {"GT", "LT"}, {"NX", "GT"}}[g.r.IntN(11)] {
				c = append(c, o)
			}
			for i := 0; i < 1+g.r.IntN(3); i++ {
				c = append(c, g.score(), g.member())
			}
			if g.r.IntN(15) == 0 {
				c = append(c, "x")
			}
			return c
		case 4:
			return []string{"ZADD", k, g.pick("INCR", "INCR", "NX INCR", "XX"), g.score(), m}
		case 5:
			if g.r.IntN(2) == 0 {
				return []string{"ZADD", k, "INCR", g.score(), m}
			}
			return []string{"ZADD", k, g.pick("GT", "LT", "NX", "XX"), "INCR", g.score(), m}
		case 6:
			return []string{"ZINCRBY", k, g.pick(g.score(), "x", "nan"), m}
		case 7:
			return append([]string{"ZREM", k}, g.members(3)...)
		case 8:
			return []string{"ZCARD", k}
		case 9:
			return []string{"ZCOUNT", k, g.scoreBound(), g.scoreBound()}
		case 10:
			return []string{"ZSCORE", k, m}
		case 11:
			return append([]string{"ZMSCORE", k}, g.members(3)...)
		case 12:
			return []string{g.pick("ZRANK", "ZREVRANK"), k, m}
		case 13, 14:
			c := []string{"ZRANGE", k, g.int(-5, 5), g.int(-5, 5)}
			if g.r.IntN(2) == 0 {
				c = append(c, "WITHSCORES")
			}
			if g.r.IntN(3) == 0 {
				c = append(c, "REV")
			}
			if g.r.IntN(8) == 0 {
				c = append(c, "LIMIT", "0", "2")
			}
			return c
		case 15, 16:
			c := []string{"ZRANGE", k, g.scoreBound(), g.scoreBound(), "BYSCORE"}
			if g.r.IntN(2) == 0 {
				c = append(c, "REV")
			}
			if g.r.IntN(2) == 0 {
				c = append(c, "WITHSCORES")
			}
			if g.r.IntN(2) == 0 {
				c = append(c, "LIMIT", g.int(-1, 3), g.int(-1, 3))
			}
			return c
		case 17:
			c := []string{g.pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), k, g.scoreBound(), g.scoreBound()}
			if g.r.IntN(2) == 0 {
				c = append(c, "WITHSCORES")
			}
			if g.r.IntN(3) == 0 {
				c = append(c, "LIMIT", g.int(0, 3), g.int(-1, 3))
			}
			return c
		case 18:
			return []string{"ZREVRANGE", k, g.int(-5, 5), g.int(-5, 5), g.pick("WITHSCORES", "WITHSCORES", "BAD")}
		case 19:
			return []string{"ZREVRANGE", k, g.int(-5, 5), g.int(-5, 5)}
		case 20:
			return []string{"ZADD", lex, "0", m}
		case 21:
			c := []string{g.pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), lex, g.lexBound(), g.lexBound()}
			if g.r.IntN(3) == 0 {
				c = append(c, "LIMIT", g.int(0, 3), g.int(-1, 3))
			}
			return c
		case 22:
			c := []string{"ZRANGE", lex, g.lexBound(), g.lexBound(), "BYLEX"}
			if g.r.IntN(2) == 0 {
				c = append(c, "REV")
			}
			if g.r.IntN(5) == 0 {
				c = append(c, "WITHSCORES")
			}
			return c
		case 23:
			return []string{"ZLEXCOUNT", lex, g.lexBound(), g.lexBound()}
		case 24:
			return []string{"ZREMRANGEBYLEX", lex, g.lexBound(), g.lexBound()}
		case 25:
			return []string{"ZRANGESTORE", g.key(), k, g.int(-3, 3), g.int(-3, 3)}
		case 26:
			return []string{"ZRANGESTORE", g.key(), k, g.scoreBound(), g.scoreBound(), "BYSCORE", g.pick("REV", "LIMIT"), "0", "2"}
		case 27:
			return []string{g.pick("ZPOPMIN", "ZPOPMAX"), k}
		case 28:
			return []string{g.pick("ZPOPMIN", "ZPOPMAX"), k, g.pick("0", "2", "-1", "x", "10")}
		case 29:
			return []string{g.pick("BZPOPMIN", "BZPOPMAX"), k, g.key(), g.pick("0.001", "-1", "x")}
		case 30:
			return []string{"ZREMRANGEBYRANK", k, g.int(-3, 3), g.int(-3, 3)}
		case 31:
			return []string{"ZREMRANGEBYSCORE", k, g.scoreBound(), g.scoreBound()}
		case 32, 33:
			c := []string{g.pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"), g.key(), g.pick("2", "2", "1", "0", "5"), k, g.key()}
			if g.r.IntN(3) == 0 && c[0] != "ZDIFFSTORE" {
				c = append(c, "WEIGHTS", g.pick("1", "2", "-1", "0.5"), g.pick("1", "3", "x"))
			}
			if g.r.IntN(3) == 0 && c[0] != "ZDIFFSTORE" {
				c = append(c, "AGGREGATE", g.pick("SUM", "MIN", "MAX", "AVG"))
			}
			return c
		case 34, 35:
			c := []string{g.pick("ZUNION", "ZINTER", "ZDIFF"), g.pick("2", "2", "1", "0"), k, g.key()}
			if g.r.IntN(3) == 0 && c[0] != "ZDIFF" {
				c = append(c, "WEIGHTS", g.pick("1", "2", "-1"), g.pick("1", "3"))
			}
			if g.r.IntN(3) == 0 && c[0] != "ZDIFF" {
				c = append(c, "AGGREGATE", g.pick("SUM", "MIN", "MAX"))
			}
			if g.r.IntN(2) == 0 {
				c = append(c, "WITHSCORES")
			}
			return c
		case 36:
			switch g.r.IntN(3) {
			case 0:
				return []string{"ZRANDMEMBER", k}
			case 1:
				return []string{"ZRANDMEMBER", k, g.int(-5, 10)}
			default:
				return []string{"ZRANDMEMBER", k, g.int(-5, 10), g.pick("WITHSCORES", "BAD")}
			}
		case 37:
			return append([]string{"ZSCAN", k, "0", "COUNT", "1000"}, [][]string{{}, {"MATCH", "m1*"}}[g.r.IntN(2)]...)
		case 38:
			return []string{"SADD", k, m}
		case 39:
			return []string{"ZINTERCARD", g.pick("2", "1", "0"), k, g.key(), g.pick("LIMIT", "LIMIT", "x"), g.pick("0", "1", "-1")}
		case 40:
			return append([]string{"ZMPOP"}, g.mpop(k, "MIN", "MAX", "max")...)
		case 41:
			if g.r.IntN(4) != 0 {
				return g.commonKeyOp()
			}
			return append([]string{"BZMPOP", g.pick("0.001", "0.001", "-1", "x")}, g.mpop(k, "MIN", "MAX")...)
		default:
			return g.commonKeyOp()
		}
	},
}
