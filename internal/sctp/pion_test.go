package sctp

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/logging"
	"github.com/pion/sctp"
)

// These tests run pion's SCTP client and data channel against an Assoc over
// an in-memory packet pipe. The Assoc is owned by one server goroutine that
// feeds it packets, flushes after each batch and ticks a fake clock; the
// tests assert behaviour (what arrives, what is acknowledged), never speed.

// pionLogs records pion's warnings and errors; everything else is dropped.
type pionLogs struct {
	mu   sync.Mutex
	msgs []string
}

func (l *pionLogs) NewLogger(scope string) logging.LeveledLogger { return &pionLogger{l, scope} }

func (l *pionLogs) add(level, scope, msg string) {
	l.mu.Lock()
	l.msgs = append(l.msgs, level+" "+scope+": "+msg)
	l.mu.Unlock()
}

func (l *pionLogs) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

type pionLogger struct {
	l     *pionLogs
	scope string
}

func (p *pionLogger) Trace(string)          {}
func (p *pionLogger) Tracef(string, ...any) {}
func (p *pionLogger) Debug(string)          {}
func (p *pionLogger) Debugf(string, ...any) {}
func (p *pionLogger) Info(string)           {}
func (p *pionLogger) Infof(string, ...any)  {}
func (p *pionLogger) Warn(m string)         { p.l.add("WARN", p.scope, m) }
func (p *pionLogger) Warnf(f string, a ...any) {
	p.l.add("WARN", p.scope, fmt.Sprintf(f, a...))
}
func (p *pionLogger) Error(m string) { p.l.add("ERROR", p.scope, m) }
func (p *pionLogger) Errorf(f string, a ...any) {
	p.l.add("ERROR", p.scope, fmt.Sprintf(f, a...))
}

// pktConn is one end of a packet pipe: every Write is one Read on the other
// end, as DTLS records are.
type pktConn struct {
	in    chan []byte
	write func([]byte)
	done  chan struct{}
	once  sync.Once
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func (c *pktConn) Read(b []byte) (int, error) {
	select {
	case p := <-c.in:
		return copy(b, p), nil
	case <-c.done:
		return 0, net.ErrClosed
	}
}

func (c *pktConn) Write(b []byte) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	c.write(bytes.Clone(b))
	return len(b), nil
}

func (c *pktConn) Close() error                     { c.once.Do(func() { close(c.done) }); return nil }
func (c *pktConn) LocalAddr() net.Addr              { return pipeAddr{} }
func (c *pktConn) RemoteAddr() net.Addr             { return pipeAddr{} }
func (c *pktConn) SetDeadline(time.Time) error      { return nil }
func (c *pktConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pktConn) SetWriteDeadline(time.Time) error { return nil }

// server owns an Assoc in its own goroutine, the way a game server's tick
// goroutine would. Fields below "loop only" are touched by that goroutine
// alone; tests reach them through do.
type server struct {
	t          *testing.T
	client     *pktConn
	fromClient chan []byte
	cmds       chan func()
	stop       chan struct{}
	stopped    chan struct{}
	delivered  chan []byte
	overflow   atomic.Int64

	// loop only
	a        *Assoc
	now      time.Time
	autoTick bool
	echo     bool
	dropOut  func(pkt []byte) bool
	dropIn   func(pkt []byte) bool
	errs     map[error]int
}

const pipeDepth = 1 << 16

func startServer(t *testing.T, cfg Config, echo, autoTick bool) *server {
	s := &server{
		t:          t,
		fromClient: make(chan []byte, pipeDepth),
		cmds:       make(chan func()),
		stop:       make(chan struct{}),
		stopped:    make(chan struct{}),
		delivered:  make(chan []byte, pipeDepth),
		a:          New(cfg, nil),
		now:        time.Now(),
		autoTick:   autoTick,
		echo:       echo,
		errs:       map[error]int{},
	}
	s.client = &pktConn{
		in:   make(chan []byte, pipeDepth),
		done: make(chan struct{}),
		write: func(p []byte) {
			select {
			case s.fromClient <- p:
			default:
				s.overflow.Add(1)
			}
		},
	}
	go s.run()
	t.Cleanup(func() {
		close(s.stop)
		<-s.stopped
		_ = s.client.Close()
	})
	return s
}

