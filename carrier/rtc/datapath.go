//go:build !js

package rtc

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/netip"
	"time"
	"unsafe"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/internal/dtlsrec"
	"github.com/mpgs/mpgameserver/internal/prefetch"
	"github.com/mpgs/mpgameserver/internal/sctp"
)

// The data path: what the listener does with its socket's datagrams, in
// the reader's ReadBatch and the writer's WriteBatch, under the
// listener's lock (the server calls both from its tick, so the lock is
// not contended). No goroutine is woken and nothing is allocated per
// datagram once a peer is open.

const (
	// readAhead is the datagrams read from the socket in one system call.
	readAhead = transport.BatchSize
	// outBatch is the datagrams sent in one system call.
	outBatch = 64
	// outSize is the room of one datagram sent: an SCTP packet of
	// sctpMTU in a DTLS record.
	outSize = 1500
	// sctpMTU bounds the SCTP packets sent, DTLS and UDP come on top
	// (pion's and the browsers' value, below any path's MTU).
	sctpMTU = 1200
	// maxCarried bounds the messages received that did not fit the
	// reader's batch (SCTP bundles several in a packet); beyond it they
	// are dropped and counted, as a full socket drops.
	maxCarried = 256
	// tickEvery is how often the peers' SCTP timers are looked at.
	tickEvery = 50 * time.Millisecond
	// checkBurst and checkEvery bound the checks answered for a peer: a
	// browser checks a few times while it sets up, then every few seconds.
	checkBurst = 16
	checkEvery = 100 * time.Millisecond
	// flightEvery bounds how often a peer's final DTLS flight is sent
	// again when its browser repeats its own.
	flightEvery = 250 * time.Millisecond
	// maxCandidates bounds the addresses one peer's checks may come from
	// before its DTLS handshake picks one.
	maxCandidates = 4
)

// tokens is a token bucket: n tokens, one more every checkEvery, at most
// checkBurst.
type tokens struct {
	n    int
	last time.Time
}

func (t *tokens) take(now time.Time) bool {
	if t.last.IsZero() {
		t.last = now
	}
	if add := int(now.Sub(t.last) / checkEvery); add > 0 {
		t.n = min(checkBurst, t.n+add)
		t.last = t.last.Add(time.Duration(add) * checkEvery)
	}
	if t.n == 0 {
		return false
	}
	t.n--
	return true
}

// carried is a message received that waits for the next ReadBatch.
type carried struct {
	addr netip.AddrPort
	data []byte
}

// datapath is the listener's per-datagram state; its lock guards it.
type datapath struct {
	l      *Listener
	in     []transport.Datagram // read from the socket
	ahead  [readAhead]*peer     // the peers of in's datagrams, or of a run of WriteBatch's
	out    []transport.Datagram // to send
	nout   int
	ds     []transport.Datagram // the reader's, during ReadBatch
	n      int                  // how many of ds are filled
	carry  []carried            // a ring of maxCarried
	head   int
	ncarry int
	now    time.Time
	batch  uint64  // counts the ReadBatch calls, to mark the peers a batch touched
	touch  []*peer // peers that received DATA in this batch: their SACK goes at its end
	next   time.Time

	drops, junk, reads, writes uint64
}

