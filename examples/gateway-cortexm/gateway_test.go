//go:build !tinygo

package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/transport"
	"github.com/edgekit/edgekit/mqtt"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// rig is a gateway on the host with in-memory radio and uplink streams, and
// a broker played by the test.
type rig struct {
	t     *testing.T
	cfg   Config
	g     *Gateway
	radio fixedWriter
	up    fixedWriter
	dev   *meshDevice
	now   time.Time
	ver   mqtt.Version
	dec   mqtt.Decoded
}

func newRig(t *testing.T, mod func(*Config)) *rig {
	t.Helper()
	cfg := provisioned()
	if mod != nil {
		mod(&cfg)
	}
	r := &rig{t: t, cfg: cfg, now: t0, ver: cfg.Version}
	if r.ver == 0 {
		r.ver = mqtt.V311
	}
	g, err := New(cfg, &r.radio, &r.up)
	if err != nil {
		t.Fatal(err)
	}
	r.g = g
	r.dev = newMeshDevice(cfg, 0x0100)
	return r
}

func (r *rig) poll(d time.Duration) {
	r.now = r.now.Add(d)
	r.g.Poll(r.now)
}

// toGateway writes an MQTT packet from the broker into the uplink ring.
func (r *rig) toGateway(p mqtt.Packet) {
	r.t.Helper()
	b, err := p.AppendBinary(nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if n := r.g.MQTTIn().TryWrite(b); n != len(b) {
		r.t.Fatalf("mqtt ring full")
	}
}

// hear makes the gateway's radio hear the PDUs.
func (r *rig) hear(pdus ...[]byte) {
	r.t.Helper()
	for _, p := range pdus {
		f := advEvent(nil, p)
		if n := r.g.RadioIn().TryWrite(f); n != len(f) {
			r.t.Fatalf("radio ring full")
		}
	}
}

// sent decodes and clears what the gateway wrote to the broker.
func (r *rig) sent() []mqtt.Packet {
	r.t.Helper()
	var out []mqtt.Packet
	b := r.up.Bytes()
	for len(b) > 0 {
		typ, n, err := r.dec.Decode(b, r.ver)
		if err != nil {
			r.t.Fatalf("gateway wrote a bad packet: %v (% x)", err, b)
		}
		out = append(out, clonePacket(r.dec.Packet(typ)))
		b = b[n:]
	}
	r.up.Reset()
	return out
}

func clonePacket(p mqtt.Packet) mqtt.Packet {
	switch p := p.(type) {
	case *mqtt.Connect:
		return p.Clone()
	case *mqtt.Publish:
		return p.Clone()
	case *mqtt.Subscribe:
		return p.Clone()
	case *mqtt.Ack:
		return p.Clone()
	case *mqtt.Ping:
		return p.Clone()
	case *mqtt.Disconnect:
		return p.Clone()
	}
	return p
}

// radioSent decodes and clears what the gateway sent on the radio.
func (r *rig) radioSent() []radioPDU {
	r.t.Helper()
	out := r.dev.radioPDUs(r.t, r.radio.Bytes())
	r.radio.Reset()
	return out
}

// connect runs the session up to SUBACK.
func (r *rig) connect() {
	r.t.Helper()
	r.poll(0)
	pk := r.sent()
	if len(pk) != 1 {
		r.t.Fatalf("first packets = %v; want CONNECT", pk)
	}
	c, ok := pk[0].(*mqtt.Connect)
	if !ok {
		r.t.Fatalf("first packet %T; want CONNECT", pk[0])
	}
	if string(c.ClientID) != r.cfg.ClientID || c.KeepAlive != r.cfg.KeepAlive || !c.HasWill ||
		string(c.Will.Topic) != "edgekit/gw/status" || string(c.Will.Payload) != "offline" || !c.Will.Retain {
		r.t.Fatalf("CONNECT = %+v", c)
	}
	if c.Version != r.ver {
		r.t.Fatalf("CONNECT version %v; want %v", c.Version, r.ver)
	}
	r.toGateway(&mqtt.Connack{Version: r.ver})
	r.poll(time.Millisecond)
	pk = r.sent()
	if len(pk) != 2 {
		r.t.Fatalf("after CONNACK: %d packets; want status PUBLISH and SUBSCRIBE", len(pk))
	}
	st, ok := pk[0].(*mqtt.Publish)
	if !ok || string(st.Topic) != "edgekit/gw/status" || string(st.Payload) != "online" || !st.Retain {
		r.t.Fatalf("status = %+v", pk[0])
	}
	sub, ok := pk[1].(*mqtt.Subscribe)
	if !ok || len(sub.Filters) != 1 || string(sub.Filters[0].Filter) != "edgekit/gw/cmd/#" || sub.Filters[0].QoS != 1 {
		r.t.Fatalf("SUBSCRIBE = %+v", pk[1])
	}
	r.toGateway(&mqtt.Suback{Version: r.ver, ID: sub.ID, Codes: []mqtt.ReasonCode{mqtt.GrantedQoS1}})
	r.poll(time.Millisecond)
	if pk := r.sent(); len(pk) != 0 {
		r.t.Fatalf("after SUBACK: %v", pk)
	}
	if !r.g.Connected() {
		r.t.Fatal("not connected")
	}
}

func wantPublish(t *testing.T, p mqtt.Packet, topic, payload string, qos uint8) *mqtt.Publish {
	t.Helper()
	pub, ok := p.(*mqtt.Publish)
	if !ok {
		t.Fatalf("got %T; want PUBLISH %s", p, topic)
	}
	if string(pub.Topic) != topic || string(pub.Payload) != payload || pub.QoS != qos {
		t.Fatalf("PUBLISH %q %q qos %d; want %q %q qos %d", pub.Topic, pub.Payload, pub.QoS, topic, payload, qos)
	}
	if qos > 0 && pub.ID == 0 {
		t.Fatal("QoS 1 PUBLISH without packet id")
	}
	return pub
}

func TestBridgeBothWays(t *testing.T) {
	for _, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		t.Run(v.String(), func(t *testing.T) {
			r := newRig(t, func(c *Config) { c.Version = v })
			r.connect()

			// A light reports its state to the gateway's group.
			r.hear(r.dev.access(0xc000, onoffStatus(true), false)...)
			r.poll(time.Millisecond)
			pk := r.sent()
			if len(pk) != 1 {
				t.Fatalf("got %d packets; want 1", len(pk))
			}
			pub := wantPublish(t, pk[0], "edgekit/gw/mesh/0100/onoff", "1", 1)
			r.toGateway(&mqtt.Ack{Type: mqtt.TypePuback, Version: v, ID: pub.ID})
			r.poll(time.Millisecond)
			if st := r.g.Stats(); st.Acked != 1 || st.Published != 1 {
				t.Fatalf("stats %+v", st)
			}
			// Group messages are relayed too (TTL 4 -> 3).
			if rp := r.radioSent(); len(rp) != 1 || rp[0].h.TTL != 3 || rp[0].h.SRC != 0x0100 || rp[0].op != opGenericOnOffStatus {
				t.Fatalf("relay: %+v", rp)
			}

			// A segmented vendor message to the gateway itself: reassembled,
			// acknowledged, published raw.
			msg := vendorMessage(20)
			pdus := r.dev.access(r.cfg.Address, msg, false)
			if len(pdus) != 3 {
				t.Fatalf("%d segments; want 3", len(pdus))
			}
			r.hear(pdus...)
			r.poll(time.Millisecond)
			op, k, err := access.DecodeOpcode(msg)
			if err != nil {
				t.Fatal(err)
			}
			topic := "edgekit/gw/mesh/0100/op/" + string(appendHex(nil, uint32(op)))
			pk = r.sent()
			if len(pk) != 1 {
				t.Fatalf("got %d packets; want 1", len(pk))
			}
			wantPublish(t, pk[0], topic, string(msg[k:]), 1)
			rp := r.radioSent()
			if len(rp) != 1 || !rp[0].h.CTL || rp[0].lp.Opcode != transport.OpSegmentAck || rp[0].h.DST != 0x0100 || rp[0].h.SRC != r.cfg.Address {
				t.Fatalf("segment ack: %+v", rp)
			}
			var ack transport.SegmentAck
			if _, err := ack.Decode(rp[0].lp.Payload); err != nil || ack.BlockAck != 0b111 {
				t.Fatalf("segment ack %+v, %v; want all three segments", ack, err)
			}

			// The same PDU heard again is dropped by the network cache.
			r.hear(pdus[0])
			r.poll(time.Millisecond)
			if pk := r.sent(); len(pk) != 0 {
				t.Fatalf("duplicate bridged: %v", pk)
			}
			if st := r.g.Stats(); st.Duplicates != 1 {
				t.Fatalf("duplicates = %d", st.Duplicates)
			}

			// A command from MQTT becomes a Generic OnOff Set on the radio.
			r.toGateway(&mqtt.Publish{Version: v, QoS: 1, ID: 77, Topic: []byte("edgekit/gw/cmd/0100/onoff"), Payload: []byte("on")})
			r.poll(time.Millisecond)
			pk = r.sent()
			if len(pk) != 1 {
				t.Fatalf("got %d packets; want PUBACK", len(pk))
			}
			if a, ok := pk[0].(*mqtt.Ack); !ok || a.Type != mqtt.TypePuback || a.ID != 77 {
				t.Fatalf("got %+v; want PUBACK 77", pk[0])
			}
			rp = r.radioSent()
			if len(rp) != 1 {
				t.Fatalf("radio sent %d PDUs; want 1", len(rp))
			}
			set := rp[0]
			if set.op != opGenericOnOffSet || len(set.params) != 2 || set.params[0] != 1 || set.h.DST != 0x0100 ||
				set.h.SRC != r.cfg.Address || set.h.TTL != DefaultTTL {
				t.Fatalf("OnOff Set = %+v", set)
			}
			tid := set.params[1]
			r.toGateway(&mqtt.Publish{Version: v, Topic: []byte("edgekit/gw/cmd/0100/onoff"), Payload: []byte("0")})
			r.poll(time.Millisecond)
			rp = r.radioSent()
			if len(rp) != 1 || rp[0].params[0] != 0 || rp[0].params[1] != tid+1 || rp[0].h.SEQ <= set.h.SEQ {
				t.Fatalf("second Set = %+v", rp)
			}
			if pk := r.sent(); len(pk) != 0 {
				t.Fatalf("QoS 0 command answered with %v", pk)
			}

			// Bad commands are counted and ignored.
			for _, c := range []struct{ topic, payload string }{
				{"edgekit/gw/cmd/01000/onoff", "1"},
				{"edgekit/gw/cmd/0100/onoff", "maybe"},
				{"edgekit/gw/cmd/0000/onoff", "1"},
				{"edgekit/gw/cmd/zz00/onoff", "1"},
				{"edgekit/gw/cmd/0100/level", "1"},
			} {
				r.toGateway(&mqtt.Publish{Version: v, Topic: []byte(c.topic), Payload: []byte(c.payload)})
			}
			r.poll(time.Millisecond)
			if rp := r.radioSent(); len(rp) != 0 {
				t.Fatalf("bad commands sent %v", rp)
			}
			if st := r.g.Stats(); st.BadCommands != 5 {
				t.Fatalf("BadCommands = %d; want 5", st.BadCommands)
			}

			// Stats on request.
			r.toGateway(&mqtt.Publish{Version: v, Topic: []byte("edgekit/gw/cmd/stats")})
			r.poll(time.Millisecond)
			pk = r.sent()
			if len(pk) != 1 {
				t.Fatalf("stats: %v", pk)
			}
			sp := pk[0].(*mqtt.Publish)
			if string(sp.Topic) != "edgekit/gw/stats" || !strings.Contains(string(sp.Payload), "delivered=2 published=2 acked=1 commands=8") {
				t.Fatalf("stats = %q %q", sp.Topic, sp.Payload)
			}
		})
	}
}

