package endpoint

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/syncbuf"
)

func TestPresets(t *testing.T) {
	for name, tm := range map[string]Timeouts{"public": PublicTimeouts(), "admin": AdminTimeouts()} {
		v := reflect.ValueOf(tm)
		for i := range v.NumField() {
			assert.False(t, v.Field(i).IsZero(), "%s %s", name, v.Type().Field(i).Name)
		}
		assert.LessOrEqual(t, tm.Idle, time.Minute, name)
		assert.LessOrEqual(t, tm.ReadHeader, tm.Read, name)
	}
	// The presets are values: changing one changes no other.
	p := PublicTimeouts()
	p.Idle = time.Hour
	assert.Equal(t, 30*time.Second, PublicTimeouts().Idle)
}

func TestNewServerFillsZeros(t *testing.T) {
	p := PublicTimeouts()
	srv := NewServer(ok, Timeouts{}, nil)
	assert.Equal(t, p.ReadHeader, srv.ReadHeaderTimeout)
	assert.Equal(t, p.Read, srv.ReadTimeout)
	assert.Equal(t, p.Write, srv.WriteTimeout)
	assert.Equal(t, p.Idle, srv.IdleTimeout)
	assert.Equal(t, p.MaxHeaderBytes, srv.MaxHeaderBytes)
	require.NotNil(t, srv.ErrorLog)

	a := AdminTimeouts()
	srv = NewServer(ok, a, nil)
	assert.Equal(t, a.Write, srv.WriteTimeout)
	assert.Equal(t, 7*time.Second, NewServer(ok, Timeouts{Idle: 7 * time.Second}, nil).IdleTimeout)
}

// An idle keep-alive is closed after Idle.
func TestIdleClosed(t *testing.T) {
	l, _ := serve(t, Limits{}, Timeouts{Idle: 200 * time.Millisecond}, ok)
	c := dialFrom(t, host1, l.Addr().String())
	code, body := get(t, c, bufio.NewReader(c))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok", body)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(patience)))
	n, err := c.Read(make([]byte, 1))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, io.EOF)
	assert.Eventually(t, func() bool { return l.Stats().Open == 0 }, patience, 10*time.Millisecond)
}

// A client that sends half a request line and stalls is cut after
// ReadHeader, and its place released.
func TestSlowHeaderCut(t *testing.T) {
	l, _ := serve(t, Limits{}, Timeouts{ReadHeader: 200 * time.Millisecond}, ok)
	c := dialFrom(t, host1, l.Addr().String())
	_, err := io.WriteString(c, "GET / HT")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return l.Stats().Open == 1 }, patience, 10*time.Millisecond)
	requireClosedByPeer(t, c)
	assert.Eventually(t, func() bool { return l.Stats().Open == 0 }, patience, 10*time.Millisecond)
}

// A request with 64 KiB of headers is answered 431.
func TestLargeHeader(t *testing.T) {
	l, _ := serve(t, Limits{}, PublicTimeouts(), ok)
	c := dialFrom(t, host1, l.Addr().String())
	require.NoError(t, c.SetDeadline(time.Now().Add(patience)))
	var req strings.Builder
	req.WriteString("GET / HTTP/1.1\r\nHost: test\r\n")
	pad := strings.Repeat("x", 1024)
	for i := range 64 {
		fmt.Fprintf(&req, "X-Pad-%d: %s\r\n", i, pad)
	}
	req.WriteString("\r\n")
	require.Greater(t, req.Len(), 64<<10)
	// Write and read at once: the server answers and hangs up before it
	// read all of it.
	go io.WriteString(c, req.String())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

// selfSigned is a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "httpguard test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{host1},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// Over TLS (ServeTLS on the Listener) connections are counted and
// released, and failed handshakes are logged at debug level only.
func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	var logged syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))

	l := listen(t, Limits{})
	srv := NewServer(ok, PublicTimeouts(), log)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeTLS(l, "", "")
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})

	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
		client := &http.Client{Timeout: patience, Transport: tr}
		resp, err := client.Get("https://" + l.Addr().String() + "/")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "ok", string(body))
		assert.Equal(t, h2, resp.ProtoMajor == 2)
		assert.Equal(t, 1, l.Stats().Open)
		tr.CloseIdleConnections()
		assert.Eventually(t, func() bool { return l.Stats().Open == 0 }, patience, 10*time.Millisecond)
	}

	// A client that is not one.
	c := dialFrom(t, host1, l.Addr().String())
	_, err := c.Write([]byte{0x16, 3, 1, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff})
	require.NoError(t, err)
	requireClosedByPeer(t, c)
	assert.Eventually(t, func() bool { return strings.Contains(logged.String(), "TLS handshake error") }, patience, 10*time.Millisecond)
	assert.Eventually(t, func() bool { return l.Stats().Open == 0 }, patience, 10*time.Millisecond)
	for line := range strings.Lines(logged.String()) {
		assert.Contains(t, line, "level=DEBUG", "logged above debug level")
	}
}

func TestErrorLogLevels(t *testing.T) {
	var logged syncbuf.Buffer
	l := errorLog(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Printf("http: TLS handshake error from 1.2.3.4:5: EOF")
	l.Printf("http: Accept error: accept tcp [::]:80: accept4: too many open files; retrying in 5ms")
	lines := strings.Split(strings.TrimSuffix(logged.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `level=DEBUG msg="http: TLS handshake error from 1.2.3.4:5: EOF"`)
	assert.Contains(t, lines[1], `level=WARN msg="http: Accept error:`)

	// Below the handler's level nothing is written; nil discards.
	var quiet syncbuf.Buffer
	l = errorLog(slog.New(slog.NewTextHandler(&quiet, nil)))
	l.Printf("http: TLS handshake error from 1.2.3.4:5: EOF")
	assert.Empty(t, quiet.String())
	errorLog(nil).Printf("nothing")
}
