package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/mpgs/mpgameserver/carrier/transport"
	"github.com/mpgs/mpgameserver/internal/cli"
)

// bareCounters are a bare echo's counts, read by its status page.
type bareCounters struct {
	in, out, writeErrors atomic.Uint64
}

// runBareEcho sends every datagram back to its sender, in batches, with
// nothing in between (no protocol, no encryption): what `loadgen --bare`
// measures, the baseline of a server's cost per echo.
func runBareEcho(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bare-echo", "Sends every UDP datagram back to its sender, read and written in batches\n"+
		"(recvmmsg/sendmmsg on Linux), with no protocol and no encryption: the\n"+
		"baseline that loadgen --bare measures. It prints READY <host>:<port> once\n"+
		"it listens and runs until interrupted.", stderr)
	var (
		listen   = fs.String("listen", "127.0.0.1:1474", "UDP address to listen on, host:port")
		httpAddr = fs.String("http", "", "also serve a plain-text status page over HTTP on this TCP address")
		buffer   = fs.Int("buffer", 16<<20, "socket buffer size in bytes (the system may cap it)")
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cli.CheckHostPort(*listen); err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	if *httpAddr != "" {
		if err := cli.CheckHostPort(*httpAddr); err != nil {
			return fmt.Errorf("--http %q: %w", *httpAddr, err)
		}
	}
	if *buffer <= 0 {
		return fmt.Errorf("--buffer %d: want a positive size", *buffer)
	}
	c, err := transport.Listen(*listen, transport.Config{Buffer: *buffer})
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	defer c.Close()
	var n bareCounters
	if *httpAddr != "" {
		ln, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return fmt.Errorf("--http: %w", err)
		}
		hs := &http.Server{Handler: bareStatus(c, &n), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	fmt.Fprintf(stdout, "READY %s\n", c.LocalAddr())
	return bareEcho(c, &n)
}

// bareEcho echoes until c is closed.
func bareEcho(c transport.Conn, n *bareCounters) error {
	ds := make([]transport.Datagram, transport.BatchSize)
	for i := range ds {
		ds[i].Data = make([]byte, 0, transport.RecvSize)
	}
	for {
		k, err := c.ReadBatch(ds)
		if errors.Is(err, transport.ErrClosed) {
			return nil
		}
		if k == 0 {
			if err := c.Wait(time.Time{}); errors.Is(err, transport.ErrClosed) {
				return nil
			}
			continue
		}
		n.in.Add(uint64(k))
		for sent := 0; sent < k; {
			m, err := c.WriteBatch(ds[sent:k])
			sent += m
			n.out.Add(uint64(m))
			if err != nil {
				if errors.Is(err, transport.ErrClosed) {
					return nil
				}
				n.writeErrors.Add(1) // ds[sent] could not be sent: skip it
				sent++
			}
		}
	}
}

// bareStatus serves the counters as text, in lines like serve's status
// page where they mean the same.
func bareStatus(c transport.Conn, n *bareCounters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st := c.Stats()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "bare-echo %s\n", c.LocalAddr())
		fmt.Fprintf(w, "datagrams in %d out %d write-errors %d\n", n.in.Load(), n.out.Load(), n.writeErrors.Load())
		fmt.Fprintf(w, "syscalls read %d write %d\n", st.Reads, st.Writes)
		fmt.Fprintf(w, "socket recv-buffer %d send-buffer %d kernel-drops %d\n", st.RecvBuffer, st.SendBuffer, st.KernelDrops)
	})
}
