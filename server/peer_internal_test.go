package server

import (
	"bytes"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientHandlerAddsTheClientLazily(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c := &Peer{addr: netip.MustParseAddrPort("192.0.2.7:4000")}
	l := slog.New(newClientHandler(base.Handler(), c, 42, true))
	l.Debug("not shown")
	l.Info("hello", "n", 1)
	l.With("k", "v").WithGroup("g").Info("grouped", "x", 2)
	quiet := slog.New(newClientHandler(base.Handler(), c, 43, false))
	quiet.Info("no address")
	out := buf.String()
	assert.NotContains(t, out, "not shown")
	assert.Contains(t, out, "msg=hello client=192.0.2.7:4000 token=42 n=1")
	assert.Contains(t, out, "msg=grouped client=192.0.2.7:4000 token=42 k=v g.x=2")
	assert.Contains(t, out, "msg=\"no address\" token=43")
	assert.NotContains(t, out, "token=43 client")
}
