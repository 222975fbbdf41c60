// Package conn names what a game server and its clients share: how a
// message is delivered (RetryMode), the state of a connection (Status),
// its counters (Stats, Drops), why it ended or refused something (the
// errors, for errors.Is), a message's number (Seq), the sizes the wire
// allows, and the server's key pair (PrivateKey, PublicKey), which clients
// pin.
//
// A game imports it beside server or client:
//
//	p.Send(msg, conn.RetryOnTimeout, nil)       // resent until acknowledged
//	if errors.Is(c.Err(), conn.ErrTimeout) { … } // the server went silent
//
// The connection itself, a sans-I/O state machine wire-compatible with
// the Python mpgameserver 0.2.4, is internal (internal/session); the
// protocol it speaks is docs/protocol.md.
package conn
