package attack

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Flood source addresses: 127.64.0.1 onwards, inside 127.64.0.0/10, clear
// of the load generator's clients (127.1.0.1 onwards).
const (
	floodBase = 127<<24 | 64<<16
	// DefaultFloodAddrs is how many source addresses a flood cycles over
	// when its configuration says none.
	DefaultFloodAddrs = 1 << 18
	// MaxFloodAddrs is the most a flood can use: all of 127.64.0.0/10 but
	// its first and last addresses.
	MaxFloodAddrs = 1<<22 - 2
	// floodBatch is how many datagrams go out per system call.
	floodBatch = 64
)

// ErrForgedSources: a flood cannot run here.
var ErrForgedSources = errors.New("attack: forged source addresses need Linux and a server on the IPv4 loopback")

// FloodAddr returns the flood's source address number i (from 0):
// 127.64.0.1 + i.
func FloodAddr(i int) netip.Addr {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], floodBase+1+uint32(i%MaxFloodAddrs))
	return netip.AddrFrom4(a)
}

// IsFloodAddr reports whether a is one of the flood's source addresses.
func IsFloodAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.Is4() {
		return false
	}
	b := a.As4()
	k := binary.BigEndian.Uint32(b[:])
	return k > floodBase && k <= floodBase+MaxFloodAddrs
}

// FloodConfig describes a flood.
type FloodConfig struct {
	// Server is the target, on the IPv4 loopback.
	Server netip.AddrPort
	// Rate is the datagrams sent per second; 0 (or math.Inf(1)) sends as
	// fast as the socket takes them.
	Rate float64
	// Addrs is how many source addresses the datagrams cycle over
	// (DefaultFloodAddrs when 0, at most MaxFloodAddrs).
	Addrs int
	// Payload makes each datagram.
	Payload Payload
}

func (c *FloodConfig) resolve() (FloodConfig, error) {
	r := *c
	if r.Addrs == 0 {
		r.Addrs = DefaultFloodAddrs
	}
	if math.IsInf(r.Rate, 1) {
		r.Rate = 0 // as fast as possible
	}
	switch {
	case r.Payload == nil:
		return r, errors.New("attack: a flood needs a payload")
	case r.Rate < 0 || math.IsNaN(r.Rate):
		return r, fmt.Errorf("attack: flood rate %g is not a positive number", r.Rate)
	case r.Addrs < 1 || r.Addrs > MaxFloodAddrs:
		return r, fmt.Errorf("attack: %d flood addresses, want 1..%d", r.Addrs, MaxFloodAddrs)
	}
	return r, CheckFlood(r.Server)
}

// CheckFlood reports whether a flood can reach server from forged
// addresses: it returns ErrForgedSources off Linux or for a server that is
// not on the IPv4 loopback.
func CheckFlood(server netip.AddrPort) error {
	if !floodSupported {
		return fmt.Errorf("%w (this system is not Linux)", ErrForgedSources)
	}
	if a := server.Addr().Unmap(); !a.Is4() || !a.IsLoopback() {
		return fmt.Errorf("%w (server %s)", ErrForgedSources, server)
	}
	return nil
}

// FloodStats counts what a flood did.
type FloodStats struct {
	// Datagrams and Bytes sent; Errors counts datagrams the system
	// refused.
	Datagrams, Bytes, Errors uint64
	// Replies counts datagrams that came back to the forged addresses
	// (SERVER_HELLOs, for instance).
	Replies uint64
}

// A Flood sends datagrams from forged source addresses on one goroutine
// until its context is done.
type Flood struct {
	cfg                               FloodConfig
	sock                              *floodSocket
	datagrams, bytes, errors, replies atomic.Uint64
	done                              chan struct{}
}

