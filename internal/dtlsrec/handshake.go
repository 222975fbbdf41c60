package dtlsrec

import (
	"context"
	"fmt"

	"github.com/pion/dtls/v3"
)

// Handshake runs pion's DTLS server over p for the peer p was made for,
// with the caller's options (certificate, client authentication and its
// check, cipher suites...), until the handshake completes, fails, or ctx
// ends. It then takes the connection over: it closes p (so that nothing
// pion writes afterwards leaves, its close_notify included) and pion's
// connection, and returns the record layer, which carries on with pion's
// keys and sequence numbers.
//
// The caller keeps pushing the peer's datagrams into p while Handshake
// runs (it runs in its own goroutine, as pion does its work in
// goroutines); once Handshake has returned it runs p.Drain's datagrams
// through Conn.Open, then every new one, and keeps p.LastFlight for the
// peer's retransmissions.
//
// The negotiated suite must be AES-GCM (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
// is the one meant; the ECDHE AES-256-GCM and RSA ones work too), or
// Handshake fails with ErrSuite; a connection ID must not have been
// negotiated (do not pass WithConnectionIDGenerator), or it fails with
// ErrCID. Session resumption (WithSessionStore) is not supported: the
// peer would send the last flight. In these cases the peer believes the
// handshake succeeded; the caller forgets it.
func Handshake(ctx context.Context, p *Pipe, opts ...dtls.ServerOption) (*Conn, error) {
	p.holdData()
	dc, err := dtls.ServerWithOptions(p, p.remote, opts...)
	if err != nil {
		_ = p.Close()
		return nil, err
	}
	if err := dc.HandshakeContext(ctx); err != nil {
		_ = dc.Close() // closes p; pion has already sent its alert, if any
		_ = p.Close()
		return nil, err
	}

	// Close the pipe before taking the state: pion goes on running (it
	// answers retransmissions with new records), and any record it
	// encrypts from now on is never sent, while those it sent used
	// sequence numbers below the exported one.
	_ = p.Close()
	state, ok := dc.ConnectionState()
	_ = dc.Close()
	if !ok {
		return nil, fmt.Errorf("%w: pion exported no state", ErrState)
	}
	raw, err := state.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	return fromExport(raw)
}

// fromExport builds the record layer from pion's dtls.State.MarshalBinary,
// of either side. The source connection must never send again (Handshake
// makes sure of it), or GCM nonces are reused.
func fromExport(raw []byte) (*Conn, error) {
	e, err := decodeExport(raw)
	if err != nil {
		return nil, err
	}
	return newConn(e)
}
