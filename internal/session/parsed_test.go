package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// ReceiveParsed, given the header a server's routing parsed, does what
// Receive does: two twin connections, one fed each way, deliver the same
// messages, refuse the same datagrams and end in the same state.
func TestReceiveParsedIsReceive(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clientA, serverA := handshake(t, now)
	clientB, serverB := handshake(t, now)
	// The handshakes' signatures differ in length now and then: count
	// the bytes sent after them.
	sentA, sentB := serverA.Stats().BytesSent, serverB.Stats().BytesSent
	var gotA, gotB []string
	serverA.SetHandler(func(_ protocol.Seq, m []byte) { gotA = append(gotA, string(m)) })
	serverB.SetHandler(func(_ protocol.Seq, m []byte) { gotB = append(gotB, string(m)) })

	buf := make([]byte, 0, protocol.MaxDatagramSize)
	for i := range 20 {
		now = now.Add(40 * time.Millisecond)
		msg := []byte{byte(i), 'x', 'y'}
		require.NoError(t, clientA.Send(msg, conn.RetryNone, nil))
		require.NoError(t, clientB.Send(msg, conn.RetryNone, nil))
		da := append([]byte(nil), clientA.Poll(now, buf)...)
		db := append([]byte(nil), clientB.Poll(now, buf)...)
		require.Equal(t, da, db, "twin clients send the same datagram")
		if len(da) == 0 {
			continue // nothing due yet
		}
		again := append([]byte(nil), da...)

		errA := serverA.Receive(now, da)
		h, err := protocol.ParseHeaderFrom(db, protocol.ToServer)
		require.NoError(t, err)
		errB := serverB.ReceiveParsed(now, h, db)
		assert.Equal(t, errA, errB, "datagram %d", i)
		if i%5 == 0 { // the same datagram again: a duplicate, both ways
			copyA, copyB := append([]byte(nil), again...), append([]byte(nil), again...)
			errA = serverA.Receive(now, copyA)
			h, err = protocol.ParseHeaderFrom(copyB, protocol.ToServer)
			require.NoError(t, err)
			errB = serverB.ReceiveParsed(now, h, copyB)
			assert.ErrorIs(t, errA, conn.ErrDuplicate)
			assert.Equal(t, errA, errB)
		}
		sa, sb := serverA.Poll(now, buf), serverB.Poll(now, make([]byte, 0, protocol.MaxDatagramSize))
		assert.Equal(t, sa, sb, "the servers answer alike")
	}
	assert.Len(t, gotA, 20, "every message arrived")
	assert.Equal(t, gotA, gotB)
	statsA, statsB := serverA.Stats(), serverB.Stats()
	statsA.BytesSent -= sentA
	statsB.BytesSent -= sentB
	assert.Equal(t, statsA, statsB)
	assert.Equal(t, fingerprint(serverA), fingerprint(serverB))
}
