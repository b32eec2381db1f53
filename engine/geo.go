package engine

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Geospatial indexes (GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH,
// GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms).
//
// A geo set is a sorted set, exactly as in Redis: a member's score is
// the 52-bit geohash of its position, longitude and latitude each cut
// into 26 bits over Redis's ranges (-180..180, and -85.05112878..
// 85.05112878, the Web Mercator limits) and interleaved, longitude in
// the odd bits. ZSCORE, ZRANGE and every other sorted-set command work
// on a geo set, and the geo commands on any sorted set.
//
// Every computation follows Redis 7.0's geo.c and geohash*.c step for
// step, in the same order of double operations, so scores, distances,
// coordinates and the members a search finds are Redis's: a search
// scans the sorted-set ranges of the centre's geohash box and its 8
// neighbours at a precision estimated from the radius, and keeps the
// members whose haversine distance (Redis's earth radius) or box fits.
// (A distance can still differ from Redis's in its last bit where glibc's
// sin, cos or asin misround, about 0.3% of distances: see geomath.go.)
// Products are wrapped in float64() where a fused multiply-add could
// otherwise change a rounding (Go may fuse on some architectures; Redis
// on x86-64 does not).
//
// GEOADD is a ZADD of the encoded scores and logs that ZADD. A search
// that stores its result logs the stored set itself (DEL, then ZADD of
// every member), not the search: the result depends on floating-point
// library code and, through expiry, on the source's state, neither of
// which a replica has to reproduce.

func init() {
	geo := func(name string, arity int, flags Flags, lastKey int, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: lastKey, Step: 1, Group: "geo", Summary: summary}, run}
	}
	register(
		geo("geoadd", -5, Write|DenyOOM, 1, "Add one or more geospatial items in the geospatial index represented using a sorted set", cmdGeoAdd),
		geo("geopos", -2, ReadOnly, 1, "Returns longitude and latitude of members of a geospatial index", cmdGeoPos),
		geo("geodist", -4, ReadOnly, 1, "Returns the distance between two members of a geospatial index", cmdGeoDist),
		geo("geohash", -2, ReadOnly, 1, "Returns members of a geospatial index as standard geohash strings", cmdGeoHash),
		geo("geosearch", -7, ReadOnly, 1, "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", cmdGeoSearch),
		geo("geosearchstore", -8, Write|DenyOOM, 2, "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", cmdGeoSearch),
		storing(geo("georadius", -6, Write|DenyOOM, 1, "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", cmdGeoSearch), 6),
		geo("georadius_ro", -6, ReadOnly, 1, "A read-only variant for GEORADIUS", cmdGeoSearch),
		storing(geo("georadiusbymember", -5, Write|DenyOOM, 1, "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", cmdGeoSearch), 5),
		geo("georadiusbymember_ro", -5, ReadOnly, 1, "A read-only variant for GEORADIUSBYMEMBER", cmdGeoSearch),
	)
}

// storing gives GEORADIUS and GEORADIUSBYMEMBER their keys: the source,
// then, from argument from on, the key after the first STORE and after
// the first STOREDIST (Redis's key specs, which COMMAND GETKEYS and ACL
// use), then any other key after one of them (the command writes the
// last), so ACL key rules and WATCH see every key it may write.
func storing(cmd *Command, from int) *Command {
	cmd.KeysOf = func(args [][]byte) [][]byte {
		if len(args) < 2 {
			return nil
		}
		keys := [][]byte{args[1]}
		var first [2]int // argument after the first STORE, STOREDIST
		var rest []int
		for i := from; i+1 < len(args); i++ {
			for j, kw := range []string{"store", "storedist"} {
				if strings.EqualFold(string(args[i]), kw) {
					if first[j] == 0 {
						first[j] = i + 1
					} else {
						rest = append(rest, i+1)
					}
				}
			}
		}
		seen := map[int]bool{}
		for _, at := range append(first[:], rest...) {
			if at > 0 && !seen[at] {
				seen[at] = true
				keys = append(keys, args[at])
			}
		}
		return keys
	}
	return cmd
}

// Redis's constants (geohash.h, geohash_helper.c).
const (
	geoStepMax     = 26 // 26 bits per coordinate: a 52-bit score
	geoLonMin      = -180.0
	geoLonMax      = 180.0
	geoLatMin      = -85.05112878
	geoLatMax      = 85.05112878
	geoEarthRadius = 6372797.560856 // meters
	geoMercatorMax = 20037726.37
)

// geoPi and geoDegRad are variables, not constants, so D_R is computed
// as C computes it (M_PI rounded to a double, then divided by 180.0),
// not as Go's exact constant arithmetic would.
var (
	geoPi     float64 = math.Pi
	geoDegRad         = geoPi / 180.0
)

