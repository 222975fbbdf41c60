package player

import (
	"errors"
	"time"

	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
)

// Reconnecting is the state of a player that lost its session and is
// connecting again (Options.NoReconnect off): the client waits, then
// tries, with backoff (client.Reconnect), until a server answers.
//
// Meanwhile the player shows the old session's world as it last was, and
// sends nothing. Once an attempt connects (client.ReconnectDone) it
// forgets everything of the old session (the replicated world and its
// names, scores and kill feed, the prediction and the inputs numbered for
// it, the laser shots, its own id and the server's identity) and starts
// as a player that just connected: it asks which game the server hosts,
// and once welcomed introduces itself with the same Hello, its name and
// color, so that it rejoins as itself. The arena takes a name some other
// player has (such as the player's own ghost, the old session of a
// server that did not restart and has not timed it out yet): names are
// not unique there.
type Reconnecting struct {
	// Since is when the session was lost; Lost is why (conn.ErrReset: the
	// server restarted; conn.ErrTimeout: it went silent;
	// conn.ErrPeerClosed: it closed the session).
	Since time.Time
	Lost  error
	// Attempt is the attempt under way (Trying), or the last one that
	// failed (0 before the first), and Failed why it failed.
	Attempt int
	Trying  bool
	Failed  error
	// Next is when the next attempt starts (when not Trying).
	Next time.Time
}

// Why says in a few words why the session was lost (see Reason).
func (r Reconnecting) Why() string { return Reason(r.Lost) }

// Reconnecting reports whether the player lost its session and is
// connecting again, and how far it got.
func (p *Player) Reconnecting() (Reconnecting, bool) {
	if p.rc == nil {
		return Reconnecting{}, false
	}
	return *p.rc, true
}

// Rejoins returns how many new sessions reconnecting brought the player
// since Connect.
func (p *Player) Rejoins() int { return p.rejoins }

// Reason says in a few words, for a status line, why a session was lost
// or an attempt to connect failed: "the server restarted" (conn.ErrReset),
// "the server went silent" (conn.ErrTimeout), "the server closed the
// connection" (conn.ErrPeerClosed), "no answer" (conn.ErrHandshakeTimeout),
// "the server's key does not match" (conn.ErrBadSignature); else the
// error's text ("" for nil).
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, conn.ErrReset):
		return "the server restarted"
	case errors.Is(err, conn.ErrTimeout):
		return "the server went silent"
	case errors.Is(err, conn.ErrPeerClosed):
		return "the server closed the connection"
	case errors.Is(err, conn.ErrHandshakeTimeout):
		return "no answer"
	case errors.Is(err, conn.ErrBadSignature):
		return "the server's key does not match"
	}
	return err.Error()
}

// reconnectEvent takes in a step of the client's reconnecting; it runs
// in the client's Update, within Frame, before the messages of that
// Update are read: those after ReconnectDone are the new session's.
func (p *Player) reconnectEvent(e client.ReconnectEvent) {
	now := time.Now()
	if p.rc == nil && e.Step != client.ReconnectDone && e.Step != client.ReconnectGaveUp {
		p.rc = &Reconnecting{Since: now, Lost: e.Err}
	}
	switch e.Step {
	case client.ReconnectLost:
		p.rc.Next = now.Add(e.Wait)
	case client.ReconnectAttempt:
		p.rc.Attempt, p.rc.Trying = e.Attempt, true
	case client.ReconnectFailed:
		p.rc.Attempt, p.rc.Trying, p.rc.Failed, p.rc.Next = e.Attempt, false, e.Err, now.Add(e.Wait)
	case client.ReconnectDone:
		p.forget()
	case client.ReconnectGaveUp:
		// Err says why from now on: the last attempt's failure.
		p.rc = nil
	}
	if f := p.opts.Reconnect.OnEvent; f != nil {
		f(e)
	}
}

// forget drops everything of the old session, as Connect does, for the
// new session reconnecting brought: the player starts over as one that
// just connected (Frame identifies the server again, then says Hello).
func (p *Player) forget() {
	*p = Player{opts: p.opts, c: p.c, link: p.link, names: make(map[uint32]info), rejoins: p.rejoins + 1, buf: p.buf[:0]}
}
