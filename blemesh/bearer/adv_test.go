package bearer_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/edgekit/edgekit/blemesh/bearer"
)

// Mesh Protocol 1.1 §8.3.1 Message #1 network PDU, as carried in a Mesh
// Message AD structure.
var msg1 = []byte{0x68, 0xec, 0xa4, 0x87, 0x51, 0x67, 0x65, 0xb5, 0xe5, 0xbf, 0xda, 0xcb, 0xaf, 0x6c, 0xb7, 0xfb,
	0x6b, 0xff, 0x87, 0x1f, 0x03, 0x54, 0x44, 0xce, 0x83, 0xa6, 0x70, 0xdf}

var fixtures = []struct {
	name string
	wire []byte
	adv  bearer.Adv
}{
	{"message", append([]byte{29, 0x2a}, msg1...), bearer.Adv{Type: bearer.TypeMessage, Payload: msg1}},
	{"beacon/unprovisioned", []byte{ /* len */ 20, 0x2b /* type */, 0x00,
		0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6, 0x91, 0x49, 0x48, 0x10, 0xd2, 0xe9, 0xcb, 0xf4 /* OOB */, 0xa0, 0x40},
		bearer.Adv{Type: bearer.TypeBeacon, Payload: []byte{0x00, 0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6, 0x91, 0x49, 0x48, 0x10, 0xd2, 0xe9, 0xcb, 0xf4, 0xa0, 0x40}}},
	{"pb-adv/link-ack", []byte{7, 0x29, 0x31, 0x6b, 0xfe, 0x6f, 0x00, 0x07}, bearer.Adv{Type: bearer.TypePBADV, Payload: []byte{0x31, 0x6b, 0xfe, 0x6f, 0x00, 0x07}}},
}

func TestAdvRoundTrip(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			out, err := fx.adv.AppendBinary(nil)
			if err != nil || !bytes.Equal(out, fx.wire) || fx.adv.EncodedLen() != len(fx.wire) {
				t.Fatalf("encode: %x %v", out, err)
			}
			var a bearer.Adv
			n, err := a.Decode(fx.wire)
			if err != nil || n != len(fx.wire) || a.Type != fx.adv.Type || !bytes.Equal(a.Payload, fx.adv.Payload) {
				t.Fatalf("decode: %d %v %+v", n, err, a)
			}
			c := a.Clone()
			fx.wire[len(fx.wire)-1] ^= 0xff
			if bytes.Equal(c.Payload, a.Payload) {
				t.Fatal("clone aliases the buffer")
			}
			fx.wire[len(fx.wire)-1] ^= 0xff
		})
	}
}

func TestAdvErrors(t *testing.T) {
	var a bearer.Adv
	for _, c := range []struct {
		wire []byte
		err  error
	}{
		{nil, bearer.ErrShort},
		{[]byte{5, 0x2a, 1}, bearer.ErrShort},
		{[]byte{1, 0x2a}, bearer.ErrEmpty},
		{[]byte{2, 0x01, 0x06}, bearer.ErrType},
		{append([]byte{31, 0x2a}, make([]byte, 30)...), bearer.ErrLong},
	} {
		if _, err := a.Decode(c.wire); !errors.Is(err, c.err) {
			t.Errorf("%x: %v, want %v", c.wire, err, c.err)
		}
	}
	for _, c := range []bearer.Adv{{Type: 0x01, Payload: []byte{1}}, {Type: 0x2a}, {Type: 0x2b, Payload: make([]byte, 30)}} {
		if _, err := c.AppendBinary(nil); err == nil {
			t.Errorf("encoded %+v", c)
		}
	}
}

// TestIter walks advertising data with Flags, a mesh message, a name and
// zero padding.
func TestIter(t *testing.T) {
	data := []byte{2, 0x01, 0x06, 4, 0x2a, 1, 2, 3, 3, 0x09, 'a', 'b', 3, 0x2b, 9, 9, 0, 0, 0}
	it := bearer.NewIter(data)
	var a bearer.Adv
	var got []byte
	for it.Next(&a) {
		got = append(got, a.Type, byte(len(a.Payload)))
	}
	if it.Err() != nil || !bytes.Equal(got, []byte{0x2a, 3, 0x2b, 2}) {
		t.Fatalf("got %x err %v", got, it.Err())
	}
	it = bearer.NewIter([]byte{4, 0x2a, 1, 2, 3, 9, 0x2b, 1})
	n := 0
	for it.Next(&a) {
		n++
	}
	if n != 1 || !errors.Is(it.Err(), bearer.ErrShort) {
		t.Fatalf("truncated: %d %v", n, it.Err())
	}
}

func TestIterNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	data := append([]byte{2, 0x01, 0x06, 29, 0x2a}, msg1...)
	var a bearer.Adv
	allocs := testing.AllocsPerRun(100, func() {
		it := bearer.NewIter(data)
		for it.Next(&a) {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}

func FuzzAdv(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.wire)
	}
	f.Add([]byte{2, 0x01, 0x06, 4, 0x2a, 1, 2, 3, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var a bearer.Adv
		n, err := a.Decode(b)
		if n < 0 || n > len(b) {
			t.Fatalf("n = %d of %d", n, len(b))
		}
		if err == nil {
			out, err := a.AppendBinary(nil)
			if err != nil || !bytes.Equal(out, b[:n]) {
				t.Fatalf("round trip %x -> %x (%v)", b[:n], out, err)
			}
		}
		// The iterator agrees with one-shot decoding of mesh structures.
		it := bearer.NewIter(b)
		for it.Next(&a) {
			if !bearer.IsMeshType(a.Type) || len(a.Payload) == 0 || len(a.Payload) > bearer.MaxPayloadLen {
				t.Fatalf("iterator yielded %+v", a)
			}
		}
	})
}
