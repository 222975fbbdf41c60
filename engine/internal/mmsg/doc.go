// Package mmsg holds what engine/udp and engine/loadgen share to send and
// receive many UDP datagrams per system call on Linux (sendmmsg,
// recvmmsg). Elsewhere it is empty.
package mmsg