// StartFlood opens the flood's socket and starts sending, paced at
// cfg.Rate, until ctx is done. It fails with ErrForgedSources off Linux or
// for a server that is not on the IPv4 loopback.
func StartFlood(ctx context.Context, cfg FloodConfig) (*Flood, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	sock, err := newFloodSocket(c.Server)
	if err != nil {
		return nil, err
	}
	f := &Flood{cfg: c, sock: sock, done: make(chan struct{})}
	go f.run(ctx)
	return f, nil
}

// Stats returns the counts so far.
func (f *Flood) Stats() FloodStats {
	return FloodStats{Datagrams: f.datagrams.Load(), Bytes: f.bytes.Load(), Errors: f.errors.Load(), Replies: f.replies.Load()}
}

// Done is closed when the flood has stopped and closed its socket.
func (f *Flood) Done() <-chan struct{} { return f.done }

// Wait waits for the flood to stop and returns its final counts.
func (f *Flood) Wait() FloodStats {
	<-f.done
	return f.Stats()
}

func (f *Flood) run(ctx context.Context) {
	defer close(f.done)
	defer f.sock.close()
	var seed [32]byte
	_, _ = rand.Read(seed[:]) // never fails
	rng := mrand.New(mrand.NewChaCha8(seed))
	bufs := make([][]byte, floodBatch)
	for i := range bufs {
		bufs[i] = make([]byte, 0, protocol.RecvBufferSize)
	}
	dgs := make([][]byte, floodBatch)
	srcs := make([][4]byte, floodBatch)
	p := newPacer(f.cfg.Rate)
	// Below 32,000/s a datagram is sent as soon as it is due; above, the
	// datagrams due in 2 ms go out in one call.
	least := max(1, min(floodBatch, int(f.cfg.Rate*0.002)))
	addr := 0
	for ctx.Err() == nil {
		k := p.due(time.Now(), floodBatch)
		if k < least {
			sleepCtx(ctx, p.until(time.Now(), least))
			continue
		}
		var size uint64
		for i := range k {
			dgs[i] = f.cfg.Payload(bufs[i][:0], rng)
			srcs[i] = FloodAddr(addr).As4()
			addr = (addr + 1) % f.cfg.Addrs
			size += uint64(len(dgs[i]))
		}
		sent, errs := f.sock.send(dgs[:k], srcs[:k])
		p.took(k)
		f.datagrams.Add(uint64(sent))
		f.bytes.Add(size) // close enough when some failed
		f.errors.Add(uint64(errs))
		f.replies.Add(f.sock.drain())
	}
}

// A pacer spaces events at a rate (per second; 0 for no limit).
type pacer struct {
	rate  float64
	start time.Time
	n     uint64 // events taken
}

func newPacer(rate float64) *pacer { return &pacer{rate: rate, start: time.Now()} }

// due returns how many events are due at now, at most limit. A pacer
// that fell more than a second behind forgives the debt beyond that.
func (p *pacer) due(now time.Time, limit int) int {
	if p.rate <= 0 {
		return limit
	}
	want := uint64(now.Sub(p.start).Seconds() * p.rate)
	if slack := uint64(p.rate) + uint64(limit); want > p.n+slack {
		p.n = want - slack
	}
	if want <= p.n {
		return 0
	}
	return int(min(want-p.n, uint64(limit)))
}

// took records k events.
func (p *pacer) took(k int) { p.n += uint64(k) }

// until returns how long until k events are due.
func (p *pacer) until(now time.Time, k int) time.Duration {
	if p.rate <= 0 {
		return 0
	}
	at := p.start.Add(time.Duration(float64(p.n+uint64(k)) / p.rate * float64(time.Second)))
	return at.Sub(now)
}

// wait blocks until the next event is due and takes it; false when ctx
// is done first.
func (p *pacer) wait(ctx context.Context) bool {
	for p.due(time.Now(), 1) == 0 {
		if !sleepCtx(ctx, p.until(time.Now(), 1)) {
			return false
		}
	}
	p.took(1)
	return ctx.Err() == nil
}

// sleepCtx sleeps for d (at most 50 ms at a time is fine: callers loop);
// false when ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(min(d, 50*time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
