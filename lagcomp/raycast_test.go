package lagcomp

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cast runs the package Raycast, and the Rewind method on a history that
// holds the shapes, and requires them to agree.
func cast(t *testing.T, shapes []Shape, x, y, dx, dy, length float64, skip func(uint64) bool) (Hit, bool) {
	t.Helper()
	h := New(Config{})
	h.Record(0, shapes)
	h1, ok1 := Raycast(shapes, x, y, dx, dy, length, skip)
	h2, ok2 := h.Rewind(0, 0).Raycast(x, y, dx, dy, length, skip)
	require.Equal(t, ok1, ok2, "function and method")
	require.Equal(t, h1, h2, "function and method")
	return h1, ok1
}

func TestRaycastHeadOn(t *testing.T) {
	target := []Shape{{ID: 1, X: 10, Y: 0, R: 1}}
	for _, dx := range []float64{1, 5, 1e-10, 1e100} {
		hit, ok := cast(t, target, 0, 0, dx, 0, 100, nil)
		require.True(t, ok)
		assert.Equal(t, 9.0, hit.Dist)
		assert.Equal(t, target[0], hit.Shape)
	}
	// From the other side, and along y.
	hit, ok := cast(t, target, 20, 0, -1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 9.0, hit.Dist)
	hit, ok = cast(t, []Shape{{ID: 1, X: 3, Y: -7, R: 2}}, 3, 0, 0, -3, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 5.0, hit.Dist)

	// Diagonal.
	hit, ok = cast(t, []Shape{{ID: 1, X: 10, Y: 10, R: math.Sqrt2}}, 0, 0, 1, 1, 100, nil)
	require.True(t, ok)
	assert.InDelta(t, 9*math.Sqrt2, hit.Dist, 1e-12)

	// Off center: the chord. A circle of radius 5 at (10, 3): the ray
	// along y = 0 enters at x = 10 - 4.
	hit, ok = cast(t, []Shape{{ID: 1, X: 10, Y: 3, R: 5}}, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 6.0, hit.Dist)
}

func TestRaycastEdges(t *testing.T) {
	// Grazing: a hair outside the radius misses, a hair inside hits.
	_, ok := cast(t, []Shape{{ID: 1, X: 10, Y: 1 + 1e-9, R: 1}}, 0, 0, 1, 0, 100, nil)
	assert.False(t, ok)
	hit, ok := cast(t, []Shape{{ID: 1, X: 10, Y: 1 - 1e-9, R: 1}}, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.InDelta(t, 10, hit.Dist, 1e-4)
	// Tangent exactly: the edge counts.
	hit, ok = cast(t, []Shape{{ID: 1, X: 10, Y: 1, R: 1}}, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 10.0, hit.Dist)
	hit, ok = cast(t, []Shape{{ID: 1, X: 10, Y: -1, R: 1}}, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 10.0, hit.Dist)

	// A point (radius 0) on the ray's line is hit; off it, not.
	hit, ok = cast(t, []Shape{{ID: 1, X: 7, Y: 0}}, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 7.0, hit.Dist)
	_, ok = cast(t, []Shape{{ID: 1, X: 7, Y: 1e-12}}, 0, 0, 1, 0, 100, nil)
	assert.False(t, ok)

	// Behind the origin.
	_, ok = cast(t, []Shape{{ID: 1, X: -10, Y: 0, R: 1}}, 0, 0, 1, 0, 100, nil)
	assert.False(t, ok)
	// Behind, the origin just on its edge: hit at 0.
	hit, ok = cast(t, []Shape{{ID: 1, X: -1, Y: 0, R: 1}}, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 0.0, hit.Dist)
}

func TestRaycastInside(t *testing.T) {
	shapes := []Shape{{ID: 1, X: 10, Y: 0, R: 3}, {ID: 2, X: 11, Y: 0, R: 1}}
	// Inside 1, whichever way it points; 2 is further along.
	for _, d := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {1, 1}} {
		hit, ok := cast(t, shapes, 9, 0, d[0], d[1], 100, nil)
		require.True(t, ok)
		assert.Equal(t, uint64(1), hit.Shape.ID)
		assert.Equal(t, 0.0, hit.Dist)
	}
	// Inside both: the lower ID.
	hit, ok := cast(t, shapes, 11, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, uint64(1), hit.Shape.ID)
	assert.Equal(t, 0.0, hit.Dist)
	// Skipping the shooter it starts inside.
	hit, ok = cast(t, shapes, 9, 0, 1, 0, 100, func(id uint64) bool { return id == 1 })
	require.True(t, ok)
	assert.Equal(t, uint64(2), hit.Shape.ID)
	assert.Equal(t, 1.0, hit.Dist)
}

