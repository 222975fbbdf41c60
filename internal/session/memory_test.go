package session

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// connMemory returns the heap bytes held by each of n connected
// server-side connections after some traffic.
func connMemory(t *testing.T, n int, cfg func(*Config)) float64 {
	servers := make([]*Conn, n)
	clients := make([]*Conn, n)
	var now time.Time
	for i := range servers {
		clients[i], servers[i], now = benchPairWith(t, cfg)
	}
	shareConfig(servers) // as a server's connections do
	msg := make([]byte, 64)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	for round := 0; round < 120; round++ { // two seconds of echoes at 60 Hz
		now = now.Add(time.Second / 60)
		for i, c := range clients {
			s := servers[i]
			if round%2 == 0 {
				_ = c.Send(msg, conn.RetryNone, nil)
			}
			if d := c.Poll(now, buf); d != nil {
				_ = s.Receive(now, d)
			}
			_ = s.Send(msg, conn.RetryNone, nil)
			if d := s.Poll(now, buf); d != nil {
				_ = c.Receive(now, d)
			}
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	clear(servers)
	runtime.GC()
	runtime.ReadMemStats(&after)

	runtime.KeepAlive(clients)
	return float64(before.HeapAlloc-after.HeapAlloc) / float64(n)
}

// TestServerConnMemory: a connected server-side connection holds less
// than 4 KB, so that a server's clients stay under 8 KB each with
// everything around them. (Per-second history is the monitor's: a
// connection keeps counters only.)
func TestServerConnMemory(t *testing.T) {
	per := connMemory(t, 200, nil)
	t.Logf("%.0f bytes per server-side connection", per)
	assert.Less(t, per, 4000.0)
}