func TestForeignAndTamperedPDUs(t *testing.T) {
	r := newRig(t, nil)
	r.connect()
	other := provisioned()
	other.NetKey[0] ^= 1
	stranger := newMeshDevice(other, 0x0100)
	r.hear(stranger.access(0xc000, onoffStatus(true), false)...)
	p := r.dev.access(0xc000, onoffStatus(true), false)[0]
	bad := append([]byte(nil), p...)
	bad[len(bad)-1] ^= 0x40 // NetMIC
	r.hear(bad)
	r.poll(time.Millisecond)
	if pk := r.sent(); len(pk) != 0 {
		t.Fatalf("bridged %v", pk)
	}
	if st := r.g.Stats(); st.NetDropped != 2 || st.Delivered != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Replay: the same message with a fresh network cache entry but an old
	// sequence number is rejected by the replay list.
	r.dev.seq = 100
	r.hear(r.dev.access(0xc000, onoffStatus(false), false)...)
	r.poll(time.Millisecond)
	if pk := r.sent(); len(pk) != 1 {
		t.Fatalf("got %v", pk)
	}
	r.g.mesh.cache.Reset()
	r.dev.seq = 100
	r.hear(r.dev.access(0xc000, onoffStatus(false), false)...)
	r.poll(time.Millisecond)
	if pk := r.sent(); len(pk) != 0 {
		t.Fatalf("replay bridged: %v", pk)
	}
	if st := r.g.Stats(); st.Replays != 1 {
		t.Fatalf("Replays = %d", st.Replays)
	}
	// Garbage on the radio link resets the stream and is counted.
	r.g.RadioIn().TryWrite([]byte{0x07, 1, 2, 3})
	r.poll(time.Millisecond)
	if st := r.g.Stats(); st.RadioErrors != 1 || r.g.RadioIn().Buffered() != 0 {
		t.Fatalf("radio errors %d, buffered %d", st.RadioErrors, r.g.RadioIn().Buffered())
	}
}