func (dp *datapath) init(l *Listener) {
	dp.l = l
	dp.in = make([]transport.Datagram, readAhead)
	for i := range dp.in {
		dp.in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	dp.out = make([]transport.Datagram, outBatch)
	for i := range dp.out {
		dp.out[i].Data = make([]byte, 0, outSize)
	}
	dp.carry = make([]carried, maxCarried)
}

// peerSink is where a peer's SCTP association puts what it makes.
type peerSink struct {
	dp *datapath
	p  *peer
}

// to returns p's sink.
func (dp *datapath) to(p *peer) *peerSink {
	if p.sink.p == nil {
		p.sink = peerSink{dp, p}
	}
	return &p.sink
}

// Deliver hands a message of p's channel to the reader.
func (s *peerSink) Deliver(msg []byte) {
	dp, p := s.dp, s.p
	if p.released || len(msg) > transport.RecvSize {
		dp.drops++
		return
	}
	if !p.isOpen && !dp.l.markOpen(p) {
		return
	}
	if dp.ds != nil && dp.n < len(dp.ds) && dp.ncarry == 0 {
		d := &dp.ds[dp.n]
		d.Data = append(d.Data[:0], msg...)
		d.Addr, d.Local = p.addr, netip.Addr{}
		dp.n++
		return
	}
	if dp.ncarry == len(dp.carry) {
		dp.drops++
		return
	}
	c := &dp.carry[(dp.head+dp.ncarry)%len(dp.carry)]
	c.addr, c.data = p.addr, append(c.data[:0], msg...)
	dp.ncarry++
}

// Output sends an SCTP packet of p's association in a DTLS record.
func (s *peerSink) Output(pkt []byte) {
	dp, p := s.dp, s.p
	if p.rec == nil {
		return
	}
	d := dp.slot()
	var err error
	if d.Data, err = p.rec.Seal(d.Data[:0], pkt); err != nil {
		dp.drops++
		return
	}
	d.Addr, d.Local = p.addr, p.local
	dp.nout++
}

// slot returns the next datagram to send, flushing a full batch first.
func (dp *datapath) slot() *transport.Datagram {
	if dp.nout == len(dp.out) {
		dp.flush()
	}
	return &dp.out[dp.nout]
}

// raw queues b, already encoded, to addr from local.
func (dp *datapath) raw(b []byte, addr netip.AddrPort, local netip.Addr) {
	if len(b) > outSize {
		dp.drops++
		return
	}
	d := dp.slot()
	d.Data = append(d.Data[:0], b...)
	d.Addr, d.Local = addr, local
	dp.nout++
}

// alert tells p's browser that DTLS is closed (close_notify).
func (dp *datapath) alert(p *peer) {
	d := dp.slot()
	var err error
	if d.Data, err = p.rec.SealAlert(d.Data[:0], dtlsrec.AlertWarning, dtlsrec.AlertCloseNotify); err != nil {
		return
	}
	d.Addr, d.Local = p.addr, p.local
	dp.nout++
}

// flush sends what is queued. A datagram the system refuses is skipped.
func (dp *datapath) flush() {
	sent := 0
	dp.l.wmu.Lock()
	defer dp.l.wmu.Unlock()
	for sent < dp.nout {
		n, err := dp.l.sock.WriteBatch(dp.out[sent:dp.nout])
		sent += n
		if err != nil {
			if errors.Is(err, transport.ErrClosed) {
				break
			}
			sent++ // skip the one refused
			dp.drops++
		}
	}
	if dp.nout > 0 {
		dp.writes++
	}
	dp.nout = 0
}

// ReadBatch moves the datagrams of the peers' channels into ds (copying
// into their buffers), without waiting. On the way it answers the checks,
// feeds the handshakes and acknowledges what came.
func (l *Listener) ReadBatch(ds []transport.Datagram) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, transport.ErrClosed
	}
	dp := &l.dp
	dp.ds, dp.n, dp.now = ds, 0, time.Now()
	dp.batch++
	for dp.ncarry > 0 && dp.n < len(ds) {
		c := &dp.carry[dp.head]
		d := &ds[dp.n]
		d.Data = append(d.Data[:0], c.data...)
		d.Addr, d.Local = c.addr, netip.Addr{}
		dp.n++
		dp.head = (dp.head + 1) % len(dp.carry)
		dp.ncarry--
	}
	var err error
	for dp.n < len(ds) {
		want, k := min(len(dp.in), len(ds)-dp.n), 0
		k, err = l.sock.ReadBatch(dp.in[:want])
		dp.lookAhead(k)
		for i := range k {
			dp.receive(&dp.in[i], dp.ahead[i])
		}
		if k > 0 {
			dp.reads++
		}
		if err != nil || k < want {
			break // the socket is empty
		}
	}
	for _, p := range dp.touch {
		if !p.released && p.assoc != nil {
			p.assoc.Flush(dp.now, dp.to(p))
		}
	}
	clear(dp.touch)
	dp.touch = dp.touch[:0]
	dp.tick()
	dp.flush()
	n := dp.n
	dp.ds, dp.n = nil, 0
	if n > 0 {
		return n, nil
	}
	return 0, err
}

// tick runs the peers' SCTP timers every tickEvery.
func (dp *datapath) tick() {
	if dp.now.Before(dp.next) {
		return
	}
	dp.next = dp.now.Add(tickEvery)
	for p := range dp.l.all {
		if p.assoc == nil {
			continue
		}
		p.assoc.Tick(dp.now, dp.to(p))
		if p.assoc.Closed() {
			dp.l.release(p)
		}
	}
}

