//go:build !js

package rtc_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/server"
)

type echoOnce struct{ server.BaseHandler }

func (echoOnce) HandleMessage(p *server.Peer, _ conn.Seq, msg []byte) {
	if err := p.SendGuaranteed(msg, nil); err != nil {
		p.Disconnect()
	}
}

// A server that takes browser players beside UDP ones: the WebRTC listener
// merged with the UDP socket, its signaling on the HTTP listener; a client
// (a native pion peer here, the browser's RTCPeerConnection under
// GOOS=js) connects with the signaling URL.
func Example() {
	root, err := conn.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	udp, err := transport.Listen("127.0.0.1:0", transport.Config{})
	if err != nil {
		log.Fatal(err)
	}
	// Browser peers, offered the loopback address only.
	lo := rtc.Options{Host: netip.MustParseAddr("127.0.0.1")}
	web, err := rtc.Listen(rtc.Config{ICE: lo}, udp.LocalAddr())
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.NewWithConn(server.Config{Handler: echoOnce{}, RootKey: root, Logger: slog.New(slog.DiscardHandler)}, rtc.Merge(udp, web))
	if err != nil {
		log.Fatal(err)
	}
	go srv.Run()
	defer func() { srv.Stop(); <-srv.Done() }()
	mux := http.NewServeMux()
	mux.Handle("/rtc", web.Handler())
	hs := httptest.NewServer(mux) // the server's HTTP listener
	defer hs.Close()

	c := client.New(client.Config{ServerKey: root.Public(), Dial: rtc.Dialer(rtc.NewAPI(lo))})
	if err := c.Connect(hs.URL+"/rtc", func(ok bool) { fmt.Println("connected:", ok) }); err != nil {
		log.Fatal(err)
	}
	sent := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		c.Update()
		if c.Connected() && !sent {
			if err := c.SendGuaranteed([]byte("hello from a browser"), nil); err != nil {
				log.Fatal(err)
			}
			sent = true
		}
		if ms := c.Messages(); len(ms) > 0 {
			fmt.Printf("echo: %s\n", ms[0].Data)
			break
		}
		time.Sleep(time.Second / 60)
	}
	c.WaitForDisconnect()
	// Output:
	// connected: true
	// echo: hello from a browser
}
