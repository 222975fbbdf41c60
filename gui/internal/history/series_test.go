package history

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeriesBins(t *testing.T) {
	s := NewSeries(5)
	assert.Equal(t, 5, s.Len())
	assert.Equal(t, []int64{0, 0, 0, 0, 0}, s.Values(nil))

	s.Add(100, 3)
	s.Add(100, 4)
	assert.Equal(t, int64(7), s.Last())
	assert.Equal(t, int64(100), s.Second())

	s.Add(102, 1) // second 101 was quiet
	assert.Equal(t, []int64{0, 0, 7, 0, 1}, s.Values(nil))
	assert.Equal(t, int64(7), s.At(100))
	assert.Equal(t, int64(0), s.At(101))
	assert.Equal(t, int64(0), s.At(103), "future seconds read zero")

	s.Add(101, 5) // a late value for a second still held
	assert.Equal(t, int64(5), s.At(101))
	s.Add(90, 5) // too old: dropped
	assert.Equal(t, []int64{0, 0, 7, 5, 1}, s.Values(nil))

	s.Set(102, 9)
	s.Max(102, 4)
	assert.Equal(t, int64(9), s.Last())
	s.Max(102, 11)
	assert.Equal(t, int64(11), s.Last())

	s.Advance(104)
	assert.Equal(t, []int64{7, 5, 11, 0, 0}, s.Values(nil))
	s.Advance(103) // never backwards
	assert.Equal(t, int64(104), s.Second())

	s.Add(200, 1) // a jump longer than the history clears it
	assert.Equal(t, []int64{0, 0, 0, 0, 1}, s.Values(nil))
}

func TestSeriesSaturates(t *testing.T) {
	s := NewSeries(2)
	s.Add(1, math.MaxUint32)
	s.Add(1, 10)
	assert.Equal(t, int64(math.MaxUint32), s.Last())
	s.Set(1, -5)
	assert.Equal(t, int64(0), s.Last())
}

func TestSeriesSum(t *testing.T) {
	s := NewSeries(10)
	for sec := int64(1); sec <= 10; sec++ {
		s.Add(sec, sec)
	}
	// Seconds 7, 8, 9 complete before second 10.
	assert.Equal(t, int64(7+8+9), s.Sum(10, 3))
}

func TestSeriesCopyAndInit(t *testing.T) {
	s := NewSeries(4)
	s.Add(10, 1)
	s.Add(11, 2)
	var d Series
	s.CopyTo(&d)
	assert.Equal(t, s.Values(nil), d.Values(nil))
	s.Add(12, 3)
	assert.NotEqual(t, s.Values(nil), d.Values(nil), "copy is independent")
	d.Init(4)
	assert.Equal(t, []int64{0, 0, 0, 0}, d.Values(nil))
	assert.Zero(t, d.Second())

	var z Series
	z.Add(1, 1) // no storage: ignored, no panic
	assert.Zero(t, z.Last())
	require.Empty(t, z.Values(nil))
}

func BenchmarkSeriesAdd(b *testing.B) {
	s := NewSeries(DefaultBins)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Add(int64(i/1000), 1)
	}
}
