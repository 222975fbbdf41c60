package dtlsrec

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPipeQueue(t *testing.T) {
	p := NewPipe(testAddr("peer"), func([]byte) {})
	d := []byte{22, 1, 2}
	for i := range maxQueued {
		require.True(t, p.Push(d), "datagram %d", i)
	}
	assert.False(t, p.Push(d), "over the bound")
	d[1] = 9 // Push copied it

	b := make([]byte, 2)
	n, from, err := p.ReadFrom(b)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "cut to the buffer, as UDP does")
	assert.Equal(t, []byte{22, 1}, b)
	assert.Equal(t, testAddr("peer"), from)
	assert.True(t, p.Push(d), "room again")
	assert.Len(t, p.Drain(), maxQueued)
	assert.Empty(t, p.Drain())
}

// While Handshake runs, application data waits for Drain, in order, and
// pion reads around it.
func TestPipeHoldsData(t *testing.T) {
	p := NewPipe(testAddr("peer"), func([]byte) {})
	p.holdData()
	p.Push([]byte{TypeApplicationData, 1})
	p.Push([]byte{TypeHandshake, 2})
	p.Push([]byte{TypeApplicationData, 3})
	b := make([]byte, 10)
	n, _, err := p.ReadFrom(b)
	require.NoError(t, err)
	assert.Equal(t, []byte{TypeHandshake, 2}, b[:n])
	require.NoError(t, p.SetReadDeadline(time.Now().Add(-time.Second)))
	_, _, err = p.ReadFrom(b)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "data is not for pion")
	assert.Equal(t, [][]byte{{TypeApplicationData, 1}, {TypeApplicationData, 3}}, p.Drain())
}

func TestPipeDeadlines(t *testing.T) {
	p := NewPipe(testAddr("peer"), func([]byte) {})
	b := make([]byte, 10)

	// A deadline in the past ends a read at once, whether it is set before
	// the read or while the read waits (pion's cancellation does the
	// latter).
	require.NoError(t, p.SetReadDeadline(time.Now().Add(-time.Second)))
	_, _, err := p.ReadFrom(b)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.True(t, errors.As(err, &ne))
	assert.True(t, ne.Timeout())

	require.NoError(t, p.SetReadDeadline(time.Time{}))
	done := make(chan error)
	go func() {
		_, _, err := p.ReadFrom(b)
		done <- err
	}()
	require.NoError(t, p.SetReadDeadline(time.Unix(1, 0)))
	assert.ErrorIs(t, <-done, os.ErrDeadlineExceeded)

	// A future deadline ends a waiting read when it passes.
	start := time.Now()
	require.NoError(t, p.SetReadDeadline(start.Add(20*time.Millisecond)))
	_, _, err = p.ReadFrom(b)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)

	// Cleared, a read waits for a datagram.
	require.NoError(t, p.SetReadDeadline(time.Time{}))
	go func() {
		_, _, err := p.ReadFrom(b)
		done <- err
	}()
	p.Push([]byte{22})
	assert.NoError(t, <-done)

	// A passed write deadline refuses writes.
	require.NoError(t, p.SetWriteDeadline(time.Unix(1, 0)))
	_, err = p.WriteTo([]byte{1}, nil)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, p.SetDeadline(time.Time{}))
	_, err = p.WriteTo([]byte{1}, nil)
	assert.NoError(t, err)
}

func TestPipeClose(t *testing.T) {
	var sent [][]byte
	p := NewPipe(testAddr("peer"), func(b []byte) { sent = append(sent, b) })
	b := make([]byte, 10)
	done := make(chan error)
	go func() {
		_, _, err := p.ReadFrom(b)
		done <- err
	}()
	_, err := p.WriteTo([]byte{1}, nil)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	assert.ErrorIs(t, <-done, net.ErrClosed)
	_, err = p.WriteTo([]byte{2}, nil)
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.Equal(t, [][]byte{{1}}, sent, "nothing written after Close leaves")

	assert.True(t, p.Push([]byte{22}), "datagrams wait for Drain after Close")
	_, _, err = p.ReadFrom(b)
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.Len(t, p.Drain(), 1)
	assert.Equal(t, [][]byte{{1}}, p.LastFlight(), "the last flight survives Close")
	assert.Equal(t, "dtlsrec", p.LocalAddr().Network())
}

func TestPipeLastFlight(t *testing.T) {
	p := NewPipe(testAddr("peer"), func([]byte) {})
	b := make([]byte, 10)
	write := func(v byte) {
		_, err := p.WriteTo([]byte{v}, nil)
		require.NoError(t, err)
	}
	read := func() {
		p.Push([]byte{22})
		_, _, err := p.ReadFrom(b)
		require.NoError(t, err)
	}

	assert.Empty(t, p.LastFlight())
	write(1)
	write(2)
	assert.Equal(t, [][]byte{{1}, {2}}, p.LastFlight())
	read()
	old := p.LastFlight()
	assert.Equal(t, [][]byte{{1}, {2}}, old, "a read alone does not forget the flight")
	write(3)
	assert.Equal(t, [][]byte{{3}}, p.LastFlight())
	assert.Equal(t, [][]byte{{1}, {2}}, old, "a flight handed out stays as it was")

	read()
	for i := range 2 * maxFlight {
		write(byte(10 + i))
	}
	f := p.LastFlight()
	require.Len(t, f, maxFlight, "bounded in datagrams")
	assert.Equal(t, []byte{10}, f[0], "the first ones kept")

	read()
	big := make([]byte, 3<<10)
	for range 4 {
		_, err := p.WriteTo(big, nil)
		require.NoError(t, err)
	}
	assert.Len(t, p.LastFlight(), maxFlightBytes/len(big), "bounded in bytes")
}

// Concurrent use, for the race detector: the caller pushes and drains
// while pion reads, writes and moves deadlines.
func TestPipeConcurrent(t *testing.T) {
	p := NewPipe(testAddr("peer"), func([]byte) {})
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 10)
		for {
			_ = p.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, _, err := p.ReadFrom(b); errors.Is(err, net.ErrClosed) {
				return
			}
			_, _ = p.WriteTo(b[:1], nil)
		}
	}()
	for i := range 1000 {
		p.Push(fmt.Appendf(nil, "%d", i))
		if i%7 == 0 {
			p.Drain()
			p.LastFlight()
		}
	}
	require.NoError(t, p.Close())
	<-done
}