func (s *server) Output(pkt []byte) {
	if s.dropOut != nil && s.dropOut(pkt) {
		return
	}
	select {
	case s.client.in <- bytes.Clone(pkt):
	default:
		s.overflow.Add(1)
	}
}

func (s *server) Deliver(msg []byte) {
	if s.echo {
		if err := s.a.Send(msg, s.now, s); err != nil {
			s.t.Errorf("echo Send: %v", err)
		}
	}
	select {
	case s.delivered <- bytes.Clone(msg):
	default:
		s.overflow.Add(1)
	}
}

func (s *server) handle(p []byte) {
	if s.dropIn != nil && s.dropIn(p) {
		return
	}
	if err := s.a.Handle(p, s.now, s); err != nil {
		s.errs[err]++
	}
}

func (s *server) run() {
	defer close(s.stopped)
	const step = 5 * time.Millisecond
	tick := time.NewTicker(step)
	defer tick.Stop()
	for {
		select {
		case p := <-s.fromClient:
			s.handle(p)
			for more := true; more; { // the rest of the batch, then one SACK
				select {
				case p := <-s.fromClient:
					s.handle(p)
				default:
					more = false
				}
			}
			s.a.Flush(s.now, s)
		case f := <-s.cmds:
			f()
		case <-tick.C:
			if s.autoTick {
				s.now = s.now.Add(step)
				s.a.Tick(s.now, s)
			}
		case <-s.stop:
			return
		}
	}
}

// do runs f in the server goroutine and waits for it.
func (s *server) do(f func()) {
	done := make(chan struct{})
	s.cmds <- func() { f(); close(done) }
	<-done
}

// eventually polls cond in the server goroutine until it holds.
func (s *server) eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		s.do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var st Stats
			s.do(func() { st = s.a.Stats() })
			s.t.Fatalf("timed out waiting for %s; stats %+v", what, st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// dial connects pion to the server and opens the "mpgs" channel.
func dial(t *testing.T, s *server, logs *pionLogs) (*sctp.Association, *datachannel.DataChannel, chan []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	assoc, err := sctp.ClientContext(ctx, sctp.Config{NetConn: s.client, LoggerFactory: logs})
	if err != nil {
		t.Fatalf("pion client: %v", err)
	}
	t.Cleanup(func() { _ = assoc.Close() })
	dc, err := datachannel.Dial(assoc, 1, &datachannel.Config{
		ChannelType:          datachannel.ChannelTypePartialReliableRexmitUnordered,
		ReliabilityParameter: 0,
		Label:                "mpgs",
		LoggerFactory:        logs,
	})
	if err != nil {
		t.Fatalf("datachannel.Dial: %v", err)
	}
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	// pion handles the DCEP ACK inside ReadDataChannel, so reading must
	// start before the channel can open.
	got := make(chan []byte, pipeDepth)
	go func() {
		defer close(got)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := dc.ReadDataChannel(buf)
			if err != nil {
				return
			}
			got <- bytes.Clone(buf[:n])
		}
	}()
	select {
	case <-opened:
	case <-time.After(20 * time.Second):
		t.Fatal("DATA_CHANNEL_ACK never reached pion")
	}
	return assoc, dc, got
}

func recv(t *testing.T, got chan []byte) []byte {
	t.Helper()
	select {
	case m, ok := <-got:
		if !ok {
			t.Fatal("pion's channel closed")
		}
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting for a message at pion")
	}
	return nil
}

func pattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seed)
	}
	return b
}

// noPionComplaints fails on any warning or error pion logged: a wrong
// checksum, a SACK for TSNs it never sent, a refused chunk, or a
// handshake without FORWARD-TSN all show up there.
func noPionComplaints(t *testing.T, logs *pionLogs) {
	t.Helper()
	for _, m := range logs.snapshot() {
		t.Errorf("pion logged: %s", m)
	}
}

