package server_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// relay stands between a client and a server on the loopback, as a NAT
// does: the client sends to its front socket, and it forwards to the
// server from a back socket of its own. Rebind replaces the back socket
// (a new source port, as a NAT's new mapping after a quiet spell, or a
// phone's new network): what the server sends to the old one is lost.
// Loss drops that share of datagrams each way.
type relay struct {
	front  *net.UDPConn
	server *net.UDPAddr

	mu     sync.Mutex
	back   *net.UDPConn
	client *net.UDPAddr
	loss   float64
	rng    *rand.Rand
	// tap, when set, sees each datagram from the client before it is
	// forwarded, and may keep it from the server (false).
	tap  func(b []byte) bool
	done chan struct{}
}

func newRelay(t *testing.T, server netip.AddrPort) *relay {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	r := &relay{front: front, server: net.UDPAddrFromAddrPort(server), rng: rand.New(rand.NewPCG(1, 2)), done: make(chan struct{})}
	r.Rebind(t)
	go r.forward()
	t.Cleanup(func() {
		close(r.done)
		front.Close()
		r.mu.Lock()
		r.back.Close()
		r.mu.Unlock()
	})
	return r
}

// Addr is where the client sends.
func (r *relay) Addr() string { return r.front.LocalAddr().String() }

// Back is the address the server sees.
func (r *relay) Back() netip.AddrPort {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.back.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (r *relay) SetLoss(p float64) {
	r.mu.Lock()
	r.loss = p
	r.mu.Unlock()
}

func (r *relay) lost() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loss > 0 && r.rng.Float64() < r.loss
}

// Rebind moves the relay's upstream to a new socket.
func (r *relay) Rebind(t *testing.T) {
	back, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	r.mu.Lock()
	old := r.back
	r.back = back
	r.mu.Unlock()
	if old != nil {
		old.Close()
	}
	go r.backward(back)
}

