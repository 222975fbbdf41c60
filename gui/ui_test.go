package gui

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/ops/admin"
	"github.com/mpgs/mpgameserver/server"
)

// clientsSource is a fake server with n clients, tokens 1001 up.
func clientsSource(n int) *fakeSource {
	src := &fakeSource{}
	src.snap.Addr = netip.MustParseAddrPort("127.0.0.1:1474")
	src.snap.Interval = time.Second / 60
	src.snap.Taken = time.Now()
	src.snap.LastSecond.Unix = src.snap.Taken.Unix() - 1
	for i := 0; i < n; i++ {
		src.snap.Peers = append(src.snap.Peers, server.PeerSnapshot{
			Addr:  netip.AddrPortFrom(netip.MustParseAddr("192.0.2."+itoa(uint32(i+1))), uint16(40000+i)),
			Token: uint32(1001 + i), Status: conn.Connected, Latency: time.Duration(i+1) * time.Millisecond,
		})
	}
	src.snap.Connections = n
	return src
}

// step runs the monitor's Update with the next scripted key.
func step(t *testing.T, m *Monitor, in *script, keys ...ebiten.Key) {
	t.Helper()
	for _, k := range keys {
		in.push(event{key: k})
		require.NoError(t, m.Update(), "key %v", k)
	}
}

// updateUntil runs Update until cond holds (actions end on goroutines).
func updateUntil(t *testing.T, m *Monitor, in *script, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		require.NoError(t, m.Update())
		return cond()
	}, 10*time.Second, 5*time.Millisecond, msg)
}

// TestSelectAndAct: the keys select a client, show it up close, and take
// an action only after Y.
func TestSelectAndAct(t *testing.T) {
	src := clientsSource(5)
	m, err := NewMonitor(src)
	require.NoError(t, err)
	in := scripted(m)
	require.NoError(t, m.Update())
	require.Len(t, m.rows, 5)

	step(t, m, in, ebiten.KeyDown)
	assert.EqualValues(t, 1001, m.cursor, "Down highlights the first row")
	step(t, m, in, ebiten.KeyDown, ebiten.KeyDown, ebiten.KeyUp)
	assert.EqualValues(t, 1002, m.cursor)
	step(t, m, in, ebiten.KeyEnter)
	assert.Equal(t, viewClient, m.view)
	assert.EqualValues(t, 1002, m.selected)
	require.NotNil(t, m.clients.Get(1002), "the client's series")
	step(t, m, in, ebiten.KeyDown)
	assert.EqualValues(t, 1003, m.selected, "Down goes to the next client")

	// D asks; N keeps the client.
	step(t, m, in, ebiten.KeyD)
	require.NotNil(t, m.confirm)
	assert.Contains(t, m.confirm.question, "Disconnect client 1003 at 192.0.2.3:40002?")
	step(t, m, in, ebiten.KeyN)
	assert.Nil(t, m.confirm)
	assert.Empty(t, src.actionsAsked())
	// D, Y disconnects it.
	step(t, m, in, ebiten.KeyD, ebiten.KeyY)
	updateUntil(t, m, in, func() bool { return m.toast.text != "" }, "the action's result is shown")
	assert.Equal(t, []string{"disconnect 1003"}, src.actionsAsked())
	assert.Equal(t, "disconnected client 1003", m.toast.text)
	assert.False(t, m.toast.err)
	// B, Esc keeps it; B, Y blocks its address.
	step(t, m, in, ebiten.KeyB, ebiten.KeyEscape)
	assert.Nil(t, m.confirm)
	assert.Equal(t, viewClient, m.view, "Esc closed the question only")
	step(t, m, in, ebiten.KeyB, ebiten.KeyY)
	updateUntil(t, m, in, func() bool { return len(src.actionsAsked()) == 2 }, "block asked")
	assert.Equal(t, "block 192.0.2.3", src.actionsAsked()[1])

	// Esc goes back to the overview, where D acts on the highlighted row.
	step(t, m, in, ebiten.KeyEscape)
	assert.Equal(t, viewOverview, m.view)
	step(t, m, in, ebiten.KeyHome, ebiten.KeyD)
	require.NotNil(t, m.confirm)
	assert.Contains(t, m.confirm.question, "client 1001")
	step(t, m, in, ebiten.KeyN)

	// A click on a row shows that client up close.
	row := m.lay.tableRow(3)
	in.push(event{click: true, x: int(row.X + 50), y: int(row.Y + 5)})
	require.NoError(t, m.Update())
	assert.Equal(t, viewClient, m.view)
	assert.EqualValues(t, 1004, m.selected)
}

