package netsim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Unix(1000, 0)

func TestPerfectLinkKeepsOrderAndDelay(t *testing.T) {
	l := NewLink(Profile{Delay: 10 * time.Millisecond}, 1)
	for i := 0; i < 5; i++ {
		l.Send(t0, []byte{byte(i)})
	}
	assert.Nil(t, l.Next(t0.Add(9*time.Millisecond)))
	at, ok := l.NextAt()
	require.True(t, ok)
	assert.Equal(t, t0.Add(10*time.Millisecond), at)
	for i := 0; i < 5; i++ {
		assert.Equal(t, []byte{byte(i)}, l.Next(t0.Add(10*time.Millisecond)))
	}
	assert.Nil(t, l.Next(t0.Add(time.Hour)))
	assert.Equal(t, LinkStats{Sent: 5, Delivered: 5}, l.Stats())
}

func TestLinkCopiesDatagrams(t *testing.T) {
	l := NewLink(Profile{}, 1)
	b := []byte{1, 2, 3}
	l.Send(t0, b)
	b[0] = 9
	assert.Equal(t, []byte{1, 2, 3}, l.Next(t0))
}

func TestLossyLinkStatistics(t *testing.T) {
	p := Profile{Loss: 0.25, Duplicate: 0.1, Delay: 20 * time.Millisecond, Jitter: 30 * time.Millisecond, Reorder: 0.05, ReorderDelay: 100 * time.Millisecond}
	l := NewLink(p, 42)
	const n = 20000
	reordered := 0
	last := -1
	for i := 0; i < n; i++ {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		l.Send(now, []byte{byte(i >> 8), byte(i)})
		for d := l.Next(now); d != nil; d = l.Next(now) {
			v := int(d[0])<<8 | int(d[1])
			if v < last {
				reordered++
			}
			last = max(last, v)
		}
	}
	s := l.Stats()
	assert.InDelta(t, 0.25, float64(s.Dropped)/n, 0.02)
	assert.InDelta(t, 0.10, float64(s.Duplicated)/float64(n-int(s.Dropped)), 0.02)
	assert.Greater(t, reordered, n/20)
}

func TestLinkIsDeterministic(t *testing.T) {
	run := func() []byte {
		l := NewLink(Profile{Loss: 0.3, Duplicate: 0.2, Jitter: 50 * time.Millisecond}, 7)
		var out []byte
		for i := 0; i < 500; i++ {
			now := t0.Add(time.Duration(i) * time.Millisecond)
			l.Send(now, []byte{byte(i)})
			for d := l.Next(now); d != nil; d = l.Next(now) {
				out = append(out, d...)
			}
		}
		return out
	}
	assert.Equal(t, run(), run())
}
