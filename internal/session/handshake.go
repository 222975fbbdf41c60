package session

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// NewClient starts the client end of a connection at now: it creates an
// ephemeral key and queues the CLIENT_HELLO, which the first Poll sends.
// The connection reaches Connected when a SERVER_HELLO signed by the pinned
// key (cfg.ServerKey) arrives, or Disconnected with Err set to
// ErrHandshakeTimeout when none does within the handshake timeout.
//
// Unless cfg.PlainHello is set, the hello's padding starts with the
// extension (protocol.HelloExt) that asks a server under load for a cookie
// reply; a server of the reference ignores it.
//
// Randomness is read from cfg.Rand in this order: the ephemeral key (32
// bytes, more if a draw is not a valid scalar), then the hello padding.
func NewClient(cfg *Config, now time.Time) (*Conn, error) {
	c, err := newConn(cfg, RoleClient, now)
	if err != nil {
		return nil, err
	}
	if c.sess.ephemeral, err = conn.GenerateKey(c.cfg.Rand); err != nil {
		return nil, err
	}
	hello := protocol.ClientHello{PublicKey: c.sess.ephemeral.Public().DER(), Version: protocol.ProtocolVersion}
	pad := make([]byte, protocol.ClientHelloPaddingLen(len(hello.PublicKey), hello.Version))
	if _, err := io.ReadFull(c.cfg.Rand, pad); err != nil {
		return nil, fmt.Errorf("conn: reading hello padding: %w", err)
	}
	if !c.cfg.PlainHello {
		protocol.PutHelloExt(pad, protocol.HelloExt{Cookies: true, Messages: true})
	}
	m := c.newMsg(protocol.TypeClientHello, nil, conn.RetryOnTimeout, nil)
	if m.body, err = protocol.AppendClientHello(m.body, hello, pad); err != nil {
		return nil, err
	}
	c.sess.padOff = int32(len(m.body) - len(pad))
	m.resend = c.cfg.HelloResend
	c.sess.hello = m
	c.enqueue(m)
	return c, nil
}

// StartHandshake makes a client's handshake timeout count from now
// rather than from the connection's creation: a client whose carrier
// took time to open (transport.Opener, a WebRTC data channel) calls it
// when the carrier has opened, before its first Poll. It does nothing
// on a server's connection or a client's that is no longer connecting.
func (c *Conn) StartHandshake(now time.Time) {
	if c.role != RoleClient || c.status != conn.Connecting {
		return
	}
	c.sess.helloFrom = c.instant(now)
}

// receiveCookie takes a server's cookie reply: the hello goes out again at
// once, carrying the cookie. A client that did not ask for cookies, or
// that is past its hello, ignores it.
func (c *Conn) receiveCookie(body []byte) error {
	cookie, err := protocol.ParseCookieReply(body)
	if err != nil || c.cfg.PlainHello || c.sess.hello == nil || c.sess.padOff == 0 {
		drop(&c.stats, &c.stats.Drops.Handshake)
		return fmt.Errorf("%w: unexpected cookie reply", conn.ErrHandshake)
	}
	c.stats.Cookies++
	protocol.PutHelloExt(c.sess.hello.body[c.sess.padOff:], protocol.HelloExt{Cookies: true, Messages: true, Cookie: cookie})
	h := c.sess.hello
	if h.retrying {
		c.resendsOf(h).pushFront(resendEntry{m: h, gen: h.gen, at: h.lastSent, lost: true}) // due now
	}
	return nil
}

// Hello is a CLIENT_HELLO that passed every check a server can make
// without spending anything: its CRC, its exact length and layout, the
// protocol version. ParseHello makes one; CheckKey validates its public
// key, which costs more; NewServerConn answers it.
type Hello struct {
	header protocol.Header
	msgSeq protocol.Seq
	size   int
	// Key is the client's ephemeral public key (DER). It aliases the
	// datagram given to ParseHello; Clone makes a Hello that owns it.
	Key []byte
	// Ext is the client's hello extension; Marked says whether it had one
	// (a client of the reference does not).
	Ext    protocol.HelloExt
	Marked bool
}

