// Package pair runs a client and a server connection state machine
// (internal/session) against each other over simulated links (carrier/netsim)
// with a fake clock. Tests use it to check the protocol under loss,
// duplication and reordering; `mpgameserver simulate` uses it to show what
// a link would do to a workload.
package pair

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// Start is the fake clock's origin.
var Start = time.Unix(1_700_000_000, 0)

// SeededRand returns a deterministic random source for keys, salts, tokens
// and padding.
func SeededRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	s[31] ^= 0x5a
	return rand.NewChaCha8(s)
}

// Pair is a client Conn and a server Conn joined by two simulated links.
// Everything is deterministic for a given seed.
type Pair struct {
	Now    time.Time
	Root   *conn.PrivateKey
	Client *session.Conn
	Server *session.Conn // nil until the first CLIENT_HELLO arrives
	C2S    *netsim.Link
	S2C    *netsim.Link

	// ClientConfig and ServerConfig are used when the ends are created;
	// change them before Dial.
	ClientConfig *session.Config
	ServerConfig *session.Config
	// OnServer, when set, is called when the server Conn is created.
	OnServer func(*session.Conn)
	// ClientErrs and ServerErrs collect the errors Receive returned.
	ClientErrs, ServerErrs []error
	// Loop makes each step drive the ends as the server's and the
	// client's loops do: an ack after each datagram that calls for one
	// (PollAck), then Poll until it has nothing more (at most 512
	// datagrams). Without it each end is polled once a step.
	Loop bool
	// Lazy polls the server only when its connection says it is due
	// (NextDue) or a datagram reached it, as the server's timer wheel
	// does.
	Lazy bool
	// ServerPolls counts the steps that polled the server.
	ServerPolls int

	buf []byte
}

// NewPair returns a pair whose links follow c2s and s2c. The client pins
// the server's freshly generated root key.
func NewPair(c2s, s2c netsim.Profile, seed uint64) (*Pair, error) {
	root, err := conn.GenerateKey(SeededRand(seed))
	if err != nil {
		return nil, err
	}
	return &Pair{
		Now:          Start,
		Root:         root,
		ClientConfig: &session.Config{ServerKey: root.Public(), Rand: SeededRand(seed + 1)},
		ServerConfig: &session.Config{RootKey: root, Rand: SeededRand(seed + 2)},
		C2S:          netsim.NewLink(c2s, seed+3),
		S2C:          netsim.NewLink(s2c, seed+4),
		buf:          make([]byte, 0, protocol.MaxDatagramSize),
	}, nil
}

// Dial creates the client end; its CLIENT_HELLO goes out on the next Step.
func (p *Pair) Dial() error {
	c, err := session.NewClient(p.ClientConfig, p.Now)
	if err != nil {
		return err
	}
	p.Client = c
	return nil
}

// Step advances the clock by dt, delivers the datagrams that are due and
// polls both ends once.
func (p *Pair) Step(dt time.Duration) {
	p.Now = p.Now.Add(dt)
	touched := false
	for d := p.C2S.Next(p.Now); d != nil; d = p.C2S.Next(p.Now) {
		touched = true
		if p.Server == nil {
			p.accept(d)
			continue
		}
		if err := p.Server.Receive(p.Now, d); err != nil {
			p.ServerErrs = append(p.ServerErrs, err)
		}
		if p.Loop {
			if a := p.Server.PollAck(p.Now, p.buf); a != nil {
				p.S2C.Send(p.Now, a)
			}
		}
	}
	for d := p.S2C.Next(p.Now); d != nil; d = p.S2C.Next(p.Now) {
		if err := p.Client.Receive(p.Now, d); err != nil {
			p.ClientErrs = append(p.ClientErrs, err)
		}
		if p.Loop {
			if a := p.Client.PollAck(p.Now, p.buf); a != nil {
				p.C2S.Send(p.Now, a)
			}
		}
	}
	p.poll(p.Client, p.C2S)
	if p.Server != nil && (!p.Lazy || touched || !p.Now.Before(p.Server.NextDue())) {
		p.ServerPolls++
		p.poll(p.Server, p.S2C)
	}
}

// poll sends what c has: one datagram, or as many as it gives with Loop.
func (p *Pair) poll(c *session.Conn, link *netsim.Link) {
	for i := 0; i < 512; i++ {
		d := c.Poll(p.Now, p.buf)
		if d == nil {
			return
		}
		link.Send(p.Now, d)
		if !p.Loop {
			return
		}
	}
}

func (p *Pair) accept(d []byte) {
	tok, err := session.NewToken(p.ServerConfig.Rand)
	if err == nil {
		p.Server, err = session.NewServer(p.ServerConfig, p.Now, tok, d)
	}
	if err != nil {
		p.ServerErrs = append(p.ServerErrs, err)
		return
	}
	if p.OnServer != nil {
		p.OnServer(p.Server)
	}
}

// RunUntil steps by dt until done returns true or limit of fake time
// passes, and reports whether done became true.
func (p *Pair) RunUntil(dt, limit time.Duration, done func() bool) bool {
	end := p.Now.Add(limit)
	for p.Now.Before(end) {
		if done() {
			return true
		}
		p.Step(dt)
	}
	return done()
}

// Run steps by dt for d of fake time.
func (p *Pair) Run(dt, d time.Duration) { p.RunUntil(dt, d, func() bool { return false }) }

// Connected reports whether both ends are connected.
func (p *Pair) Connected() bool {
	return p.Client != nil && p.Client.Status() == conn.Connected && p.Server != nil && p.Server.Status() == conn.Connected
}

// Connect dials and runs until both ends are connected, for at most limit
// of fake time.
func (p *Pair) Connect(limit time.Duration) error {
	if err := p.Dial(); err != nil {
		return err
	}
	if !p.RunUntil(time.Millisecond, limit, p.Connected) {
		return fmt.Errorf("sim: handshake did not complete in %v: client %s (%v)", limit, p.Client.Status(), p.Client.Err())
	}
	return nil
}
