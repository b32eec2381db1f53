package server

import "strings"

func init() { families = append(families, sortFamily) }

// sortFamily builds lists, sets and sorted sets of numbers and words, with
// weight keys (w_<elem>) and hash fields (h_<elem> -> f) for BY and GET.
var sortFamily = family{
	name:      "sort",
	unordered: map[string]bool{"KEYS": true},
	normalize: func(cmd []string, reply string) string {
		// A set sorted BY nosort comes out in hash-table order (and
		// LIMIT picks different members): compare the length.
		if setNoSort(cmd) {
			return arrayLen(reply)
		}
		return reply
	},
	shape: func(cmd []string, shape string) string {
		// The same: which elements are null depends on the order, so
		// only the outer type counts.
		if setNoSort(cmd) {
			shape, _, _ = strings.Cut(shape, "(")
		}
		return shape
	},
	next: func(g *gen) []string {
		// Lists on l*, sets on s*, sorted sets on z*; k* for wrong types.
		k := g.pick("l", "s", "z", "k") + g.int(0, 2)
		e := g.pick(g.int(-5, 20), g.int(0, 9), "a", "b", "c10", "1.5", "x y")
		switch g.r.IntN(20) {
		case 0, 1, 2:
			return []string{g.pick("RPUSH", "LPUSH"), "l" + g.int(0, 2), e, g.int(-5, 20), g.int(0, 9)}
		case 3:
			return []string{"SADD", "s" + g.int(0, 2), e, g.int(0, 30)}
		case 4:
			return []string{"ZADD", "z" + g.int(0, 2), g.int(0, 5), e}
		case 5:
			return []string{"SET", "w_" + e, g.pick(g.int(-10, 10), "1.5", "abc")}
		case 6:
			return []string{"HSET", "h_" + e, "f", g.int(-10, 10)}
		case 7:
			return []string{"DEL", "w_" + e}
		default:
			c := []string{g.pick("SORT", "SORT", "SORT_RO"), k}
			by := g.r.IntN(3) == 0
			if by {
				c = append(c, "BY", g.pick("w_*", "h_*->f", "nosort", "w_*->", "missing_*"))
			}
			if g.r.IntN(3) == 0 {
				c = append(c, "LIMIT", g.int(-1, 4), g.int(-1, 4))
			}
			for i := g.r.IntN(3); i > 0; i-- {
				c = append(c, "GET", g.pick("#", "w_*", "h_*->f", "nokey"))
			}
			if g.r.IntN(2) == 0 {
				c = append(c, g.pick("ASC", "DESC"))
			}
			// ALPHA with BY leaves ties (missing weights) in an order
			// Redis does not specify: not generated.
			if g.r.IntN(2) == 0 && !by {
				c = append(c, "ALPHA")
			}
			if g.r.IntN(4) == 0 && c[0] == "SORT" {
				c = append(c, "STORE", g.pick("l", "k")+g.int(0, 2))
			}
			if g.r.IntN(30) == 0 {
				c = append(c, "BOGUS")
			}
			return c
		}
	},
}

// setNoSort says whether cmd sorts a set BY nosort.
func setNoSort(cmd []string) bool {
	return strings.HasPrefix(cmd[1], "s") && strings.Contains(strings.Join(cmd, " "), "nosort")
}
