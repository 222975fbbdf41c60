package serial_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/internal/serial"
	"github.com/mpgs/mpgameserver/internal/vectors"
)

// serializableVectors is serializable.json.
type serializableVectors struct {
	BaseTypeIDs      map[string]uint16 `json:"base_type_ids"`
	HandshakeTypeIDs map[string]uint16 `json:"handshake_type_ids"`
	Ints             []struct {
		Value   int64       `json:"value"`
		TypeID  uint16      `json:"type_id"`
		Encoded vectors.Hex `json:"encoded_hex"`
	} `json:"ints"`
	IntErrors []struct {
		Value json.Number `json:"value"`
		Error string      `json:"error"`
	} `json:"int_errors"`
	Bytes []struct {
		Name          string      `json:"name"`
		Value         vectors.Hex `json:"value_hex"`
		Length        int         `json:"length"`
		Encoded       vectors.Hex `json:"encoded_hex"`
		SHA256        vectors.Hex `json:"value_sha256"`
		EncodedLen    int         `json:"encoded_len"`
		EncodedPrefix vectors.Hex `json:"encoded_prefix_hex"`
	} `json:"bytes"`
	Strings []struct {
		Value   string      `json:"value"`
		UTF8Len int         `json:"utf8_len"`
		Encoded vectors.Hex `json:"encoded_hex"`
	} `json:"strings"`
	Others []struct {
		Value   any         `json:"value"`
		Encoded vectors.Hex `json:"encoded_hex"`
	} `json:"others"`
	Messages map[string]struct {
		Encoded vectors.Hex     `json:"encoded_hex"`
		Len     int             `json:"len"`
		Fields  json.RawMessage `json:"fields"`
	} `json:"messages"`
}

func loadSerializable(t testing.TB) serializableVectors {
	t.Helper()
	var v serializableVectors
	require.NoError(t, vectors.Load("serializable.json", &v))
	return v
}

// blob40000 is the 40000-byte value of serializable.json.
func blob40000() []byte { return vectors.Stream("b40000", 40000) }

func TestTypeIDsMatchReference(t *testing.T) {
	v := loadSerializable(t)
	want := map[string]serial.TypeID{
		"bool": serial.Bool, "int8": serial.Int8, "int16": serial.Int16, "int32": serial.Int32,
		"int64": serial.Int64, "uint8": serial.Uint8, "uint16": serial.Uint16, "uint32": serial.Uint32,
		"uint64_or_float32": serial.Float32, "float64": serial.Float64, "string": serial.String,
		"bytes": serial.Bytes, "null": serial.Null,
	}
	for name, id := range want {
		require.Contains(t, v.BaseTypeIDs, name)
		assert.Equal(t, v.BaseTypeIDs[name], uint16(id), name)
	}
	for name, id := range v.HandshakeTypeIDs {
		assert.GreaterOrEqual(t, id, uint16(serial.ObjectBase), name)
	}
}

func TestIntVectors(t *testing.T) {
	v := loadSerializable(t)
	require.NotEmpty(t, v.Ints)
	for _, c := range v.Ints {
		t.Run(strconv.FormatInt(c.Value, 10), func(t *testing.T) {
			assert.Equal(t, serial.TypeID(c.TypeID), serial.IntType(c.Value))
			assert.Equal(t, len(c.Encoded), serial.IntSize(c.Value))
			assert.Equal(t, []byte(c.Encoded), serial.AppendInt(nil, c.Value))
			// appending keeps what is already there
			assert.Equal(t, append([]byte{0xAA}, c.Encoded...), serial.AppendInt([]byte{0xAA}, c.Value))

			r := serial.NewReader(c.Encoded)
			assert.Equal(t, c.Value, r.Int())
			require.NoError(t, r.Err())
			assert.Empty(t, r.Remaining())
			assert.Equal(t, len(c.Encoded), r.Offset())
		})
	}
}

func TestIntErrorsDoNotFitInt64(t *testing.T) {
	v := loadSerializable(t)
	require.Len(t, v.IntErrors, 2)
	for _, c := range v.IntErrors {
		// The reference refuses these values; a Go int64 cannot even hold
		// them, so AppendInt has no way to be asked.
		_, err := strconv.ParseInt(c.Value.String(), 10, 64)
		require.Error(t, err, c.Value)
		assert.ErrorIs(t, err, strconv.ErrRange, c.Value)
	}
}

