package plot

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNiceMax(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{0, 1}, {-5, 1}, {math.NaN(), 1}, {math.Inf(1), 1},
		{0.3, 0.5}, {1, 1}, {1.01, 2}, {2, 2}, {2.1, 2.5}, {3, 5}, {7, 10},
		{60, 100}, {61, 100}, {99, 100}, {101, 200}, {240, 250}, {4999, 5000}, {1.2e6, 2e6},
	} {
		assert.InDelta(t, tc.want, NiceMax(tc.in), 1e-9, "NiceMax(%v)", tc.in)
	}
}

func TestTicks(t *testing.T) {
	assert.Equal(t, []float64{0, 25, 50, 75, 100}, Ticks(100, 4))
	assert.Equal(t, []float64{0, 1}, Ticks(1, 0))
}

func TestSI(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {0.26, "0.3"}, {9.5, "9.5"}, {9.96, "10"}, {10, "10"}, {950, "950"},
		{999, "999"}, {999.7, "1k"}, {1000, "1k"}, {1234, "1.2k"}, {9940, "9.9k"}, {25000, "25k"},
		{999_600, "1M"}, {1.5e6, "1.5M"}, {12e6, "12M"}, {3e9, "3G"}, {2e12, "2T"}, {5e15, "5000T"},
		{-1500, "-1.5k"}, {-0.01, "0"}, {math.NaN(), "-"}, {math.Inf(-1), "-"},
	} {
		assert.Equal(t, tc.want, SI(tc.in), "SI(%v)", tc.in)
	}
}

func TestPeakAndMean(t *testing.T) {
	v := []float64{1, 9, 3, 4, 5}
	assert.Equal(t, 9.0, Peak(v))
	assert.Equal(t, 0.0, Peak(nil))
	assert.Equal(t, 4.5, MeanLast(v, 2))
	assert.Equal(t, 22.0/5, MeanLast(v, 10), "fewer values than asked")
	assert.Equal(t, 0.0, MeanLast(nil, 10))
	assert.Equal(t, 0.0, MeanLast(v, 0))
}

func TestStack(t *testing.T) {
	s := Stack([][]float64{{1, 2, 3}, {10, 20, 30}, {100, 200}})
	require.Len(t, s, 3)
	assert.Equal(t, []float64{1, 2, 3}, s[0])
	assert.Equal(t, []float64{11, 22, 33}, s[1])
	assert.Equal(t, []float64{111, 222, 33}, s[2], "a short layer counts as zero")
	assert.Nil(t, Stack(nil))
}

func TestScale(t *testing.T) {
	s := Scale{R: Rect{X: 10, Y: 100, W: 300, H: 200}, Max: 50}
	assert.Equal(t, float32(300), s.Y(0), "zero at the bottom")
	assert.Equal(t, float32(100), s.Y(50), "max at the top")
	assert.Equal(t, float32(200), s.Y(25))
	assert.Equal(t, float32(100), s.Y(1e9), "clamped above")
	assert.Equal(t, float32(300), s.Y(-3), "clamped below")
	assert.Equal(t, float32(10), s.X(0, 4))
	assert.Equal(t, float32(310), s.X(3, 4))
	assert.Equal(t, float32(310), s.X(0, 1), "a single sample sits at the newest end")
	p := s.Points([]float64{0, 50})
	assert.Equal(t, []Point{{10, 300}, {310, 100}}, p)
	assert.Equal(t, float32(300), Scale{R: s.R}.Y(5), "no max: bottom")
}

func TestScroll(t *testing.T) {
	assert.Equal(t, 0, Scroll(-3, 100, 10))
	assert.Equal(t, 90, Scroll(500, 100, 10))
	assert.Equal(t, 42, Scroll(42, 100, 10))
	assert.Equal(t, 0, Scroll(5, 3, 10), "everything fits")
}

func TestRect(t *testing.T) {
	r := Rect{10, 20, 30, 40}
	assert.Equal(t, float32(60), r.Bottom())
	assert.Equal(t, float32(40), r.Right())
	assert.True(t, r.Contains(10, 20))
	assert.False(t, r.Contains(40, 20))
	assert.Equal(t, Rect{12, 22, 26, 36}, r.Inset(2))
}

