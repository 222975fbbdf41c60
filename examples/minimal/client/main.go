// Command client is a whole Ebitengine game: click to drop a dot, which
// every player of examples/minimal/server sees.
//
//	go run ./examples/minimal/client --server 127.0.0.1:1474 --pubkey keys/root.pub
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"image/color"
	"log"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/ebitenutil"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
	"github.com/hajimehoshi/ebiten/v2/vector"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

// game is an ebiten.Game: Update runs the client's frame, reads what
// arrived and sends a click; Draw shows every dot.
type game struct {
	c    *client.Client
	dots [][2]float32
}

func (g *game) Update() error {
	g.c.Update() // network work of one frame; it never blocks
	for _, m := range g.c.Messages() {
		if len(m.Data) == 4 {
			x, y := binary.BigEndian.Uint16(m.Data), binary.BigEndian.Uint16(m.Data[2:])
			g.dots = append(g.dots, [2]float32{float32(x), float32(y)})
		}
	}
	if g.c.Connected() && inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		x, y := ebiten.CursorPosition()
		dot := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, uint16(x)), uint16(y))
		if err := g.c.SendGuaranteed(dot, nil); err != nil {
			return err
		}
	}
	return nil
}

func (g *game) Draw(screen *ebiten.Image) {
	for _, d := range g.dots {
		vector.FillCircle(screen, d[0], d[1], 5, color.RGBA{0x40, 0xc0, 0xff, 0xff}, true)
	}
	status := "connecting ..."
	switch {
	case g.c.Reconnecting():
		status = "reconnecting ..." // the server restarted, or went silent
	case g.c.Connected():
		status = fmt.Sprintf("connected: click to drop a dot (%d so far)", len(g.dots))
	case g.c.Err() != nil:
		status = fmt.Sprintf("not connected: %v", g.c.Err())
	}
	ebitenutil.DebugPrint(screen, status)
}

func (g *game) Layout(int, int) (int, int) { return 640, 480 }

func main() {
	server := flag.String("server", "127.0.0.1:1474", "the server's host:port")
	pubkey := flag.String("pubkey", "", "the server's public key, to pin (empty: trust the server's)")
	flag.Parse()

	var key *conn.PublicKey
	if *pubkey != "" {
		k, err := conn.LoadPublicKey(*pubkey)
		if err != nil {
			log.Fatal(err)
		}
		key = k
	}
	c := client.New(client.Config{ServerKey: key, Reconnect: &client.Reconnect{}})
	if err := c.Connect(*server, nil); err != nil {
		log.Fatal(err)
	}
	ebiten.SetWindowTitle("dots")
	if err := ebiten.RunGame(&game{c: c}); err != nil {
		log.Fatal(err)
	}
}
