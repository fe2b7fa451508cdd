//go:build !tinygo

package main

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// FuzzRadioInput feeds arbitrary bytes to the radio side of a connected
// gateway: it must not panic, and its buffers stay within the pool.
func FuzzRadioInput(f *testing.F) {
	cfg := provisioned()
	dev := newMeshDevice(cfg, 0x0100)
	f.Add(advEvent(nil, dev.access(0xc000, onoffStatus(true), false)[0]))
	var segs []byte
	for _, p := range dev.access(cfg.Address, vendorMessage(20), false) {
		segs = advEvent(segs, p)
	}
	f.Add(segs)
	f.Add([]byte{0x04, 0x3e, 0x03, 0x02, 0x05, 0x00})
	f.Add([]byte{0x04, 0x0e, 0x04, 0x01, 0x08, 0x20, 0x00})
	f.Add([]byte{0x02, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var radio, up fixedWriter
		g, err := New(cfg, &radio, &up)
		if err != nil {
			t.Fatal(err)
		}
		g.sess.state = stUp // as if connected: uplink messages are queued
		g.RadioIn().TryWrite(b)
		now := t0
		for range 4 {
			now = now.Add(time.Second)
			g.Poll(now)
		}
		if g.poolOut < 0 || g.poolOut > g.poolCap {
			t.Fatalf("pool out %d of %d", g.poolOut, g.poolCap)
		}
	})
}

// FuzzMQTTInput feeds arbitrary bytes from the broker to a gateway waiting
// for its CONNACK: no panic, and a bad stream ends the session.
func FuzzMQTTInput(f *testing.F) {
	for _, p := range []mqtt.Packet{
		&mqtt.Connack{},
		&mqtt.Publish{QoS: 1, ID: 3, Topic: []byte("edgekit/gw/cmd/0100/onoff"), Payload: []byte("1")},
		&mqtt.Publish{Topic: []byte("edgekit/gw/cmd/stats")},
		&mqtt.Ack{Type: mqtt.TypePuback, ID: 1},
		&mqtt.Ping{Type: mqtt.TypePingresp},
	} {
		b, err := p.AppendBinary(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x20, 0x02, 0x00, 0x00, 0x30, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var radio, up fixedWriter
		g, err := New(provisioned(), &radio, &up)
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		g.Poll(now) // CONNECT
		g.MQTTIn().TryWrite(b)
		for range 4 {
			now = now.Add(100 * time.Millisecond)
			g.Poll(now)
		}
		if g.poolOut < 0 || g.poolOut > g.poolCap {
			t.Fatalf("pool out %d of %d", g.poolOut, g.poolCap)
		}
	})
}
