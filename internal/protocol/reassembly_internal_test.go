package protocol

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRefusedFragmentsSweepAtMostOncePerGap(t *testing.T) {
	frag := func(id, index, count uint16) []byte {
		b := binary.BigEndian.AppendUint16(nil, id)
		b = binary.BigEndian.AppendUint16(b, index)
		b = binary.BigEndian.AppendUint16(b, count)
		return append(b, make([]byte, 512)...)
	}
	r := Reassembler{Limit: 16 << 10, Idle: time.Hour}
	now := time.Unix(1000, 0)
	for id := uint16(1); id <= 14; id++ {
		_, _, _ = r.Add(now, Seq(id), frag(id, 1, 8192))
	}
	require.Greater(t, r.Pending(), 1)
	sweeps := func() time.Time { return r.lastExpire }
	first := sweeps()
	// Thousands of refused fragments within one gap cost one sweep.
	for i := 0; i < 5000; i++ {
		at := now.Add(time.Duration(i) * time.Microsecond)
		_, _, err := r.Add(at, Seq(i), frag(uint16(100+i%1000), 1, 8192))
		require.Error(t, err)
	}
	assert.Equal(t, first, sweeps(), "no sweep inside the gap")
	_, _, _ = r.Add(now.Add(expireGap+time.Millisecond), 1, frag(2000, 1, 8192))
	assert.True(t, sweeps().After(first), "one sweep after it")
}
