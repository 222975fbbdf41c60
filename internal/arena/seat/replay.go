package seat

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/arena"
	"github.com/mpgs/mpgameserver/internal/arena/player"
	"github.com/mpgs/mpgameserver/internal/arena/rerun"
	"github.com/mpgs/mpgameserver/internal/record"
)

// Epoch is the player's clock at the recording's start: a Replay's Now is
// Epoch plus the recording's time shown.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Replay is a recording running through a fresh arena handler, shown
// through one session's seat: a player.Player in Watch mode that receives
// what the handler sends that session's connection, at the recorded tick
// it was sent, over a perfect link that acknowledges every message once
// it is delivered.
//
// The recording's time only goes forward (the game is re-simulated from
// its start: Restart starts again). RunTo and Step advance it; the
// handler runs at most one tick ahead of the time shown, and what it sent
// during a tick reaches the player when the time shown reaches that
// tick's end. A Replay is not safe for concurrent use.
type Replay struct {
	path string
	ix   *Index
	sess Session

	r        *record.Reader
	u        *rerun.Runner
	p        *player.Player
	link     *link
	connects int           // the recording's Connects run so far
	elapsed  time.Duration // the recording's time after the last tick run
	tick     uint64        // the last tick run
	sent     []event       // what the seat was sent in the tick being run
	queue    []event       // stamped with the end of their tick, not delivered yet
	at       time.Duration // the time shown
	shown    uint64        // the last tick whose end is shown
	finished bool          // no tick is left to run: the end, or err
	err      error         // why the recording cannot be run further
	closed   bool
}

// event is something that reaches the seat when the time shown reaches
// at: a message (msg, acknowledged with ack), the session's connect or
// leave, or the end of tick (shown).
type event struct {
	at     time.Duration
	msg    []byte
	ack    func(ok bool)
	kind   eventKind
	tick   uint64        // evTick's
	reason uint8         // evLeave's
	when   time.Duration // evLeave's: the recording's time of the Disconnect (Session.LeaveAt)
}

type eventKind uint8

const (
	evMessage eventKind = iota
	evConnect
	evLeave
	evTick
)

// OpenAs scans the recording at path and opens a Replay of the n-th
// session (1 for the first) named name (Index.Find).
func OpenAs(path, name string, n int) (*Replay, error) {
	ix, err := Scan(path)
	if err != nil {
		return nil, err
	}
	s, err := ix.Find(name, n)
	if err != nil {
		return nil, err
	}
	return Open(path, ix, s)
}

// Open starts a Replay of session s of the recording at path, which Scan
// indexed as ix. Nothing has run yet: the time shown is the recording's
// start, before its first tick.
func Open(path string, ix *Index, s Session) (*Replay, error) {
	if s.Ordinal < 0 || s.Ordinal >= len(ix.Sessions) || ix.Sessions[s.Ordinal].Token != s.Token {
		return nil, fmt.Errorf("seat: session %d (token %d) is not one of the recording's", s.Ordinal, s.Token)
	}
	rp := &Replay{path: path, ix: ix, sess: s}
	if err := rp.start(); err != nil {
		return nil, err
	}
	return rp, nil
}

// start opens the recording and makes a fresh game and player.
func (rp *Replay) start() error {
	r, err := record.Open(rp.path)
	if err != nil {
		return err
	}
	rp.r = r
	rp.link = &link{status: conn.Connecting}
	rp.p = player.NewOn(rp.link, player.Options{Name: rp.sess.Name, Color: rp.sess.Color, Watch: true})
	rp.u = rerun.New(r, rerun.Config{NewPeer: rp.newPeer})
	rp.connects, rp.elapsed, rp.tick, rp.at, rp.shown = 0, 0, 0, 0, 0
	rp.sent, rp.queue, rp.finished, rp.err, rp.closed = nil, nil, false, nil, false
	return nil
}

// newPeer is the handler's view of the recording's next connection: the
// seat's own for the session watched.
func (rp *Replay) newPeer(token uint32) arena.Peer {
	n := rp.connects
	rp.connects++
	if n != rp.sess.Ordinal || token != rp.sess.Token {
		return nil // a peer whose sends go nowhere
	}
	rp.sent = append(rp.sent, event{kind: evConnect})
	return &seatPeer{rp: rp, token: token}
}

