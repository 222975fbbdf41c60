package serial_test

import (
	"fmt"

	"github.com/mpgs/mpgameserver/internal/serial"
)

// Encode an integer and a byte string the way the reference does, then read
// them back.
func Example() {
	var b []byte
	b = serial.AppendInt(b, 128) // |128| > 127, so an int16
	b = serial.AppendBytes(b, []byte("abc"))
	fmt.Printf("%x\n", b)

	r := serial.NewReader(b)
	n := r.Int()
	s := r.Bytes()
	if err := r.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n, string(s))
	// Output:
	// 00040080000e000303616263
	// 128 abc
}

// The integer width follows the absolute value, so -128 needs an int16.
func ExampleAppendInt() {
	for _, v := range []int64{1, 127, -128, 0x5A17C0DE, -2147483648} {
		fmt.Printf("%d: %x\n", v, serial.AppendInt(nil, v))
	}
	// Output:
	// 1: 000301
	// 127: 00037f
	// -128: 0004ff80
	// 1511506142: 00055a17c0de
	// -2147483648: 0006ffffffff80000000
}
