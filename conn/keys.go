package conn

import (
	"io"

	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
)

// A PrivateKey is a P-256 key: a server's root key, whose signature on the
// handshake clients check. Load one with LoadPrivateKey, make one with
// GenerateKey, save it with SavePrivateKey (PKCS#8 PEM, the Python
// original's format).
type PrivateKey = crypto.PrivateKey

// A PublicKey is the public half of a root key: what a client pins.
type PublicKey = crypto.PublicKey

// GenerateKey returns a new key whose 32-byte scalar is read from r
// (crypto/rand when nil).
func GenerateKey(r io.Reader) (*PrivateKey, error) { return crypto.GenerateKey(r) }

// LoadPrivateKey reads a PEM private key file (PKCS#8 "PRIVATE KEY", or
// SEC 1 "EC PRIVATE KEY").
func LoadPrivateKey(path string) (*PrivateKey, error) { return crypto.LoadPrivateKey(path) }

// LoadPublicKey reads a PEM "PUBLIC KEY" file.
func LoadPublicKey(path string) (*PublicKey, error) { return crypto.LoadPublicKey(path) }

// ParsePublicKeyPEM parses the first "PUBLIC KEY" block in data.
func ParsePublicKeyPEM(data []byte) (*PublicKey, error) { return crypto.ParsePublicKeyPEM(data) }

// SavePrivateKey writes k to a new file at path (mode 0600); it never
// overwrites a file.
func SavePrivateKey(path string, k *PrivateKey) error { return crypto.SavePrivateKey(path, k) }

// SavePublicKey writes p to a new file at path (mode 0644); it never
// overwrites a file.
func SavePublicKey(path string, p *PublicKey) error { return crypto.SavePublicKey(path, p) }

// Seq is a message's sequence number, as HandleMessage and a client's
// messages report it: 16 bits on the ring 1..65535 (0 means none), with
// Diff and NewerThan comparing across the wrap.
type Seq = protocol.Seq

// Message sizes.
const (
	// MaxMessageSize is the largest message (8 MiB): Send refuses larger
	// ones.
	MaxMessageSize = protocol.MaxMessageSize
	// MaxSingleMessage is the largest message that travels in one
	// datagram; longer ones are split into fragments and joined again.
	MaxSingleMessage = protocol.MaxSingleMessage
	// MaxDatagramSize is the largest datagram the protocol sends.
	MaxDatagramSize = protocol.MaxDatagramSize
	// RecvBufferSize is the buffer a datagram must be read into.
	RecvBufferSize = protocol.RecvBufferSize
)
