package bench

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestSummarizeReportsPercentiles(t *testing.T) {
	h := newHistogram()
	for us := 1; us <= 10000; us++ {
		recordLatency(h, time.Duration(us)*time.Microsecond)
	}
	l := Summarize(h)
	near := func(name string, got, want int64) {
		t.Helper()
		if math.Abs(float64(got-want)) > float64(want)*0.002+1 {
			t.Errorf("%s = %d, want %d ±0.2%%", name, got, want)
		}
	}
	if l.Count != 10000 {
		t.Errorf("Count = %d", l.Count)
	}
	near("p50", l.P50Us, 5000)
	near("p99", l.P99Us, 9900)
	near("p99.9", l.P999Us, 9990)
	near("max", l.MaxUs, 10000)
	if l.MeanUs < 4990 || l.MeanUs > 5010 {
		t.Errorf("mean = %f", l.MeanUs)
	}
}

func TestSummarizeOfNothingIsZero(t *testing.T) {
	if got := Summarize(newHistogram()); got != (Latency{}) {
		t.Errorf("Summarize(empty) = %+v", got)
	}
	if got := Summarize(nil); got != (Latency{}) {
		t.Errorf("Summarize(nil) = %+v", got)
	}
	if CDF(newHistogram()) != nil {
		t.Error("CDF of an empty histogram has points")
	}
}

func TestRecordLatencyClampsToRange(t *testing.T) {
	h := newHistogram()
	recordLatency(h, 0)
	recordLatency(h, time.Hour)
	if h.TotalCount() != 2 {
		t.Fatalf("recorded %d of 2", h.TotalCount())
	}
	if h.Min() < histMinUs-1 || h.Max() < histMaxUs*999/1000 {
		t.Errorf("min %d max %d", h.Min(), h.Max())
	}
}

func TestCDFRisesToTheMaximum(t *testing.T) {
	h := newHistogram()
	for i := 1; i <= 1000; i++ {
		recordLatency(h, time.Duration(i*i)*time.Microsecond)
	}
	pts := CDF(h)
	if len(pts) < 20 {
		t.Fatalf("%d points", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].X < pts[i-1].X || pts[i].Y <= pts[i-1].Y {
			t.Fatalf("not monotonic at %d: %v then %v", i, pts[i-1], pts[i])
		}
	}
	if last := pts[len(pts)-1]; last.Y != 100 || int64(last.X) != h.Max() {
		t.Errorf("last point %v, want (max %d, 100)", last, h.Max())
	}
}

func TestSliceP99sTakeTheNearestRankOfEachSlice(t *testing.T) {
	var bySlice [][]int64
	for us := int64(100); us >= 1; us-- { // slice 0: 1..100 µs, in any order
		bySlice = addToSlice(bySlice, 0, us)
	}
	bySlice = addToSlice(bySlice, 2, 7) // slice 1 stays empty
	bySlice = addToSlice(bySlice, 2, 5)
	got := sliceP99s(bySlice, 50*time.Millisecond)
	want := []Point{{X: 0, Y: 99}, {X: 0.1, Y: 7}}
	if !slices.Equal(got, want) {
		t.Fatalf("sliceP99s = %v, want %v", got, want)
	}
}

func TestShareOverCountsTheTail(t *testing.T) {
	h := newHistogram()
	for us := 1; us <= 10000; us++ {
		recordLatency(h, time.Duration(us)*time.Microsecond)
	}
	for _, c := range []struct {
		us   int64
		want float64
	}{{1000, 90}, {1999, 80.01}, {9999, 0.01}, {10000, 0}, {0, 100}} {
		if got := ShareOver(h, c.us); math.Abs(got-c.want) > 0.1 {
			t.Errorf("ShareOver(%d µs) = %.3f%%, want %.2f%%", c.us, got, c.want)
		}
	}
	if got := ShareOver(newHistogram(), 1000); got != 0 {
		t.Errorf("ShareOver(empty) = %f", got)
	}
	if got := ShareOver(nil, 1000); got != 0 {
		t.Errorf("ShareOver(nil) = %f", got)
	}
}
