package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/guitest"
	"github.com/mpgs/mpgameserver/server"
)

var win *guitest.Window

func TestMain(m *testing.M) { guitest.Main(m, &win) }

func TestUnder100Lines(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	assert.Less(t, bytes.Count(src, []byte("\n")), 100)
}

// TestEmbedJoinsAndDraws runs the example game in the window against an
// arena server with a bot: it is welcomed, receives snapshots and draws
// its own ship in yellow.
func TestEmbedJoinsAndDraws(t *testing.T) {
	w := guitest.Get(t, win)
	root, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{Handler: arena.NewHandler(nil, 9), RootKey: root, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	bctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go arena.RunBots(bctx, srv.Addr().String(), root.Public(), 1)

	g := &game{c: client.New(client.Config{ServerKey: root.Public()})}
	require.NoError(t, g.c.Connect(srv.Addr().String(), nil))
	defer g.c.ForceDisconnect()
	defer w.Show(g)()
	var x, y float64
	ready := false
	for deadline := time.Now().Add(10 * time.Second); !ready && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		w.Between(func() {
			for _, s := range g.snap.Ships {
				if s.ID == g.id && g.id != 0 && len(g.snap.Ships) == 2 {
					x, y, ready = s.X/2, s.Y/2, true
				}
			}
		})
	}
	require.True(t, ready, "welcomed and seeing both ships")
	img := w.Capture(t)
	yellow := 0
	for py := int(y) - 10; py <= int(y)+10; py++ {
		for px := int(x) - 10; px <= int(x)+10; px++ {
			o := img.PixOffset(px, py)
			if img.Pix[o] > 200 && img.Pix[o+1] > 150 && img.Pix[o+2] < 100 {
				yellow++
			}
		}
	}
	assert.Greater(t, yellow, 50, "our ship is drawn where the server says")
}

// TestMainSetsAWindowTitle: main names its window (Ebitengine cannot be
// asked for the title, and main needs the main thread: its code is read)
// before it runs the game.
func TestMainSetsAWindowTitle(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	require.NoError(t, err)
	var calls []string
	var title ast.Expr
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "main" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "ebiten" {
					calls = append(calls, sel.Sel.Name)
					if sel.Sel.Name == "SetWindowTitle" && len(call.Args) == 1 {
						title = call.Args[0]
					}
				}
			}
			return true
		})
	}
	require.Contains(t, calls, "SetWindowTitle")
	assert.Less(t, slices.Index(calls, "SetWindowTitle"), slices.Index(calls, "RunGame"), "the title is set before the window opens")
	lit, ok := title.(*ast.BinaryExpr)
	require.True(t, ok, "the title names the game and its server")
	s, ok := lit.X.(*ast.BasicLit)
	require.True(t, ok)
	assert.Contains(t, s.Value, "mpgameserver")
}
