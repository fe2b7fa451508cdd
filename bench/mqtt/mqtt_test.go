package mqttbench

import (
	"bytes"
	"testing"

	paho "github.com/eclipse/paho.golang/packets"
	pahov3 "github.com/eclipse/paho.mqtt.golang/packets"
	mochi "github.com/mochi-mqtt/server/v2/packets"

	"github.com/edgekit/edgekit/mqtt"
)

var (
	payload64 = bytes.Repeat([]byte("0123456789abcdef"), 4)
	topic     = "sensors/gw-17/room-4/temperature"
	filters   = []string{"sensors/+/room-4/#", "sensors/gw-17/+/temperature", "$share/grp/alerts/#", "cmd/gw-17/set", "status/+"}
)

// ---- edgekit values ----

func ekPublish(v mqtt.Version) *mqtt.Publish {
	p := &mqtt.Publish{Version: v, QoS: 1, ID: 4242, Topic: []byte(topic), Payload: payload64}
	if v == mqtt.V5 {
		p.Props.Set(mqtt.PropPayloadFormat, 1)
		p.Props.Set(mqtt.PropMessageExpiry, 3600)
		p.Props.SetBytes(mqtt.PropContentType, []byte("application/json"))
	}
	return p
}

func ekConnect() *mqtt.Connect {
	c := &mqtt.Connect{Version: mqtt.V5, CleanStart: true, KeepAlive: 30, ClientID: []byte("gateway-17-edge"),
		HasUsername: true, Username: []byte("gw17"), HasPassword: true, Password: []byte("s3cret")}
	c.Props.Set(mqtt.PropSessionExpiry, 3600)
	c.Props.Set(mqtt.PropReceiveMax, 64)
	c.Props.Set(mqtt.PropMaxPacketSize, 65536)
	c.Props.AddUser("site", "north")
	return c
}

func ekSubscribe(v mqtt.Version) *mqtt.Subscribe {
	s := &mqtt.Subscribe{Version: v, ID: 7}
	for i, f := range filters {
		s.Filters = append(s.Filters, mqtt.Subscription{Filter: []byte(f), QoS: uint8(i % 3)})
	}
	return s
}

// ---- mochi values ----

func mochiPublish(v byte) *mochi.Packet {
	pk := &mochi.Packet{ProtocolVersion: v, FixedHeader: mochi.FixedHeader{Type: mochi.Publish, Qos: 1},
		TopicName: topic, PacketID: 4242, Payload: payload64}
	if v == 5 {
		pk.Properties = mochi.Properties{PayloadFormat: 1, PayloadFormatFlag: true,
			MessageExpiryInterval: 3600, ContentType: "application/json"}
	}
	return pk
}

func mochiConnect() *mochi.Packet {
	return &mochi.Packet{ProtocolVersion: 5, FixedHeader: mochi.FixedHeader{Type: mochi.Connect},
		Connect: mochi.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30,
			ClientIdentifier: "gateway-17-edge", UsernameFlag: true, Username: []byte("gw17"),
			PasswordFlag: true, Password: []byte("s3cret")},
		Properties: mochi.Properties{SessionExpiryInterval: 3600, SessionExpiryIntervalFlag: true,
			ReceiveMaximum: 64, MaximumPacketSize: 65536, User: []mochi.UserProperty{{Key: "site", Val: "north"}}}}
}

func mochiSubscribe(v byte) *mochi.Packet {
	pk := &mochi.Packet{ProtocolVersion: v, FixedHeader: mochi.FixedHeader{Type: mochi.Subscribe, Qos: 1}, PacketID: 7}
	for i, f := range filters {
		pk.Filters = append(pk.Filters, mochi.Subscription{Filter: f, Qos: byte(i % 3)})
	}
	return pk
}

// ---- paho.golang (v5) values ----

func pahoPublish() *paho.Publish {
	pf, exp := byte(1), uint32(3600)
	return &paho.Publish{QoS: 1, PacketID: 4242, Topic: topic, Payload: payload64,
		Properties: &paho.Properties{PayloadFormat: &pf, MessageExpiry: &exp, ContentType: "application/json"}}
}

