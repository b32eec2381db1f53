package engine

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// The replies are redis-server 7.0.15's for the same commands.
func TestGeoCommandsFollowRedis(t *testing.T) {
	e := testEngine(t, Options{})
	runSteps(t, e, NewSession(), []step{
		{"GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "(integer) 2"},
		{"GEODIST Sicily Palermo Catania", "166274.1516"},
		{"GEODIST Sicily Palermo Catania km", "166.2742"},
		{"GEODIST Sicily Palermo nosuch", "(nil)"},
		{"GEOHASH Sicily Palermo Catania nosuch", "[sqc8b49rny0 sqdtr74hyu0 (nil)]"},
		{"GEOPOS Sicily Palermo nosuch", "[[13.36138933897018433 38.11555639549629859] (nil)]"},
		{"GEORADIUS Sicily 15 37 200 km WITHDIST", "[[Palermo 190.4424] [Catania 56.4413]]"},
		{"GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH",
			"[[Catania 56.4413 (integer) 3479447370796909 [15.08726745843887329 37.50266842333162032]] " +
				"[Palermo 190.4424 (integer) 3479099956230698 [13.36138933897018433 38.11555639549629859]]]"},
		{"GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST", "(integer) 2"},
		{"ZRANGE dst 0 -1 WITHSCORES", "[Catania 56.441257870158204 Palermo 190.44242984775784]"},
		{"ZSCORE Sicily Palermo", "3479099956230698"},
		{"GEOADD Sicily 181 0 x", "(error) ERR invalid longitude,latitude pair 181.000000,0.000000"},
		{"GEOADD Sicily NX XX 1 1 x", "(error) ERR syntax error"},
		{"GEOSEARCH Sicily FROMMEMBER nosuch BYRADIUS 1 m", "(error) ERR could not decode requested zset member"},
		{"GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 m ANY", "(error) ERR the ANY argument requires COUNT argument"},
		{"GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 yd", "(error) ERR unsupported unit provided. please use M, KM, FT, MI"},
		{"GEORADIUS_RO Sicily 15 37 200 km STORE dst", "(error) ERR syntax error"},
		{"GEORADIUS Sicily 15 37 200 km COUNT 0", "(error) ERR COUNT must be > 0"},
	})
}

// A stored search reaches the log as the set it stored, not as the
// search, and a replica applying the log ends with the master's rows.
func TestGeoSearchStoreLogsTheStoredSet(t *testing.T) {
	master := testEngine(t, Options{})
	s := NewSession()
	do(t, master, s, "GEOADD src 13.361389 38.115556 Palermo 15.087269 37.502669 Catania")
	do(t, master, s, "SET dst x")
	if got := do(t, master, s, "GEOSEARCHSTORE dst src FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST"); got != "(integer) 2" {
		t.Fatalf("GEOSEARCHSTORE: %s", got)
	}
	if got := do(t, master, s, "GEORADIUS src 0 0 1 m STORE dst"); got != "(integer) 0" {
		t.Fatalf("GEORADIUS STORE of nothing: %s", got)
	}
	var logged []string
	for i := master.WAL().FirstIndex(); i <= master.WAL().LastIndex(); i++ {
		data, err := master.WAL().Read(i)
		if err != nil {
			t.Fatal(err)
		}
		var cmds []string
		forEachCommand(data, func(a [][]byte) error {
			cmds = append(cmds, strings.ToUpper(string(a[0])))
			return nil
		})
		logged = append(logged, strings.Join(cmds, ","))
	}
	want := "ZADD SET MULTI,DEL,ZADD,EXEC DEL"
	if got := strings.Join(logged, " "); got != want {
		t.Fatalf("entries %q, want %q", got, want)
	}

	replica := testEngine(t, Options{})
	replica.SetReplica(true)
	var entries [][]byte
	for i := master.WAL().FirstIndex(); i <= master.WAL().LastIndex(); i++ {
		data, _ := master.WAL().Read(i)
		entries = append(entries, data)
	}
	if err := replica.Apply(master.WAL().FirstIndex(), entries); err != nil {
		t.Fatal(err)
	}
	if got, want := dumpRows(t, replica), dumpRows(t, master); got != want {
		t.Fatalf("replica rows\n%s\nmaster rows\n%s", got, want)
	}
}

// Redis's C library rounds these correctly and Go's math package does
// not: a distance built from them would differ in its last bit.
func TestGeoTrigIsCorrectlyRounded(t *testing.T) {
	for _, c := range []struct {
		name    string
		f, base func(float64) float64
		x, want float64
	}{
		{"sin", geoSin, math.Sin, -1.1700344188403162, -0.9207640257592676},
		{"sin", geoSin, math.Sin, 1.6701596474404843, 0.9950675254812549},
		{"cos", geoCos, math.Cos, -1.1700344188403162, 0.39011999290934407},
		{"cos", geoCos, math.Cos, -1.5021120542926287, 0.06863028189441611},
		{"asin", geoAsin, math.Asin, 0.06506020789165777, 0.0651061936784946},
		{"asin", geoAsin, math.Asin, 0.010450391855256801, 0.010450582080356282},
	} {
		if got := c.f(c.x); got != c.want {
			t.Errorf("%s(%v) = %v, want %v", c.name, c.x, got, c.want)
		}
		if c.base(c.x) == c.want {
			t.Errorf("math's %s(%v) is already right: the case shows nothing", c.name, c.x)
		}
	}
}

// COUNT's partial sort leaves the requested range as a full sort would,
// whatever the ties.
func TestGeoPartialSortOrdersTheRequestedRange(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	cmp := func(a, b *geoPoint) int {
		switch {
		case a.dist > b.dist:
			return 1
		case a.dist == b.dist:
			return 0
		}
		return -1
	}
	for range 2000 {
		pts := make([]geoPoint, 1+r.IntN(120))
		for i := range pts {
			pts[i].dist = float64(r.IntN(1 + len(pts)/3))
		}
		want := make([]float64, len(pts))
		for i, p := range pts {
			want[i] = p.dist
		}
		sort.Float64s(want)
		n := 1 + r.IntN(len(pts))
		geoPartialSort(pts, cmp, 0, n-1)
		for i := 0; i < n; i++ {
			if pts[i].dist != want[i] {
				t.Fatalf("%d points, first %d: position %d holds %v, want %v", len(pts), n, i, pts[i].dist, want[i])
			}
		}
	}
}

// GEORADIUS's STORE key is one of its keys: a client watching it sees
// the search change it.
func TestGeoRadiusStoreTouchesWatchers(t *testing.T) {
	e := testEngine(t, Options{})
	s1, s2 := NewSession(), NewSession()
	do(t, e, s2, "GEOADD src 13.361389 38.115556 Palermo")
	e.Watch(s1, args("dst"))
	do(t, e, s2, "GEORADIUS src 13 38 100 km COUNT 1 STORE dst")
	out := e.ExecMulti(s1, [][][]byte{args("SET dst mine")}, nil, nil, nil)
	if string(out) != "*-1\r\n" {
		t.Fatalf("EXEC after GEORADIUS ... STORE of a watched key: %q, want null array", out)
	}
	runSteps(t, e, s1, []step{{"ZRANGE dst 0 -1", "[Palermo]"}})
}

// TestFormatGeoDistanceRoundsAsRedis: distances are written as Redis's
// fixedpoint_d2string writes them (scaled, then rounded half to even),
// which differs from "%.4f" where the scaled value lands on a half.
func TestFormatGeoDistanceRoundsAsRedis(t *testing.T) {
	for _, tc := range []struct {
		d    float64
		want string
	}{
		{0, "0.0000"},
		{1.5, "1.5000"},
		{4193001.3495499999, "4193001.3496"}, // "%.4f": 4193001.3495
		{0.00005, "0.0000"},                  // "%.4f": 0.0001
		{0.00015, "0.0001"},
		{12.34567, "12.3457"},
		{20037508.3428, "20037508.3428"},
		{0.1, "0.1000"},
	} {
		if got := formatGeoDistance(tc.d); got != tc.want {
			t.Errorf("formatGeoDistance(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}
