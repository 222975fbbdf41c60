//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// The http-hold attack.
const (
	// holdConns is how many connections the attacker holds on each
	// listener: more than --web's 4,096.
	holdConns = 4100
	// holdFrom is the last byte of the attacker's address, 127.0.0.2.
	holdFrom = 2
	// holdDialers bounds the connections being opened at a time.
	holdDialers = 256
	// answerWithin is how long a request may wait for its answer.
	answerWithin = 10 * time.Second
	// keepEvery is how often a held connection sends a request again,
	// within --web's idle timeout of a minute.
	keepEvery = 50 * time.Second
	// idleUpTo bounds the wait for the server to close an idle
	// keep-alive connection.
	idleUpTo = 90 * time.Second
)

// runHTTPHold holds connections to --web and --http from 127.0.0.2 and
// times what others still get.
func runHTTPHold(ctx context.Context, t *tool) row { return t.arenaRun(ctx, httpHold) }

// httpHold measures the idle keep-alives, then holds each listener in
// turn and times what a stranger still gets.
func httpHold(ctx context.Context, a *arenaEnv) outcome {
	if err := a.needs("web", "http"); err != nil {
		return outcome{achieved: "did not run: " + err.Error()}
	}
	// The idle connections first, while every place is free.
	idleWeb, idleHTTP := make(chan string, 1), make(chan string, 1)
	var started sync.WaitGroup
	started.Add(2)
	go func() { idleWeb <- idleKeepAlive(ctx, a.srv.web, "/", started.Done) }()
	go func() { idleHTTP <- idleKeepAlive(ctx, a.srv.http, "/healthz", started.Done) }()
	started.Wait()

	a.logf("http-hold: holding %d connections to --web from %s", holdConns, lo(holdFrom))
	h := hold(ctx, a.srv.web, "/", holdConns)
	a.logf("http-hold: --web %v", h)
	joined := make(chan browsersJoined, 1)
	go func() { joined <- joinBrowsers(ctx, "http://"+a.srv.web+"/rtc", a.pub) }()
	page, offer := make(chan string, 1), make(chan string, 1)
	go func() { page <- timeGet(ctx, a.srv.webURL()) }()
	go func() { offer <- timeOffer(ctx, "http://"+a.srv.web+"/rtc") }()
	web := fmt.Sprintf("--web: %v; then from 127.0.0.1 the page: %s, an offer to /rtc: %s", h, <-page, <-offer)
	browsers := <-joined
	h.release()

	a.logf("http-hold: holding %d connections to --http from %s", holdConns, lo(holdFrom))
	h = hold(ctx, a.srv.http, "/healthz", holdConns)
	a.logf("http-hold: --http %v", h)
	plain := fmt.Sprintf("--http: %v; then /healthz: %s", h, timeGet(ctx, a.srv.httpURL("/healthz")))
	h.release()

	a.logf("http-hold: waiting for the idle keep-alives to be closed (%v at most)", idleUpTo)
	idle := fmt.Sprintf("An idle keep-alive was closed after: --web %s, --http %s", <-idleWeb, <-idleHTTP)
	return outcome{achieved: web + ". " + plain + ". " + idle, browsers: browsers}
}

// holder is the connections held to one listener.
type holder struct {
	target                   string
	tried, answered, waiting int
	errs                     map[string]int
	cancel                   context.CancelFunc
	mu                       sync.Mutex
	conns                    []net.Conn
	wg                       sync.WaitGroup
}

// String counts the connections, for the table.
func (h *holder) String() string {
	s := fmt.Sprintf("%d of %d connections held (answered)", h.answered, h.tried)
	if h.waiting > 0 {
		s += fmt.Sprintf(", %d open but unanswered in %v", h.waiting, answerWithin)
	}
	if len(h.errs) > 0 {
		s += ", failed: " + counts(h.errs)
	}
	return s
}

