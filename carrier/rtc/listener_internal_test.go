//go:build !js

package rtc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/sctp"
	"github.com/pion/stun/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// testOffer is a browser's offer of one data channel, ICE ufrag "abcd".
const testOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n" +
	"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=sctp-port:5000\r\n" +
	"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\n"

// checker is a socket of the test's that sends connectivity checks to a
// listener and reads its answers.
type checker struct {
	t    *testing.T
	c    *net.UDPConn
	l    *Listener
	user string
}

func newChecker(t *testing.T, l *Listener, user string) *checker {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &checker{t, c, l, user}
}

// check sends n checks signed with pwd, lets the listener read them, and
// returns how many answers came back, each checked with pion's STUN.
func (k *checker) check(pwd string, n int) int {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(k.l.Port())}
	for range n {
		m, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername(k.user),
			stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
		require.NoError(k.t, err)
		_, err = k.c.WriteToUDP(m.Raw, to)
		require.NoError(k.t, err)
	}
	ds := make([]transport.Datagram, 64)
	for i := range ds {
		ds[i].Data = make([]byte, 0, transport.RecvSize)
	}
	// The listener answers in ReadBatch, before it returns: the answers
	// are in our socket's buffer when it does. Read until it is empty.
	for range 4 {
		_, err := k.l.ReadBatch(ds)
		require.NoError(k.t, err)
	}
	got := 0
	buf := make([]byte, 2048)
	for {
		_ = k.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _, err := k.c.ReadFromUDP(buf)
		if err != nil {
			return got
		}
		var m stun.Message
		m.Raw = append([]byte(nil), buf[:n]...)
		require.NoError(k.t, m.Decode())
		require.NoError(k.t, stun.NewShortTermIntegrity(pwd).Check(&m), "an answer signed with the peer's password")
		var xor stun.XORMappedAddress
		require.NoError(k.t, xor.GetFrom(&m))
		assert.Equal(k.t, k.c.LocalAddr().(*net.UDPAddr).Port, xor.Port, "the address the check came from")
		got++
	}
}

// TestChecksAnsweredOnlyWhenSigned: the listener answers a check only
// when it is signed with the password its answer gave, for the ufrags
// of the offer and of the answer, from at most maxCandidates addresses a
// peer, and at most checkBurst at once from one of them.
func TestChecksAnsweredOnlyWhenSigned(t *testing.T) {
	l, err := Listen(Config{ICE: Options{Host: netip.MustParseAddr("127.0.0.1")}, HandshakeTimeout: -1}, netip.AddrPort{})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	sdp, err := l.accept(testOffer, netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.1"))
	require.NoError(t, err)
	ufrag := regexp.MustCompile(`a=ice-ufrag:(\S+)`).FindStringSubmatch(sdp)[1]
	pwd := regexp.MustCompile(`a=ice-pwd:(\S+)`).FindStringSubmatch(sdp)[1]
	assert.Contains(t, sdp, "a=candidate:1 1 udp 2130706431 127.0.0.1 ", "one candidate, the host's")

	first := newChecker(t, l, ufrag+":abcd")
	assert.Equal(t, 0, first.check("not the password", 1), "a wrong password")
	assert.Equal(t, 0, newChecker(t, l, "nobody:abcd").check(pwd, 1), "an unknown ufrag")
	assert.Equal(t, 0, newChecker(t, l, ufrag+":other").check(pwd, 1), "another browser's ufrag")
	assert.Equal(t, 1, first.check(pwd, 1), "the browser's check")

	for i := range maxCandidates - 1 {
		assert.Equal(t, 1, newChecker(t, l, ufrag+":abcd").check(pwd, 1), "address %d", i+2)
	}
	assert.Equal(t, 0, newChecker(t, l, ufrag+":abcd").check(pwd, 1), "one address more than a peer may have")

	start := time.Now()
	got := first.check(pwd, 3*checkBurst)
	refill := int(time.Since(start)/checkEvery) + 1
	assert.LessOrEqual(t, got, checkBurst+refill, "a burst of checks is answered up to the bound")
	assert.GreaterOrEqual(t, got, checkBurst-2, "the burst itself is answered")
}

// lossyFirst is a client's socket that drops the first datagram from the
// server whose first record is a ChangeCipherSpec: the server's final
// DTLS flight.
type lossyFirst struct {
	*net.UDPConn
	dropped atomic.Bool
}

func (c *lossyFirst) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.UDPConn.ReadFrom(b)
		if err == nil && n > 0 && b[0] == 20 && c.dropped.CompareAndSwap(false, true) {
			continue
		}
		return n, a, err
	}
}

