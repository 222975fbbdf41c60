//go:build !js

package rtc

import (
	"crypto/hmac"
	"crypto/sha1"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/stun/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// request builds a binding request as a browser's ICE agent does, with
// pion's STUN (an implementation other than ours).
func request(t testing.TB, user, pwd string, useCandidate bool) *stun.Message {
	setters := []stun.Setter{stun.BindingRequest, stun.TransactionID, stun.NewUsername(user)}
	if useCandidate {
		setters = append(setters, stunFlag(attrUseCandidate))
	}
	setters = append(setters, stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	m, err := stun.Build(setters...)
	require.NoError(t, err)
	return m
}

type stunFlag stun.AttrType

func (f stunFlag) AddTo(m *stun.Message) error { m.Add(stun.AttrType(f), nil); return nil }

func TestCheckAnsweredAsICEWants(t *testing.T) {
	const pwd = "abcdefghijklmnopqrstuvwxyz"
	mac := hmac.New(sha1.New, []byte(pwd))
	for _, from := range []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("[2001:db8::7]:5")} {
		req := request(t, "ours:theirs", pwd, true)
		c, ok := parseCheck(req.Raw)
		require.True(t, ok)
		assert.Equal(t, "ours:theirs", string(c.user))
		assert.True(t, c.useCandidate)
		assert.True(t, authentic(req.Raw, c, mac), "the right password")
		assert.False(t, authentic(req.Raw, c, hmac.New(sha1.New, []byte(pwd+"x"))), "another password")

		resp := appendSuccess(nil, c, from, mac)
		var m stun.Message
		m.Raw = resp
		require.NoError(t, m.Decode())
		assert.Equal(t, stun.BindingSuccess, m.Type)
		assert.Equal(t, req.TransactionID, m.TransactionID)
		require.NoError(t, stun.NewShortTermIntegrity(pwd).Check(&m), "pion checks our integrity")
		require.NoError(t, stun.Fingerprint.Check(&m), "pion checks our fingerprint")
		var xor stun.XORMappedAddress
		require.NoError(t, xor.GetFrom(&m))
		assert.Equal(t, net.IP(from.Addr().AsSlice()).String(), xor.IP.String())
		assert.Equal(t, int(from.Port()), xor.Port)
	}
}

func TestCheckRefusals(t *testing.T) {
	const pwd = "abcdefghijklmnopqrstuvwxyz"
	good := request(t, "a:b", pwd, false).Raw
	_, ok := parseCheck(good)
	require.True(t, ok)

	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1 // the fingerprint
	_, ok = parseCheck(bad)
	assert.False(t, ok, "a wrong fingerprint")

	noUser, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	require.NoError(t, err)
	_, ok = parseCheck(noUser.Raw)
	assert.False(t, ok, "no USERNAME")

	noMI, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername("a:b"), stun.Fingerprint)
	require.NoError(t, err)
	_, ok = parseCheck(noMI.Raw)
	assert.False(t, ok, "no MESSAGE-INTEGRITY")

	resp, err := stun.Build(stun.BindingSuccess, stun.TransactionID, stun.NewUsername("a:b"), stun.NewShortTermIntegrity(pwd))
	require.NoError(t, err)
	_, ok = parseCheck(resp.Raw)
	assert.False(t, ok, "not a request")

	for n := range len(good) {
		_, ok = parseCheck(good[:n])
		assert.False(t, ok, "cut at %d", n)
	}
	long := append(append([]byte(nil), good...), make([]byte, maxCheck)...)
	_, ok = parseCheck(long)
	assert.False(t, ok, "too long")
}

func FuzzParseCheck(f *testing.F) {
	f.Add(request(f, "a:b", "abcdefghijklmnopqrstuvwxyz", true).Raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := parseCheck(b)
		if !ok {
			return
		}
		require.LessOrEqual(t, c.integrity+4+integritySize, len(b))
		mac := hmac.New(sha1.New, []byte("x"))
		_ = authentic(b, c, mac)
		out := appendSuccess(nil, c, netip.MustParseAddrPort("127.0.0.1:1"), mac)
		require.LessOrEqual(t, len(out), 100, "a response is small whatever the request")
	})
}

func TestParseOffer(t *testing.T) {
	const base = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n" +
		"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=sctp-port:5000\r\n" +
		"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
	o, err := parseOffer(base + "a=setup:actpass\r\n")
	require.NoError(t, err)
	assert.Equal(t, "abcd", o.ufrag)
	assert.Equal(t, "0", o.mid)
	assert.EqualValues(t, 5000, o.sctpPort)
	assert.EqualValues(t, 0xFF, o.fingerprint[31])

	for name, sdp := range map[string]string{
		"passive":       base + "a=setup:passive\r\n",
		"lite":          base + "a=ice-lite\r\n",
		"sha-1":         strings.Replace(base, "sha-256", "sha-1", 1),
		"short pwd":     strings.Replace(base, "abcdefghijklmnopqrstuvwx", "short", 1),
		"audio":         strings.Replace(base, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=audio 9 UDP/TLS/RTP/SAVPF 111", 1),
		"mid injection": strings.Replace(base, "a=mid:0", "a=mid:0\nx", 1),
		"two sections":  base + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n",
		"not sdp":       "hello",
	} {
		_, err := parseOffer(sdp)
		assert.ErrorIs(t, err, errOffer, name)
	}
}
