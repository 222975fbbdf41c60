package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLogLimiter(t *testing.T) {
	l := newLogLimiter(3, time.Second)
	t0 := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		ok, held := l.allow(t0)
		assert.True(t, ok)
		assert.Zero(t, held)
	}
	for i := 0; i < 50; i++ {
		ok, _ := l.allow(t0.Add(time.Duration(i) * time.Millisecond))
		assert.False(t, ok, "the burst is spent")
	}
	ok, held := l.allow(t0.Add(time.Second))
	assert.True(t, ok, "one more a second")
	assert.Equal(t, 50, held, "and it says how many were held back")
	ok, _ = l.allow(t0.Add(time.Second))
	assert.False(t, ok)
	// A long quiet spell refills the burst, no more.
	for i := 0; i < 3; i++ {
		ok, _ = l.allow(t0.Add(time.Hour))
		assert.True(t, ok)
	}
	ok, _ = l.allow(t0.Add(time.Hour))
	assert.False(t, ok)
}

func TestClientLoggerIsLimited(t *testing.T) {
	var buf bytes.Buffer
	c := &Peer{}
	l := slog.New(newClientHandler(slog.NewTextHandler(&buf, nil), c, 7, false))
	derived := l.With("k", "v") // shares the client's limit
	t0 := time.Unix(1000, 0)
	for i := 0; i < 100; i++ {
		r := slog.NewRecord(t0, slog.LevelWarn, "send failed", 0)
		if i%2 == 0 {
			_ = l.Handler().Handle(context.Background(), r)
		} else {
			_ = derived.Handler().Handle(context.Background(), r)
		}
	}
	assert.Equal(t, clientLogBurst, strings.Count(buf.String(), "send failed"))
	_ = l.Handler().Handle(context.Background(), slog.NewRecord(t0.Add(clientLogEvery), slog.LevelWarn, "later", 0))
	assert.Contains(t, buf.String(), "msg=later token=7 suppressed=90")
}