func TestRaycastNearest(t *testing.T) {
	shapes := []Shape{
		{ID: 5, X: 30, Y: 0, R: 1},
		{ID: 9, X: 10, Y: 0.5, R: 1},
		{ID: 2, X: 20, Y: 0, R: 1},
		{ID: 4, X: 5, Y: 30, R: 1}, // off the ray
	}
	hit, ok := cast(t, shapes, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, uint64(9), hit.Shape.ID)
	assert.InDelta(t, 10-math.Sqrt(0.75), hit.Dist, 1e-12)

	// Skip.
	hit, ok = cast(t, shapes, 0, 0, 1, 0, 100, func(id uint64) bool { return id == 9 })
	require.True(t, ok)
	assert.Equal(t, uint64(2), hit.Shape.ID)
	assert.Equal(t, 19.0, hit.Dist)
	_, ok = cast(t, shapes, 0, 0, 1, 0, 100, func(uint64) bool { return true })
	assert.False(t, ok)

	// Ties at the same distance: the lower ID, whatever the order given.
	tied := []Shape{{ID: 7, X: 10, Y: 0, R: 1}, {ID: 3, X: 10, Y: 0, R: 1}, {ID: 8, X: 10, Y: 0, R: 1}}
	hit, ok = cast(t, tied, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, uint64(3), hit.Shape.ID)
	hit, ok = cast(t, tied, 0, 0, 1, 0, 100, func(id uint64) bool { return id == 3 })
	require.True(t, ok)
	assert.Equal(t, uint64(7), hit.Shape.ID)
	// Symmetric circles above and below the ray: same distance.
	sym := []Shape{{ID: 6, X: 10, Y: 0.5, R: 1}, {ID: 4, X: 10, Y: -0.5, R: 1}}
	hit, ok = cast(t, sym, 0, 0, 1, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, uint64(4), hit.Shape.ID)
}

func TestRaycastLength(t *testing.T) {
	target := []Shape{{ID: 1, X: 10, Y: 0, R: 1}}
	_, ok := cast(t, target, 0, 0, 1, 0, 8.999, nil)
	assert.False(t, ok)
	hit, ok := cast(t, target, 0, 0, 1, 0, 9, nil) // reaching the edge
	require.True(t, ok)
	assert.Equal(t, 9.0, hit.Dist)
	hit, ok = cast(t, target, 0, 0, 1, 0, math.Inf(1), nil)
	require.True(t, ok)
	assert.Equal(t, 9.0, hit.Dist)
	// The length is along the normalized direction.
	_, ok = cast(t, target, 0, 0, 100, 0, 8.999, nil)
	assert.False(t, ok)

	// A length of zero or less hits only what the ray starts inside.
	for _, l := range []float64{0, -1, math.Inf(-1)} {
		_, ok = cast(t, target, 0, 0, 1, 0, l, nil)
		assert.False(t, ok)
		hit, ok = cast(t, target, 10.5, 0, 1, 0, l, nil)
		require.True(t, ok)
		assert.Equal(t, 0.0, hit.Dist)
	}
}

