package transport

import (
	"errors"
	"sync"
)

// A Poller tells which of many Conns have datagrams waiting, without
// waiting itself, so that one goroutine can serve thousands of sockets
// (a load generator's clients, a process running many bots) and read only
// those with something to read. Linux sockets (Dial, Listen) are watched
// with one epoll: a call costs one system call however many sockets there
// are, and no datagram wakes a goroutine. Other Conns (portable sockets,
// an in-memory network's, wrapped ones) are looked at one by one, which
// costs a lock each. A Poller is safe for concurrent use.
type Poller struct {
	mu      sync.Mutex
	ep      epoll // the kernel's watch list, where there is one
	scanned map[Conn]int
	closed  bool
}

// ErrNotPolled is returned by Remove for a Conn that was not added.
var ErrNotPolled = errors.New("transport: the Conn is not in the poller")

// NewPoller returns an empty poller.
func NewPoller() (*Poller, error) {
	ep, err := newEpoll()
	if err != nil {
		return nil, err
	}
	return &Poller{ep: ep, scanned: make(map[Conn]int)}, nil
}

// pender is a Conn whose waiting datagrams can be counted without a
// system call.
type pender interface{ pending() bool }

// Add watches c; Ready reports it by token (any int the caller chooses,
// typically an index). Remove c before closing it.
func (p *Poller) Add(c Conn, token int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if ok, err := p.ep.add(c, token); ok || err != nil {
		return err
	}
	if _, ok := c.(pender); !ok {
		return errors.New("transport: a Poller cannot watch this Conn")
	}
	p.scanned[c] = token
	return nil
}

// Remove stops watching c.
func (p *Poller) Remove(c Conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok, err := p.ep.remove(c); ok || err != nil {
		return err
	}
	if _, ok := p.scanned[c]; !ok {
		return ErrNotPolled
	}
	delete(p.scanned, c)
	return nil
}

// Ready fills tokens with the tokens of Conns that have datagrams waiting
// and returns how many; it never waits. When it fills tokens, more may be
// ready: call it again.
func (p *Poller) Ready(tokens []int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	n, err := p.ep.ready(tokens)
	if err != nil {
		return n, err
	}
	for c, tok := range p.scanned {
		if n == len(tokens) {
			break
		}
		if c.(pender).pending() {
			tokens[n] = tok
			n++
		}
	}
	return n, nil
}

// Close releases the poller (not the Conns it watched).
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.closed = true
	return p.ep.close()
}
