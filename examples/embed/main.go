// Command embed is the smallest Ebitengine game on mpgameserver: it joins
// an arena server (mpgameserver serve --game arena), steers a ship with
// the arrow keys and Space, and draws every ship the server reports.
//
//	go run ./examples/embed --server 127.0.0.1:1474 --pubkey keys/root.pub
package main

import (
	"flag"
	"fmt"
	"image/color"
	"log"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

type game struct {
	c    *client.Client
	id   uint32        // our ship, from the server's Welcome
	seq  uint32        // input counter
	snap wire.Snapshot // the latest world the server sent
}

func (g *game) Update() error {
	g.c.Update() // once per frame: send and receive, never blocks
	for _, m := range g.c.Messages() {
		switch k, _ := wire.KindOf(m.Data); k {
		case wire.KindWelcome:
			w, _ := wire.ParseWelcome(m.Data)
			g.id = w.ID
			g.c.SendGuaranteed(wire.AppendHello(nil, wire.Hello{Name: "embed"}), nil)
		case wire.KindSnapshot:
			wire.ParseSnapshot(&g.snap, m.Data) // snapshots come 30 times a second
		}
	}
	var in sim.Input
	for _, k := range [...]struct {
		key ebiten.Key
		b   sim.Input
	}{{ebiten.KeyArrowUp, sim.Thrust}, {ebiten.KeyArrowLeft, sim.Left}, {ebiten.KeyArrowRight, sim.Right}, {ebiten.KeySpace, sim.Fire}} {
		if ebiten.IsKeyPressed(k.key) {
			in |= k.b
		}
	}
	if g.id != 0 {
		g.seq++ // inputs are plain sends: the next one replaces a lost one
		g.c.Send(wire.AppendInput(nil, wire.Input{Seq: g.seq, Buttons: in}), conn.RetryNone, nil)
	}
	return nil
}

func (g *game) Draw(screen *ebiten.Image) {
	for _, s := range g.snap.Ships {
		c := color.RGBA{90, 170, 255, 255}
		if s.ID == g.id {
			c = color.RGBA{255, 200, 40, 255}
		}
		if s.Flags&wire.FlagAlive != 0 {
			vector.FillCircle(screen, float32(s.X/2), float32(s.Y/2), 8, c, true)
		}
	}
	for _, b := range g.snap.Bullets {
		vector.FillRect(screen, float32(b.X/2)-1, float32(b.Y/2)-1, 3, 3, color.White, false)
	}
	ebitenutil.DebugPrint(screen, fmt.Sprintf("%s  latency %v  ships %d", g.c.Status(), g.c.Latency(), len(g.snap.Ships)))
}

func (g *game) Layout(int, int) (int, int) { return sim.Width / 2, sim.Height / 2 }

func main() {
	server := flag.String("server", "127.0.0.1:1474", "arena server, host:port")
	pubkey := flag.String("pubkey", "", "the server's public key (PEM) to pin")
	flag.Parse()
	var key *conn.PublicKey
	if *pubkey != "" {
		var err error
		if key, err = conn.LoadPublicKey(*pubkey); err != nil {
			log.Fatal(err)
		}
	}
	c := client.New(client.Config{ServerKey: key})
	if err := c.Connect(*server, func(ok bool) { log.Printf("connected: %v (%v)", ok, c.Err()) }); err != nil {
		log.Fatal(err)
	}
	defer c.WaitForDisconnect() // a graceful goodbye when the window closes
	ebiten.SetWindowTitle("mpgameserver embed - " + *server)
	if err := ebiten.RunGame(&game{c: c}); err != nil {
		log.Fatal(err)
	}
}