// TestActionsNeedToken: a source that refuses actions (attached without
// --admin-token) gets no question and no request, only the notice.
func TestActionsNeedToken(t *testing.T) {
	src := clientsSource(2)
	src.noActs = true
	src.network.Available = true
	m, err := NewMonitor(src)
	require.NoError(t, err)
	in := scripted(m)
	require.NoError(t, m.Update())
	step(t, m, in, ebiten.KeyDown, ebiten.KeyEnter, ebiten.KeyD)
	assert.Nil(t, m.confirm)
	assert.Equal(t, noActions, m.toast.text)
	assert.True(t, m.toast.err)
	step(t, m, in, ebiten.KeyB)
	assert.Nil(t, m.confirm)
	step(t, m, in, ebiten.KeyN, ebiten.KeyEqual, ebiten.KeyEnter)
	assert.Empty(t, src.actionsAsked(), "nothing was asked of the server")
	assert.True(t, strings.HasPrefix(m.toast.text, "actions need --admin-token"))
}

// TestNetworkPanel: the panel edits conditions, Enter applies them to all
// clients or the selected one, 0 resets; the band shows while any is on.
func TestNetworkPanel(t *testing.T) {
	src := clientsSource(3)
	m, err := NewMonitor(src)
	require.NoError(t, err)
	in := scripted(m)
	require.NoError(t, m.Update())

	// Without --netsim the panel only says so.
	step(t, m, in, ebiten.KeyN)
	require.True(t, m.net.open)
	step(t, m, in, ebiten.KeyEqual, ebiten.KeyEnter)
	assert.True(t, m.net.form.Off())
	assert.Empty(t, src.actionsAsked())
	step(t, m, in, ebiten.KeyEscape)
	assert.False(t, m.net.open)

	src.mu.Lock()
	src.network.Available = true
	src.mu.Unlock()
	m.readNetwork()
	step(t, m, in, ebiten.KeyN)
	assert.Equal(t, "", m.status.sim, "perfect by default: no band")
	// Loss is the first field: four steps of 5%.
	step(t, m, in, ebiten.KeyEqual, ebiten.KeyEqual, ebiten.KeyNumpadAdd, ebiten.KeyRight)
	assert.InDelta(t, 0.20, m.net.form.Loss, 1e-9)
	step(t, m, in, ebiten.KeyMinus, ebiten.KeyEqual)
	assert.InDelta(t, 0.20, m.net.form.Loss, 1e-9)
	// Latency: the next field, 10 ms a step.
	step(t, m, in, ebiten.KeyDown, ebiten.KeyEqual, ebiten.KeyEqual)
	assert.Equal(t, 20*time.Millisecond, m.net.form.Latency)
	step(t, m, in, ebiten.KeyEnter)
	updateUntil(t, m, in, func() bool { return len(src.actionsAsked()) == 1 }, "applied")
	assert.Equal(t, "conditions 0 20% loss, 20 ms latency", src.actionsAsked()[0])
	updateUntil(t, m, in, func() bool { return m.status.sim != "" }, "the band")
	assert.Equal(t, "SIMULATED NETWORK: all clients: 20% loss, 20 ms latency", m.status.sim)

	// T: for the highlighted client only.
	step(t, m, in, ebiten.KeyEscape, ebiten.KeyDown, ebiten.KeyDown, ebiten.KeyN, ebiten.KeyT)
	assert.EqualValues(t, 1002, m.net.target)
	step(t, m, in, ebiten.Key0)
	updateUntil(t, m, in, func() bool { return len(src.actionsAsked()) == 2 }, "reset applied")
	assert.Equal(t, "conditions 1002 perfect", src.actionsAsked()[1])
	step(t, m, in, ebiten.KeyT, ebiten.Key0)
	updateUntil(t, m, in, func() bool { return m.status.sim == "" }, "all perfect: no band")
}

