package session_test

import (
	"fmt"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// Two connection state machines talk by handing datagrams to each other:
// no sockets, and the clock is whatever the caller says it is.
func Example() {
	root, _ := conn.GenerateKey(nil) // the server's long-term key
	now := time.Unix(1_700_000_000, 0)
	buf := make([]byte, 0, protocol.MaxDatagramSize)

	client, _ := session.NewClient(&session.Config{ServerKey: root.Public()}, now)
	hello := client.Poll(now, buf) // CLIENT_HELLO

	token, _ := session.NewToken(nil)
	server, _ := session.NewServer(&session.Config{RootKey: root}, now, token, hello)
	server.SetHandler(func(seq protocol.Seq, msg []byte) {
		fmt.Printf("server got %q\n", msg)
	})
	_ = client.Receive(now, server.Poll(now, buf)) // SERVER_HELLO
	fmt.Println("client:", client.Status())

	_ = client.Send([]byte("hello"), conn.RetryOnTimeout, func(ok bool) {
		fmt.Println("delivered:", ok)
	})
	now = now.Add(20 * time.Millisecond)
	_ = server.Receive(now, client.Poll(now, buf)) // CHALLENGE_RESP + "hello"
	fmt.Println("server:", server.Status())

	now = now.Add(30 * time.Millisecond)
	_ = client.Receive(now, server.Poll(now, buf)) // the server's ack
	// Output:
	// client: CONNECTED
	// server got "hello"
	// server: CONNECTED
	// delivered: true
}
