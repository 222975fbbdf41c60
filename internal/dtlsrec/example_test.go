package dtlsrec_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"

	"github.com/mpgs/mpgameserver/internal/dtlsrec"
)

type addr string

func (a addr) Network() string { return "example" }
func (a addr) String() string  { return string(a) }

// A server takes one browser peer from pion's handshake to the inline
// record layer. A pion client over an in-memory network stands in for
// the browser; a real server's send functions write to its UDP socket,
// and the payloads would be the data channel's SCTP packets.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	serverCert, _ := selfsign.GenerateSelfSigned()
	browserCert, _ := selfsign.GenerateSelfSigned()
	// In WebRTC the fingerprint comes with the peer's SDP offer.
	fingerprint := sha256.Sum256(browserCert.Certificate[0])

	// The network: the browser's datagrams land in up; the server's go
	// straight to the browser.
	up := make(chan []byte, 64)
	browserSide := dtlsrec.NewPipe(addr("server"), func(b []byte) { up <- bytes.Clone(b) })
	toBrowser := func(b []byte) { browserSide.Push(b) }

	// The browser: handshake, say hello, read the answer.
	browser, err := dtls.ClientWithOptions(browserSide, addr("server"),
		dtls.WithCertificates(browserCert),
		dtls.WithInsecureSkipVerify(true), // a browser checks our fingerprint instead
		dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer browser.Close()
	answer := make(chan string, 1)
	go func() {
		if err := browser.HandshakeContext(ctx); err != nil {
			answer <- err.Error()
			return
		}
		_, _ = browser.Write([]byte("hello"))
		b := make([]byte, 1500)
		n, err := browser.Read(b)
		if err != nil {
			answer <- err.Error()
			return
		}
		answer <- string(b[:n])
	}()

	// The server's control path: the handshake, in its own goroutine.
	peer := dtlsrec.NewPipe(addr("browser"), toBrowser)
	handoff := make(chan *dtlsrec.Conn, 1)
	go func() {
		conn, err := dtlsrec.Handshake(ctx, peer,
			dtls.WithCertificates(serverCert),
			dtls.WithClientAuth(dtls.RequireAnyClientCert),
			dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 || sha256.Sum256(raw[0]) != fingerprint {
					return errors.New("not the offer's certificate")
				}
				return nil
			}),
			dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
			dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret))
		if err != nil {
			fmt.Println("handshake:", err)
		}
		handoff <- conn
	}()

	// The server's tick goroutine: the peer's datagrams go to the Pipe
	// until the handoff, then to the Conn.
	var conn *dtlsrec.Conn
	var lastFlight [][]byte
	out := make([]byte, 0, 1500)
	serve := func(d []byte) {
		for len(d) > 0 {
			typ, plain, rest, err := conn.Open(d)
			d = rest
			switch {
			case typ == dtlsrec.TypeHandshake && (err == nil || errors.Is(err, dtlsrec.ErrPlaintext)):
				// The peer retransmits: it lost our final flight.
				for _, f := range lastFlight {
					toBrowser(f)
				}
			case err != nil:
				// Dropped: forged, replayed, corrupted, or clear-text.
			case typ == dtlsrec.TypeApplicationData:
				fmt.Printf("server got: %s\n", plain)
				out, _ = conn.Seal(out[:0], []byte("welcome"))
				toBrowser(out)
			}
		}
	}
	for {
		select {
		case d := <-up:
			if conn == nil {
				peer.Push(d)
			} else {
				serve(d)
			}
		case conn = <-handoff:
			if conn == nil {
				return
			}
			lastFlight = peer.LastFlight()
			for _, d := range peer.Drain() {
				serve(d)
			}
		case a := <-answer:
			fmt.Printf("browser got: %s\n", a)
			return
		}
	}
	// Output:
	// server got: hello
	// browser got: welcome
}