func pahoConnect() *paho.Connect {
	se, rm, mps := uint32(3600), uint16(64), uint32(65536)
	return &paho.Connect{ProtocolName: "MQTT", ProtocolVersion: 5, CleanStart: true, KeepAlive: 30,
		ClientID: "gateway-17-edge", UsernameFlag: true, Username: "gw17", PasswordFlag: true, Password: []byte("s3cret"),
		Properties: &paho.Properties{SessionExpiryInterval: &se, ReceiveMaximum: &rm, MaximumPacketSize: &mps,
			User: []paho.User{{Key: "site", Value: "north"}}}}
}

func pahoSubscribe() *paho.Subscribe {
	s := &paho.Subscribe{PacketID: 7, Properties: &paho.Properties{}}
	for i, f := range filters {
		s.Subscriptions = append(s.Subscriptions, paho.SubOptions{Topic: f, QoS: byte(i % 3)})
	}
	return s
}

// ---- paho.mqtt.golang (v3.1.1) values ----

func pahov3Publish() *pahov3.PublishPacket {
	p := pahov3.NewControlPacket(pahov3.Publish).(*pahov3.PublishPacket)
	p.Qos, p.MessageID, p.TopicName, p.Payload = 1, 4242, topic, payload64
	return p
}

func pahov3Subscribe() *pahov3.SubscribePacket {
	s := pahov3.NewControlPacket(pahov3.Subscribe).(*pahov3.SubscribePacket)
	s.MessageID = 7
	for i, f := range filters {
		s.Topics = append(s.Topics, f)
		s.Qoss = append(s.Qoss, byte(i%3))
	}
	return s
}

