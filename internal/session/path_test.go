package session_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/pair"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

var (
	testPathID = protocol.PathID{1, 2, 3, 4, 5, 6, 7, 8}
	testReset  = protocol.ResetToken{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 7}
)

// pathPair connects a pair whose server conn is given a path ID when
// give; plain makes the client hello unmarked, as the reference's.
func pathPair(t *testing.T, give, plain bool) *pair.Pair {
	t.Helper()
	p := newPair(t, perfect, perfect, 77)
	p.ClientConfig.PlainHello = plain
	if give {
		p.OnServer = func(c *session.Conn) { c.SetPathID(testPathID, testReset) }
	}
	require.NoError(t, p.Connect(10*time.Second))
	p.Run(tick, 200*time.Millisecond) // the caps and the path ID arrive
	return p
}

// nextDatagram has the client send a message and returns its datagram.
func nextDatagram(t *testing.T, p *pair.Pair) []byte {
	t.Helper()
	require.NoError(t, p.Client.Send([]byte("hello"), conn.RetryNone, nil))
	d := p.Client.Poll(p.Now.Add(time.Second), make([]byte, 0, protocol.MaxDatagramSize))
	require.NotNil(t, d)
	return d
}

// TestPathIDOnlyBetweenOurEnds: a client of ours told a path ID appends
// it to its encrypted datagrams; a client with an unmarked hello (the
// reference) is never told one, and a client of a server that gives none
// appends nothing: both keep the reference's datagrams.
func TestPathIDOnlyBetweenOurEnds(t *testing.T) {
	p := pathPair(t, true, false)
	assert.True(t, p.Server.Migrates())
	d := nextDatagram(t, p)
	h, err := protocol.ParseHeader(d)
	require.NoError(t, err)
	id, ok := protocol.Trailer(d, &h)
	require.True(t, ok, "a trailer")
	assert.Equal(t, testPathID, id)
	require.NoError(t, p.Server.Receive(p.Now.Add(time.Second), d), "the server reads past it")

	for _, c := range []struct {
		name        string
		give, plain bool
	}{{"reference client", true, true}, {"server without migration", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			p := pathPair(t, c.give, c.plain)
			assert.False(t, p.Server.Migrates())
			d := nextDatagram(t, p)
			h, err := protocol.ParseHeader(d)
			require.NoError(t, err)
			assert.Equal(t, protocol.HeaderSize+int(h.Length)+protocol.TagSize, len(d), "nothing after the tag")
			assert.Nil(t, p.Server.Challenge(p.Now, nil, true), "no challenge to a client that cannot move")
		})
	}
}

// TestPathChallenge: the client answers a challenge with its data, which
// validates the path once; an answer to an older challenge does not.
func TestPathChallenge(t *testing.T) {
	p := pathPair(t, true, false)
	now := p.Now.Add(time.Second)
	buf := make([]byte, 0, protocol.MaxDatagramSize)
	ch := p.Server.Challenge(now, buf, true)
	require.NotNil(t, ch)
	require.NoError(t, p.Client.Receive(now, append([]byte(nil), ch...)))
	resp := p.Client.Poll(now, make([]byte, 0, protocol.MaxDatagramSize))
	require.NotNil(t, resp, "the answer goes at once")
	assert.False(t, p.Server.PathValidated())
	require.NoError(t, p.Server.Receive(now, resp))
	assert.True(t, p.Server.PathValidated(), "the answer validates")
	assert.False(t, p.Server.PathValidated(), "once")

	// A fresh challenge makes an answer to the previous one worthless.
	now = now.Add(time.Second)
	old := p.Server.Challenge(now, buf, true)
	require.NoError(t, p.Client.Receive(now, append([]byte(nil), old...)))
	oldResp := append([]byte(nil), p.Client.Poll(now, make([]byte, 0, protocol.MaxDatagramSize))...)
	require.NotNil(t, p.Server.Challenge(now, buf, true))
	require.NoError(t, p.Server.Receive(now, oldResp))
	assert.False(t, p.Server.PathValidated(), "an answer to another challenge")
}

// TestStatelessReset: a reset carrying the session's token closes a
// client at once with ErrReset; one with another token, or of another
// size, is a bad datagram like any other, and the connection goes on.
func TestStatelessReset(t *testing.T) {
	p := pathPair(t, true, false)
	now := p.Now.Add(time.Second)
	var random [protocol.ResetSize - 4 - protocol.ResetTokenSize]byte
	wrong := testReset
	wrong[0] ^= 1
	assert.Error(t, p.Client.Receive(now, protocol.AppendReset(nil, random, wrong)))
	assert.Error(t, p.Client.Receive(now, append(protocol.AppendReset(nil, random, testReset), 0)))
	assert.Equal(t, conn.Connected, p.Client.Status())

	err := p.Client.Receive(now, protocol.AppendReset(nil, random, testReset))
	assert.ErrorIs(t, err, conn.ErrReset)
	assert.Equal(t, conn.Disconnected, p.Client.Status())
	assert.ErrorIs(t, p.Client.Err(), conn.ErrReset)

	// A client that was never told a token takes nothing for a reset.
	q := pathPair(t, false, false)
	assert.Error(t, q.Client.Receive(now, protocol.AppendReset(nil, random, protocol.ResetToken{})))
	assert.Equal(t, conn.Connected, q.Client.Status())
}
