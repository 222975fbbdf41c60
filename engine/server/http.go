package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// httpListener is a TCP listener serving HTTP or HTTPS beside the UDP
// server.
type httpListener struct {
	srv  *http.Server
	ln   net.Listener
	tls  bool
	wg   sync.WaitGroup
	addr net.Addr
}

// ListenTCP serves handler over HTTP on addr ("host:port") beside the UDP
// server, or over HTTPS when keyFile and certFile (PEM, the full chain) are
// given. The TCP port is bound now, so errors show at once; serving starts
// with Run and stops with the server. Call it before Run.
func (s *Server) ListenTCP(handler http.Handler, addr, keyFile, certFile string) (net.Addr, error) {
	if handler == nil {
		return nil, errors.New("server: ListenTCP needs an http.Handler")
	}
	if (keyFile == "") != (certFile == "") {
		return nil, errors.New("server: ListenTCP needs both a key file and a certificate file for HTTPS, or neither")
	}
	h := &httpListener{srv: &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}}
	if keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("server: ListenTCP: certificate %q / key %q: %w", certFile, keyFile, err)
		}
		h.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		h.tls = true
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: ListenTCP %s: %w", addr, err)
	}
	h.ln, h.addr = ln, ln.Addr()
	s.http = append(s.http, h)
	return h.addr, nil
}

func (h *httpListener) start(log *slog.Logger) {
	scheme := "http"
	if h.tls {
		scheme = "https"
	}
	log.Info("listening", scheme, h.addr.String())
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		var err error
		if h.tls {
			err = h.srv.ServeTLS(h.ln, "", "")
		} else {
			err = h.srv.Serve(h.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
}

func (h *httpListener) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.srv.Close()
	}
	h.wg.Wait()
}
