package server

import (
	"math"
	"strconv"
	"strings"
)

func init() { families = append(families, geoFamily) }

// geoCentres are where most positions cluster, so searches find
// members: an ordinary place, the origin, near the antimeridian and near
// the Mercator limit (where Redis widens its boxes).
var geoCentres = [][2]float64{{13.361389, 38.115556}, {0, 0}, {179.8, -12.5}, {-70.2, 84.9}}

// geoLonLat draws a position: mostly near a centre, sometimes
// anywhere, sometimes an edge or a value Redis refuses.
func (g *gen) geoLonLat() (string, string) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', g.r.IntN(7), 64) }
	switch g.r.IntN(10) {
	case 0:
		return f(g.r.Float64()*360 - 180), f(g.r.Float64()*170.1 - 85.05)
	case 1:
		return g.pick("180", "-180", "0", "179.999999", "-180.0000001", "180.5", "abc", "inf", "1e2", ""),
			g.pick("85.05112878", "-85.05112878", "0", "85.05112879", "-85.1", "90", "-0", "x", "10")
	default:
		c := geoCentres[g.r.IntN(len(geoCentres))]
		spread := []float64{0.0001, 0.01, 0.5, 3}[g.r.IntN(4)]
		lon := c[0] + (g.r.Float64()*2-1)*spread
		lat := c[1] + (g.r.Float64()*2-1)*spread
		return f(max(-180, min(180, lon))), f(max(-85.05, min(85.05, lat)))
	}
}

// geoMember draws a member from a small space, so adds collide.
func (g *gen) geoMember() string {
	if g.r.IntN(10) == 0 {
		return g.member()
	}
	return "p" + strconv.Itoa(g.r.IntN(12))
}

// geoKey draws from half the key space: geo sets grow larger there,
// and the generic commands still reach them.
func (g *gen) geoKey() string { return "k" + strconv.Itoa(g.r.IntN(4)) }

func (g *gen) geoUnit() string {
	return g.pick("m", "km", "mi", "ft", "M", "KM", "Mi", "m", "km", "yd")
}

// geoDistance draws a radius (or a box side) for a unit: from nothing to
// half the earth, with negative and non-numeric ones now and then.
func (g *gen) geoDistance() string {
	switch g.r.IntN(12) {
	case 0:
		return g.pick("0", "-1", "x", "inf", "1e3", "0.5")
	case 1:
		return strconv.Itoa(g.r.IntN(20000000))
	default:
		return strconv.FormatFloat([]float64{1, 50, 1000, 40000, 300000, 2000000, 8000000}[g.r.IntN(7)]*(0.5+g.r.Float64()), 'f', g.r.IntN(3), 64)
	}
}

// geoOptions draws reply and order options for a search, in any order.
func (g *gen) geoOptions(with bool) []string {
	var opts [][]string
	if with {
		for _, o := range []string{"WITHDIST", "WITHCOORD", "WITHHASH"} {
			if g.r.IntN(3) == 0 {
				opts = append(opts, []string{o})
			}
		}
	}
	switch g.r.IntN(4) {
	case 0:
		opts = append(opts, []string{g.pick("ASC", "DESC", "asc")})
	case 1:
		opts = append(opts, []string{"COUNT", g.pick("1", "2", "3", "5", "100", "0", "-1", "x")})
	case 2:
		opts = append(opts, []string{"COUNT", g.pick("1", "2", "4")}, []string{g.pick("ANY", "ASC", "DESC", "ANY")})
		if g.r.IntN(3) == 0 {
			opts = append(opts, []string{g.pick("ASC", "DESC")})
		}
	}
	if g.r.IntN(25) == 0 {
		opts = append(opts, []string{g.pick("ANY", "BOGUS", "COUNT", "WITHDIST")})
	}
	g.r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
	var c []string
	for _, o := range opts {
		c = append(c, o...)
	}
	return c
}

// geoFrom and geoBy draw GEOSEARCH's centre and shape, sometimes both
// kinds or neither.
func (g *gen) geoFrom() []string {
	switch g.r.IntN(12) {
	case 0:
		return nil
	case 1:
		lon, lat := g.geoLonLat()
		return []string{"FROMMEMBER", g.geoMember(), "FROMLONLAT", lon, lat}
	case 2, 3, 4, 5:
		return []string{"FROMMEMBER", g.geoMember()}
	default:
		lon, lat := g.geoLonLat()
		return []string{"FROMLONLAT", lon, lat}
	}
}

func (g *gen) geoBy() []string {
	switch g.r.IntN(12) {
	case 0:
		return nil
	case 1:
		return []string{"BYRADIUS", g.geoDistance(), g.geoUnit(), "BYBOX", g.geoDistance(), g.geoDistance(), g.geoUnit()}
	case 2, 3, 4, 5, 6:
		return []string{"BYBOX", g.geoDistance(), g.geoDistance(), g.geoUnit()}
	default:
		return []string{"BYRADIUS", g.geoDistance(), g.geoUnit()}
	}
}