func degRad(ang float64) float64 { return float64(ang * geoDegRad) }
func radDeg(ang float64) float64 { return ang / geoDegRad }

type geoRange struct{ min, max float64 }

var (
	geoLonRange = geoRange{geoLonMin, geoLonMax}
	geoLatRange = geoRange{geoLatMin, geoLatMax}
)

// geoBits is a geohash of step*2 bits. The zero value marks a neighbour
// box a search skips.
type geoBits struct {
	bits uint64
	step uint
}

func (h geoBits) isZero() bool { return h.bits == 0 && h.step == 0 }

// geoArea is the rectangle a geohash covers.
type geoArea struct{ lon, lat geoRange }

// interleave64 puts x's low 32 bits in the even bit positions and y's in
// the odd ones.
func interleave64(x, y uint32) uint64 {
	spread := func(v uint64) uint64 {
		v = (v | v<<16) & 0x0000FFFF0000FFFF
		v = (v | v<<8) & 0x00FF00FF00FF00FF
		v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
		v = (v | v<<2) & 0x3333333333333333
		return (v | v<<1) & 0x5555555555555555
	}
	return spread(uint64(x)) | spread(uint64(y))<<1
}

// deinterleave64 undoes interleave64: the even bits in the low word, the
// odd bits in the high word.
func deinterleave64(v uint64) uint64 {
	squash := func(v uint64) uint64 {
		v &= 0x5555555555555555
		v = (v | v>>1) & 0x3333333333333333
		v = (v | v>>2) & 0x0F0F0F0F0F0F0F0F
		v = (v | v>>4) & 0x00FF00FF00FF00FF
		v = (v | v>>8) & 0x0000FFFF0000FFFF
		return (v | v>>16) & 0x00000000FFFFFFFF
	}
	return squash(v) | squash(v>>1)<<32
}

// geohashEncode encodes a position in step bits per coordinate over the
// given ranges; false when it lies outside Redis's limits.
func geohashEncode(lonR, latR geoRange, lon, lat float64, step uint) (geoBits, bool) {
	if lon > geoLonMax || lon < geoLonMin || lat > geoLatMax || lat < geoLatMin {
		return geoBits{}, false
	}
	if lat < latR.min || lat > latR.max || lon < lonR.min || lon > lonR.max {
		return geoBits{}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	lonOff := (lon - lonR.min) / (lonR.max - lonR.min)
	scale := float64(uint64(1) << step)
	latOff *= scale
	lonOff *= scale
	return geoBits{bits: interleave64(uint32(latOff), uint32(lonOff)), step: step}, true
}

// geohashDecode returns the area a geohash covers.
func geohashDecode(lonR, latR geoRange, h geoBits) (geoArea, bool) {
	if h.isZero() {
		return geoArea{}, false
	}
	sep := deinterleave64(h.bits)
	latScale := latR.max - latR.min
	lonScale := lonR.max - lonR.min
	ilat, ilon := uint32(sep), uint32(sep>>32)
	div := float64(uint64(1) << h.step)
	// ilat+1 wraps at 2^32 as the C unsigned arithmetic does.
	return geoArea{
		lat: geoRange{
			min: latR.min + float64(float64(ilat)/div*latScale),
			max: latR.min + float64(float64(ilat+1)/div*latScale),
		},
		lon: geoRange{
			min: lonR.min + float64(float64(ilon)/div*lonScale),
			max: lonR.min + float64(float64(ilon+1)/div*lonScale),
		},
	}, true
}

// geoScoreBits converts a score to uint64 as x86-64 code compiled from
// Redis's `(uint64_t)score` does, for scores that are no geohash too:
// a negative score wraps, one of 2^64 or more (or infinite) comes out as
// x86's "integer indefinite".
func geoScoreBits(score float64) uint64 {
	const two63 = 9223372036854775808.0
	switch {
	case math.IsNaN(score):
		return 1 << 63
	case score < two63:
		if score <= -two63 {
			return 1 << 63
		}
		return uint64(int64(score))
	default:
		d := score - two63
		if d >= two63 {
			return 0 // (1<<63) with the top bit flipped
		}
		return uint64(int64(d)) ^ 1<<63
	}
}

// geoDecodeScore returns the centre of the step-26 area a score encodes,
// clamped to Redis's limits: the position GEOPOS reports.
func geoDecodeScore(score float64) (lon, lat float64) {
	a, _ := geohashDecode(geoLonRange, geoLatRange, geoBits{bits: geoScoreBits(score), step: geoStepMax})
	lon = (a.lon.min + a.lon.max) / 2
	lon = min(max(lon, geoLonMin), geoLonMax)
	lat = (a.lat.min + a.lat.max) / 2
	lat = min(max(lat, geoLatMin), geoLatMax)
	return lon, lat
}

// geoEncodeScore is the score GEOADD gives a position: the 52-bit hash,
// as the double ZADD parses from its decimal form.
func geoEncodeScore(lon, lat float64) float64 {
	h, _ := geohashEncode(geoLonRange, geoLatRange, lon, lat, geoStepMax)
	return float64(geoAlign52(h))
}

// geoAlign52 shifts a hash of any step to the 52-bit score scale.
func geoAlign52(h geoBits) uint64 { return h.bits << (52 - h.step*2) }

// geoDistance is Redis's haversine distance in meters.
func geoDistance(lon1d, lat1d, lon2d, lat2d float64) float64 {
	lat1r, lon1r := degRad(lat1d), degRad(lon1d)
	lat2r, lon2r := degRad(lat2d), degRad(lon2d)
	u := geoSin((lat2r - lat1r) / 2)
	v := geoSin((lon2r - lon1r) / 2)
	a := float64(u*u) + float64(float64(float64(geoCos(lat1r)*geoCos(lat2r))*v)*v)
	return float64(2.0*geoEarthRadius) * geoAsin(math.Sqrt(a))
}

// geoMoveX and geoMoveY step a hash one box east/west or north/south.
func geoMoveX(h *geoBits, d int) {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - h.step*2)
	if d > 0 {
		x += zz + 1
	} else {
		x |= zz
		x -= zz + 1
	}
	x &= 0xaaaaaaaaaaaaaaaa >> (64 - h.step*2)
	h.bits = x | y
}