// hold opens n connections to target from 127.0.0.2, each sending GET
// path once and then every keepEvery while it is answered, and returns
// once every connection was answered or waited answerWithin.
func hold(ctx context.Context, target, path string, n int) *holder {
	ctx, cancel := context.WithCancel(ctx)
	h := &holder{target: target, tried: n, errs: map[string]int{}, cancel: cancel}
	d := &net.Dialer{Timeout: answerWithin, LocalAddr: &net.TCPAddr{IP: lo(holdFrom).AsSlice()}}
	slots := make(chan struct{}, holdDialers)
	var opening sync.WaitGroup
	for range n {
		slots <- struct{}{}
		opening.Go(func() {
			defer func() { <-slots }()
			c, err := d.DialContext(ctx, "tcp", target)
			if err != nil {
				h.mu.Lock()
				h.errs[short(err)]++
				h.mu.Unlock()
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			br := bufio.NewReader(c)
			err = request(c, br, target, path)
			h.mu.Lock()
			switch {
			case err == nil:
				h.answered++
			case isTimeout(err):
				h.waiting++
			default:
				h.errs[short(err)]++
			}
			h.mu.Unlock()
			if err == nil {
				h.wg.Go(func() { keep(ctx, c, br, target, path) })
			}
		})
	}
	opening.Wait()
	return h
}

// keep sends a request on c every keepEvery until ctx is done or the
// connection fails.
func keep(ctx context.Context, c net.Conn, br *bufio.Reader, target, path string) {
	for sleep(ctx, keepEvery) {
		if request(c, br, target, path) != nil {
			return
		}
	}
}

// release closes every held connection.
func (h *holder) release() {
	h.cancel()
	h.mu.Lock()
	for _, c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// request sends GET path on c and reads the response, within
// answerWithin.
func request(c net.Conn, br *bufio.Reader, host, path string) error {
	_ = c.SetDeadline(time.Now().Add(answerWithin))
	defer c.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// timeGet times a fresh GET of url from 127.0.0.1.
func timeGet(ctx context.Context, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	start := time.Now()
	resp, err := httpFrom(loopback(), answerWithin).Do(req)
	if err != nil {
		if isTimeout(err) {
			return fmt.Sprintf("no answer in %v", answerWithin)
		}
		return short(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprintf("%d in %s", resp.StatusCode, ms(time.Since(start)))
}

// timeOffer times a fresh POST of a real offer to the signaling URL
// from 127.0.0.1.
func timeOffer(ctx context.Context, url string) string {
	pc, err := pionAPI(nil).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "ours: " + short(err)
	}
	defer pc.Close()
	if _, err := newDataChannel(pc); err != nil {
		return "ours: " + short(err)
	}
	offer, err := newOffer(ctx, pc)
	if err != nil {
		return "ours: " + short(err)
	}
	s := postOffer(ctx, httpFrom(loopback(), answerWithin), url, offer)
	switch {
	case s.status == 0 && isTimeout(s.err):
		return fmt.Sprintf("no answer in %v", answerWithin)
	case s.status == 0:
		return short(s.err)
	}
	return fmt.Sprintf("%d in %s", s.status, ms(s.took))
}

// idleKeepAlive sends one request on a connection from 127.0.0.1, calls
// started once it was answered (or failed), and then times how long the
// server keeps the idle connection open, up to idleUpTo.
func idleKeepAlive(ctx context.Context, target, path string, started func()) string {
	d := &net.Dialer{Timeout: answerWithin, LocalAddr: &net.TCPAddr{IP: loopback().AsSlice()}}
	c, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		started()
		return short(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	err = request(c, br, target, path)
	started()
	if err != nil {
		return "its request failed: " + short(err)
	}
	start := time.Now()
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()
	_ = c.SetReadDeadline(start.Add(idleUpTo))
	_, err = br.ReadByte()
	took := time.Since(start)
	switch {
	case ctx.Err() != nil:
		return "interrupted"
	case err == nil:
		return fmt.Sprintf("the server sent something after %.0f s", took.Seconds())
	case isTimeout(err):
		return fmt.Sprintf(">%.0f s (still open)", idleUpTo.Seconds())
	}
	return fmt.Sprintf("%.0f s", took.Seconds())
}
