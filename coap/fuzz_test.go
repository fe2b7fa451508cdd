package coap

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that Decode never panics, that what it accepts
// re-encodes to the same bytes (options are kept verbatim), and that a
// re-decode of the encoding equals the first decode.
func FuzzDecode(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.wire)
	}
	f.Add([]byte{0x40, 0x01, 0, 1, 0xff})
	f.Add([]byte{0x4f, 0x01, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		n, err := m.Decode(b)
		if err != nil {
			return
		}
		if n != len(b) {
			t.Fatalf("n = %d; want %d", n, len(b))
		}
		_, _ = m.CheckOptions()
		out, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if len(out) != m.EncodedLen() {
			t.Fatalf("EncodedLen %d != %d", m.EncodedLen(), len(out))
		}
		// Extended delta/length forms cannot be non-minimal (13 and 269 are
		// added), option values and the token are kept verbatim: accepted
		// input re-encodes byte for byte.
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in % x\nout % x", b, out)
		}
		var m2 Message
		if _, err := m2.Decode(out); err != nil {
			t.Fatalf("decode of re-encoding: %v", err)
		}
		if !m2.Equal(&m) {
			t.Fatalf("round trip differs")
		}
		c := m.Clone()
		if !c.Equal(&m) {
			t.Fatal("clone differs")
		}
	})
}
