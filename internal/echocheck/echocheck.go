// Package echocheck checks that a server keeps the echo contract: Run
// connects as a client and runs scenarios (connect, small and packed
// messages, fragments of 10 KB and 100 KB, guaranteed delivery's
// callbacks, the STATS reply, a wrong pinned key, a graceful disconnect),
// printing a PASS or FAIL line for each. mpgameserver-tools check runs it
// from the command line, against our server or the Python original's.
//
// The contract (the echo game, internal/echo, which `mpgameserver serve
// --game echo` runs):
//   - every message is echoed to its sender byte for byte: with guaranteed
//     delivery when its first byte is 'G', plain otherwise;
//   - the exact message "STATS" is answered (guaranteed) with a JSON object
//     of per-client counts of the messages echoed so far, keyed by token:
//     {"1234567890":{"msgs":3,"bytes":120}, ...};
//   - the server prints "CONNECT <ip>:<port> token=<n> active=<n>" and
//     "DISCONNECT <ip>:<port> msgs=<n> bytes=<n> active=<n>" lines.
package echocheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"syscall"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/client"
	"github.com/mpgs/mpgameserver/conn"
	echogame "github.com/mpgs/mpgameserver/internal/echo"
)

// Options configure Run.
type Options struct {
	// Server is the echo server's address, "host:port".
	Server string
	// Key is the server's pinned public key (nil trusts the server's).
	Key *conn.PublicKey
	// Out receives the PASS/FAIL lines.
	Out io.Writer
	// Frame is the time between two Update calls, like a game's frame
	// (16 ms when zero).
	Frame time.Duration
	// Seed makes the message contents repeatable.
	Seed uint64
	// ConnectTimeout is how long the connect scenario waits for the
	// server's answer (5 s). When it fails, Run stops: every other
	// scenario needs the connection.
	ConnectTimeout time.Duration
	// Dial, when set, opens the clients' sockets instead of UDP (for
	// example rtc.Dialer, to run the scenarios over WebRTC; Server is then
	// what it takes).
	Dial func(addr string) (transport.Conn, error)
}

// Scenarios returns the names of the scenarios Run runs, in order.
func Scenarios() []string {
	return []string{"connect", "echo_small", "pack_many", "fragment_10k", "fragment_100k",
		"guaranteed_callbacks", "stats", "wrong_key", "disconnect"}
}

// runner is the state shared by the scenarios: one connection used by all
// but wrong_key.
type runner struct {
	opts    Options
	rng     *rand.Rand
	c       *client.Client
	echoes  map[string]int  // received messages by content
	stats   [][]byte        // STATS replies
	echoed  echogame.Counts // what we sent that the server counts
	started time.Time
	// everConnected: the connect scenario passed.
	everConnected bool
}

// Run runs the echo scenarios against opts.Server and prints one line per
// scenario, "PASS <name> <detail>" or "FAIL <name> <detail>", then
// "N passed, M failed". It returns the counts. When the first scenario,
// connect, fails, its line says why (nothing answered, nothing listens,
// the server's key is not the pinned one) and the others are not run:
// each gets a "SKIP <name> ..." line, and the last line ends ", K
// skipped".
func Run(opts Options) (passed, failed int) {
	if opts.Frame <= 0 {
		opts.Frame = 16 * time.Millisecond
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	r := &runner{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 7)), echoes: map[string]int{}}
	steps := map[string]func() (string, error){
		"connect":              r.connect,
		"echo_small":           r.echoSmall,
		"pack_many":            r.packMany,
		"fragment_10k":         func() (string, error) { return r.fragment(10_000, 10*time.Second) },
		"fragment_100k":        func() (string, error) { return r.fragment(100_000, 20*time.Second) },
		"guaranteed_callbacks": r.guaranteedCallbacks,
		"stats":                r.statsReply,
		"wrong_key":            r.wrongKey,
		"disconnect":           r.disconnect,
	}
	skipped := 0
	for _, name := range Scenarios() {
		var (
			detail string
			err    error
		)
		if name != "connect" && !r.everConnected {
			// connect failed: nothing else can run.
			skipped++
			fmt.Fprintf(opts.Out, "SKIP %s not run: connect failed\n", name)
			continue
		}
		if name != "connect" && name != "wrong_key" && !r.c.Connected() {
			err = errors.New("not connected")
		} else {
			detail, err = steps[name]()
		}
		if err != nil {
			failed++
			fmt.Fprintf(opts.Out, "FAIL %s %v\n", name, err)
			continue
		}
		passed++
		fmt.Fprintf(opts.Out, "PASS %s %s\n", name, detail)
	}
	if r.c != nil {
		r.c.ForceDisconnect()
	}
	if skipped > 0 {
		fmt.Fprintf(opts.Out, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	} else {
		fmt.Fprintf(opts.Out, "%d passed, %d failed\n", passed, failed)
	}
	return passed, failed
}

