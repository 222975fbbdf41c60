// Package seattest records real arena games for tests of replays: a
// server on the loopback with computer players, its events written by the
// flight recorder, as `mpgameserver serve --game arena --record DIR
// --bots N` writes them.
package seattest

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/arena/sim"
	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/internal/syncbuf"
	"github.com/mpgs/mpgameserver/server"
)

// Record runs a classic arena on the loopback with bots computer players
// (named bot1, bot2...), recording it into dir; once every bot has joined
// (the server printed its JOIN line) it lets them play for play of real
// time, then the bots leave, the server stops and the recording is
// closed. It returns what the server printed (JOIN, KILL and LEAVE
// lines). How much is played depends on the machine: tests assert on
// what the recording holds, never on how much.
func Record(t testing.TB, dir string, bots int, play time.Duration) string {
	t.Helper()
	opts := arena.Options{Seed: 42, Scene: sim.Classic()}
	w, err := record.NewWriter(dir, record.Config{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.Game(time.Now(), rerun.Game{Game: "arena", Arena: rerun.ArenaOf(opts)}.Encode())
	root, err := conn.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &syncbuf.Buffer{}
	srv, err := server.New(server.Config{Handler: arena.New(out, opts), RootKey: root, Recorder: w,
		KeepAliveInterval: arena.KeepAlive, Logger: slog.New(slog.DiscardHandler)}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = arena.RunBots(ctx, srv.Addr().String(), root.Public(), bots)
	}()
	stop := func() {
		cancel()
		<-done
		srv.Stop()
		<-srv.Done()
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}
	deadline := time.Now().Add(time.Minute) // a bound for a broken server, not a measure
	for strings.Count(out.String(), "JOIN ") < bots && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(out.String(), "JOIN "); n < bots {
		stop()
		t.Fatalf("%d of %d bots joined in a minute", n, bots)
	}
	time.Sleep(play)
	stop()
	return out.String()
}
