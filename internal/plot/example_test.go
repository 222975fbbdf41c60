package plot_test

import (
	"fmt"

	"github.com/mpgs/mpgameserver/internal/plot"
)

// A plot's vertical axis: NiceMax rounds the peak up to a round maximum,
// Intervals and Ticks place round labels under it, SI writes them.
func ExampleNiceMax() {
	bytesPerSecond := []float64{1200, 56000, 73500, 41000}
	max := plot.NiceMax(plot.Peak(bytesPerSecond))
	var labels []string
	for _, t := range plot.Ticks(max, plot.Intervals(max)) {
		labels = append(labels, plot.SI(t))
	}
	fmt.Println(labels)
	fmt.Println("peak", plot.SI(plot.Peak(bytesPerSecond)), "recent", plot.SI(plot.MeanLast(bytesPerSecond, 2)))
	// Output:
	// [0 20k 40k 60k 80k 100k]
	// peak 74k recent 57k
}

// An axis of counts never has fractions: an empty plot of bytes per
// second reads 0 to 5, a busy one rounds up as NiceMax does.
func ExampleCountMax() {
	for _, peak := range []float64{0, 0.3, 7, 1800} {
		max := plot.CountMax(peak)
		var labels []string
		for _, t := range plot.Ticks(max, plot.Intervals(max)) {
			labels = append(labels, plot.SI(t)+"B")
		}
		fmt.Println(labels)
	}
	// Output:
	// [0B 1B 2B 3B 4B 5B]
	// [0B 1B 2B 3B 4B 5B]
	// [0B 2B 4B 6B 8B 10B]
	// [0B 500B 1kB 1.5kB 2kB]
}

// SI writes values compactly, with one decimal below 10 of a unit.
func ExampleSI() {
	for _, v := range []float64{950, 1234, 25000, 1.5e6, 0.26, -3e9} {
		fmt.Println(plot.SI(v))
	}
	// Output:
	// 950
	// 1.2k
	// 25k
	// 1.5M
	// 0.3
	// -3G
}

// Stack turns layers into the upper edges of a stacked area plot.
func ExampleStack() {
	network := []float64{1, 2, 3}
	handler := []float64{4, 4, 4}
	idle := []float64{5, 4} // shorter: zero at the end
	for _, edge := range plot.Stack([][]float64{network, handler, idle}) {
		fmt.Println(edge)
	}
	// Output:
	// [1 2 3]
	// [5 6 7]
	// [10 10 7]
}

// A Scale maps a series into a plot's rectangle, and a Mesh collects the
// plot's background and line as triangles for a renderer to draw in one
// call (internal/paint's Painter).
func ExampleMesh() {
	area := plot.Rect{X: 10, Y: 10, W: 300, H: 100}
	s := plot.Scale{R: area, Max: 10}
	pts := s.Points([]float64{0, 5, 10, 5})
	fmt.Println(pts)

	var m plot.Mesh
	m.Rect(area, plot.RGB(20, 20, 30))
	m.Polyline(pts, 2, plot.RGB(80, 200, 120))
	fmt.Println(len(m.V), "vertices,", len(m.I)/3, "triangles")
	fmt.Println("the background:", m.I[:6])

	m.Reset() // for the next frame, keeping the storage
	fmt.Println(len(m.V), "vertices")
	// Output:
	// [{10 110} {110 60} {210 10} {310 60}]
	// 16 vertices, 8 triangles
	// the background: [0 1 2 0 2 3]
	// 0 vertices
}
