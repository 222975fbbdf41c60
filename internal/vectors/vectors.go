// Package vectors loads the wire-protocol test vectors generated from the
// Python mpgameserver 0.2.4 (testdata/; testdata/README.md describes the
// files, GENERATING.md where they came from and how check_reference.py
// re-verifies them against the reference; the protocol is described in
// docs/protocol.md). The tests of internal/crypto,
// internal/protocol, internal/serial and internal/session use them; the
// package is only imported by tests.
package vectors

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

//go:embed testdata
var files embed.FS

// File returns the raw bytes of a vector file, e.g. "session.json".
func File(name string) ([]byte, error) { return files.ReadFile("testdata/" + name) }

// Load decodes a JSON vector file into v.
func Load(name string, v any) error {
	b, err := File(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("vectors %s: %w", name, err)
	}
	return nil
}

// Hex is a byte string written as lowercase hex in the vectors.
type Hex []byte

// UnmarshalJSON decodes a hex string.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// HexUint is an integer written as a big-endian hex string ("80000000").
type HexUint uint64

// UnmarshalJSON decodes a hex number.
func (h *HexUint) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return err
	}
	*h = HexUint(v)
	return nil
}

// Header is a decoded packet header as the vectors give it.
type Header struct {
	Magic   string  `json:"magic"`
	CTime   uint32  `json:"ctime"`
	Seq     uint16  `json:"seq"`
	Ack     uint16  `json:"ack"`
	AckBits HexUint `json:"ack_bits"`
	Type    uint8   `json:"pkt_type"`
	Name    string  `json:"pkt_type_name"`
	Length  uint16  `json:"length"`
	Count   uint8   `json:"count"`
}

// Message is one decoded message of a packet.
type Message struct {
	Seq     uint16 `json:"msg_seq"`
	Type    uint8  `json:"type"`
	Payload Hex    `json:"payload_hex"`
}

// Packet is a datagram with its parts.
type Packet struct {
	Name        string    `json:"name"`
	SessionStep int       `json:"session_step"`
	Direction   string    `json:"direction"`
	Header      Header    `json:"header"`
	HeaderHex   Hex       `json:"header_hex"`
	Protection  string    `json:"protection"`
	Plaintext   Hex       `json:"plaintext_payload_hex"`
	Messages    []Message `json:"messages"`
	Key         Hex       `json:"key_hex"`
	IV          Hex       `json:"iv_hex"`
	AAD         Hex       `json:"aad_hex"`
	Ciphertext  Hex       `json:"ciphertext_hex"`
	Tag         Hex       `json:"tag_hex"`
	CRC         Hex       `json:"crc32_hex"`
	Datagram    Hex       `json:"datagram_hex"`
	Len         int       `json:"datagram_len"`
}

// Effects is what the receiving reference connection did with a datagram.
type Effects struct {
	Accepted bool     `json:"packet_accepted"`
	Acked    []uint16 `json:"packet_seqs_acked"`
	Dedupe   []struct {
		Seq    uint16 `json:"msg_seq"`
		Result string `json:"result"`
	} `json:"message_dedupe"`
	Delivered []Message `json:"delivered_to_app"`
	Status    string    `json:"status_after"`
	Bitfield  struct {
		Ack     uint16  `json:"ack"`
		AckBits HexUint `json:"ack_bits"`
	} `json:"recv_bitfield_after"`
	SessionKey Hex `json:"session_key_established"`
}

// Step is one datagram of session.json.
type Step struct {
	Packet
	Index   int     `json:"index"`
	Sender  string  `json:"sender"`
	Note    string  `json:"note"`
	Clock   float64 `json:"clock"`
	Effects Effects `json:"receiver_effects"`
}

// Session is session.json.
type Session struct {
	SessionKey Hex    `json:"session_key_hex"`
	Steps      []Step `json:"steps"`
}

// Key is one key of keys.json.
type Key struct {
	Scalar   Hex    `json:"private_scalar_hex"`
	PKCS8    Hex    `json:"private_pkcs8_der_hex"`
	PKCS8PEM string `json:"private_pkcs8_pem"`
	SPKI     Hex    `json:"public_spki_der_hex"`
	SPKIPEM  string `json:"public_spki_pem"`
	Point    Hex    `json:"public_uncompressed_point_hex"`
	X        Hex    `json:"public_x_hex"`
	Y        Hex    `json:"public_y_hex"`
}

// Keys is keys.json.
type Keys struct {
	ServerRoot      Key `json:"server_root"`
	ClientEphemeral Key `json:"client_ephemeral"`
	ServerEphemeral Key `json:"server_ephemeral"`
	OtherRoot       Key `json:"other_root"`
}

// HelloPacket is a handshake datagram of handshake.json.
type HelloPacket struct {
	Packet
	MsgSeq     uint16 `json:"msg_seq"`
	Message    Hex    `json:"message_hex"`
	PaddingLen int    `json:"padding_len"`
	Padding    Hex    `json:"padding_hex"`
	Signed     Hex    `json:"signed_payload_hex"`
	Signature  Hex    `json:"signature_der_hex"`
}

// Handshake is handshake.json.
type Handshake struct {
	CTime          uint32      `json:"ctime"`
	ServerRootSPKI Hex         `json:"server_root_public_spki_der_hex"`
	ClientEphSPKI  Hex         `json:"client_ephemeral_public_spki_der_hex"`
	ServerEphSPKI  Hex         `json:"server_ephemeral_public_spki_der_hex"`
	ClientVersion  int64       `json:"client_version"`
	ClientHello    HelloPacket `json:"client_hello"`
	ServerHello    HelloPacket `json:"server_hello"`
	ChallengeResp  HelloPacket `json:"challenge_resp"`
	TokenRaw       Hex         `json:"token_raw_random_hex"`
	Token          int64       `json:"token"`
	Salt           Hex         `json:"salt_hex"`
	SharedSecret   Hex         `json:"ecdh_shared_secret_hex"`
	HKDF           struct {
		Salt   Hex    `json:"salt_hex"`
		IKM    Hex    `json:"ikm_hex"`
		Info   string `json:"info_ascii"`
		Length int    `json:"length"`
		PRK    Hex    `json:"prk_hex"`
		OKM    Hex    `json:"okm_hex"`
	} `json:"hkdf"`
	SessionKey Hex `json:"session_key_hex"`
}

// Packets is packets.json.
type Packets struct {
	Cases      []Packet `json:"cases"`
	Fragmented struct {
		Len       int      `json:"message_len"`
		SHA256    Hex      `json:"message_sha256"`
		Message   Hex      `json:"message_hex"`
		ID        uint16   `json:"fragment_id"`
		Count     int      `json:"fragment_count"`
		Sizes     []int    `json:"fragment_data_sizes"`
		Delivered uint16   `json:"delivered_msg_seq"`
		Packets   []Packet `json:"packets"`
	} `json:"fragmented_message"`
}

// MustLoad is Load for test setup; it panics on error.
func MustLoad[T any](name string) T {
	var v T
	if err := Load(name, &v); err != nil {
		panic(err)
	}
	return v
}

// Stream returns the first n bytes of SHA-256("mpgameserver-vectors/v1/" +
// label + u32be(0)) || SHA-256(... + u32be(1)) || ..., the generator of the
// vectors' long deterministic inputs.
func Stream(label string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	for i := uint32(0); len(out) < n; i++ {
		h := sha256.New()
		h.Write([]byte("mpgameserver-vectors/v1/" + label))
		h.Write(binary.BigEndian.AppendUint32(nil, i))
		out = h.Sum(out)
	}
	return out[:n]
}