func TestPionEcho(t *testing.T) {
	logs := &pionLogs{}
	s := startServer(t, Config{Label: "mpgs"}, true, true)
	assoc, dc, got := dial(t, s, logs)
	s.do(func() {
		if !s.a.Open() || s.a.stream != 1 {
			t.Errorf("server: open %v stream %d", s.a.Open(), s.a.stream)
		}
	})

	// Every size from empty to MaxMessage, echoed: pion fragments the
	// large ones towards us and we fragment them back (MTU 1200).
	for n := 0; n <= 2048; n++ {
		msg := pattern(n, n)
		if _, err := dc.Write(msg); err != nil {
			t.Fatalf("pion write %d: %v", n, err)
		}
		if echo := recv(t, got); !bytes.Equal(echo, msg) {
			t.Fatalf("size %d: echoed %d bytes, differ", n, len(echo))
		}
	}

	// A burst pion paces by its own congestion control; it only keeps
	// going if our SACKs acknowledge correctly.
	const burst = 5000
	for i := range burst {
		msg := pattern(64, i)
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := dc.Write(msg); err != nil {
			t.Fatalf("pion write %d: %v", i, err)
		}
	}
	seen := make([]bool, burst)
	for range burst {
		m := recv(t, got)
		i := binary.BigEndian.Uint32(m)
		if i >= burst || seen[i] || !bytes.Equal(m[4:], pattern(64, int(i))[4:]) {
			t.Fatalf("bad or repeated echo %d", i)
		}
		seen[i] = true
	}
	// pion's cumulative ack covers all we sent, ours all it sent.
	s.eventually("pion acking everything", func() bool { return s.a.tx.cumAck == s.a.tx.next-1 })
	s.do(func() {
		st := s.a.Stats()
		if st.BadChecksum+st.BadTag+st.BadPort+st.Malformed+st.OutOfWindow+st.Duplicates != 0 {
			t.Errorf("stats %+v", st)
		}
		if st.Delivered != 2049+burst || st.MessagesSent != 2049+burst {
			t.Errorf("delivered %d sent %d", st.Delivered, st.MessagesSent)
		}
		if s.a.rx.cum != s.a.rx.max {
			t.Errorf("gaps left: cum %d max %d", s.a.rx.cum, s.a.rx.max)
		}
		if len(s.errs) != 0 {
			t.Errorf("Handle errors: %v", s.errs)
		}
	})
	if n := s.overflow.Load(); n != 0 {
		t.Errorf("%d packets overflowed the pipe", n)
	}
	noPionComplaints(t, logs)

	// Closing the channel resets its stream: our channel is closed.
	if err := dc.Close(); err != nil {
		t.Fatal(err)
	}
	s.eventually("Closed after pion closed the channel", func() bool { return s.a.Closed() && s.a.reset })
	_ = assoc
}

func TestPionAbort(t *testing.T) {
	logs := &pionLogs{}
	s := startServer(t, Config{}, false, true)
	assoc, _, _ := dial(t, s, logs)
	assoc.Abort("bye")
	s.eventually("Closed after ABORT", func() bool { return s.a.Closed() && s.a.st == stateDead })
}

func TestPionShutdown(t *testing.T) {
	logs := &pionLogs{}
	s := startServer(t, Config{}, false, true)
	assoc, _, _ := dial(t, s, logs)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Shutdown returns once pion got our SHUTDOWN-ACK and sent
	// SHUTDOWN-COMPLETE.
	if err := assoc.Shutdown(ctx); err != nil {
		t.Fatalf("pion shutdown: %v", err)
	}
	s.eventually("dead after SHUTDOWN-COMPLETE", func() bool { return s.a.Closed() && s.a.st == stateDead })
}