// frame runs one game frame: Update, then collect what arrived.
func (r *runner) frame() {
	r.c.Update()
	for _, m := range r.c.Messages() {
		if len(m.Data) > 0 && m.Data[0] == '{' {
			r.stats = append(r.stats, m.Data)
			continue
		}
		r.echoes[string(m.Data)]++
	}
	time.Sleep(r.opts.Frame)
}

// pump runs frames until done or the timeout, and reports whether done.
func (r *runner) pump(timeout time.Duration, done func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if done() {
			return true
		}
		r.frame()
	}
	return done()
}

// payload returns n bytes: prefix, then random letters.
func (r *runner) payload(prefix string, n int) []byte {
	b := make([]byte, n)
	copy(b, prefix)
	for i := len(prefix); i < n; i++ {
		b[i] = byte('a' + r.rng.IntN(26))
	}
	return b
}

// awaitEchoes waits until every message came back exactly once.
func (r *runner) awaitEchoes(msgs [][]byte, timeout time.Duration) error {
	ok := r.pump(timeout, func() bool {
		for _, m := range msgs {
			if r.echoes[string(m)] == 0 {
				return false
			}
		}
		return true
	})
	missing, dup := 0, 0
	for _, m := range msgs {
		switch n := r.echoes[string(m)]; {
		case n == 0:
			missing++
		case n > 1:
			dup++
		}
	}
	if !ok || missing > 0 {
		return fmt.Errorf("%d of %d echoes missing after %v", missing, len(msgs), timeout)
	}
	if dup > 0 {
		return fmt.Errorf("%d echoes arrived more than once", dup)
	}
	return nil
}

func (r *runner) send(msgs [][]byte, retry conn.RetryMode, cb func(int) func(bool)) error {
	for i, m := range msgs {
		var f func(bool)
		if cb != nil {
			f = cb(i)
		}
		if err := r.c.Send(m, retry, f); err != nil {
			return err
		}
		r.echoed.Msgs++
		r.echoed.Bytes += len(m)
	}
	return nil
}

func (r *runner) connect() (string, error) {
	var sock *watchedConn
	dial := func(addr string) (transport.Conn, error) {
		c, err := dialWatched(addr)
		sock = c
		return c, err
	}
	if r.opts.Dial != nil {
		dial = r.opts.Dial
	}
	r.c = client.New(client.Config{ServerKey: r.opts.Key, HandshakeTimeout: r.opts.ConnectTimeout, Dial: dial})
	var result *bool
	t0 := time.Now()
	if err := r.c.Connect(r.opts.Server, func(ok bool) { result = &ok }); err != nil {
		return "", err
	}
	r.pump(r.opts.ConnectTimeout+time.Second, func() bool { return result != nil })
	if result == nil || !*result {
		st := r.c.Stats()
		return "", connectFailure(r.opts.Server, r.opts.ConnectTimeout, r.c.Err(), st.Received+st.Dropped > 0, sock != nil && sock.refused)
	}
	r.everConnected = true
	return fmt.Sprintf("token=%d in %v", r.c.Token(), time.Since(t0).Round(time.Millisecond)), nil
}

