//go:build !tinygo

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

// small returns a configuration with small limits, so that a few nodes fit
// in the 64 KB of RAM of the emulated Cortex-M4 under TinyGo.
func small(c node.Config) node.Config {
	c.MaxNetKeys, c.MaxAppKeys, c.MaxRemoteDevKeys, c.MaxSegmentedSends, c.TxQueueLen = 1, 1, 2, 1, 12
	c.Cache = network.CacheConfig{Size: 16}
	c.Replay = transport.ReplayConfig{Size: 8}
	c.Reassembly = transport.ReassemblyConfig{MaxMessages: 1, MaxPDULen: 64, CompletedMemory: 1}
	c.FriendCfg = node.FriendConfig{MaxLPNs: 1, QueueSize: 4}
	c.Algorithms = prov.AlgorithmsCMAC
	c.KeyPair = newToyKeyPair(byte(c.UUID[0]) + 1)
	return c
}

// TestSmallNetwork: PB-ADV provisioning, a segmented AppKey Add and bind,
// and a message over one relay, with small limits (this is the scenario
// that runs under TinyGo).
func TestSmallNetwork(t *testing.T) {
	air := bearer.NewAir(bearer.AirConfig{Seed: 11})
	var got []byte
	var status []access.Opcode
	h := func(n *node.Node, now time.Time, m *node.Message) {
		if m.DevKey {
			status = append(status, m.Opcode)
			return
		}
		got = append(got, m.Params...)
	}
	mk := func(id byte, c node.Config) (*node.Node, *bearer.Radio) {
		r := air.Join(nil)
		c.UUID[0] = id
		c = small(c)
		c.Bearer, c.Handler, c.Rand = r, h, &seqReader{s: uint64(id)}
		n, err := node.New(c)
		if err != nil {
			t.Fatal(err)
		}
		r.Attach(n)
		return n, r
	}
	model := access.ModelID{ID: modelOnOffServer}
	p, rp := mk(1, node.Config{})
	// Under TinyGo the 64 KB of RAM hold two such nodes, not three: the
	// relay part runs on hosts only.
	var relay *node.Node
	var rr *bearer.Radio
	if !underTinyGo {
		relay, rr = mk(2, node.Config{Relay: true})
	}
	dev, rd := mk(3, node.Config{Elements: []node.Element{{Models: []node.Model{{ID: model, Opcodes: []access.Opcode{opOnOffSetUnack}}}}},
		UnprovBeaconPeriod: time.Second})
	now := air.Now()
	if err := p.SelfProvision(now, prov.ProvisioningData{NetKey: key(1), UnicastAddress: 1}, key(2)); err != nil {
		t.Fatal(err)
	}
	if relay != nil {
		if err := relay.SelfProvision(now, prov.ProvisioningData{NetKey: key(1), UnicastAddress: 2}, key(3)); err != nil {
			t.Fatal(err)
		}
		air.Link(rp, rr, 0)
	}
	ak := access.AppKeyAdd{AppKeyIndex: 0, AppKey: key(4)}
	akb, _ := ak.AppendBinary(nil)
	_ = p.SendConfig(now, 1, access.OpAppKeyAdd, akb)
	air.Link(rp, rd, 10)
	uuid := [16]byte{3}
	err := p.ProvisionDevice(now, uuid, 0x0100)
	if pbadvBuiltIn {
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := air.Run(time.Minute, func() bool { return p.ProvisionResult().Done && dev.Provisioned() }); !ok || err != nil || p.ProvisionResult().Err != nil {
			t.Fatalf("provisioning: %v %v %+v", ok, err, p.ProvisionResult())
		}
	} else {
		// TinyGo without the blemesh_pbadv tag: no PB-ADV glue.
		if err == nil {
			t.Fatal("ProvisionDevice succeeded without PB-ADV support")
		}
		if err := dev.SelfProvision(now, prov.ProvisioningData{NetKey: key(1), UnicastAddress: 0x0100}, key(5)); err != nil {
			t.Fatal(err)
		}
		if err := p.AddDevKey(0x0100, 1, key(5)); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.SendConfig(air.Now(), 0x0100, access.OpAppKeyAdd, akb) // 20 octets: segmented
	if ok, _ := air.Run(10*time.Second, func() bool { return len(status) > 1 }); !ok || status[len(status)-1] != access.OpAppKeyStatus {
		t.Fatalf("AppKey Add status: %v", status)
	}
	bind := access.ModelAppBind{ElementAddress: 0x0100, AppKeyIndex: 0, Model: model}
	bb, _ := bind.AppendBinary(nil)
	_ = p.SendConfig(air.Now(), 0x0100, access.OpModelAppBind, bb)
	if ok, _ := air.Run(10*time.Second, func() bool { return status[len(status)-1] == access.OpModelAppStatus }); !ok {
		t.Fatalf("bind status: %v", status)
	}
	if relay != nil {
		// Now only via the relay: provisioner - relay - device.
		air.Unlink(rp, rd)
		air.Link(rr, rd, 0)
	}
	_ = p.Send(air.Now(), &node.Outgoing{DST: 0x0100, AppKeyIndex: 0, TTL: 3, Opcode: opOnOffSetUnack, Params: []byte{1, 9}})
	if ok, _ := air.Run(5*time.Second, func() bool { return len(got) > 0 }); !ok || got[1] != 9 {
		t.Fatalf("relayed message: %x", got)
	}
	if relay != nil && relay.Stats().Relayed == 0 {
		t.Fatal("not relayed")
	}
}
