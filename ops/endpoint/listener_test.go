package endpoint

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patience bounds every wait of these tests, so that a broken one fails
// rather than hangs; nothing asserts how fast anything is.
const patience = 30 * time.Second

// Hosts the tests dial from: Linux routes all of 127.0.0.0/8 to lo.
var (
	host1 = net.IPv4(127, 0, 0, 1)
	host2 = net.IPv4(127, 0, 0, 2)
	host3 = net.IPv4(127, 0, 0, 3)
	host4 = net.IPv4(127, 0, 0, 4)
)

// needHosts skips the test where 127.0.0.2 to .4 are not local addresses.
func needHosts(t *testing.T) {
	t.Helper()
	for _, ip := range []net.IP{host2, host3, host4} {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip.String(), "0"))
		if err != nil {
			t.Skipf("%v is not a local address here: %v", ip, err)
		}
		pc.Close()
	}
}

// listen is a Listener of lim on 127.0.0.1, closed at the test's end.
func listen(t *testing.T, lim Limits) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := Listen(ln, lim)
	t.Cleanup(func() { l.Close() })
	return l
}

// serve serves h with the bounds of tm on a Listener of lim, until the
// test's end.
func serve(t *testing.T, lim Limits, tm Timeouts, h http.Handler) (*Listener, *http.Server) {
	t.Helper()
	l := listen(t, lim)
	srv := NewServer(h, tm, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return l, srv
}

// ok answers 200 "ok".
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

// dialFrom connects to addr from ip; the connection is closed at the
// test's end.
func dialFrom(t *testing.T, ip net.IP, addr string) net.Conn {
	t.Helper()
	c, err := tryDial(t, ip, addr)
	require.NoError(t, err)
	return c
}

// tryDial connects to addr from ip, or fails: with a reset where the
// server closed the connection at accept before the dial saw it open.
// The connection is closed at the test's end.
func tryDial(t *testing.T, ip net.IP, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: patience}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

const request = "GET / HTTP/1.1\r\nHost: test\r\n\r\n"

// get sends a keep-alive request on c and returns the answer's status
// and body.
func get(t *testing.T, c net.Conn, br *bufio.Reader) (int, string) {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(patience)))
	_, err := io.WriteString(c, request)
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// requireClosedByPeer reads c until it fails, and requires that it
// failed because the other end closed or reset it, not on the deadline.
func requireClosedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(patience)))
	_, err := io.Copy(io.Discard, c) // nil on EOF
	if err != nil {
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "still open after %v", patience)
		require.ErrorIs(t, err, syscall.ECONNRESET)
	}
}

// requireRefused requires that c was closed at accept: it reads no byte,
// only an EOF or a reset.
func requireRefused(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(patience)))
	n, err := c.Read(make([]byte, 1))
	require.Zero(t, n)
	if !errors.Is(err, io.EOF) {
		require.ErrorIs(t, err, syscall.ECONNRESET)
	}
}

// openFrom is how many connections ip holds on l.
func openFrom(l *Listener, ip net.IP) int {
	key, _ := hostKey(&net.TCPAddr{IP: ip})
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hosts[key]
}

