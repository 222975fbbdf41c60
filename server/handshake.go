package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// The handshake path, built so that a flood of hellos costs the server as
// little as possible and cannot keep real clients out:
//
//  1. route checks a CLIENT_HELLO from an unknown address completely
//     (session.ParseHello: CRC, exact length, layout, version) before it
//     takes anything; that allocates nothing.
//  2. A hello marked by a client of ours (protocol.HelloExt) while the
//     server is under load must carry a valid cookie, which proves that
//     the client receives datagrams at its address; without one it gets a
//     cookie reply (a few dozen bytes, no state kept) and goes no further.
//     Hellos with a valid cookie wait in a queue of their own that is
//     served first, and may take the slot of the oldest unproven
//     handshake when the pool is full. Unmarked hellos (the Python
//     original's clients) are served as before while the pool has room.
//  3. After the tick's datagrams, the queued hellos are answered within
//     one time budget per tick: each costs a point check of its key and a
//     SERVER_HELLO taken from a template signed ahead of time on another
//     goroutine. The ECDH waits for the client's first encrypted datagram,
//     which a forged address never sends.

// Handshake limits.
const (
	// maxHelloQueue bounds each queue of hellos waiting for the budget.
	maxHelloQueue = 1024
	// helloQueueAge drops hellos that waited longer than this (the client
	// has sent another by then).
	helloQueueAge = time.Second
	// cookieLifetime is how long a cookie stays valid.
	cookieLifetime = 30 * time.Second
	// templatePool is how many signed templates are kept ready;
	// templateReserve of them only for clients that proved their address.
	templatePool    = 256
	templateReserve = 64
	// templateRate bounds the templates signed a second (each costs about
	// 60 µs: at most an eighth of a core, whatever a flood does).
	templateRate = 2000
	// maxCookiesPerTick bounds the cookie replies sent in one tick: a
	// flood of marked hellos from forged addresses costs the server and
	// the network at most this many small datagrams a tick.
	maxCookiesPerTick = 1024
	// maxUnprovenPerTick bounds the handshakes a tick starts, while the
	// server is under load, for clients that did not prove their address
	// (under a flood of hellos from forged addresses, most of them): the
	// flood churns through the pool at most this fast, so it costs a few
	// signatures a tick, not a core.
	maxUnprovenPerTick = 16
)

// tickCount counts something per tick without being reset by a sweep.
type tickCount struct {
	tick  uint64
	count int
}

func (c *tickCount) n(tick uint64) int {
	if c.tick != tick {
		return 0
	}
	return c.count
}

func (c *tickCount) add(tick uint64) {
	if c.tick != tick {
		c.tick, c.count = tick, 0
	}
	c.count++
}

// queuedHello is a CLIENT_HELLO waiting for the handshake budget.
type queuedHello struct {
	from  netip.AddrPort
	hello session.Hello // owns its key
	at    time.Time
	proof bool // carried a valid cookie
}

// helloQueue is a FIFO of hellos.
type helloQueue struct {
	items []queuedHello
	head  int
}

func (q *helloQueue) len() int { return len(q.items) - q.head }

func (q *helloQueue) push(h queuedHello) { q.items = append(q.items, h) }

