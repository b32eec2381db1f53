package server

import (
	"regexp"
	"strconv"
	"strings"
)

func init() { families = append(families, streamFamily) }

// streamTicks is each generator's clock for explicit stream IDs: IDs
// drawn near it mostly grow, so XADD mostly succeeds, and now and then
// fall behind the stream's top.
var streamTicks = map[*gen]uint64{}

func (g *gen) streamKey() string {
	if g.r.IntN(30) == 0 {
		return g.pick("str", "nokey")
	}
	return "s" + strconv.Itoa(g.r.IntN(3))
}

// streamID draws an ID for XADD: mostly just ahead of the clock.
func (g *gen) streamAddID() string {
	streamTicks[g]++
	t := streamTicks[g] / 3
	switch g.r.IntN(20) {
	case 0:
		return g.pick("0-0", "0-*", "0-1", "1", "x", "1-x", "-1", "1-", "-", "+", "18446744073709551615-18446744073709551615", "18446744073709551615-*", " 5", "+7", "1-18446744073709551615")
	case 1, 2, 3:
		return strconv.FormatUint(t, 10) + "-*"
	case 4:
		return strconv.FormatUint(t, 10)
	default:
		return strconv.FormatUint(t, 10) + "-" + g.int(0, 2)
	}
}

// streamAt draws an ID anywhere in the range used so far.
func (g *gen) streamAt() string {
	t := int(streamTicks[g]/3) + 1
	switch g.r.IntN(12) {
	case 0:
		return g.pick("-", "+", "x", "(-", "(+", "0-0", "(0-0", "18446744073709551615-18446744073709551615", "(18446744073709551615-18446744073709551615", "1-x")
	case 1:
		return strconv.Itoa(g.r.IntN(t))
	case 2, 3:
		return "(" + strconv.Itoa(g.r.IntN(t)) + "-" + g.int(0, 2)
	default:
		return strconv.Itoa(g.r.IntN(t)) + "-" + g.int(0, 2)
	}
}

func (g *gen) fields() []string {
	var f []string
	for n := 1 + g.r.IntN(2); n > 0; n-- {
		f = append(f, g.pick("a", "b", "c", "name"), "v"+g.int(0, 99))
	}
	return f
}

