package linksim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/netsim"
	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/linksim"
)

// TestGuaranteedOverALossyLink: every guaranteed message arrives once
// through a link that loses and duplicates, on the fake clock.
func TestGuaranteedOverALossyLink(t *testing.T) {
	r, err := linksim.Run(linksim.Simulation{Link: netsim.Profile{Loss: 0.2, Duplicate: 0.1}, Messages: 200, Size: 300,
		Retry: conn.RetryOnTimeout, Seed: 7})
	require.NoError(t, err)
	assert.Equal(t, 200, r.Sent)
	assert.Equal(t, 200, r.Once)
	assert.Zero(t, r.Twice+r.Lost+r.Corrupt)
	assert.False(t, r.Violated())

	again, err := linksim.Run(linksim.Simulation{Link: netsim.Profile{Loss: 0.2, Duplicate: 0.1}, Messages: 200, Size: 300,
		Retry: conn.RetryOnTimeout, Seed: 7})
	require.NoError(t, err)
	// The same seed, the same run, but for the bytes of the server's
	// hello, whose ECDSA signature is randomized.
	assert.Equal(t, []uint64{r.Client.Sent, r.Client.Received, r.Client.Resent, r.Client.Dropped},
		[]uint64{again.Client.Sent, again.Client.Received, again.Client.Resent, again.Client.Dropped})
}