func (q *helloQueue) pop() (queuedHello, bool) {
	if q.head == len(q.items) {
		return queuedHello{}, false
	}
	h := q.items[q.head]
	q.items[q.head] = queuedHello{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 256 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return h, true
}

func (q *helloQueue) reset() { clear(q.items); q.items, q.head = q.items[:0], 0 }

// cookieJar makes and checks the cookies of cookie replies: the time the
// cookie was made and a MAC over it and the client's address, under a
// secret drawn when the server starts. Only the event goroutine uses it.
type cookieJar struct {
	mac  hash.Hash
	sum  []byte
	addr [18]byte
}

func newCookieJar() (*cookieJar, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	return &cookieJar{mac: hmac.New(sha256.New, secret), sum: make([]byte, 0, sha256.Size)}, nil
}

func (j *cookieJar) tag(t uint32, from netip.AddrPort) []byte {
	a := from.Addr().As16()
	copy(j.addr[:], a[:])
	binary.BigEndian.PutUint16(j.addr[16:], from.Port())
	var tb [4]byte
	binary.BigEndian.PutUint32(tb[:], t)
	j.mac.Reset()
	j.mac.Write(tb[:])
	j.mac.Write(j.addr[:])
	j.sum = j.mac.Sum(j.sum[:0])
	return j.sum[:protocol.CookieSize-4]
}

// make returns a cookie for from at now.
func (j *cookieJar) make(now time.Time, from netip.AddrPort) [protocol.CookieSize]byte {
	var c [protocol.CookieSize]byte
	t := uint32(now.Unix())
	binary.BigEndian.PutUint32(c[:], t)
	copy(c[4:], j.tag(t, from))
	return c
}

// valid reports whether c is a cookie made for from less than
// cookieLifetime before now.
func (j *cookieJar) valid(c [protocol.CookieSize]byte, now time.Time, from netip.AddrPort) bool {
	t := binary.BigEndian.Uint32(c[:])
	age := now.Unix() - int64(t)
	if age < 0 || age > int64(cookieLifetime/time.Second) {
		return false
	}
	return hmac.Equal(c[4:], j.tag(t, from))
}

// templates signs hello templates on its own goroutine, keeping a pool of
// them ready, so that answering a hello costs the event goroutine no
// signature and no key generation.
type templates struct {
	root  *conn.PrivateKey
	ready chan *session.HelloTemplate
	stop  chan struct{}
	done  chan struct{}
}

func newTemplates(root *conn.PrivateKey) *templates {
	return &templates{root: root, ready: make(chan *session.HelloTemplate, templatePool),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// start runs the signing goroutine until close. It fills the pool at
// once, then signs at most templateRate templates a second.
func (t *templates) start(log *slog.Logger) {
	go func() {
		defer close(t.done)
		gap := time.Second / templateRate
		credit := templatePool // templates it may sign without waiting
		last := time.Now()
		pace := time.NewTimer(time.Hour)
		defer pace.Stop()
		for {
			now := time.Now()
			credit = min(templatePool, credit+int(now.Sub(last)/gap))
			last = last.Add(now.Sub(last) / gap * gap)
			if credit == 0 {
				pace.Reset(gap)
				select {
				case <-pace.C:
				case <-t.stop:
					return
				}
				continue
			}
			credit--
			tmpl, err := t.make()
			if err != nil {
				log.Error("making a hello template", "err", err)
				return
			}
			select {
			case t.ready <- tmpl:
			case <-t.stop:
				return
			}
		}
	}()
}

func (t *templates) close() {
	close(t.stop)
	<-t.done
}

func (t *templates) make() (*session.HelloTemplate, error) {
	token, err := session.NewToken(nil)
	if err != nil {
		return nil, err
	}
	return session.NewHelloTemplate(t.root, nil, token)
}

// take returns a ready template, or one made now when none is. While the
// server is under load (frugal), a client that did not prove its address
// gets one only from the pool, and none when only the reserve is left.
func (t *templates) take(frugal bool) (*session.HelloTemplate, error) {
	if frugal && len(t.ready) <= templateReserve {
		return nil, errNoTemplate
	}
	select {
	case tmpl := <-t.ready:
		return tmpl, nil
	default:
		if frugal {
			return nil, errNoTemplate
		}
		return t.make()
	}
}

// errNoTemplate: no template is ready for a client that did not prove
// its address.
var errNoTemplate = errors.New("server: no hello template ready")

// underLoad reports whether the handshake path is busy enough to ask the
// clients that can answer a cookie to prove their address first: the
// last tick's budget ran out, many hellos came in this tick, or many
// handshakes are half open. (A few clients connecting at once are not a
// load: they need no extra round trip.)
func (s *Server) underLoad() bool {
	return s.handshakeBacklog || s.queued.len() >= loadHellos || len(s.pending) >= max(1, s.cfg.MaxPendingHandshakes/8)
}

// loadHellos hellos waiting in one tick mean load.
const loadHellos = 64

// hello handles a CLIENT_HELLO from an address with no connection.
func (s *Server) hello(b []byte, from netip.AddrPort) {
	h, err := session.ParseHello(b)
	if err != nil {
		s.stats.HandshakeInvalid++
		s.dropLog("bad client hello", from, err)
		return
	}
	proof := h.Marked && h.Ext.HasCookie() && s.cookies.valid(h.Ext.Cookie, s.now, from)
	// A host that holds its share of handshakes (perhaps forged in its
	// name) is asked to prove its address, as under load: a proven hello
	// is refused only when the host holds its share of sessions.
	hostBusy := s.hosts.refuseHello(from, proof)
	if hostBusy && (proof || !h.Marked || !h.Ext.Cookies || s.hosts.full(from)) {
		s.stats.HostLimited++
		s.dropLog("the client's host holds its share of sessions", from, nil)
		return
	}
	if !proof && h.Marked && h.Ext.Cookies && (hostBusy || s.underLoad()) {
		if s.cookiesThisTick.n(s.tickNo) < maxCookiesPerTick {
			s.cookiesThisTick.add(s.tickNo)
			s.sendCookie(from, h.Seq())
		} else {
			s.stats.HandshakeRejected++
		}
		return
	}
	q := &s.queued
	if proof {
		q = &s.proven
	}
	if !proof && len(s.pending)+s.queued.len()+s.proven.len() >= s.cfg.MaxPendingHandshakes {
		s.stats.HandshakeRejected++
		s.dropLog("handshake pool full", from, nil)
		return
	}
	if q.len() >= maxHelloQueue {
		s.stats.HandshakeRejected++
		s.dropLog("handshake queue full", from, nil)
		return
	}
	q.push(queuedHello{from: from, hello: h.Clone(), at: s.now, proof: proof})
}

// sendCookie answers a marked hello with a cookie reply: a small CRC
// datagram, no state kept.
func (s *Server) sendCookie(to netip.AddrPort, helloSeq protocol.Seq) {
	body := protocol.AppendCookieReply(s.cookieBody[:0], s.cookies.make(s.now, to))
	s.cookieBody = body
	msg := [1]protocol.Message{{Seq: 1, Type: protocol.TypeServerHello, Body: body}}
	b := s.tx.Buffer()[:protocol.HeaderSize]
	b, err := protocol.AppendPayload(b, msg[:])
	if err != nil {
		return
	}
	h := protocol.Header{Direction: protocol.ToClient, CTime: uint32(s.now.Unix()), Seq: 1, Ack: helloSeq,
		Type: protocol.TypeServerHello, Count: 1, Length: uint16(len(b) - protocol.HeaderSize)}
	h.Put(b)
	b = crypto.AppendCRC(b)
	s.stats.CookiesSent++
	s.prof.sent(len(b))
	s.tx.Queue(b, to)
}

// handshakes answers queued hellos, proven ones first, until the tick's
// handshake budget is spent; the rest wait for the next tick.
func (s *Server) handshakes() {
	s.handshakeBacklog = false
	if s.proven.len()+s.queued.len() == 0 {
		return
	}
	start := time.Now()
	for _, q := range []*helloQueue{&s.proven, &s.queued} {
		for q.len() > 0 {
			if time.Since(start) >= s.cfg.HandshakeBudget {
				s.handshakeBacklog = true
				return
			}
			h, _ := q.pop()
			if s.now.Sub(h.at) > helloQueueAge {
				s.stats.HandshakeRejected++
				continue
			}
			s.handshake(&h)
		}
	}
}

// handshake answers one hello.
func (s *Server) handshake(q *queuedHello) {
	if c := s.byAddr.get(q.from); c != nil {
		return // a handshake for this address started meanwhile
	}
	if s.hosts.refuseHello(q.from, q.proof) {
		s.stats.HostLimited++
		s.dropLog("the client's host holds its share of sessions", q.from, nil)
		return
	}
	if err := q.hello.CheckKey(); err != nil {
		s.stats.HandshakeInvalid++
		s.dropLog("client hello with a bad key", q.from, err)
		return
	}
	if len(s.pending) >= s.cfg.MaxPendingHandshakes {
		if !q.proof || !s.evictUnproven() {
			s.stats.HandshakeRejected++
			s.dropLog("handshake pool full", q.from, nil)
			return
		}
	}
	frugal := !q.proof && s.underLoad()
	if frugal {
		if s.unprovenThisTick.n(s.tickNo) >= maxUnprovenPerTick {
			s.stats.HandshakeRejected++
			return
		}
		s.unprovenThisTick.add(s.tickNo)
	}
	tmpl, err := s.tmpl.take(frugal)
	for err == nil && s.byToken[tmpl.Token()] != nil {
		tmpl, err = s.tmpl.take(frugal) // a token in use: draw another
	}
	if err != nil {
		s.stats.HandshakeRejected++
		if err != errNoTemplate {
			s.log.Error("hello template", "err", err)
		}
		return
	}
	c := &Peer{srv: s, addr: q.from, carrier: s.carrierOf(q.from), pending: true, proven: q.proof}
	_, separate := s.access() // then addresses go to the access log only
	c.log = slog.New(newClientHandler(s.log.Handler(), c, tmpl.Token(), !separate))
	cc, err := session.NewServerConn(s.connCfg, s.now, tmpl, &q.hello)
	if err != nil {
		s.stats.HandshakeRejected++
		s.dropLog("client hello", q.from, err)
		return
	}
	cc.SetLogger(c.log)
	cc.SetHandler(c.deliver)
	c.conn = cc
	s.assignPathID(c)
	c.index = len(s.pending)
	s.pending = append(s.pending, c)
	if !c.proven {
		s.unproven = append(s.unproven, c)
		if len(s.unproven) > 2*s.cfg.MaxPendingHandshakes {
			s.unproven = slices.DeleteFunc(s.unproven, func(p *Peer) bool { return !p.pending || s.byAddr.get(p.addr) != p })
		}
	}
	s.byAddr.set(c.addr, c)
	s.byToken[tmpl.Token()] = c
	s.hosts.add(c.addr, true, 1)
}

// evictUnproven drops the oldest handshake whose client never proved its
// address, to make room for one that did. It reports whether it found
// one.
func (s *Server) evictUnproven() bool {
	for len(s.unproven) > 0 {
		c := s.unproven[0]
		s.unproven[0] = nil
		s.unproven = s.unproven[1:]
		if c.pending && !c.gone && s.byAddr.get(c.addr) == c {
			s.stats.HandshakesEvicted++
			s.forget(c, &s.pending)
			return true
		}
	}
	return false
}
