//go:build !js && !windows

package rtc_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpgs/mpgameserver/carrier/rtc"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

// BenchmarkEchoRoundTrip: one client's 64-byte echo through a server
// ticking every millisecond (so that the carrier, not the tick, shows) on
// the loopback, over UDP and over WebRTC (a native pion peer), one message
// in flight at a time, the client polling every 100 µs: the round trip
// (ms/echo) and the process's CPU time, server and client together
// (cpu-µs/echo).
//
//	go test -run '^$' -bench EchoRoundTrip -benchtime 300x ./carrier/rtc
func BenchmarkEchoRoundTrip(b *testing.B) {
	srv, url := startServer(b, time.Millisecond)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	if err != nil {
		b.Fatal(err)
	}
	for _, carrier := range []struct{ name, addr string }{{"udp", srv.Addr().String()}, {"webrtc", url}} {
		b.Run(carrier.name, func(b *testing.B) {
			c := connected(b, carrier.addr, pub)
			defer c.ForceDisconnect()
			msg := make([]byte, 64)
			lost := 0
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				// A plain message may be lost (the carrier is lossy by
				// design): one without its echo in echoLost is sent again,
				// and counted.
				sent := time.Time{}
				for got := false; !got; {
					if time.Since(sent) > echoLost {
						if !sent.IsZero() {
							lost++
						}
						if err := c.Send(msg, conn.RetryNone, nil); err != nil {
							b.Fatal(err)
						}
						sent = time.Now()
					}
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
			b.ReportMetric(float64(lost), "lost")
		})
	}
}

// bulkSize is the message BulkEcho sends.
const bulkSize = 1 << 20

// BenchmarkBulkEchoServer is BulkEcho with the client in a process of its
// own (this test binary, run as bulkClient): the allocations it counts
// (server-allocs/op, a megabyte each way) are the server's alone, the
// listener's and the connection's, whatever the client's stack costs.
//
//	go test -run '^$' -bench BulkEchoServer -benchtime 20x ./carrier/rtc
func BenchmarkBulkEchoServer(b *testing.B) {
	srv, url := startServer(b, time.Millisecond)
	for _, carrier := range []struct{ name, addr string }{{"udp", srv.Addr().String()}, {"webrtc", url}} {
		b.Run(carrier.name, func(b *testing.B) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), bulkClientEnv+"="+carrier.addr, fmt.Sprintf("%s=%d", bulkRoundsEnv, b.N))
			cmd.Stderr = os.Stderr
			in, err := cmd.StdinPipe()
			if err != nil {
				b.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer cmd.Wait()
			defer in.Close()
			lines := bufio.NewScanner(out)
			if !lines.Scan() || lines.Text() != "connected" {
				b.Fatalf("the client did not connect: %q", lines.Text())
			}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			b.ResetTimer()
			if _, err := fmt.Fprintln(in, "go"); err != nil {
				b.Fatal(err)
			}
			if !lines.Scan() || lines.Text() != "done" {
				b.Fatalf("the client did not finish: %q", lines.Text())
			}
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "server-allocs/op")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N), "server-B/op")
			b.ReportMetric(2*bulkSize*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
		})
	}
}

// echoLost is how long an echo may take before its message counts as
// lost and is sent again.
const echoLost = 250 * time.Millisecond

// BenchmarkBulkEcho: one client sends a 1 MB guaranteed message, which
// the echo game sends back, through a server ticking every millisecond
// on the loopback, over UDP and over WebRTC (a native pion peer): how
// fast a large message goes each way under the congestion window
// (MB/s counts both ways), and the process's CPU per megabyte.
//
//	go test -run '^$' -bench BulkEcho -benchtime 5x ./carrier/rtc
func BenchmarkBulkEcho(b *testing.B) {
	srv, url := startServer(b, time.Millisecond)
	pub, err := conn.LoadPublicKey(vectorKeys + "server_root.pub.pem")
	if err != nil {
		b.Fatal(err)
	}
	const size = bulkSize
	msg := make([]byte, size)
	msg[0] = 'G' // the echo game sends a G message back guaranteed
	for _, carrier := range []struct{ name, addr string }{{"udp", srv.Addr().String()}, {"webrtc", url}} {
		b.Run(carrier.name, func(b *testing.B) {
			c := connected(b, carrier.addr, pub)
			defer c.ForceDisconnect()
			cpu0 := cpuTime()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.SendGuaranteed(msg, nil); err != nil {
					b.Fatal(err)
				}
				for deadline := time.Now().Add(time.Minute); ; {
					c.Update()
					if ms := c.Messages(); len(ms) > 0 {
						if len(ms[0].Data) != size {
							b.Fatalf("echo of %d bytes", len(ms[0].Data))
						}
						break
					}
					if time.Now().After(deadline) || c.Status().Closed() {
						b.Fatalf("no echo over %s: %v", carrier.name, c.Err())
					}
					time.Sleep(100 * time.Microsecond)
				}
			}
			b.StopTimer()
			b.ReportMetric(2*size*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/(2*float64(b.N)), "cpu-ms/MB")
		})
	}
}

// connected returns a client connected to addr.
func connected(b *testing.B, addr string, pub *conn.PublicKey) *client.Client {
	c, err := connect(addr, pub)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// connect returns a client connected to addr, or why it is not.
func connect(addr string, pub *conn.PublicKey) (*client.Client, error) {
	cfg := client.Config{ServerKey: pub, HandshakeTimeout: 15 * time.Second}
	if strings.HasPrefix(addr, "http") {
		cfg.Dial = rtc.Dialer(nil) // the native client links no WebRTC by itself
	}
	c := client.New(cfg)
	var ok *bool
	if err := c.Connect(addr, func(r bool) { ok = &r }); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(20 * time.Second); ok == nil && time.Now().Before(deadline); {
		c.Update()
		time.Sleep(time.Millisecond)
	}
	if ok == nil || !*ok {
		return nil, fmt.Errorf("connect to %s: %v", addr, c.Err())
	}
	return c, nil
}

// cpuTime returns the process's CPU time, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
