package protocol_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/crypto"
	"github.com/mpgs/mpgameserver/internal/protocol"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

// vectorDirection maps a vector direction to the magic's fourth byte.
func vectorDirection(t testing.TB, dir string) protocol.Direction {
	t.Helper()
	switch dir {
	case "to_server":
		return protocol.ToServer
	case "to_client":
		return protocol.ToClient
	}
	t.Fatalf("unknown direction %q", dir)
	return 0
}

// vectorHeader converts a vector header to a protocol.Header.
func vectorHeader(t testing.TB, h vectors.Header) protocol.Header {
	t.Helper()
	require.Len(t, h.Magic, 4)
	require.Equal(t, "FSO", h.Magic[:3])
	return protocol.Header{
		Direction: protocol.Direction(h.Magic[3]),
		CTime:     h.CTime,
		Seq:       protocol.Seq(h.Seq),
		Ack:       protocol.Seq(h.Ack),
		Type:      protocol.PacketType(h.Type),
		Length:    h.Length,
		Count:     h.Count,
		AckBits:   uint32(h.AckBits),
	}
}

func vectorMessages(ms []vectors.Message) []protocol.Message {
	out := make([]protocol.Message, len(ms))
	for i, m := range ms {
		out[i] = protocol.Message{Seq: protocol.Seq(m.Seq), Type: protocol.PacketType(m.Type), Body: m.Payload}
	}
	return out
}

// assertHex compares byte strings by their hex form, so that nil and empty
// are equal and a failure is readable.
func assertHex(t testing.TB, want, got []byte, msgAndArgs ...any) bool {
	t.Helper()
	return assert.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got), msgAndArgs...)
}

func mustParseHeader(t testing.TB, d []byte, want protocol.Direction) protocol.Header {
	t.Helper()
	h, err := protocol.ParseHeaderFrom(d, want)
	require.NoError(t, err)
	return h
}

// openDatagram is the receive path of an encrypted datagram: header (with
// the direction check), length check, tag check, payload check.
func openDatagram(a *crypto.AEAD, d []byte, want protocol.Direction) (protocol.Header, []byte, error) {
	h, err := protocol.ParseHeaderFrom(d, want)
	if err != nil {
		return h, nil, err
	}
	end := protocol.HeaderSize + int(h.Length) + protocol.TagSize
	if len(d) < end {
		return h, nil, protocol.ErrShortPayload
	}
	p, err := a.Open(nil, d[:protocol.HeaderSize], d[protocol.HeaderSize:end])
	if err != nil {
		return h, nil, err
	}
	return h, p, protocol.ValidatePayload(h.Type, h.Count, p)
}

// checkCRCDatagram is the receive path of a hello datagram.
func checkCRCDatagram(d []byte, want protocol.Direction) (protocol.Header, []byte, error) {
	h, err := protocol.ParseHeaderFrom(d, want)
	if err != nil {
		return h, nil, err
	}
	end := protocol.HeaderSize + int(h.Length)
	if err := crypto.CheckCRC(d, end); err != nil {
		return h, nil, err
	}
	p := d[protocol.HeaderSize:end]
	return h, p, protocol.ValidatePayload(h.Type, h.Count, p)
}

// flipMasks are the XOR masks applied to each byte of a datagram: all of
// them for short datagrams, a spread for long ones.
func flipMasks(n int) []byte {
	if n <= 128 && !testing.Short() {
		m := make([]byte, 255)
		for i := range m {
			m[i] = byte(i + 1)
		}
		return m
	}
	return []byte{0x01, 0x02, 0x10, 0x80, 0x55, 0xff}
}

