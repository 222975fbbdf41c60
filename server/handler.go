package server

import (
	"time"

	"github.com/mpgs/mpgameserver/conn"
)

// An EventHandler holds the game logic. The server calls every method from
// its one event goroutine, in order, never concurrently, so a handler needs
// no locks for state only it touches. A panic in a method is recovered,
// logged with the client's context and counted; the server goes on serving.
//
// Embed BaseHandler to implement only the events you need.
type EventHandler interface {
	// Starting is called once when the server starts, before any other
	// event.
	Starting()
	// Connect is called when a client completed the handshake. Keep its
	// Peer (for example in a map by token) to send to it later.
	Connect(p *Peer)
	// Disconnect is called once for every connected client that leaves: it
	// disconnected, timed out, was disconnected by the server, or the
	// server is stopping. The client can no longer be sent to.
	Disconnect(p *Peer)
	// HandleMessage is called for every message a connected client sent,
	// once per message, fragmented messages reassembled. msg is only valid
	// during the call: copy it to keep it.
	HandleMessage(p *Peer, seq conn.Seq, msg []byte)
	// Update is called once per tick with the time since the previous
	// tick.
	Update(delta time.Duration)
	// Shutdown is called last when the server stops gracefully. It is not
	// called if the process crashes or is killed.
	Shutdown()
}

// BaseHandler implements every EventHandler method as a no-op.
type BaseHandler struct{}

// Starting does nothing.
func (BaseHandler) Starting() {}

// Connect does nothing.
func (BaseHandler) Connect(*Peer) {}

// Disconnect does nothing.
func (BaseHandler) Disconnect(*Peer) {}

// HandleMessage does nothing.
func (BaseHandler) HandleMessage(*Peer, conn.Seq, []byte) {}

// Update does nothing.
func (BaseHandler) Update(time.Duration) {}

// Shutdown does nothing.
func (BaseHandler) Shutdown() {}