func TestIntWidthBoundaries(t *testing.T) {
	cases := []struct {
		v    int64
		typ  serial.TypeID
		size int
	}{
		{0, serial.Int8, 3},
		{math.MaxInt8, serial.Int8, 3},
		{-math.MaxInt8, serial.Int8, 3},
		{math.MinInt8, serial.Int16, 4}, // |-128| = 128 > 127
		{math.MaxInt8 + 1, serial.Int16, 4},
		{math.MaxInt16, serial.Int16, 4},
		{-math.MaxInt16, serial.Int16, 4},
		{math.MinInt16, serial.Int32, 6},
		{math.MaxInt16 + 1, serial.Int32, 6},
		{math.MaxInt32, serial.Int32, 6},
		{-math.MaxInt32, serial.Int32, 6},
		{math.MinInt32, serial.Int64, 10},
		{math.MaxInt32 + 1, serial.Int64, 10},
		{math.MaxInt64, serial.Int64, 10},
		{math.MinInt64, serial.Int64, 10},
	}
	for _, c := range cases {
		t.Run(strconv.FormatInt(c.v, 10), func(t *testing.T) {
			assert.Equal(t, c.typ, serial.IntType(c.v))
			assert.Equal(t, c.size, serial.IntSize(c.v))
			enc := serial.AppendInt(nil, c.v)
			assert.Len(t, enc, c.size)
			assert.Equal(t, uint16(c.typ), binary.BigEndian.Uint16(enc))
			r := serial.NewReader(enc)
			assert.Equal(t, c.v, r.Int())
			assert.NoError(t, r.Err())
		})
	}
}

func TestIntAnyWidthAccepted(t *testing.T) {
	cases := []struct {
		name string
		enc  []byte
		want int64
	}{
		{"int8", []byte{0, 3, 0x80}, -128},
		{"int16 small", []byte{0, 4, 0, 5}, 5},
		{"int32 small", []byte{0, 5, 0, 0, 0, 5}, 5},
		{"int64 small", []byte{0, 6, 0, 0, 0, 0, 0, 0, 0, 5}, 5},
		{"int64 negative", []byte{0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, -2},
		{"uint8", []byte{0, 8, 0xff}, 255},
		{"uint16", []byte{0, 9, 0xff, 0xff}, 65535},
		{"uint32", []byte{0, 10, 0xff, 0xff, 0xff, 0xff}, 4294967295},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := serial.NewReader(c.enc)
			assert.Equal(t, c.want, r.Int())
			require.NoError(t, r.Err())
			assert.Empty(t, r.Remaining())
			// every prefix is truncated
			for n := range len(c.enc) {
				r := serial.NewReader(c.enc[:n])
				assert.Zero(t, r.Int())
				assert.ErrorIs(t, r.Err(), serial.ErrTruncated, "prefix %d", n)
			}
		})
	}
}

func TestIntRejectsNonIntegerTypes(t *testing.T) {
	for _, id := range []serial.TypeID{0, 2, 7, serial.Float32, serial.Float64, serial.String, serial.Bytes,
		serial.Null, serial.Bool, 16, 17, 18, serial.ObjectBase, 0xffff} {
		r := serial.NewReader(binary.BigEndian.AppendUint16(nil, uint16(id)))
		assert.Zero(t, r.Int())
		assert.ErrorIs(t, r.Err(), serial.ErrType, "type %d", id)
	}
}

func TestBytesVectors(t *testing.T) {
	v := loadSerializable(t)
	require.NotEmpty(t, v.Bytes)
	sawBlob := false
	for _, c := range v.Bytes {
		t.Run(c.Name, func(t *testing.T) {
			value, encoded := []byte(c.Value), []byte(c.Encoded)
			if c.Name == "40000_bytes" {
				sawBlob = true
				value = blob40000()
				sum := sha256.Sum256(value)
				require.Equal(t, []byte(c.SHA256), sum[:])
				encoded = append(append([]byte(nil), c.EncodedPrefix...), value...)
				require.Len(t, encoded, c.EncodedLen)
			}
			require.Len(t, value, c.Length)
			assert.Equal(t, encoded, serial.AppendBytes(nil, value))
			assert.Equal(t, len(encoded), serial.BytesSize(len(value)))

			r := serial.NewReader(encoded)
			got := r.Bytes()
			require.NoError(t, r.Err())
			assert.Equal(t, value, got)
			assert.Empty(t, r.Remaining())
			assert.NotNil(t, got, "an empty byte string decodes as empty, not nil")
		})
	}
	assert.True(t, sawBlob, "the 40000-byte blob is covered")
}