// wire returns edgekit's encoding of p.
func wire(tb testing.TB, p interface {
	AppendBinary([]byte) ([]byte, error)
}) []byte {
	b, err := p.AppendBinary(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mochiWire(tb testing.TB, pk *mochi.Packet) []byte {
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case mochi.Publish:
		err = pk.PublishEncode(&buf)
	case mochi.Connect:
		err = pk.ConnectEncode(&buf)
	case mochi.Subscribe:
		err = pk.SubscribeEncode(&buf)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func pahoWire(tb testing.TB, write func(*bytes.Buffer) error) []byte {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestSameWire checks every peer encodes the packet the benchmarks mean:
// each encoding decodes with the edgekit decoder to the same packet as
// edgekit's own (byte order of properties may differ).
func TestSameWire(t *testing.T) {
	pubEncode := func(tb testing.TB, p *mqtt.Publish) []byte { return wire(tb, p) }
	type variant struct {
		name string
		v    mqtt.Version
		want []byte
		got  []byte
	}
	vs := []variant{
		{"publish/v311/mochi", mqtt.V311, pubEncode(t, ekPublish(mqtt.V311)), mochiWire(t, mochiPublish(4))},
		{"publish/v311/pahov3", mqtt.V311, pubEncode(t, ekPublish(mqtt.V311)), pahoWire(t, func(b *bytes.Buffer) error { return pahov3Publish().Write(b) })},
		{"publish/v5/mochi", mqtt.V5, pubEncode(t, ekPublish(mqtt.V5)), mochiWire(t, mochiPublish(5))},
		{"publish/v5/paho", mqtt.V5, pubEncode(t, ekPublish(mqtt.V5)), pahoWire(t, func(b *bytes.Buffer) error { _, err := pahoPublish().WriteTo(b); return err })},
		{"connect/v5/mochi", mqtt.V5, wire(t, ekConnect()), mochiWire(t, mochiConnect())},
		{"connect/v5/paho", mqtt.V5, wire(t, ekConnect()), pahoWire(t, func(b *bytes.Buffer) error { _, err := pahoConnect().WriteTo(b); return err })},
		{"subscribe/v311/mochi", mqtt.V311, wire(t, ekSubscribe(mqtt.V311)), mochiWire(t, mochiSubscribe(4))},
		{"subscribe/v311/pahov3", mqtt.V311, wire(t, ekSubscribe(mqtt.V311)), pahoWire(t, func(b *bytes.Buffer) error { return pahov3Subscribe().Write(b) })},
		{"subscribe/v5/mochi", mqtt.V5, wire(t, ekSubscribe(mqtt.V5)), mochiWire(t, mochiSubscribe(5))},
		{"subscribe/v5/paho", mqtt.V5, wire(t, ekSubscribe(mqtt.V5)), pahoWire(t, func(b *bytes.Buffer) error { _, err := pahoSubscribe().WriteTo(b); return err })},
	}
	for _, v := range vs {
		if len(v.got) != len(v.want) {
			t.Errorf("%s: %d bytes; edgekit %d\n% x\n% x", v.name, len(v.got), len(v.want), v.got, v.want)
			continue
		}
		var a, b mqtt.Decoded
		ta, _, errA := a.Decode(v.want, v.v)
		tb, _, errB := b.Decode(v.got, v.v)
		if errA != nil || errB != nil || ta != tb {
			t.Errorf("%s: decode: %v %v", v.name, errA, errB)
			continue
		}
		// Re-encode both in canonical property order and compare.
		pa, pb := a.Packet(ta), b.Packet(tb)
		resetOrder(pa)
		resetOrder(pb)
		ea, _ := pa.AppendBinary(nil)
		eb, _ := pb.AppendBinary(nil)
		if !bytes.Equal(ea, eb) {
			t.Errorf("%s: packets differ:\n% x\n% x", v.name, ea, eb)
		}
	}
}

func resetOrder(p mqtt.Packet) {
	switch p := p.(type) {
	case *mqtt.Publish:
		p.Props.ResetOrder()
	case *mqtt.Connect:
		p.Props.ResetOrder()
	case *mqtt.Subscribe:
		p.Props.ResetOrder()
	}
}

// ---- benchmarks ----

func benchEncode(b *testing.B, size int, f func() error) {
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishEncode encodes a QoS 1 PUBLISH with a 64-byte payload.
func BenchmarkPublishEncode(b *testing.B) {
	for _, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		name := "v311"
		if v == mqtt.V5 {
			name = "v5"
		}
		ek := ekPublish(v)
		size := ek.EncodedLen()
		b.Run(name+"/impl=edgekit", func(b *testing.B) {
			buf := make([]byte, 0, 256)
			benchEncode(b, size, func() error { _, err := ek.AppendBinary(buf[:0]); return err })
		})
		b.Run(name+"/impl=mochi", func(b *testing.B) {
			pk := mochiPublish(byte(v))
			var buf bytes.Buffer
			benchEncode(b, size, func() error { buf.Reset(); return pk.PublishEncode(&buf) })
		})
		if v == mqtt.V5 {
			b.Run(name+"/impl=paho", func(b *testing.B) {
				p := pahoPublish()
				var buf bytes.Buffer
				benchEncode(b, size, func() error { buf.Reset(); _, err := p.WriteTo(&buf); return err })
			})
		} else {
			b.Run(name+"/impl=pahov3", func(b *testing.B) {
				p := pahov3Publish()
				var buf bytes.Buffer
				benchEncode(b, size, func() error { buf.Reset(); return p.Write(&buf) })
			})
		}
	}
}

// mochiDecode decodes a whole packet the way mochi's server does: fixed
// header byte, remaining length, then the body.
func mochiDecode(pk *mochi.Packet, r *bytes.Reader, w []byte, body func(*mochi.Packet, []byte) error) error {
	if err := pk.FixedHeader.Decode(w[0]); err != nil {
		return err
	}
	r.Reset(w[1:])
	n, used, err := mochi.DecodeLength(r)
	if err != nil {
		return err
	}
	pk.FixedHeader.Remaining = n
	return body(pk, w[1+used:])
}

// BenchmarkPublishDecode decodes the packets BenchmarkPublishEncode makes.
func BenchmarkPublishDecode(b *testing.B) {
	for _, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		name := "v311"
		if v == mqtt.V5 {
			name = "v5"
		}
		w := wire(b, ekPublish(v))
		b.Run(name+"/impl=edgekit", func(b *testing.B) {
			p := mqtt.Publish{Version: v}
			benchEncode(b, len(w), func() error { _, err := p.Decode(w); return err })
		})
		b.Run(name+"/impl=mochi", func(b *testing.B) {
			var r bytes.Reader
			benchEncode(b, len(w), func() error {
				pk := mochi.Packet{ProtocolVersion: byte(v)}
				return mochiDecode(&pk, &r, w, (*mochi.Packet).PublishDecode)
			})
		})
		if v == mqtt.V5 {
			b.Run(name+"/impl=paho", func(b *testing.B) {
				var r bytes.Reader
				benchEncode(b, len(w), func() error { r.Reset(w); _, err := paho.ReadPacket(&r); return err })
			})
		} else {
			b.Run(name+"/impl=pahov3", func(b *testing.B) {
				var r bytes.Reader
				benchEncode(b, len(w), func() error { r.Reset(w); _, err := pahov3.ReadPacket(&r); return err })
			})
		}
	}
}

// BenchmarkConnectV5 encodes and decodes a CONNECT v5 with session expiry,
// receive maximum, maximum packet size, a user property, user name and
// password.
func BenchmarkConnectV5(b *testing.B) {
	ek := ekConnect()
	w := wire(b, ek)
	b.Run("encode/impl=edgekit", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		benchEncode(b, len(w), func() error { _, err := ek.AppendBinary(buf[:0]); return err })
	})
	b.Run("encode/impl=mochi", func(b *testing.B) {
		pk := mochiConnect()
		var buf bytes.Buffer
		benchEncode(b, len(w), func() error { buf.Reset(); return pk.ConnectEncode(&buf) })
	})
	b.Run("encode/impl=paho", func(b *testing.B) {
		p := pahoConnect()
		var buf bytes.Buffer
		benchEncode(b, len(w), func() error { buf.Reset(); _, err := p.WriteTo(&buf); return err })
	})
	b.Run("decode/impl=edgekit", func(b *testing.B) {
		var c mqtt.Connect
		benchEncode(b, len(w), func() error { _, err := c.Decode(w); return err })
	})
	b.Run("decode/impl=mochi", func(b *testing.B) {
		var r bytes.Reader
		benchEncode(b, len(w), func() error {
			pk := mochi.Packet{ProtocolVersion: 5}
			return mochiDecode(&pk, &r, w, (*mochi.Packet).ConnectDecode)
		})
	})
	b.Run("decode/impl=paho", func(b *testing.B) {
		var r bytes.Reader
		benchEncode(b, len(w), func() error { r.Reset(w); _, err := paho.ReadPacket(&r); return err })
	})
}

// BenchmarkSubscribe5 encodes and decodes a SUBSCRIBE with five filters.
func BenchmarkSubscribe5(b *testing.B) {
	for _, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		name := "v311"
		if v == mqtt.V5 {
			name = "v5"
		}
		ek := ekSubscribe(v)
		w := wire(b, ek)
		b.Run(name+"/encode/impl=edgekit", func(b *testing.B) {
			buf := make([]byte, 0, 256)
			benchEncode(b, len(w), func() error { _, err := ek.AppendBinary(buf[:0]); return err })
		})
		b.Run(name+"/encode/impl=mochi", func(b *testing.B) {
			pk := mochiSubscribe(byte(v))
			var buf bytes.Buffer
			benchEncode(b, len(w), func() error { buf.Reset(); return pk.SubscribeEncode(&buf) })
		})
		if v == mqtt.V5 {
			b.Run(name+"/encode/impl=paho", func(b *testing.B) {
				p := pahoSubscribe()
				var buf bytes.Buffer
				benchEncode(b, len(w), func() error { buf.Reset(); _, err := p.WriteTo(&buf); return err })
			})
		} else {
			b.Run(name+"/encode/impl=pahov3", func(b *testing.B) {
				p := pahov3Subscribe()
				var buf bytes.Buffer
				benchEncode(b, len(w), func() error { buf.Reset(); return p.Write(&buf) })
			})
		}
		b.Run(name+"/decode/impl=edgekit", func(b *testing.B) {
			s := mqtt.Subscribe{Version: v}
			benchEncode(b, len(w), func() error { _, err := s.Decode(w); return err })
		})
		b.Run(name+"/decode/impl=mochi", func(b *testing.B) {
			var r bytes.Reader
			benchEncode(b, len(w), func() error {
				pk := mochi.Packet{ProtocolVersion: byte(v)}
				return mochiDecode(&pk, &r, w, (*mochi.Packet).SubscribeDecode)
			})
		})
		if v == mqtt.V5 {
			b.Run(name+"/decode/impl=paho", func(b *testing.B) {
				var r bytes.Reader
				benchEncode(b, len(w), func() error { r.Reset(w); _, err := paho.ReadPacket(&r); return err })
			})
		} else {
			b.Run(name+"/decode/impl=pahov3", func(b *testing.B) {
				var r bytes.Reader
				benchEncode(b, len(w), func() error { r.Reset(w); _, err := pahov3.ReadPacket(&r); return err })
			})
		}
	}
}
