//go:build linux

package mmsg

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// cmsg encodes one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func TestDropCount(t *testing.T) {
	ovfl := cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(1234))
	other := cmsg(unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 12))
	for _, tc := range []struct {
		name string
		b    []byte
		want uint32
		ok   bool
	}{
		{"alone", ovfl, 1234, true},
		{"after another message", append(append([]byte(nil), other...), ovfl...), 1234, true},
		{"none", other, 0, false},
		{"empty", nil, 0, false},
		{"truncated", ovfl[:unix.CmsgLen(2)], 0, false},
		{"header only", ovfl[:unix.SizeofCmsghdr], 0, false},
		{"length past the end", cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(1))[:unix.CmsgLen(4)-1], 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DropCount(tc.b)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzDropCount: any control data, however malformed, gives a value or
// false, never a panic.
func FuzzDropCount(f *testing.F) {
	f.Add(cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(7)))
	f.Add(append(cmsg(unix.SOL_IP, unix.IP_PKTINFO, make([]byte, 12)), cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(9))...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= unix.SizeofCmsghdr {
			// The kernel's buffers are aligned; so are ours.
			a := make([]uint64, (len(b)+7)/8)
			ab := unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), len(b))
			copy(ab, b)
			b = ab
		}
		DropCount(b)
		if d := Cmsg(b, unix.IPPROTO_IP, unix.IP_PKTINFO); len(d) > 0 {
			_ = d[len(d)-1] // within b
		}
	})
}

// TestCmsgFindsEitherMessage: the kernel puts SO_RXQ_OVFL before
// IP_PKTINFO; each is found wherever it is.
func TestCmsgFindsEitherMessage(t *testing.T) {
	info := make([]byte, unix.SizeofInet4Pktinfo)
	info[8] = 127 // Addr, after Ifindex and Spec_dst
	b := append(cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(5)), cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, info)...)
	assert.Equal(t, info, Cmsg(b, unix.IPPROTO_IP, unix.IP_PKTINFO))
	assert.Equal(t, u32(5), Cmsg(b, unix.SOL_SOCKET, unix.SO_RXQ_OVFL))
	assert.Nil(t, Cmsg(b, unix.SOL_SOCKET, unix.SO_TIMESTAMP))
	assert.Equal(t, info, Cmsg(b[:len(b)-4], unix.IPPROTO_IP, unix.IP_PKTINFO), "the last one's padding may be missing")
	assert.Nil(t, Cmsg(b[:len(b)-5], unix.IPPROTO_IP, unix.IP_PKTINFO), "cut short")
}

func TestDropsTotalsAcrossTheWrap(t *testing.T) {
	var d Drops
	d.See(cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, make([]byte, 12))) // no count: nothing changes
	assert.Zero(t, d.Total)
	d.See(cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(1<<32-6)))
	d.See(cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(1<<32-6))) // the same count again
	assert.Equal(t, uint64(1<<32-6), d.Total)
	d.See(cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(5))) // wrapped: 11 more
	assert.Equal(t, uint64(1<<32+5), d.Total)
}
