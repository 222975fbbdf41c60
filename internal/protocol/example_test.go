package protocol_test

import (
	"fmt"

	"github.com/mpgs/mpgameserver/internal/protocol"
)

// Build a packet header, encode it and parse it back, as the receiving
// server does.
func ExampleHeader() {
	h := protocol.Header{
		Direction: protocol.ToServer,
		CTime:     1700000000,
		Seq:       3,
		Ack:       2,
		AckBits:   0x80000000, // packet 1 was received too
		Type:      protocol.TypeApp,
		Length:    15,
		Count:     1,
	}
	b := h.AppendTo(nil)
	fmt.Printf("%x\n", b)

	got, err := protocol.ParseHeaderFrom(b, protocol.ToServer)
	fmt.Println(err, got == h, got.Type, got.Seq, got.Ack)
	fmt.Println("acks 1:", protocol.Acks(got.Ack, got.AckBits, 1))

	_, err = protocol.ParseHeaderFrom(b, protocol.ToClient)
	fmt.Println(err)
	// Output:
	// 46534f536553f1000003000206000f0180000000
	// <nil> true APP 3 2
	// acks 1: true
	// protocol: datagram going the wrong direction
}

// Split a 5000-byte message into APP_FRAGMENT bodies and print their sizes.
func ExampleFragmentCount() {
	msg := make([]byte, 5000)
	fmt.Println("fragment?", protocol.NeedsFragments(len(msg)))
	count, err := protocol.FragmentCount(len(msg))
	if err != nil {
		panic(err)
	}
	var r protocol.Reassembler
	for i := 1; i <= count; i++ {
		data := protocol.FragmentData(msg, i, count)
		body := protocol.AppendFragment(nil, protocol.FragmentHeader{ID: 1, Index: uint16(i), Count: uint16(count)}, data)
		fmt.Printf("fragment %d/%d: %d data bytes, %d byte body\n", i, count, len(data), len(body))
		if whole, seq, _ := r.Add(t0, protocol.Seq(7+i), body); whole != nil {
			fmt.Printf("reassembled %d bytes, message seq %d\n", len(whole), seq)
		}
	}
	// Output:
	// fragment? true
	// fragment 1/5: 1024 data bytes, 1030 byte body
	// fragment 2/5: 1024 data bytes, 1030 byte body
	// fragment 3/5: 1024 data bytes, 1030 byte body
	// fragment 4/5: 1024 data bytes, 1030 byte body
	// fragment 5/5: 904 data bytes, 910 byte body
	// reassembled 5000 bytes, message seq 8
}