// TestBrowserBuiltFromPionParts: a browser made of pion's parts over a
// real socket (a connectivity check of ours, pion's DTLS client, SCTP and
// data channel) reaches a listener read as a server reads it, although
// the listener's final DTLS flight is lost on the way (it sends it again
// when the client repeats its own), and datagrams go both ways.
func TestBrowserBuiltFromPionParts(t *testing.T) {
	l, err := Listen(Config{ICE: Options{Host: netip.MustParseAddr("127.0.0.1")}, HandshakeTimeout: -1}, netip.AddrPort{})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	cert, err := selfsign.GenerateSelfSigned()
	require.NoError(t, err)
	fp := sha256.Sum256(cert.Certificate[0])
	var hexfp []string
	for _, b := range fp {
		hexfp = append(hexfp, fmt.Sprintf("%02X", b))
	}
	offer := strings.Replace(testOffer, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", strings.Join(hexfp, ":"), 1)
	sdp, err := l.accept(offer, netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.1"))
	require.NoError(t, err)
	ufrag := regexp.MustCompile(`a=ice-ufrag:(\S+)`).FindStringSubmatch(sdp)[1]
	pwd := regexp.MustCompile(`a=ice-pwd:(\S+)`).FindStringSubmatch(sdp)[1]

	// The server: reads the listener until the test ends.
	got := make(chan transport.Datagram, 16)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ds := make([]transport.Datagram, 16)
		for i := range ds {
			ds[i].Data = make([]byte, 0, transport.RecvSize)
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = l.Wait(time.Now().Add(5 * time.Millisecond))
			n, err := l.ReadBatch(ds)
			if err != nil {
				return
			}
			for _, d := range ds[:n] {
				got <- transport.Datagram{Data: append([]byte(nil), d.Data...), Addr: d.Addr}
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })

	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { uc.Close() })
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(l.Port())}
	check, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername(ufrag+":abcd"),
		stunFlag(attrUseCandidate), stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	require.NoError(t, err)
	buf := make([]byte, 2048)
	for answered := false; !answered; {
		_, err = uc.WriteToUDP(check.Raw, server)
		require.NoError(t, err)
		_ = uc.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := uc.ReadFromUDP(buf)
		answered = err == nil && stun.IsMessage(buf[:n])
	}
	_ = uc.SetReadDeadline(time.Time{})

	sock := &lossyFirst{UDPConn: uc}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dc, err := dtls.ClientWithOptions(sock, server,
		dtls.WithCertificates(cert), dtls.WithInsecureSkipVerify(true),
		dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithFlightInterval(100*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { dc.Close() })
	require.NoError(t, dc.HandshakeContext(ctx))
	require.True(t, sock.dropped.Load(), "the server's final flight was dropped, and sent again")

	assoc, err := sctp.ClientContext(ctx, sctp.Config{NetConn: dc, LoggerFactory: pionLogs(nil)})
	require.NoError(t, err)
	t.Cleanup(func() { assoc.Close() })
	ch, err := datachannel.Dial(assoc, 0, &datachannel.Config{
		ChannelType: datachannel.ChannelTypePartialReliableRexmitUnordered, Label: Label, LoggerFactory: pionLogs(nil)})
	require.NoError(t, err)
	replies := make(chan []byte, 16)
	go func() {
		b := make([]byte, 4096)
		for {
			n, _, err := ch.ReadDataChannel(b)
			if err != nil {
				close(replies)
				return
			}
			replies <- append([]byte(nil), b[:n]...)
		}
	}()

	var from netip.AddrPort
	deadline := time.After(30 * time.Second)
	for !from.IsValid() {
		_, err := ch.Write([]byte("hello"))
		require.NoError(t, err)
		select {
		case d := <-got:
			assert.Equal(t, "hello", string(d.Data))
			from = d.Addr
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no datagram reached the listener")
		}
	}
	assert.Equal(t, uc.LocalAddr().(*net.UDPAddr).AddrPort(), from, "the peer is known by its socket's address")
	big := bytes.Repeat([]byte{9}, 1472) // more than one SCTP packet
	_, err = l.WriteBatch([]transport.Datagram{{Data: []byte("world"), Addr: from}, {Data: big, Addr: from}})
	require.NoError(t, err)
	for _, want := range [][]byte{[]byte("world"), big} {
		select {
		case b := <-replies:
			assert.Equal(t, want, b)
		case <-deadline:
			t.Fatal("the listener's datagrams did not arrive")
		}
	}
}