// One host holding 4,100 connections gets DefaultPerHost of them; the
// rest are closed at accept, and another client is served.
func TestOneHostCannotStarveOthers(t *testing.T) {
	needHosts(t)
	const n = 4100
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	if lim.Cur < n+DefaultPerHost+100 {
		t.Skipf("%d file descriptors are too few", lim.Cur)
	}
	l, _ := serve(t, Limits{}, PublicTimeouts(), ok)
	addr := l.Addr().String()

	held := make([]net.Conn, DefaultPerHost)
	readers := make([]*bufio.Reader, DefaultPerHost)
	for i := range held {
		held[i] = dialFrom(t, host2, addr)
		readers[i] = bufio.NewReader(held[i])
		code, _ := get(t, held[i], readers[i])
		require.Equal(t, http.StatusOK, code)
	}
	// The others are closed at accept: a dial sees the reset, or the
	// connection reads an EOF or a reset.
	over := make([]net.Conn, 0, n-DefaultPerHost)
	for range n - DefaultPerHost {
		c, err := tryDial(t, host2, addr)
		if err != nil {
			require.ErrorIs(t, err, syscall.ECONNRESET)
			continue
		}
		over = append(over, c)
	}
	for _, c := range over {
		c.SetWriteDeadline(time.Now().Add(patience))
		io.WriteString(c, request) // fails if the reset came first
		requireRefused(t, c)
	}

	client := &http.Client{Timeout: patience, Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get("http://" + addr + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok", string(body))

	// The held connections are still served.
	code, _ := get(t, held[0], readers[0])
	assert.Equal(t, http.StatusOK, code)

	s := l.Stats()
	assert.Equal(t, DefaultPerHost, openFrom(l, host2))
	assert.Equal(t, 1, openFrom(l, host1)) // the client's keep-alive
	assert.Equal(t, DefaultPerHost+1, s.Open)
	assert.Equal(t, 2, s.Hosts)
	assert.Equal(t, uint64(n-DefaultPerHost), s.RefusedPerHost)
	assert.Zero(t, s.RefusedTotal)
}

// acceptLoop accepts from l until it is closed, writes "k" on each
// connection (so that its client knows it was let in) and hands it on.
func acceptLoop(t *testing.T, l *Listener) <-chan net.Conn {
	accepted := make(chan net.Conn, 16)
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("k"))
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	return accepted
}

// try connects to l from ip and reports whether l let it in, with the
// connection's server end if it did.
func try(t *testing.T, l *Listener, accepted <-chan net.Conn, ip net.IP) (server net.Conn, in bool) {
	t.Helper()
	c, err := tryDial(t, ip, l.Addr().String())
	if err != nil {
		require.ErrorIs(t, err, syscall.ECONNRESET)
		return nil, false
	}
	require.NoError(t, c.SetReadDeadline(time.Now().Add(patience)))
	b := make([]byte, 1)
	n, err := c.Read(b)
	if n == 1 {
		require.Equal(t, "k", string(b))
		select {
		case s := <-accepted:
			t.Cleanup(func() { s.Close() })
			return s, true
		case <-time.After(patience):
			require.FailNow(t, "accepted connection not handed on")
		}
	}
	if !errors.Is(err, io.EOF) {
		require.ErrorIs(t, err, syscall.ECONNRESET)
	}
	return nil, false
}

func TestTotalCap(t *testing.T) {
	needHosts(t)
	l := listen(t, Limits{PerHost: 4, Total: 8})
	accepted := acceptLoop(t, l)

	var servers []net.Conn
	in := map[string]int{}
	for _, ip := range []net.IP{host2, host3, host4} {
		for range 4 {
			s, ok := try(t, l, accepted, ip)
			if ok {
				servers = append(servers, s)
				in[ip.String()]++
			}
		}
	}
	assert.Len(t, servers, 8)
	assert.Equal(t, map[string]int{"127.0.0.2": 4, "127.0.0.3": 4}, in)
	assert.Equal(t, Stats{Open: 8, Hosts: 2, RefusedTotal: 4}, l.Stats())

	// A fifth from a host holding four is over its own cap first.
	_, ok := try(t, l, accepted, host2)
	assert.False(t, ok)
	assert.Equal(t, Stats{Open: 8, Hosts: 2, RefusedPerHost: 1, RefusedTotal: 4}, l.Stats())

	// Closing, twice, releases once.
	for _, s := range servers[:2] {
		require.NoError(t, s.Close())
		s.Close()
	}
	assert.Equal(t, Stats{Open: 6, Hosts: 2, RefusedPerHost: 1, RefusedTotal: 4}, l.Stats())
	for range 2 {
		s, ok := try(t, l, accepted, host4)
		require.True(t, ok)
		servers = append(servers, s)
	}
	_, ok = try(t, l, accepted, host4)
	assert.False(t, ok)
	assert.Equal(t, Stats{Open: 8, Hosts: 3, RefusedPerHost: 1, RefusedTotal: 5}, l.Stats())

	for _, s := range servers {
		s.Close()
		s.Close()
	}
	assert.Equal(t, Stats{Open: 0, Hosts: 0, RefusedPerHost: 1, RefusedTotal: 5}, l.Stats())
	l.mu.Lock()
	assert.Empty(t, l.hosts)
	l.mu.Unlock()
}

// A handler that hijacks a connection releases its place by closing it.
func TestHijackReleases(t *testing.T) {
	hijacked := make(chan struct{})
	l, _ := serve(t, Limits{}, PublicTimeouts(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer close(hijacked)
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		brw.Flush()
		c.Close()
		c.Close()
	}))
	c := dialFrom(t, host1, l.Addr().String())
	code, body := get(t, c, bufio.NewReader(c))
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "hi", body)
	select {
	case <-hijacked:
	case <-time.After(patience):
		require.FailNow(t, "handler did not finish")
	}
	assert.Equal(t, 0, l.Stats().Open)
}

