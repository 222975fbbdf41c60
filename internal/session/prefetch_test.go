package session

import (
	"bytes"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// prefetchAll takes every prefetch step for c, in order.
func prefetchAll(c *Conn) {
	for k := range PrefetchSteps + 1 { // and one past the last: nothing
		c.PrefetchStep(k)
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
