package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
)

// replyGame answers each message at once and sends every client "tick"
// in Update: a game that does both in one tick.
type replyGame struct {
	BaseHandler
	peers []*Peer
}

func (g *replyGame) Connect(p *Peer) { g.peers = append(g.peers, p) }

func (g *replyGame) HandleMessage(p *Peer, _ conn.Seq, msg []byte) {
	_ = p.Send(append([]byte("re:"), msg...), conn.RetryNone, nil)
}

func (g *replyGame) Update(time.Duration) {
	for _, p := range g.peers {
		_ = p.Send([]byte("tick"), conn.RetryNone, nil)
	}
}

// replyTick runs one tick in which every client of w sends "hi", and
// returns what each client received, a string per datagram.
func replyTick(t *testing.T, w *benchWorld) [][]string {
	got := make([][]string, len(w.c.clients))
	var cur *[]string // the messages of the datagram being received
	for i := range w.c.clients {
		w.c.clients[i].sess.SetHandler(func(_ conn.Seq, m []byte) { *cur = append(*cur, string(m)) })
	}
	w.clientsSend([]byte("hi"))
	w.serverTick()
	for i := range w.c.clients {
		cl := &w.c.clients[i]
		for _, d := range cl.box {
			var msgs []string
			cur = &msgs
			require.NoError(t, cl.sess.Receive(w.now, d.Data))
			got[i] = append(got[i], fmt.Sprint(msgs))
		}
		cl.box = cl.box[:0]
	}
	return got
}

// By default a reply leaves as the client's datagram is handled, before
// Update's messages, in a datagram of its own; with CoalesceReplies it
// waits for the network phase and shares Update's datagram.
func TestRepliesLeaveAtOnce(t *testing.T) {
	for _, coalesce := range []bool{false, true} {
		t.Run(fmt.Sprintf("coalesce=%v", coalesce), func(t *testing.T) {
			g := &replyGame{}
			w := newTickWorld(t, 3, Config{Handler: g, CoalesceReplies: coalesce})
			replyTick(t, w) // the first tick's "tick"s and keep-alives
			got := replyTick(t, w)
			want := []string{"[re:hi]", "[tick]"}
			if coalesce {
				want = []string{"[re:hi tick]"}
			}
			for i := range got {
				assert.Equal(t, want, got[i], "client %d", i)
			}
		})
	}
}
