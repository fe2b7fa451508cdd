package mqtt

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// countWriter counts Write calls.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (w *countWriter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

// TestFramerStream writes every fixture of a version through a Framer and
// reads them back one byte at a time: each packet decodes to bytes equal to
// its fixture, every write is one Write, and the stream ends with io.EOF.
func TestFramerStream(t *testing.T) {
	for _, v := range []Version{V311, V5} {
		var w countWriter
		out := NewFramer(nil, &w, FramerConfig{})
		var want [][]byte
		for _, fx := range fixtures {
			if fx.v != v || fx.pkt.PacketType() == TypeConnect {
				continue
			}
			if err := out.WritePacket(fx.pkt); err != nil {
				t.Fatalf("%s: %v", fx.name, err)
			}
			want = append(want, fx.wire)
		}
		if w.writes != len(want) {
			t.Fatalf("%d writes for %d packets", w.writes, len(want))
		}
		in := NewFramer(iotest.OneByteReader(&w.Buffer), nil, FramerConfig{Version: v, ReadBufferSize: 5})
		d := new(Decoded)
		for i, wire := range want {
			typ, err := in.ReadInto(d)
			if err != nil {
				t.Fatalf("v%v packet %d: %v", v, i, err)
			}
			got, err := d.Packet(typ).AppendBinary(nil)
			if err != nil || !bytes.Equal(got, wire) {
				t.Fatalf("v%v packet %d: % x, %v; want % x", v, i, got, err, wire)
			}
		}
		if _, err := in.ReadInto(d); err != io.EOF {
			t.Fatalf("end of stream: %v; want io.EOF", err)
		}
	}
}

// TestFramerVersion checks reading or writing a CONNECT sets the version.
func TestFramerVersion(t *testing.T) {
	c5 := fixtureByName("connect/v5/props")
	pub5 := fixtureByName("publish/v5/qos1-3props")
	stream := append(append([]byte(nil), c5.wire...), pub5.wire...)
	fr := NewFramer(bytes.NewReader(stream), io.Discard, FramerConfig{})
	if fr.Version() != V311 {
		t.Fatalf("default version %v", fr.Version())
	}
	p, err := fr.ReadPacket()
	if err != nil || p.PacketType() != TypeConnect || fr.Version() != V5 {
		t.Fatalf("ReadPacket = %v, %v; version %v", p, err, fr.Version())
	}
	p, err = fr.ReadPacket()
	if err != nil || p.(*Publish).Props.ContentType == nil {
		t.Fatalf("v5 PUBLISH after CONNECT: %v, %v", p, err)
	}
	w := NewFramer(nil, io.Discard, FramerConfig{})
	if err := w.WritePacket(&Connect{Version: V5}); err != nil || w.Version() != V5 {
		t.Fatalf("WritePacket(CONNECT v5): %v, version %v", err, w.Version())
	}
}

func fixtureByName(name string) fixture {
	for _, fx := range fixtures {
		if fx.name == name {
			return fx
		}
	}
	panic(name)
}

