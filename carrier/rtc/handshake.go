//go:build !js

package rtc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/internal/dtlsrec"
)

// certificate is the listener's DTLS identity: self-signed, checked by
// the browser through the fingerprint in the answer.
type certificate struct {
	tls         tls.Certificate
	fingerprint [32]byte
}

func newCertificate() (certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return certificate{}, err
	}
	now := time.Now()
	tmpl := x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "mpgameserver"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return certificate{}, err
	}
	return certificate{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, fingerprint: sha256.Sum256(der)}, nil
}

var errFingerprint = errors.New("rtc: the browser's certificate is not the one its offer named")

// startHandshake starts p's DTLS handshake with the browser at from, whose
// hello just came; the caller holds the lock.
func (l *Listener) startHandshake(p *peer, from netip.AddrPort, local netip.Addr) {
	p.addr, p.local, p.state = from, local, handshaking
	for _, a := range p.cands[:p.ncand] {
		if a != from && l.byAddr[a] == p {
			delete(l.byAddr, a)
		}
	}
	// pion writes from its goroutine, and closing the pipe (under the
	// listener's lock) waits for a write under way: the write takes only
	// the socket's writing lock.
	p.pipe = dtlsrec.NewPipe(net.UDPAddrFromAddrPort(from), func(b []byte) {
		l.wmu.Lock()
		_, _ = l.sock.WriteBatch([]transport.Datagram{{Data: b, Addr: from, Local: local}})
		l.wmu.Unlock()
	})
	want := p.fingerprint
	opts := []dtls.ServerOption{
		dtls.WithCertificates(l.cert.tls),
		dtls.WithClientAuth(dtls.RequireAnyClientCert),
		dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithLoggerFactory(pionLogs(l.log)),
		// Browsers and pion ask for SRTP keys whatever the session carries;
		// pion's server refuses a client whose profiles it does not share.
		// A profile is agreed on and never used.
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || sha256.Sum256(raw[0]) != want {
				return errFingerprint
			}
			return nil
		}),
	}
	pipe := p.pipe
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		rec, err := dtlsrec.Handshake(ctx, pipe, opts...)
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case p.released || l.closed:
		case err != nil:
			l.log.Debug("browser peer's DTLS handshake failed", "client", p.addr.String(), "err", err)
			l.stats.ClosedSetup++
			l.release(p)
			l.dp.flush()
		default:
			l.handshakeDone(p, rec, pipe)
		}
	}()
}
