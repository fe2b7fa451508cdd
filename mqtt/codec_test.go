package mqtt

import (
	"bytes"
	"errors"
	"testing"
)

// TestFixturesEncode checks value -> wire for every fixture, and that
// EncodedLen agrees and AppendBinary appends without touching dst's prefix.
func TestFixturesEncode(t *testing.T) {
	for _, fx := range fixtures {
		prefix := []byte{0xde, 0xad}
		got, err := fx.pkt.AppendBinary(prefix)
		if err != nil {
			t.Errorf("%s: AppendBinary: %v", fx.name, err)
			continue
		}
		if !bytes.Equal(got[:2], []byte{0xde, 0xad}) || !bytes.Equal(got[2:], fx.wire) {
			t.Errorf("%s: AppendBinary\n got % x\nwant % x", fx.name, got[2:], fx.wire)
		}
		if n := fx.pkt.EncodedLen(); n != len(fx.wire) {
			t.Errorf("%s: EncodedLen = %d; want %d", fx.name, n, len(fx.wire))
		}
	}
}

// TestFixturesDecode checks wire -> value: the packet decodes, consumes
// exactly its bytes, reports ErrIncomplete for every proper prefix, and
// re-encodes to the same bytes (the field-by-field comparison with go-cmp
// is in TestFixturesDecodeFields).
func TestFixturesDecode(t *testing.T) {
	for _, fx := range fixtures {
		p := newLike(fx.pkt, fx.v)
		withTail := append(append([]byte(nil), fx.wire...), 0xc0, 0x00)
		n, err := p.Decode(withTail)
		if err != nil || n != len(fx.wire) {
			t.Errorf("%s: Decode = %d, %v; want %d, nil", fx.name, n, err, len(fx.wire))
			continue
		}
		if p.PacketType() != fx.pkt.PacketType() {
			t.Errorf("%s: type %v; want %v", fx.name, p.PacketType(), fx.pkt.PacketType())
		}
		out, err := p.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, fx.wire) {
			t.Errorf("%s: re-encode = % x, %v", fx.name, out, err)
		}
		for i := 0; i < len(fx.wire); i++ {
			q := newLike(fx.pkt, fx.v)
			if _, err := q.Decode(fx.wire[:i]); err != ErrIncomplete {
				t.Errorf("%s: Decode of %d-byte prefix: %v; want ErrIncomplete", fx.name, i, err)
				break
			}
		}
		// The generic decoder agrees.
		d := new(Decoded) // 2-3 KB: not on a TinyGo goroutine's 4 KiB stack
		typ, n2, err := d.Decode(fx.wire, fx.v)
		if err != nil || n2 != len(fx.wire) || typ != fx.pkt.PacketType() {
			t.Errorf("%s: Decoded.Decode = %v, %d, %v", fx.name, typ, n2, err)
			continue
		}
		out2, err := d.Packet(typ).AppendBinary(nil)
		if err != nil || !bytes.Equal(out2, fx.wire) {
			t.Errorf("%s: Decoded re-encode = % x, %v", fx.name, out2, err)
		}
	}
}

// TestFixturesClone checks that Clone copies: scribbling over the decode
// buffer leaves the clone's encoding intact.
func TestFixturesClone(t *testing.T) {
	for _, fx := range fixtures {
		buf := append([]byte(nil), fx.wire...)
		p := newLike(fx.pkt, fx.v)
		if _, err := p.Decode(buf); err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		c := clonePacket(p)
		for i := range buf {
			buf[i] = 'Z'
		}
		out, err := c.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, fx.wire) {
			t.Errorf("%s: clone after overwrite = % x, %v", fx.name, out, err)
		}
	}
}

func clonePacket(p Packet) Packet {
	switch p := p.(type) {
	case *Connect:
		return p.Clone()
	case *Connack:
		return p.Clone()
	case *Publish:
		return p.Clone()
	case *Ack:
		return p.Clone()
	case *Subscribe:
		return p.Clone()
	case *Suback:
		return p.Clone()
	case *Unsubscribe:
		return p.Clone()
	case *Unsuback:
		return p.Clone()
	case *Ping:
		return p.Clone()
	case *Disconnect:
		return p.Clone()
	case *Auth:
		return p.Clone()
	}
	return nil
}

