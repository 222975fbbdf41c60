//go:build !js

package rtc_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/carrier/rtc"
)

// FuzzSignaling posts hostile bodies to the signaling handler of a new
// listener: whatever comes, it answers with a status and an answer only
// for an offer (never a panic, in the handler or in pion's goroutines);
// one request makes it hold at most one peer, maxPeerGoroutines
// goroutines and maxPeerBytes of heap; and once the listener closes it
// holds no peer and its goroutines end.
func FuzzSignaling(f *testing.F) {
	pc, err := rtc.NewAPI(loopback()).NewPeerConnection(webrtc.Configuration{})
	require.NoError(f, err)
	_, err = pc.CreateDataChannel(rtc.Label, nil)
	require.NoError(f, err)
	o, err := pc.CreateOffer(nil)
	require.NoError(f, err)
	require.NoError(f, pc.Close())
	valid, err := json.Marshal(o)
	require.NoError(f, err)
	f.Add(valid)
	f.Add([]byte(`{"type":"offer","sdp":""}`))
	f.Add([]byte(`{"type":"offer","sdp":"v=0\r\n"}`))
	f.Add([]byte(`{"type":"answer","sdp":"v=0"}`))
	f.Add([]byte(`{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n"}`))
	f.Add(bytes.ReplaceAll(valid, []byte("a=fingerprint:sha-256"), []byte("a=fingerprint:md5")))
	f.Add(bytes.ReplaceAll(valid, []byte("a=setup:actpass"), []byte("a=setup:passive")))
	f.Add([]byte(strings.Repeat("[", 10000)))

	f.Add([]byte(strings.Replace(string(valid), `a=setup:actpass`, `a=ice-lite\r\na=setup:actpass`, 1)))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := runtime.NumGoroutine()
		l, err := rtc.Listen(rtc.Config{ICE: loopback()}, netip.AddrPort{})
		require.NoError(t, err)
		runtime.GC()
		goroutines, heap := runtime.NumGoroutine(), liveHeap()
		r := httptest.NewRequest(http.MethodPost, "/rtc", bytes.NewReader(body))
		r.RemoteAddr = "127.0.0.1:50000"
		w := httptest.NewRecorder()
		l.Handler().ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
			var a webrtc.SessionDescription
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a))
			require.Equal(t, webrtc.SDPTypeAnswer, a.Type)
		case http.StatusBadRequest, http.StatusInternalServerError:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		require.LessOrEqual(t, l.Peers(), 1, "one request, one peer at most")
		require.LessOrEqual(t, runtime.NumGoroutine()-goroutines, maxPeerGoroutines, "goroutines one request holds")
		require.Less(t, liveHeap()-heap, int64(maxPeerBytes), "heap one request holds")
		require.NoError(t, l.Close())
		require.Eventually(t, func() bool { return l.Peers() == 0 }, 20*time.Second, time.Millisecond, "a closed listener holds no peer")
		require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 20*time.Second, 5*time.Millisecond,
			"a closed listener's goroutines end")
	})
}

// What one signaling request may make a listener hold: a peer answered,
// its ICE credentials and counters; no goroutine until its DTLS
// handshake starts (one allowed for the runtime's own).
const (
	maxPeerGoroutines = 1
	maxPeerBytes      = 16 << 10
)

// liveHeap returns the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
