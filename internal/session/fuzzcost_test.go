package session

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/allocs"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/ordered"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// The fuzz targets of this package bound what each datagram costs, not
// only what it does. The helpers here measure allocations the way
// testing.AllocsPerRun(1, fn) does (GOMAXPROCS 1, runtime.MemStats before
// and after) and report the bytes too. A measurement stops the world
// twice (tens of microseconds), so a target measures a few calls per
// input.

// fuzzConfigs are the settings of the connection under test in
// fuzzReceive, chosen by the high bits of the mode byte: the defaults;
// small reassembly limits, which one datagram can reach; and a shared
// Budget, which one datagram can spend.
var fuzzConfigs = []func(*Config){
	func(*Config) {},
	func(c *Config) {
		c.MaxReassemblyBytes = 4096
		c.MaxPartialMessages = 2
		c.MaxMessageSize = 3000
	},
	func(c *Config) {
		c.Budget = NewBudget(12 << 10)
		c.MaxReassemblyBytes = 16 << 10
	},
}

// fuzzConn is a connected Conn of one role (and its peer), set up with
// the vector keys and one of fuzzConfigs.
type fuzzConn struct {
	c, peer *Conn
	variant int
	budget  *Budget
}

// newFuzzConn connects a client and a server like handshakeWith, with
// fuzzConfigs[variant] applied to the end of the given role.
func newFuzzConn(t testing.TB, r *replay, now time.Time, role Role, variant int) *fuzzConn {
	ccfg, scfg := r.clientConfig(), r.serverConfig()
	cfg := scfg
	if role == RoleClient {
		cfg = ccfg
	}
	fuzzConfigs[variant](cfg)
	client, err := NewClient(ccfg, now)
	require.NoError(t, err)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	server, err := NewServer(scfg, now, uint32(r.hs.Token), client.Poll(now, buf))
	require.NoError(t, err)
	require.NoError(t, client.Receive(now, server.Poll(now, buf)))
	require.NoError(t, server.Receive(now, client.Poll(now.Add(20*time.Millisecond), buf)))
	require.Equal(t, conn.Connected, client.Status())
	require.Equal(t, conn.Connected, server.Status())
	p := &fuzzConn{c: server, peer: client, variant: variant, budget: cfg.Budget}
	if role == RoleClient {
		p.c, p.peer = client, server
	}
	return p
}

// sealInput makes the datagram of a sealed fuzzReceive input: the header
// fields of in[:20] (but the direction, which is the one c accepts, and
// the length, which is the payload's) and the payload in[20:], sealed
// with c's session key as a peer holding it would. Shorter inputs are
// taken as they are.
func sealInput(c *Conn, in []byte) []byte {
	if len(in) < protocol.HeaderSize || c.aead == nil {
		return in
	}
	h := protocol.Header{
		Direction: c.in,
		CTime:     binary.BigEndian.Uint32(in[4:]),
		Seq:       protocol.Seq(binary.BigEndian.Uint16(in[8:])),
		Ack:       protocol.Seq(binary.BigEndian.Uint16(in[10:])),
		Type:      protocol.PacketType(in[12]),
		Count:     in[15],
		AckBits:   binary.BigEndian.Uint32(in[16:]),
	}
	payload := in[protocol.HeaderSize:]
	h.Length = uint16(len(payload))
	b := h.AppendTo(make([]byte, 0, protocol.HeaderSize+len(payload)+protocol.TagSize))
	return c.aead.Seal(b, b, payload)
}

// checkHeld checks the memory c holds for its peer: the send side plus
// the reassembly, each within its limits, all of it lent by the Budget
// when there is one.
func checkHeld(t *testing.T, c *Conn, b *Budget, when string) {
	t.Helper()
	ord := 0
	if c.rx.ord != nil {
		ord = c.rx.ord.held
		if ord != c.rx.ord.r.Held() {
			t.Fatalf("%s: ordered chunks charged %d, held %d", when, ord, c.rx.ord.r.Held())
		}
	}
	if c.mem.held != c.mem.sendHeld+c.rx.reasm.Held()+ord {
		t.Fatalf("%s: held %d, but messages alive %d + reassembly %d + ordered %d", when, c.mem.held, c.mem.sendHeld, c.rx.reasm.Held(), ord)
	}
	// The ordered receiver holds at most a message being joined and a
	// window of chunks, each at most a packet.
	if limit := c.cfg.MaxMessageSize + orderedWindow*(protocol.MaxSingleMessage+ordered.ChunkOverhead); ord > limit {
		t.Fatalf("%s: ordered chunks hold %d bytes (limit %d)", when, ord, limit)
	}
	if c.rx.reasm.Held() > c.cfg.MaxReassemblyBytes || c.rx.reasm.Pending() > c.cfg.MaxPartialMessages {
		t.Fatalf("%s: reassembly holds %d bytes (limit %d) in %d partial messages (limit %d)",
			when, c.rx.reasm.Held(), c.cfg.MaxReassemblyBytes, c.rx.reasm.Pending(), c.cfg.MaxPartialMessages)
	}
	if c.Held() > c.cfg.MaxQueuedBytes+c.cfg.MaxReassemblyBytes+ord {
		t.Fatalf("%s: holds %d bytes", when, c.Held())
	}
	if b != nil && b.Used() != c.Held() {
		t.Fatalf("%s: holds %d bytes, the budget lent %d", when, c.Held(), b.Used())
	}
}