func TestConstantsVectors(t *testing.T) {
	var c struct {
		HeaderSize      int                       `json:"header_size"`
		IVSize          int                       `json:"iv_size"`
		TagSize         int                       `json:"gcm_tag_size"`
		CRCSize         int                       `json:"crc_size"`
		MTU             int                       `json:"mtu"`
		UDPAllowance    int                       `json:"udp_ip_header_allowance"`
		MaxSize         int                       `json:"MAX_SIZE"`
		MaxSizeCRC      int                       `json:"MAX_SIZE_CRC"`
		MaxPayload      int                       `json:"MAX_PAYLOAD_SIZE"`
		MaxFragment     int                       `json:"MAX_FRAGMENT_SIZE"`
		FragOverhead    int                       `json:"FRAGMENT_OVERHEAD"`
		MaxFragments    int                       `json:"MAX_FRAGMENTS"`
		RecvSize        int                       `json:"RECV_SIZE"`
		MessageOverhead map[string]int            `json:"message_overhead"`
		PacketTypes     map[string]uint8          `json:"packet_types"`
		MagicToServer   string                    `json:"magic_to_server"`
		MagicToClient   string                    `json:"magic_to_client"`
		HKDFInfo        string                    `json:"hkdf_info"`
		AESKeyLen       int                       `json:"aes_key_len"`
		SaltLen         int                       `json:"salt_len"`
		CRCCheck        vectors.HexUint           `json:"crc32_check_123456789"`
		SetMTU          map[string]map[string]int `json:"setMTU_results"`
	}
	require.NoError(t, vectors.Load("constants.json", &c))

	assert.Equal(t, c.HeaderSize, protocol.HeaderSize)
	assert.Equal(t, c.IVSize, protocol.NonceSize)
	assert.Equal(t, c.IVSize, crypto.NonceSize)
	assert.Equal(t, c.TagSize, protocol.TagSize)
	assert.Equal(t, c.TagSize, crypto.TagSize)
	assert.Equal(t, c.HeaderSize, crypto.AADSize)
	assert.Equal(t, c.CRCSize, protocol.CRCSize)
	assert.Equal(t, c.MTU, protocol.MTU)
	assert.Equal(t, c.MTU-c.UDPAllowance, protocol.MaxDatagramSize)
	assert.Equal(t, c.MaxSize, protocol.MaxDatagramSize)
	assert.Equal(t, c.MaxSizeCRC, protocol.MaxDatagramSize-protocol.TagSize+protocol.CRCSize)
	assert.Equal(t, c.MaxPayload, protocol.MaxPayloadSize)
	assert.Equal(t, c.MaxFragment, protocol.FragmentDataSize)
	assert.Equal(t, c.FragOverhead, protocol.FragmentHeaderSize)
	assert.Equal(t, c.MaxFragments, protocol.MaxFragments)
	assert.Equal(t, c.MaxFragment*c.MaxFragments, protocol.MaxMessageSize)
	assert.Equal(t, c.RecvSize, protocol.RecvBufferSize)

	require.NotEmpty(t, c.MessageOverhead)
	for k, want := range c.MessageOverhead {
		n, err := strconv.Atoi(k)
		require.NoError(t, err)
		assert.Equal(t, want, protocol.Overhead(n), "overhead(%d)", n)
	}

	require.Len(t, c.PacketTypes, 8)
	for name, v := range c.PacketTypes {
		typ := protocol.PacketType(v)
		assert.Equal(t, name, typ.String())
		assert.True(t, typ.Valid(), name)
	}
	assert.False(t, protocol.PacketType(len(c.PacketTypes)).Valid())

	toServer := protocol.Header{Direction: protocol.ToServer}
	toClient := protocol.Header{Direction: protocol.ToClient}
	assert.Equal(t, c.MagicToServer, string(toServer.AppendTo(nil)[:4]))
	assert.Equal(t, c.MagicToClient, string(toClient.AppendTo(nil)[:4]))

	assert.Equal(t, c.HKDFInfo, crypto.HKDFInfo)
	assert.Equal(t, c.AESKeyLen, crypto.KeySize)
	assert.Equal(t, c.SaltLen, crypto.SaltSize)
	assert.Equal(t, uint32(c.CRCCheck), crypto.CRC32([]byte("123456789")))

	// setMTU: only 1500 is used for interop (its RECV_SIZE there is mtu+512;
	// the import-time default, checked above, is 2048)
	m := c.SetMTU["1500"]
	require.NotEmpty(t, m)
	assert.Equal(t, m["MTU"], protocol.MTU)
	assert.Equal(t, m["MAX_SIZE"], protocol.MaxDatagramSize)
	assert.Equal(t, m["MAX_PAYLOAD_SIZE"], protocol.MaxPayloadSize)
	assert.Equal(t, m["MAX_SIZE_CRC"], protocol.MaxDatagramSize-protocol.TagSize+protocol.CRCSize)
	assert.Equal(t, m["MAX_FRAGMENT_SIZE"], protocol.FragmentDataSize)
	assert.Equal(t, m["RECV_SIZE"], protocol.MTU+512)
	assert.LessOrEqual(t, m["RECV_SIZE"], protocol.RecvBufferSize)

	// derived sizes
	assert.Equal(t, protocol.MaxPayloadSize-2, protocol.MaxSingleMessage)
	assert.Equal(t, protocol.MaxPayloadSize-protocol.FragmentHeaderSize-2, protocol.MaxLastFragmentData)
	assert.Equal(t, 1412, protocol.ClientHelloBodySize)
	assert.Equal(t, 1438, protocol.HeaderSize+2+protocol.ClientHelloBodySize+protocol.CRCSize)
}

