//go:build !tinygo

package node_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

// publisher returns a provisioned node whose OnOff server publishes to a
// virtual address every 100 ms with one retransmission and sends a
// heartbeat every second, on a bearer that discards.
func publisher(t testing.TB) (*node.Node, *nop, time.Time, [16]byte) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	el := onOffServer()
	var level byte
	el.Models[0].State = func(now time.Time, params []byte) (access.Opcode, []byte, bool) {
		level++
		return opOnOffStatus, append(params, level&1), true
	}
	nb := &nop{}
	n, err := node.New(node.Config{Bearer: nb, NoBeacon: true, KeyPair: newToyKeyPair(3), Elements: []node.Element{el}})
	if err != nil {
		t.Fatal(err)
	}
	d := prov.ProvisioningData{NetKey: key(testNetKeyByte), IVIndex: 5, UnicastAddress: 0x10}
	if err := n.SelfProvision(now, d, key(3)); err != nil {
		t.Fatal(err)
	}
	cfg := func(op access.Opcode, b []byte) {
		if err := n.SendConfig(now, 0x10, op, b); err != nil {
			t.Fatal(err)
		}
	}
	add := access.AppKeyAdd{NetKeyIndex: 0, AppKeyIndex: appKeyIndex, AppKey: key(testAppKeyByte)}
	b, _ := add.AppendBinary(nil)
	cfg(access.OpAppKeyAdd, b)
	server := access.ModelID{ID: modelOnOffServer}
	bind := access.ModelAppBind{ElementAddress: 0x10, AppKeyIndex: appKeyIndex, Model: server}
	b, _ = bind.AppendBinary(nil)
	cfg(access.OpModelAppBind, b)
	var label [16]byte
	label[0] = 0x77
	pp := []byte{0x10, 0x00}
	pp = append(pp, label[:]...)
	pp = append(pp, byte(appKeyIndex), 0, 3, 1, 1|0<<3, 0x00, 0x10) // TTL 3, 100 ms period, 1 retransmission 50 ms
	cfg(access.OpModelPublicationVirtualSet, pp)
	hp := access.HeartbeatPublication{Destination: 0xc0ff, CountLog: 0xff, PeriodLog: 1, TTL: 3}
	b, _ = hp.AppendBinary(nil)
	cfg(access.OpHeartbeatPublicationSet, b)
	n.Tick(now)
	return n, nb, now, label
}

// TestPublishNoAllocs: Publish (with retransmissions), the periodic
// publications Tick sends, and heartbeats do not allocate.
func TestPublishNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	n, nb, now, label := publisher(t)
	server := access.ModelID{ID: modelOnOffServer}
	params := []byte{1, 0}
	// AllocsPerRun floors the average: make every run take each path.
	// A run: a Publish and its retransmission 50 ms later, then at the
	// full second a Publish, a periodic publication and a heartbeat.
	step := func() {
		now = now.Add(950 * time.Millisecond)
		params[1]++
		if err := n.Publish(now, 0, server, opOnOffSetUnack, params); err != nil {
			t.Fatal(err)
		}
		n.Tick(now)
		now = now.Add(50 * time.Millisecond)
		n.Tick(now)
		params[1]++
		if err := n.Publish(now, 0, server, opOnOffSetUnack, params); err != nil {
			t.Fatal(err)
		}
	}
	step()
	before, sentBefore := n.Stats(), nb.n
	if a := testing.AllocsPerRun(100, step); a != 0 {
		t.Errorf("%v allocs per Publish + Tick", a)
	}
	st := n.Stats()
	if nb.n-sentBefore < 400 || st.Published-before.Published < 200 || st.HeartbeatsSent-before.HeartbeatsSent < 100 || st.PubFailed != 0 {
		t.Fatalf("sent %d, published %d, heartbeats %d, failed %d", nb.n-sentBefore, st.Published-before.Published,
			st.HeartbeatsSent-before.HeartbeatsSent, st.PubFailed)
	}
	if va := crypto.VirtualAddress(label); n.ConfigServer().Models[2].Pub.PublishAddress != va {
		t.Fatalf("publish address %04x, want %04x", n.ConfigServer().Models[2].Pub.PublishAddress, va)
	}
}