func TestKeepAliveAndRedelivery(t *testing.T) {
	r := newRig(t, func(c *Config) { c.AckTimeout = time.Hour })
	r.connect()
	ka := time.Duration(r.cfg.KeepAlive) * time.Second

	r.poll(ka / 2)
	pk := r.sent()
	if len(pk) != 1 || pk[0].PacketType() != mqtt.TypePingreq {
		t.Fatalf("got %v; want PINGREQ", pk)
	}
	r.toGateway(&mqtt.Ping{Type: mqtt.TypePingresp})
	r.poll(time.Millisecond)

	// A message goes out but its PUBACK never comes, nor the PINGRESP.
	r.hear(r.dev.access(0xc000, onoffStatus(true), false)...)
	r.poll(time.Millisecond)
	pk = r.sent()
	first := wantPublish(t, pk[0], "edgekit/gw/mesh/0100/onoff", "1", 1)
	r.poll(ka / 2)
	if pk := r.sent(); len(pk) != 1 || pk[0].PacketType() != mqtt.TypePingreq {
		t.Fatalf("got %v; want PINGREQ", pk)
	}
	r.poll(ka)
	if r.g.Connected() || r.g.Stats().Reconnects != 1 {
		t.Fatal("session not dropped after a missing PINGRESP")
	}
	r.poll(DefaultReconnectDelay)
	pk = r.sent()
	if len(pk) != 1 || pk[0].PacketType() != mqtt.TypeConnect {
		t.Fatalf("got %v; want CONNECT", pk)
	}
	r.toGateway(&mqtt.Connack{Version: r.ver})
	r.poll(time.Millisecond)
	pk = r.sent()
	if len(pk) != 3 {
		t.Fatalf("after reconnect: %v; want status, SUBSCRIBE, redelivery", pk)
	}
	again := wantPublish(t, pk[2], "edgekit/gw/mesh/0100/onoff", "1", 1)
	if !again.Dup || again.ID != first.ID {
		t.Fatalf("redelivery dup=%v id=%d; want dup, id %d", again.Dup, again.ID, first.ID)
	}

	// A CONNACK that refuses, and a connect timeout, both retry.
	r.g.LinkReset(r.now)
	r.poll(0)
	if pk := r.sent(); len(pk) != 1 || pk[0].PacketType() != mqtt.TypeConnect {
		t.Fatalf("got %v; want CONNECT", pk)
	}
	r.toGateway(&mqtt.Connack{Version: r.ver, Code: mqtt.ConnRefusedNotAuthorized})
	r.poll(time.Millisecond)
	if r.g.Connected() {
		t.Fatal("connected after a refusal")
	}
	r.poll(DefaultReconnectDelay)
	if pk := r.sent(); len(pk) != 1 || pk[0].PacketType() != mqtt.TypeConnect {
		t.Fatalf("got %v; want CONNECT", pk)
	}
	r.poll(DefaultConnectTimeout)
	if r.g.Stats().Reconnects != 3 {
		t.Fatalf("Reconnects = %d; want 3", r.g.Stats().Reconnects)
	}
	r.poll(DefaultReconnectDelay)
	if pk := r.sent(); len(pk) != 1 || pk[0].PacketType() != mqtt.TypeConnect {
		t.Fatalf("after connect timeout got %v; want CONNECT", pk)
	}
}

