package dtlsrec

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The record Seal writes, field by field.
func TestSealFormat(t *testing.T) {
	server, client := fakePair(t)
	server.seq = 0x0000_1234_5678_9abc
	prefix := []byte("prefix")
	rec, err := server.Seal(bytes.Clone(prefix), []byte("hello"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(rec, prefix), "appends")
	rec = rec[len(prefix):]
	require.Len(t, rec, 5+Overhead)
	assert.Equal(t, []byte{TypeApplicationData, 0xfe, 0xfd}, rec[:3])
	assert.Equal(t, []byte{0, 1, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}, rec[3:11], "epoch 1, sequence number")
	assert.Equal(t, uint16(explicitLen+5+tagLen), binary.BigEndian.Uint16(rec[11:13]))
	assert.Equal(t, rec[3:11], rec[headerLen:headerLen+explicitLen], "explicit nonce = epoch || seq")
	assert.Equal(t, uint64(0x0000_1234_5678_9abd), server.seq)

	typ, plain, rest, err := client.Open(rec)
	require.NoError(t, err)
	assert.Equal(t, TypeApplicationData, typ)
	assert.Equal(t, "hello", string(plain))
	assert.Empty(t, rest)

	a, err := server.SealAlert(nil, AlertFatal, AlertInternalError)
	require.NoError(t, err)
	typ, plain, _, err = client.Open(a)
	require.NoError(t, err)
	assert.Equal(t, TypeAlert, typ)
	assert.Equal(t, []byte{AlertFatal, AlertInternalError}, plain)

	// An empty plaintext is a valid record.
	e, err := server.Seal(nil, nil)
	require.NoError(t, err)
	_, plain, _, err = client.Open(e)
	require.NoError(t, err)
	assert.Empty(t, plain)
}

func TestSealLimits(t *testing.T) {
	server, client := fakePair(t)
	dst := []byte("x")
	out, err := server.Seal(dst, make([]byte, MaxPlaintext+1))
	assert.ErrorIs(t, err, ErrTooLong)
	assert.Equal(t, dst, out)
	rec, err := server.Seal(nil, make([]byte, MaxPlaintext))
	require.NoError(t, err)
	_, plain, _, err := client.Open(rec)
	require.NoError(t, err)
	assert.Len(t, plain, MaxPlaintext)

	server.seq = maxSeq
	rec, err = server.Seal(nil, []byte("last"))
	require.NoError(t, err)
	_, plain, _, err = client.Open(rec)
	require.NoError(t, err)
	assert.Equal(t, "last", string(plain))
	_, err = server.Seal(nil, []byte("one too many"))
	assert.ErrorIs(t, err, ErrExhausted)
	_, err = server.SealAlert(nil, AlertWarning, AlertCloseNotify)
	assert.ErrorIs(t, err, ErrExhausted)
}

// Each refusal of Open, and what it leaves for the caller's loop.
func TestOpenErrors(t *testing.T) {
	server, client := fakePair(t)
	good, err := client.Seal(nil, []byte("data"))
	require.NoError(t, err)
	tail := []byte{0xaa}
	header := func(typ byte, major, minor byte, epoch uint16, n int) []byte {
		h := []byte{typ, major, minor}
		h = binary.BigEndian.AppendUint16(h, epoch)
		h = append(h, 0, 0, 0, 0, 0, 9)
		return binary.BigEndian.AppendUint16(h, uint16(n))
	}
	body := func(n int) []byte { return make([]byte, n) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

	for _, tc := range []struct {
		name     string
		d        []byte
		typ      byte
		err      error
		restNil  bool
		bodyLen  int
		checkLen bool
	}{
		{name: "empty", d: nil, err: ErrShort, restNil: true},
		{name: "short header", d: good[:headerLen-1], err: ErrShort, restNil: true},
		{name: "cut body", d: good[:len(good)-1], err: ErrShort, restNil: true},
		{name: "version", d: cat(header(23, 0xfe, 0xff, 1, 30), body(30), tail), err: ErrVersion},
		{name: "epoch 2", d: cat(header(23, 0xfe, 0xfd, 2, 30), body(30), tail), err: ErrEpoch},
		{name: "data at epoch 0", d: cat(header(23, 0xfe, 0xfd, 0, 3), body(3), tail), err: ErrEpoch},
		{name: "unknown type at epoch 0", d: cat(header(25, 0xfe, 0xfd, 0, 3), body(3), tail), err: ErrType},
		{name: "ccs at epoch 1", d: cat(header(20, 0xfe, 0xfd, 1, 30), body(30), tail), err: ErrType},
		{name: "cid record", d: cat(header(25, 0xfe, 0xfd, 1, 30), body(30), tail), err: ErrType},
		{name: "too short to seal", d: cat(header(23, 0xfe, 0xfd, 1, 23), body(23), tail), err: ErrShort},
		{name: "forged", d: cat(header(23, 0xfe, 0xfd, 1, 30), body(30), tail), err: ErrAuth},
		{name: "clear handshake", d: cat(header(22, 0xfe, 0xfd, 0, 5), body(5), tail),
			typ: TypeHandshake, err: ErrPlaintext, bodyLen: 5, checkLen: true},
		{name: "clear ccs", d: cat(header(20, 0xfe, 0xfd, 0, 1), body(1), tail),
			typ: TypeChangeCipherSpec, err: ErrPlaintext, bodyLen: 1, checkLen: true},
		{name: "clear alert", d: cat(header(21, 0xfe, 0xfd, 0, 2), body(2), tail),
			typ: TypeAlert, err: ErrPlaintext, bodyLen: 2, checkLen: true},
	} {
		typ, plain, rest, err := server.Open(tc.d)
		assert.ErrorIs(t, err, tc.err, tc.name)
		assert.Equal(t, tc.typ, typ, tc.name)
		if tc.restNil {
			assert.Nil(t, rest, tc.name)
		} else {
			assert.Equal(t, tail, rest, tc.name)
		}
		if tc.checkLen {
			assert.Len(t, plain, tc.bodyLen, tc.name)
		}
	}
	_, plain, _, err := server.Open(good)
	require.NoError(t, err, "the refusals left the window alone")
	assert.Equal(t, "data", string(plain))
}

// Seal and Open allocate nothing.
func TestZeroAllocs(t *testing.T) {
	server, client := fakePair(t)
	msg := make([]byte, 1200)
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = client.Seal(buf[:0], msg)
		if err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "Seal")
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := client.SealAlert(buf[:0], AlertWarning, AlertCloseNotify); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "SealAlert")

	// AllocsPerRun calls its function runs+1 times; each needs a fresh
	// record, sealed beforehand.
	recs := make([][]byte, 101)
	for i := range recs {
		var err error
		recs[i], err = client.Seal(nil, msg)
		require.NoError(t, err)
	}
	i := 0
	allocs = testing.AllocsPerRun(100, func() {
		_, _, _, err := server.Open(recs[i])
		i++
		if err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "Open")
	allocs = testing.AllocsPerRun(100, func() {
		_, _, _, _ = server.Open(recs[0]) // replayed (and already decrypted in place)
		_, _, _, _ = server.Open(nil)
		_, _, _, _ = server.Open(msg[:40])
	})
	assert.Zero(t, allocs, "refusals")
}

// TestPrefetchChangesNothing: prefetching before every Seal and Open
// gives the same records and plaintexts, and the ciphers' states are
// found (Go's AES-GCM is a pointer to a struct).
func TestPrefetchChangesNothing(t *testing.T) {
	a, b := fakePair(t)
	if a.sealState.Base == nil || a.openState.Base == nil {
		t.Fatal("the ciphers' states were not found")
	}
	for i := range 50 {
		msg := bytes.Repeat([]byte{byte(i)}, 1+i*20)
		a.PrefetchSeal()
		rec, err := a.Seal(nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		b.PrefetchOpen()
		_, plain, _, err := b.Open(rec)
		if err != nil || !bytes.Equal(plain, msg) {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}
