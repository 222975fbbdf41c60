// Package mmsg holds what carrier/transport and the attack kit share to
// send and receive many UDP datagrams per system call on Linux (sendmmsg,
// recvmmsg). Elsewhere it is empty.
package mmsg
