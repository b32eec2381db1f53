package bench

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: latencies are recorded in microseconds from 1µs to 60s
// with 3 significant digits (0.1% precision).
const (
	histMinUs   = 1
	histMaxUs   = 60_000_000
	histSigFigs = 3
)

// newHistogram returns an empty latency histogram in microseconds.
func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinUs, histMaxUs, histSigFigs)
}

// recordLatency records d, clamped into the histogram's range.
func recordLatency(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	if us < histMinUs {
		us = histMinUs
	}
	if us > histMaxUs {
		us = histMaxUs
	}
	h.RecordValue(us) // cannot fail: clamped into range
}

// Latency summarises a latency distribution, in microseconds.
type Latency struct {
	Count  int64   `json:"count"`
	MeanUs float64 `json:"mean_us"`
	P50Us  int64   `json:"p50_us"`
	P99Us  int64   `json:"p99_us"`
	P999Us int64   `json:"p99_9_us"`
	MaxUs  int64   `json:"max_us"`
}

// Summarize reads the reported percentiles from an HDR histogram of
// microseconds. An empty histogram gives a zero Latency.
func Summarize(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		Count:  h.TotalCount(),
		MeanUs: h.Mean(),
		P50Us:  h.ValueAtQuantile(50),
		P99Us:  h.ValueAtQuantile(99),
		P999Us: h.ValueAtQuantile(99.9),
		MaxUs:  h.Max(),
	}
}

// ShareOver is the percentage of the latencies in h above us microseconds
// (0 for an empty or nil histogram). It counts whole equivalence ranges
// of the histogram, which are a microsecond wide up to 2 ms.
func ShareOver(h *hdrhistogram.Histogram, us int64) float64 {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	var over int64
	for _, b := range h.Distribution() {
		if b.From > us {
			over += b.Count
		}
	}
	return 100 * float64(over) / float64(h.TotalCount())
}

// cdfPercentiles are the points at which a latency CDF is sampled: dense
// in the tail, where the differences between servers are.
var cdfPercentiles = func() []float64 {
	var ps []float64
	for _, p := range []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90} {
		ps = append(ps, p)
	}
	// 90 .. 99.999 spaced evenly in log10(1/(1-q)).
	for x := 1.1; x <= 5.0001; x += 0.1 {
		ps = append(ps, 100*(1-math.Pow(10, -x)))
	}
	return append(ps, 100)
}()

// CDF samples the distribution as points (X: latency in µs, Y: percentile).
func CDF(h *hdrhistogram.Histogram) []Point {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	pts := make([]Point, 0, len(cdfPercentiles))
	for _, p := range cdfPercentiles {
		pts = append(pts, Point{X: float64(h.ValueAtQuantile(p)), Y: p})
	}
	return pts
}
