package session

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// prefetchAll takes every prefetch step for c, in order.
func prefetchAll(c *Conn) {
	for k := range PrefetchSteps + 1 { // and one past the last: nothing
		c.PrefetchStep(k, Both)
	}
}

// Prefetching is only a hint: a pair prefetched before every call sends
// exactly the datagrams of a pair never prefetched (the pairs' handshakes
// are the same vectors), through every state a connection passes: queued
// and in-flight messages of each kind, fragments, losses and resends, the
// close handshake, closed.
func TestPrefetchChangesNothing(t *testing.T) {
	type pair struct {
		client, server *Conn
		now            time.Time
		got            [][]byte
	}
	mk := func() *pair {
		c, s, now := benchPairTimeout(t, 2*time.Second)
		p := &pair{client: c, server: s, now: now}
		for _, x := range []*Conn{c, s} {
			x.SetHandler(func(seq protocol.Seq, msg []byte) {
				p.got = append(p.got, append([]byte{byte(seq)}, msg...))
			})
		}
		return p
	}
	plain, hinted := mk(), mk()
	big := bytes.Repeat([]byte("fragment "), 400) // three fragments
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	step := func(p *pair, i int, hint bool) (sent [][]byte) {
		p.now = p.now.Add(time.Second / 60)
		pf := func(c *Conn) {
			if hint {
				prefetchAll(c)
			}
		}
		for _, c := range []*Conn{p.client, p.server} {
			pf(c)
			if c.Status() != conn.Connected || i >= 150 {
				continue
			}
			msg := []byte{byte(i), byte(i >> 8)}
			var err error
			switch i % 4 {
			case 0:
				err = c.Send(msg, conn.RetryNone, nil)
			case 1:
				err = c.Send(msg, conn.RetryOnTimeout, func(bool) {})
			case 2:
				err = c.Send(msg, conn.RetryBestEffort, nil)
			case 3:
				if i%20 == 3 {
					err = c.Send(big, conn.RetryOnTimeout, nil)
				}
			}
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if i == 150 {
			pf(p.server)
			p.server.Disconnect(p.now)
		}
		for _, from := range []*Conn{p.client, p.server} {
			to := p.server
			if from == p.server {
				to = p.client
			}
			pf(from)
			d := from.Poll(p.now, buf)
			if d == nil {
				continue
			}
			d = bytes.Clone(d)
			sent = append(sent, d)
			if i%7 == 5 {
				continue // lost
			}
			pf(to)
			_ = to.Receive(p.now, bytes.Clone(d))
		}
		return sent
	}
	for i := range 400 {
		a, b := step(plain, i, false), step(hinted, i, true)
		if len(a) != len(b) {
			t.Fatalf("step %d: %d datagrams without prefetching, %d with", i, len(a), len(b))
		}
		for k := range a {
			if !bytes.Equal(a[k], b[k]) {
				t.Fatalf("step %d: datagram %d differs with prefetching", i, k)
			}
		}
	}
	if len(plain.got) == 0 || len(plain.got) != len(hinted.got) {
		t.Fatalf("delivered %d messages without prefetching, %d with", len(plain.got), len(hinted.got))
	}
	for k := range plain.got {
		if !bytes.Equal(plain.got[k], hinted.got[k]) {
			t.Fatalf("message %d differs with prefetching", k)
		}
	}
	for _, c := range []*Conn{plain.client, plain.server, hinted.client, hinted.server} {
		if !c.Status().Closed() {
			t.Fatalf("%v: %v after the close handshake", c, c.Status())
		}
	}
	prefetchAll(hinted.server) // closed: still harmless
}

// A connection is prefetched from its first moment: before the handshake
// it has no cipher, no queue, no packet in flight.
func TestPrefetchBeforeHandshake(t *testing.T) {
	r := newReplay(t)
	c, err := NewClient(r.clientConfig(), time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	var zero Conn
	prefetchAll(&zero)
	prefetchAll(c)
	if c.Status() != conn.Connecting {
		t.Fatalf("status %v", c.Status())
	}
}

// TestEchoReadsOnlyTheHotPart: PrefetchStep fetches a connection's hot
// part (hotBytes) and the bitmaps' words in use, not the rest of the
// struct. A server exchanging messages must then read and write nothing
// else: its every other byte is overwritten with garbage around each
// Receive and Poll (the collector held off, as the garbage includes
// pointers), and it still sends exactly the datagrams of a twin left
// alone, and leaves the garbage as it found it. (Once a second a Poll
// expires the reassembler's partial messages, which are in the cold part:
// the ticks that do are left alone.)
func TestEchoReadsOnlyTheHotPart(t *testing.T) {
	type pair struct {
		client, server *Conn
		now            time.Time
		got            [][]byte
	}
	mk := func() *pair {
		c, s, now := benchPairTimeout(t, 2*time.Second)
		p := &pair{client: c, server: s, now: now}
		s.SetHandler(func(_ protocol.Seq, msg []byte) {
			if err := s.Send(msg, conn.RetryNone, nil); err != nil {
				t.Fatal(err)
			}
		})
		c.SetHandler(func(seq protocol.Seq, msg []byte) {
			p.got = append(p.got, append([]byte{byte(seq)}, msg...))
		})
		return p
	}
	plain, poisoned := mk(), mk()

	// The cold part: after the hot part, but for the bitmaps.
	cold := func(c *Conn) [][]byte {
		base := unsafe.Pointer(c)
		bits := unsafe.Offsetof(c.bits)
		return [][]byte{
			unsafe.Slice((*byte)(unsafe.Add(base, hotBytes)), bits-hotBytes),
			unsafe.Slice((*byte)(unsafe.Add(base, bits+unsafe.Sizeof(c.bits))), unsafe.Sizeof(*c)-bits-unsafe.Sizeof(c.bits)),
		}
	}
	// No collection may start while the garbage is there: collections
	// off, then one run to its end (runtime.GC waits for any under way).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()

	buf := make([]byte, 0, protocol.MaxDatagramSize)
	step := func(p *pair, i int, poison bool) (out []byte) {
		p.now = p.now.Add(time.Second / 60)
		msg := []byte{byte(i), byte(i >> 8), 'e', 'c', 'h', 'o'}
		if err := p.client.Send(msg, conn.RetryNone, nil); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		in := bytes.Clone(p.client.Poll(p.now, buf))
		var saved [][]byte
		if poison && p.server.instant(p.now).sub(p.server.clock.lastExpire) >= expireEvery {
			poison = false
		}
		if poison {
			for _, b := range cold(p.server) {
				saved = append(saved, bytes.Clone(b))
				for k := range b {
					b[k] = 0xA5
				}
			}
		}
		if err := p.server.Receive(p.now, in); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		out = bytes.Clone(p.server.Poll(p.now, buf))
		if poison {
			for k, b := range cold(p.server) {
				for j, x := range b {
					if x != 0xA5 {
						t.Fatalf("step %d: an echo wrote to the cold part (byte %d of its piece %d)", i, j, k)
					}
				}
				copy(b, saved[k])
			}
		}
		if err := p.client.Receive(p.now, bytes.Clone(out)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		return out
	}
	var before [2]conn.Stats
	for i := range 200 {
		if i == 20 {
			before = [2]conn.Stats{plain.server.Stats(), poisoned.server.Stats()}
		}
		a, b := step(plain, i, false), step(poisoned, i, i >= 20)
		require.Equal(t, a, b, "step %d: the server's datagram", i)
	}
	require.Len(t, plain.got, 200)
	require.Equal(t, plain.got, poisoned.got)
	// The counts moved alike (the handshakes' sizes differ by their padding).
	after := [2]conn.Stats{plain.server.Stats(), poisoned.server.Stats()}
	for k := range after {
		after[k].BytesSent -= before[k].BytesSent
		after[k].Sent -= before[k].Sent
		after[k].Assembled -= before[k].Assembled
	}
	assert.Equal(t, after[0], after[1])
	assert.Equal(t, uint64(180), after[1].Sent, "echoes sent while poisoned")

	// What that costs: the lines of the hot part (from 8 bytes into a
	// line, after Go's allocation header) and the size class of a Conn
	// (1,792 bytes with the header; a byte more takes 2,048).
	assert.LessOrEqual(t, (8+hotBytes+63)/64, uintptr(16), "cache lines of the hot part")
	assert.LessOrEqual(t, 8+unsafe.Sizeof(Conn{}), uintptr(1792), "a Conn's size class")
}
