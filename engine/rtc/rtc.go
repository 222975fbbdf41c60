// Package rtc carries the protocol's datagrams over WebRTC data channels,
// the one unreliable, unordered transport a browser has: a game built for
// GOOS=js reaches the same server, through the same handshake and the same
// end-to-end encryption, as a native game over UDP.
//
// A server makes a Listener, serves its Handler on its HTTP listener (the
// signaling: a client posts an SDP offer and gets the answer), and gives
// the server Merge(udpSocket, listener): one transport.Conn in which every
// browser peer is one more address, so it joins the same connection table,
// tick, handler events, limits and drop accounting as a UDP client. A
// client dials with Dial, which returns at once (the signaling runs on a
// goroutine of its own, so a game's Update never blocks); datagrams sent
// before the channel opens are dropped, and the protocol's hello repeats;
// a connection the server refuses fails with its reason
// (transport.ErrBroken). Options choose what a server offers browsers: its
// listening address only, public addresses behind a NAT, one UDP port for
// every peer.
//
// Each data channel is unordered with no retransmissions: SCTP only frames
// the datagrams, as UDP would. WebRTC was chosen over WebTransport because
// a browser needs no certificate trusted by it to open a data channel to a
// server on a LAN or on localhost (DTLS with a self-signed certificate is
// checked through the signaling), and pion runs it both in the server and,
// under GOOS=js, through the browser's RTCPeerConnection.
package rtc

import (
	"log/slog"
	"time"

	"net/netip"

	"github.com/pion/webrtc/v4"
)

// Limits of a Listener, each a bound on what a client can make it hold.
const (
	// DefaultMaxPeers bounds the browser peers at a time.
	DefaultMaxPeers = 1024
	// DefaultMaxSetupsPerIP bounds the peers setting up at a time (offer
	// answered, channel not yet open, at most 15 s) from one IP address,
	// so that one host cannot take every place.
	DefaultMaxSetupsPerIP = 8
	// maxQueued bounds the datagrams received and not yet read, for all
	// peers together; beyond it they are dropped and counted.
	maxQueued = 8192
	// maxSignal bounds a signaling request's body.
	maxSignal = 64 << 10
	// idleClose closes a peer that sent nothing for this long (the
	// protocol's connection timeout is 5 s).
	idleClose = 15 * time.Second
	// setupTimeout closes a peer whose channel did not open in time.
	setupTimeout = 15 * time.Second
	// maxBuffered: datagrams to a peer whose channel holds this many bytes
	// unsent are dropped, as a full socket buffer drops them. It is above
	// the widest congestion window the protocol gives a peer of ours
	// (256 packets).
	maxBuffered = 512 << 10
	// maxReceiveBuffer bounds what a peer's SCTP association holds
	// received and not yet delivered (pion's default is 1 MiB). With
	// maxBuffered and MaxPeers it bounds the listener's memory: about
	// 768 KiB a peer, 768 MiB for 1,024 hostile ones.
	maxReceiveBuffer = 256 << 10
)

// Label names the data channel; a peer's channel of another label is
// refused.
const Label = "mpgs"

// Config sets up a Listener.
type Config struct {
	// MaxPeers bounds the browser peers at a time (DefaultMaxPeers).
	MaxPeers int
	// MaxSetupsPerIP bounds the peers setting up at a time from one IP
	// address, the signaling request's (DefaultMaxSetupsPerIP; beyond it
	// the signaling answers 429). Behind a proxy every request comes from
	// the proxy's address: raise it, or -1 for no bound.
	MaxSetupsPerIP int
	// Logger receives the listener's log lines (discarded when nil).
	Logger *slog.Logger
	// ICE chooses the addresses and the port browsers reach the listener
	// on, when API is nil.
	ICE Options
	// API, when set, makes the peer connections (for example with a STUN
	// server), and ICE is ignored.
	API *webrtc.API
}

// Options choose the addresses a peer connection offers the other end.
// The zero Options offer every interface's address, loopback included,
// each peer on a port of its own.
type Options struct {
	// Host, when specified, is the one address offered: a server's
	// listening address (127.0.0.1 keeps everything on the loopback).
	Host netip.Addr
	// Public are offered instead of the addresses found: those of a
	// server behind a one-to-one NAT, such as a cloud VM's public address.
	Public []netip.Addr
	// Port, when not 0, carries every browser peer of a Listener through
	// this one UDP port on Host (or every interface), for a firewall or a
	// container to open. A dialer ignores it.
	Port uint16
}
