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
// checked through the signaling). A dialer runs pion's WebRTC (under
// GOOS=js, the browser's RTCPeerConnection). The Listener runs only the
// part of WebRTC a server needs for one data channel per peer, in the
// server's own calls: an ICE-lite agent, DTLS (pion's handshake, then a
// record layer of its own) and SCTP, on one UDP socket, so that a browser
// player costs about what a UDP player does.
package rtc

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/pion/webrtc/v4"
)

// Limits of a Listener, each a bound on what a client can make it hold.
const (
	// DefaultMaxPeers bounds the browser peers at a time. An open peer
	// holds about 10 KiB (its SCTP association, about 5 KiB, a message
	// being reassembled and its DTLS keys); one in its DTLS handshake
	// also holds pion's handshake and at most 40 KiB of datagrams, for
	// at most setupTimeout. 256 hostile peers hold a few MiB: the server
	// fits a container of 256 MiB with its clients' memory budget
	// (server.Config.MemoryBudget).
	DefaultMaxPeers = 256
	// DefaultMaxPeersPerIP bounds the peers, setting up or open, whose
	// signaling came from one host (an IPv4 address or an IPv6 /64).
	DefaultMaxPeersPerIP = 16
	// DefaultMaxSetupsPerIP bounds the peers setting up at a time (offer
	// answered, channel not yet open) from one host.
	DefaultMaxSetupsPerIP = 8
	// DefaultHandshakeTimeout closes a peer whose channel opened but
	// whose client completed no handshake with the server in this long.
	// It is above the server's own handshake timeout (2 s) and a hello's
	// first resends.
	DefaultHandshakeTimeout = 5 * time.Second
	// maxSignal bounds a signaling request's body: a browser's offer of
	// one data channel takes a few KiB.
	maxSignal = 16 << 10
	// setupTimeout closes a peer whose channel did not open in time.
	setupTimeout = 10 * time.Second
	// openTimeout fails a dialed connection whose channel has not opened
	// this long after Dial: gathering, the signaling (at most
	// setupTimeout) and the server's setupTimeout after its answer.
	openTimeout = 2 * setupTimeout
	// sessionGrace is how long a peer stays open once its session ended,
	// for what the server sent last (its DISCONNECT) to go out.
	sessionGrace = time.Second
	// sweepEvery is how often a listener looks at its peers' clocks.
	sweepEvery = 250 * time.Millisecond
	// dialBuffered: datagrams to a dialed connection's channel that holds
	// this many bytes unsent are dropped, as a full socket buffer drops
	// them (the protocol takes it as loss and slows down).
	dialBuffered = 512 << 10
)

// Label names the data channel; a peer's channel of another label is
// refused.
const Label = "mpgs"

// Config sets up a Listener.
type Config struct {
	// MaxPeers bounds the browser peers at a time, setting up or open
	// (DefaultMaxPeers; beyond it the signaling answers 503).
	MaxPeers int
	// MaxPeersPerIP bounds the peers, setting up or open, whose signaling
	// request came from one host: an IPv4 address, or an IPv6 /64
	// (DefaultMaxPeersPerIP; beyond it the signaling answers 429).
	// Behind a proxy every request comes from the proxy's address: raise
	// it, or -1 for no bound.
	MaxPeersPerIP int
	// MaxSetupsPerIP bounds the peers setting up at a time from one host
	// (DefaultMaxSetupsPerIP; 429 beyond; -1 for no bound).
	MaxSetupsPerIP int
	// HandshakeTimeout closes a peer whose channel is open but whose
	// client has completed no handshake with the server in this long
	// (DefaultHandshakeTimeout). The server tells the listener of its
	// sessions through the transport.PeerConn of Merge; -1 keeps peers
	// open without a session (a listener read directly, not by a
	// server).
	HandshakeTimeout time.Duration
	// Logger receives the listener's log lines (discarded when nil).
	Logger *slog.Logger
	// ICE chooses the addresses and the port browsers reach the listener
	// on.
	ICE Options
	// API is not used by a Listener.
	//
	// Deprecated: the Listener no longer makes pion peer connections: it
	// is ICE-lite, needs no STUN server, and offers the addresses of ICE.
	API *webrtc.API
}

// Options choose the addresses a peer connection offers the other end.
// The zero Options offer, on a port the system picks, the address a
// browser's signaling reached (or every interface's address, loopback
// included, when that is not known).
type Options struct {
	// Host, when specified, is the one address offered: a server's
	// listening address (127.0.0.1 keeps everything on the loopback).
	Host netip.Addr
	// Public are offered instead of the addresses found: those of a
	// server behind a one-to-one NAT, such as a cloud VM's public address.
	Public []netip.Addr
	// Port, when not 0, is the one UDP port on Host (or every IPv4
	// interface) through which a Listener carries every browser peer, for
	// a firewall or a container to open; 0 lets the system pick it. A
	// dialer ignores it.
	Port uint16
}
