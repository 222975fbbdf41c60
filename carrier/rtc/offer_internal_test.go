//go:build !js

package rtc

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// offerWith returns an offer of one data channel with these candidate
// lines (their values).
func offerWith(cands ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n")
	b.WriteString("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n")
	b.WriteString("a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=sctp-port:5000\r\n")
	b.WriteString("a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\n")
	for _, c := range cands {
		b.WriteString("a=candidate:" + c + "\r\n")
	}
	return b.String()
}

func kept(t *testing.T, sdp string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(sdp, "\r\n") {
		if v, ok := strings.CutPrefix(line, "a=candidate:"); ok {
			f := strings.Fields(v)
			out = append(out, f[4]+":"+f[5])
		}
	}
	return out
}

func TestCheckOfferKeepsOnlyAddressesItMayLearn(t *testing.T) {
	cands := []string{
		"1 1 udp 2130706431 127.0.0.1 50000 typ host",
		"2 1 udp 2130706431 192.168.1.20 50001 typ host",
		"3 1 udp 2130706431 169.254.169.254 50002 typ host", // cloud metadata
		"4 1 udp 2130706431 fe80::1 50003 typ host",
		"5 1 udp 2130706431 224.0.0.1 50004 typ host",
		"6 1 udp 2130706431 0.0.0.0 50005 typ host",
		"7 1 udp 2130706431 198.51.100.9 53 typ host", // a DNS server's port
		"8 1 udp 2130706431 5c3e1f0a-0000-4000-8000-000000000000.local 50006 typ host",
		"9 1 tcp 2130706431 198.51.100.9 50007 typ host tcptype passive",
		"10 1 udp 2130706431 198.51.100.9 50008 typ host",
		"11 1 udp 1694498815 203.0.113.5 50009 typ srflx raddr 0.0.0.0 rport 0",
		"12 1 udp 2130706431 100.64.1.2 50010 typ host",
		"13 1 udp 2130706431 10.0.0.1 notaport typ host",
	}
	for _, c := range []struct {
		from netip.Addr
		want []string
	}{
		{netip.MustParseAddr("127.0.0.1"), []string{"127.0.0.1:50000", "192.168.1.20:50001", "198.51.100.9:50008", "203.0.113.5:50009", "100.64.1.2:50010"}},
		{netip.MustParseAddr("10.1.2.3"), []string{"192.168.1.20:50001", "198.51.100.9:50008", "203.0.113.5:50009", "100.64.1.2:50010"}},
		{netip.MustParseAddr("198.51.100.77"), []string{"198.51.100.9:50008", "203.0.113.5:50009"}},
	} {
		out, n, err := checkOffer(offerWith(cands...), c.from)
		require.NoError(t, err, "from %s", c.from)
		assert.Equal(t, c.want, kept(t, out), "from %s", c.from)
		assert.Equal(t, len(c.want), n)
		assert.Contains(t, out, "a=ice-ufrag:abcd", "the rest of the offer stays")
	}
}

func TestCheckOfferRefuses(t *testing.T) {
	from := netip.MustParseAddr("198.51.100.77")
	many := make([]string, maxOfferCandidates+1)
	for i := range many {
		many[i] = fmt.Sprintf("%d 1 udp 1 198.51.100.9 %d typ host", i, 40000+i)
	}
	_, _, err := checkOffer(offerWith(many...), from)
	assert.ErrorIs(t, err, errOffer, "too many candidates")
	_, _, err = checkOffer(offerWith(many[:maxOfferCandidates]...), from)
	assert.NoError(t, err, "as many as allowed")

	lite := strings.Replace(offerWith(many[0]), "t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n", 1)
	_, _, err = checkOffer(lite, from)
	assert.ErrorIs(t, err, errOffer, "an ICE-lite offer")

	two := offerWith() + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
	_, _, err = checkOffer(two, from)
	assert.ErrorIs(t, err, errOffer, "two media sections")
	audio := strings.Replace(offerWith(), "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=audio 9 UDP/TLS/RTP/SAVPF 111", 1)
	_, _, err = checkOffer(audio, from)
	assert.ErrorIs(t, err, errOffer, "not a data channel")
	_, _, err = checkOffer("not sdp", from)
	assert.ErrorIs(t, err, errOffer)
}

func TestAnswerNamesTheAddressReached(t *testing.T) {
	answer := offerWith(
		"1 1 udp 2130706431 10.0.0.5 40000 typ host",
		"2 1 udp 2130706431 172.17.0.1 40001 typ host",
		"3 1 udp 2130706431 127.0.0.1 40002 typ host",
	)
	assert.Equal(t, []string{"10.0.0.5:40000"}, kept(t, answerFor(answer, netip.MustParseAddr("10.0.0.5"))),
		"a request from elsewhere is told the address it reached")
	assert.Len(t, kept(t, answerFor(answer, netip.MustParseAddr("127.0.0.1"))), 3, "a request from this machine is told every address")
	assert.Len(t, kept(t, answerFor(answer, netip.MustParseAddr("192.0.2.1"))), 3, "an address with no candidate (a proxy's) keeps them all")
	assert.Len(t, kept(t, answerFor(answer, netip.Addr{})), 3)
}

// TestOnePeerCannotFillTheInbox: a peer's datagrams waiting take at most
// its share of the inbox; the others' still come in.
func TestOnePeerCannotFillTheInbox(t *testing.T) {
	in := newInbox(maxQueued)
	var hog, other atomic.Int32
	a, b := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")
	for range 10 * peerQueued {
		in.pushFrom(a, []byte("x"), &hog, peerQueued)
	}
	in.pushFrom(b, []byte("y"), &other, peerQueued)
	assert.EqualValues(t, peerQueued, hog.Load())
	assert.EqualValues(t, 1, other.Load())
	assert.EqualValues(t, 9*peerQueued, in.stats().KernelDrops)
	ds := make([]transport.Datagram, 2*peerQueued)
	n, err := in.read(ds)
	require.NoError(t, err)
	assert.Equal(t, peerQueued+1, n)
	assert.Equal(t, "y", string(ds[n-1].Data))
	assert.Zero(t, hog.Load()+other.Load(), "what was read is given back")
}
