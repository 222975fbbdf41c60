//go:build !js && !windows

package rtc_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/engine/conn"
)

// BenchmarkEchoRoundTrip: one client's 64-byte echo through a server
// ticking every millisecond (so that the carrier, not the tick, shows) on
// the loopback, over UDP and over WebRTC (a native pion peer), one message
// in flight at a time, the client polling every 100 µs: the round trip
// (ms/echo) and the process's CPU time, server and client together
// (cpu-µs/echo).
//
//	go test -run '^$' -bench EchoRoundTrip -benchtime 300x ./engine/rtc
func BenchmarkEchoRoundTrip(b *testing.B) {
	srv, url := startServer(b, time.Millisecond)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	if err != nil {
		b.Fatal(err)
	}
	for _, carrier := range []struct{ name, addr string }{{"udp", srv.Addr().String()}, {"webrtc", url}} {
		b.Run(carrier.name, func(b *testing.B) {
			c := client.New(client.Config{ServerKey: pub, HandshakeTimeout: 15 * time.Second})
			defer c.ForceDisconnect()
			var ok *bool
			if err := c.Connect(carrier.addr, func(r bool) { ok = &r }); err != nil {
				b.Fatal(err)
			}
			for deadline := time.Now().Add(20 * time.Second); ok == nil && time.Now().Before(deadline); {
				c.Update()
				time.Sleep(time.Millisecond)
			}
			if ok == nil || !*ok {
				b.Fatalf("connect over %s: %v", carrier.name, c.Err())
			}
			msg := make([]byte, 64)
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				if err := c.Send(msg, conn.RetryNone, nil); err != nil {
					b.Fatal(err)
				}
				for got := false; !got; {
					c.Update()
					got = len(c.Messages()) > 0
					if !got {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/echo")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/echo")
		})
	}
}

// cpuTime returns the process's CPU time, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