func TestReceiveMaximum(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Version = mqtt.V5 })
	r.poll(0)
	r.sent()
	ca := mqtt.Connack{Version: mqtt.V5}
	ca.Props.Set(mqtt.PropReceiveMax, 1)
	r.toGateway(&ca)
	r.poll(time.Millisecond)
	r.sent()
	for range 3 {
		r.hear(r.dev.access(0xc000, onoffStatus(true), false)...)
	}
	r.poll(time.Millisecond)
	pk := r.sent()
	if len(pk) != 1 {
		t.Fatalf("%d PUBLISHes in flight; the broker allows 1", len(pk))
	}
	r.toGateway(&mqtt.Ack{Type: mqtt.TypePuback, Version: mqtt.V5, ID: pk[0].(*mqtt.Publish).ID})
	r.poll(time.Millisecond)
	if pk := r.sent(); len(pk) != 1 {
		t.Fatalf("%d PUBLISHes after the PUBACK; want 1", len(pk))
	}
}

func TestAckTimeout(t *testing.T) {
	r := newRig(t, nil) // AckTimeout 3 s
	r.connect()
	r.hear(r.dev.access(0xc000, onoffStatus(true), false)...)
	r.poll(time.Millisecond)
	first := wantPublish(t, r.sent()[0], "edgekit/gw/mesh/0100/onoff", "1", 1)
	r.poll(2 * time.Second)
	if !r.g.Connected() {
		t.Fatal("session dropped before the ack timeout")
	}
	r.poll(time.Second)
	if r.g.Connected() || r.g.Stats().Reconnects != 1 {
		t.Fatal("session kept after the ack timeout")
	}
	r.poll(DefaultReconnectDelay)
	if pk := r.sent(); len(pk) != 1 || pk[0].PacketType() != mqtt.TypeConnect {
		t.Fatalf("got %v; want CONNECT", pk)
	}
	r.toGateway(&mqtt.Connack{Version: r.ver})
	r.poll(time.Millisecond)
	pk := r.sent()
	if len(pk) != 3 {
		t.Fatalf("after reconnect: %v", pk)
	}
	again := wantPublish(t, pk[2], "edgekit/gw/mesh/0100/onoff", "1", 1)
	if !again.Dup || again.ID != first.ID {
		t.Fatalf("redelivery dup=%v id=%d", again.Dup, again.ID)
	}
	// The redelivery restarts the timer.
	r.poll(2 * time.Second)
	if !r.g.Connected() {
		t.Fatal("redelivered message timed out early")
	}
}

