package web

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compress returns b gzip-compressed.
func compress(t testing.TB, b []byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return z.Bytes()
}

// fakeWASM returns n bytes that compress, as WebAssembly does, somewhat.
func fakeWASM(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := append(make([]byte, 0, n), "\x00asm\x01\x00\x00\x00"...)
	for len(b) < n {
		b = append(b, byte(r.IntN(16)))
	}
	return b
}

// counting returns a handler for wasm whose decompressions are counted.
func counting(t testing.TB, gz []byte) (*handler, *atomic.Int32) {
	var n atomic.Int32
	h := newHandler(Config{Assets: Assets{WASM: gz, ExecJS: []byte("class Go {}")}, Signal: "rtc"},
		func(b []byte) ([]byte, error) { n.Add(1); return gunzip(b) })
	return h, &n
}

// plainGet requests /arena.wasm without gzip.
func plainGet(h http.Handler, method string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/arena.wasm", nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestPlainWASMOnce: the WebAssembly is decompressed once for every
// client that takes no gzip, one after the other or all at once, and
// each gets it whole; a browser's gzip requests decompress nothing.
func TestPlainWASMOnce(t *testing.T) {
	wasm := fakeWASM(1 << 20)
	h, n := counting(t, compress(t, wasm))

	for range 3 {
		w := plainGet(h, "GET", "Accept-Encoding", "gzip")
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"))
	}
	assert.Zero(t, n.Load(), "gzip requests decompress nothing")

	var wg sync.WaitGroup
	bad := make(chan string, 200)
	for i := range 100 {
		wg.Go(func() {
			w := plainGet(h, "GET", "Accept-Encoding", []string{"", "identity", "gzip;q=0", "br"}[i%4])
			switch {
			case w.Code != http.StatusOK:
				bad <- w.Result().Status
			case w.Header().Get("Content-Encoding") != "":
				bad <- "Content-Encoding " + w.Header().Get("Content-Encoding")
			case !bytes.Equal(w.Body.Bytes(), wasm):
				bad <- "a body unlike the WebAssembly"
			}
		})
	}
	wg.Wait()
	for range 100 {
		w := plainGet(h, "GET")
		require.Equal(t, http.StatusOK, w.Code)
		require.True(t, bytes.Equal(w.Body.Bytes(), wasm), "the body is the WebAssembly")
		assert.Equal(t, "1048576", w.Header().Get("Content-Length"))
		assert.Equal(t, h.etag, w.Header().Get("ETag"))
	}
	close(bad)
	for b := range bad {
		t.Error(b)
	}
	assert.Equal(t, int32(1), n.Load(), "200 plain requests, one decompression")

	// HEAD, and a revalidation, send nothing and decompress nothing more.
	w := plainGet(h, "HEAD")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Zero(t, w.Body.Len())
	assert.Equal(t, "1048576", w.Header().Get("Content-Length"))
	w = plainGet(h, "GET", "If-None-Match", h.etag)
	assert.Equal(t, http.StatusNotModified, w.Code)
	assert.Zero(t, w.Body.Len())
	assert.Equal(t, int32(1), n.Load())
}

// TestPlainWASMDamaged: WebAssembly that does not decompress is a 500
// for every plain request, and is tried once.
func TestPlainWASMDamaged(t *testing.T) {
	gz := compress(t, fakeWASM(64<<10))
	for name, damaged := range map[string][]byte{
		"not gzip":  []byte("not gzip at all"),
		"truncated": gz[:len(gz)/2],
		"checksum":  append(append([]byte(nil), gz[:len(gz)-8]...), 0, 0, 0, 0, 0, 0, 1, 0),
	} {
		h, n := counting(t, damaged)
		for range 3 {
			w := plainGet(h, "GET")
			assert.Equal(t, http.StatusInternalServerError, w.Code, name)
			assert.NotContains(t, w.Body.String(), "\x00asm", name)
		}
		assert.Equal(t, int32(1), n.Load(), name)
		assert.Equal(t, http.StatusOK, plainGet(h, "GET", "Accept-Encoding", "gzip").Code, "a browser still gets it as it is")
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// TestPlainWASMCost: after the first, a plain request allocates a few
// hundred bytes, however large the WebAssembly: it decompresses nothing
// and copies nothing.
func TestPlainWASMCost(t *testing.T) {
	wasm := fakeWASM(4 << 20)
	h, n := counting(t, compress(t, wasm))
	r := httptest.NewRequest("GET", "/arena.wasm", nil)
	serve := func() { h.ServeHTTP(&discard{h: http.Header{}}, r) }
	serve()
	require.Equal(t, int32(1), n.Load())

	const runs = 100
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		serve()
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / runs
	assert.Less(t, perRequest, uint64(16<<10), "bytes allocated per plain request, for %d bytes of WebAssembly", len(wasm))
	assert.Less(t, testing.AllocsPerRun(runs, serve), 40.0, "allocations per plain request")
	assert.Equal(t, int32(1), n.Load())
}

// TestGunzip: gunzip gives back what gzip took, whatever its trailer
// says of the size.
func TestGunzip(t *testing.T) {
	for _, size := range []int{0, 1, 1000, 300 << 10} {
		b := fakeWASM(size)[:size]
		got, err := gunzip(compress(t, b))
		require.NoError(t, err)
		assert.Equal(t, b, got)
	}
	// A trailer whose size is wrong (and beyond the hint's bound) fails:
	// the size does not match.
	gz := compress(t, []byte("arena"))
	copy(gz[len(gz)-4:], []byte{0xff, 0xff, 0xff, 0xff})
	_, err := gunzip(gz)
	assert.Error(t, err)
	_, err = gunzip(nil)
	assert.Error(t, err, "nothing is not gzip")
}