// checkPacket runs every packets.json check on one case.
func checkPacket(t *testing.T, c vectors.Packet) {
	require.Equal(t, "aes-128-gcm", c.Protection)
	require.Len(t, c.Datagram, c.Len)
	dir := vectorDirection(t, c.Direction)
	want := vectorHeader(t, c.Header)

	// header
	h := mustParseHeader(t, c.Datagram, dir)
	assert.Equal(t, want, h)
	assert.Equal(t, []byte(c.HeaderHex), []byte(c.Datagram[:protocol.HeaderSize]))
	assert.Equal(t, []byte(c.HeaderHex), h.AppendTo(nil))
	assert.Equal(t, []byte(c.AAD), h.AppendTo(nil))
	assert.Equal(t, []byte(c.IV), protocol.Nonce(c.Datagram))
	assert.Equal(t, protocol.PacketType(c.Header.Type).String(), c.Header.Name)

	// decrypt
	var key [crypto.KeySize]byte
	require.Len(t, c.Key, crypto.KeySize)
	copy(key[:], c.Key)
	aead, err := crypto.NewAEAD(key)
	require.NoError(t, err)
	gotH, plain, err := openDatagram(aead, c.Datagram, dir)
	require.NoError(t, err)
	assert.Equal(t, want, gotH)
	assertHex(t, c.Plaintext, plain)
	assert.Equal(t, int(h.Length), len(plain))
	assertHex(t, c.Ciphertext, c.Datagram[protocol.HeaderSize:protocol.HeaderSize+len(plain)])
	assert.Equal(t, []byte(c.Tag), []byte(c.Datagram[protocol.HeaderSize+len(plain):]))

	// messages
	ms, err := readAll(h.Type, h.Count, plain)
	require.NoError(t, err)
	wantMs := vectorMessages(c.Messages)
	require.Len(t, ms, len(wantMs))
	for i := range ms {
		assert.Equal(t, wantMs[i].Seq, ms[i].Seq, "message %d", i)
		assert.Equal(t, wantMs[i].Type, ms[i].Type, "message %d", i)
		assert.True(t, bytes.Equal(wantMs[i].Body, ms[i].Body), "message %d", i)
	}

	// re-encrypt from the header fields and the messages
	payload, err := protocol.AppendPayload(nil, wantMs)
	require.NoError(t, err)
	assertHex(t, c.Plaintext, payload)
	hb := protocol.Header{Direction: dir, CTime: c.Header.CTime, Seq: protocol.Seq(c.Header.Seq), Ack: protocol.Seq(c.Header.Ack),
		AckBits: uint32(c.Header.AckBits), Type: protocol.HeaderType(wantMs), Length: uint16(len(payload)), Count: uint8(len(wantMs))}
	d := hb.AppendTo(make([]byte, 0, protocol.HeaderSize+len(payload)+protocol.TagSize))
	d = aead.Seal(d, d[:protocol.HeaderSize], payload)
	assert.Equal(t, []byte(c.Datagram), d)
	// in place, as a sender does it
	buf := append(hb.AppendTo(make([]byte, 0, protocol.RecvBufferSize)), payload...)
	buf = buf[:protocol.HeaderSize+len(aead.Seal(buf[protocol.HeaderSize:protocol.HeaderSize], buf[:protocol.HeaderSize], buf[protocol.HeaderSize:]))]
	assert.Equal(t, []byte(c.Datagram), buf)

	// any single changed byte is rejected
	for i := range c.Datagram {
		for _, x := range flipMasks(len(c.Datagram)) {
			bad := append([]byte(nil), c.Datagram...)
			bad[i] ^= x
			_, _, err := openDatagram(aead, bad, dir)
			require.Error(t, err, "byte %d ^ %#x accepted", i, x)
		}
	}
	// and so is every truncation
	for n := range len(c.Datagram) {
		_, _, err := openDatagram(aead, c.Datagram[:n], dir)
		require.Error(t, err, "truncated to %d bytes", n)
	}
	// and the wrong direction
	other := protocol.ToServer
	if dir == protocol.ToServer {
		other = protocol.ToClient
	}
	_, _, err = openDatagram(aead, c.Datagram, other)
	assert.ErrorIs(t, err, protocol.ErrDirection)
}

