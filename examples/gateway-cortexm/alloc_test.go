//go:build !tinygo

package main

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// TestSteadyStateNoAllocs drives whole message cycles through a connected
// gateway: a mesh status heard on the radio, published, acknowledged; a
// segmented message reassembled, acknowledged on the mesh, published; an MQTT
// command turned into a mesh PDU; a keep-alive exchange. After start-up none
// of it allocates. (The emulator test checks the same with TinyGo's heap
// counter on the firmware.)
func TestSteadyStateNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	r := newRig(t, nil)
	r.connect()
	var (
		frame  [128]byte
		wire   [128]byte
		pub    mqtt.Publish
		ack    = mqtt.Ack{Type: mqtt.TypePuback, Version: r.ver}
		cmd    = mqtt.Publish{Version: r.ver, QoS: 1, ID: 9, Topic: []byte("edgekit/gw/cmd/0100/onoff"), Payload: []byte("1")}
		pong   = mqtt.Ping{Type: mqtt.TypePingresp}
		long   = vendorMessage(20)
		status = onoffStatus(true)
	)
	cycle := func() {
		// Uplink: unsegmented and segmented messages.
		for _, m := range [][]byte{status, long} {
			for _, p := range r.dev.access(r.cfg.Address, m, false) {
				r.g.RadioIn().TryWrite(advEvent(frame[:0], p))
			}
			r.poll(time.Millisecond)
			b := r.up.Bytes()
			if _, err := pub.Decode(b); err != nil {
				panic(err)
			}
			r.up.Reset()
			ack.ID = pub.ID
			w, _ := ack.AppendBinary(wire[:0])
			r.g.MQTTIn().TryWrite(w)
			r.poll(time.Millisecond)
		}
		// Downlink: a command.
		w, _ := cmd.AppendBinary(wire[:0])
		r.g.MQTTIn().TryWrite(w)
		r.poll(time.Millisecond)
		// Keep-alive.
		r.poll(time.Duration(r.cfg.KeepAlive) * time.Second / 2)
		w, _ = pong.AppendBinary(wire[:0])
		r.g.MQTTIn().TryWrite(w)
		r.poll(time.Millisecond)
		r.up.Reset()
		r.radio.Reset()
	}
	cycle() // grow the test's writers
	before := r.g.Stats()
	allocs := testing.AllocsPerRun(50, cycle)
	after := r.g.Stats()
	if allocs != 0 {
		t.Fatalf("allocs per cycle = %v; want 0", allocs)
	}
	if d := after.Published - before.Published; d != 2*51 {
		t.Fatalf("published %d in the measured cycles; want %d", d, 2*51)
	}
	if d := after.Acked - before.Acked; d != 2*51 {
		t.Fatalf("acked %d; want %d", d, 2*51)
	}
	if d := after.MeshTx - before.MeshTx; d != 2*51 {
		t.Fatalf("mesh tx %d (segment acks + commands); want %d", d, 2*51)
	}
	if after.Dropped != 0 || r.g.poolOut != 0 {
		t.Fatalf("dropped %d, buffers out %d", after.Dropped, r.g.poolOut)
	}
}
