// Package rule is the one rule of the echo contract that both ends apply:
// a message whose first byte is Guaranteed is echoed with guaranteed
// delivery. The echo game (internal/echo) follows it; the load generator
// (internal/loadgen) marks its messages by it, without linking a server.
package rule

import "github.com/mpgs/mpgameserver/conn"

// Guaranteed is the first byte of a message echoed with guaranteed
// delivery.
const Guaranteed = 'G'

// Retry returns how msg is echoed: conn.RetryOnTimeout when it starts
// with Guaranteed, conn.RetryNone otherwise.
func Retry(msg []byte) conn.RetryMode {
	if len(msg) > 0 && msg[0] == Guaranteed {
		return conn.RetryOnTimeout
	}
	return conn.RetryNone
}
