package netsim_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/carrier/transport"
)

// A Link is sans-I/O: datagrams go in at a time and come out when their
// delay is over, some lost, duplicated or reordered, the same way for the
// same seed.
func ExampleLink() {
	l := netsim.NewLink(netsim.Profile{Delay: 50 * time.Millisecond, Loss: 0.25}, 1)
	t0 := time.Unix(1000, 0)
	for i := 0; i < 1000; i++ {
		l.Send(t0, []byte{byte(i)})
	}
	fmt.Println("after 10 ms:", l.Next(t0.Add(10*time.Millisecond)) == nil)
	arrived := 0
	for l.Next(t0.Add(50*time.Millisecond)) != nil {
		arrived++
	}
	st := l.Stats()
	fmt.Println("arrived plus dropped:", arrived+int(st.Dropped))
	fmt.Println("about a quarter lost:", st.Dropped > 200 && st.Dropped < 300)
	// Output:
	// after 10 ms: true
	// arrived plus dropped: 1000
	// about a quarter lost: true
}

// Wrap puts a bad network between a server and its clients: here a
// socket of an in-memory network whose outgoing datagrams are all lost,
// as when a server's uplink dies.
func ExampleWrap() {
	net := transport.NewNetwork()
	sock, _ := net.Listen(netip.MustParseAddrPort("10.1.1.1:1474"))
	srv := netsim.Wrap(sock, netsim.Profile{Loss: 1}, netsim.Profile{}, 7)
	defer srv.Close()
	cli, _ := net.Dial(srv.LocalAddr())

	cli.WriteBatch([]transport.Datagram{{Data: []byte("ping")}})
	in := []transport.Datagram{{Data: make([]byte, 0, transport.RecvSize)}}
	srv.Wait(time.Now().Add(5 * time.Second))
	n, _ := srv.ReadBatch(in)
	fmt.Println("the server reads:", n, string(in[0].Data))

	in[0].Data = []byte("pong")
	srv.WriteBatch(in[:1])
	cli.Wait(time.Now().Add(100 * time.Millisecond))
	n, _ = cli.ReadBatch(in)
	out, _ := srv.LinkStats()
	fmt.Println("the client reads:", n, "; lost on the way out:", out.Dropped)
	// Output:
	// the server reads: 1 ping
	// the client reads: 0 ; lost on the way out: 1
}
