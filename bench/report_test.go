package bench

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleReport is two servers over two rounds.
func sampleReport() *Report {
	figs := func(ops, p99, lag float64) []Figure {
		return []Figure{
			{Name: "ops/s", Unit: "ops/s", Value: ops, Better: Higher},
			{Name: "p99", Unit: "µs", Value: p99, Better: Lower},
			{Name: "offset lag max", Unit: "offsets", Value: lag, NoRatio: true},
		}
	}
	cdf := []Point{{X: 100, Y: 50}, {X: 200, Y: 99}, {X: 400, Y: 100}}
	rep := &Report{
		Scenario: ScenarioThroughput,
		Started:  time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Params:   []Param{{"clients", "50"}},
		Runs: []ServerRun{
			{Server: "walrus", Binary: "/bin/w", Round: 1, Figures: figs(100, 10, 5), Series: []Series{{Chart: "c", Kind: KindCDF, Name: "latency", Points: cdf}}},
			{Server: "redis", Binary: "/bin/r", Round: 1, Figures: figs(200, 5, 900), Series: []Series{{Chart: "c", Kind: KindCDF, Name: "latency", Points: cdf}}},
			{Server: "redis", Binary: "/bin/r", Round: 2, Figures: figs(400, 7, 900)},
			{Server: "walrus", Binary: "/bin/w", Round: 2, Figures: figs(300, 20, 5)},
		},
	}
	rep.summarize()
	return rep
}

func TestSummarizeTakesMediansAndRatiosInServerOrder(t *testing.T) {
	rep := sampleReport()
	if len(rep.Results) != 2 || rep.Results[0].Server != "walrus" || rep.Results[1].Server != "redis" {
		t.Fatalf("results %+v", rep.Results)
	}
	if got := rep.Results[0].Figures[0].Value; got != 200 { // median of 100, 300
		t.Errorf("walrus ops/s median = %v, want 200", got)
	}
	if rep.Results[0].Rounds != 2 {
		t.Errorf("rounds = %d", rep.Results[0].Rounds)
	}
	if rep.RatioOf != "walrus/redis" {
		t.Errorf("RatioOf = %q", rep.RatioOf)
	}
	want := map[string]float64{"ops/s": 200.0 / 300, "p99": 15.0 / 6}
	if len(rep.Ratios) != len(want) {
		t.Fatalf("ratios %+v, want %v (none for a NoRatio figure)", rep.Ratios, want)
	}
	for _, r := range rep.Ratios {
		if d := r.Value - want[r.Figure]; d > 1e-9 || d < -1e-9 {
			t.Errorf("ratio %s = %v, want %v", r.Figure, r.Value, want[r.Figure])
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestJSONOutputRoundTripsAndNamesFields(t *testing.T) {
	rep := sampleReport()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, []*Report{rep}); err != nil {
		t.Fatal(err)
	}
	// Machines read these names: changing one breaks them.
	var raw []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "started", "params", "runs", "results", "ratio_of", "ratios"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, buf.String()[:200])
		}
	}
	fig := raw[0]["results"].([]any)[0].(map[string]any)["figures"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "unit", "value", "better"} {
		if _, ok := fig[k]; !ok {
			t.Errorf("figure JSON lacks %q: %v", k, fig)
		}
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].Scenario != rep.Scenario || !back[0].Started.Equal(rep.Started) ||
		len(back[0].Runs) != 4 || back[0].Results[1].Figures[1].Value != rep.Results[1].Figures[1].Value ||
		back[0].Ratios[0] != rep.Ratios[0] || len(back[0].Results[0].Series[0].Points) != 3 {
		t.Errorf("round trip changed the report:\n%+v\n%+v", back[0], rep)
	}
}

func TestWriteJSONFileWritesReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	if err := WriteJSONFile(path, []*Report{sampleReport()}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if reps, err := ReadJSON(f); err != nil || len(reps) != 1 {
		t.Errorf("ReadJSON = %d reports, %v", len(reps), err)
	}
}

func TestWriteTableShowsServersAndRatios(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"== throughput ==", "walrus/redis", "ops/s", "0.67", "2.50", "clients"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "offset lag max") && !strings.HasSuffix(strings.TrimSpace(line), "-") {
			t.Errorf("a NoRatio figure shows a ratio: %q", line)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{{0, "0"}, {1234567, "1,234,567"}, {-1234, "-1,234"}, {512.4, "512"}, {12.34, "12.3"}, {1.234, "1.23"}, {0.001234, "0.0012"}} {
		if got := formatValue(tt.in); got != tt.want {
			t.Errorf("formatValue(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWritePlotsDrawsOnePNGPerChart(t *testing.T) {
	dir := t.TempDir()
	rep := sampleReport()
	rep.Results[0].Series = append(rep.Results[0].Series, Series{Chart: "lag-ms-over-time", Name: "replica 1", Points: []Point{{0, 1}, {1, 3}}})
	files, err := WritePlots(dir, []*Report{rep})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("files %v, want 2 charts", files)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Errorf("%s is not a PNG: %v", f, err)
		}
	}
}
