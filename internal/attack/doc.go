// Package attack is a kit of hostile clients for testing a server's
// defences and for running abuse beside the load generator's measured
// clients. Everything it sends is built from the protocol and crypto
// packages directly, not through conn, so it can break every rule
// a well-behaved connection keeps.
//
//   - Client completes the real handshake over a real UDP socket and then
//     sends whatever packets its caller builds: any messages, any message
//     seqs and fragment headers, with honest acks or none, and replays of
//     its own earlier datagrams byte for byte.
//   - Flood sends datagrams from many forged source addresses in
//     127.64.0.0/10 through one socket (IP_PKTINFO, sendmmsg): junk,
//     CLIENT_HELLOs with a bad CRC, valid CLIENT_HELLOs. It needs Linux and
//     a server on the IPv4 loopback.
//   - Run runs one of the named attacks (Attacks lists them) until its
//     context is done and reports what it sent and how the server treated
//     the attackers.
//
// Nothing here is meant to be pointed at a server you do not run.
package attack