func TestPionRefusesOtherLabel(t *testing.T) {
	logs := &pionLogs{}
	s := startServer(t, Config{Label: "other"}, false, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	assoc, err := sctp.ClientContext(ctx, sctp.Config{NetConn: s.client, LoggerFactory: logs})
	if err != nil {
		t.Fatal(err)
	}
	defer assoc.Close()
	if _, err := datachannel.Dial(assoc, 1, &datachannel.Config{Label: "mpgs", LoggerFactory: logs}); err != nil {
		t.Fatal(err)
	}
	s.eventually("OPEN refused", func() bool { return s.a.Stats().OpensRefused == 1 })
	s.do(func() {
		if s.a.Open() || s.a.tx.next != s.a.tx.initTSN {
			t.Error("refused OPEN was acknowledged")
		}
	})
}

// dataMsgIndices lists the message indices a test put in the first 4
// payload bytes of each first fragment in a packet.
func dataMsgIndices(pkt []byte) []uint32 {
	var idx []uint32
	for off := 12; off+4 <= len(pkt); {
		l := int(binary.BigEndian.Uint16(pkt[off+2:]))
		if l < 4 || off+l > len(pkt) {
			return idx
		}
		if pkt[off] == ctData && l >= 16+4 && pkt[off+1]&flagBegin != 0 {
			idx = append(idx, binary.BigEndian.Uint32(pkt[off+16:]))
		}
		off += (l + 3) &^ 3
	}
	return idx
}

// dataTSNs lists the TSNs of the DATA chunks of a packet.
func dataTSNs(pkt []byte) []uint32 {
	var tsns []uint32
	for off := 12; off+4 <= len(pkt); {
		l := int(binary.BigEndian.Uint16(pkt[off+2:]))
		if l < 4 || off+l > len(pkt) {
			return tsns
		}
		if pkt[off] == ctData && l >= 16 {
			tsns = append(tsns, binary.BigEndian.Uint32(pkt[off+4:]))
		}
		off += (l + 3) &^ 3
	}
	return tsns
}

// Our DATA lost on the way: pion keeps delivering later messages (it is
// unordered), and our FORWARD-TSN moves its cumulative TSN past the loss.
func TestPionLossOfOurData(t *testing.T) {
	logs := &pionLogs{}
	s := startServer(t, Config{}, false, false)
	_, _, got := dial(t, s, logs)

	const n = 30
	lost := func(i uint32) bool { return i%3 == 1 }
	s.do(func() {
		s.dropOut = func(pkt []byte) bool {
			idx := dataMsgIndices(pkt)
			return len(idx) == 1 && lost(idx[0])
		}
		for i := range uint32(n) {
			msg := pattern(100, int(i))
			binary.BigEndian.PutUint32(msg, i)
			if err := s.a.Send(msg, s.now, s); err != nil {
				t.Errorf("send: %v", err)
			}
		}
	})
	for i := range uint32(n) {
		if lost(i) {
			continue
		}
		if m := recv(t, got); binary.BigEndian.Uint32(m) != i {
			t.Fatalf("pion got message %d, want %d", binary.BigEndian.Uint32(m), i)
		}
	}
	// pion acknowledges up to the first loss only.
	firstLost := func() uint32 { return s.a.tx.ackTSN + 2 } // ACK, message 0, then message 1
	s.eventually("pion's SACK up to the first loss", func() bool { return s.a.tx.cumAck == firstLost()-1 })

	// Two FORWARD-TSN checks: the first notes what was sent, the second
	// skips what is still missing.
	for range 2 {
		s.do(func() {
			s.now = s.now.Add(250 * time.Millisecond)
			s.a.Tick(s.now, s)
		})
	}
	s.eventually("pion's cumulative TSN past the losses", func() bool { return s.a.tx.cumAck == s.a.tx.next-1 })
	s.do(func() {
		if s.a.Stats().ForwardTSNsOut == 0 {
			t.Error("no FORWARD-TSN sent")
		}
		s.dropOut = nil
		for i := range uint32(10) {
			msg := pattern(100, int(i))
			binary.BigEndian.PutUint32(msg, 1000+i)
			if err := s.a.Send(msg, s.now, s); err != nil {
				t.Errorf("send: %v", err)
			}
		}
	})
	for i := range uint32(10) {
		if m := recv(t, got); binary.BigEndian.Uint32(m) != 1000+i {
			t.Fatalf("after the losses pion got %d, want %d", binary.BigEndian.Uint32(m), 1000+i)
		}
	}
	s.eventually("pion acking everything", func() bool { return s.a.tx.cumAck == s.a.tx.next-1 })
	noPionComplaints(t, logs)
}

// pion's DATA lost on the way: our SACK gap blocks make pion give up the
// lost TSNs and skip them with FORWARD-TSN; traffic goes on.
func TestPionLossOfTheirData(t *testing.T) {
	logs := &pionLogs{}
	s := startServer(t, Config{}, false, true)
	_, dc, _ := dial(t, s, logs)

	// Drop every third packet carrying DATA (pion bundles several
	// messages per packet), once per TSN.
	droppedTSN := map[uint32]bool{}
	droppedMsg := map[uint32]bool{}
	dataPackets := 0
	s.do(func() {
		s.dropIn = func(pkt []byte) bool {
			tsns := dataTSNs(pkt)
			if len(tsns) == 0 {
				return false
			}
			for _, tsn := range tsns {
				if droppedTSN[tsn] {
					return false // a retransmission gets through
				}
			}
			dataPackets++
			idx := dataMsgIndices(pkt)
			if dataPackets%3 != 2 || len(idx) == 0 || idx[0] >= 1000 {
				return false
			}
			for _, tsn := range tsns {
				droppedTSN[tsn] = true
			}
			for _, i := range idx {
				droppedMsg[i] = true
			}
			return true
		}
	})
	write := func(i uint32) {
		msg := pattern(100, int(i))
		binary.BigEndian.PutUint32(msg, i)
		if _, err := dc.Write(msg); err != nil {
			t.Fatalf("pion write: %v", err)
		}
	}
	const n = 50
	for i := range uint32(n) {
		write(i)
	}
	// Everything not dropped arrives.
	seen := map[uint32]bool{}
	for len(seen) < n {
		var m []byte
		select {
		case m = <-s.delivered:
		case <-time.After(20 * time.Second):
			var missing []uint32
			s.do(func() {
				for i := range uint32(n) {
					if !seen[i] && !droppedMsg[i] {
						missing = append(missing, i)
					}
				}
			})
			if len(missing) == 0 {
				goto delivered
			}
			t.Fatalf("messages %v never arrived", missing)
		}
		i := binary.BigEndian.Uint32(m)
		if seen[i] {
			t.Fatalf("message %d delivered twice", i)
		}
		seen[i] = true
		var done bool
		s.do(func() {
			done = true
			for j := range uint32(n) {
				if !seen[j] && !droppedMsg[j] {
					done = false
				}
			}
		})
		if done {
			break
		}
	}
delivered:
	s.eventually("the gaps skipped by pion's FORWARD-TSN", func() bool {
		return s.a.rx.cum == s.a.rx.max && s.a.Stats().ForwardTSNsIn > 0
	})
	s.do(func() {
		t.Logf("dropped messages %v; stats %+v", droppedMsg, s.a.Stats())
		if len(droppedMsg) == 0 {
			t.Error("nothing was dropped")
		}
		if s.a.Stats().Delivered != uint64(len(seen)) {
			t.Errorf("delivered %d, seen %d", s.a.Stats().Delivered, len(seen))
		}
	})
	// And traffic goes on.
	for i := range uint32(20) {
		write(1000 + i)
	}
	for range 20 {
		select {
		case m := <-s.delivered:
			if i := binary.BigEndian.Uint32(m); i < 1000 {
				t.Fatalf("late delivery of %d", i)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("traffic stopped after the losses")
		}
	}
	for _, m := range logs.snapshot() {
		if !strings.Contains(m, "fast") { // pion may note its own recovery
			t.Errorf("pion logged: %s", m)
		}
	}
}