func TestBytesAliasesInput(t *testing.T) {
	enc := serial.AppendBytes(nil, []byte("abc"))
	enc = append(enc, 0xEE)
	r := serial.NewReader(enc)
	b := r.Bytes()
	require.NoError(t, r.Err())
	require.Equal(t, []byte("abc"), b)
	assert.Equal(t, 3, cap(b), "result is capped so appending to it cannot clobber the input")
	enc[len(enc)-2] = 'z'
	assert.Equal(t, []byte("abz"), b)
}

func TestStringVectors(t *testing.T) {
	v := loadSerializable(t)
	require.NotEmpty(t, v.Strings)
	for _, c := range v.Strings {
		t.Run(strconv.Quote(c.Value), func(t *testing.T) {
			require.Len(t, c.Value, c.UTF8Len)
			assert.Equal(t, []byte(c.Encoded), serial.AppendString(nil, c.Value))
			r := serial.NewReader(c.Encoded)
			assert.Equal(t, c.Value, r.String())
			require.NoError(t, r.Err())
			assert.Empty(t, r.Remaining())
		})
	}
}

func TestOtherVectors(t *testing.T) {
	v := loadSerializable(t)
	require.Len(t, v.Others, 3)
	for _, c := range v.Others {
		switch val := c.Value.(type) {
		case bool:
			assert.Equal(t, []byte(c.Encoded), serial.AppendBool(nil, val))
			r := serial.NewReader(c.Encoded)
			assert.Equal(t, val, r.Bool())
			require.NoError(t, r.Err())
			assert.Empty(t, r.Remaining())
		case nil:
			assert.Equal(t, []byte(c.Encoded), serial.AppendNull(nil))
			r := serial.NewReader(c.Encoded)
			r.Null()
			require.NoError(t, r.Err())
			assert.Empty(t, r.Remaining())
		default:
			t.Fatalf("unexpected value %#v", c.Value)
		}
	}
}

// TestMessageVectors decodes the handshake bodies with the bare Reader, as
// the protocol package does. (internal/protocol tests the typed codecs.)
func TestMessageVectors(t *testing.T) {
	v := loadSerializable(t)
	for _, name := range []string{"client_hello", "server_hello", "challenge_resp", "challenge_resp_small_token"} {
		require.Contains(t, v.Messages, name)
		require.Len(t, v.Messages[name].Encoded, v.Messages[name].Len, name)
	}
	ids := v.HandshakeTypeIDs

	t.Run("client_hello", func(t *testing.T) {
		m := v.Messages["client_hello"]
		keys := vectors.MustLoad[vectors.Keys]("keys.json")
		r := serial.NewReader(m.Encoded)
		r.Expect(serial.TypeID(ids["HandshakeClientHelloMessage"]))
		key := r.Bytes()
		ver := r.Int()
		require.NoError(t, r.Err())
		assert.Equal(t, []byte(keys.ClientEphemeral.SPKI), key)
		assert.EqualValues(t, 1, ver)
		assert.Len(t, r.Remaining(), 1311, "padding")
		// rebuild
		b := serial.AppendTypeID(nil, serial.TypeID(ids["HandshakeClientHelloMessage"]))
		b = serial.AppendBytes(b, key)
		b = serial.AppendInt(b, ver)
		b = append(b, r.Remaining()...)
		assert.Equal(t, []byte(m.Encoded), b)
	})
	t.Run("server_hello", func(t *testing.T) {
		m := v.Messages["server_hello"]
		r := serial.NewReader(m.Encoded)
		r.Expect(serial.TypeID(ids["HandshakeServerHelloMessage"]))
		root, signed, sig := r.Bytes(), r.Bytes(), r.Bytes()
		require.NoError(t, r.Err())
		assert.Empty(t, r.Remaining())
		keys := vectors.MustLoad[vectors.Keys]("keys.json")
		assert.Equal(t, []byte(keys.ServerRoot.SPKI), root)
		assert.Len(t, signed, 123)
		b := serial.AppendTypeID(nil, serial.TypeID(ids["HandshakeServerHelloMessage"]))
		b = serial.AppendBytes(b, root)
		b = serial.AppendBytes(b, signed)
		b = serial.AppendBytes(b, sig)
		assert.Equal(t, []byte(m.Encoded), b)
		// the signed blob: Sbytes(key) Sbytes(salt) Sint(token)
		sr := serial.NewReader(signed)
		assert.Equal(t, []byte(keys.ServerEphemeral.SPKI), sr.Bytes())
		assert.Len(t, sr.Bytes(), 16)
		assert.EqualValues(t, 0x5a17c0de, sr.Int())
		require.NoError(t, sr.Err())
		assert.Empty(t, sr.Remaining())
	})
	for _, c := range []struct {
		name  string
		token int64
	}{{"challenge_resp", 1511506142}, {"challenge_resp_small_token", 5}} {
		t.Run(c.name, func(t *testing.T) {
			m := v.Messages[c.name]
			var fields struct {
				Token int64 `json:"token"`
			}
			require.NoError(t, json.Unmarshal(m.Fields, &fields))
			require.Equal(t, c.token, fields.Token)
			r := serial.NewReader(m.Encoded)
			r.Expect(serial.TypeID(ids["HandshakeClientChallengeResponseMessage"]))
			assert.EqualValues(t, 1, r.Int(), "field count")
			assert.Equal(t, c.token, r.Int())
			require.NoError(t, r.Err())
			assert.Empty(t, r.Remaining())
			b := serial.AppendTypeID(nil, serial.TypeID(ids["HandshakeClientChallengeResponseMessage"]))
			b = serial.AppendInt(b, 1)
			b = serial.AppendInt(b, c.token)
			assert.Equal(t, []byte(m.Encoded), b)
		})
	}
}

