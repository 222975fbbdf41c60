// Package replaytest writes made-up flight recordings (internal/record)
// for tests of what reads them: a server's seconds as `serve --record`
// records them, with ticks, clients' messages, connects and disconnects,
// and once a second the monitor's snapshot (the JSON of an
// admin.Document) right after the Tick record of the tick in progress.
// Time is made up: nothing reads the clock.
package replaytest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/record"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// Server is a made-up server being recorded. Change Snap (its counters,
// its clients' rows), Logs and Network between seconds: each Second
// records them as they are.
type Server struct {
	W *record.Writer
	// Now is the time of the latest record; Tick the latest tick.
	Now  time.Time
	Tick uint64
	// Rate is the ticks per second.
	Rate int
	// Snap is the next snapshot: Second sets its Taken, LastSecond and
	// tick counters, and moves its clients' counters on.
	Snap    server.Snapshot
	Logs    []admin.LogLine
	Network admin.Network
	// Messages is how many messages of MessageBytes the clients send each
	// tick (spread over them).
	Messages, MessageBytes int
	// Hide is set for a recording that hashes addresses (the default):
	// its snapshots' rows have the zero address and its log lines no
	// attributes, as the server records them.
	Hide bool
	msg  []byte
	done int // ticks of the current second recorded
}

// Config is the recording's configuration for tests: a queue large
// enough that writing faster than real time drops nothing, and no
// deletion by age or size.
func Config() record.Config {
	return record.Config{Buffer: 1 << 30, MaxAge: -1, MaxBytes: -1}
}

// New starts a recording in dir of a server started at start, ticking
// rate times a second.
func New(dir string, cfg record.Config, start time.Time, rate int) (*Server, error) {
	w, err := record.NewWriter(dir, cfg, start)
	if err != nil {
		return nil, err
	}
	s := &Server{W: w, Now: start, Rate: rate, MessageBytes: 24, Hide: !cfg.KeepAddrs}
	s.Snap.Addr = netip.MustParseAddrPort("192.0.2.1:1474")
	s.Snap.Interval = time.Second / time.Duration(rate)
	s.Snap.Started = start
	s.Network.Available = true
	return s, nil
}

// AddPeers gives the server n more clients, tokens from first up, with
// rows as full as a real server's (a latency of 20 ms to 20+n ms), and
// records their connects.
func (s *Server) AddPeers(first uint32, n int) {
	for i := range n {
		tok := first + uint32(i)
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(tok >> 8), byte(tok)}), uint16(40000+tok%20000))
		s.W.Connect(s.Now, tok, addr)
		s.Snap.Peers = append(s.Snap.Peers, server.PeerSnapshot{
			Addr: addr, Carrier: "udp", Label: fmt.Sprintf("player-%d", tok), Token: tok, Status: conn.Connected,
			Latency: time.Duration(20+i) * time.Millisecond, Pending: 3, Held: 4096, Window: 64 << 10, Bandwidth: 2e6,
			World: server.PeerWorld{Reported: true, InView: 40 + i, Bytes: 900, Budget: 1200, Memory: 8 << 10,
				X: float64(100 * i), Y: float64(50 * i), HalfW: 400, HalfH: 300},
		})
		s.Snap.Stats.Connects++
	}
	s.Snap.Connections = len(s.Snap.Peers)
}

// Peer returns the row of the client of token, or nil.
func (s *Server) Peer(tok uint32) *server.PeerSnapshot {
	for i := range s.Snap.Peers {
		if s.Snap.Peers[i].Token == tok {
			return &s.Snap.Peers[i]
		}
	}
	return nil
}

// Disconnect records that client tok left for reason (a
// server.DisconnectReason) now, and takes its row out of the snapshot.
func (s *Server) Disconnect(tok uint32, reason uint8) {
	s.W.Disconnect(s.Now, tok, reason)
	for i := range s.Snap.Peers {
		if s.Snap.Peers[i].Token == tok {
			s.Snap.Peers = append(s.Snap.Peers[:i], s.Snap.Peers[i+1:]...)
			break
		}
	}
	s.Snap.Connections = len(s.Snap.Peers)
	s.Snap.Stats.Disconnects++
	if reason == server.LeftTimedOut {
		s.Snap.Stats.TimedOut++
	}
}

