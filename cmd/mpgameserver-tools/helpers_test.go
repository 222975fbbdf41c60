package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/echo"
	"github.com/mpgs/mpgameserver/server"
)

// runArgs runs the program with args and returns its exit status and
// outputs.
func runArgs(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// keygen writes a new key pair NAME.key and NAME.pub into dir.
func keygen(t *testing.T, dir, name string) {
	t.Helper()
	k, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, conn.SavePrivateKey(filepath.Join(dir, name+".key"), k))
	require.NoError(t, conn.SavePublicKey(filepath.Join(dir, name+".pub"), k.Public()))
}

// gameServer runs a server of game ("echo" or "arena") on the loopback,
// with the root key in keyFile ("": a new one), until the test ends, and
// returns its address.
func gameServer(t *testing.T, game, keyFile string) string {
	t.Helper()
	var key *conn.PrivateKey
	if keyFile != "" {
		var err error
		key, err = conn.LoadPrivateKey(keyFile)
		require.NoError(t, err)
	}
	var h server.EventHandler = echo.NewHandler(nil)
	if game == "arena" {
		h = arena.NewHandler(nil, 1)
	}
	srv, err := server.New(server.Config{Handler: h, RootKey: key, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Run()
	t.Cleanup(func() {
		srv.Stop()
		select {
		case <-srv.Done():
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
	})
	return srv.Addr().String()
}
