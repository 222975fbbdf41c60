package udp_test

import (
	"fmt"
	"net"
	"time"

	"github.com/mpgs/mpgameserver/engine/udp"
)

// A tick's worth of datagrams: the Writer sends everything queued in a
// Flush (one sendmmsg on Linux), the Reader's goroutine reads them (one
// recvmmsg) and the owner takes them all in one call.
func Example() {
	in, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer in.Close()
	out, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer out.Close()

	r := udp.NewReader(in, 1024, 1<<20, nil) // at most 1024 datagrams, 1 MiB between Takes
	r.Start()
	w := udp.NewWriter(out)
	to := in.LocalAddr().(*net.UDPAddr).AddrPort()
	for i := range 3 {
		w.Queue(fmt.Appendf(w.Buffer(), "datagram %d", i), to)
	}
	w.Flush()

	var got []udp.Datagram
	for deadline := time.Now().Add(5 * time.Second); len(got) < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		batch := r.Take()
		for _, d := range batch {
			// d.Data is valid until Recycle: copy what must outlive it.
			got = append(got, udp.Datagram{Data: append([]byte(nil), d.Data...), From: d.From})
		}
		r.Recycle(batch)
	}
	for _, d := range got {
		fmt.Printf("%s from the writer's port: %v\n", d.Data, d.From.Port() == out.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	}
	// Output:
	// datagram 0 from the writer's port: true
	// datagram 1 from the writer's port: true
	// datagram 2 from the writer's port: true
}
