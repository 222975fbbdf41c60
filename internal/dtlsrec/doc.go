// Package dtlsrec runs the DTLS 1.2 record layer of a WebRTC peer inline,
// in a game server's tick goroutine, once pion's DTLS has done the
// handshake.
//
// A game server talks to browsers over WebRTC data channels, whose
// packets ride in DTLS records. pion's dtls.Conn spends, per record, a
// goroutine wake-up, a context and several allocations, for every peer
// on every tick. The handshake is another matter: it is rare, per peer,
// and bounded by the caller, so pion keeps it.
//
// So the work is split:
//
//   - Pipe is the net.PacketConn through which pion's server handshakes
//     with one peer while the caller keeps its single UDP socket: the
//     caller pushes the peer's datagrams into it, pion's datagrams go out
//     through a function the caller gives.
//   - Handshake runs pion's dtls server over a Pipe until the handshake
//     completes, then takes the connection over through pion's documented
//     export (dtls.Conn.ConnectionState, dtls.State.MarshalBinary), stops
//     pion without letting it send anything more, and returns a Conn.
//   - Conn is the record layer: Seal encrypts application data into a
//     record, Open decrypts a received one in place and checks it against
//     the anti-replay window. Both run in the caller's goroutine, take no
//     lock and allocate nothing. Keys come from the exported master secret
//     and hello randoms (TLS 1.2 PRF, RFC 5246); sequence numbers and the
//     replay window continue from pion's.
//
// Only what a WebRTC server needs is there: DTLS 1.2, the server side,
// AES-GCM cipher suites (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 is the
// one to configure; AES-256-GCM is accepted too), no connection IDs, no
// renegotiation (epoch 1 only), no session resumption.
//
// # The peer's lost final flight
//
// The server speaks last in a DTLS 1.2 handshake, and pion's server
// considers itself done as soon as its final flight (ChangeCipherSpec,
// Finished) is written. If that flight is lost, the peer retransmits its
// own last flight, which now reaches Conn.Open rather than pion: Open
// returns its clear records with ErrPlaintext and its Finished with type
// TypeHandshake, and the caller re-sends Pipe.LastFlight, pion's own
// records, kept at the handoff. See Conn.Open.
package dtlsrec
