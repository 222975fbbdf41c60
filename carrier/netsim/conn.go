package netsim

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// A Conn is a transport.Conn whose datagrams cross a Link each way: what
// it writes is delayed, dropped, duplicated and reordered by the out
// profile before it reaches the Conn it wraps, what arrives by the in
// profile before ReadBatch returns it. Give a server one to feel a bad
// network, or a test one to check a game under loss.
type Conn struct {
	inner transport.Conn

	mu      sync.Mutex
	out, in *Link
	sendAt  *time.Timer   // flushes the out link when its next datagram is due
	arrived chan struct{} // a token when the in link got a datagram
	done    chan struct{}
	closed  bool
	wg      sync.WaitGroup
}

// Wrap returns c behind links of profiles out and in, whose random
// choices follow seed. The returned Conn owns c: closing it closes c.
func Wrap(c transport.Conn, out, in Profile, seed uint64) *Conn {
	w := &Conn{
		inner:   c,
		out:     NewLink(out, seed),
		in:      NewLink(in, seed+1),
		arrived: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	w.sendAt = time.AfterFunc(time.Hour, w.flushOut)
	w.sendAt.Stop()
	w.wg.Add(1)
	go w.readLoop()
	return w
}

// SetProfiles changes both links' profiles from now on.
func (w *Conn) SetProfiles(out, in Profile) {
	w.mu.Lock()
	w.out.SetProfile(out)
	w.in.SetProfile(in)
	w.mu.Unlock()
}

// SetPeerProfiles gives the datagrams to the peer at addr the out
// profile and those from it the in profile, from now on, instead of the
// Conn's: one client on a bad link while the others are fine.
func (w *Conn) SetPeerProfiles(addr netip.AddrPort, out, in Profile) {
	w.mu.Lock()
	w.out.SetAddrProfile(addr, out)
	w.in.SetAddrProfile(addr, in)
	w.mu.Unlock()
}

// ClearPeerProfiles gives addr's datagrams the Conn's profiles again.
func (w *Conn) ClearPeerProfiles(addr netip.AddrPort) {
	w.mu.Lock()
	w.out.ClearAddrProfile(addr)
	w.in.ClearAddrProfile(addr)
	w.mu.Unlock()
}

// LinkStats returns the counters of both links.
func (w *Conn) LinkStats() (out, in LinkStats) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Stats(), w.in.Stats()
}

// readLoop moves what arrives on the wrapped Conn onto the in link.
func (w *Conn) readLoop() {
	defer w.wg.Done()
	ds := make([]transport.Datagram, transport.BatchSize)
	for i := range ds {
		ds[i].Data = make([]byte, 0, transport.RecvSize)
	}
	for {
		if err := w.inner.Wait(time.Time{}); err != nil {
			return
		}
		n, err := w.inner.ReadBatch(ds)
		if err != nil {
			return
		}
		if n == 0 {
			continue
		}
		now := time.Now()
		w.mu.Lock()
		for _, d := range ds[:n] {
			w.in.sendTo(now, d.Data, d.Addr)
		}
		w.mu.Unlock()
		select {
		case w.arrived <- struct{}{}:
		default:
		}
	}
}

// ReadBatch returns the datagrams whose delay on the in link is over.
func (w *Conn) ReadBatch(ds []transport.Datagram) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, transport.ErrClosed
	}
	now := time.Now()
	n := 0
	for n < len(ds) {
		d, from := w.in.nextFrom(now)
		if d == nil {
			break
		}
		ds[n].Data = append(ds[n].Data[:0], d...)
		ds[n].Addr = from
		n++
	}
	return n, nil
}

// WriteBatch puts ds on the out link; each reaches the wrapped Conn when
// its delay is over.
func (w *Conn) WriteBatch(ds []transport.Datagram) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, transport.ErrClosed
	}
	now := time.Now()
	for _, d := range ds {
		w.out.sendTo(now, d.Data, d.Addr)
	}
	w.scheduleOut(now)
	return len(ds), nil
}

// scheduleOut sets the timer for the out link's next datagram (locked).
func (w *Conn) scheduleOut(now time.Time) {
	if at, ok := w.out.NextAt(); ok {
		w.sendAt.Reset(max(0, at.Sub(now)))
	}
}

// flushOut sends what is due on the out link.
func (w *Conn) flushOut() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	now := time.Now()
	var due []transport.Datagram
	for {
		d, to := w.out.nextFrom(now)
		if d == nil {
			break
		}
		due = append(due, transport.Datagram{Data: d, Addr: to})
	}
	w.scheduleOut(now)
	w.mu.Unlock()
	for len(due) > 0 {
		n, err := w.inner.WriteBatch(due)
		if err == nil || errors.Is(err, transport.ErrClosed) {
			break
		}
		due = due[n+1:] // skip the one refused, as a network would lose it
	}
}

// Wait blocks until a datagram is due on the in link, the deadline passes
// or the Conn closes.
func (w *Conn) Wait(deadline time.Time) error {
	for {
		w.mu.Lock()
		closed := w.closed
		at, inFlight := w.in.NextAt()
		w.mu.Unlock()
		if closed {
			return transport.ErrClosed
		}
		now := time.Now()
		if inFlight && !at.After(now) {
			return nil
		}
		if !deadline.IsZero() && !deadline.After(now) {
			return nil
		}
		wake := deadline
		if inFlight && (wake.IsZero() || at.Before(wake)) {
			wake = at
		}
		if !w.sleep(wake.Sub(now), !wake.IsZero()) {
			return transport.ErrClosed
		}
	}
}

// sleep waits for an arrival, d (when timed) or Close; it reports false on
// Close.
func (w *Conn) sleep(d time.Duration, timed bool) bool {
	var timer <-chan time.Time
	if timed {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-w.arrived:
	case <-timer:
	case <-w.done:
		return false
	}
	return true
}

// LocalAddr returns the wrapped Conn's address.
func (w *Conn) LocalAddr() netip.AddrPort { return w.inner.LocalAddr() }

// Unwrap returns the Conn behind the simulated links, for a server to
// find what it can do besides datagrams (transport.Unwrap).
func (w *Conn) Unwrap() transport.Conn { return w.inner }

// Stats returns the wrapped Conn's counters.
func (w *Conn) Stats() transport.Stats { return w.inner.Stats() }

// Close closes the links and the wrapped Conn; datagrams in flight are
// lost.
func (w *Conn) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return transport.ErrClosed
	}
	w.closed = true
	w.sendAt.Stop()
	close(w.done)
	w.mu.Unlock()
	err := w.inner.Close()
	w.wg.Wait()
	return err
}