// trimOpts draws XADD's or XTRIM's trimming options.
func (g *gen) trimOpts(xtrim bool) []string {
	var o []string
	if !xtrim && g.r.IntN(3) != 0 {
		return nil
	}
	switch g.r.IntN(12) {
	case 0, 1, 2, 3:
		o = []string{"MAXLEN", g.pick("=", "~", "", ""), g.pick(g.int(0, 10), g.int(0, 300), "-1", "x")}
	case 4, 5, 6:
		o = []string{"MINID", g.pick("=", "~", ""), g.streamAt()}
	case 7:
		o = []string{"MAXLEN", "~", g.int(0, 300), "LIMIT", g.pick("0", "1", "100", "150", "-1", "x")}
	case 8:
		o = []string{"MAXLEN", g.pick("=", ""), "3", "LIMIT", "10"}
	case 9:
		o = []string{"MAXLEN", "2", "MINID", "1"}
	case 10:
		o = []string{"LIMIT", "5"}
	default:
		o = []string{g.pick("MAXLEN", "MINID", "BOGUS")}
	}
	var out []string
	for _, a := range o {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (g *gen) group() string    { return g.pick("g1", "g2", "g1", "nogroup") }
func (g *gen) consumer() string { return g.pick("c1", "c2", "c3") }

// streamIDs draws 1-3 IDs for XDEL, XACK and XCLAIM.
func (g *gen) streamIDs() []string {
	var ids []string
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		t := int(streamTicks[g]/3) + 1
		if g.r.IntN(15) == 0 {
			ids = append(ids, g.pick("x", "-", "+"))
			continue
		}
		ids = append(ids, strconv.Itoa(g.r.IntN(t))+"-"+g.int(0, 2))
	}
	return ids
}

var (
	// Idle times are each server's clock: compared as present only.
	pendingIdle  = regexp.MustCompile(`\[(\$[0-9]+-[0-9]+) (\$c[0-9]) :[0-9]+ (:[0-9]+)\]`)
	consumerIdle = regexp.MustCompile(`\$idle :[0-9]+`)
	// Redis's radix tree node count depends on its keys' shared prefixes.
	raxNodes = regexp.MustCompile(`\$radix-tree-nodes :[0-9]+`)
	// An ID made by "*" is the server's clock.
	autoID = regexp.MustCompile(`\$[0-9]{13}-[0-9]+`)
	// So are XINFO STREAM FULL's delivery and seen times.
	unixMS = regexp.MustCompile(`:[0-9]{13}\b`)
)

// bigTicks is the clock of the one long stream, "sbig", whose XADDs
// always succeed, so that trimming meets whole nodes of 100 entries.
var bigTicks = map[*gen]int{}

// bigStream draws a command on "sbig": mostly XADD, with trimming that
// keeps it between one and a few hundred entries.
func (g *gen) bigStream() []string {
	switch g.r.IntN(40) {
	case 0:
		return []string{"XTRIM", "sbig", g.pick("MAXLEN", "MINID"), "=", strconv.Itoa(g.r.IntN(bigTicks[g] + 1))}
	case 1, 2:
		return []string{"XTRIM", "sbig", "MINID", "~", strconv.Itoa(g.r.IntN(bigTicks[g] + 1))}
	case 3, 4:
		return []string{"XTRIM", "sbig", "MAXLEN", "~", g.int(0, 300), "LIMIT", g.pick("0", "50", "100", "200")}
	case 5, 6, 7:
		return []string{"XINFO", "STREAM", "sbig"}
	case 8, 9:
		return []string{"XRANGE", "sbig", strconv.Itoa(g.r.IntN(bigTicks[g] + 1)), "+", "COUNT", "3"}
	case 10, 11, 12:
		return []string{"XDEL", "sbig", strconv.Itoa(g.r.IntN(bigTicks[g] + 1))}
	}
	bigTicks[g]++
	c := []string{"XADD", "sbig"}
	if g.r.IntN(8) == 0 {
		c = append(c, "MAXLEN", "~", g.int(100, 400))
	}
	return append(c, strconv.Itoa(bigTicks[g]), "a", g.int(0, 9))
}

var streamFamily = family{
	name: "streams",
	normalize: func(cmd []string, reply string) string {
		reply = pendingIdle.ReplaceAllString(reply, "[$1 $2 :idle $3]")
		reply = consumerIdle.ReplaceAllString(reply, "$$idle :N")
		reply = raxNodes.ReplaceAllString(reply, "$$radix-tree-nodes :N")
		if len(cmd) > 3 && strings.EqualFold(cmd[3], "full") {
			reply = unixMS.ReplaceAllString(reply, ":T")
		}
		return autoID.ReplaceAllString(reply, "$$<auto>")
	},
	next: func(g *gen) []string {
		k := g.streamKey()
		switch g.r.IntN(52) {
		case 0, 1, 2, 3, 4, 5, 6, 7:
			c := []string{"XADD", k}
			if g.r.IntN(20) == 0 {
				c = append(c, "NOMKSTREAM")
			}
			c = append(c, g.trimOpts(false)...)
			c = append(c, g.streamAddID())
			c = append(c, g.fields()...)
			if g.r.IntN(25) == 0 {
				c = append(c, "odd")
			}
			return c
		case 8:
			// Generated IDs, on a key no other command reads.
			c := []string{"XADD", "sauto"}
			c = append(c, g.trimOpts(false)...)
			return append(append(c, "*"), g.fields()...)
		case 9:
			return []string{"XLEN", g.pick(k, "sauto")}
		case 10, 11, 12:
			c := []string{g.pick("XRANGE", "XREVRANGE"), k, g.streamAt(), g.streamAt()}
			if g.r.IntN(4) == 0 {
				c[2], c[3] = g.pick("-", "+"), g.pick("+", "-")
			}
			if g.r.IntN(3) == 0 {
				c = append(c, "COUNT", g.pick("0", "1", "2", "5", "-1", "x"))
			}
			if g.r.IntN(30) == 0 {
				c = append(c, "BOGUS")
			}
			return c
		case 13, 14:
			return append([]string{"XDEL", k}, g.streamIDs()...)
		case 15, 16:
			return append([]string{"XTRIM", k}, g.trimOpts(true)...)
		case 17:
			c := []string{"XSETID", k, g.streamAt()}
			switch g.r.IntN(4) {
			case 0:
				c = append(c, "ENTRIESADDED", g.pick("0", "5", "1000", "-1", "x"))
			case 1:
				c = append(c, "MAXDELETEDID", g.streamAt())
			case 2:
				c = append(c, "ENTRIESADDED", g.int(0, 500), "MAXDELETEDID", g.streamAt(), g.pick("", "EXTRA"))
				if c[len(c)-1] == "" {
					c = c[:len(c)-1]
				}
			}
			return c
		case 18, 19:
			c := []string{"XREAD"}
			if g.r.IntN(3) == 0 {
				c = append(c, "COUNT", g.pick("1", "2", "0", "-1", "x"))
			}
			if g.r.IntN(6) == 0 {
				// Served at once, or a null when the wait times out.
				c = append(c, "BLOCK", "1")
			}
			c = append(c, "STREAMS", k)
			if g.r.IntN(2) == 0 {
				c = append(c, g.streamKey(), g.streamAt(), g.pick(g.streamAt(), "$"))
			} else {
				c = append(c, g.pick(g.streamAt(), "$", ">"))
			}
			if g.r.IntN(30) == 0 {
				c = append(c, "extra")
			}
			return c
		case 20:
			switch g.r.IntN(4) {
			case 0:
				return []string{"XINFO", "STREAM", k, "FULL"}
			case 1:
				return []string{"XINFO", "STREAM", k, "FULL", "COUNT", g.pick("0", "1", "2", "-1", "x")}
			case 2:
				if g.r.IntN(4) == 0 {
					return []string{"XINFO", "STREAM", k, g.pick("FULL", "BOGUS"), g.pick("COUNT", "X"), "1"}
				}
			}
			return []string{"XINFO", "STREAM", k}
		case 21, 22:
			c := []string{"XGROUP", "CREATE", k, g.group(), g.pick("$", "0", g.streamAt())}
			if g.r.IntN(2) == 0 {
				c = append(c, "MKSTREAM")
			}
			if g.r.IntN(4) == 0 {
				c = append(c, "ENTRIESREAD", g.pick("0", "3", "-1", "-2", "x"))
			}
			return c
		case 23:
			return []string{"XGROUP", g.pick("CREATECONSUMER", "DELCONSUMER"), k, g.group(), g.consumer()}
		case 24:
			if g.r.IntN(3) == 0 {
				return []string{"XGROUP", "DESTROY", k, g.group()}
			}
			c := []string{"XGROUP", "SETID", k, g.group(), g.pick("$", "0", g.streamAt())}
			if g.r.IntN(3) == 0 {
				c = append(c, "ENTRIESREAD", g.pick("0", "2", "-1", "x"))
			}
			return c
		case 25, 26, 27, 28, 29:
			c := []string{"XREADGROUP", "GROUP", g.group(), g.consumer()}
			if g.r.IntN(2) == 0 {
				c = append(c, "COUNT", g.pick("1", "2", "3", "0"))
			}
			if g.r.IntN(6) == 0 {
				c = append(c, "NOACK")
			}
			if g.r.IntN(6) == 0 {
				c = append(c, "BLOCK", "1")
			}
			c = append(c, "STREAMS", k)
			if g.r.IntN(5) == 0 {
				c = append(c, g.streamKey(), g.pick(">", ">", "0"), g.pick(">", "0", "$"))
			} else {
				c = append(c, g.pick(">", ">", ">", "0", g.streamAt()))
			}
			return c
		case 30, 31:
			return append([]string{"XACK", k, g.group()}, g.streamIDs()...)
		case 32, 33:
			if g.r.IntN(3) == 0 {
				return []string{"XPENDING", k, g.group()}
			}
			c := []string{"XPENDING", k, g.group()}
			if g.r.IntN(4) == 0 {
				c = append(c, "IDLE", g.pick("0", "3600000", "x"))
			}
			c = append(c, g.pick("-", g.streamAt()), g.pick("+", g.streamAt()), g.pick("10", "1", "0", "-1", "x"))
			if g.r.IntN(3) == 0 {
				c = append(c, g.consumer())
			}
			return c
		case 34, 35:
			c := append([]string{"XCLAIM", k, g.group(), g.consumer(), g.pick("0", "0", "3600000", "-5", "x")}, g.streamIDs()...)
			for _, o := range [][]string{nil, {"FORCE"}, {"JUSTID"}, {"RETRYCOUNT", g.pick("3", "x")}, {"IDLE", "1000"}, {"TIME", "1000"}, {"LASTID", g.streamAt()}, {"BOGUS"}}[g.r.IntN(8)] {
				c = append(c, o)
			}
			if g.r.IntN(3) == 0 {
				c = append(c, "JUSTID")
			}
			return c
		case 36, 37:
			c := []string{"XAUTOCLAIM", k, g.group(), g.consumer(), g.pick("0", "0", "3600000", "x"), g.pick("0", "-", g.streamAt())}
			if g.r.IntN(2) == 0 {
				c = append(c, "COUNT", g.pick("1", "2", "0", "x"))
			}
			if g.r.IntN(3) == 0 {
				c = append(c, "JUSTID")
			}
			return c
		case 38:
			return []string{"XINFO", "GROUPS", k}
		case 39:
			return []string{"XINFO", "CONSUMERS", k, g.group()}
		case 40:
			return []string{"TYPE", k}
		case 41:
			if g.r.IntN(4) == 0 {
				return []string{"DEL", k}
			}
			return []string{"EXISTS", k}
		case 42:
			if g.r.IntN(10) == 0 {
				return []string{"SET", "str", "x"}
			}
			return g.bigStream()
		case 43:
			return []string{"OBJECT", "ENCODING", k}
		case 44:
			return []string{g.pick("XGROUP", "XINFO"), g.pick("HELP", "BOGUS", "STREAM", "CREATE")}
		case 46, 47, 48, 49, 50:
			return g.bigStream()
		default:
			if g.r.IntN(2) == 0 {
				return []string{"RENAME", k, g.streamKey()}
			}
			if g.r.IntN(2) == 0 {
				return []string{"COPY", k, g.streamKey(), "REPLACE"}
			}
			return []string{"COPY", k, g.streamKey()}
		}
	},
}