// forward: client to server, through the current back socket.
func (r *relay) forward() {
	buf := make([]byte, 2048)
	for {
		n, from, err := r.front.ReadFromUDP(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.client = from
		back := r.back
		tap := r.tap
		r.mu.Unlock()
		if tap != nil && !tap(buf[:n]) {
			continue
		}
		if !r.lost() {
			back.WriteToUDP(buf[:n], r.server)
		}
	}
}

// backward: server to client, from one back socket until it closes.
// What it reads once another socket replaced it is dropped, as a NAT
// drops what comes to a mapping it forgot.
func (r *relay) backward(back *net.UDPConn) {
	buf := make([]byte, 2048)
	for {
		n, err := back.Read(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		to := r.client
		pass := to != nil && back == r.back && !(r.loss > 0 && r.rng.Float64() < r.loss)
		r.mu.Unlock()
		if pass {
			r.front.WriteToUDP(buf[:n], to)
		}
	}
}

// ledger is a handler that counts each numbered message from its client
// and sends it numbered guaranteed messages, and keeps its migrations.
type ledger struct {
	server.BaseHandler
	mu       sync.Mutex
	got      map[int]int // client's message number: times received
	peer     *server.Peer
	sent     int
	send     bool
	moves    []string // "from -> to"
	connects int
	leaves   int
}

func newLedger() *ledger { return &ledger{got: map[int]int{}} }

func (l *ledger) Connect(p *server.Peer) {
	l.mu.Lock()
	l.peer, l.connects = p, l.connects+1
	l.mu.Unlock()
}

func (l *ledger) Disconnect(*server.Peer) {
	l.mu.Lock()
	l.leaves++
	l.mu.Unlock()
}

func (l *ledger) HandleMessage(_ *server.Peer, _ conn.Seq, msg []byte) {
	n, err := strconv.Atoi(string(msg))
	l.mu.Lock()
	if err == nil && n >= 0 {
		l.got[n]++
	}
	l.mu.Unlock()
}

func (l *ledger) Migrated(p *server.Peer, from netip.AddrPort) {
	l.mu.Lock()
	l.moves = append(l.moves, fmt.Sprintf("%v -> %v", from, p.Addr()))
	l.mu.Unlock()
}

// Update sends the client a numbered guaranteed message a tick while
// sending is on.
func (l *ledger) Update(time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peer != nil && l.send {
		if l.peer.SendGuaranteed([]byte(strconv.Itoa(l.sent)), nil) == nil {
			l.sent++
		}
	}
}

func (l *ledger) snapshot() (got map[int]int, sent int, moves []string, connects, leaves int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	got = map[int]int{}
	for k, v := range l.got {
		got[k] = v
	}
	return got, l.sent, append([]string(nil), l.moves...), l.connects, l.leaves
}

func (l *ledger) setSend(on bool) {
	l.mu.Lock()
	l.send = on
	l.mu.Unlock()
}

// player is a client that numbers a guaranteed message every frame and
// counts the numbered messages it receives.
type player struct {
	c    *client.Client
	sent int
	recv map[int]int
}

func newPlayer(c *client.Client) *player { return &player{c: c, recv: map[int]int{}} }

// frame runs one frame of the client.
func (p *player) frame(send bool) {
	p.c.Update()
	for _, m := range p.c.Messages() {
		if n, err := strconv.Atoi(string(m.Data)); err == nil {
			p.recv[n]++
		}
	}
	if send && p.c.SendGuaranteed([]byte(strconv.Itoa(p.sent)), nil) == nil {
		p.sent++
	}
}

// play runs frames while more (called with the frame's number) says so.
func (p *player) play(more func(frame int) bool) {
	for frame := 0; more(frame); frame++ {
		p.frame(true)
		time.Sleep(5 * time.Millisecond)
	}
}

// settle runs p until the server and the client each got every message
// the other sent (or a bound for a broken test), then checks that each
// arrived exactly once.
func (p *player) settle(t *testing.T, l *ledger) {
	t.Helper()
	l.setSend(false)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p.frame(false)
		got, srvSent, _, _, _ := l.snapshot()
		if len(got) == p.sent && len(p.recv) == srvSent {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, srvSent, _, _, _ := l.snapshot()
	exactlyOnce(t, "client to server", got, p.sent)
	exactlyOnce(t, "server to client", p.recv, srvSent)
}

// exactlyOnce asserts that counts holds 0..n-1, each once.
func exactlyOnce(t *testing.T, what string, counts map[int]int, n int) {
	t.Helper()
	missing, twice := 0, 0
	for i := range n {
		switch counts[i] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	assert.Zero(t, missing, "%s: messages lost (of %d)", what, n)
	assert.Zero(t, twice, "%s: messages delivered twice (of %d)", what, n)
	assert.Len(t, counts, n, "%s: nothing else", what)
}

func migrationServer(t *testing.T, h server.EventHandler) (*server.Server, *syncbuf.Buffer) {
	t.Helper()
	return startOnSocket(t, h, "127.0.0.1:0")
}

func dialThrough(t *testing.T, r *relay) *client.Client {
	t.Helper()
	c := client.New(client.Config{ServerKey: vectorsKey(t).Public(), Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(c.ForceDisconnect)
	var ok *bool
	require.NoError(t, c.Connect(r.Addr(), func(b bool) { ok = &b }))
	pump(c, 10*time.Second, func() bool { return ok != nil })
	require.True(t, ok != nil && *ok, "connect: %v", c.Err())
	return c
}

// TestSessionMovesWithItsClient: the client's source port changes three
// times mid-game (its relay rebinds): the session follows it, with its
// token, and no guaranteed message either way is lost or delivered twice;
// the game is told once a move, from the old address to the new.
func TestSessionMovesWithItsClient(t *testing.T) {
	l := newLedger()
	srv, _ := migrationServer(t, l)
	r := newRelay(t, srv.Addr())
	c := dialThrough(t, r)
	token := c.Token()
	l.setSend(true)
	var backs []netip.AddrPort
	backs = append(backs, r.Back())
	p := newPlayer(c)
	p.play(func(frame int) bool {
		if frame > 0 && frame%60 == 0 && len(backs) < 4 {
			r.Rebind(t)
			backs = append(backs, r.Back())
		}
		return frame < 300
	})
	p.settle(t, l)
	_, _, moves, connects, leaves := l.snapshot()
	assert.Equal(t, token, c.Token(), "the same session")
	assert.Equal(t, conn.Connected, c.Status())
	assert.Equal(t, 1, connects)
	assert.Zero(t, leaves)
	var want []string
	for i := 1; i < len(backs); i++ {
		want = append(want, fmt.Sprintf("%v -> %v", backs[i-1], backs[i]))
	}
	assert.Equal(t, want, moves, "the game told once a move")
	assert.Equal(t, uint64(len(want)), published(t, srv, func(s *server.Snapshot) bool {
		return s.Stats.Migrations == uint64(len(want))
	}).Stats.Migrations)
}

// published returns the server's next published snapshot for which ok
// holds, or the last one after a bound for a broken test.
func published(t *testing.T, srv *server.Server, ok func(*server.Snapshot) bool) *server.Snapshot {
	t.Helper()
	var s server.Snapshot
	deadline := time.Now().Add(10 * time.Second)
	for srv.Snapshot(&s); !ok(&s) && time.Now().Before(deadline); srv.Snapshot(&s) {
		time.Sleep(20 * time.Millisecond)
	}
	return &s
}

// setTap sets the relay's tap.
func (r *relay) setTap(tap func(b []byte) bool) {
	r.mu.Lock()
	r.tap = tap
	r.mu.Unlock()
}

// attacker is a socket of its own that counts what the server sends it.
type attacker struct {
	sock     *net.UDPConn
	mu       sync.Mutex
	got      int // bytes received from the server under test
	sentByte int
}

// newAttacker returns an attacker on a socket of its own that counts what
// srv sends it. Datagrams from anywhere else are not counted: the kernel
// may hand the attacker a port that a closed client of another test's
// server had, which that server still writes to for a while.
func newAttacker(t *testing.T, srv netip.AddrPort) *attacker {
	t.Helper()
	s, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	a := &attacker{sock: s}
	t.Cleanup(func() { s.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := s.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) != srv {
				continue
			}
			a.mu.Lock()
			a.got += n
			a.mu.Unlock()
		}
	}()
	return a
}

func (a *attacker) send(t *testing.T, to netip.AddrPort, b []byte) {
	_, err := a.sock.WriteToUDPAddrPort(b, to)
	require.NoError(t, err)
	a.mu.Lock()
	a.sentByte += len(b)
	a.mu.Unlock()
}

func (a *attacker) received() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.got
}

// capture returns the next datagram the client sends that carries a path
// ID (a trailer), letting it through to the server unless withhold.
func capture(t *testing.T, c *client.Client, r *relay, withhold bool) []byte {
	t.Helper()
	ch := make(chan []byte, 1)
	r.setTap(func(b []byte) bool {
		h, err := protocol.ParseHeader(b)
		if _, ok := protocol.Trailer(b, &h); err != nil || !ok || h.Count == 0 {
			return true // wait for one with a message and a path ID
		}
		select {
		case ch <- append([]byte(nil), b...):
			return !withhold
		default:
			return true
		}
	})
	defer r.setTap(nil)
	var got []byte
	pump(c, 10*time.Second, func() bool {
		select {
		case got = <-ch:
			return true
		default:
			c.SendGuaranteed([]byte("-1"), nil)
			return false
		}
	})
	require.NotNil(t, got, "captured a datagram")
	return got
}

// TestForgedMigrationIsRefused: datagrams naming a session from another
// address are refused when forged or copies of what the server had, and
// get no answer; a copy of one the server had not seen yet (an attacker on
// the path that raced the client) is accepted, but its address, which
// cannot answer the challenge, gets at most three times what it sent and
// never the session. The real client goes on unaffected.
func TestForgedMigrationIsRefused(t *testing.T) {
	l := newLedger()
	srv, _ := migrationServer(t, l)
	r := newRelay(t, srv.Addr())
	c := dialThrough(t, r)
	l.setSend(true)
	p := newPlayer(c)
	p.play(func(frame int) bool { return frame < 30 })

	seen := capture(t, c, r, false)
	a := newAttacker(t, srv.Addr())
	forged := append([]byte(nil), seen...)
	forged[30] ^= 0xff // inside the ciphertext
	a.send(t, srv.Addr(), forged)
	a.send(t, srv.Addr(), seen) // the server had it
	p.play(func(frame int) bool { return frame < 40 })

	fresh := capture(t, c, r, true) // the server never got it from the client
	a2 := newAttacker(t, srv.Addr())
	for range 20 {
		a2.send(t, srv.Addr(), fresh)
	}
	p.play(func(frame int) bool { return frame < 60 })
	p.settle(t, l)
	_, _, moves, _, leaves := l.snapshot()
	assert.Empty(t, moves, "the session never moved")
	assert.Zero(t, leaves)
	assert.Zero(t, a.received(), "forgeries and copies get no answer")
	assert.Positive(t, a2.received(), "the fresh copy's address is challenged")
	assert.LessOrEqual(t, a2.received(), 3*len(fresh), "an unproven address gets at most 3x what it sent once")
	snap := published(t, srv, func(s *server.Snapshot) bool { return s.Stats.MigrationsRefused >= 21 })
	assert.Zero(t, snap.Stats.Migrations)
	assert.GreaterOrEqual(t, snap.Stats.MigrationsRefused, uint64(2+19), "the forgery, the copy, and the fresh one's copies")
	t.Logf("attacker 2 sent %d bytes, got %d; refused %d", a2.sentByte, a2.received(), snap.Stats.MigrationsRefused)
}

// TestMigrationStorm: a datagram of the session, sent from 200 addresses,
// costs a bounded amount: one address is challenged (at most 3x one
// datagram), the copies are refused before any decryption, and the real
// client sees nothing of it.
func TestMigrationStorm(t *testing.T) {
	l := newLedger()
	srv, _ := migrationServer(t, l)
	r := newRelay(t, srv.Addr())
	c := dialThrough(t, r)
	l.setSend(true)
	p := newPlayer(c)
	p.play(func(frame int) bool { return frame < 30 })
	fresh := capture(t, c, r, true)
	var storm []*attacker
	for range 200 {
		storm = append(storm, newAttacker(t, srv.Addr()))
	}
	for round := range 3 {
		for _, a := range storm {
			a.send(t, srv.Addr(), fresh)
		}
		p.play(func(frame int) bool { return frame < 10+round })
	}
	p.settle(t, l)
	_, _, moves, _, leaves := l.snapshot()
	assert.Empty(t, moves)
	assert.Zero(t, leaves)
	total := 0
	for _, a := range storm {
		total += a.received()
	}
	assert.LessOrEqual(t, total, 3*len(fresh), "one address challenged, within 3x")
	snap := published(t, srv, func(s *server.Snapshot) bool {
		return len(s.Peers) == 1 && s.Peers[0].Stats.Drops.Duplicate >= 500
	})
	require.Len(t, snap.Peers, 1)
	assert.GreaterOrEqual(t, snap.Peers[0].Stats.Drops.Duplicate, uint64(500), "copies refused before decryption")
	assert.Zero(t, snap.Peers[0].Stats.Drops.Auth, "no decryption failed: none was tried")
	t.Logf("storm of %d datagrams: %d bytes answered, %d refused", 600, total, snap.Stats.MigrationsRefused)
}

// TestMigrationEvery200msUnderLoss: the client's address changes every
// 200 ms for 10 s while 5% of datagrams are lost each way: the session
// holds, and no guaranteed message is lost or delivered twice.
func TestMigrationEvery200msUnderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of play")
	}
	l := newLedger()
	srv, _ := migrationServer(t, l)
	r := newRelay(t, srv.Addr())
	c := dialThrough(t, r)
	token := c.Token()
	l.setSend(true)
	r.SetLoss(0.05)
	start := time.Now()
	last := start
	rebinds := 0
	p := newPlayer(c)
	p.play(func(int) bool {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond {
			r.Rebind(t)
			rebinds++
			last = now
		}
		return time.Since(start) < 10*time.Second
	})
	r.SetLoss(0)
	p.settle(t, l)
	_, srvSent, moves, connects, leaves := l.snapshot()
	assert.Equal(t, token, c.Token())
	assert.Equal(t, conn.Connected, c.Status(), "%v", c.Err())
	assert.Equal(t, 1, connects)
	assert.Zero(t, leaves)
	assert.NotEmpty(t, moves)
	t.Logf("%d rebinds, %d moves, %d messages up, %d down", rebinds, len(moves), p.sent, srvSent)
}
