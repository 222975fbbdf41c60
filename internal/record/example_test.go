package record_test

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/server"
)

// Record two ticks of a game, then read them back.
func Example() {
	dir, err := os.MkdirTemp("", "recording")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	w, err := record.NewWriter(dir, record.Config{KeepAddrs: true}, start)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := start
	w.Tick(now, 1, 16*time.Millisecond)
	w.Connect(now, 7, netip.MustParseAddrPort("192.0.2.1:4000"))
	w.Message(now, 7, []byte("hello"))
	w.Checksum(now, 1, 0xfeed)
	now = now.Add(16 * time.Millisecond)
	w.Tick(now, 2, 16*time.Millisecond)
	w.Disconnect(now, 7, 1)
	w.Snapshot(now, []byte(`{"players":0}`))
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}

	r, err := record.Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(rec)
	}
	first, last, _, _, err := r.Span()
	fmt.Println("ticks", first, "to", last, err)
	// Output:
	// tick 1 (16ms)
	// connect peer 7 from 192.0.2.1:4000
	// message peer 7: 5 bytes
	// checksum tick 1: 000000000000feed
	// tick 2 (16ms)
	// disconnect peer 7 (reason 1)
	// snapshot: 13 bytes
	// ticks 1 to 2 <nil>
}

// A Writer is what a server's Config.Recorder takes.
var _ server.Recorder = (*record.Writer)(nil)