// lookAhead finds the peers of the first k datagrams read (into
// dp.ahead) and asks the CPU to load what handling them reads: each
// peer, then its record layer's opening cipher and its association. The
// loads of a batch's peers overlap instead of stalling each datagram in
// turn (the UDP path does the same for its sessions, server/prefetch.go).
func (dp *datapath) lookAhead(k int) {
	for i := range k {
		var p *peer
		if b := dp.in[i].Data; len(b) > 0 && b[0] >= 20 && b[0] <= 63 {
			p = dp.l.byAddr[dp.in[i].Addr]
			if p != nil {
				prefetch.Range(unsafe.Pointer(p), unsafe.Sizeof(*p))
			}
		}
		dp.ahead[i] = p
	}
	for _, p := range dp.ahead[:k] {
		if p != nil && p.rec != nil {
			p.rec.PrefetchOpen()
			p.assoc.Prefetch()
		}
	}
}

// receive handles a datagram that came to the socket; p is the peer of
// its address when it looks like DTLS (lookAhead), or nil.
func (dp *datapath) receive(d *transport.Datagram, p *peer) {
	b, from := d.Data, d.Addr
	if isSTUN(b) {
		dp.check(b, from, d.Local)
		return
	}
	if len(b) < 13 || b[0] < 20 || b[0] > 63 { // RFC 7983: DTLS
		dp.junk++
		return
	}
	if p == nil { // none found ahead, or a check earlier in the batch made it the peer's
		p = dp.l.byAddr[from]
	}
	if p == nil || p.released {
		dp.junk++
		return
	}
	switch p.state {
	case checked:
		if b[0] != 22 { // the handshake starts with the browser's hello
			dp.junk++
			return
		}
		dp.l.startHandshake(p, from, d.Local)
		fallthrough
	case handshaking:
		if from != p.addr {
			dp.junk++
			return
		}
		if !p.pipe.Push(b) { // it keeps what pion must not read (application data) for the handover
			dp.drops++
		}
	case connected:
		if from != p.addr {
			dp.junk++
			return
		}
		dp.records(p, b)
	default:
		dp.junk++
	}
}

// records handles the DTLS records of a datagram from p, whose handshake
// is done.
func (dp *datapath) records(p *peer, b []byte) {
	for len(b) > 0 && !p.released {
		typ, plain, rest, err := p.rec.Open(b)
		b = rest
		switch {
		case errors.Is(err, dtlsrec.ErrPlaintext) && (typ == dtlsrec.TypeHandshake || typ == dtlsrec.TypeChangeCipherSpec),
			err == nil && typ == dtlsrec.TypeHandshake:
			// The browser repeats its final flight: ours was lost. (A
			// record in the clear proves nothing: this only sends again
			// what the browser had, at most every flightEvery.)
			if dp.now.Sub(p.flightAt) >= flightEvery {
				p.flightAt = dp.now
				for _, f := range p.flight {
					dp.raw(f, p.addr, p.local)
				}
			}
		case err != nil:
			dp.junk++
		case typ == dtlsrec.TypeApplicationData: // an SCTP packet
			if err := p.assoc.Handle(plain, dp.now, dp.to(p)); err != nil {
				dp.junk++
			}
			if p.assoc.Closed() {
				dp.l.release(p)
				return
			}
			if p.touched != dp.batch {
				p.touched = dp.batch
				dp.touch = append(dp.touch, p)
			}
		case typ == dtlsrec.TypeAlert: // close_notify or a fatal alert ends the peer
			if len(plain) >= 2 && (plain[0] == dtlsrec.AlertFatal || plain[1] == dtlsrec.AlertCloseNotify) {
				dp.l.release(p)
				return
			}
		}
	}
}

// check answers a connectivity check from the address from to local.
func (dp *datapath) check(b []byte, from netip.AddrPort, local netip.Addr) {
	l := dp.l
	c, ok := parseCheck(b)
	if !ok {
		dp.junk++
		return
	}
	i := bytes.IndexByte(c.user, ':')
	if i < 0 {
		dp.junk++
		return
	}
	p := l.byUfrag[string(c.user[:i])]
	if p == nil || p.released || string(c.user[i+1:]) != p.remoteUfrag || !authentic(b, c, p.mac) {
		dp.junk++
		return
	}
	if !p.checks.take(dp.now) || (l.blocked != nil && l.blocked(from.Addr())) {
		dp.junk++ // refused, not lost for want of room
		return
	}
	switch q := l.byAddr[from]; {
	case q == p:
	case q != nil:
		dp.junk++ // another peer's address
		return
	case p.state > checked || p.ncand == maxCandidates:
		dp.junk++ // its handshake chose its address
		return
	default:
		p.cands[p.ncand] = from
		p.ncand++
		l.byAddr[from] = p
		if p.state == answered {
			p.state = checked
		}
	}
	d := dp.slot()
	d.Data = appendSuccess(d.Data[:0], c, from, p.mac)
	d.Addr, d.Local = from, local
	dp.nout++
}

