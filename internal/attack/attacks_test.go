package attack_test

import (
	"context"
	"math"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/attack"
)

func TestLookup(t *testing.T) {
	names := map[string]bool{}
	for _, a := range attack.Attacks() {
		assert.False(t, names[a.Name], "one attack per name")
		names[a.Name] = true
		got, err := attack.Lookup(a.Name)
		require.NoError(t, err)
		assert.Equal(t, a, got)
		assert.NotEmpty(t, a.Summary)
		assert.Positive(t, a.Rate)
	}
	for _, n := range []string{"fragments", "empty-flood", "replay", "big-fragments", "hello-badcrc", "hello-flood", "junk", "stats-pack"} {
		assert.True(t, names[n], n)
	}
	_, err := attack.Lookup("nope")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"nope"`)
	assert.Contains(t, err.Error(), "hello-flood", "the error lists the names")
}

// testRates keep the attacks light in tests: the point is that they run.
var testRates = map[string]float64{
	"fragments": 100, "empty-flood": 200, "replay": 100, "big-fragments": 200,
	"hello-badcrc": 2000, "hello-flood": 2000, "hello-flood-marked": 2000, "junk": 5000, "stats-pack": 20,
	"sessions": 1,
}

// TestAttacksRun: every named attack starts against a real server and
// sends for a few hundred milliseconds without error.
func TestAttacksRun(t *testing.T) {
	t.Parallel()
	for _, info := range attack.Attacks() {
		t.Run(info.Name, func(t *testing.T) {
			t.Parallel()
			if info.Flood() && runtime.GOOS != "linux" {
				t.Skip("forged source addresses need Linux")
			}
			srv, key := echoServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			res, err := attack.Run(ctx, attack.Config{
				Name: info.Name, Server: srv.Addr(), ServerKey: key, Rate: testRates[info.Name], Clients: 2, Addrs: 1000,
				DialTimeout: patience,
			})
			require.NoError(t, err)
			assert.Equal(t, info.Name, res.Name)
			assert.Equal(t, testRates[info.Name], res.Rate)
			assert.Equal(t, info.Unit(), res.Unit)
			assert.Positive(t, res.Datagrams)
			assert.Positive(t, res.Bytes)
			assert.Positive(t, res.Duration)
			if info.Flood() {
				assert.Empty(t, res.Clients)
				return
			}
			want := 1
			if info.Name == "big-fragments" || info.Name == "sessions" {
				want = 2
			}
			assert.Len(t, res.Clients, want)
			assert.Positive(t, res.Messages)
			assert.Positive(t, res.Replies, "the server answered the handshake at least")
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t)
	other, err := conn.GenerateKey(nil)
	require.NoError(t, err)
	for name, cfg := range map[string]attack.Config{
		"unknown":       {Name: "nope", Server: srv.Addr()},
		"negative rate": {Name: "fragments", Server: srv.Addr(), Rate: -1},
		"NaN rate":      {Name: "fragments", Server: srv.Addr(), Rate: math.NaN()},
		"IPv6 flood":    {Name: "junk", Server: netip.MustParseAddrPort("[::1]:1474")},
		"wrong key":     {Name: "empty-flood", Server: srv.Addr(), ServerKey: other.Public(), DialTimeout: 300 * time.Millisecond},
	} {
		_, err := attack.Run(context.Background(), cfg)
		assert.Error(t, err, name)
	}
}

// TestRunAsFastAsPossible: an infinite rate sends without pacing.
func TestRunAsFastAsPossible(t *testing.T) {
	t.Parallel()
	srv, key := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err := attack.Run(ctx, attack.Config{Name: "empty-flood", Server: srv.Addr(), ServerKey: key, Rate: math.Inf(1), DialTimeout: patience})
	require.NoError(t, err)
	assert.Zero(t, res.Rate, "0 stands for as fast as possible")
	assert.Positive(t, res.Datagrams)
}
