// Command browser is the arena's game window built for a web page
// (GOOS=js GOARCH=wasm): the page that mpgameserver serve --web serves
// runs it with the server's signaling URL, its public key and the
// player's name as arguments, and it joins that server over the browser
// carrier (WebRTC data channels) like any native player.
//
//	GOOS=js GOARCH=wasm go build -o arena.wasm ./internal/arena/browser
//
// It builds natively too, where -server may be host:port (UDP) as well.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena/game"
	"github.com/mpgs/mpgameserver/internal/arena/wire"
)

func main() {
	opts, err := options(os.Args[1:], os.Stderr)
	if err == nil {
		err = play(opts)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "arena:", err)
		report(err)
		os.Exit(1)
	}
}

// play runs the game in the page until Esc, then disconnects
// gracefully.
func play(opts game.Options) error {
	g, err := game.New(opts)
	if err != nil {
		return err
	}
	defer g.Player().Client().WaitForDisconnect()
	p := &page{Game: g, keep: keeper{after: time.Second / 2}}
	stop := make(chan struct{})
	defer close(stop)
	go p.keep.run(time.Second/4, func(now time.Time) { g.Player().Frame(now, 0) }, stop)
	if err := ebiten.RunGame(p); err != nil {
		return fmt.Errorf("game: %w", err)
	}
	return nil
}

// page is the game, telling the page who is in the arena, and keeping
// the connection while the tab is hidden.
type page struct {
	*game.Game
	keep    keeper
	told    time.Time
	players string
}

// Update runs the game's frame and, four times a second, puts the names
// of the ships in the arena (sorted, comma-separated) in the page's
// body's data-players attribute, for a page that shows them or a test
// that reads them.
func (p *page) Update() error {
	var err error
	now := time.Now()
	p.keep.frame(now, func() {
		if err = p.Game.Update(); err != nil || now.Sub(p.told) < time.Second/4 {
			return
		}
		p.told = now
		var names []string
		for _, s := range p.Player().View(now).Ships {
			names = append(names, s.Name)
		}
		sort.Strings(names)
		if joined := strings.Join(names, ","); joined != p.players {
			p.players = joined
			publish(joined)
		}
	})
	return err
}

// Draw draws the game, never while the keeper runs a network frame.
func (p *page) Draw(screen *ebiten.Image) {
	p.keep.locked(func() { p.Game.Draw(screen) })
}

// options reads the window's options from the arguments the page passes:
// -server URL, -key PEM text, -name, -color.
func options(args []string, stderr io.Writer) (game.Options, error) {
	fs := flag.NewFlagSet("arena", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "the server's signaling URL (https://host/rtc), or host:port natively")
	key := fs.String("key", "", "the server's public key to pin, as PEM text (empty: trust the server's key)")
	name := fs.String("name", "", "the player's name (empty: the server names you)")
	color := fs.String("color", "", "ship color, 0 to "+strconv.Itoa(wire.Colors-1)+" (empty: from the name)")
	if err := fs.Parse(args); err != nil {
		return game.Options{}, err
	}
	if fs.NArg() > 0 {
		return game.Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *server == "" {
		return game.Options{}, errors.New("-server: want the server's signaling URL")
	}
	opts := game.Options{Server: *server, Name: wire.CleanName(*name), Out: io.Discard}
	if *key != "" {
		k, err := conn.ParsePublicKeyPEM([]byte(*key))
		if err != nil {
			return game.Options{}, fmt.Errorf("-key: %w", err)
		}
		opts.Key = k
	}
	switch {
	case *color != "":
		c, err := strconv.Atoi(*color)
		if err != nil || c < 0 || c >= wire.Colors {
			return game.Options{}, fmt.Errorf("-color %q: want 0 to %d", *color, wire.Colors-1)
		}
		opts.Color = uint8(c)
	default:
		opts.Color = colorOf(opts.Name)
	}
	return opts, nil
}

// colorOf picks a color from a name, so that a returning player keeps
// theirs.
func colorOf(name string) uint8 {
	var h uint32 = 2166136261
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return uint8(h % wire.Colors)
}
