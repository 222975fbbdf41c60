package transport_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// A server socket and a client socket on the loopback exchanging a batch:
// ReadBatch never waits, Wait does.
func Example() {
	srv, err := transport.Listen("127.0.0.1:0", transport.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	cli, err := transport.Dial(srv.LocalAddr().String(), transport.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cli.Close()

	out := []transport.Datagram{{Data: []byte("one")}, {Data: []byte("two")}, {Data: []byte("three")}}
	cli.WriteBatch(out) // a connected socket: Addr is ignored

	// Buffers to read into, allocated once and reused.
	in := make([]transport.Datagram, transport.BatchSize)
	for i := range in {
		in[i].Data = make([]byte, 0, transport.RecvSize)
	}
	got := 0
	for got < 3 {
		srv.Wait(time.Now().Add(5 * time.Second))
		n, _ := srv.ReadBatch(in)
		for _, d := range in[:n] {
			fmt.Printf("%s from the client's address: %v\n", d.Data, d.Addr == cli.LocalAddr())
		}
		got += n
	}
	// Output:
	// one from the client's address: true
	// two from the client's address: true
	// three from the client's address: true
}

// An in-memory network: what tests run a server and its clients on, with
// no sockets (under testing/synctest, on fake time).
func ExampleNewNetwork() {
	net := transport.NewNetwork()
	srv, _ := net.Listen(netip.MustParseAddrPort("10.1.1.1:1474"))
	cli, _ := net.Dial(srv.LocalAddr()) // a client of its own address: 10.0.0.1
	cli.WriteBatch([]transport.Datagram{{Data: []byte("hello")}})

	in := []transport.Datagram{{Data: make([]byte, 0, transport.RecvSize)}}
	srv.Wait(time.Time{})
	n, _ := srv.ReadBatch(in)
	fmt.Println(n, string(in[0].Data), in[0].Addr.Addr())

	// The answer goes to the datagram's address.
	in[0].Data = []byte("welcome")
	srv.WriteBatch(in[:1])
	cli.Wait(time.Time{})
	n, _ = cli.ReadBatch(in)
	fmt.Println(n, string(in[0].Data))
	// Output:
	// 1 hello 10.0.0.1
	// 1 welcome
}
