package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WritePlots draws one PNG per chart found in the reports' results into dir
// (created if missing): every Series with the same Chart becomes one line
// labelled "server: series". A latency CDF is drawn as latency against
// percentile with the tail stretched (the X axis is -log10(1 - q), so 90%,
// 99%, 99.9% are evenly spaced). It returns the files written.
func WritePlots(dir string, reps []*Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	type line struct {
		label string
		s     Series
	}
	var charts []string
	lines := map[string][]line{}
	for _, rep := range reps {
		for _, res := range rep.Results {
			for _, s := range res.Series {
				if len(s.Points) == 0 {
					continue
				}
				if _, ok := lines[s.Chart]; !ok {
					charts = append(charts, s.Chart)
				}
				lines[s.Chart] = append(lines[s.Chart], line{res.Server + ": " + s.Name, s})
			}
		}
	}
	var files []string
	for _, chart := range charts {
		ls := lines[chart]
		p := plot.New()
		p.Title.Text = strings.ReplaceAll(chart, "-", " ")
		p.X.Label.Text, p.Y.Label.Text = ls[0].s.XLabel, ls[0].s.YLabel
		p.Add(plotter.NewGrid())
		p.Legend.Top, p.Legend.Left = true, true
		cdf := ls[0].s.Kind == KindCDF
		var args []any
		for _, l := range ls {
			xys := make(plotter.XYs, 0, len(l.s.Points))
			for _, pt := range l.s.Points {
				x, y := pt.X, pt.Y
				if cdf {
					// X: percentile stretched; Y: latency.
					if pt.Y >= 100 {
						continue
					}
					x, y = tailX(pt.Y), pt.X
				}
				xys = append(xys, plotter.XY{X: x, Y: y})
			}
			args = append(args, l.label, xys)
		}
		if err := plotutil.AddLines(p, args...); err != nil {
			return files, fmt.Errorf("plot %s: %w", chart, err)
		}
		if cdf {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
			p.X.Tick.Marker = plot.ConstantTicks{
				{Value: tailX(0), Label: "0%"}, {Value: tailX(50), Label: "50%"},
				{Value: tailX(90), Label: "90%"}, {Value: tailX(99), Label: "99%"},
				{Value: tailX(99.9), Label: "99.9%"}, {Value: tailX(99.99), Label: "99.99%"},
				{Value: tailX(99.999), Label: "99.999%"},
			}
		}
		file := filepath.Join(dir, chart+".png")
		if err := p.Save(8*vg.Inch, 5*vg.Inch, file); err != nil {
			return files, fmt.Errorf("plot %s: %w", chart, err)
		}
		files = append(files, file)
	}
	return files, nil
}

// tailX maps a percentile to -log10(1 - q/100).
func tailX(percentile float64) float64 {
	return -math.Log10(1 - percentile/100)
}