func TestPacketVectors(t *testing.T) {
	p := vectors.MustLoad[vectors.Packets]("packets.json")
	require.Len(t, p.Cases, 9)
	for _, c := range p.Cases {
		t.Run(c.Name, func(t *testing.T) { checkPacket(t, c) })
	}
	require.Len(t, p.Fragmented.Packets, p.Fragmented.Count)
	for _, c := range p.Fragmented.Packets {
		t.Run(c.Name, func(t *testing.T) { checkPacket(t, c) })
	}
}

func TestFragmentedMessageVectors(t *testing.T) {
	p := vectors.MustLoad[vectors.Packets]("packets.json")
	f := p.Fragmented
	msg := vectors.Stream("fragment-payload-5000", f.Len)
	require.Equal(t, []byte(f.Message), msg)
	require.True(t, protocol.NeedsFragments(len(msg)))

	count, err := protocol.FragmentCount(len(msg))
	require.NoError(t, err)
	require.Equal(t, f.Count, count)
	require.Len(t, f.Sizes, count)
	require.Len(t, f.Packets, count)

	var bodies [][]byte
	for i := 1; i <= count; i++ {
		data := protocol.FragmentData(msg, i, count)
		assert.Len(t, data, f.Sizes[i-1], "fragment %d", i)
		pk := f.Packets[i-1]
		require.Len(t, pk.Messages, 1)
		m := pk.Messages[0]
		require.Equal(t, uint8(protocol.TypeAppFragment), m.Type)
		assert.Equal(t, protocol.Seq(f.Delivered).Add(i-1), protocol.Seq(m.Seq), "fragments take consecutive message seqs")

		body := protocol.AppendFragment(nil, protocol.FragmentHeader{ID: protocol.Seq(f.ID), Index: uint16(i), Count: uint16(count)}, data)
		assert.Equal(t, []byte(m.Payload), body, "fragment %d body", i)

		h, got, err := protocol.ParseFragment(m.Payload)
		require.NoError(t, err)
		assert.Equal(t, protocol.FragmentHeader{ID: protocol.Seq(f.ID), Index: uint16(i), Count: uint16(count)}, h)
		assert.Equal(t, data, got)
		bodies = append(bodies, m.Payload)
	}

	rng := rand.New(rand.NewPCG(5, 5))
	orders := [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, rng.Perm(5), rng.Perm(5)}
	for _, order := range orders {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			var r protocol.Reassembler
			for k, i := range order {
				seq := protocol.Seq(f.Packets[i].Messages[0].Seq)
				got, gotSeq, err := r.Add(t0, seq, bodies[i])
				require.NoError(t, err)
				if k < len(order)-1 {
					require.Nil(t, got)
					continue
				}
				require.Equal(t, msg, got)
				require.Equal(t, protocol.Seq(f.Delivered), gotSeq)
			}
			assert.Zero(t, r.Held())
			assert.Zero(t, r.Pending())
		})
	}
}

// sessionSide is one side's receive state while replaying session.json.
type sessionSide struct {
	pkts, msgs *protocol.Window
	reasm      protocol.Reassembler
}