// TestContactStates: an attached monitor says when it never reached the
// server, when it lost it, and nothing once in contact; ages count on.
func TestContactStates(t *testing.T) {
	c := &fakeRemote{fakeSource: clientsSource(1)}
	c.contact = admin.Contact{URL: "http://192.0.2.1:8080"}
	m, err := NewMonitor(c)
	require.NoError(t, err)
	scripted(m)
	now := time.Now()
	m.now = func() time.Time { return now }
	require.NoError(t, m.Update())
	assert.Equal(t, "connecting to http://192.0.2.1:8080 ...", m.status.lost)
	dim := defaultPalette().Dim
	assert.Equal(t, []band{{"connecting to http://192.0.2.1:8080 ...", dim}}, statusBands(&m.status, &palette{Dim: dim}))

	c.set(admin.Contact{URL: c.contact.URL, Err: errString("connection refused"), Failures: 1})
	require.NoError(t, m.Update())
	assert.Equal(t, "cannot reach http://192.0.2.1:8080: retrying (connection refused)", m.status.lost)
	pal := defaultPalette()
	assert.Equal(t, []band{{"CANNOT REACH http://192.0.2.1:8080: retrying (connection refused)", pal.Warn}}, statusBands(&m.status, &pal),
		"never in contact: not 'lost contact'")
	assert.NotZero(t, m.deadline.Load(), "the waker comes back to count")

	c.set(admin.Contact{URL: c.contact.URL, Last: now})
	m.dirty = false
	require.NoError(t, m.Update())
	assert.Equal(t, "", m.status.lost)
	assert.Equal(t, "live", m.status.age)
	assert.True(t, m.dirty, "a change of contact redraws")
	assert.Zero(t, m.deadline.Load(), "nothing to count: no frames needed")

	now = now.Add(5 * time.Second)
	c.set(admin.Contact{URL: c.contact.URL, Last: now.Add(-5 * time.Second), Err: errString("EOF"), Failures: 4})
	require.NoError(t, m.Update())
	assert.Equal(t, "lost contact with http://192.0.2.1:8080: reconnecting (EOF); last data 5 s ago", m.status.lost)
	assert.Equal(t, []band{{"LOST CONTACT with http://192.0.2.1:8080: reconnecting (EOF); last data 5 s ago", pal.Warn}}, statusBands(&m.status, &pal))
	assert.Equal(t, "no new data for 5 s", m.status.age)
	m.dirty = false
	now = now.Add(time.Second)
	require.NoError(t, m.Update())
	assert.True(t, m.dirty, "the age on screen moved on")
	assert.Contains(t, m.status.lost, "last data 6 s ago")
}

type errString string

func (e errString) Error() string { return string(e) }

// fakeRemote is a fakeSource with a contact, as an admin.Remote has.
type fakeRemote struct {
	*fakeSource
	contact admin.Contact
}

func (f *fakeRemote) set(c admin.Contact) {
	f.mu.Lock()
	f.contact = c
	f.mu.Unlock()
}

func (f *fakeRemote) Contact() admin.Contact {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.contact
}

func TestDescribeConditions(t *testing.T) {
	assert.Equal(t, "perfect", describeConditions(admin.Conditions{}))
	assert.Equal(t, "20% loss, 100 ms latency ±20 ms, 1% duplicated, 5% reordered", describeConditions(admin.Conditions{
		Loss: 0.2, Latency: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Duplicate: 0.01, Reorder: 0.05}))
	n := admin.Network{Available: true, Clients: map[uint32]admin.Conditions{123: {Loss: 0.2}, 7: {}}}
	assert.Equal(t, "SIMULATED NETWORK: client 123: 20% loss", networkSummary(&n))
	var c admin.Conditions
	for range 30 {
		netFields[0].change(&c, 1)
	}
	assert.Equal(t, 1.0, c.Loss, "loss stops at 100%")
	for range 3 {
		netFields[3].change(&c, 1)
	}
	assert.InDelta(t, 0.03, c.Duplicate, 1e-12)
	assert.NoError(t, c.Valid())
}
