package loadgen

import (
	"errors"
	"sync"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// A poller tells which of many Conns have datagrams waiting, without
// waiting itself, so that one goroutine can serve thousands of sockets
// (a load generator's clients) and read only those with something to
// read. Linux sockets (transport.Dial, Listen) are watched with one
// epoll: a call costs one system call however many sockets there are,
// and no datagram wakes a goroutine. Other Conns (portable sockets, an
// in-memory network's) are looked at one by one, which costs a lock
// each. A poller is safe for concurrent use.
type poller struct {
	mu      sync.Mutex
	ep      epoll // the kernel's watch list, where there is one
	scanned map[transport.Conn]int
	closed  bool
}

// errNotPolled is returned by remove for a Conn that was not added.
var errNotPolled = errors.New("loadgen: the Conn is not in the poller")

// newPoller returns an empty poller.
func newPoller() (*poller, error) {
	ep, err := newEpoll()
	if err != nil {
		return nil, err
	}
	return &poller{ep: ep, scanned: make(map[transport.Conn]int)}, nil
}

// pender is a Conn whose waiting datagrams can be counted without a
// system call (transport's portable and in-memory Conns).
type pender interface{ Pending() bool }

// add watches c; ready reports it by token (any int the caller chooses,
// typically an index). Remove c before closing it.
func (p *poller) add(c transport.Conn, token int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return transport.ErrClosed
	}
	if ok, err := p.ep.add(c, token); ok || err != nil {
		return err
	}
	if _, ok := c.(pender); !ok {
		return errors.New("loadgen: a poller cannot watch this Conn")
	}
	p.scanned[c] = token
	return nil
}

// remove stops watching c.
func (p *poller) remove(c transport.Conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok, err := p.ep.remove(c); ok || err != nil {
		return err
	}
	if _, ok := p.scanned[c]; !ok {
		return errNotPolled
	}
	delete(p.scanned, c)
	return nil
}

// ready fills tokens with the tokens of Conns that have datagrams waiting
// and returns how many; it never waits. When it fills tokens, more may be
// ready: call it again.
func (p *poller) ready(tokens []int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, transport.ErrClosed
	}
	n, err := p.ep.ready(tokens)
	if err != nil {
		return n, err
	}
	for c, tok := range p.scanned {
		if n == len(tokens) {
			break
		}
		if c.(pender).Pending() {
			tokens[n] = tok
			n++
		}
	}
	return n, nil
}

// close releases the poller (not the Conns it watched).
func (p *poller) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return transport.ErrClosed
	}
	p.closed = true
	return p.ep.close()
}
