package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/engine/server"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files and returns their paths and the certificate.
func selfSigned(t *testing.T) (keyFile, certFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mpgameserver test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	keyFile, certFile = filepath.Join(dir, "tls.key"), filepath.Join(dir, "tls.crt")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	return keyFile, certFile, cert
}

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello from "+r.URL.Path) }

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestListenTCPServesHTTPAndHTTPSBesideUDP(t *testing.T) {
	r := echoing(newRecorder())
	f := setup(t, r, "")
	srv, err := server.New(f.ctx, "127.0.0.1:0")
	require.NoError(t, err)
	plain, err := srv.ListenTCP(http.HandlerFunc(hello), "127.0.0.1:0", "", "")
	require.NoError(t, err)
	keyFile, certFile, cert := selfSigned(t)
	secure, err := srv.ListenTCP(http.HandlerFunc(hello), "127.0.0.1:0", keyFile, certFile)
	require.NoError(t, err)
	f.run(srv)

	assert.Equal(t, "hello from /status", get(t, http.DefaultClient, "http://"+plain.String()+"/status"))

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer tlsClient.CloseIdleConnections()
	assert.Equal(t, "hello from /secure", get(t, tlsClient, "https://"+secure.String()+"/secure"))

	// The UDP server works at the same time.
	c := f.connect()
	assert.True(t, c.Connected())

	// Both listeners stop with the server.
	srv.Stop()
	<-srv.Done()
	_, err = net.DialTimeout("tcp", plain.String(), time.Second)
	assert.Error(t, err, "HTTP listener still open")
	_, err = net.DialTimeout("tcp", secure.String(), time.Second)
	assert.Error(t, err, "HTTPS listener still open")
}

func TestListenTCPErrors(t *testing.T) {
	f := setup(t, newRecorder(), "")
	srv, err := server.New(f.ctx, "127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	_, err = srv.ListenTCP(nil, "127.0.0.1:0", "", "")
	assert.Error(t, err)
	_, err = srv.ListenTCP(http.HandlerFunc(hello), "127.0.0.1:0", "only-a-key.pem", "")
	assert.ErrorContains(t, err, "both")
	_, err = srv.ListenTCP(http.HandlerFunc(hello), "127.0.0.1:0", "/nonexistent/key.pem", "/nonexistent/cert.pem")
	assert.ErrorContains(t, err, "/nonexistent/cert.pem")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = srv.ListenTCP(http.HandlerFunc(hello), ln.Addr().String(), "", "")
	assert.Error(t, err, "port in use")
}
