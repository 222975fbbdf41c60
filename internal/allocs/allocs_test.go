package allocs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/internal/allocs"
)

var sink []byte

func TestMeasure(t *testing.T) {
	assert.Zero(t, allocs.Pure(func() {}).Mallocs)
	c := allocs.Pure(func() { sink = make([]byte, 1000) })
	assert.Equal(t, uint64(1), c.Mallocs)
	assert.GreaterOrEqual(t, c.Bytes, uint64(1000))
	assert.True(t, c.Within(allocs.Cost{Mallocs: 1, Bytes: 2048}))
	assert.False(t, c.Within(allocs.Cost{Mallocs: 0, Bytes: 2048}))
	assert.Equal(t, uint64(2), allocs.Once(func() { sink = make([]byte, 10); sink = make([]byte, 20) }).Mallocs)
	assert.Equal(t, "1 allocations, 1024 bytes", allocs.Cost{Mallocs: 1, Bytes: 1024}.String())
}
