// Package loadgen simulates many game clients in one process against an
// echo server and measures what comes back: each simulated client is a
// real connection (handshake, encryption, acks: internal/session's state
// machine) with an address of its own, sending messages of a fixed size
// at a fixed rate and matching the echoes. It is what `mpgameserver-tools
// loadgen` runs, and it works against any server that keeps the echo
// contract (internal/echocheck), the Python original's included.
//
// The clients are shared out among a few workers (one per CPU). A worker
// serves its clients' frames (60 a second, staggered over the frame so
// they do not all send at once) and reads their sockets (carrier/transport).
// Where the clients' addresses come from depends on Config.Sockets: against
// a server on the IPv4 loopback (Linux), one socket per worker carries all
// its clients, each sending from an address of its own in 127.0.0.0/8, 64
// datagrams per system call; otherwise each client has a socket of its
// own. Nothing per datagram allocates.
//
// A run has four phases: ramp (clients connect at Config.ConnectRate and
// start sending as soon as they are connected), steady (every client has
// connected or failed; lasts Config.Duration and is what the report
// measures), drain (no new messages; waits for the last echoes) and close
// (every client disconnects gracefully).
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/session"
)

// MinSize is the smallest message the generator sends: a marker byte, the
// phase, a sequence number and the send time.
const MinSize = headerSize

// MaxSize is the largest message size a run sends: the protocol's
// largest message. Messages longer than protocol.MaxSingleMessage travel
// fragmented (the client splits them, the server reassembles and echoes
// them the same way), which makes a run measure bulk round trips.
const MaxSize = protocol.MaxMessageSize

// MaxBareSize is the largest message of a bare run (Config.Bare): one
// datagram, unencrypted.
const MaxBareSize = protocol.MaxDatagramSize

// serverDatagramsPerSec is what a run expects of the server's sending to
// one client (one datagram a tick at 60 ticks a second): the default drain
// of a run of fragmented messages leaves time for the echoes at that pace.
const serverDatagramsPerSec = 60

// Config describes a run.
type Config struct {
	// Server is the echo server's address.
	Server netip.AddrPort
	// ServerKey is the server's root public key; nil trusts the key the
	// server sends.
	ServerKey *conn.PublicKey
	// Clients is the number of simulated clients.
	Clients int
	// Rate is the messages each client sends per second.
	Rate float64
	// Size is the size of each message in bytes (at least MinSize, at most
	// MaxSize; MaxBareSize in a bare run). A message longer than
	// protocol.MaxSingleMessage is sent in fragments.
	Size int
	// Duration is the length of the measured (steady) phase.
	Duration time.Duration
	// ConnectRate is how many clients start their handshake per second
	// during the ramp (500).
	ConnectRate float64
	// Guaranteed sends the messages with RETRY_ON_TIMEOUT (the echo server
	// echoes messages starting with 'G' the same way); otherwise they are
	// sent once (NONE) and a lost datagram is a lost message.
	Guaranteed bool
	// FrameRate is how many frames a second each client runs (60): a frame
	// queues the messages due and sends at most one datagram.
	FrameRate int
	// Drain is how long to wait for the last echoes after sending stops
	// (1 s; for fragmented messages, long enough for the server to send
	// back every fragment of the run at 60 datagrams a second per client). The drain ends sooner once every message of the steady phase
	// was echoed or counted lost.
	Drain time.Duration
	// EchoWindow is how late an echo may come (2 s): a message whose
	// echo has not come when its client has sent this long's worth of
	// messages since is counted lost (and its echo, if it comes, late).
	// A client keeps a bit per message of its window.
	EchoWindow time.Duration
	// HandshakeTimeout is how long a client waits for the server's
	// signed answer before its handshake counts as failed (2 s).
	HandshakeTimeout time.Duration
	// KeySource names where ServerKey came from (e.g. "--pubkey
	// root.pub") in the report's reasons; empty says "the pinned key".
	KeySource string
	// Workers is the number of goroutines serving the clients
	// (GOMAXPROCS).
	Workers int
	// Sockets chooses how the clients' datagrams travel (SocketsAuto).
	Sockets Sockets
	// Attack names an attack (see Attacks) to run beside the clients
	// during the steady phase: it starts when the measurement starts and
	// stops when it ends. Empty runs none.
	Attack string
	// AttackRate overrides the attack's default rate (in its unit) when
	// positive; math.Inf(1) runs it as fast as it can.
	AttackRate float64
	// Progress, when set, is called about once a second from the
	// goroutine running Run.
	Progress func(Progress)
	// Logger receives notable events (nil discards them).
	Logger *slog.Logger
	// Bare sends the messages as plain UDP datagrams (no handshake, no
	// encryption, no acks) to a server that sends every datagram back to
	// its sender (mpgameserver bare-echo): the baseline of what the system
	// allows, to compare a server's cost per echo with. Each client is
	// connected as soon as its socket is open; ServerKey, Guaranteed and
	// Attack do not apply.
	Bare bool
}