func TestHostKey(t *testing.T) {
	key := func(s string) netip.Addr {
		t.Helper()
		k, isIP := hostKey(net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)))
		require.True(t, isIP, s)
		return k
	}
	a := key("[2001:db8:1:2::1]:443")
	assert.Equal(t, a, key("[2001:db8:1:2:ffff:eeee:dddd:cccc]:80"), "one /64")
	assert.Equal(t, a, key("[2001:db8:1:2::1%eth0]:80"), "zone ignored")
	assert.NotEqual(t, a, key("[2001:db8:1:3::1]:443"), "another /64")
	assert.NotEqual(t, a, key("[::1]:443"))
	assert.Equal(t, key("[::1]:1"), key("[::2]:2"), "::/64")
	assert.Equal(t, netip.MustParseAddr("2001:db8:1:2::"), a)

	v4 := key("1.2.3.4:5")
	assert.Equal(t, netip.MustParseAddr("1.2.3.4"), v4)
	assert.Equal(t, v4, key("[::ffff:1.2.3.4]:6"), "IPv4-mapped")
	assert.NotEqual(t, v4, key("1.2.3.5:5"), "IPv4 is not grouped")
	k, isIP := hostKey(&net.TCPAddr{IP: net.IPv4(1, 2, 3, 4)}) // 16-byte form
	assert.True(t, isIP)
	assert.Equal(t, v4, k)

	_, isIP = hostKey(&net.UnixAddr{Name: "@x", Net: "unix"})
	assert.False(t, isIP)
	_, isIP = hostKey(nil)
	assert.False(t, isIP)
}

// A listener of Unix sockets counts its connections in Total only.
func TestNotIP(t *testing.T) {
	ln, err := net.Listen("unix", t.TempDir()+"/s")
	require.NoError(t, err)
	l := Listen(ln, Limits{PerHost: 1, Total: 2})
	t.Cleanup(func() { l.Close() })
	accepted := acceptLoop(t, l)
	var in int
	for range 3 {
		c, err := net.Dial("unix", ln.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		require.NoError(t, c.SetReadDeadline(time.Now().Add(patience)))
		if n, _ := c.Read(make([]byte, 1)); n == 1 {
			in++
			s := <-accepted
			t.Cleanup(func() { s.Close() })
		}
	}
	assert.Equal(t, 2, in)
	assert.Equal(t, Stats{Open: 2, RefusedTotal: 1}, l.Stats())
}

// failing is a listener whose Accept fails with err.
type failing struct {
	net.Listener
	err   error
	calls int
}

func (f *failing) Accept() (net.Conn, error) {
	f.calls++
	return nil, f.err
}

// tempErr is a temporary error such as accept's EMFILE.
type tempErr struct{}

func (tempErr) Error() string   { return "too many open files" }
func (tempErr) Timeout() bool   { return false }
func (tempErr) Temporary() bool { return true }

// Errors of Accept, temporary ones included, come back at once, for
// http.Server to back off on.
func TestAcceptErrorReturned(t *testing.T) {
	f := &failing{err: tempErr{}}
	c, err := Listen(f, Limits{}).Accept()
	assert.Nil(t, c)
	assert.Equal(t, tempErr{}, err)
	assert.Equal(t, 1, f.calls)
}
