package node_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// TestTwoNodes is the scenario small enough for the emulated Cortex-M4
// under TinyGo: two nodes with small limits on an air, configured locally,
// exchange an application message and a Config Composition Data Get/Status
// secured with the device key.
func TestTwoNodes(t *testing.T) {
	air := bearer.NewAir(bearer.AirConfig{Seed: 1})
	var got []byte
	var status int
	h := func(n *node.Node, now time.Time, m *node.Message) {
		if m.DevKey {
			if m.Opcode == access.OpCompositionDataStatus && m.SRC == 2 {
				status++
			}
			return
		}
		got = append(got, m.Params...)
	}
	model := access.ModelID{ID: modelOnOffServer}
	var nodes [2]*node.Node
	for i := range nodes {
		r := air.Join(nil)
		c := node.Config{Bearer: r, Handler: h, NoBeacon: true, KeyPair: newToyKeyPair(byte(i)),
			MaxNetKeys: 1, MaxAppKeys: 1, MaxRemoteDevKeys: 1, MaxSegmentedSends: 1, TxQueueLen: 8,
			Cache: network.CacheConfig{Size: 8}, Replay: transport.ReplayConfig{Size: 4},
			Reassembly: transport.ReassemblyConfig{MaxMessages: 1, MaxPDULen: 64, CompletedMemory: 1},
			FriendCfg:  node.FriendConfig{MaxLPNs: 1, QueueSize: 2},
			Elements:   []node.Element{{Models: []node.Model{{ID: model, Opcodes: []access.Opcode{opOnOffSetUnack}}}}}}
		n, err := node.New(c)
		if err != nil {
			t.Fatal(err)
		}
		r.Attach(n)
		addr := uint16(i + 1)
		if err := n.SelfProvision(air.Now(), prov.ProvisioningData{NetKey: key(1), UnicastAddress: addr}, key(byte(10+i))); err != nil {
			t.Fatal(err)
		}
		ak := access.AppKeyAdd{AppKeyIndex: 0, AppKey: key(4)}
		b, _ := ak.AppendBinary(nil)
		_ = n.SendConfig(air.Now(), addr, access.OpAppKeyAdd, b)
		bind := access.ModelAppBind{ElementAddress: addr, AppKeyIndex: 0, Model: model}
		b, _ = bind.AppendBinary(nil)
		_ = n.SendConfig(air.Now(), addr, access.OpModelAppBind, b)
		nodes[i] = n
	}
	air.LinkAll(0)
	if err := nodes[0].AddDevKey(2, 1, key(11)); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].Send(air.Now(), &node.Outgoing{DST: 2, AppKeyIndex: 0, TTL: 3, Opcode: opOnOffSetUnack, Params: []byte{1, 7}}); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].SendConfig(air.Now(), 2, access.OpCompositionDataGet, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if ok, err := air.Run(2*time.Second, func() bool { return len(got) == 2 && status == 1 }); !ok || err != nil {
		t.Fatalf("got %x, status %d, err %v", got, status, err)
	}
	if got[1] != 7 {
		t.Fatalf("params %x", got)
	}
}
