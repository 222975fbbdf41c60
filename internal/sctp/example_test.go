package sctp_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/logging"
	pionsctp "github.com/pion/sctp"

	"github.com/mpgs/mpgameserver/internal/sctp"
)

// echoServer is the Sink of one player's association. In a game server
// Output would DTLS-encrypt the packet and write it to the player's UDP
// address; here it goes straight into the client's packet queue.
type echoServer struct {
	assoc *sctp.Assoc
	now   time.Time
	wire  chan<- []byte
}

func (s *echoServer) Deliver(msg []byte) {
	fmt.Printf("server got %q\n", msg)
	// Sending from inside Deliver is allowed.
	_ = s.assoc.Send(append([]byte("echo: "), msg...), s.now, s)
}

func (s *echoServer) Output(pkt []byte) { s.wire <- bytes.Clone(pkt) }

// The example's network: two packet queues standing in for DTLS.
type packetConn struct {
	in, out chan []byte
	closed  chan struct{}
	once    sync.Once
}

func (c *packetConn) Read(b []byte) (int, error) {
	select {
	case p := <-c.in:
		return copy(b, p), nil
	case <-c.closed:
		return 0, net.ErrClosed
	}
}
func (c *packetConn) Write(b []byte) (int, error)      { c.out <- bytes.Clone(b); return len(b), nil }
func (c *packetConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *packetConn) LocalAddr() net.Addr              { return &net.UDPAddr{} }
func (c *packetConn) RemoteAddr() net.Addr             { return &net.UDPAddr{} }
func (c *packetConn) SetDeadline(time.Time) error      { return nil }
func (c *packetConn) SetReadDeadline(time.Time) error  { return nil }
func (c *packetConn) SetWriteDeadline(time.Time) error { return nil }

// Example runs one association the way a server's tick goroutine does —
// Handle each packet, Flush after the batch, Tick on the timer — against
// pion's SCTP client and data channel in the role of the browser.
func Example() {
	toServer, toClient := make(chan []byte, 256), make(chan []byte, 256)
	stop := make(chan struct{})
	defer close(stop)

	// The server: one goroutine owns the Assoc; no locks needed.
	go func() {
		srv := &echoServer{assoc: sctp.New(sctp.Config{Label: "chat"}, nil), wire: toClient}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case pkt := <-toServer:
				srv.now = time.Now()
				if err := srv.assoc.Handle(pkt, srv.now, srv); err != nil {
					continue // count it; the packet is dropped
				}
				srv.assoc.Flush(srv.now, srv) // after the batch: one SACK
			case srv.now = <-tick.C:
				srv.assoc.Tick(srv.now, srv)
			case <-stop:
				return
			}
		}
	}()

	// The browser: pion over the packet queues.
	quiet := &logging.DefaultLoggerFactory{DefaultLogLevel: logging.LogLevelDisabled}
	conn := &packetConn{in: toClient, out: toServer, closed: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := pionsctp.ClientContext(ctx, pionsctp.Config{NetConn: conn, LoggerFactory: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	dc, err := datachannel.Dial(client, 0, &datachannel.Config{
		ChannelType: datachannel.ChannelTypePartialReliableRexmitUnordered,
		Label:       "chat", LoggerFactory: quiet,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := dc.Write([]byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, 1500)
	n, err := dc.Read(buf) // handles our DATA_CHANNEL_ACK, then the echo
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("client got %q\n", buf[:n])
	// Output:
	// server got "hello"
	// client got "echo: hello"
}