func TestMeshShapes(t *testing.T) {
	var m Mesh
	red := RGB(255, 0, 0)
	m.Rect(Rect{0, 0, 10, 5}, red)
	assert.Len(t, m.V, 4)
	assert.Equal(t, []uint32{0, 1, 2, 0, 2, 3}, m.I)
	assert.Equal(t, Rect{0, 0, 10, 5}, m.Bounds())
	assert.Equal(t, Color{1, 0, 0, 1}, m.V[0].C)

	m.Reset()
	m.Line(Point{0, 0}, Point{10, 0}, 2, red)
	assert.Equal(t, Rect{0, -1, 10, 2}, m.Bounds(), "a horizontal line of width 2")
	m.Line(Point{5, 5}, Point{5, 5}, 2, red)
	assert.Len(t, m.V, 4, "a zero-length segment adds nothing")

	m.Reset()
	m.Polyline([]Point{{0, 0}, {10, 0}, {10, 10}}, 1, red)
	assert.Len(t, m.V, 8, "two segments")
	m.Reset()
	m.Polyline([]Point{{50, 20}}, 2, red)
	assert.Equal(t, Rect{48, 18, 4, 4}, m.Bounds(), "one point is a dot, not nothing")
	m.Reset()
	m.Polyline(nil, 2, red)
	assert.Empty(t, m.V)

	m.Reset()
	m.Frame(Rect{0, 0, 100, 50}, 1, red)
	assert.Len(t, m.V, 16)
	assert.Equal(t, Rect{0, 0, 100, 50}, m.Bounds())

	m.Reset()
	m.DashedLine(0, 100, 10, 5, 1, red)
	assert.Len(t, m.V, 40, "10 dashes")
	assert.Equal(t, Rect{0, 9.5, 95, 1}, m.Bounds())
}

// TestStackedAreaGeometry builds the time-profile plot's area the way the
// monitor does and checks the layers tile the plot without overlap.
func TestStackedAreaGeometry(t *testing.T) {
	r := Rect{0, 0, 100, 100}
	layers := [][]float64{{10, 10, 10}, {20, 20, 20}, {70, 70, 70}}
	up := Stack(layers)
	s := Scale{R: r, Max: 100}
	var m Mesh
	lower := s.Points(make([]float64, 3))
	for i := range up {
		upper := s.Points(up[i])
		m.Area(lower, upper, Color{float32(i), 0, 0, 1})
		lower = upper
	}
	// 3 layers x 2 intervals, one quad each.
	assert.Len(t, m.V, 3*2*4)
	assert.Equal(t, r, m.Bounds(), "the full stack reaches the top")
	// The first layer spans y 90..100, the second 70..90.
	assert.Equal(t, float32(90), m.V[0].Y)
	assert.Equal(t, float32(100), m.V[2].Y)
	assert.Equal(t, float32(70), m.V[8].Y)
	assert.Equal(t, float32(90), m.V[10].Y)
}

func TestPointsRightAndSpan(t *testing.T) {
	s := Scale{R: Rect{X: 0, Y: 0, W: 100, H: 10}, Max: 10}
	p := s.PointsRight([]float64{0, 10}, 11)
	assert.Equal(t, []Point{{90, 10}, {100, 0}}, p, "two values at the right end of 11 slots")
	p = s.PointsRight([]float64{1, 2, 3, 4}, 2)
	assert.Len(t, p, 2, "only the newest span values")
	assert.Equal(t, float32(0), p[0].X)
	assert.Equal(t, 60, Span(5, 60, 300))
	assert.Equal(t, 120, Span(120, 60, 300))
	assert.Equal(t, 300, Span(1000, 60, 300))
	assert.Equal(t, 10, TickStep(60))
	assert.Equal(t, 30, TickStep(120))
	assert.Equal(t, 60, TickStep(300))
	assert.Equal(t, 15, TickStep(90))
}

func TestIntervalsGiveRoundTicks(t *testing.T) {
	for _, max := range []float64{1, 2, 2.5, 5, 10, 20, 25, 50, 100, 0.5, 2e6} {
		n := Intervals(max)
		for _, v := range Ticks(max, n) {
			// Every tick has at most one significant digit after scaling
			// by the step's power of ten.
			step := max / float64(n)
			p := math.Pow(10, math.Floor(math.Log10(step)))
			assert.InDelta(t, math.Round(v/p*2)/2, v/p, 1e-9, "max %v: tick %v is not round", max, v)
		}
	}
	assert.Equal(t, 5, Intervals(0))
	assert.Equal(t, 4, Intervals(200))
}
