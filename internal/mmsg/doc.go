// Package mmsg holds what engine/transport and the attack kit share to
// send and receive many UDP datagrams per system call on Linux (sendmmsg,
// recvmmsg). Elsewhere it is empty.
package mmsg
