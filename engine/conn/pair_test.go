package conn_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/conn"
	"github.com/mpgs/mpgameserver/engine/crypto"
	"github.com/mpgs/mpgameserver/engine/netsim"
	"github.com/mpgs/mpgameserver/engine/protocol"
)

// pair is a client Conn and a server Conn joined by two simulated links and
// driven by a fake clock.
type pair struct {
	t        testing.TB
	now      time.Time
	root     *crypto.PrivateKey
	ccfg     *conn.Config
	scfg     *conn.Config
	client   *conn.Conn
	server   *conn.Conn
	c2s      *netsim.Link
	s2c      *netsim.Link
	buf      []byte
	onServer func(s *conn.Conn) // called when the server Conn is created
	// errors returned by Receive, by side
	clientErrs, serverErrs []error
}

// start is the fake clock's origin.
var start = time.Unix(1_700_000_000, 0)

func seededRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	return rand.NewChaCha8(s)
}

func newPair(t testing.TB, c2s, s2c netsim.Profile, seed uint64) *pair {
	root, err := crypto.GenerateKey(seededRand(seed))
	require.NoError(t, err)
	p := &pair{
		t:    t,
		now:  start,
		root: root,
		ccfg: &conn.Config{ServerKey: root.Public(), Rand: seededRand(seed + 1)},
		scfg: &conn.Config{RootKey: root, Rand: seededRand(seed + 2)},
		c2s:  netsim.NewLink(c2s, seed+3),
		s2c:  netsim.NewLink(s2c, seed+4),
		buf:  make([]byte, 0, protocol.MaxDatagramSize),
	}
	return p
}

// dial creates the client.
func (p *pair) dial() {
	var err error
	p.client, err = conn.NewClient(p.ccfg, p.now)
	require.NoError(p.t, err)
}

// step advances the clock by dt, delivers due datagrams and polls both ends.
func (p *pair) step(dt time.Duration) {
	p.now = p.now.Add(dt)
	for d := p.c2s.Next(p.now); d != nil; d = p.c2s.Next(p.now) {
		if p.server == nil {
			tok, err := conn.NewToken(p.scfg.Rand)
			require.NoError(p.t, err)
			s, err := conn.NewServer(p.scfg, p.now, tok, d)
			if err != nil {
				p.serverErrs = append(p.serverErrs, err)
				continue
			}
			p.server = s
			if p.onServer != nil {
				p.onServer(s)
			}
			continue
		}
		if err := p.server.Receive(p.now, d); err != nil {
			p.serverErrs = append(p.serverErrs, err)
		}
	}
	for d := p.s2c.Next(p.now); d != nil; d = p.s2c.Next(p.now) {
		if err := p.client.Receive(p.now, d); err != nil {
			p.clientErrs = append(p.clientErrs, err)
		}
	}
	if dg := p.client.Poll(p.now, p.buf); dg != nil {
		p.c2s.Send(p.now, dg)
	}
	if p.server != nil {
		if dg := p.server.Poll(p.now, p.buf); dg != nil {
			p.s2c.Send(p.now, dg)
		}
	}
}

// runUntil steps by dt until done returns true or limit of simulated time
// passes; it reports whether done became true.
func (p *pair) runUntil(dt, limit time.Duration, done func() bool) bool {
	end := p.now.Add(limit)
	for p.now.Before(end) {
		if done() {
			return true
		}
		p.step(dt)
	}
	return done()
}

// connect dials and runs until both ends are connected.
func (p *pair) connect() {
	p.dial()
	ok := p.runUntil(time.Millisecond, 10*time.Second, func() bool {
		return p.client.Status() == conn.Connected && p.server != nil && p.server.Status() == conn.Connected
	})
	require.True(p.t, ok, "handshake did not complete: client %s (%v)", p.client.Status(), p.client.Err())
}