func TestSessionVectors(t *testing.T) {
	s := vectors.MustLoad[vectors.Session]("session.json")
	require.Len(t, s.Steps, 18)
	var key [crypto.KeySize]byte
	copy(key[:], s.SessionKey)
	aead, err := crypto.NewAEAD(key)
	require.NoError(t, err)

	sides := map[string]*sessionSide{}
	for _, name := range []string{"client", "server"} {
		sides[name] = &sessionSide{pkts: protocol.NewWindow(32), msgs: protocol.NewWindow(256)}
	}
	now := t0
	for i, st := range s.Steps {
		t.Run(fmt.Sprintf("%02d_%s", st.Index, st.Note), func(t *testing.T) {
			require.Equal(t, i, st.Index)
			require.Len(t, st.Datagram, st.Len)
			dir := vectorDirection(t, st.Direction)
			want := vectorHeader(t, st.Header)

			// header parses and encodes byte for byte
			h := mustParseHeader(t, st.Datagram, dir)
			require.Equal(t, want, h)
			require.Equal(t, []byte(st.HeaderHex), h.AppendTo(nil))
			require.Equal(t, []byte(st.HeaderHex), []byte(st.Datagram[:protocol.HeaderSize]))

			var plain []byte
			switch st.Protection {
			case "crc32":
				require.True(t, h.Type.UsesCRC())
				end := protocol.HeaderSize + int(h.Length)
				require.Len(t, st.Datagram, end+protocol.CRCSize)
				require.NoError(t, crypto.CheckCRC(st.Datagram, end))
				require.Equal(t, []byte(st.CRC), []byte(st.Datagram[end:]))
				_, plain, err = checkCRCDatagram(st.Datagram, dir)
				require.NoError(t, err)
				// any single changed byte is rejected
				for j := range st.Datagram {
					for _, x := range flipMasks(len(st.Datagram)) {
						bad := append([]byte(nil), st.Datagram...)
						bad[j] ^= x
						_, _, err := checkCRCDatagram(bad, dir)
						require.Error(t, err, "byte %d ^ %#x accepted", j, x)
					}
				}
			case "aes-128-gcm":
				require.False(t, h.Type.UsesCRC())
				require.Equal(t, []byte(s.SessionKey), []byte(st.Key))
				require.Equal(t, []byte(st.IV), protocol.Nonce(st.Datagram))
				require.Equal(t, []byte(st.AAD), []byte(st.Datagram[:protocol.HeaderSize]))
				_, plain, err = openDatagram(aead, st.Datagram, dir)
				require.NoError(t, err)
				end := protocol.HeaderSize + int(h.Length)
				assertHex(t, st.Ciphertext, st.Datagram[protocol.HeaderSize:end])
				require.Equal(t, []byte(st.Tag), []byte(st.Datagram[end:]))
			default:
				t.Fatalf("protection %q", st.Protection)
			}
			assertHex(t, st.Plaintext, plain)
			ms, err := readAll(h.Type, h.Count, plain)
			require.NoError(t, err)
			wantMs := vectorMessages(st.Messages)
			require.Len(t, ms, len(wantMs))
			for j := range ms {
				require.Equal(t, wantMs[j].Seq, ms[j].Seq)
				require.Equal(t, wantMs[j].Type, ms[j].Type)
				require.True(t, bytes.Equal(wantMs[j].Body, ms[j].Body))
			}
			if len(ms) > 0 {
				require.Equal(t, ms[0].Type, h.Type, "the header type is the first message's")
			}

			// the sender's header carries its receive window
			sender := sides[st.Sender]
			require.Equal(t, sender.pkts.Current(), h.Ack, "sender's ack")
			require.Equal(t, sender.pkts.AckBits(), h.AckBits, "sender's ack_bits")

			// the receiver takes the packet in
			var recvName string
			if st.Sender == "client" {
				recvName = "server"
			} else {
				recvName = "client"
			}
			recv := sides[recvName]
			e := st.Effects
			require.True(t, e.Accepted)
			require.NotEqual(t, protocol.Duplicate, recv.pkts.Insert(h.Seq))
			assert.Equal(t, protocol.Seq(e.Bitfield.Ack), recv.pkts.Current(), "recv_bitfield_after.ack")
			assert.Equal(t, uint32(e.Bitfield.AckBits), recv.pkts.AckBits(), "recv_bitfield_after.ack_bits")
			for _, p := range e.Acked {
				assert.True(t, protocol.Acks(h.Ack, h.AckBits, protocol.Seq(p)), "packet %d acked", p)
			}

			// message dedupe and delivery
			require.Len(t, e.Dedupe, len(ms))
			var delivered []vectors.Message
			now = now.Add(10 * time.Millisecond)
			for j, m := range ms {
				require.Equal(t, uint16(m.Seq), e.Dedupe[j].Seq)
				v := recv.msgs.Insert(m.Seq)
				if v == protocol.Duplicate {
					assert.Equal(t, "duplicate", e.Dedupe[j].Result, "msg %d", m.Seq)
					continue
				}
				assert.Equal(t, "new", e.Dedupe[j].Result, "msg %d", m.Seq)
				switch m.Type {
				case protocol.TypeApp:
					delivered = append(delivered, vectors.Message{Seq: uint16(m.Seq), Payload: m.Body})
				case protocol.TypeAppFragment:
					full, seq, err := recv.reasm.Add(now, m.Seq, m.Body)
					require.NoError(t, err)
					if full != nil {
						delivered = append(delivered, vectors.Message{Seq: uint16(seq), Payload: full})
					}
				}
			}
			require.Len(t, delivered, len(e.Delivered))
			for j := range delivered {
				assert.Equal(t, e.Delivered[j].Seq, delivered[j].Seq)
				assert.True(t, bytes.Equal(e.Delivered[j].Payload, delivered[j].Payload), "delivery %d", j)
			}
		})
	}
}
