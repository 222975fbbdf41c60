package dgram_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/internal/dgram"
)

// sinks opens n loopback sockets that nobody reads, sized to hold a
// benchmark's datagrams, and returns their addresses. Their buffers are
// emptied by closing them at the end.
func sinks(b *testing.B, n int) []netip.AddrPort {
	b.Helper()
	addrs := make([]netip.AddrPort, n)
	for i := range addrs {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadBuffer(4 << 20)
		b.Cleanup(func() { c.Close() })
		addrs[i] = c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return addrs
}

// BenchmarkWriter sends 100-byte datagrams to 256 sockets through the
// server's writer on a transport socket: 64 per sendmmsg on Linux.
func BenchmarkWriter(b *testing.B) {
	to := sinks(b, 256)
	src, err := transport.Listen("127.0.0.1:0", transport.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	w := dgram.NewWriter(src)
	payload := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Queue(append(w.Buffer(), payload...), to[i%len(to)])
	}
	w.Flush()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
}

// BenchmarkWriteToUDP is the same with one WriteToUDPAddrPort per
// datagram, for comparison.
func BenchmarkWriteToUDP(b *testing.B) {
	to := sinks(b, 256)
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	payload := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := src.WriteToUDPAddrPort(payload, to[i%len(to)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
}