func geoMoveY(h *geoBits, d int) {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - h.step*2)
	if d > 0 {
		y += zz + 1
	} else {
		y |= zz
		y -= zz + 1
	}
	y &= 0x5555555555555555 >> (64 - h.step*2)
	h.bits = x | y
}

// geoNeighbors are the 8 boxes around a hash, in Redis's search order
// after the centre: N, S, E, W, NE, NW, SE, SW.
type geoNeighbors struct{ n, s, e, w, ne, nw, se, sw geoBits }

func geohashNeighbors(h geoBits) geoNeighbors {
	move := func(dx, dy int) geoBits {
		b := h
		if dx != 0 {
			geoMoveX(&b, dx)
		}
		if dy != 0 {
			geoMoveY(&b, dy)
		}
		return b
	}
	return geoNeighbors{
		n: move(0, 1), s: move(0, -1), e: move(1, 0), w: move(-1, 0),
		ne: move(1, 1), nw: move(-1, 1), se: move(1, -1), sw: move(-1, -1),
	}
}

// geoEstimateSteps picks the precision of the 9 boxes for a radius.
func geoEstimateSteps(rangeMeters, lat float64) uint {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < geoMercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2 // make sure the range is included in most of the base cases
	// Wider boxes towards the poles.
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint(min(max(step, 1), 26))
}

// geoShape is a search area: a circle (radius) or a box (width, height),
// in the unit whose size in meters is conv, around lon, lat.
type geoShape struct {
	lon, lat      float64
	box           bool
	radius        float64
	width, height float64
	conv          float64
	bounds        [4]float64 // min lon, min lat, max lon, max lat
}

// boundingBox sets the shape's bounds.
func (s *geoShape) boundingBox() {
	var height, width float64
	if s.box {
		height = float64(s.conv * (s.height / 2))
		width = float64(s.conv * (s.width / 2))
	} else {
		height = float64(s.conv * s.radius)
		width = height
	}
	latDelta := radDeg(height / geoEarthRadius)
	lonDeltaTop := radDeg(width / geoEarthRadius / geoCos(degRad(s.lat+latDelta)))
	lonDeltaBottom := radDeg(width / geoEarthRadius / geoCos(degRad(s.lat-latDelta)))
	// The hemispheres bend the other way: pick the wider edge.
	if s.lat < 0 {
		s.bounds[0], s.bounds[2] = s.lon-lonDeltaBottom, s.lon+lonDeltaBottom
	} else {
		s.bounds[0], s.bounds[2] = s.lon-lonDeltaTop, s.lon+lonDeltaTop
	}
	s.bounds[1], s.bounds[3] = s.lat-latDelta, s.lat+latDelta
}