// Ticks records n ticks of the current second with their messages (at
// most the ticks left in it).
func (s *Server) Ticks(n int) {
	iv := time.Second / time.Duration(s.Rate)
	if len(s.msg) != s.MessageBytes {
		s.msg = make([]byte, s.MessageBytes)
	}
	for range min(n, s.Rate-s.done) {
		for m := range s.Messages {
			if len(s.Snap.Peers) > 0 {
				p := &s.Snap.Peers[m%len(s.Snap.Peers)]
				s.msg[0] = byte(s.Tick)
				s.W.Message(s.Now, p.Token, s.msg)
			}
		}
		s.Now = s.Now.Add(iv)
		s.Tick++
		s.W.Tick(s.Now, s.Tick, iv)
		s.done++
	}
}

// Second records the rest of the current second's ticks, then its
// snapshot, published at its last tick, and returns the snapshot's Taken.
func (s *Server) Second() time.Time {
	sec := s.Now.Add(-time.Duration(s.done) * (time.Second / time.Duration(s.Rate))).Unix()
	s.Ticks(s.Rate)
	s.done = 0
	sn := &s.Snap
	sn.Taken = s.Now
	in, out := uint64(30*len(sn.Peers)), uint64(30*len(sn.Peers))
	sn.LastSecond = server.Second{
		Unix: sec, Ticks: s.Rate,
		Phase:       server.Phases{Messages: 40 * time.Millisecond, Update: 120 * time.Millisecond, Network: 60 * time.Millisecond, Idle: 780 * time.Millisecond},
		DatagramsIn: in, DatagramsOut: out, BytesIn: 60 * in, BytesOut: 200 * out,
	}
	sn.Stats.Ticks += uint64(s.Rate)
	sn.Stats.DatagramsIn += in
	sn.Stats.DatagramsOut += out
	sn.Stats.BytesIn += 60 * in
	sn.Stats.BytesOut += 200 * out
	sn.Assembled += out
	sn.Acked += out
	for i := range sn.Peers {
		st := &sn.Peers[i].Stats
		st.Received += 30
		st.Assembled += 30
		st.Acked += 30
		st.Sent += 30
		st.Delivered += 30
		st.BytesRecv += 30 * 60
		st.BytesSent += 30 * 200
	}
	s.Publish()
	return s.Now
}

// Publish records the snapshot as it is, Taken now (Second does after
// each second).
func (s *Server) Publish() {
	s.Snap.Taken = s.Now
	s.W.Snapshot(s.Now, Document(&s.Snap, s.Logs, s.Network, s.Hide))
}

// Close ends the recording.
func (s *Server) Close() error { return s.W.Close() }

// Document returns the JSON of the admin.Document of snap, as the server
// records it: no actions, not redacted; with hide, the rows' addresses
// zero and the log lines without attributes.
func Document(snap *server.Snapshot, logs []admin.LogLine, n admin.Network, hide bool) []byte {
	d := admin.Document{Version: admin.Version, Snapshot: *snap, Logs: logs, Network: n}
	if hide {
		d.Snapshot.Peers = append([]server.PeerSnapshot(nil), snap.Peers...)
		for i := range d.Snapshot.Peers {
			d.Snapshot.Peers[i].Addr = netip.AddrPort{}
		}
		d.Logs = append([]admin.LogLine(nil), logs...)
		for i := range d.Logs {
			d.Logs[i].Attrs = ""
		}
	}
	b, err := json.Marshal(&d)
	if err != nil {
		panic(err) // a snapshot always encodes
	}
	return b
}

// WriteLong writes into dir a recording of a server that ran for d at
// 60 ticks a second with peers clients (each sending a message every
// fourth tick), a snapshot a second of their full rows: the size of a
// real server's. A few troubles mark it: a stall every 5 minutes, a burst
// of auth drops every 7, a client timing out (and another joining) every
// 3. It returns the recording's start.
func WriteLong(dir string, d time.Duration, peers int) (time.Time, error) {
	start := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	s, err := New(dir, Config(), start, 60)
	if err != nil {
		return start, err
	}
	s.Messages = max(1, peers/4)
	s.AddPeers(1, peers)
	next := uint32(peers + 1)
	for k := 1; k <= int(d/time.Second); k++ {
		s.Snap.Pending = k % 7
		switch {
		case k%300 == 0:
			s.Snap.Stats.Stalls++
			s.Snap.Stats.LateTicks += 3
		case k%420 == 0:
			s.Snap.Drops.Auth += 500
		case k%180 == 0 && len(s.Snap.Peers) > 0:
			s.Ticks(30)
			s.Disconnect(s.Snap.Peers[0].Token, server.LeftTimedOut)
			s.AddPeers(next, 1)
			next++
		}
		s.Second()
	}
	return start, s.Close()
}