// Sockets is how a run's clients send and receive.
type Sockets int

const (
	// SocketsAuto is SocketsShared for a server on the IPv4 loopback (on
	// Linux), SocketsPerClient otherwise.
	SocketsAuto Sockets = iota
	// SocketsPerClient gives each client its own socket connected to the
	// server; a worker watches its clients' sockets with one
	// poller (an epoll on Linux): the way to a remote server.
	SocketsPerClient
	// SocketsShared gives each worker one socket for all its clients,
	// each sending from its own address in 127.0.0.0/8: 64 datagrams per
	// system call each way, so that the generator costs the machine far
	// less than the server it measures (Linux, server on the IPv4
	// loopback).
	SocketsShared
	// SocketsPortable is SocketsPerClient on portable sockets, each read
	// by a goroutine of its own in Go's network poller: the way off Linux,
	// and the costliest.
	SocketsPortable
)

var socketsNames = [...]string{"auto", "per-client", "shared", "portable"}

// String returns the name ParseSockets reads.
func (s Sockets) String() string {
	if s >= 0 && int(s) < len(socketsNames) {
		return socketsNames[s]
	}
	return fmt.Sprintf("Sockets(%d)", int(s))
}

// ParseSockets reads "auto", "per-client", "shared" or "portable".
func ParseSockets(name string) (Sockets, error) {
	for i, n := range socketsNames {
		if n == name {
			return Sockets(i), nil
		}
	}
	return 0, fmt.Errorf("loadgen: unknown sockets mode %q: want auto, per-client, shared or portable", name)
}

// Progress is a view of a run in progress.
type Progress struct {
	Elapsed   time.Duration
	Phase     string // "ramp", "steady", "drain" or "close"
	Clients   int    // configured
	Connected int    // connected now
	Failed    int    // handshakes that failed
	Dropped   int    // connections lost after connecting
	// Messages sent and echoed per second over the last second.
	SentPerSec, EchoedPerSec float64
	// Sent and Lost count the messages so far; a message is lost once its
	// echo is overdue (it fell out of the client's echo window).
	Sent, Lost uint64
}

// LossPercent is Lost as a percentage of Sent.
func (p Progress) LossPercent() float64 { return percent(p.Lost, p.Sent) }

