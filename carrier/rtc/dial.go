package rtc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/mpgs/mpgameserver/carrier/transport"
)

// maxInbox bounds the datagrams a dialed connection holds unread.
const maxInbox = 4096

// Dialer returns a dial function for client.Config.Dial that reaches a
// server's signaling URL (the Listener's Handler, for example
// https://host:8080/rtc) over WebRTC. api is the pion API (nil: NewAPI(Options{}), every interface).
func Dialer(api *webrtc.API) func(url string) (transport.Conn, error) {
	return func(url string) (transport.Conn, error) { return Dial(url, api) }
}

// Dial starts connecting to the signaling URL of a server and returns at
// once: the offer, the answer and the channel's opening happen on a
// goroutine of their own, so that a game's Update never waits for them.
// The connection is a transport.Opener: datagrams written before the
// channel opens are dropped, and a client starts its handshake once it
// has. If the connection cannot be made, or the channel has not opened
// 20 s after Dial, reads and writes return the reason
// (transport.ErrBroken). api is the pion API (nil: NewAPI(Options{}),
// every interface).
func Dial(url string, api *webrtc.API) (transport.Conn, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	if api == nil {
		api = NewAPI(Options{})
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	ordered, retransmits := false, uint16(0)
	dc, err := pc.CreateDataChannel(Label, &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: &retransmits})
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("rtc: %w", err)
	}
	c := &dialed{pc: pc, dc: dc, in: newInbox(maxInbox)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.expire = time.AfterFunc(openTimeout, func() {
		if !c.open.Load() {
			c.in.fail(fmt.Errorf("rtc: the data channel did not open within %v", openTimeout))
		}
	})
	dc.OnOpen(func() { c.open.Store(true) })
	dc.OnClose(func() { c.in.fail(errors.New("rtc: the server closed the channel")) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) { c.in.push(netip.AddrPort{}, m.Data) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			c.in.fail(errors.New("rtc: the connection failed"))
		}
	})
	go c.signal(url)
	return c, nil
}

// dialed is a client's connection to one server over a data channel.
type dialed struct {
	pc     *webrtc.PeerConnection
	dc     *webrtc.DataChannel
	ctx    context.Context
	cancel context.CancelFunc
	open   atomic.Bool
	expire *time.Timer // fails the connection if it does not open in time
	in     *inbox
}

// Opened reports whether the data channel has opened (transport.Opener):
// a client starts its handshake then.
func (c *dialed) Opened() bool { return c.open.Load() }

// signal posts the offer and applies the answer.
func (c *dialed) signal(url string) {
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		c.in.fail(fmt.Errorf("rtc: %w", err))
		return
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(offer); err != nil {
		c.in.fail(fmt.Errorf("rtc: %w", err))
		return
	}
	select {
	case <-gathered:
	case <-c.ctx.Done():
		return
	}
	body, _ := json.Marshal(c.pc.LocalDescription()) // a session description always marshals
	ctx, cancel := context.WithTimeout(c.ctx, setupTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		c.in.fail(fmt.Errorf("rtc: %w", err))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.in.fail(fmt.Errorf("rtc: signaling: %w", err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		c.in.fail(fmt.Errorf("rtc: signaling: %s: %s", resp.Status, bytes.TrimSpace(msg)))
		return
	}
	var answer webrtc.SessionDescription
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSignal)).Decode(&answer); err != nil {
		c.in.fail(fmt.Errorf("rtc: signaling: the answer: %w", err))
		return
	}
	if err := c.pc.SetRemoteDescription(answer); err != nil {
		c.in.fail(fmt.Errorf("rtc: the answer: %w", err))
	}
}

func (c *dialed) ReadBatch(ds []transport.Datagram) (int, error) { return c.in.read(ds) }

func (c *dialed) WriteBatch(ds []transport.Datagram) (int, error) {
	c.in.mu.Lock()
	closed, err := c.in.closed, c.in.err
	c.in.mu.Unlock()
	switch {
	case closed:
		return 0, transport.ErrClosed
	case err != nil:
		return 0, err
	case !c.open.Load():
		c.in.drops.Add(uint64(len(ds))) // not open yet: the protocol resends
		return len(ds), nil
	}
	for i, d := range ds {
		if c.dc.BufferedAmount() > dialBuffered {
			c.in.drops.Add(1)
			continue
		}
		if err := c.dc.Send(d.Data); err != nil {
			return i, fmt.Errorf("rtc: %w", err)
		}
	}
	c.in.writes.Add(1)
	return len(ds), nil
}

func (c *dialed) Wait(deadline time.Time) error { return c.in.wait(deadline) }

func (c *dialed) LocalAddr() netip.AddrPort { return netip.AddrPort{} }

func (c *dialed) Stats() transport.Stats { return c.in.stats() }

func (c *dialed) Close() error {
	if !c.in.close() {
		return nil
	}
	c.expire.Stop()
	c.cancel()
	return c.pc.Close()
}