// areas returns the centre box and its neighbours a search scans, the
// useless ones zeroed, as geohashCalculateAreasByShapeWGS84 does.
func (s *geoShape) areas() [9]geoBits {
	s.boundingBox()
	minLon, minLat, maxLon, maxLat := s.bounds[0], s.bounds[1], s.bounds[2], s.bounds[3]
	radius := s.radius
	if s.box {
		radius = math.Sqrt(float64(s.width/2*(s.width/2)) + float64(s.height/2*(s.height/2)))
	}
	radius *= s.conv
	steps := geoEstimateSteps(radius, s.lat)
	hash, _ := geohashEncode(geoLonRange, geoLatRange, s.lon, s.lat, steps)
	nb := geohashNeighbors(hash)
	area, _ := geohashDecode(geoLonRange, geoLatRange, hash)

	// A step too coarse at the edges of the covered area: one of the
	// N/S/E/W boxes does not reach past the search's bounds.
	north, _ := geohashDecode(geoLonRange, geoLatRange, nb.n)
	south, _ := geohashDecode(geoLonRange, geoLatRange, nb.s)
	east, _ := geohashDecode(geoLonRange, geoLatRange, nb.e)
	west, _ := geohashDecode(geoLonRange, geoLatRange, nb.w)
	decrease := north.lat.max < maxLat || south.lat.min > minLat || east.lon.max < maxLon || west.lon.min > minLon
	if steps > 1 && decrease {
		steps--
		hash, _ = geohashEncode(geoLonRange, geoLatRange, s.lon, s.lat, steps)
		nb = geohashNeighbors(hash)
		area, _ = geohashDecode(geoLonRange, geoLatRange, hash)
	}
	// Drop the boxes the search area cannot reach.
	if steps >= 2 {
		if area.lat.min < minLat {
			nb.s, nb.sw, nb.se = geoBits{}, geoBits{}, geoBits{}
		}
		if area.lat.max > maxLat {
			nb.n, nb.ne, nb.nw = geoBits{}, geoBits{}, geoBits{}
		}
		if area.lon.min < minLon {
			nb.w, nb.sw, nb.nw = geoBits{}, geoBits{}, geoBits{}
		}
		if area.lon.max > maxLon {
			nb.e, nb.se, nb.ne = geoBits{}, geoBits{}, geoBits{}
		}
	}
	return [9]geoBits{hash, nb.n, nb.s, nb.e, nb.w, nb.ne, nb.nw, nb.se, nb.sw}
}

// contains reports whether a position is in the shape, and its distance
// from the centre in meters.
func (s *geoShape) contains(lon, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.lon, s.lat, lon, lat)
		return d, d <= float64(s.radius*s.conv)
	}
	lonDist := geoDistance(lon, lat, s.lon, lat)
	latDist := geoDistance(lon, lat, lon, s.lat)
	if lonDist > float64(s.width*s.conv)/2 || latDist > float64(s.height*s.conv)/2 {
		return 0, false
	}
	return geoDistance(s.lon, s.lat, lon, lat), true
}

// geoPoint is a member a search found.
type geoPoint struct {
	member   []byte
	score    float64
	lon, lat float64
	dist     float64 // meters until the reply converts it
}

// geoFind collects the members of z inside the shape, box by box as
// Redis does (duplicates included, where very large areas make
// neighbours repeat non-adjacently); limit > 0 stops at that many.
func (c *ctx) geoFind(z *zset, s *geoShape, limit int) []geoPoint {
	var pts []geoPoint
	boxes := s.areas()
	last := -1
	for i, b := range boxes {
		if b.isZero() {
			continue
		}
		// Adjacent neighbours are the same box for very large areas.
		if last > 0 && b == boxes[last] {
			continue
		}
		if limit > 0 && len(pts) >= limit {
			break
		}
		lo := geoAlign52(b)
		b.bits++
		hi := geoAlign52(b)
		r := zrange{kind: 's', min: scoreBound{v: float64(lo)}, max: scoreBound{v: float64(hi), ex: true}, limit: -1}
		c.zwalk(z, &r, func(member []byte, score float64) bool {
			lon, lat := geoDecodeScore(score)
			if d, in := s.contains(lon, lat); in {
				pts = append(pts, geoPoint{member: clone(member), score: score, lon: lon, lat: lat, dist: d})
			}
			return !(limit > 0 && len(pts) >= limit)
		})
		last = i
	}
	return pts
}

// geoUnit returns the size of a unit in meters, or 0 after replying
// Redis's error.
func (c *ctx) geoUnit(arg []byte) float64 {
	switch strings.ToLower(string(arg)) {
	case "m":
		return 1
	case "km":
		return 1000
	case "ft":
		return 0.3048
	case "mi":
		return 1609.34
	}
	c.replyError("ERR unsupported unit provided. please use M, KM, FT, MI")
	return 0
}