// Restart starts the recording again from its beginning, with a fresh
// game and player (the re-simulation only runs forward).
func (rp *Replay) Restart() error {
	rp.stop()
	return rp.start()
}

// Close stops the game (its replication's workers) and closes the
// recording.
func (rp *Replay) Close() { rp.stop() }

func (rp *Replay) stop() {
	if rp.closed {
		return
	}
	rp.closed = true
	rp.u.Close()
	rp.r.Close()
}

// Path returns the recording's path; Index what Scan found in it;
// Session the session watched.
func (rp *Replay) Path() string           { return rp.path }
func (rp *Replay) Index() *Index          { return rp.ix }
func (rp *Replay) Session() Session       { return rp.sess }
func (rp *Replay) Player() *player.Player { return rp.p }

// Handler returns the re-simulated game (nil before the first record was
// run): tests compare what the seat shows with its world.
func (rp *Replay) Handler() *arena.Handler { return rp.u.Handler() }

// At returns the recording's time shown (the sum of the deltas of the
// ticks shown, and part of the next); Now the player's clock at it
// (Epoch + At), for player.View.
func (rp *Replay) At() time.Duration { return rp.at }
func (rp *Replay) Now() time.Time    { return Epoch.Add(rp.at) }

// Tick returns the recording's tick shown: the last one whose end the
// time shown reached (0 before the first).
func (rp *Replay) Tick() uint64 { return rp.shown }

// Ended reports whether the time shown reached the end of the recording,
// or the point past which it cannot be run (Err says why).
func (rp *Replay) Ended() bool { return rp.finished && len(rp.queue) == 0 && rp.at >= rp.elapsed }

// Err returns why the recording could not be run to its end (records lost
// while recording, a corrupt block, a second game): the replay ends
// there. It is nil for a recording run to its end.
func (rp *Replay) Err() error { return rp.err }

// Seated reports whether the session watched is connected at the time
// shown; Left whether it has left the game by then (LeftError says how).
func (rp *Replay) Seated() bool { return rp.link.status == conn.Connected }
func (rp *Replay) Left() bool   { return rp.link.status.Closed() }

// LeftError is what the seat's Player.Err says once its session left the
// game in the recording.
type LeftError struct {
	Name   string
	At     time.Duration // the recording's time (Session.LeaveAt)
	Reason uint8         // server.LeftTimedOut...
}

func (e *LeftError) Error() string {
	return fmt.Sprintf("%s left the game at %s: %s", e.Name, Clock(e.At), Reason(e.Reason))
}

// Clock formats a recording's time as minutes, seconds and tenths
// (1:02.5).
func Clock(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	m := d / time.Minute
	s := (d - m*time.Minute).Seconds()
	return fmt.Sprintf("%d:%04.1f", m, s)
}

// Step runs the game through the recording's next tick and shows the
// seat what it was sent by its end, at its time (the time shown jumps
// there). At the end of the recording it returns io.EOF, or the error
// that stops it (Err).
func (rp *Replay) Step() error {
	if rp.finished {
		rp.show(rp.elapsed)
		if rp.err != nil {
			return rp.err
		}
		return io.EOF
	}
	rp.run()
	rp.show(rp.elapsed)
	return nil
}

// RunTo advances the time shown to t (the recording's time; never back):
// it runs the game tick by tick until its time reaches t, showing the
// seat each tick's messages at that tick's time, and moves the player's
// clock to t. Before each tick it asks more, when not nil: when more says
// no, the time shown stops at the last tick run (a window gives RunTo a
// frame's budget with it). At the end of the recording the time stops
// there. It returns whether it is done: the time shown reached t, or the
// end.
func (rp *Replay) RunTo(t time.Duration, more func() bool) bool {
	want := t
	for rp.elapsed < t && !rp.finished {
		if more != nil && !more() {
			t = rp.elapsed
			break
		}
		rp.run()
		rp.deliver(min(rp.elapsed, t))
	}
	if rp.finished {
		t = min(t, rp.elapsed)
	}
	rp.show(t)
	return rp.at >= want || rp.Ended()
}

// show moves the time shown to t (never back), delivering what was sent
// by then, and the player's frame to it.
func (rp *Replay) show(t time.Duration) {
	rp.deliver(t)
	rp.at = max(rp.at, t)
	rp.p.Frame(rp.Now(), 0)
}

