package vectors

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStreamMatchesGenerator(t *testing.T) {
	var ser struct {
		Bytes []struct {
			Name   string `json:"name"`
			SHA256 Hex    `json:"value_sha256"`
			Len    int    `json:"length"`
		} `json:"bytes"`
	}
	require.NoError(t, Load("serializable.json", &ser))
	blob := ser.Bytes[len(ser.Bytes)-1]
	require.Equal(t, "40000_bytes", blob.Name)
	sum := sha256.Sum256(Stream("b40000", blob.Len))
	require.Equal(t, []byte(blob.SHA256), sum[:])

	p := MustLoad[Packets]("packets.json")
	sum = sha256.Sum256(Stream("fragment-payload-5000", p.Fragmented.Len))
	require.Equal(t, []byte(p.Fragmented.SHA256), sum[:])
	require.Equal(t, []byte(p.Fragmented.Message), Stream("fragment-payload-5000", p.Fragmented.Len))
}
