//go:build !tinygo

package node_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

// capture is a Bearer that keeps copies of what is sent.
type capture struct{ advs []bearer.Adv }

func (c *capture) Send(a *bearer.Adv) error { c.advs = append(c.advs, a.Clone()); return nil }

// nop is a Bearer that discards.
type nop struct{ n int }

func (b *nop) Send(*bearer.Adv) error { b.n++; return nil }

// pair returns a sender with a capturing bearer and a receiver configured
// with the same keys, the receiver's OnOff server bound to the AppKey.
func pair(t testing.TB, relay bool) (*node.Node, *capture, *node.Node, *nop, time.Time) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cp := &capture{}
	nb := &nop{}
	delivered := 0
	snd, err := node.New(node.Config{Bearer: cp, NoBeacon: true, KeyPair: newToyKeyPair(1)})
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := node.New(node.Config{Bearer: nb, NoBeacon: true, Relay: relay, KeyPair: newToyKeyPair(2),
		Elements: []node.Element{onOffServer()},
		Handler:  func(*node.Node, time.Time, *node.Message) { delivered++ }})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []*node.Node{snd, rcv} {
		d := prov.ProvisioningData{NetKey: key(testNetKeyByte), IVIndex: 5, UnicastAddress: uint16(0x10 * (i + 1))}
		if err := n.SelfProvision(now, d, key(byte(i))); err != nil {
			t.Fatal(err)
		}
		add := access.AppKeyAdd{NetKeyIndex: 0, AppKeyIndex: appKeyIndex, AppKey: key(testAppKeyByte)}
		b, _ := add.AppendBinary(nil)
		_ = n.SendConfig(now, n.Address(), access.OpAppKeyAdd, b)
	}
	bind := access.ModelAppBind{ElementAddress: 0x20, AppKeyIndex: appKeyIndex, Model: access.ModelID{ID: modelOnOffServer}}
	b, _ := bind.AppendBinary(nil)
	_ = rcv.SendConfig(now, 0x20, access.OpModelAppBind, b)
	return snd, cp, rcv, nb, now
}

var outgoingSet = node.Outgoing{DST: 0x20, AppKeyIndex: appKeyIndex, TTL: 5, Opcode: opOnOffSetUnack, Params: []byte{1, 1}}

func TestReceiveNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, relay := range []bool{false, true} {
		snd, cp, rcv, nb, now := pair(t, relay)
		const runs = 200
		for i := 0; i < runs+2; i++ {
			dst := uint16(0x20)
			if relay {
				dst = 0xc000 // a group: relayed and (not subscribed) not delivered
			}
			if err := snd.Send(now, &node.Outgoing{DST: dst, AppKeyIndex: appKeyIndex, TTL: 5, Opcode: opOnOffSetUnack, Params: []byte{1, byte(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		before := rcv.Stats()
		i := 0
		allocs := testing.AllocsPerRun(runs, func() {
			rcv.Receive(now, &cp.advs[i])
			i++
		})
		st := rcv.Stats()
		if allocs != 0 {
			t.Errorf("relay=%v: %v allocs per received PDU", relay, allocs)
		}
		if !relay && st.Delivered-before.Delivered != uint64(i) {
			t.Fatalf("delivered %d of %d", st.Delivered-before.Delivered, i)
		}
		if relay && (st.Relayed-before.Relayed != uint64(i) || nb.n < i) {
			t.Fatalf("relayed %d of %d (sent %d)", st.Relayed-before.Relayed, i, nb.n)
		}
	}
}

func BenchmarkReceive(b *testing.B) {
	snd, cp, rcv, _, now := pair(b, false)
	// Pre-seal enough PDUs; the replay list rejects reuse.
	n := b.N + 1
	for i := 0; i < n; i++ {
		_ = snd.Send(now, &node.Outgoing{DST: 0x20, AppKeyIndex: appKeyIndex, TTL: 5, Opcode: opOnOffSetUnack, Params: []byte{1, byte(i)}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rcv.Receive(now, &cp.advs[i])
	}
}
