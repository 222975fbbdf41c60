package attack_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/attack"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/server"
)

// patience bounds every wait for something that must happen; it is not
// a timing assertion, only a way not to hang.
const patience = 10 * time.Second

// echoServer runs our echo server on a real socket on the loopback.
func echoServer(t *testing.T) (*server.Server, *conn.PublicKey) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv, root.Public()
}

// recorder is a server socket that keeps a copy of every datagram the
// server reads.
type recorder struct {
	transport.Conn
	mu  sync.Mutex
	got [][]byte
}

func (r *recorder) ReadBatch(ds []transport.Datagram) (int, error) {
	n, err := r.Conn.ReadBatch(ds)
	r.mu.Lock()
	for _, d := range ds[:n] {
		r.got = append(r.got, bytes.Clone(d.Data))
	}
	r.mu.Unlock()
	return n, err
}

// copies counts the datagrams read that are byte for byte d.
func (r *recorder) copies(d []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, g := range r.got {
		if bytes.Equal(g, d) {
			n++
		}
	}
	return n
}

// recordingEchoServer is echoServer on a socket that records what it reads.
func recordingEchoServer(t *testing.T) (*server.Server, *conn.PublicKey, *recorder) {
	t.Helper()
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	sock, err := transport.Listen("127.0.0.1:0", transport.Config{})
	require.NoError(t, err)
	rec := &recorder{Conn: sock}
	srv, err := server.NewWithConn(server.Config{Handler: echo.NewHandler(nil), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, rec)
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() { srv.Stop(); <-srv.Done() })
	return srv, root.Public(), rec
}

// awaitEcho receives until a message with body arrives.
func awaitEcho(t *testing.T, c *attack.Client, body []byte) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		msgs, err := c.Receive(100 * time.Millisecond)
		require.NoError(t, err)
		for _, m := range msgs {
			if m.Type == protocol.TypeApp && bytes.Equal(m.Body, body) {
				return
			}
		}
	}
	t.Fatalf("no echo of %q", body)
}

func TestClientEchoAndReplay(t *testing.T) {
	t.Parallel()
	srv, key, rec := recordingEchoServer(t)
	c, err := attack.Dial(context.Background(), srv.Addr(), key, patience)
	require.NoError(t, err)
	defer c.Close()
	assert.Positive(t, c.Token())
	assert.Equal(t, srv.Addr(), c.Server())

	body := []byte("attack kit says hello")
	d, err := c.Send([]protocol.Message{c.Message(protocol.TypeApp, body)})
	require.NoError(t, err)
	awaitEcho(t, c, body)

	h, err := protocol.ParseHeaderFrom(d, protocol.ToServer)
	require.NoError(t, err)
	assert.Equal(t, protocol.TypeApp, h.Type)
	assert.Equal(t, uint8(1), h.Count)
	assert.NotZero(t, h.Ack, "the server's packets are acknowledged")
	assert.InDelta(t, time.Now().Unix(), int64(h.CTime), 2, "ctime is Unix seconds")

	require.NoError(t, c.SendRaw(d))
	deadline := time.Now().Add(patience)
	for rec.copies(d) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, 2, rec.copies(d), "the replay reached the server byte for byte")

	st := c.Stats()
	assert.Positive(t, st.DatagramsReceived)
	assert.Positive(t, st.MessagesReceived)
	assert.False(t, st.Disconnected)
}

func TestClientPacketsAsBuilt(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t)
	c, err := attack.Dial(context.Background(), srv.Addr(), key, patience)
	require.NoError(t, err)
	defer c.Close()

	// Two messages with chosen seqs and types, one of them a fragment.
	id := c.NextFragmentID()
	frag := protocol.AppendFragment(nil, protocol.FragmentHeader{ID: id, Index: 2, Count: 8192}, []byte{1, 2, 3})
	msgs := []protocol.Message{c.Message(protocol.TypeAppFragment, frag), c.Message(protocol.TypeApp, []byte("x"))}
	before := c.Stats()
	d, err := c.Send(msgs)
	require.NoError(t, err)
	h, err := protocol.ParseHeaderFrom(d, protocol.ToServer)
	require.NoError(t, err)
	assert.Equal(t, protocol.TypeAppFragment, h.Type, "the header takes the first message's type")
	assert.Equal(t, uint8(2), h.Count)
	assert.Equal(t, protocol.HeaderSize+protocol.PayloadSize(msgs)+protocol.TagSize, len(d))
	assert.Equal(t, before.DatagramsSent+1, c.Stats().DatagramsSent)
	assert.Equal(t, before.MessagesSent+2, c.Stats().MessagesSent)

	// A packet seq per datagram.
	d2, err := c.Send(nil)
	require.NoError(t, err)
	h2, err := protocol.ParseHeaderFrom(d2, protocol.ToServer)
	require.NoError(t, err)
	assert.Equal(t, h.Seq.Next(), h2.Seq)
	assert.Equal(t, protocol.TypeKeepAlive, h2.Type)

	// More than 255 messages cannot be encoded, and nothing is sent.
	_, err = c.Send(make([]protocol.Message, 256))
	assert.Error(t, err)
	assert.Equal(t, before.DatagramsSent+2, c.Stats().DatagramsSent)

	c.WithholdAcks(true)
	d3, err := c.Send(nil)
	require.NoError(t, err)
	h3, err := protocol.ParseHeaderFrom(d3, protocol.ToServer)
	require.NoError(t, err)
	assert.Zero(t, h3.Ack)
	assert.Zero(t, h3.AckBits)

	require.NoError(t, c.Disconnect())
	deadline := time.Now().Add(patience)
	for !c.Stats().Disconnected && time.Now().Before(deadline) {
		_, err := c.Receive(100 * time.Millisecond)
		require.NoError(t, err)
	}
	assert.True(t, c.Stats().Disconnected, "the server answers a DISCONNECT with its own")
	require.NoError(t, c.Close())
	_, err = c.Poll()
	assert.ErrorIs(t, err, attack.ErrClosed)
}

func TestDialWithTheWrongKey(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t)
	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	_, err = attack.Dial(context.Background(), srv.Addr(), other.Public(), 600*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signature")
}
