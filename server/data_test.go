package server_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// dataPlayer is what dataGame keeps with each client (Peer.SetData).
type dataPlayer struct {
	token uint32
	msgs  int
}

// dataGame keeps a player with each client and counts its messages
// through Peer.Data alone.
type dataGame struct {
	server.BaseHandler
	mu    sync.Mutex
	peers []*server.Peer
	left  map[uint32]int // token → messages counted, at Disconnect
	wrong int            // events whose Data was not the client's player
}

func (g *dataGame) Connect(p *server.Peer) {
	p.SetData(&dataPlayer{token: p.Token()})
	g.mu.Lock()
	g.peers = append(g.peers, p)
	g.mu.Unlock()
}

func (g *dataGame) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	pl, ok := p.Data().(*dataPlayer)
	if !ok || pl.token != p.Token() {
		g.mu.Lock()
		g.wrong++
		g.mu.Unlock()
		return
	}
	pl.msgs++
}

func (g *dataGame) Disconnect(p *server.Peer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pl, ok := p.Data().(*dataPlayer)
	if !ok || pl.token != p.Token() {
		g.wrong++
		return
	}
	g.left[p.Token()] = pl.msgs
}

// TestPeerData: each client's value (Peer.SetData) comes back from Data
// in its own events only, through its Disconnect; the server lets go of
// it once the client is forgotten.
func TestPeerData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &dataGame{left: map[uint32]int{}}
		w := start(t, g, nil)
		a, b := w.connect(), w.connect()
		for i := range 5 {
			require.NoError(t, a.SendGuaranteed([]byte("a"), nil))
			if i < 2 {
				require.NoError(t, b.SendGuaranteed([]byte("b"), nil))
			}
		}
		pump(a, time.Second, func() bool { return false })
		pump(b, time.Second, func() bool { return false })
		a.Disconnect()
		b.Disconnect()
		pump(a, 2*time.Second, func() bool { return false })
		pump(b, 2*time.Second, func() bool { return false })
		time.Sleep(2 * time.Second) // the server forgets closed connections
		g.mu.Lock()
		assert.Zero(t, g.wrong)
		assert.Equal(t, map[uint32]int{a.Token(): 5, b.Token(): 2}, g.left)
		peers := g.peers
		g.mu.Unlock()
		require.Len(t, peers, 2)
		kept := make(chan []any, 1)
		w.srv.Post(func() { kept <- []any{peers[0].Data(), peers[1].Data()} }) // a Peer's methods run on the event goroutine
		assert.Equal(t, []any{nil, nil}, <-kept, "kept after the client was forgotten")
	})
}
