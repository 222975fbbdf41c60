package loadgen_test

import (
	"context"
	"encoding/json"
	"math"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/loadgen"
)

// TestRunWithAnAttack: an attack runs beside the clients during the
// measurement and the report says what it sent.
func TestRunWithAnAttack(t *testing.T) {
	t.Parallel()
	names := []string{"stats-pack", "replay"}
	if runtime.GOOS == "linux" {
		names = append(names, "hello-badcrc")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, key := echoServer(t, 0)
			rate := 20.0
			if name == "hello-badcrc" {
				rate = 1000
			}
			rep, err := loadgen.Run(context.Background(), loadgen.Config{
				Server: srv.Addr(), ServerKey: key, Clients: 4, Rate: 20, Size: 32,
				// The attack connects its attackers when the measurement
				// starts and sends until it ends: 2 s is ample for both.
				Duration: 2 * time.Second, ConnectRate: 100, Attack: name, AttackRate: rate,
				HandshakeTimeout: generous,
			})
			require.NoError(t, err)
			assert.Equal(t, 4, rep.Connected)
			require.NotNil(t, rep.Attack)
			a := rep.Attack
			assert.Equal(t, name, a.Name)
			assert.Empty(t, a.Error)
			assert.Equal(t, rate, a.Rate)
			assert.Positive(t, a.Datagrams)
			assert.Positive(t, a.Duration)
			if name != "hello-badcrc" {
				assert.Equal(t, 1, a.Attackers)
				assert.Positive(t, a.Messages)
			}

			var b strings.Builder
			require.NoError(t, rep.WriteText(&b))
			assert.Contains(t, b.String(), "\nattack     "+name+" at ")
			assert.Contains(t, b.String(), "round trip p50", "the usual lines stay")
			j, err := json.Marshal(rep)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(j, &m))
			assert.Equal(t, 4.0, m["connected"], "the usual fields stay")
			att, ok := m["attack"].(map[string]any)
			require.True(t, ok, string(j))
			assert.Equal(t, name, att["name"])
			assert.Positive(t, att["datagrams"])
		})
	}
}

// TestRunWithoutAttackReportsNone: the report and its JSON have no attack
// section when none ran.
func TestRunWithoutAttackReportsNone(t *testing.T) {
	rep := &loadgen.Report{Server: "127.0.0.1:1474", Clients: 1, Rate: 1, Size: 32}
	var b strings.Builder
	require.NoError(t, rep.WriteText(&b))
	assert.NotContains(t, b.String(), "attack")
	j, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.NotContains(t, string(j), "attack")
}

func TestAttackReportText(t *testing.T) {
	rep := &loadgen.Report{Server: "127.0.0.1:1474", Clients: 1, Rate: 1, Size: 32, Duration: 2 * time.Second,
		Attack: &loadgen.AttackReport{Name: "empty-flood", Rate: 1000, Unit: "packets/s", Duration: 2 * time.Second,
			Datagrams: 2000, Messages: 510000, Replies: 20, Attackers: 1, Disconnected: 1}}
	var b strings.Builder
	require.NoError(t, rep.WriteText(&b))
	assert.Contains(t, b.String(), "attack     empty-flood at 1000 packets/s for 2.0s: 2000 datagrams (1000/s), 510000 messages, 20 replies; 1 attackers: 1 disconnected, 0 silent\n")

	rep.Attack = &loadgen.AttackReport{Name: "junk", Error: "not started: the run had no steady phase"}
	b.Reset()
	require.NoError(t, rep.WriteText(&b))
	assert.Contains(t, b.String(), "attack     junk: not started")
}

func TestAttackConfigErrors(t *testing.T) {
	good := loadgen.Config{Server: netip.MustParseAddrPort("127.0.0.1:9"), Clients: 1, Rate: 1, Size: loadgen.MinSize, Duration: time.Second}
	for name, mod := range map[string]func(*loadgen.Config){
		"unknown attack":       func(c *loadgen.Config) { c.Attack = "nope" },
		"negative attack rate": func(c *loadgen.Config) { c.Attack, c.AttackRate = "replay", -1 },
		"NaN attack rate":      func(c *loadgen.Config) { c.Attack, c.AttackRate = "replay", math.NaN() },
		"rate without attack":  func(c *loadgen.Config) { c.AttackRate = 10 },
		"flood over IPv6":      func(c *loadgen.Config) { c.Server, c.Attack = netip.MustParseAddrPort("[::1]:9"), "junk" },
	} {
		c := good
		mod(&c)
		_, err := loadgen.Run(context.Background(), c)
		assert.Error(t, err, name)
	}
	var names []string
	for _, a := range loadgen.Attacks() {
		names = append(names, a.Name)
		assert.Positive(t, a.Rate, a.Name)
		assert.NotEmpty(t, a.Unit, a.Name)
	}
	assert.Contains(t, names, "hello-flood")
}
