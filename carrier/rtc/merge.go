//go:build !js

package rtc

import (
	"errors"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// Merge returns one transport.Conn for a server's UDP socket and its
// browser peers: it reads from both, sends each datagram the way its
// address came, and closes both. Give it to server.NewWithConn: it is a
// transport.PeerConn, through which the server tells the listener of its
// sessions and its blocklist.
func Merge(udp transport.Conn, l *Listener) transport.PeerConn { return &merged{udp: udp, l: l} }

type merged struct {
	udp transport.Conn
	l   *Listener
}

func (m *merged) ReadBatch(ds []transport.Datagram) (int, error) {
	n, err := m.udp.ReadBatch(ds)
	if err != nil {
		return n, err
	}
	k, err := m.l.ReadBatch(ds[n:])
	return n + k, err
}

// WriteBatch sends runs of UDP datagrams in batches and the browser
// peers' one by one, in order.
func (m *merged) WriteBatch(ds []transport.Datagram) (int, error) {
	sent := 0
	for sent < len(ds) {
		web := m.l.Has(ds[sent].Addr)
		end := sent + 1
		for end < len(ds) && m.l.Has(ds[end].Addr) == web {
			end++
		}
		var n int
		var err error
		if web {
			n, err = m.l.WriteBatch(ds[sent:end])
		} else {
			n, err = m.udp.WriteBatch(ds[sent:end])
		}
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// waitSlice is how long Wait waits on one side before looking at the
// other.
const waitSlice = 2 * time.Millisecond

func (m *merged) Wait(deadline time.Time) error {
	for {
		if ready, err := m.l.ready(); err != nil || ready {
			return err // closed, or something to read
		}
		slice := time.Now().Add(waitSlice)
		if !deadline.IsZero() && deadline.Before(slice) {
			slice = deadline
		}
		if err := m.udp.Wait(slice); err != nil {
			return err
		}
		now := time.Now()
		if now.Before(slice) || (!deadline.IsZero() && !now.Before(deadline)) {
			return nil // UDP has datagrams, or the deadline passed
		}
	}
}

func (m *merged) LocalAddr() netip.AddrPort { return m.udp.LocalAddr() }

// Carrier names how datagrams from addr travel, for the server's client
// table: "webrtc" for a browser peer, "udp" for the others.
func (m *merged) Carrier(addr netip.AddrPort) string {
	if m.l.Has(addr) {
		return "webrtc"
	}
	return "udp"
}

func (m *merged) Stats() transport.Stats {
	a, b := m.udp.Stats(), m.l.Stats()
	a.KernelDrops += b.KernelDrops
	a.Reads += b.Reads
	a.Writes += b.Writes
	return a
}

func (m *merged) SessionOpened(addr netip.AddrPort)        { m.l.SessionOpened(addr) }
func (m *merged) SessionClosed(addr netip.AddrPort)        { m.l.SessionClosed(addr) }
func (m *merged) SetBlocked(blocked func(netip.Addr) bool) { m.l.SetBlocked(blocked) }
func (m *merged) PeerStats() transport.PeerStats           { return m.l.PeerStats() }

func (m *merged) Close() error { return errors.Join(m.l.Close(), m.udp.Close()) }
