package server

func init() { families = append(families, listFamily) }

var listFamily = family{
	name:      "lists",
	unordered: map[string]bool{"KEYS": true},
	next: func(g *gen) []string {
		k := g.key()
		e := g.member()
		idx := g.int(-8, 8)
		n := g.r.IntN(30)
		if n >= 17 && n <= 19 && g.r.IntN(4) != 0 {
			n = 29 // blocking forms: fewer, each may wait for its timeout
		}
		switch n {
		case 0, 1, 2:
			return append([]string{g.pick("LPUSH", "RPUSH"), k}, g.members(4)...)
		case 3:
			return append([]string{g.pick("LPUSHX", "RPUSHX"), k}, g.members(2)...)
		case 4:
			return []string{g.pick("LPOP", "RPOP"), k}
		case 5:
			return []string{g.pick("LPOP", "RPOP"), k, g.pick(g.int(0, 5), "-1", "x")}
		case 6:
			return []string{"LLEN", k}
		case 7:
			return []string{"LINDEX", k, g.pick(idx, "x")}
		case 8:
			return []string{"LSET", k, g.pick(idx, "x"), e}
		case 9, 10:
			return []string{"LRANGE", k, g.int(-10, 10), g.pick(g.int(-10, 10), "-1", "100")}
		case 11:
			return []string{"LTRIM", k, g.int(-6, 6), g.int(-6, 6)}
		case 12:
			return []string{"LREM", k, g.int(-3, 3), e}
		case 13:
			return []string{"LINSERT", k, g.pick("BEFORE", "AFTER", "before", "middle"), e, g.member()}
		case 14:
			c := []string{"LPOS", k, e}
			switch g.r.IntN(6) {
			case 1:
				c = append(c, "RANK", g.pick("1", "2", "-1", "-2", "0"))
			case 2:
				c = append(c, "COUNT", g.pick("0", "1", "2", "-1"))
			case 3:
				c = append(c, "MAXLEN", g.pick("0", "1", "3", "-1"))
			case 4:
				c = append(c, "RANK", g.pick("-1", "2"), "COUNT", g.pick("0", "2"), "MAXLEN", g.pick("0", "4"))
			case 5:
				c = append(c, "BOGUS", "1")
			}
			return c
		case 15:
			return []string{"LMOVE", k, g.key(), g.pick("LEFT", "RIGHT", "up"), g.pick("LEFT", "RIGHT", "right")}
		case 16:
			return []string{"RPOPLPUSH", k, g.pick(g.key(), k)}
		case 17:
			// Non-blocking when data is there; when not, a short
			// timeout gives a null array on both servers.
			return []string{g.pick("BLPOP", "BRPOP"), k, g.key(), g.pick("0.001", "-1", "x")}
		case 18:
			return []string{"BLMOVE", k, g.key(), g.pick("LEFT", "RIGHT"), g.pick("LEFT", "RIGHT"), g.pick("0.001", "-1")}
		case 19:
			return []string{"BRPOPLPUSH", k, g.key(), "0.001"}
		case 20:
			return []string{"OBJECT", "ENCODING", k}
		case 21:
			return []string{"LPOP", k, "1", "2"}
		case 22, 23:
			return append([]string{"LMPOP"}, g.mpop(k, "LEFT", "RIGHT", "left")...)
		case 24:
			if g.r.IntN(4) != 0 {
				return g.commonKeyOp()
			}
			return append([]string{"BLMPOP", g.pick("0.001", "0.001", "-1", "x")}, g.mpop(k, "LEFT", "RIGHT")...)
		default:
			return g.commonKeyOp()
		}
	},
}