func percent(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// A FieldError says which field of a Config is out of range, what it
// holds and what it should: a command maps Field to its flag.
type FieldError struct {
	Field string // the Config field's name
	Value any
	Want  string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("loadgen: %s %v: want %s", e.Field, e.Value, e.Want)
}

func (c *Config) resolve() (Config, error) {
	r := *c
	if !r.Server.IsValid() {
		return r, errors.New("loadgen: no server address")
	}
	if r.Clients < 1 {
		return r, &FieldError{"Clients", r.Clients, "at least 1"}
	}
	if !(r.Rate > 0 && r.Rate <= 10000) {
		return r, &FieldError{"Rate", r.Rate, "more than 0 and at most 10000 messages per second"}
	}
	maxSize := MaxSize
	if r.Bare {
		maxSize = MaxBareSize
		if r.Guaranteed || r.Attack != "" || r.ServerKey != nil {
			return r, errors.New("loadgen: a bare run sends plain datagrams: no guaranteed messages, no attack, no server key")
		}
	}
	if r.Size < MinSize || r.Size > maxSize {
		want := fmt.Sprintf("%d to %d bytes", MinSize, maxSize)
		if r.Bare {
			want += " in a bare run (one datagram)"
		}
		return r, &FieldError{"Size", r.Size, want}
	}
	if r.Duration <= 0 {
		return r, &FieldError{"Duration", r.Duration, "a positive duration"}
	}
	if r.ConnectRate == 0 {
		r.ConnectRate = 500
	}
	if !(r.ConnectRate > 0) {
		return r, &FieldError{"ConnectRate", r.ConnectRate, "a positive number of handshakes per second"}
	}
	if r.FrameRate == 0 {
		r.FrameRate = 60
	}
	if r.FrameRate < 1 || r.FrameRate > 1000 {
		return r, fmt.Errorf("loadgen: frame rate must be in 1..1000, not %d", r.FrameRate)
	}
	if r.EchoWindow < 0 {
		return r, &FieldError{"EchoWindow", r.EchoWindow, "a positive duration"}
	}
	if r.HandshakeTimeout < 0 {
		return r, &FieldError{"HandshakeTimeout", r.HandshakeTimeout, "a positive duration"}
	}
	if r.EchoWindow == 0 {
		r.EchoWindow = 2 * time.Second
	}
	if r.HandshakeTimeout == 0 {
		r.HandshakeTimeout = session.DefaultHandshakeTimeout
	}
	if r.Drain <= 0 {
		r.Drain = max(time.Second, r.bulkDrain())
	}
	if r.Workers < 0 {
		return r, &FieldError{"Workers", r.Workers, "0 (one per CPU) or more"}
	}
	if r.Workers == 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	r.Workers = min(r.Workers, r.Clients)
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Sockets == SocketsAuto {
		r.Sockets = autoSockets(r.Server)
	}
	if r.Sockets < SocketsAuto || r.Sockets > SocketsPortable {
		return r, fmt.Errorf("loadgen: unknown sockets mode %d", int(r.Sockets))
	}
	return r, r.checkAttack()
}

// bulkDrain is how long the server may take to echo a client's fragmented
// messages sent over the run (ramp included) at serverDatagramsPerSec,
// doubled for resends; 0 for messages of one datagram.
func (c *Config) bulkDrain() time.Duration {
	if c.Bare || c.Size <= protocol.MaxSingleMessage {
		return 0
	}
	frags := math.Ceil(float64(c.Size) / protocol.FragmentDataSize)
	ramp := float64(c.Clients)/c.ConnectRate + c.HandshakeTimeout.Seconds()
	msgs := math.Ceil(c.Rate * (c.Duration.Seconds() + ramp))
	return time.Duration(2*msgs*frags/serverDatagramsPerSec*float64(time.Second)) + 2*time.Second
}

// Phases of a run.
const (
	phaseRamp int32 = iota
	phaseSteady
	phaseDrain
	phaseClose
)

var phaseNames = [...]string{"ramp", "steady", "drain", "close"}

// closeWait bounds the close phase: the clients' DISCONNECTs are resent
// until acknowledged or this passes.
const closeWait = 1500 * time.Millisecond

// run is the state shared by the workers and the coordinator.
type run struct {
	cfg     Config
	start   time.Time
	phase   atomic.Int32
	workers []*worker
	atk     *attackRun // the attack, once the steady phase started it
}

// Run runs the load described by cfg until its phases complete or ctx is
// done (then it drains, closes and reports what it measured so far). It
// returns an error only when the run could not start.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	r := &run{cfg: c, start: time.Now()}
	for i := 0; i < c.Workers; i++ {
		w, err := newWorker(r, i)
		if err != nil {
			for _, w := range r.workers {
				w.socks.close()
			}
			return nil, err
		}
		r.workers = append(r.workers, w)
	}
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	rep := r.coordinate(ctx)
	r.stopAttack()
	wg.Wait()
	for _, w := range r.workers {
		w.socks.close()
	}
	r.finish(rep)
	rep.Attack = r.attackReport()
	if rep.Connected == 0 && rep.Failures.NoAnswer > 0 && probeRefused(c.Server, c.ServerKey) {
		// Shared (and portable) sockets are not told of the refusals
		// that a probe from a connected socket hears.
		rep.Failures.Refused += rep.Failures.NoAnswer
		rep.Failures.NoAnswer = 0
	}
	return rep, nil
}