// helloPayloadSize is the exact payload of a CLIENT_HELLO: a message seq
// and the fixed-size body.
const helloPayloadSize = 2 + protocol.ClientHelloBodySize

// ParseHello checks a datagram that claims to be a CLIENT_HELLO: header,
// exact length (the 1414-byte payload every client sends), CRC, one
// message, the layout and the version. It neither allocates nor touches
// any state, so a server can afford it for every datagram of a flood.
func ParseHello(datagram []byte) (Hello, error) {
	var hl Hello
	h, err := protocol.ParseHeaderFrom(datagram, protocol.ToServer)
	if err != nil {
		return hl, conn.ErrBadHeader
	}
	if h.Type != protocol.TypeClientHello || h.Count != 1 || h.Length != helloPayloadSize {
		return hl, conn.ErrHandshake
	}
	end := protocol.HeaderSize + helloPayloadSize
	if len(datagram) < end+protocol.CRCSize {
		return hl, conn.ErrBadHeader
	}
	if crypto.CheckCRC(datagram, end) != nil {
		return hl, conn.ErrAuth
	}
	payload := datagram[protocol.HeaderSize:end:end]
	var r protocol.PayloadReader
	r.Reset(h.Type, h.Count, payload)
	m, ok := r.Next()
	if !ok || m.Type != protocol.TypeClientHello {
		return hl, conn.ErrHandshake
	}
	ch, err := protocol.SplitClientHello(m.Body)
	if err != nil || ch.Version != protocol.ProtocolVersion || len(ch.PublicKey) == 0 {
		return hl, conn.ErrHandshake
	}
	hl.header, hl.msgSeq, hl.size, hl.Key = h, m.Seq, len(datagram), ch.PublicKey
	hl.Ext, hl.Marked = protocol.ParseHelloExt(ch.Padding)
	return hl, nil
}

// Seq returns the hello's packet seq (a reply acknowledges it).
func (h *Hello) Seq() protocol.Seq { return h.header.Seq }

// CheckKey reports whether the hello's key is a valid P-256 point, so that
// the ECDH the handshake will need cannot fail.
func (h *Hello) CheckKey() error {
	if err := crypto.CheckPublicKeyDER(h.Key); err != nil {
		return fmt.Errorf("%w: %w", conn.ErrHandshake, err)
	}
	return nil
}

// Clone returns a copy of h that does not alias the datagram.
func (h *Hello) Clone() Hello {
	c := *h
	c.Key = append([]byte(nil), h.Key...)
	return c
}

// A HelloTemplate is a server's half of a handshake, made before any
// client asks: a token, an ephemeral key, a salt and the root key's
// signature over them, as a ready SERVER_HELLO body. Making one costs a
// key generation and an ECDSA signature (about 60 µs); a server makes them
// on another goroutine so that answering a CLIENT_HELLO costs neither. A
// template answers one client.
type HelloTemplate struct {
	token     uint32
	ephemeral *conn.PrivateKey
	salt      [crypto.SaltSize]byte
	body      []byte
}

// NewHelloTemplate makes a template signed by root for token, reading the
// ephemeral key (32 bytes, more if a draw is not a valid scalar) and then
// the 16-byte salt from r (crypto/rand when nil).
func NewHelloTemplate(root *conn.PrivateKey, r io.Reader, token uint32) (*HelloTemplate, error) {
	if root == nil {
		return nil, fmt.Errorf("conn: a hello template needs the root key")
	}
	if r == nil {
		r = rand.Reader
	}
	eph, err := conn.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	t := &HelloTemplate{token: token, ephemeral: eph}
	if _, err := io.ReadFull(r, t.salt[:]); err != nil {
		return nil, fmt.Errorf("conn: reading salt: %w", err)
	}
	signed := protocol.AppendSignedPayload(nil, protocol.SignedPayload{
		PublicKey: eph.Public().DER(), Salt: t.salt[:], Token: int64(token),
	})
	sig, err := root.Sign(signed)
	if err != nil {
		return nil, fmt.Errorf("conn: signing server hello: %w", err)
	}
	t.body = protocol.AppendServerHello(nil, protocol.ServerHello{
		RootKey: root.Public().DER(), Signed: signed, Signature: sig,
	})
	return t, nil
}

