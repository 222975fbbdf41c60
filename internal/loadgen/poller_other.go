//go:build !linux

package loadgen

import "github.com/mpgs/mpgameserver/carrier/transport"

// epoll is empty off Linux: a poller looks at each Conn in turn.
type epoll struct{}

func newEpoll() (epoll, error)                       { return epoll{}, nil }
func (*epoll) add(transport.Conn, int) (bool, error) { return false, nil }
func (*epoll) remove(transport.Conn) (bool, error)   { return false, nil }
func (*epoll) ready([]int) (int, error)              { return 0, nil }
func (*epoll) close() error                          { return nil }