func TestBackpressureBounded(t *testing.T) {
	r := newRig(t, func(c *Config) { c.MaxInflight = 2; c.QueueLen = 4 })
	r.connect()
	// 10 messages, no PUBACK: 2 in flight, 4 queued; the rest wait in the
	// radio ring (flow control), nothing is dropped.
	for range 10 {
		r.hear(r.dev.access(0xc000, onoffStatus(true), false)...)
		r.poll(time.Millisecond)
	}
	var ids []mqtt.PacketID
	for _, p := range r.sent() {
		if p, ok := p.(*mqtt.Publish); ok {
			ids = append(ids, p.ID)
		}
	}
	st := r.g.Stats()
	if len(ids) != 2 || st.Dropped != 0 || st.MeshRx != 6 || r.g.RadioIn().Buffered() == 0 || r.g.poolOut > r.g.poolCap {
		t.Fatalf("publishes %d, dropped %d, rx %d, radio buffered %d, pool %d/%d",
			len(ids), st.Dropped, st.MeshRx, r.g.RadioIn().Buffered(), r.g.poolOut, r.g.poolCap)
	}
	// Acknowledging lets the rest through, in order.
	for len(ids) > 0 {
		id := ids[0]
		ids = ids[1:]
		r.toGateway(&mqtt.Ack{Type: mqtt.TypePuback, Version: r.ver, ID: id})
		r.poll(time.Millisecond)
		for _, p := range r.sent() {
			if p, ok := p.(*mqtt.Publish); ok {
				ids = append(ids, p.ID)
			}
		}
	}
	if st := r.g.Stats(); st.Acked != 10 || st.MeshRx != 10 || st.Dropped != 0 || r.g.poolOut != 0 {
		t.Fatalf("after acks: %+v, pool out %d", st, r.g.poolOut)
	}

	// While the session is down the radio is still served (relay) and the
	// messages that do not fit are dropped and counted.
	r.g.LinkReset(r.now)
	r.g.sess.next = r.now.Add(time.Hour)
	for range 10 {
		r.hear(r.dev.access(0xc000, onoffStatus(true), false)...)
		r.poll(time.Millisecond)
	}
	st = r.g.Stats()
	if st.MeshRx != 20 || st.Dropped != 6 || st.Relayed != 20 || r.g.poolOut != 4 {
		t.Fatalf("session down: rx %d dropped %d relayed %d pool out %d", st.MeshRx, st.Dropped, st.Relayed, r.g.poolOut)
	}
}

func TestConfig(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Address = 0 },
		func(c *Config) { c.Address = 0xc000 },
		func(c *Config) { c.TTL = 128 },
		func(c *Config) { c.MaxInflight = 17 },
		func(c *Config) { c.QueueLen = 1000 },
		func(c *Config) { c.MaxPacket = 10 },
		func(c *Config) { c.Version = 3 },
		func(c *Config) { c.TopicPrefix = strings.Repeat("x", 41) },
	} {
		c := provisioned()
		mod(&c)
		if _, err := New(c, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

func TestHex(t *testing.T) {
	for _, c := range []struct {
		v    uint32
		want string
	}{{0, "0"}, {0x8204, "8204"}, {0xc1f105, "C1F105"}, {0xffffffff, "FFFFFFFF"}} {
		if got := string(appendHex(nil, c.v)); got != c.want {
			t.Errorf("appendHex(%#x) = %s", c.v, got)
		}
	}
	if v, ok := parseHex4([]byte("c0Fe")); !ok || v != 0xc0fe {
		t.Error("parseHex4")
	}
	if _, ok := parseHex4([]byte("c0F")); ok {
		t.Error("parseHex4 short")
	}
}