// markOpen places p, whose channel just opened, among the open peers, or
// releases it (blocked, or the listener is closing).
func (l *Listener) markOpen(p *peer) bool {
	if l.closed || l.open[p.addr] != nil || (l.blocked != nil && l.blocked(p.addr.Addr())) {
		if l.blocked != nil && l.blocked(p.addr.Addr()) {
			l.stats.ClosedBlocked++
		}
		l.release(p)
		return false
	}
	p.isOpen, p.opened = true, l.dp.now
	p.flight = nil // the browser sent data, so it had our final flight
	l.open[p.addr] = p
	l.setupDone(p)
	l.log.Debug("browser peer open", "client", p.addr.String())
	return true
}

// WriteBatch sends each datagram to its peer's channel. A datagram to an
// address that is no open peer's is refused with an error, as the system
// refuses an unreachable one.
func (l *Listener) WriteBatch(ds []transport.Datagram) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, transport.ErrClosed
	}
	dp := &l.dp
	dp.now = time.Now()
	for start := 0; start < len(ds); start += len(dp.ahead) {
		run := ds[start:min(len(ds), start+len(dp.ahead))]
		// Find the peers and have their state loaded (see lookAhead),
		// then send.
		for i, d := range run {
			p := l.open[d.Addr]
			if p != nil {
				prefetch.Range(unsafe.Pointer(p), unsafe.Sizeof(*p))
			}
			dp.ahead[i] = p
		}
		for _, p := range dp.ahead[:len(run)] {
			if p != nil {
				p.rec.PrefetchSeal()
				p.assoc.Prefetch()
			}
		}
		for i, d := range run {
			p := dp.ahead[i]
			if p == nil {
				dp.flush()
				return start + i, errNoPeer
			}
			if err := p.assoc.Send(d.Data, dp.now, dp.to(p)); err != nil {
				dp.drops++
			}
		}
	}
	dp.tick()
	dp.flush()
	return len(ds), nil
}

var errNoPeer = errors.New("rtc: no browser peer at this address")

// Wait blocks until a datagram may be read, the deadline passes or the
// listener is closed.
func (l *Listener) Wait(deadline time.Time) error {
	if l.pending() {
		return nil
	}
	return l.sock.Wait(deadline)
}

// pending reports whether ReadBatch has something without reading the
// socket.
func (l *Listener) pending() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dp.ncarry > 0
}

// ready reports, without waiting, whether ReadBatch has something, or
// that the listener is closed.
func (l *Listener) ready() (bool, error) {
	l.mu.Lock()
	closed, pending := l.closed, l.dp.ncarry > 0
	l.mu.Unlock()
	if closed {
		return false, transport.ErrClosed
	}
	if pending {
		return true, nil
	}
	r, ok := l.sock.(interface{ Readable() bool })
	return ok && r.Readable(), nil
}

// Stats returns the listener's counters: datagrams dropped (a full batch,
// a peer over its share) count as kernel drops do.
func (l *Listener) Stats() transport.Stats {
	s := l.sock.Stats()
	l.mu.Lock()
	defer l.mu.Unlock()
	s.KernelDrops += l.dp.drops
	s.Reads, s.Writes = l.dp.reads, l.dp.writes
	return s
}

// handshakeDone takes over p from pion's handshake, which left the record
// layer, the final flight (to send again if the browser did not get it)
// and the records that came since; the caller holds the lock.
func (l *Listener) handshakeDone(p *peer, rec *dtlsrec.Conn, pipe *dtlsrec.Pipe) {
	dp := &l.dp
	p.rec, p.flight, p.pipe, p.state = rec, pipe.LastFlight(), nil, connected
	p.assoc = sctp.New(sctp.Config{Port: sctpPort, MTU: sctpMTU, MaxMessage: transport.RecvSize, Label: Label}, rand.Reader)
	dp.now = time.Now()
	for _, b := range pipe.Drain() {
		dp.records(p, b)
	}
	if !p.released {
		p.assoc.Flush(dp.now, dp.to(p))
	}
	dp.flush()
}