// TestWrongType checks each decoder refuses other packet types.
func TestWrongType(t *testing.T) {
	pub := []byte{0x30, 0x03, 0x00, 0x01, 't'}
	for _, p := range []Packet{&Connect{}, &Connack{}, &Ack{}, &Subscribe{}, &Suback{},
		&Unsubscribe{}, &Unsuback{}, &Ping{}, &Disconnect{}, &Auth{Version: V5}} {
		if _, err := p.Decode(pub); err != ErrWrongType {
			t.Errorf("%T.Decode(PUBLISH) = %v; want ErrWrongType", p, err)
		}
	}
	if _, err := (&Publish{}).Decode([]byte{0xc0, 0x00}); err != ErrWrongType {
		t.Errorf("Publish.Decode(PINGREQ) = %v", err)
	}
}

// TestHeader checks fixed header decoding, PacketLen and the varint limits.
func TestHeader(t *testing.T) {
	cases := []struct {
		in   []byte
		n    int
		rem  int
		want error
	}{
		{[]byte{0x30, 0x00}, 2, 0, nil},
		{[]byte{0x30, 0x7f}, 2, 127, nil},
		{[]byte{0x30, 0x80, 0x01}, 3, 128, nil},
		{[]byte{0x30, 0xff, 0x7f}, 3, 16383, nil},
		{[]byte{0x30, 0x80, 0x80, 0x01}, 4, 16384, nil},
		{[]byte{0x30, 0xff, 0xff, 0xff, 0x7f}, 5, MaxRemainingLength, nil},
		{[]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, 0, 0, errVarint}, // 5 bytes
		{[]byte{0x30, 0x80, 0x00}, 0, 0, errVarintMinimal},            // [MQTT-1.5.5-1]
		{[]byte{0x30, 0xff, 0x80, 0x00}, 0, 0, errVarintMinimal},      // non-minimal 3 bytes
		{[]byte{0x30, 0x80}, 0, 0, ErrIncomplete},                     // cut inside the varint
		{[]byte{}, 0, 0, ErrIncomplete},                               //
		{[]byte{0x00, 0x00}, 0, 0, errReservedType},                   // type 0
		{[]byte{0x60, 0x02}, 0, 0, errReservedFlags},                  // PUBREL must be 0010
		{[]byte{0x83, 0x02}, 0, 0, errReservedFlags},                  // SUBSCRIBE must be 0010
		{[]byte{0xa0, 0x02}, 0, 0, errReservedFlags},                  // UNSUBSCRIBE must be 0010
		{[]byte{0xc1, 0x00}, 0, 0, errReservedFlags},                  // PINGREQ 0000
		{[]byte{0x11, 0x00}, 0, 0, errReservedFlags},                  // CONNECT 0000
		{[]byte{0xf8, 0x00}, 0, 0, errReservedFlags},                  // AUTH 0000
		{[]byte{0x3f, 0x00}, 2, 0, nil},                               // PUBLISH flags are not checked here
	}
	for _, c := range cases {
		var h Header
		n, err := h.Decode(c.in)
		if err != c.want || n != c.n || (err == nil && h.Remaining != c.rem) {
			t.Errorf("Header.Decode(% x) = %d, %+v, %v; want %d, rem %d, %v", c.in, n, h, err, c.n, c.rem, c.want)
		}
		if err == nil {
			out, err := h.AppendBinary(nil)
			if err != nil || !bytes.Equal(out, c.in[:n]) {
				t.Errorf("Header.AppendBinary(%+v) = % x, %v", h, out, err)
			}
			if h.Len() != n+h.Remaining {
				t.Errorf("Header.Len = %d", h.Len())
			}
		}
	}
	if _, err := PacketLen([]byte{0x30, 0xff, 0xff, 0x03}, 0); err != ErrPacketTooLarge {
		t.Errorf("PacketLen over the default = %v; want ErrPacketTooLarge", err)
	}
	if n, err := PacketLen([]byte{0x30, 0x05}, 7); err != nil || n != 7 {
		t.Errorf("PacketLen = %d, %v; want 7", n, err)
	}
	if _, err := PacketLen([]byte{0x30, 0x06}, 7); !errors.Is(err, ErrPacketTooLarge) || ReasonOf(err) != PacketTooLarge {
		t.Errorf("PacketLen over max = %v", err)
	}
	if _, err := (Header{Type: TypePublish, Remaining: MaxRemainingLength + 1}).AppendBinary(nil); err == nil {
		t.Error("Header.AppendBinary accepted an oversized remaining length")
	}
}
