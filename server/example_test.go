package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

// Shout is a game: it answers every message in capitals.
type Shout struct {
	server.BaseHandler
	connected chan uint32
}

func (s Shout) Connect(p *server.Peer) { s.connected <- p.Token() }

func (Shout) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	out := make([]byte, len(msg))
	for i, b := range msg {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		out[i] = b
	}
	p.SendGuaranteed(out, nil)
}

// A server with a custom EventHandler on a real UDP socket, and a client
// talking to it.
func Example() {
	root, _ := conn.GenerateKey(nil) // in production: conn.LoadPrivateKey("root.pem")
	game := Shout{connected: make(chan uint32, 1)}
	srv, err := server.New(server.Config{Handler: game, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	go srv.Serve(ctx)
	defer func() { stop(); <-srv.Done() }()

	c := client.New(client.Config{ServerKey: root.Public()}) // clients pin the server's public key
	c.Connect(srv.Addr().String(), nil)
	c.SendGuaranteed([]byte("hello, server"), nil)
	for !c.HasMessages() {
		c.Update() // once per frame in a game
		time.Sleep(5 * time.Millisecond)
	}
	m, _ := c.Message()
	fmt.Printf("%s\n", m.Data)
	fmt.Println("server saw the same token:", <-game.connected == c.Token())
	c.WaitForDisconnect()
	fmt.Println(c.Status(), c.Err() == nil || c.Err() == conn.ErrLocalClose)
	// Output:
	// HELLO, SERVER
	// server saw the same token: true
	// DISCONNECTED true
}

// A server on an in-memory network: what a game's own tests use to run a
// server and its clients without sockets (inside a testing/synctest
// bubble, on fake time).
func ExampleNewWithConn() {
	root, _ := conn.GenerateKey(nil)
	net := transport.NewNetwork()
	sock, _ := net.Listen(netip.MustParseAddrPort("10.1.1.1:1474"))
	srv, _ := server.NewWithConn(server.Config{Handler: server.BaseHandler{}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, sock)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	c := client.New(client.Config{ServerKey: root.Public(), Dial: func(addr string) (transport.Conn, error) {
		return net.Dial(netip.MustParseAddrPort(addr))
	}})
	done := false
	c.Connect(srv.Addr().String(), func(ok bool) { done = true; fmt.Println("connected:", ok) })
	for !done {
		c.Update()
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("from", c.LocalAddr().Addr())
	// Output:
	// connected: true
	// from 10.0.0.1
}

// Named is a game whose players say their name in their first message.
type Named struct{ server.BaseHandler }

func (Named) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	if p.Label() == "" {
		p.SetLabel(string(msg)) // cleaned and cut to MaxLabel bytes
	}
}

// The game's names for its clients go with the server's snapshots, for
// the monitor's table (the gui package) and the admin API (with a token).
func ExamplePeer_SetLabel() {
	root, _ := conn.GenerateKey(nil)
	net := transport.NewNetwork()
	sock, _ := net.Listen(netip.MustParseAddrPort("10.1.1.1:1474"))
	srv, _ := server.NewWithConn(server.Config{Handler: Named{}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, sock)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	c := client.New(client.Config{ServerKey: root.Public(), Dial: func(addr string) (transport.Conn, error) {
		return net.Dial(netip.MustParseAddrPort(addr))
	}})
	c.Connect(srv.Addr().String(), nil)
	c.SendGuaranteed([]byte("ada\n\x1b[2J lovelace"), nil)
	var sn server.Snapshot
	for len(sn.Peers) == 0 || sn.Peers[0].Label == "" { // a snapshot a second
		c.Update()
		time.Sleep(5 * time.Millisecond)
		srv.Snapshot(&sn)
	}
	fmt.Printf("%q\n", sn.Peers[0].Label)
	// Output:
	// "ada [2J lovelace"
}

// Scores is a game that keeps a player with each client.
type Scores struct{ server.BaseHandler }

type scorer struct{ points int }

func (Scores) Connect(p *server.Peer) { p.SetData(&scorer{}) }

func (Scores) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	s := p.Data().(*scorer) // no lookup by token
	s.points += len(msg)
	p.SendGuaranteed(fmt.Appendf(nil, "%d points", s.points), nil)
}

// A game keeps its player with the client's Peer and finds it again from
// any of the client's events.
func ExamplePeer_SetData() {
	root, _ := conn.GenerateKey(nil)
	net := transport.NewNetwork()
	sock, _ := net.Listen(netip.MustParseAddrPort("10.1.1.1:1474"))
	srv, _ := server.NewWithConn(server.Config{Handler: Scores{}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, sock)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	c := client.New(client.Config{ServerKey: root.Public(), Dial: func(addr string) (transport.Conn, error) {
		return net.Dial(netip.MustParseAddrPort(addr))
	}})
	c.Connect(srv.Addr().String(), nil)
	c.SendGuaranteed([]byte("abc"), nil)
	c.SendGuaranteed([]byte("de"), nil)
	for got := 0; got < 2; {
		c.Update()
		for _, m := range c.Messages() {
			fmt.Println(string(m.Data))
			got++
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Output:
	// 3 points
	// 5 points
}

// Board is a game with a world to show: a handler that is also a
// server.WorldReporter puts its map and each client's view in the
// server's snapshots, for the monitor (gui) and the admin API (the points
// and clients with a token).
type Board struct{ server.BaseHandler }

func (Board) ReportPeer(p *server.Peer, w *server.PeerWorld) bool {
	*w = server.PeerWorld{InView: 2, X: 50, Y: 50, HalfW: 40, HalfH: 30}
	return true
}

func (Board) ReportWorld(m *server.WorldMap) {
	m.MinX, m.MinY, m.MaxX, m.MaxY = 0, 0, 100, 100
	m.Kinds = append(m.Kinds[:0], "piece")
	m.Points = append(m.Points, server.WorldPoint{X: 10, Y: 20}, server.WorldPoint{X: 60, Y: 40})
}

func ExampleWorldReporter() {
	root, _ := conn.GenerateKey(nil)
	net := transport.NewNetwork()
	sock, _ := net.Listen(netip.MustParseAddrPort("10.1.1.1:1474"))
	srv, _ := server.NewWithConn(server.Config{Handler: Board{}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, sock)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()

	c := client.New(client.Config{ServerKey: root.Public(), Dial: func(addr string) (transport.Conn, error) {
		return net.Dial(netip.MustParseAddrPort(addr))
	}})
	c.Connect(srv.Addr().String(), nil)
	var sn server.Snapshot
	for len(sn.Peers) == 0 || !sn.Peers[0].World.Reported { // a snapshot a second
		c.Update()
		time.Sleep(5 * time.Millisecond)
		srv.Snapshot(&sn)
	}
	w := sn.Peers[0].World
	fmt.Printf("world %gx%g, %d %s; the client sees %d around (%g, %g)\n",
		sn.World.MaxX, sn.World.MaxY, len(sn.World.Points), sn.World.Kinds[0], w.InView, w.X, w.Y)
	// Output:
	// world 100x100, 2 piece; the client sees 2 around (50, 50)
}
