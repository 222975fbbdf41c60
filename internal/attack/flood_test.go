package attack_test

import (
	"context"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/attack"
	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

func newRand() *mrand.Rand { return mrand.New(mrand.NewPCG(1, 2)) }

func buf() []byte { return make([]byte, 0, protocol.RecvBufferSize) }

func TestJunk(t *testing.T) {
	rng := newRand()
	for range 2000 {
		d := attack.JunkRandom(buf(), rng)
		assert.True(t, len(d) >= 1 && len(d) <= protocol.MaxDatagramSize, len(d))

		d = attack.JunkMagic(buf(), rng)
		require.GreaterOrEqual(t, len(d), protocol.HeaderSize)
		assert.LessOrEqual(t, len(d), protocol.MaxDatagramSize)
		_, err := protocol.ParseHeader(d)
		assert.ErrorIs(t, err, protocol.ErrBadMagic)

		d = attack.JunkAppHeader(buf(), rng)
		h, err := protocol.ParseHeaderFrom(d, protocol.ToServer)
		require.NoError(t, err)
		assert.Equal(t, protocol.TypeApp, h.Type)
		assert.Equal(t, protocol.HeaderSize+int(h.Length)+protocol.TagSize, len(d), "the length matches the datagram")
		assert.Positive(t, h.Count)

		d = attack.JunkMix(buf(), rng)
		assert.True(t, len(d) >= 1 && len(d) <= protocol.MaxDatagramSize, len(d))
	}
}

// checkHello parses a CLIENT_HELLO datagram and reports whether its CRC
// is right.
func checkHello(t *testing.T, d []byte) bool {
	t.Helper()
	require.Len(t, d, attack.HelloSize)
	h, err := protocol.ParseHeaderFrom(d, protocol.ToServer)
	require.NoError(t, err)
	require.Equal(t, protocol.TypeClientHello, h.Type)
	require.Equal(t, uint8(1), h.Count)
	end := protocol.HeaderSize + int(h.Length)
	var r protocol.PayloadReader
	r.Reset(h.Type, h.Count, d[protocol.HeaderSize:end])
	m, ok := r.Next()
	require.True(t, ok, r.Err())
	ch, err := protocol.ParseClientHello(m.Body)
	require.NoError(t, err)
	assert.Equal(t, int64(protocol.ProtocolVersion), ch.Version)
	assert.Len(t, ch.PublicKey, 91)
	return crypto.CheckCRC(d, end) == nil
}

func TestHellos(t *testing.T) {
	d, err := attack.PlainHello(nil)
	require.NoError(t, err)
	assert.True(t, checkHello(t, d))

	rng := newRand()
	for range 100 {
		assert.False(t, checkHello(t, attack.HelloBadCRC(buf(), rng)), "a bad CRC")
	}

	built := 0
	valid, err := attack.NewHelloValid(3, func(r io.Reader) ([]byte, error) {
		built++
		return attack.PlainHello(r)
	})
	require.NoError(t, err)
	assert.Equal(t, 3, built, "the pool is built up front")
	keys := map[string]bool{}
	for range 6 {
		d := valid(buf(), rng)
		require.True(t, checkHello(t, d))
		keys[string(d[protocol.HeaderSize+2+2+5:][:91])] = true
		_, err := conn.ParsePublicKeyDER(d[protocol.HeaderSize+2+2+5:][:91])
		assert.NoError(t, err, "a real key")
	}
	assert.Len(t, keys, 3, "the pool's hellos in turn")

	_, err = attack.NewHelloValid(1, func(io.Reader) ([]byte, error) { return nil, errors.New("no") })
	assert.Error(t, err)
}

func TestFloodNeedsTheLoopback(t *testing.T) {
	for _, s := range []string{"[::1]:1474", "192.0.2.1:1474", "[::ffff:192.0.2.1]:9"} {
		err := attack.CheckFlood(netip.MustParseAddrPort(s))
		assert.ErrorIs(t, err, attack.ErrForgedSources, s)
		_, err = attack.StartFlood(context.Background(), attack.FloodConfig{Server: netip.MustParseAddrPort(s), Payload: attack.JunkRandom})
		assert.ErrorIs(t, err, attack.ErrForgedSources, s)
	}
	err := attack.CheckFlood(netip.MustParseAddrPort("127.0.0.1:1474"))
	if runtime.GOOS == "linux" {
		assert.NoError(t, err)
	} else {
		assert.ErrorIs(t, err, attack.ErrForgedSources)
	}
	_, err = attack.StartFlood(context.Background(), attack.FloodConfig{Server: netip.MustParseAddrPort("127.0.0.1:9")})
	assert.Error(t, err, "no payload")
	_, err = attack.StartFlood(context.Background(), attack.FloodConfig{Server: netip.MustParseAddrPort("127.0.0.1:9"), Payload: attack.JunkRandom, Addrs: attack.MaxFloodAddrs + 1})
	assert.Error(t, err, "too many addresses")
}

func TestFloodAddrs(t *testing.T) {
	assert.Equal(t, netip.MustParseAddr("127.64.0.1"), attack.FloodAddr(0))
	assert.Equal(t, netip.MustParseAddr("127.64.1.0"), attack.FloodAddr(255))
	assert.Equal(t, netip.MustParseAddr("127.127.255.254"), attack.FloodAddr(attack.MaxFloodAddrs-1))
	for _, a := range []string{"127.64.0.1", "127.100.3.4", "127.127.255.254"} {
		assert.True(t, attack.IsFloodAddr(netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"127.64.0.0", "127.127.255.255", "127.0.0.1", "127.1.0.1", "127.128.0.1", "::1"} {
		assert.False(t, attack.IsFloodAddr(netip.MustParseAddr(a)), a)
	}
}

// TestFloodSources: a flood's datagrams arrive from every address of its
// cycle, all in the flood's range, with the payload it was given.
func TestFloodSources(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("forged source addresses need Linux")
	}
	t.Parallel()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer pc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const addrs = 100
	f, err := attack.StartFlood(ctx, attack.FloodConfig{
		Server: pc.LocalAddr().(*net.UDPAddr).AddrPort(), Rate: 5000, Addrs: addrs, Payload: attack.JunkAppHeader,
	})
	require.NoError(t, err)
	seen := map[netip.Addr]bool{}
	b := make([]byte, protocol.RecvBufferSize)
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(patience)))
	for len(seen) < addrs {
		n, from, err := pc.ReadFromUDPAddrPort(b)
		require.NoError(t, err, "saw %d addresses", len(seen))
		require.True(t, attack.IsFloodAddr(from.Addr()), from)
		_, err = protocol.ParseHeaderFrom(b[:n], protocol.ToServer)
		require.NoError(t, err)
		seen[from.Addr()] = true
	}
	for a := range seen {
		assert.Less(t, int(a.As4()[3])+int(a.As4()[2])<<8, addrs+1, "one of the first %d addresses: %s", addrs, a)
	}
	cancel()
	st := f.Wait()
	assert.GreaterOrEqual(t, st.Datagrams, uint64(addrs))
	assert.Positive(t, st.Bytes)
	assert.Zero(t, st.Errors)
}
