package session

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Connections made with a Resolve'd configuration share it; a plain one
// is copied, so that changing it later changes no connection. SetLogger
// gives one connection its own logger.
func TestResolveShared(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var shared, own bytes.Buffer
	cfg, err := Resolve(&Config{SendInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&shared, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	assert.Equal(t, DefaultKeepAliveInterval, cfg.KeepAliveInterval, "defaults filled in")
	assert.Equal(t, rand.Reader, cfg.Rand, "crypto/rand by default")

	a, err := NewClient(cfg, now)
	require.NoError(t, err)
	b, err := NewClient(cfg, now)
	require.NoError(t, err)
	assert.Same(t, cfg, a.cfg)
	assert.Same(t, a.cfg, b.cfg)

	b.SetLogger(slog.New(slog.NewTextHandler(&own, &slog.HandlerOptions{Level: slog.LevelDebug})))
	a.Close()
	b.Close()
	assert.Equal(t, 1, strings.Count(shared.String(), "connection closed"), "a logs through the shared configuration's logger")
	assert.Equal(t, 1, strings.Count(own.String(), "connection closed"), "b through its own")

	plain := &Config{SendInterval: 20 * time.Millisecond}
	c, err := NewClient(plain, now)
	require.NoError(t, err)
	assert.NotSame(t, plain, c.cfg)
	plain.SendInterval = time.Second
	assert.Equal(t, 20*time.Millisecond, c.cfg.SendInterval, "a plain configuration is copied")

	_, err = Resolve(&Config{MessageWindow: 100})
	assert.Error(t, err, "Resolve checks")
}