// TestReceiveVirtualNoAllocs: delivering a message to a virtual address
// (trying the labels with the matching hash) does not allocate.
func TestReceiveVirtualNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	snd, cp, rcv, _, now := pair(t, false)
	var label [16]byte
	label[3] = 0x42
	sub := []byte{0x20, 0x00}
	sub = append(sub, label[:]...)
	sub = append(sub, 0x00, 0x10)
	if err := rcv.SendConfig(now, 0x20, access.OpModelSubscriptionVirtualAdd, sub); err != nil {
		t.Fatal(err)
	}
	const runs = 100
	for i := 0; i < runs+2; i++ {
		if err := snd.Send(now, &node.Outgoing{Label: &label, AppKeyIndex: appKeyIndex, TTL: 5, Opcode: opOnOffSetUnack, Params: []byte{1, byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	before := rcv.Stats().Delivered
	i := 0
	if a := testing.AllocsPerRun(runs, func() { rcv.Receive(now, &cp.advs[i]); i++ }); a != 0 {
		t.Errorf("%v allocs per virtual-address PDU", a)
	}
	if got := rcv.Stats().Delivered - before; got != uint64(i) {
		t.Fatalf("delivered %d of %d", got, i)
	}
}

// FuzzConfigTimers applies an arbitrary Configuration message to a node
// (through its own Configuration Server, as a local client would) and runs
// its timers for a minute: publications, retransmissions and heartbeats set
// from any input must not panic, flood beyond the periods they name, or
// stop the node from delivering.
func FuzzConfigTimers(f *testing.F) {
	var label [16]byte
	label[0] = 0x99
	hp := access.HeartbeatPublication{Destination: 0xc0ff, CountLog: 0xff, PeriodLog: 1, TTL: 3, Features: 0xf}
	b, _ := hp.AppendBinary(nil)
	f.Add(uint16(access.OpHeartbeatPublicationSet), b)
	f.Add(uint16(access.OpHeartbeatSubscriptionSet), []byte{0x10, 0x00, 0xff, 0xc0, 0x11})
	f.Add(uint16(access.OpHeartbeatSubscriptionGet), []byte{})
	f.Add(uint16(access.OpHeartbeatPublicationGet), []byte{})
	vs := append(append([]byte{0x20, 0x00}, label[:]...), 0x00, 0x10)
	f.Add(uint16(access.OpModelSubscriptionVirtualAdd), vs)
	f.Add(uint16(access.OpModelSubscriptionVirtualOverwrite), vs)
	f.Add(uint16(access.OpModelSubscriptionVirtualDelete), vs)
	pv := append(append([]byte{0x20, 0x00}, label[:]...), byte(appKeyIndex), 0, 0xff, 0x01, 0xff, 0x00, 0x10)
	f.Add(uint16(access.OpModelPublicationVirtualSet), pv)
	pub := access.ModelPublication{ElementAddress: 0x20, PublishAddress: 0x10, AppKeyIndex: appKeyIndex, PublishTTL: 0,
		PublishPeriod: 0x01, RetransmitCount: 7, RetransmitIntervalSteps: 0, Model: access.ModelID{ID: modelOnOffServer}}
	b, _ = pub.AppendBinary(nil)
	f.Add(uint16(access.OpModelPublicationSet), b)
	f.Add(uint16(access.OpRelaySet), []byte{1, 0})
	f.Fuzz(func(t *testing.T, op uint16, params []byte) {
		snd, cp, rcv, nb, now := pair(t, false)
		_ = rcv.Publish(now, 0, access.ModelID{ID: modelOnOffServer}, opOnOffStatus, []byte{1})
		_ = rcv.SendConfig(now, 0x20, access.Opcode(op)|0x8000, params)
		_ = rcv.SendConfig(now, 0x20, access.Opcode(op&0xff), params)
		sent := nb.n
		end := now.Add(time.Minute)
		steps := 0
		for t0 := now; t0.Before(end) && steps < 10000; steps++ {
			d, ok := rcv.Deadline()
			if !ok || d.After(end) {
				break
			}
			if d.Before(t0) {
				d = t0
			}
			rcv.Tick(d)
			t0 = d.Add(time.Millisecond)
		}
		// At most one publication (+7 retransmissions) per 100 ms and one
		// heartbeat per second, with up to 8 copies each.
		if nb.n-sent > 8*(600*8+60+10) {
			t.Fatalf("%d advertisements in a minute", nb.n-sent)
		}
		// Unless the message removed the key, the binding or the node.
		cs := rcv.ConfigServer()
		if !rcv.Provisioned() || len(cs.AppKeys) != 1 || len(cs.NetKeys) != 1 || cs.NetKeys[0].Phase != 0 ||
			len(cs.Models) < 3 || len(cs.Models[2].AppKeys) != 1 {
			return
		}
		_ = snd.Send(now, &outgoingSet)
		before := rcv.Stats().Delivered
		rcv.Receive(now, &cp.advs[len(cp.advs)-1])
		if rcv.Stats().Delivered != before+1 {
			t.Fatalf("node stopped delivering: %+v", rcv.Stats())
		}
	})
}

// BenchmarkPublish measures Publish to a virtual address plus the Tick that
// follows (periodic publication, retransmission, heartbeat when due).
func BenchmarkPublish(b *testing.B) {
	n, _, now, _ := publisher(b)
	server := access.ModelID{ID: modelOnOffServer}
	params := []byte{1, 0}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		now = now.Add(50 * time.Millisecond)
		params[1]++
		if err := n.Publish(now, 0, server, opOnOffSetUnack, params); err != nil {
			b.Fatal(err)
		}
		n.Tick(now)
	}
}