// Token returns the session token the template hands out.
func (t *HelloTemplate) Token() uint32 { return t.token }

// NewServer creates the server end of a connection from the first datagram
// a client sent, which must be a valid CLIENT_HELLO; otherwise it returns
// an error and no connection. The connection answers with a signed
// SERVER_HELLO (sent by the next Poll) and reaches Connected when the
// client's CHALLENGE_RESP echoes token.
//
// Randomness is read from cfg.Rand in this order: the ephemeral key (32
// bytes, more if a draw is not a valid scalar), then the 16-byte salt.
// The datagram is not modified. A server answering many clients makes
// templates ahead (NewHelloTemplate) and uses NewServerConn.
func NewServer(cfg *Config, now time.Time, token uint32, datagram []byte) (*Conn, error) {
	if cfg == nil || cfg.RootKey == nil {
		return nil, fmt.Errorf("conn: a server connection needs Config.RootKey")
	}
	h, err := ParseHello(datagram)
	if err != nil {
		return nil, fmt.Errorf("%w: not a valid client hello", err)
	}
	if err := h.CheckKey(); err != nil {
		return nil, err
	}
	t, err := NewHelloTemplate(cfg.RootKey, cfg.Rand, token)
	if err != nil {
		return nil, err
	}
	return NewServerConn(cfg, now, t, &h)
}

// NewServerConn creates the server end of a connection answering hello
// with template t, which must not be used again. The SERVER_HELLO goes out
// with the next Poll; the ECDH that derives the session key waits for the
// client's first encrypted datagram, so a hello from a forged address,
// which never gets one, costs no ECDH. Check the hello's key first
// (Hello.CheckKey).
func NewServerConn(cfg *Config, now time.Time, t *HelloTemplate, hello *Hello) (*Conn, error) {
	if cfg == nil || cfg.RootKey == nil {
		return nil, fmt.Errorf("conn: a server connection needs Config.RootKey")
	}
	c, err := newConn(cfg, RoleServer, now)
	if err != nil {
		return nil, err
	}
	c.sess.token = t.token
	c.sess.ephemeral = t.ephemeral
	c.sess.salt = t.salt
	c.sess.helloKey = append([]byte(nil), hello.Key...)
	n, _ := c.seq.replay.Check(hello.header.Seq)
	c.accept(now, hello.header, n, hello.size)
	c.seq.recvMsgs.Insert(hello.msgSeq)
	m := c.newMsg(protocol.TypeServerHello, t.body, conn.RetryNone, nil)
	c.sess.hello = m
	c.enqueue(m)
	if hello.Marked && hello.Ext.Messages {
		c.setPeerExt() // a client of ours: it acks often and takes ordered messages
	}
	return c, nil
}

// deriveKey runs the ECDH a server connection deferred until the client's
// first encrypted datagram.
func (c *Conn) deriveKey() error {
	if err := c.setKey(c.sess.helloKey, c.sess.salt[:]); err != nil {
		return err
	}
	c.sess.ephemeral = nil // the session key is all that is needed from now on
	return nil
}

func (c *Conn) setKey(peerDER, salt []byte) error {
	k, err := crypto.SessionKey(c.sess.ephemeral, peerDER, salt)
	if err != nil {
		return fmt.Errorf("%w: %w", conn.ErrHandshake, err)
	}
	aead, err := crypto.NewAEAD(k)
	if err != nil {
		return err
	}
	c.sess.key, c.aead = k, aead
	c.cipherState = aead.State()
	return nil
}
