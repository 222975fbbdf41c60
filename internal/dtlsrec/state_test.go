package dtlsrec

import (
	"bytes"
	"encoding/gob"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func encodeExport(t *testing.T, e exported) []byte {
	var b bytes.Buffer
	require.NoError(t, gob.NewEncoder(&b).Encode(e))
	return b.Bytes()
}

// decodeExport refuses states it cannot continue safely.
func TestDecodeExportRefuses(t *testing.T) {
	good, _ := fakeExport(t, 0xc02b)
	_, err := decodeExport(encodeExport(t, good))
	require.NoError(t, err)

	for name, change := range map[string]func(e *exported){
		"incomplete":       func(e *exported) { e.HandshakeComplete = false },
		"epoch 0":          func(e *exported) { e.LocalEpoch = 0 },
		"remote epoch 2":   func(e *exported) { e.RemoteEpoch = 2 },
		"no sequence":      func(e *exported) { e.SequenceNumber = 0 },
		"no remote seq":    func(e *exported) { e.RemoteSequenceNumber = 0 },
		"seq past 48 bits": func(e *exported) { e.SequenceNumber = 1 << 49 },
		"short master":     func(e *exported) { e.MasterSecret = e.MasterSecret[:20] },
	} {
		e := good
		change(&e)
		_, err := decodeExport(encodeExport(t, e))
		assert.ErrorIs(t, err, ErrState, name)
	}

	e := good
	e.LocalConnectionID = []byte{1}
	_, err = decodeExport(encodeExport(t, e))
	assert.ErrorIs(t, err, ErrCID)
	e = good
	e.CipherSuiteID = 0xcca9 // ChaCha20-Poly1305
	_, err = decodeExport(encodeExport(t, e))
	assert.ErrorIs(t, err, ErrSuite)

	_, err = decodeExport([]byte("not a gob"))
	assert.ErrorIs(t, err, ErrState)

	// A struct sharing no field with ours (as if pion renamed them all).
	var b bytes.Buffer
	require.NoError(t, gob.NewEncoder(&b).Encode(struct{ Other int }{1}))
	_, err = decodeExport(b.Bytes())
	assert.ErrorIs(t, err, ErrState)
}