// geoFloat parses a number as getDoubleFromObjectOrReply does, replying
// msg (or the generic float error) when it is not one.
func (c *ctx) geoFloat(arg []byte, msg string) (float64, bool) {
	f, err := parseFloat(arg)
	if err != nil {
		if msg == "" {
			msg = errNotFloat
		}
		c.replyError(msg)
		return 0, false
	}
	return f, true
}

// geoLonLat parses a longitude and a latitude and checks Redis's limits.
func (c *ctx) geoLonLat(args [][]byte) (lon, lat float64, ok bool) {
	if lon, ok = c.geoFloat(args[0], ""); !ok {
		return 0, 0, false
	}
	if lat, ok = c.geoFloat(args[1], ""); !ok {
		return 0, 0, false
	}
	if lon < geoLonMin || lon > geoLonMax || lat < geoLatMin || lat > geoLatMax {
		c.replyError("ERR invalid longitude,latitude pair " + formatCFloat(lon) + "," + formatCFloat(lat))
		return 0, 0, false
	}
	return lon, lat, true
}

// formatCFloat formats like C's "%f".
func formatCFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// replyGeoDistance writes a distance as Redis does.
func (c *ctx) replyGeoDistance(d float64) { c.replyBulkString(formatGeoDistance(d)) }

// formatGeoDistance is Redis's fixedpoint_d2string(d, 4): d·10⁴ rounded
// to an integer, half to even (llrint), then written with four decimals.
// It is not "%.4f", which rounds the exact value of d: a distance of
// 4193001.34954999990... is 41930013495.5 once multiplied, and Redis
// writes 4193001.3496 where "%.4f" gives 4193001.3495.
func formatGeoDistance(d float64) string {
	if d == 0 {
		return "0.0000"
	}
	v := math.RoundToEven(d * 10000)
	if math.IsNaN(v) || math.Abs(v) >= 1<<63 {
		return strconv.FormatFloat(d, 'f', 4, 64) // out of llrint's range; no distance gets here
	}
	n := int64(v)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(n%10000, 10)
	return sign + strconv.FormatInt(n/10000, 10) + "." + strings.Repeat("0", 4-len(frac)) + frac
}

// replyGeoCoord writes a coordinate as Redis's addReplyHumanLongDouble:
// the exact double, rounded to 17 decimals, trailing zeros cut. The
// double's value is exact in a long double, so no 80-bit arithmetic is
// involved, only exact decimal rounding, which strconv does. RESP2 has
// it as a bulk string, RESP3 as a double of the same text.
func (c *ctx) replyGeoCoord(f float64) {
	s := strconv.FormatFloat(f, 'f', 17, 64)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	if c.resp3 {
		c.out = append(append(append(c.out, ','), s...), '\r', '\n')
		return
	}
	c.replyBulkString(s)
}

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: a ZADD of the
// encoded positions, which replies and logs as ZADD does.
func cmdGeoAdd(c *ctx, args [][]byte) {
	var nx, xx bool
	i := 2
opts:
	for ; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "nx":
			nx = true
		case "xx":
			xx = true
		case "ch":
		default:
			break opts
		}
	}
	if (len(args)-i)%3 != 0 || (nx && xx) {
		c.replyError(errSyntax)
		return
	}
	zadd := append([][]byte{bs("ZADD")}, args[1:i]...)
	for j := i; j < len(args); j += 3 {
		lon, lat, ok := c.geoLonLat(args[j : j+2])
		if !ok {
			return
		}
		score := geoEncodeScore(lon, lat)
		zadd = append(zadd, []byte(formatScore(score)), args[j+2])
	}
	cmdZAdd(c, zadd)
}

// GEOPOS key member [member ...]
func cmdGeoPos(c *ctx, args [][]byte) {
	z, ok, wrong := c.lookupZSet(args[1])
	if wrong {
		return
	}
	c.replyArray(len(args) - 2)
	for _, m := range args[2:] {
		var score float64
		had := false
		if ok {
			score, had = c.zscore(z, m)
		}
		if !had {
			c.replyNullArray()
			continue
		}
		lon, lat := geoDecodeScore(score)
		c.replyArray(2)
		c.replyGeoCoord(lon)
		c.replyGeoCoord(lat)
	}
}

