package protocol_test

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

func fragBody(id protocol.Seq, index, count uint16, data []byte) []byte {
	return protocol.AppendFragment(nil, protocol.FragmentHeader{ID: id, Index: index, Count: count}, data)
}

func TestFragmentRoundTrip(t *testing.T) {
	cases := []struct {
		h    protocol.FragmentHeader
		data []byte
	}{
		{protocol.FragmentHeader{ID: 1, Index: 1, Count: 1}, nil},
		{protocol.FragmentHeader{ID: 1, Index: 1, Count: 5}, bytes.Repeat([]byte{7}, 1024)},
		{protocol.FragmentHeader{ID: 65535, Index: 5, Count: 5}, []byte("tail")},
		{protocol.FragmentHeader{ID: 0x1234, Index: 8192, Count: 8192}, []byte{1}},
		{protocol.FragmentHeader{ID: 0, Index: 1, Count: 8192}, nil},
	}
	for _, c := range cases {
		enc := protocol.AppendFragment(nil, c.h, c.data)
		require.Len(t, enc, protocol.FragmentHeaderSize+len(c.data))
		assert.Equal(t, uint16(c.h.ID), binary.BigEndian.Uint16(enc))
		assert.Equal(t, c.h.Index, binary.BigEndian.Uint16(enc[2:]))
		assert.Equal(t, c.h.Count, binary.BigEndian.Uint16(enc[4:]))
		h, data, err := protocol.ParseFragment(enc)
		require.NoError(t, err)
		assert.Equal(t, c.h, h)
		assert.True(t, bytes.Equal(c.data, data))
		assert.NotNil(t, data)
		assert.Equal(t, len(data), cap(data), "data is capped")
		assert.Equal(t, enc, protocol.AppendFragment(nil, h, data))
		assert.Equal(t, append([]byte{0xAB}, enc...), protocol.AppendFragment([]byte{0xAB}, h, data))
	}
}

func TestParseFragmentErrors(t *testing.T) {
	valid := fragBody(3, 2, 5, []byte("data"))
	for n := range protocol.FragmentHeaderSize {
		_, _, err := protocol.ParseFragment(valid[:n])
		assert.ErrorIs(t, err, protocol.ErrFragmentShort, "%d bytes", n)
	}
	cases := []struct {
		name         string
		index, count uint16
		err          error
	}{
		{"index 0", 0, 5, protocol.ErrFragmentIndex},
		{"index > count", 6, 5, protocol.ErrFragmentIndex},
		{"index max", 65535, 8192, protocol.ErrFragmentIndex},
		{"count 0", 1, 0, protocol.ErrFragmentCount},
		{"count 0 index 0", 0, 0, protocol.ErrFragmentCount},
		{"count 8193", 1, 8193, protocol.ErrFragmentCount},
		{"count 65535", 1, 65535, protocol.ErrFragmentCount},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, data, err := protocol.ParseFragment(fragBody(1, c.index, c.count, []byte("x")))
			assert.ErrorIs(t, err, c.err)
			assert.Nil(t, data)
		})
	}
	// boundaries that are fine
	for _, c := range [][2]uint16{{1, 1}, {1, 8192}, {8192, 8192}, {5, 5}} {
		_, _, err := protocol.ParseFragment(fragBody(1, c[0], c[1], nil))
		assert.NoError(t, err, "index %d count %d", c[0], c[1])
	}
}

// refSplit is the reference sender's fragment sizing (SPEC §9.3): cut 1024
// bytes while 1428 or more are left.
func refSplit(n int) []int {
	var out []int
	for n >= protocol.MaxPayloadSize-protocol.FragmentHeaderSize {
		out = append(out, protocol.FragmentDataSize)
		n -= protocol.FragmentDataSize
	}
	return append(out, n)
}

func split(t testing.TB, msg []byte) [][]byte {
	count, err := protocol.FragmentCount(len(msg))
	require.NoError(t, err)
	out := make([][]byte, count)
	for i := 1; i <= count; i++ {
		out[i-1] = protocol.FragmentData(msg, i, count)
	}
	return out
}

func TestFragmentCount(t *testing.T) {
	cases := []struct{ n, count int }{
		{0, 1},
		{1, 1},
		{protocol.MaxLastFragmentData, 1},
		{protocol.MaxLastFragmentData + 1, 2},
		{protocol.MaxSingleMessage + 1, 2},
		{2048, 2},
		{protocol.MaxLastFragmentData + 1024, 2},
		{protocol.MaxLastFragmentData + 1025, 3},
		{5000, 5},
		{protocol.MaxMessageSize - 1, protocol.MaxFragments},
		{protocol.MaxMessageSize, protocol.MaxFragments},
	}
	for _, c := range cases {
		got, err := protocol.FragmentCount(c.n)
		require.NoError(t, err, "n=%d", c.n)
		assert.Equal(t, c.count, got, "n=%d", c.n)
	}
	_, err := protocol.FragmentCount(protocol.MaxMessageSize + 1)
	assert.ErrorIs(t, err, protocol.ErrMessageTooLarge)
}

func TestNeedsFragments(t *testing.T) {
	assert.False(t, protocol.NeedsFragments(0))
	assert.False(t, protocol.NeedsFragments(1432))
	assert.True(t, protocol.NeedsFragments(1433), "the reference would never send 1433 bytes unfragmented")
	assert.True(t, protocol.NeedsFragments(1434))
	assert.True(t, protocol.NeedsFragments(protocol.MaxMessageSize))
	assert.Equal(t, 1432, protocol.MaxSingleMessage)
}

func TestFragmentSplit(t *testing.T) {
	sizes := []int{1433, 1434, 1435, 2047, 2048, 2049, 2450, 2451, 2452, 3475, 5000, 10000, 65536, 100000}
	for n := 1433; n < 1433+3*1024+10; n += 37 {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = byte(i * 7)
			}
			frags := split(t, msg)
			require.GreaterOrEqual(t, len(frags), 2)
			var joined []byte
			for i, f := range frags {
				if i < len(frags)-1 {
					require.Len(t, f, protocol.FragmentDataSize, "fragment %d", i+1)
				} else {
					require.NotEmpty(t, f)
					require.LessOrEqual(t, len(f), protocol.MaxLastFragmentData)
				}
				// each fragment message fits a packet on its own
				require.LessOrEqual(t, protocol.FragmentHeaderSize+len(f)+2, protocol.MaxPayloadSize)
				joined = append(joined, f...)
			}
			require.Equal(t, msg, joined)

			// identical to the reference's split wherever the reference can
			// send the message at all (its last fragment of 1427 never fits)
			ref := refSplit(n)
			if ref[len(ref)-1] != protocol.MaxPayloadSize-protocol.FragmentHeaderSize-1 {
				got := make([]int, len(frags))
				for i, f := range frags {
					got[i] = len(f)
				}
				assert.Equal(t, ref, got)
			}
		})
	}
}

func TestFragmentSplitMaxMessage(t *testing.T) {
	msg := make([]byte, protocol.MaxMessageSize)
	frags := split(t, msg)
	require.Len(t, frags, protocol.MaxFragments)
	total := 0
	for _, f := range frags {
		total += len(f)
	}
	assert.Equal(t, protocol.MaxMessageSize, total)
	assert.Len(t, frags[len(frags)-1], 1024)
}