// geoFamily mixes every GEO command with sorted-set reads and generic
// commands on the same keys. Replies are compared byte for byte,
// orders included: Redis's order is its box and score order, its
// (stable) sort by distance, or its partial quicksort for COUNT, and
// walrus follows each.
var geoFamily = family{
	name:      "geo",
	unordered: map[string]bool{"KEYS": true},
	equal:     storedDistancesClose,
	next: func(g *gen) []string {
		k := g.geoKey()
		switch g.r.IntN(30) {
		case 0, 1, 2, 3, 4:
			c := []string{"GEOADD", k}
			opts := [][]string{nil, nil, nil, nil, nil, {"NX"}, {"XX"}, {"CH"}, {"XX", "CH"}, {"CH", "NX"}, {"ch"}, {"nx"}}
			if g.r.IntN(40) == 0 {
				opts = [][]string{{"NX", "XX"}, {"GT"}, {"CH", "CH"}}
			}
			c = append(c, opts[g.r.IntN(len(opts))]...)
			for range 1 + g.r.IntN(4) {
				lon, lat := g.geoLonLat()
				c = append(c, lon, lat, g.geoMember())
			}
			if g.r.IntN(40) == 0 {
				c = c[:len(c)-1]
			}
			return c
		case 5, 6:
			c := []string{"GEOPOS", k}
			for range 1 + g.r.IntN(3) {
				c = append(c, g.geoMember())
			}
			return c
		case 7, 8:
			c := []string{"GEODIST", k, g.geoMember(), g.geoMember()}
			switch g.r.IntN(6) {
			case 0:
				return c
			case 1:
				return append(c, g.geoUnit(), "x")
			default:
				return append(c, g.geoUnit())
			}
		case 9:
			c := []string{"GEOHASH", k}
			for range 1 + g.r.IntN(3) {
				c = append(c, g.geoMember())
			}
			return c
		case 10, 11, 12, 13:
			c := append(append([]string{"GEOSEARCH", k}, g.geoFrom()...), g.geoBy()...)
			return append(c, g.geoOptions(true)...)
		case 14, 15:
			c := append(append([]string{"GEOSEARCHSTORE", g.key(), k}, g.geoFrom()...), g.geoBy()...)
			c = append(c, g.geoOptions(g.r.IntN(10) == 0)...)
			if g.r.IntN(2) == 0 {
				c = append(c, "STOREDIST")
			}
			return c
		case 16, 17, 18:
			lon, lat := g.geoLonLat()
			c := []string{g.pick("GEORADIUS", "GEORADIUS_RO"), k, lon, lat, g.geoDistance(), g.geoUnit()}
			c = append(c, g.geoOptions(true)...)
			if c[0] == "GEORADIUS" && g.r.IntN(3) == 0 || g.r.IntN(20) == 0 {
				c = append(c, g.pick("STORE", "STOREDIST"), g.key())
			}
			return c
		case 19, 20:
			c := []string{g.pick("GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"), k, g.geoMember(), g.geoDistance(), g.geoUnit()}
			c = append(c, g.geoOptions(true)...)
			if c[0] == "GEORADIUSBYMEMBER" && g.r.IntN(3) == 0 || g.r.IntN(20) == 0 {
				c = append(c, g.pick("STORE", "STOREDIST"), g.key())
			}
			return c
		case 21:
			return []string{"ZSCORE", k, g.geoMember()}
		case 22:
			return []string{"ZRANGE", k, "0", "-1", "WITHSCORES"}
		case 23:
			return []string{"ZCARD", k}
		case 24:
			// Scores no GEOADD gives: geo commands must read them as Redis.
			return []string{"ZADD", k, g.pick("0", "1.5", "-1", "4503599627370496", "9007199254740993", "1e20", "inf", "-inf", "3471579339700058"), g.geoMember()}
		case 25:
			return []string{"ZREM", k, g.geoMember()}
		default:
			return g.commonKeyOp()
		}
	},
}

// storedDistancesClose accepts ZRANGE and ZSCORE replies that differ only
// in the last bits of scores with a fraction: the distances STOREDIST
// stores. They come from sin, cos and asin, which walrus rounds
// correctly and glibc, under Redis, in all but about 0.1% of calls; one
// such ulp in the haversine's terms comes out of asin and the unit's
// division as a few (4 ulps on seed 1796163148897282713), so up to 8
// are accepted. A geohash score is an integer and must match exactly.
func storedDistancesClose(cmd []string, got, want string) bool {
	if c := strings.ToUpper(cmd[0]); c != "ZRANGE" && c != "ZSCORE" {
		return false
	}
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if g[i] == w[i] {
			continue
		}
		a, aWrap, aok := replyFloat(g[i])
		b, bWrap, bok := replyFloat(w[i])
		if !aok || !bok || aWrap != bWrap || a == math.Trunc(a) || b == math.Trunc(b) {
			return false
		}
		if ulp := math.Nextafter(b, math.Inf(1)) - b; math.Abs(a-b) > 8*ulp {
			return false
		}
	}
	return true
}

// replyFloat parses one element of a rendered reply ("$1.5", "[$2",
// "$3]"), returning the number and what wraps it.
func replyFloat(tok string) (f float64, wrap string, ok bool) {
	num := strings.Trim(tok, "[]$")
	f, err := strconv.ParseFloat(num, 64)
	return f, strings.Replace(tok, num, "#", 1), err == nil
}