func TestRaycastDegenerate(t *testing.T) {
	target := []Shape{{ID: 1, X: 10, Y: 0, R: 1}}
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name                 string
		x, y, dx, dy, length float64
	}{
		{"zero direction", 0, 0, 0, 0, 100},
		{"zero direction inside", 10, 0, 0, 0, 100},
		{"NaN x", nan, 0, 1, 0, 100},
		{"NaN y", 0, nan, 1, 0, 100},
		{"NaN dx", 0, 0, nan, 0, 100},
		{"NaN dy", 0, 0, 1, nan, 100},
		{"NaN length", 0, 0, 1, 0, nan},
		{"infinite x", -inf, 0, 1, 0, 100},
		{"infinite y", 0, inf, 1, 0, 100},
		{"infinite dx", 0, 0, inf, 0, 100},
		{"infinite dy", 0, 0, 0, -inf, 100},
	} {
		_, ok := cast(t, target, c.x, c.y, c.dx, c.dy, c.length, nil)
		assert.False(t, ok, c.name)
	}
	// Tiny and huge directions are normalized.
	hit, ok := cast(t, target, 0, 0, 5e-324, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 9.0, hit.Dist)
	hit, ok = cast(t, target, 0, 0, math.MaxFloat64, 0, 100, nil)
	require.True(t, ok)
	assert.Equal(t, 9.0, hit.Dist)
	hit, ok = cast(t, target, 0, 0, math.MaxFloat64, math.MaxFloat64/1e20, 100, nil)
	require.True(t, ok)
	assert.InDelta(t, 9.0, hit.Dist, 1e-9)

	// Shapes that are not finite, or of negative radius, are never hit;
	// the shape behind them is.
	far := Shape{ID: 100, X: 50, Y: 0, R: 1}
	for _, s := range []Shape{
		{ID: 1, X: nan, Y: 0, R: 1},
		{ID: 1, X: 10, Y: nan, R: 1},
		{ID: 1, X: 10, Y: 0, R: nan},
		{ID: 1, X: 10, Y: 0, R: inf},
		{ID: 1, X: inf, Y: 0, R: 1},
		{ID: 1, X: 10, Y: -inf, R: 1},
		{ID: 1, X: 10, Y: 0, R: -1},
		{ID: 1, X: -math.MaxFloat64, Y: math.MaxFloat64, R: 1},
		{ID: 1, X: math.MaxFloat64, Y: -math.MaxFloat64, R: math.MaxFloat64},
	} {
		hit, ok := cast(t, []Shape{s, far}, 0, 0, 1, 0, 100, nil)
		require.True(t, ok, "%+v", s)
		assert.Equal(t, far, hit.Shape, "%+v", s)
		assert.Equal(t, 49.0, hit.Dist)
	}
	// Huge circles are hit where they are: these hold the origin.
	for _, s := range []Shape{
		{ID: 1, X: 10, Y: 0, R: math.MaxFloat64},
		{ID: 1, X: -1e300, Y: 0, R: 2e300},
	} {
		hit, ok := cast(t, []Shape{s, far}, 0, 0, 1, 0, 100, nil)
		require.True(t, ok, "%+v", s)
		assert.Equal(t, s, hit.Shape, "%+v", s)
		assert.Equal(t, 0.0, hit.Dist)
	}
	// And in front.
	hit, ok = cast(t, []Shape{{ID: 1, X: 2e300, Y: 0, R: 1e300}}, 0, 0, 1, 0, math.Inf(1), nil)
	require.True(t, ok)
	assert.InEpsilon(t, 1e300, hit.Dist, 1e-15)
	// Nothing at all.
	_, ok = cast(t, nil, 0, 0, 1, 0, 100, nil)
	assert.False(t, ok)
}

func TestLerp(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	assert.Equal(t, 2.5, lerp1(0, 10, 0.25))
	assert.Equal(t, 7.5, lerp1(10, 0, 0.25))
	assert.Equal(t, 3.0, lerp1(3, 3, 0.3))
	assert.Equal(t, inf, lerp1(inf, inf, 0.5))
	// b - a overflows: still between.
	v := lerp1(-math.MaxFloat64, math.MaxFloat64, 0.5)
	assert.False(t, math.IsNaN(v) || math.IsInf(v, 0))
	assert.InDelta(t, 0, v, 1e300)
	v = lerp1(-math.MaxFloat64, math.MaxFloat64, 0.75)
	assert.InDelta(t, math.MaxFloat64/2, v, 1e300)
	// From or to infinity: between, or NaN.
	v = lerp1(inf, 0, 0.5)
	assert.True(t, math.IsNaN(v) || v >= 0)
	assert.True(t, math.IsNaN(lerp1(nan, 0, 0.5)))
	// Rounding never leaves the segment: a + (b-a)*1 is not b here.
	assert.Equal(t, -2.209379613389479, lerp1(24.413636393963344, -2.209379613389479, 1))
	assert.Equal(t, 2.209379613389479, lerp1(-24.413636393963344, 2.209379613389479, 1))
	for i := 1; i < 1000; i++ {
		a, b := 0.1*float64(i), 0.7*float64(i)+1e-3
		for _, al := range []float64{1e-17, 0.1, 0.3, 1 - 1e-16} {
			v := lerp1(a, b, al)
			assert.True(t, a <= v && v <= b)
			v = lerp1(b, a, al)
			assert.True(t, a <= v && v <= b)
		}
	}
}

func TestSubSat(t *testing.T) {
	assert.Equal(t, int64(-1), int64(subSat(1, 2)))
	assert.Equal(t, int64(math.MinInt64), int64(subSat(math.MinInt64+1, 2)))
	assert.Equal(t, int64(math.MinInt64), int64(subSat(math.MinInt64, 0)))
	assert.Equal(t, int64(math.MaxInt64), int64(subSat(math.MaxInt64-1, -2)))
	assert.Equal(t, int64(math.MaxInt64), int64(subSat(0, math.MinInt64)))
	assert.Equal(t, int64(math.MinInt64), int64(subSat(-1, math.MaxInt64)))
	assert.Equal(t, int64(-math.MaxInt64), int64(subSat(0, math.MaxInt64)))
}
