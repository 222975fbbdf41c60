package crypto_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/mpgs/mpgameserver/conn"
	"github.com/mpgs/mpgameserver/internal/crypto"
)

// Both sides of a handshake derive the same session key from their own
// ephemeral key and the other side's public key, then protect a packet with
// it. The deterministic reader makes the keys reproducible.
func Example() {
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	client, err := conn.GenerateKey(rng)
	if err != nil {
		panic(err)
	}
	server, err := conn.GenerateKey(rng)
	if err != nil {
		panic(err)
	}
	salt := make([]byte, crypto.SaltSize) // chosen by the server
	rng.Read(salt)

	clientKey, err := crypto.SessionKey(client, server.Public().DER(), salt)
	if err != nil {
		panic(err)
	}
	serverKey, err := crypto.SessionKey(server, client.Public().DER(), salt)
	if err != nil {
		panic(err)
	}
	fmt.Println("same key:", clientKey == serverKey)
	fmt.Printf("session key: %x\n", clientKey)
	fmt.Printf("public key: %d bytes DER\n", len(client.Public().DER()))

	// seal a packet: the 20-byte header is nonce (first 12) and AAD (all)
	header := []byte("FSOS\x65\x53\xf1\x00\x00\x03\x00\x02\x06\x00\x07\x01\x80\x00\x00\x00")
	payload := []byte("\x00\x03hello")
	a, _ := crypto.NewAEAD(clientKey)
	datagram := a.Seal(bytes.Clone(header), header, payload)
	fmt.Println("datagram:", len(datagram), "bytes")

	b, _ := crypto.NewAEAD(serverKey)
	plain, err := b.Open(nil, datagram[:20], datagram[20:])
	fmt.Printf("opened: %q %v\n", plain, err)

	datagram[9] ^= 1 // another packet seq: the header is authenticated
	_, err = b.Open(nil, datagram[:20], datagram[20:])
	fmt.Println("tampered:", err)
	// Output:
	// same key: true
	// session key: 67ba691a5ddd081b2ba8a5a489ef18b7
	// public key: 91 bytes DER
	// datagram: 43 bytes
	// opened: "\x00\x03hello" <nil>
	// tampered: crypto: message authentication failed
}