// dropClass returns the counter of Drops that went up from before to
// after, by name.
func dropClass(before, after conn.Drops) string {
	switch {
	case after.Header > before.Header:
		return "header"
	case after.Auth > before.Auth:
		return "auth"
	case after.Payload > before.Payload:
		return "payload"
	case after.Duplicate > before.Duplicate:
		return "duplicate"
	case after.Stale > before.Stale:
		return "stale"
	case after.Handshake > before.Handshake:
		return "handshake"
	case after.NoSession > before.NoSession:
		return "no session"
	case after.Closed > before.Closed:
		return "closed"
	}
	return "none"
}

// helloFlags are the bits of the flags byte of FuzzParseHello.
const (
	helloExt      = 1 << iota // write a hello extension at the start of the padding
	helloCookie               // the extension carries a cookie
	helloResize               // cut the datagram short (even seq) or add bytes (odd seq)
	helloToClient             // the wrong direction
	helloType                 // the header type is seq%8
	helloCount                // the header count is 2
	helloLength               // the header length is off by int8(seq>>8)
	helloBadCRC               // the CRC does not match
)

// helloInput builds the datagram of a FuzzParseHello input: a
// CLIENT_HELLO whose body starts with head and is filled up to its size
// with a pattern, altered as flags say.
func helloInput(flags uint8, seq uint16, head []byte) []byte {
	body := make([]byte, 0, protocol.ClientHelloBodySize)
	body = append(body, head[:min(len(head), protocol.ClientHelloBodySize)]...)
	for len(body) < protocol.ClientHelloBodySize {
		body = append(body, byte(len(body)*7))
	}
	if flags&helloExt != 0 {
		if m, err := protocol.ParseClientHello(body); err == nil && len(m.Padding) >= protocol.HelloExtSize {
			e := protocol.HelloExt{Cookies: true}
			if flags&helloCookie != 0 {
				for i := range e.Cookie {
					e.Cookie[i] = byte(seq) + byte(i)
				}
			}
			protocol.PutHelloExt(m.Padding, e)
		}
	}
	h := protocol.Header{
		Direction: protocol.ToServer,
		CTime:     1_700_000_000,
		Seq:       protocol.Seq(seq),
		Type:      protocol.TypeClientHello,
		Length:    helloPayloadSize,
		Count:     1,
	}
	if flags&helloToClient != 0 {
		h.Direction = protocol.ToClient
	}
	if flags&helloType != 0 {
		h.Type = protocol.PacketType(seq % 8)
	}
	if flags&helloCount != 0 {
		h.Count = 2
	}
	if flags&helloLength != 0 {
		h.Length = uint16(int(h.Length) + int(int8(seq>>8)))
	}
	d := h.AppendTo(make([]byte, 0, protocol.HeaderSize+helloPayloadSize+protocol.CRCSize+8))
	d = binary.BigEndian.AppendUint16(d, seq^0x5555) // the message seq
	d = append(d, body...)
	d = crypto.AppendCRC(d)
	if flags&helloBadCRC != 0 {
		d[len(d)-1] ^= 1
	}
	if flags&helloResize != 0 {
		if seq%2 == 1 {
			d = append(d, make([]byte, seq%8)...)
		} else {
			d = d[:len(d)-1-int(seq%8)]
		}
	}
	return d
}

// Short names for the measurements of internal/allocs.
type cost = allocs.Cost

var errCost = allocs.FormattedError

func pureCost(fn func()) cost { return allocs.Pure(fn) }

func onceCost(fn func()) cost { return allocs.Once(fn) }