// GEODIST key member1 member2 [unit]
func cmdGeoDist(c *ctx, args [][]byte) {
	conv := 1.0
	switch {
	case len(args) == 5:
		if conv = c.geoUnit(args[4]); conv == 0 {
			return
		}
	case len(args) > 5:
		c.replyError(errSyntax)
		return
	}
	z, ok, wrong := c.lookupZSet(args[1])
	if wrong {
		return
	}
	if !ok {
		c.replyNull()
		return
	}
	s1, ok1 := c.zscore(z, args[2])
	s2, ok2 := c.zscore(z, args[3])
	if !ok1 || !ok2 {
		c.replyNull()
		return
	}
	lon1, lat1 := geoDecodeScore(s1)
	lon2, lat2 := geoDecodeScore(s2)
	c.replyGeoDistance(geoDistance(lon1, lat1, lon2, lat2) / conv)
}

// geohashAlphabet is the standard geohash base-32 alphabet.
const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// GEOHASH key member [member ...]: the standard 11-character geohash,
// re-encoded over -90..90 (Redis's own scores use the Mercator limits),
// the 11th character always '0' since only 52 bits are known.
func cmdGeoHash(c *ctx, args [][]byte) {
	z, ok, wrong := c.lookupZSet(args[1])
	if wrong {
		return
	}
	c.replyArray(len(args) - 2)
	for _, m := range args[2:] {
		var score float64
		had := false
		if ok {
			score, had = c.zscore(z, m)
		}
		if !had {
			c.replyNull()
			continue
		}
		lon, lat := geoDecodeScore(score)
		h, _ := geohashEncode(geoRange{-180, 180}, geoRange{-90, 90}, lon, lat, geoStepMax)
		var buf [11]byte
		for i := range buf {
			idx := 0
			if i < 10 {
				idx = int(h.bits>>(52-(i+1)*5)) & 0x1f
			}
			buf[i] = geohashAlphabet[idx]
		}
		c.replyBulk(buf[:])
	}
}

// geoSearch says which command form is being parsed.
type geoSearch struct {
	coords   bool // GEORADIUS[_RO]: longitude latitude radius unit
	member   bool // GEORADIUSBYMEMBER[_RO]: member radius unit
	noStore  bool // the _RO forms
	search   bool // GEOSEARCH, GEOSEARCHSTORE: FROM... BY...
	storeCmd bool // GEOSEARCHSTORE
}

// GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO
// forms, parsed and checked in Redis's order (georadiusGeneric), so the
// same error wins when there are several.
func cmdGeoSearch(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	var form geoSearch
	switch name {
	case "georadius":
		form.coords = true
	case "georadius_ro":
		form.coords, form.noStore = true, true
	case "georadiusbymember":
		form.member = true
	case "georadiusbymember_ro":
		form.member, form.noStore = true, true
	case "geosearch":
		form.search = true
	case "geosearchstore":
		form.search, form.storeCmd = true, true
	}
	src := 1
	var storeKey []byte
	if form.storeCmd {
		src, storeKey = 2, args[1]
	}
	z, exists, wrong := c.lookupZSet(args[src])
	if wrong {
		return
	}

	var shape geoShape
	base := 0
	switch {
	case form.coords:
		base = 6
		lon, lat, ok := c.geoLonLat(args[2:4])
		if !ok {
			return
		}
		shape.lon, shape.lat = lon, lat
		if !c.geoRadiusArgs(args[4:6], &shape) {
			return
		}
	case form.member && !exists:
		base = 5 // nothing to search: the radius is not even parsed
	case form.member:
		base = 5
		if !c.geoMemberCentre(z, args[2], &shape) {
			return
		}
		if !c.geoRadiusArgs(args[3:5], &shape) {
			return
		}
	default:
		base = src + 1
	}

	var withDist, withHash, withCoord, any, storeDist bool
	var fromMember, fromLonLat, byRadius, byBox bool
	sortDir := 0 // 0 none, 1 ascending, -1 descending
	var count int64
	rest := args[base:]
	for i := 0; i < len(rest); i++ {
		left := len(rest) - i - 1
		switch opt := strings.ToLower(string(rest[i])); {
		case opt == "withdist":
			withDist = true
		case opt == "withhash":
			withHash = true
		case opt == "withcoord":
			withCoord = true
		case opt == "any":
			any = true
		case opt == "asc":
			sortDir = 1
		case opt == "desc":
			sortDir = -1
		case opt == "count" && left >= 1:
			n, err := parseInt(rest[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			if n <= 0 {
				c.replyError("ERR COUNT must be > 0")
				return
			}
			count = n
			i++
		case (opt == "store" || opt == "storedist") && left >= 1 && !form.noStore && !form.search:
			storeKey, storeDist = rest[i+1], opt == "storedist"
			i++
		case opt == "storedist" && form.storeCmd:
			storeDist = true
		case opt == "frommember" && left >= 1 && form.search && !fromLonLat:
			// Without a source the arguments are still checked, and the
			// reply is the empty one.
			if exists && !c.geoMemberCentre(z, rest[i+1], &shape) {
				return
			}
			fromMember = true
			i++
		case opt == "fromlonlat" && left >= 2 && form.search && !fromMember:
			lon, lat, ok := c.geoLonLat(rest[i+1 : i+3])
			if !ok {
				return
			}
			shape.lon, shape.lat = lon, lat
			fromLonLat = true
			i += 2
		case opt == "byradius" && left >= 2 && form.search && !byBox:
			if !c.geoRadiusArgs(rest[i+1:i+3], &shape) {
				return
			}
			byRadius = true
			i += 2
		case opt == "bybox" && left >= 3 && form.search && !byRadius:
			if !c.geoBoxArgs(rest[i+1:i+4], &shape) {
				return
			}
			byBox = true
			i += 3
		default:
			c.replyError(errSyntax)
			return
		}
	}
	if storeKey != nil && (withDist || withHash || withCoord) {
		what := "STORE option in GEORADIUS"
		if form.storeCmd {
			what = "GEOSEARCHSTORE"
		}
		c.replyError("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		return
	}
	if form.search && !fromMember && !fromLonLat {
		c.replyError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0]))
		return
	}
	if form.search && !byRadius && !byBox {
		c.replyError("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0]))
		return
	}
	if any && count == 0 {
		c.replyError("ERR the ANY argument requires COUNT argument")
		return
	}
	if !exists {
		if storeKey != nil {
			c.geoStore(storeKey, nil, false, form.search)
			c.replyInt(0)
		} else {
			c.replyArray(0)
		}
		return
	}
	// COUNT means the nearest ones, unless ANY asked for any.
	if count != 0 && sortDir == 0 && !any {
		sortDir = 1
	}
	limit := 0
	if any {
		limit = int(min(count, math.MaxInt32))
	}
	pts := c.geoFind(z, &shape, limit)
	if len(pts) == 0 && storeKey == nil {
		c.replyArray(0)
		return
	}
	n := len(pts)
	if count != 0 && int64(n) > count {
		n = int(count)
	}
	if sortDir != 0 {
		cmp := func(a, b *geoPoint) int {
			switch {
			case a.dist > b.dist:
				return sortDir
			case a.dist == b.dist:
				return 0
			}
			return -sortDir
		}
		if n == len(pts) {
			// glibc's qsort is a merge sort here: stable.
			sort.SliceStable(pts, func(i, j int) bool { return cmp(&pts[i], &pts[j]) < 0 })
		} else {
			geoPartialSort(pts, cmp, 0, n-1)
		}
	}
	pts = pts[:n]
	for i := range pts {
		pts[i].dist /= shape.conv
	}
	if storeKey != nil {
		c.geoStore(storeKey, pts, storeDist, form.search)
		c.replyInt(int64(n))
		return
	}
	opts := 0
	for _, on := range []bool{withDist, withHash, withCoord} {
		if on {
			opts++
		}
	}
	c.replyArray(n)
	for _, p := range pts {
		if opts > 0 {
			c.replyArray(opts + 1)
		}
		c.replyBulk(p.member)
		if withDist {
			c.replyGeoDistance(p.dist)
		}
		if withHash {
			c.replyInt(int64(geoScoreBits(p.score)))
		}
		if withCoord {
			c.replyArray(2)
			c.replyGeoCoord(p.lon)
			c.replyGeoCoord(p.lat)
		}
	}
}

// geoMemberCentre sets the shape's centre to member's position.
func (c *ctx) geoMemberCentre(z *zset, member []byte, s *geoShape) bool {
	score, ok := c.zscore(z, member)
	if !ok {
		c.replyError("ERR could not decode requested zset member")
		return false
	}
	s.lon, s.lat = geoDecodeScore(score)
	return true
}

// geoRadiusArgs parses "radius unit".
func (c *ctx) geoRadiusArgs(args [][]byte, s *geoShape) bool {
	r, ok := c.geoFloat(args[0], "ERR need numeric radius")
	if !ok {
		return false
	}
	if r < 0 {
		c.replyError("ERR radius cannot be negative")
		return false
	}
	conv := c.geoUnit(args[1])
	if conv == 0 {
		return false
	}
	s.box, s.radius, s.conv = false, r, conv
	return true
}

// geoBoxArgs parses "width height unit".
func (c *ctx) geoBoxArgs(args [][]byte, s *geoShape) bool {
	w, ok := c.geoFloat(args[0], "ERR need numeric width")
	if !ok {
		return false
	}
	h, ok := c.geoFloat(args[1], "ERR need numeric height")
	if !ok {
		return false
	}
	if h < 0 || w < 0 {
		c.replyError("ERR height or width cannot be negative")
		return false
	}
	conv := c.geoUnit(args[2])
	if conv == 0 {
		return false
	}
	s.box, s.width, s.height, s.conv = true, w, h, conv
	return true
}

// geoStore replaces key with the points found (their distances or their
// scores), deleting it when there are none, and logs the result itself:
// a DEL of what was there, then a ZADD of every member. search says
// GEOSEARCHSTORE stores, not GEORADIUS, for the keyspace event.
func (c *ctx) geoStore(key []byte, pts []geoPoint, dist, search bool) {
	var existed bool
	c.writing(func() { _, existed = c.lookup(key) })
	members := make([][]byte, len(pts))
	scores := make([]float64, len(pts))
	zadd := make([][]byte, 0, 2+2*len(pts))
	zadd = append(zadd, bs("ZADD"), key)
	for i, p := range pts {
		members[i], scores[i] = p.member, p.score
		if dist {
			scores[i] = p.dist
		}
		zadd = append(zadd, []byte(formatScore(scores[i])), p.member)
	}
	c.storeZSet(key, members, scores)
	event := "georadiusstore"
	if search {
		event = "geosearchstore"
	}
	c.notifyStore(NotifyZSet, event, key, len(pts), existed)
	if existed {
		c.emit(bs("DEL"), key)
	}
	if len(pts) > 0 {
		c.emit(zadd...)
	}
}

// geoPartialSort orders pts so that pts[lo..hi] hold what a full sort
// would put there, as Redis's pqsort does (Bentley and McIlroy's
// quicksort, skipping the partitions outside lo..hi). It is ported step
// for step so that equal distances come out in Redis's order.
func geoPartialSort(pts []geoPoint, cmp func(a, b *geoPoint) int, lo, hi int) {
	swap := func(i, j int) { pts[i], pts[j] = pts[j], pts[i] }
	vecswap := func(i, j, n int) {
		for k := 0; k < n; k++ {
			swap(i+k, j+k)
		}
	}
	med3 := func(a, b, c int) int {
		if cmp(&pts[a], &pts[b]) < 0 {
			if cmp(&pts[b], &pts[c]) < 0 {
				return b
			}
			if cmp(&pts[a], &pts[c]) < 0 {
				return c
			}
			return a
		}
		if cmp(&pts[b], &pts[c]) > 0 {
			return b
		}
		if cmp(&pts[a], &pts[c]) < 0 {
			return a
		}
		return c
	}
	// outside reports whether lo..hi misses the elements [a, a+n).
	outside := func(a, n int) bool {
		return (lo < a && hi < a) || (lo >= a+n && hi >= a+n)
	}
	var sortRange func(a, n int)
	sortRange = func(a, n int) {
		for {
			if n < 7 {
				for pm := a + 1; pm < a+n; pm++ {
					for pl := pm; pl > a && cmp(&pts[pl-1], &pts[pl]) > 0; pl-- {
						swap(pl, pl-1)
					}
				}
				return
			}
			pm := a + n/2
			if n > 7 {
				pl, pn := a, a+n-1
				if n > 40 {
					d := n / 8
					pl = med3(pl, pl+d, pl+2*d)
					pm = med3(pm-d, pm, pm+d)
					pn = med3(pn-2*d, pn-d, pn)
				}
				pm = med3(pl, pm, pn)
			}
			swap(a, pm)
			pa, pb := a+1, a+1
			pc, pd := a+n-1, a+n-1
			for {
				for pb <= pc {
					r := cmp(&pts[pb], &pts[a])
					if r > 0 {
						break
					}
					if r == 0 {
						swap(pa, pb)
						pa++
					}
					pb++
				}
				for pb <= pc {
					r := cmp(&pts[pc], &pts[a])
					if r < 0 {
						break
					}
					if r == 0 {
						swap(pc, pd)
						pd--
					}
					pc--
				}
				if pb > pc {
					break
				}
				swap(pb, pc)
				pb++
				pc--
			}
			pn := a + n
			r := min(pa-a, pb-pa)
			vecswap(a, pb-r, r)
			r = min(pd-pc, pn-pd-1)
			vecswap(pb, pn-r, r)
			if r := pb - pa; r > 1 && !outside(a, r) {
				sortRange(a, r)
			}
			r = pd - pc
			if r <= 1 {
				return
			}
			a, n = pn-r, r
			if outside(a, n) {
				return
			}
		}
	}
	sortRange(0, len(pts))
}