// run runs the records through the next Tick record (or the end) and
// stamps what the seat was sent meanwhile with the tick's end.
func (rp *Replay) run() {
	for {
		rec, err := rp.u.Next()
		if err != nil {
			rp.finished = true
			if !errors.Is(err, io.EOF) {
				rp.err = fmt.Errorf("seat: the replay stops at %s: %w", Clock(rp.elapsed), err)
			}
			rp.stamp()
			return
		}
		switch rec.Kind {
		case record.KindDisconnect:
			if rp.connects > rp.sess.Ordinal && rec.Peer == rp.sess.Token && !rp.leaving() {
				rp.sent = append(rp.sent, event{kind: evLeave, reason: rec.Reason, when: rp.elapsed})
			}
		case record.KindTick:
			rp.elapsed += rec.Delta
			rp.tick = rec.Tick
			rp.sent = append(rp.sent, event{kind: evTick, tick: rec.Tick})
			rp.stamp()
			return
		}
	}
}

// leaving reports whether the session's leave was run already.
func (rp *Replay) leaving() bool {
	if rp.link.status.Closed() {
		return true
	}
	for _, lists := range [][]event{rp.queue, rp.sent} {
		for _, e := range lists {
			if e.kind == evLeave {
				return true
			}
		}
	}
	return false
}

// stamp queues what was sent during the tick just run, at its end.
func (rp *Replay) stamp() {
	for i := range rp.sent {
		rp.sent[i].at = rp.elapsed
	}
	rp.queue = append(rp.queue, rp.sent...)
	rp.sent = rp.sent[:0]
}

// deliver hands the seat what was sent by t, a tick at a time: each
// tick's messages reach the player's link, the player runs a frame at
// the tick's time, and the messages are acknowledged.
func (rp *Replay) deliver(t time.Duration) {
	i := 0
	for i < len(rp.queue) && rp.queue[i].at <= t {
		at := rp.queue[i].at
		j := i
		for j < len(rp.queue) && rp.queue[j].at == at {
			e := &rp.queue[j]
			switch e.kind {
			case evMessage:
				rp.link.inbox = append(rp.link.inbox, client.Message{Data: e.msg})
			case evConnect:
				rp.link.status = conn.Connected
			case evLeave:
				rp.link.status = conn.Disconnected
				rp.link.err = &LeftError{Name: rp.sess.Name, At: e.when, Reason: e.reason}
			case evTick:
				rp.shown = e.tick
			}
			j++
		}
		rp.at = max(rp.at, at)
		rp.p.Frame(rp.Now(), 0)
		for k := i; k < j; k++ {
			if ack := rp.queue[k].ack; ack != nil {
				ack(true) // a perfect link: every message arrives
			}
		}
		i = j
	}
	rp.queue = append(rp.queue[:0], rp.queue[i:]...)
}

// seatPeer is the handler's peer of the session watched: what the handler
// sends it goes to the seat.
type seatPeer struct {
	rp    *Replay
	token uint32
}

func (p *seatPeer) Token() uint32 { return p.token }
func (p *seatPeer) Send(b []byte, _ conn.RetryMode, ack func(ok bool)) error {
	p.rp.sent = append(p.rp.sent, event{kind: evMessage, msg: append([]byte(nil), b...), ack: ack})
	return nil
}
func (p *seatPeer) Log() *slog.Logger { return slog.New(slog.DiscardHandler) }
func (p *seatPeer) SetLabel(string)   {}

// link is the seat's side of its perfect connection: what the handler
// sent it arrives, what the player sends (a spectator sends nothing) goes
// nowhere.
type link struct {
	inbox, out []client.Message
	status     conn.Status
	err        error
	sends      int // messages the player tried to send
}

func (k *link) Update() {}
func (k *link) Messages() []client.Message {
	k.out, k.inbox = k.inbox, k.out[:0]
	return k.out
}
func (k *link) Connected() bool                                  { return k.status == conn.Connected }
func (k *link) Status() conn.Status                              { return k.status }
func (k *link) Err() error                                       { return k.err }
func (k *link) Send([]byte, conn.RetryMode, func(ok bool)) error { k.sends++; return nil }
func (k *link) SendGuaranteed([]byte, func(ok bool)) error       { k.sends++; return nil }
func (k *link) Disconnect()                                      {}
