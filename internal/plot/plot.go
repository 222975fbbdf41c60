// Package plot is the arithmetic of the server monitor's plots, with no
// graphics dependency: axis ranges and ticks, SI units, stacking series,
// the summary figures a plot labels (peak, recent average), and the
// geometry of lines, rectangles and filled areas as colored triangles that
// a renderer draws in one batch.
package plot

import (
	"math"
	"strconv"
	"strings"
)

// Rect is a rectangle in screen coordinates (y grows downward).
type Rect struct{ X, Y, W, H float32 }

// Bottom returns the y of the rectangle's lower edge.
func (r Rect) Bottom() float32 { return r.Y + r.H }

// Right returns the x of the rectangle's right edge.
func (r Rect) Right() float32 { return r.X + r.W }

// Contains reports whether (x, y) lies inside r.
func (r Rect) Contains(x, y float32) bool {
	return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H
}

// Inset returns r shrunk by d on every side.
func (r Rect) Inset(d float32) Rect { return Rect{r.X + d, r.Y + d, r.W - 2*d, r.H - 2*d} }

// Point is a point in screen coordinates.
type Point struct{ X, Y float32 }

// NiceMax returns the smallest "nice" axis maximum at least v: 1, 2, 2.5,
// 5 or 10 times a power of ten. Zero, negative and non-finite values give
// 1, so an empty plot still has an axis.
func NiceMax(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return 1
	}
	exp := math.Floor(math.Log10(v))
	base := math.Pow(10, exp)
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if n := m * base; n >= v*(1-1e-12) {
			return n
		}
	}
	return 10 * base
}

// CountMax is NiceMax for an axis of counts (packets, bytes, events): at
// least 5, so that every tick is a whole number, and an empty plot reads
// 0 1 2 3 4 5 rather than 0 0.2 0.4.
func CountMax(v float64) float64 {
	return NiceMax(math.Max(v, 5))
}

// Intervals returns how many intervals to split an axis from 0 to a
// NiceMax value into so that every tick is a round number: 5 for 1, 2.5, 5
// and 10 (steps of 0.2, 0.5, 1, 2), 4 for 2 (steps of 0.5).
func Intervals(max float64) int {
	if !(max > 0) || math.IsInf(max, 0) {
		return 5
	}
	m := max / math.Pow(10, math.Floor(math.Log10(max)))
	if math.Abs(m-2) < 1e-9 {
		return 4
	}
	return 5
}

// Ticks returns n+1 evenly spaced values from 0 to max inclusive.
func Ticks(max float64, n int) []float64 {
	if n < 1 {
		n = 1
	}
	t := make([]float64, n+1)
	for i := range t {
		t[i] = max * float64(i) / float64(n)
	}
	return t
}

// SI formats v compactly with k, M, G or T for thousands: 950 -> "950",
// 1234 -> "1.2k", 25000 -> "25k", 1.5e6 -> "1.5M", 0.26 -> "0.3". Below 10
// (of the unit) one decimal is kept, unless it is zero.
func SI(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	units := [...]struct {
		div  float64
		name string
	}{{1, ""}, {1e3, "k"}, {1e6, "M"}, {1e9, "G"}, {1e12, "T"}}
	a := math.Abs(v)
	u := 0
	for u+1 < len(units) && a >= units[u+1].div {
		u++
	}
	x := a / units[u].div
	// 999.7 would print as "1000": write it in the next unit instead.
	if math.Round(x) >= 1000 && u+1 < len(units) {
		u++
		x = a / units[u].div
	}
	var out string
	if x < 9.95 {
		out = strconv.FormatFloat(x, 'f', 1, 64)
		if strings.HasSuffix(out, ".0") {
			out = out[:len(out)-2]
		}
	} else {
		out = strconv.FormatFloat(x, 'f', 0, 64)
	}
	if v < 0 && out != "0" {
		out = "-" + out
	}
	return out + units[u].name
}

// Scroll clamps a scroll offset for a list of total rows of which visible
// are shown: 0 <= offset <= max(0, total-visible).
func Scroll(offset, total, visible int) int {
	return max(0, min(offset, total-visible))
}

// Peak returns the largest value (0 for none).
func Peak(v []float64) float64 {
	p := 0.0
	for _, x := range v {
		p = math.Max(p, x)
	}
	return p
}

// MeanLast returns the mean of the last n values (fewer if there are not
// that many; 0 for none).
func MeanLast(v []float64, n int) float64 {
	if n > len(v) {
		n = len(v)
	}
	if n <= 0 {
		return 0
	}
	s := 0.0
	for _, x := range v[len(v)-n:] {
		s += x
	}
	return s / float64(n)
}

// Stack returns the running sums of the layers: out[i][t] is the sum of
// layers 0..i at t, the upper edge of layer i in a stacked area plot.
// Layers shorter than the first count as zero where they end.
func Stack(layers [][]float64) [][]float64 {
	if len(layers) == 0 {
		return nil
	}
	n := len(layers[0])
	out := make([][]float64, len(layers))
	for i, l := range layers {
		out[i] = make([]float64, n)
		for t := 0; t < n; t++ {
			v := 0.0
			if t < len(l) {
				v = l[t]
			}
			if i > 0 {
				v += out[i-1][t]
			}
			out[i][t] = v
		}
	}
	return out
}

// Scale maps values to vertical positions in a rectangle: 0 at the bottom,
// Max at the top, clamped to the rectangle.
type Scale struct {
	R   Rect
	Max float64
}

// Y returns the screen y of value v.
func (s Scale) Y(v float64) float32 {
	if s.Max <= 0 {
		return s.R.Bottom()
	}
	f := v / s.Max
	f = math.Max(0, math.Min(1, f))
	return s.R.Bottom() - float32(f)*s.R.H
}

// X returns the screen x of sample i of n, the first at the left edge and
// the last at the right edge.
func (s Scale) X(i, n int) float32 {
	if n <= 1 {
		return s.R.Right()
	}
	return s.R.X + s.R.W*float32(i)/float32(n-1)
}

// PointsRight maps a series to screen points on an axis of span samples,
// aligned to the right: the last value sits at the right edge and the
// first len(v)-span slots stay empty. A series longer than span keeps its
// newest span values.
func (s Scale) PointsRight(v []float64, span int) []Point {
	if len(v) > span {
		v = v[len(v)-span:]
	}
	p := make([]Point, len(v))
	off := span - len(v)
	for i, x := range v {
		p[i] = Point{s.X(off+i, span), s.Y(x)}
	}
	return p
}

// Span returns the length of the time axis for n seconds of data: at
// least lo so a young series is not stretched, at most hi.
func Span(n, lo, hi int) int { return max(lo, min(n, hi)) }

// TickStep returns the spacing of the time axis's labels, in seconds, for
// an axis of span seconds: the smallest of 10, 15, 30, 60 giving at most 6
// intervals.
func TickStep(span int) int {
	for _, s := range []int{10, 15, 30, 60} {
		if span/s <= 6 {
			return s
		}
	}
	return 120
}

// Points maps a series to screen points.
func (s Scale) Points(v []float64) []Point {
	p := make([]Point, len(v))
	for i, x := range v {
		p[i] = Point{s.X(i, len(v)), s.Y(x)}
	}
	return p
}