// value is one encoded value and a function that decodes it with a Reader,
// reporting the error.
type value struct {
	name string
	enc  []byte
	read func(r *serial.Reader) any
	want any
}

func allValues(t testing.TB) []value {
	v := loadSerializable(t)
	var out []value
	for _, c := range v.Ints {
		out = append(out, value{"int " + strconv.FormatInt(c.Value, 10), c.Encoded,
			func(r *serial.Reader) any { return r.Int() }, c.Value})
	}
	for _, c := range v.Bytes {
		val, enc := []byte(c.Value), []byte(c.Encoded)
		if c.Name == "40000_bytes" {
			val = blob40000()
			enc = serial.AppendBytes(nil, val)
		}
		out = append(out, value{"bytes " + c.Name, enc, func(r *serial.Reader) any { return r.Bytes() }, val})
	}
	for _, c := range v.Strings {
		out = append(out, value{"string " + strconv.Quote(c.Value), c.Encoded,
			func(r *serial.Reader) any { return r.String() }, c.Value})
	}
	out = append(out,
		value{"true", serial.AppendBool(nil, true), func(r *serial.Reader) any { return r.Bool() }, true},
		value{"false", serial.AppendBool(nil, false), func(r *serial.Reader) any { return r.Bool() }, false},
		value{"null", serial.AppendNull(nil), func(r *serial.Reader) any { r.Null(); return nil }, nil},
	)
	return out
}

func TestEveryPrefixFails(t *testing.T) {
	for _, c := range allValues(t) {
		t.Run(c.name, func(t *testing.T) {
			r := serial.NewReader(c.enc)
			got := c.read(r)
			require.NoError(t, r.Err())
			require.Equal(t, c.want, got)
			require.Empty(t, r.Remaining())
			for n := range len(c.enc) {
				var r serial.Reader
				r.Reset(c.enc[:n])
				c.read(&r)
				if !assert.ErrorIs(t, r.Err(), serial.ErrTruncated, "prefix of %d of %d bytes", n, len(c.enc)) {
					return
				}
			}
		})
	}
}

func TestSequenceRoundTrip(t *testing.T) {
	var b []byte
	b = serial.AppendTypeID(b, 200)
	b = serial.AppendInt(b, -40000)
	b = serial.AppendBytes(b, []byte{1, 2, 3})
	b = serial.AppendString(b, "héllo")
	b = serial.AppendBool(b, true)
	b = serial.AppendNull(b)
	b = serial.AppendInt(b, math.MinInt64)
	b = append(b, 0xde, 0xad)

	r := serial.NewReader(b)
	r.Expect(200)
	assert.EqualValues(t, -40000, r.Int())
	assert.Equal(t, []byte{1, 2, 3}, r.Bytes())
	assert.Equal(t, "héllo", r.String())
	assert.True(t, r.Bool())
	r.Null()
	assert.Equal(t, int64(math.MinInt64), r.Int())
	require.NoError(t, r.Err())
	assert.Equal(t, []byte{0xde, 0xad}, r.Remaining())
	assert.Equal(t, len(b)-2, r.Offset())
}