// TestFramerLimits checks the maximum packet size, truncation and errors.
func TestFramerLimits(t *testing.T) {
	pub := fixtureByName("publish/v311/varint2").wire // 206 bytes
	fr := NewFramer(bytes.NewReader(pub), nil, FramerConfig{MaxPacketSize: 100})
	if _, _, err := fr.ReadRaw(); err != ErrPacketTooLarge {
		t.Fatalf("oversized packet: %v", err)
	}
	if len(fr.rbuf) > 100 {
		t.Fatalf("buffer grew to %d past the limit", len(fr.rbuf))
	}
	// The default limit refuses a 1 MiB remaining length before reading it.
	huge := []byte{0x30, 0x80, 0x80, 0x40}
	fr = NewFramer(bytes.NewReader(huge), nil, FramerConfig{})
	if _, _, err := fr.ReadRaw(); !errors.Is(err, ErrPacketTooLarge) || len(fr.rbuf) > DefaultMaxPacketSize {
		t.Fatalf("default limit: %v", err)
	}
	// A stream cut inside a packet.
	fr = NewFramer(bytes.NewReader(pub[:50]), nil, FramerConfig{})
	if _, _, err := fr.ReadRaw(); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated: %v; want io.ErrUnexpectedEOF", err)
	}
	// A reader error is returned after the packets before it.
	boom := errors.New("boom")
	fr = NewFramer(io.MultiReader(bytes.NewReader([]byte{0xc0, 0x00}), iotest.ErrReader(boom)), nil, FramerConfig{})
	if h, _, err := fr.ReadRaw(); err != nil || h.Type != TypePingreq {
		t.Fatalf("first packet: %v %v", h, err)
	}
	if _, _, err := fr.ReadRaw(); err != boom {
		t.Fatalf("reader error: %v", err)
	}
	// Malformed header.
	fr = NewFramer(bytes.NewReader([]byte{0x60, 0x02, 0, 1}), nil, FramerConfig{})
	if _, _, err := fr.ReadRaw(); err != errReservedFlags {
		t.Fatalf("bad flags: %v", err)
	}
	// Write limits.
	var w countWriter
	fw := NewFramer(nil, &w, FramerConfig{})
	fw.SetPeerMaxPacketSize(10)
	big := &Publish{Topic: []byte("t"), Payload: make([]byte, 20)}
	if err := fw.WritePublish(big); err != ErrPacketTooLarge {
		t.Fatalf("WritePublish over the peer's maximum: %v", err)
	}
	if err := fw.WritePacket(big); err != ErrPacketTooLarge {
		t.Fatalf("WritePacket over the peer's maximum: %v", err)
	}
	if err := fw.WriteRaw(make([]byte, 11)); err != ErrPacketTooLarge {
		t.Fatalf("WriteRaw over the peer's maximum: %v", err)
	}
	if err := fw.WritePublish(&Publish{QoS: 3, Topic: []byte("t")}); err != errEncQoS || w.writes != 0 {
		t.Fatalf("invalid publish: %v, %d writes", err, w.writes)
	}
	if err := NewFramer(nil, nil, FramerConfig{}).WritePublish(big); err != ErrNoWriter {
		t.Fatalf("no writer: %v", err)
	}
}

// TestFramerRole checks the direction-of-flow and first-packet rules.
func TestFramerRole(t *testing.T) {
	connect := fixtureByName("connect/v311/min").wire
	connect5 := fixtureByName("connect/v5/props").wire
	connack := fixtureByName("connack/v311/accepted").wire
	connack5 := fixtureByName("connack/v5/min").wire
	pub := fixtureByName("publish/v311/qos0").wire
	pubSubID := fixtureByName("publish/v5/request-response").wire
	cat := func(ps ...[]byte) []byte { return bytes.Join(ps, nil) }
	for _, c := range []struct {
		name   string
		role   Role
		v      Version
		stream []byte
		want   []error // per packet
	}{
		{"server/ok", RoleServer, 0, cat(connect, pub, []byte{0xc0, 0}, []byte{0xe0, 0}), []error{nil, nil, nil, nil}},
		{"server/first-not-connect", RoleServer, 0, cat(pub), []error{errFirstConnect}},
		{"server/second-connect", RoleServer, 0, cat(connect, connect), []error{nil, errSecondConnect}},
		{"server/connack", RoleServer, 0, cat(connect, connack), []error{nil, errDirection}},
		{"server/pingresp", RoleServer, 0, cat(connect, []byte{0xd0, 0}), []error{nil, errDirection}},
		{"server/client-sub-id", RoleServer, 0, cat(connect5, pubSubID), []error{nil, errClientSubID}},
		{"client/ok", RoleClient, 0, cat(connack, pub, []byte{0xd0, 0}), []error{nil, nil, nil}},
		{"client/first-not-connack", RoleClient, 0, cat(pub), []error{errFirstConnack}},
		{"client/connect", RoleClient, 0, cat(connack, connect), []error{nil, errDirection}},
		{"client/disconnect-v311", RoleClient, 0, cat(connack, []byte{0xe0, 0}), []error{nil, errDirection}},
		{"client/disconnect-v5", RoleClient, V5, cat([]byte{0xf0, 0}, connack5, []byte{0xe0, 0}, pubSubID), []error{nil, nil, nil, nil}},
		{"any/anything", RoleAny, 0, cat(pub, connack, connect), []error{nil, nil, nil}},
	} {
		fr := NewFramer(bytes.NewReader(c.stream), nil, FramerConfig{Role: c.role, Version: c.v})
		d := new(Decoded)
		for i, want := range c.want {
			if _, err := fr.ReadInto(d); err != want {
				t.Errorf("%s: packet %d: %v; want %v", c.name, i, err, want)
				break
			}
		}
	}
}
