//go:build !tinygo

package node_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

// TestSeqBlocks: SEQ is persisted once per block, and a rebooted node
// continues after the persisted limit, never reusing a sequence number.
func TestSeqBlocks(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &node.MemStorage{}
	data := prov.ProvisioningData{NetKey: key(1), IVIndex: 7, UnicastAddress: 0x0042}
	mk := func() *node.Node {
		n, err := node.New(node.Config{Bearer: &nopBearer{}, Storage: st, SeqBlock: 16, NoBeacon: true, KeyPair: newToyKeyPair(1)})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SelfProvision(now, data, key(2)); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := mk()
	for i := 0; i < 40; i++ {
		if err := n.Send(now, &node.Outgoing{DST: 0xffff, DevKey: true, TTL: 0, Opcode: opOnOffGet}); err != nil {
			t.Fatal(err)
		}
	}
	if n.Seq() != 40 || st.SeqWrites != 3 || st.SeqLimit != 48 {
		t.Fatalf("seq %d, writes %d, limit %d; want 40, 3, 48", n.Seq(), st.SeqWrites, st.SeqLimit)
	}
	// Reboot: a new node from the same storage starts at the limit.
	n2 := mk()
	if n2.Seq() != 48 {
		t.Fatalf("after reboot seq = %d, want 48", n2.Seq())
	}
	// A different IV Index starts over.
	st2 := &node.MemStorage{IVIndex: 6, SeqLimit: 1000, HasSeq: true}
	n3, _ := node.New(node.Config{Bearer: &nopBearer{}, Storage: st2, NoBeacon: true, KeyPair: newToyKeyPair(1)})
	_ = n3.SelfProvision(now, data, key(2))
	if n3.Seq() != 0 {
		t.Fatalf("seq with a stale IV Index: %d", n3.Seq())
	}
}

type nopBearer struct{ n int }

func (b *nopBearer) Send(*bearerAdv) error { b.n++; return nil }

// TestReplayPersisted: a message accepted before a reboot is rejected after
// it, because the replay list is restored from storage.
func TestReplayPersisted(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sndB := &captureB{}
	snd, _ := node.New(node.Config{Bearer: sndB, NoBeacon: true, KeyPair: newToyKeyPair(1)})
	_ = snd.SelfProvision(now, prov.ProvisioningData{NetKey: key(1), UnicastAddress: 0x0001}, key(9))
	_ = snd.AddDevKey(0x0002, 1, key(8))
	_ = snd.Send(now, &node.Outgoing{DST: 0x0002, DevKey: true, TTL: 3, Opcode: 0x8008, Params: []byte{0}}) // Composition Data Get
	if len(sndB.advs) != 1 {
		t.Fatalf("sent %d", len(sndB.advs))
	}
	st := &node.MemStorage{}
	mk := func() *node.Node {
		n, _ := node.New(node.Config{Bearer: &nopBearer{}, Storage: st, NoBeacon: true, KeyPair: newToyKeyPair(2)})
		_ = n.SelfProvision(now, prov.ProvisioningData{NetKey: key(1), UnicastAddress: 0x0002}, key(8))
		return n
	}
	r := mk()
	r.Receive(now, &sndB.advs[0])
	if r.Stats().ConfigHandled != 1 || st.ReplayWrites != 1 {
		t.Fatalf("first reception: %+v, replay writes %d", r.Stats(), st.ReplayWrites)
	}
	r2 := mk()
	r2.Receive(now, &sndB.advs[0])
	if s := r2.Stats(); s.ConfigHandled != 0 || s.Replays != 1 {
		t.Fatalf("replayed message after reboot: %+v", s)
	}
}
