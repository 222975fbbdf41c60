//go:build !js

package rtc

import (
	"net"
	"net/netip"
	"regexp"
	"testing"
	"time"

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