// coordinate moves the run through its phases and reports progress.
func (r *run) coordinate(ctx context.Context) *Report {
	rep := &Report{Server: r.cfg.Server.String(), Clients: r.cfg.Clients, Rate: r.cfg.Rate, Size: r.cfg.Size, Sockets: r.cfg.Sockets, Bare: r.cfg.Bare,
		keySource: r.cfg.KeySource, handshakeTimeout: r.cfg.HandshakeTimeout}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var (
		steadyAt, drainAt, closeAt time.Time
		lastProgress               = r.start
		last                       totals
		cancelled                  bool
	)
	for {
		var now time.Time
		select {
		case now = <-tick.C:
		case <-ctx.Done():
			ctx = context.Background() // once
			now = time.Now()
			cancelled = true
			rep.Interrupted = true
		}
		t := r.totals()
		switch r.phase.Load() {
		case phaseRamp:
			if cancelled {
				drainAt = now
				r.phase.Store(phaseDrain)
			} else if t.connected+t.failed >= r.cfg.Clients {
				rep.Ramp = now.Sub(r.start)
				if t.active == 0 {
					// Nothing to measure: end now rather than wait out
					// the duration.
					r.cfg.Logger.Warn("no client connected", "failed", t.failed, "dropped", t.dropped)
					drainAt = now
					r.phase.Store(phaseDrain)
					break
				}
				steadyAt = now
				r.cfg.Logger.Info("all clients connected or failed; measuring", "connected", t.connected, "failed", t.failed, "ramp", rep.Ramp)
				r.phase.Store(phaseSteady)
				r.startAttack()
			}
		case phaseSteady:
			stop := cancelled || now.Sub(steadyAt) >= r.cfg.Duration
			if !stop && t.active == 0 {
				r.cfg.Logger.Warn("every client lost its connection; stopping early", "dropped", t.dropped)
				rep.Interrupted, stop = true, true
			}
			if stop {
				drainAt = now
				rep.Duration = now.Sub(steadyAt)
				r.phase.Store(phaseDrain)
				r.stopAttack()
			}
		case phaseDrain:
			if t.steady.sent == t.steady.echoed+t.steady.lost || now.Sub(drainAt) >= r.cfg.Drain {
				closeAt = now
				r.phase.Store(phaseClose)
			}
		case phaseClose:
			if t.active == 0 || now.Sub(closeAt) >= closeWait+100*time.Millisecond {
				return rep
			}
		}
		if r.cfg.Progress != nil && now.Sub(lastProgress) >= time.Second {
			secs := now.Sub(lastProgress).Seconds()
			all := t.ramp.add(t.steady)
			prev := last.ramp.add(last.steady)
			r.cfg.Progress(Progress{
				Elapsed:      now.Sub(r.start),
				Phase:        phaseNames[r.phase.Load()],
				Clients:      r.cfg.Clients,
				Connected:    t.active,
				Failed:       t.failed,
				Dropped:      t.dropped,
				SentPerSec:   float64(all.sent-prev.sent) / secs,
				EchoedPerSec: float64(all.echoed-prev.echoed) / secs,
				Sent:         all.sent,
				Lost:         all.lost,
			})
			lastProgress, last = now, t
		}
	}
}

// counts are message counts of one phase.
type counts struct{ sent, echoed, lost uint64 }

func (a counts) add(b counts) counts {
	return counts{a.sent + b.sent, a.echoed + b.echoed, a.lost + b.lost}
}

// totals are the workers' counters summed.
type totals struct {
	connected, failed, dropped, active int
	ramp, steady                       counts
}

func (r *run) totals() totals {
	var t totals
	for _, w := range r.workers {
		s := &w.shared
		t.connected += int(s.connected.Load())
		t.failed += int(s.failed.Load())
		t.dropped += int(s.dropped.Load())
		t.active += int(s.active.Load())
		t.ramp = t.ramp.add(counts{s.rampSent.Load(), s.rampEchoed.Load(), s.rampLost.Load()})
		t.steady = t.steady.add(counts{s.steadySent.Load(), s.steadyEchoed.Load(), s.steadyLost.Load()})
	}
	return t
}

// finish fills the report from the workers' final counts.
func (r *run) finish(rep *Report) {
	var h histogram
	t := r.totals()
	for _, w := range r.workers {
		h.merge(&w.rtt)
		rep.Late += w.late
		rep.Duplicates += w.dups
		rep.Corrupt += w.corrupt
		rep.SendErrors += w.sendErrors + w.socks.sendErrors()
		rep.ReceiveErrors += w.recvErrors
		rep.GeneratorDrops += w.socks.kernelDrops()
		rep.DatagramsOut += w.dgOut
		rep.DatagramsIn += w.dgIn
		rep.Failures.merge(&w.failures)
		if w.openErr != nil && rep.OpenError == "" {
			rep.OpenError = w.openErr.Error()
		}
	}
	rep.Connected = t.connected
	rep.Failed = t.failed
	rep.Dropped = t.dropped
	rep.NotStarted = r.cfg.Clients - t.connected - t.failed
	rep.Sent, rep.Echoed, rep.Lost = t.steady.sent, t.steady.echoed, t.steady.lost
	rep.RampSent, rep.RampEchoed = t.ramp.sent, t.ramp.echoed
	rep.RTT = RTT{
		P50: h.quantile(0.50), P90: h.quantile(0.90), P99: h.quantile(0.99),
		Max: time.Duration(h.max) * time.Microsecond, Mean: h.mean(), Count: h.n,
	}
	if h.n > 0 {
		rep.RTT.Min = time.Duration(h.min) * time.Microsecond
	}
}