// connectFailure says why a connection to server failed: err is the
// client's Err, heard whether anything came back, refused whether the
// system said nothing listens there.
func connectFailure(server string, timeout time.Duration, err error, heard, refused bool) error {
	switch {
	case errors.Is(err, conn.ErrBadSignature):
		return errors.New("bad signature: the server's key does not match the pinned key")
	case errors.Is(err, conn.ErrHandshakeTimeout) && !heard && refused:
		return fmt.Errorf("connection refused: nothing listens at %s: is an echo server running there?", server)
	case errors.Is(err, conn.ErrHandshakeTimeout) && !heard:
		return fmt.Errorf("no answer from %s within %v: is an echo server running there?", server, timeout)
	case errors.Is(err, conn.ErrHandshakeTimeout):
		return fmt.Errorf("%s answered, but not with a handshake the client could complete (%v): is it an mpgameserver echo server?", server, err)
	case err == nil:
		return fmt.Errorf("no connect callback within %v", timeout+time.Second)
	}
	return fmt.Errorf("connect failed: %v", err)
}

// watchedConn is a socket that notes whether the system said that
// nothing listens at the server's port: a connected socket reads an ICMP
// port unreachable as ECONNREFUSED (Linux; a portable socket, off Linux,
// is not told).
type watchedConn struct {
	transport.Conn
	refused bool
}

func dialWatched(addr string) (*watchedConn, error) {
	c, err := transport.Dial(addr, transport.Config{})
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c}, nil
}

func (w *watchedConn) note(err error) {
	if errors.Is(err, syscall.ECONNREFUSED) {
		w.refused = true
	}
}

func (w *watchedConn) ReadBatch(ds []transport.Datagram) (int, error) {
	n, err := w.Conn.ReadBatch(ds)
	w.note(err)
	return n, err
}

func (w *watchedConn) WriteBatch(ds []transport.Datagram) (int, error) {
	n, err := w.Conn.WriteBatch(ds)
	w.note(err)
	return n, err
}

func (r *runner) echoSmall() (string, error) {
	msgs := make([][]byte, 20)
	for i := range msgs {
		msgs[i] = r.payload("e"+strconv.Itoa(i)+":", 10+r.rng.IntN(91))
	}
	t0 := time.Now()
	if err := r.send(msgs, conn.RetryOnTimeout, nil); err != nil {
		return "", err
	}
	if err := r.awaitEchoes(msgs, 5*time.Second); err != nil {
		return "", err
	}
	return fmt.Sprintf("20 messages of 10-100 bytes echoed in %v", time.Since(t0).Round(time.Millisecond)), nil
}

func (r *runner) packMany() (string, error) {
	// Let anything in flight settle so the 50 leave together.
	r.pump(200*time.Millisecond, func() bool { return r.c.QueuedBytes() == 0 })
	msgs := make([][]byte, 50)
	for i := range msgs {
		msgs[i] = r.payload("p"+strconv.Itoa(i)+":", 20)
	}
	before := r.c.Stats().Assembled
	if err := r.send(msgs, conn.RetryOnTimeout, nil); err != nil {
		return "", err
	}
	var datagrams uint64
	r.pump(time.Second, func() bool {
		if r.c.QueuedBytes() == 0 && datagrams == 0 {
			datagrams = r.c.Stats().Assembled - before
		}
		return datagrams > 0
	})
	if err := r.awaitEchoes(msgs, 5*time.Second); err != nil {
		return "", err
	}
	if datagrams != 1 {
		return "", fmt.Errorf("50 messages queued in one frame left in %d datagrams, want 1", datagrams)
	}
	return "50 messages queued in one frame left in 1 datagram and came back", nil
}

func (r *runner) fragment(n int, timeout time.Duration) (string, error) {
	msg := r.payload("G"+strconv.Itoa(n)+":", n)
	var acked *bool
	t0 := time.Now()
	if err := r.send([][]byte{msg}, conn.RetryOnTimeout, func(int) func(bool) { return func(ok bool) { acked = &ok } }); err != nil {
		return "", err
	}
	if err := r.awaitEchoes([][]byte{msg}, timeout); err != nil {
		return "", err
	}
	r.pump(2*time.Second, func() bool { return acked != nil })
	if acked == nil || !*acked {
		return "", errors.New("echo arrived but the send callback did not report true")
	}
	return fmt.Sprintf("%d bytes echoed byte-exact in %v", n, time.Since(t0).Round(time.Millisecond)), nil
}

