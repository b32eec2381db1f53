package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Better says which direction of a figure is good.
type Better string

// Directions of Figure.Better.
const (
	Higher Better = "higher"
	Lower  Better = "lower"
)

// Figure is one measured number.
type Figure struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Value  float64 `json:"value"`
	Better Better  `json:"better,omitempty"`
	// NoRatio marks a figure whose unit differs between servers (an offset
	// lag is bytes for redis-server, entries for walrus): no ratio is given.
	NoRatio bool `json:"no_ratio,omitempty"`
}

// Point is one point of a Series.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Series is a curve for a chart. Series with the same Chart are drawn in one
// PNG, one line per server and series name.
type Series struct {
	Chart  string `json:"chart"` // chart file name stem, e.g. "throughput-latency-cdf"
	Name   string `json:"name"`
	XLabel string `json:"x_label"`
	YLabel string `json:"y_label"`
	// Kind is KindCDF for a latency distribution (X: latency in µs, Y:
	// percentile), drawn with the tail stretched out; empty for X/Y data.
	Kind   string  `json:"kind,omitempty"`
	Points []Point `json:"points"`
}

// KindCDF marks a Series that is a latency CDF.
const KindCDF = "cdf"

// ServerRun is one server's measurements in one round of a scenario.
type ServerRun struct {
	Server  string   `json:"server"`
	Binary  string   `json:"binary"`
	Round   int      `json:"round"`
	Tuning  []string `json:"tuning,omitempty"` // extra args for this figure
	Figures []Figure `json:"figures"`
	Series  []Series `json:"series,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// findFigure returns the named figure of fs.
func findFigure(fs []Figure, name string) (Figure, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

// Result is one server's figures over all rounds: the median of each.
type Result struct {
	Server  string   `json:"server"`
	Binary  string   `json:"binary"`
	Tuning  []string `json:"tuning,omitempty"`
	Rounds  int      `json:"rounds"`
	Figures []Figure `json:"figures"`
	Series  []Series `json:"series,omitempty"` // from the first round
}

// Ratio is a figure of the first server divided by the second's.
type Ratio struct {
	Figure string  `json:"figure"`
	Value  float64 `json:"value"`
}

// Param is one scenario parameter, for the report header.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Report is the outcome of one scenario against one or more servers.
type Report struct {
	Scenario string      `json:"scenario"`
	Started  time.Time   `json:"started"`
	Params   []Param     `json:"params"`
	Notes    []string    `json:"notes,omitempty"`
	Runs     []ServerRun `json:"runs"`
	Results  []Result    `json:"results"`
	// RatioOf names the two servers of Ratios, "walrus/redis".
	RatioOf string  `json:"ratio_of,omitempty"`
	Ratios  []Ratio `json:"ratios,omitempty"`
}

// summarize fills Results (medians per server, in order of first
// appearance) and, with exactly two servers, Ratios.
func (rep *Report) summarize() {
	rep.Results, rep.Ratios, rep.RatioOf = nil, nil, ""
	var order []string
	byServer := map[string][]ServerRun{}
	for _, r := range rep.Runs {
		if _, ok := byServer[r.Server]; !ok {
			order = append(order, r.Server)
		}
		byServer[r.Server] = append(byServer[r.Server], r)
	}
	for _, name := range order {
		runs := byServer[name]
		res := Result{Server: name, Binary: runs[0].Binary, Tuning: runs[0].Tuning, Rounds: len(runs), Series: runs[0].Series}
		for _, f := range runs[0].Figures {
			vals := make([]float64, 0, len(runs))
			for _, r := range runs {
				if g, ok := findFigure(r.Figures, f.Name); ok {
					vals = append(vals, g.Value)
				}
			}
			f.Value = median(vals)
			res.Figures = append(res.Figures, f)
		}
		rep.Results = append(rep.Results, res)
	}
	if len(rep.Results) != 2 {
		return
	}
	a, b := rep.Results[0], rep.Results[1]
	rep.RatioOf = a.Server + "/" + b.Server
	for _, f := range a.Figures {
		g, ok := findFigure(b.Figures, f.Name)
		if !ok || f.NoRatio || g.Value == 0 {
			continue
		}
		rep.Ratios = append(rep.Ratios, Ratio{Figure: f.Name, Value: f.Value / g.Value})
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// WriteTable writes the report as a human-readable table: parameters, notes,
// one column per server, and the ratio column when two servers ran.
func (rep *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s ==\n", rep.Scenario)
	for _, p := range rep.Params {
		fmt.Fprintf(&b, "  %-12s %s\n", p.Name, p.Value)
	}
	for _, res := range rep.Results {
		cfg := "default configuration"
		if len(res.Tuning) > 0 {
			cfg = strings.Join(res.Tuning, "; ")
		}
		fmt.Fprintf(&b, "  %-12s %s (%s; %d round(s))\n", res.Server, res.Binary, cfg, res.Rounds)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	width := len("figure")
	if len(rep.Results) > 0 {
		for _, f := range rep.Results[0].Figures {
			width = max(width, len(f.Name))
		}
	}
	// Cells are right-aligned; padding the name column aligns it left.
	fmt.Fprintf(tw, "%-*s\tunit\t", width, "figure")
	for _, res := range rep.Results {
		fmt.Fprintf(tw, "%s\t", res.Server)
	}
	if rep.RatioOf != "" {
		fmt.Fprintf(tw, "%s\t", rep.RatioOf)
	}
	fmt.Fprintln(tw)
	if len(rep.Results) > 0 {
		ratios := map[string]float64{}
		for _, r := range rep.Ratios {
			ratios[r.Figure] = r.Value
		}
		for _, f := range rep.Results[0].Figures {
			fmt.Fprintf(tw, "%-*s\t%s\t", width, f.Name, f.Unit)
			for _, res := range rep.Results {
				g, ok := findFigure(res.Figures, f.Name)
				if ok {
					fmt.Fprintf(tw, "%s\t", formatValue(g.Value))
				} else {
					fmt.Fprint(tw, "-\t")
				}
			}
			if rep.RatioOf != "" {
				if r, ok := ratios[f.Name]; ok {
					fmt.Fprintf(tw, "%.2f\t", r)
				} else {
					fmt.Fprint(tw, "-\t")
				}
			}
			fmt.Fprintln(tw)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// formatValue prints a figure with precision suited to its size.
func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// WriteJSON writes the reports as one indented JSON array.
func WriteJSON(w io.Writer, reps []*Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(reps); err != nil {
		return fmt.Errorf("encode reports: %w", err)
	}
	return nil
}

// WriteJSONFile writes the reports to path (see WriteJSON).
func WriteJSONFile(path string, reps []*Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if err := WriteJSON(f, reps); err != nil {
		f.Close()
		return fmt.Errorf("write json %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write json %s: %w", path, err)
	}
	return nil
}

// ReadJSON reads reports written by WriteJSON.
func ReadJSON(r io.Reader) ([]*Report, error) {
	var reps []*Report
	if err := json.NewDecoder(r).Decode(&reps); err != nil {
		return nil, fmt.Errorf("decode reports: %w", err)
	}
	return reps, nil
}
