// Package carrier groups the ways the protocol's datagrams travel. A game
// needs none of them to start: server.New and client.Connect use UDP
// sockets of their own. Import one when you want another way:
//
//   - carrier/transport: the socket layer under the server and the client
//     (UDP sockets read and written in batches, an in-memory network for
//     tests), and the Conn interface every carrier implements: give one to
//     server.NewWithConn or to client.Config.Dial;
//   - carrier/rtc: browser players, over WebRTC data channels, beside the
//     UDP ones (rtc.Merge), and a native client's way to reach a server
//     the same way (rtc.Dialer);
//   - carrier/netsim: a simulated lossy, delaying link around any Conn, for
//     tests and for trying a game on a bad network.
package carrier
