package server

import (
	"sort"
	"strconv"
	"strings"
)

// Helpers shared by the data-type differential families.

// member draws a collection member from a small space so commands
// collide; sometimes an integer, sometimes empty.
func (g *gen) member() string {
	switch g.r.IntN(10) {
	case 0:
		return strconv.Itoa(g.r.IntN(20) - 5)
	case 1:
		return g.pick("", "a", "b", "zz", "A", "-", "+", "x(")
	default:
		return "m" + strconv.Itoa(g.r.IntN(12))
	}
}

// members draws 1..n members.
func (g *gen) members(n int) []string {
	k := 1 + g.r.IntN(n)
	out := make([]string, k)
	for i := range out {
		out[i] = g.member()
	}
	return out
}

// score draws a sorted-set score, with the edge values Redis treats
// specially.
func (g *gen) score() string {
	switch g.r.IntN(8) {
	case 0:
		return g.pick("-0", "0", "inf", "-inf", "+inf", "1e3", "1.5", "-2.25", "0.1")
	case 1:
		return strconv.FormatFloat(g.r.Float64()*20-10, 'f', 2, 64)
	default:
		return strconv.Itoa(g.r.IntN(10) - 3)
	}
}

// commonKeyOps are generic commands every type family mixes in: other
// types on the same keys (WRONGTYPE), deletion, expiry that resolves at
// once, renames and copies.
func (g *gen) commonKeyOp() []string {
	k := g.key()
	switch g.r.IntN(12) {
	case 0:
		return []string{"SET", k, g.val()}
	case 1:
		return []string{"DEL", k}
	case 2:
		return []string{"TYPE", k}
	case 3:
		return []string{"EXPIRE", k, g.pick("100", "-1", "0", "1000")}
	case 4:
		return []string{"PERSIST", k}
	case 5:
		return []string{"TTL", k}
	case 6:
		return []string{"RENAME", k, g.key()}
	case 7:
		return []string{"COPY", k, g.key(), g.pick("REPLACE", "DB", "REPLACE")}
	case 8:
		return []string{"EXISTS", k}
	case 9:
		return []string{"UNLINK", k, g.key()}
	case 10:
		return []string{"MOVE", k, "1"}
	default:
		return []string{"DBSIZE"}
	}
}

// pairsSorted sorts a flat array reply as (a b) pairs.
func pairsSorted(s string) string {
	if !strings.HasPrefix(s, "[") || strings.Contains(s[1:], "[") {
		return s
	}
	f := splitItems(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if len(f)%2 != 0 {
		return s
	}
	pairs := make([]string, 0, len(f)/2)
	for i := 0; i < len(f); i += 2 {
		pairs = append(pairs, f[i]+" "+f[i+1])
	}
	sort.Strings(pairs)
	return "[" + strings.Join(pairs, " ") + "]"
}

// scanAll normalises a SCAN-family reply run with a COUNT large enough to
// finish in one call: the cursor must be 0, the items compared as a set of
// (pairs when pairs is true).
func scanAll(s string, pairs bool) string {
	const head = "[$0 ["
	if !strings.HasPrefix(s, head) || !strings.HasSuffix(s, "]]") {
		return s
	}
	inner := "[" + strings.TrimSuffix(strings.TrimPrefix(s, head), "]]") + "]"
	if inner == "[]" {
		return "scan " + inner
	}
	if pairs {
		return "scan " + pairsSorted(inner)
	}
	return "scan " + sortedReply(inner)
}

// arrayLen reduces an array reply to its length (random picks).
func arrayLen(s string) string {
	if !strings.HasPrefix(s, "[") {
		return s
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if inner == "" {
		return "len 0"
	}
	return "len " + strconv.Itoa(len(splitItems(inner)))
}

// present reduces a bulk reply to whether it is nil (random picks).
func present(s string) string {
	if strings.HasPrefix(s, "$") {
		return "bulk"
	}
	return s
}

// splitItems splits the inside of a rendered flat array ("$a $b :1")
// into its items; bulk contents may hold spaces.
func splitItems(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, " ") {
		if len(out) > 0 && p != "" && p[0] != '$' && p[0] != ':' && p[0] != '(' {
			out[len(out)-1] += " " + p
			continue
		}
		if len(out) > 0 && p == "" {
			out[len(out)-1] += " "
			continue
		}
		out = append(out, p)
	}
	return out
}
