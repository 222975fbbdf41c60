package dtlsrec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/stretchr/testify/require"
)

// wait bounds every wait of the tests on the other side. It only turns a
// hang into a failure: nothing depends on it for correctness.
const wait = 20 * time.Second

type testAddr string

func (a testAddr) Network() string { return "test" }
func (a testAddr) String() string  { return string(a) }

// setup is what a test changes in a pion client / our server pair.
type setup struct {
	suite      dtls.CipherSuiteID // both sides' only suite; 0 for AES-128-GCM
	serverOpts []dtls.ServerOption
	clientOpts []dtls.ClientOption
	// dropDown loses datagrams that the server's pion sends to the client.
	dropDown func(b []byte) bool
	// afterDown runs in the server's pion, after each of its datagrams was
	// delivered to the client.
	afterDown func(p *pair, b []byte)
	// refuse makes the server's VerifyPeerCertificate fail.
	refuse bool
}

// pair is a pion client talking to our Pipe, Handshake and Conn over an
// in-memory network: the client runs over a Pipe of its own, whose
// datagrams land in up; the server's pion writes go straight into the
// client's Pipe.
type pair struct {
	t      *testing.T
	server *Pipe
	client *Pipe
	pc     *dtls.Conn
	up     chan []byte
	// direct makes the client's datagrams skip up (and the server's tick
	// loop) and go straight into the server's Pipe.
	direct atomic.Bool

	conn      *Conn    // after the handoff, unless the handshake failed
	serverErr error    // Handshake's error
	pending   [][]byte // the server Pipe's Drain at the handoff
	clientErr chan error
}

func newPair(t *testing.T, s setup) *pair {
	t.Helper()
	serverCert, err := selfsign.GenerateSelfSigned()
	require.NoError(t, err)
	clientCert, err := selfsign.GenerateSelfSigned()
	require.NoError(t, err)
	suite := s.suite
	if suite == 0 {
		suite = dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	}

	p := &pair{t: t, up: make(chan []byte, 1024), clientErr: make(chan error, 1)}
	p.client = NewPipe(testAddr("server"), func(b []byte) {
		if p.direct.Load() {
			p.server.Push(b)
			return
		}
		p.up <- bytes.Clone(b)
	})
	p.server = NewPipe(testAddr("client"), func(b []byte) {
		if s.dropDown == nil || !s.dropDown(b) {
			p.client.Push(b)
		}
		if s.afterDown != nil {
			s.afterDown(p, b)
		}
	})

	// The server checks the client's certificate as a WebRTC server
	// checks the fingerprint of the offer.
	want := sha256.Sum256(clientCert.Certificate[0])
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if s.refuse || len(raw) == 0 || sha256.Sum256(raw[0]) != want {
			return errors.New("fingerprint mismatch")
		}
		return nil
	}
	serverOpts := append([]dtls.ServerOption{
		dtls.WithCertificates(serverCert),
		dtls.WithClientAuth(dtls.RequireAnyClientCert),
		dtls.WithVerifyPeerCertificate(verify),
		dtls.WithCipherSuites(suite),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
	}, s.serverOpts...)
	clientOpts := append([]dtls.ClientOption{
		dtls.WithCertificates(clientCert),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithCipherSuites(suite),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
	}, s.clientOpts...)

	p.pc, err = dtls.ClientWithOptions(p.client, testAddr("server"), clientOpts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.pc.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	go func() { p.clientErr <- p.pc.HandshakeContext(ctx) }()

	type result struct {
		c   *Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := Handshake(ctx, p.server, serverOpts...)
		done <- result{c, err}
	}()

	// The server's tick loop: the client's datagrams go to the Pipe until
	// Handshake has returned, then to the Conn.
	for {
		select {
		case d := <-p.up:
			p.server.Push(d)
		case r := <-done:
			p.conn, p.serverErr = r.c, r.err
			p.pending = p.server.Drain()
			return p
		}
	}
}

// waitClient returns the client's handshake result.
func (p *pair) waitClient() error {
	p.t.Helper()
	select {
	case err := <-p.clientErr:
		return err
	case <-time.After(wait):
		p.t.Fatal("client handshake did not end")
		return nil
	}
}

// recv returns the client's next datagram to the server.
func (p *pair) recv() []byte {
	p.t.Helper()
	select {
	case d := <-p.up:
		return d
	case <-time.After(wait):
		p.t.Fatal("no datagram from the client")
		return nil
	}
}

// clientRead returns what the pion client's next Read returns.
func (p *pair) clientRead() ([]byte, error) {
	p.t.Helper()
	require.NoError(p.t, p.pc.SetReadDeadline(time.Now().Add(wait)))
	b := make([]byte, 2048)
	n, err := p.pc.Read(b)
	return b[:n], err
}

// toClient delivers datagrams to the pion client.
func (p *pair) toClient(ds ...[]byte) {
	p.t.Helper()
	for _, d := range ds {
		require.True(p.t, p.client.Push(d), "client's pipe full")
	}
}

// sealToClient seals msg and delivers it to the pion client.
func (p *pair) sealToClient(msg []byte) {
	p.t.Helper()
	rec, err := p.conn.Seal(nil, msg)
	require.NoError(p.t, err)
	p.toClient(rec)
}

// record is one record of a datagram as Open returned it.
type record struct {
	typ   byte
	plain []byte
	err   error
	seq   uint64 // from the header
}

// openAll runs a datagram through Open, record by record.
func openAll(t *testing.T, c *Conn, d []byte) []record {
	t.Helper()
	var out []record
	for len(d) > 0 {
		var seq uint64
		if len(d) >= headerLen {
			seq = binary.BigEndian.Uint64(d[3:]) & maxSeq
		}
		typ, plain, rest, err := c.Open(d)
		require.Less(t, len(rest), len(d))
		out = append(out, record{typ, bytes.Clone(plain), err, seq})
		d = rest
	}
	return out
}

// fakeExport returns the exports of both sides of a made-up connection,
// for tests that need a Conn pair without a handshake. Its keys are fixed,
// so that records sealed in one process (a fuzz seed) open in another.
func fakeExport(_ testing.TB, suiteID uint16) (server, client exported) {
	master := make([]byte, masterLen)
	var cr, sr [randomLen]byte
	for i := range master {
		master[i] = byte(i)
	}
	for i := range cr {
		cr[i], sr[i] = byte(100+i), byte(200+i)
	}
	server = exported{
		RemoteSequenceNumber: 1, HandshakeComplete: true, LocalEpoch: 1, RemoteEpoch: 1,
		LocalRandom: sr, RemoteRandom: cr, CipherSuiteID: suiteID,
		MasterSecret: master, SequenceNumber: 1,
	}
	client = server
	client.LocalRandom, client.RemoteRandom, client.IsClient = cr, sr, true
	return server, client
}

// fakePair returns a server and a client Conn that talk to each other.
func fakePair(t testing.TB) (server, client *Conn) {
	se, ce := fakeExport(t, 0xc02b)
	server, err := newConn(se)
	require.NoError(t, err)
	client, err = newConn(ce)
	require.NoError(t, err)
	return server, client
}

func selfSigned(t testing.TB) tls.Certificate {
	c, err := selfsign.GenerateSelfSigned()
	require.NoError(t, err)
	return c
}