func (r *runner) guaranteedCallbacks() (string, error) {
	msgs := make([][]byte, 20)
	for i := range msgs {
		msgs[i] = r.payload("Gcb"+strconv.Itoa(i)+":", 32)
	}
	results := make([][]bool, len(msgs))
	if err := r.send(msgs, conn.RetryOnTimeout, func(i int) func(bool) {
		return func(ok bool) { results[i] = append(results[i], ok) }
	}); err != nil {
		return "", err
	}
	if err := r.awaitEchoes(msgs, 5*time.Second); err != nil {
		return "", err
	}
	r.pump(3*time.Second, func() bool {
		for _, res := range results {
			if len(res) == 0 {
				return false
			}
		}
		return true
	})
	for i, res := range results {
		if len(res) != 1 || !res[0] {
			return "", fmt.Errorf("message %d: callbacks %v, want [true]", i, res)
		}
	}
	return "20 guaranteed messages: 20 callbacks, all true", nil
}

func (r *runner) statsReply() (string, error) {
	r.stats = nil
	if err := r.c.SendGuaranteed([]byte("STATS"), nil); err != nil {
		return "", err
	}
	if !r.pump(5*time.Second, func() bool { return len(r.stats) > 0 }) {
		return "", errors.New("no STATS reply within 5s")
	}
	var m map[string]echogame.Counts
	if err := json.Unmarshal(r.stats[0], &m); err != nil {
		return "", fmt.Errorf("STATS reply is not the expected JSON: %v: %q", err, r.stats[0])
	}
	mine, ok := m[strconv.FormatUint(uint64(r.c.Token()), 10)]
	if !ok {
		return "", fmt.Errorf("STATS has no entry for token %d: %s", r.c.Token(), r.stats[0])
	}
	if mine != r.echoed {
		return "", fmt.Errorf("STATS says %+v, we sent %+v", mine, r.echoed)
	}
	return fmt.Sprintf("msgs=%d bytes=%d for our token, %d clients listed", mine.Msgs, mine.Bytes, len(m)), nil
}

func (r *runner) wrongKey() (string, error) {
	other, err := conn.GenerateKey(nil)
	if err != nil {
		return "", err
	}
	// The handshake fails when its timeout ends, the refused SERVER_HELLO
	// remembered as the reason: as long a timeout as connect's, so that a
	// busy machine's late answer still counts.
	c := client.New(client.Config{ServerKey: other.Public(), HandshakeTimeout: r.opts.ConnectTimeout, Dial: r.opts.Dial})
	var result *bool
	reached := false
	if err := c.Connect(r.opts.Server, func(ok bool) { result = &ok }); err != nil {
		return "", err
	}
	defer c.ForceDisconnect()
	wait := r.opts.ConnectTimeout + time.Second
	deadline := time.Now().Add(wait)
	for result == nil && time.Now().Before(deadline) {
		c.Update()
		reached = reached || c.Connected()
		r.frame() // the main connection lives on meanwhile
	}
	switch err := c.Err(); {
	case reached:
		return "", errors.New("connected to a server that does not hold the pinned key")
	case result == nil:
		return "", fmt.Errorf("no connect callback within %v", wait)
	case *result:
		return "", errors.New("connect callback reported success")
	case !errors.Is(err, conn.ErrBadSignature):
		// Refused for another reason (no answer, say): that proves
		// nothing about the server's key.
		return "", fmt.Errorf("the connection failed, but not for a bad signature: %v", err)
	default:
		// err reads "handshake timed out: ... does not verify": the
		// client waited out its timeout for a hello it could verify.
		return "refused, as it should be: the server's hello is not signed by the pinned key", nil
	}
}

func (r *runner) disconnect() (string, error) {
	t0 := time.Now()
	r.c.Disconnect()
	r.pump(3*time.Second, func() bool { return r.c.Status().Closed() })
	switch err := r.c.Err(); {
	case !r.c.Status().Closed():
		return "", fmt.Errorf("still %s after 3s", r.c.Status())
	case errors.Is(err, conn.ErrCloseTimeout):
		return "", errors.New("the server never acknowledged the DISCONNECT")
	case !errors.Is(err, conn.ErrLocalClose):
		return "", fmt.Errorf("closed for another reason: %v", err)
	}
	return fmt.Sprintf("acknowledged in %v", time.Since(t0).Round(time.Millisecond)), nil
}
