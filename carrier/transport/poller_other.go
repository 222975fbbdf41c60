//go:build !linux

package transport

// epoll is empty off Linux: a Poller looks at each Conn in turn.
type epoll struct{}

func newEpoll() (epoll, error)             { return epoll{}, nil }
func (*epoll) add(Conn, int) (bool, error) { return false, nil }
func (*epoll) remove(Conn) (bool, error)   { return false, nil }
func (*epoll) ready([]int) (int, error)    { return 0, nil }
func (*epoll) close() error                { return nil }