func TestReaderErrors(t *testing.T) {
	cases := []struct {
		name string
		enc  []byte
		read func(r *serial.Reader)
		err  error
	}{
		{"expect mismatch", []byte{0, 131}, func(r *serial.Reader) { r.Expect(130) }, serial.ErrType},
		{"bytes as string", serial.AppendBytes(nil, []byte("x")), func(r *serial.Reader) { _ = r.String() }, serial.ErrType},
		{"string as bytes", serial.AppendString(nil, "x"), func(r *serial.Reader) { r.Bytes() }, serial.ErrType},
		{"int as bool", serial.AppendInt(nil, 1), func(r *serial.Reader) { r.Bool() }, serial.ErrType},
		{"bool as null", serial.AppendBool(nil, false), func(r *serial.Reader) { r.Null() }, serial.ErrType},
		{"bool as int", serial.AppendBool(nil, false), func(r *serial.Reader) { r.Int() }, serial.ErrType},
		{"bool byte 2", []byte{0, 1, 2}, func(r *serial.Reader) { r.Bool() }, serial.ErrBadBoolean},
		{"bool byte ff", []byte{0, 1, 0xff}, func(r *serial.Reader) { r.Bool() }, serial.ErrBadBoolean},
		{"negative length", []byte{0, 14, 0, 3, 0xff}, func(r *serial.Reader) { r.Bytes() }, serial.ErrRange},
		{"negative string length", []byte{0, 13, 0, 6, 0x80, 0, 0, 0, 0, 0, 0, 0}, func(r *serial.Reader) { _ = r.String() }, serial.ErrRange},
		{"length beyond input", []byte{0, 14, 0, 3, 4, 1, 2, 3}, func(r *serial.Reader) { r.Bytes() }, serial.ErrTruncated},
		{"huge length", []byte{0, 14, 0, 6, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, func(r *serial.Reader) { r.Bytes() }, serial.ErrTruncated},
		{"huge uint32 length", []byte{0, 14, 0, 10, 0xff, 0xff, 0xff, 0xff}, func(r *serial.Reader) { r.Bytes() }, serial.ErrTruncated},
		{"length not an int", []byte{0, 14, 0, 1, 1, 0}, func(r *serial.Reader) { r.Bytes() }, serial.ErrType},
		{"invalid utf8", []byte{0, 13, 0, 3, 2, 0xc3, 0x28}, func(r *serial.Reader) { _ = r.String() }, serial.ErrBadUTF8},
		{"empty", nil, func(r *serial.Reader) { r.TypeID() }, serial.ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := serial.NewReader(c.enc)
			c.read(r)
			assert.ErrorIs(t, r.Err(), c.err)
		})
	}
}

func TestReaderErrorSticks(t *testing.T) {
	b := serial.AppendBool(nil, true)
	b = serial.AppendInt(b, 7)
	b = serial.AppendBytes(b, []byte("abc"))
	r := serial.NewReader(b)
	r.Expect(serial.Int8) // wrong: a bool comes first
	first := r.Err()
	require.ErrorIs(t, first, serial.ErrType)
	off := r.Offset()
	// every later call returns zero values and keeps the first error
	assert.Zero(t, r.Int())
	assert.Nil(t, r.Bytes())
	assert.Empty(t, r.String())
	assert.False(t, r.Bool())
	assert.Zero(t, r.TypeID())
	r.Null()
	assert.Same(t, first, r.Err())
	assert.Equal(t, off, r.Offset())

	r.Reset(b)
	assert.NoError(t, r.Err())
	assert.Zero(t, r.Offset())
	assert.True(t, r.Bool())
	assert.EqualValues(t, 7, r.Int())
	assert.Equal(t, []byte("abc"), r.Bytes())
	assert.NoError(t, r.Err())
}

func TestErrorsAreDistinct(t *testing.T) {
	errs := []error{serial.ErrTruncated, serial.ErrType, serial.ErrRange, serial.ErrBadUTF8, serial.ErrBadBoolean}
	for i, a := range errs {
		for j, b := range errs {
			assert.Equal(t, i == j, errors.Is(a, b))
		}
	}
}
