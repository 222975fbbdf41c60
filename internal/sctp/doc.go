// Package sctp is a minimal, inline SCTP association for exactly one WebRTC
// data channel, server side.
//
// A browser (or any WebRTC peer) carries its data channels over SCTP inside
// DTLS (RFC 8261, RFC 8831). A general SCTP stack runs goroutines, timers and
// queues per association; for a game server that already owns a tick loop,
// that costs far more than the UDP path it sits next to. An Assoc instead is
// driven entirely by its caller: every received SCTP packet is passed to
// Handle, timers advance only in Tick, and every method takes the current time
// as an argument. It starts no goroutines, takes no locks, reads no clock and
// does not allocate on the steady-state paths (Handle of DATA and SACK, Send,
// Flush, Tick). Its memory is bounded: a few KiB plus one reassembly buffer of
// Config.MaxMessage bytes.
//
// What it is:
//
//   - the passive side of RFC 9260 association setup: it answers the peer's
//     INIT with INIT-ACK and its COOKIE-ECHO with COOKIE-ACK, and never sends
//     INIT itself;
//   - the answering side of the Data Channel Establishment Protocol
//     (RFC 8832): the first DATA_CHANNEL_OPEN is acknowledged reliably and
//     its stream becomes the one channel of the association;
//   - a receiver that delivers every whole message at once, whether the peer
//     sent it ordered or not, with a bounded window of 1024 TSNs, duplicate
//     detection, gap reports in SACKs and reassembly of one fragmented
//     message at a time;
//   - a sender of unordered, never retransmitted messages (PR-SCTP, RFC 3758):
//     data the peer has not acknowledged after about 200 ms is skipped with
//     FORWARD-TSN so the peer never waits for it.
//
// What it is not: it serves one channel only (other channels are refused), it
// is never a client, it does not reorder (ordered messages are delivered as
// they arrive), it never retransmits user data, and it has no congestion
// control or flow control of its own: the caller's protocol paces what it
// sends. Peer restarts, multi-homing, AUTH, I-DATA, zero-checksum and
// pre-negotiated channels are not supported.
//
// The caller owns DTLS: Handle receives decrypted DTLS application data, one
// whole SCTP packet per call, and Sink.Output receives each SCTP packet to be
// encrypted and sent. An Assoc must be used by one goroutine at a time.
// Sink.Deliver may call Send and Close (an echo is fine); Sink.Output must not
// call back into the Assoc, because the packet it is given lives in the
// Assoc's one output buffer.
package sctp
