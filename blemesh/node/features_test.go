//go:build !tinygo

package node_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/beacon"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/node"
)

// TestFriendLPN: a Low Power Node befriends a Friend (Friend Request, Offer,
// Poll, Update), goes to sleep, and receives the messages sent to it while it
// slept from the Friend's queue, one per poll.
func TestFriendLPN(t *testing.T) {
	w := newWorld(t, bearer.AirConfig{Seed: 3})
	p := w.provisioner(0x0001, node.Config{})
	friend := w.add(0x0f, node.Config{Friend: true, Relay: true}, nil)
	lpn := w.add(0x01, node.Config{Elements: []node.Element{onOffServer()},
		LPN: node.LPNConfig{PollInterval: 2 * time.Second, ReceiveDelay: 50}}, nil)
	w.air.LinkAll(0)
	w.join(p, friend, 0x0030, 1)
	w.join(p, lpn, 0x0040, 1)
	w.setupApp(p, 0x0040, 0, access.ModelID{ID: modelOnOffServer})

	if err := lpn.StartLowPower(w.now()); err != nil {
		t.Fatal(err)
	}
	if !w.run(5*time.Second, func() bool { ok, _ := lpn.LowPower(); return ok }) {
		t.Fatal("no friendship")
	}
	if _, f := lpn.LowPower(); f != 0x0030 {
		t.Fatalf("friend address %04x", f)
	}
	// Let the first poll/update exchange finish; the LPN then sleeps.
	w.run(500*time.Millisecond, func() bool {
		_, est := friend.FriendQueueLen(0x0040)
		return est
	})
	w.run(300*time.Millisecond, nil)
	for i := 0; i < 3; i++ {
		if err := p.Send(w.now(), &node.Outgoing{DST: 0x0040, AppKeyIndex: appKeyIndex, TTL: 5, Opcode: opOnOffSetUnack, Params: []byte{1, byte(i)}}); err != nil {
			t.Fatal(err)
		}
		w.run(10*time.Millisecond, nil)
	}
	if q, _ := friend.FriendQueueLen(0x0040); q != 3 {
		t.Fatalf("friend queue holds %d, want 3", q)
	}
	if got := len(w.received(lpn, opOnOffSetUnack)); got != 0 {
		t.Fatalf("the sleeping LPN received %d messages directly", got)
	}
	if lpn.Stats().LPNAsleepDropped == 0 {
		t.Fatal("the LPN heard nothing while asleep")
	}
	if !w.run(5*time.Second, func() bool { return len(w.received(lpn, opOnOffSetUnack)) == 3 }) {
		t.Fatalf("LPN got %d of 3 queued messages; friend %+v lpn %+v", len(w.received(lpn, opOnOffSetUnack)), friend.Stats(), lpn.Stats())
	}
	for i, m := range w.received(lpn, opOnOffSetUnack) {
		if m.params[1] != byte(i) || m.SRC != 0x0001 || m.TTL != 4 {
			t.Fatalf("message %d: %+v", i, m.Message)
		}
	}
	if q, _ := friend.FriendQueueLen(0x0040); q != 0 {
		t.Fatalf("queue not drained: %d", q)
	}
	// The friendship survives several poll intervals.
	w.run(10*time.Second, nil)
	if ok, _ := lpn.LowPower(); !ok {
		t.Fatal("friendship lost")
	}
	if _, est := friend.FriendQueueLen(0x0040); !est {
		t.Fatal("friend dropped the LPN")
	}
}

// TestIVUpdate: a node starts an IV Update; Secure Network beacons carry it
// to the others, messages keep flowing during and after it, and sequence
// numbers restart at the new IV Index.
func TestIVUpdate(t *testing.T) {
	w := newWorld(t, bearer.AirConfig{Seed: 5})
	ivc := beacon.IVConfig{TestMode: true}
	p := w.provisioner(0x0001, node.Config{IV: ivc, BeaconInterval: time.Second})
	a := w.add(0x0a, node.Config{IV: ivc, Elements: []node.Element{onOffServer()}, BeaconInterval: time.Second}, nil)
	b := w.add(0x0b, node.Config{IV: ivc, Relay: true, BeaconInterval: time.Second}, nil)
	w.air.LinkAll(0)
	w.join(p, a, 0x0100, 1)
	w.join(p, b, 0x0200, 1)
	w.setupApp(p, 0x0100, 0, access.ModelID{ID: modelOnOffServer})
	iv0, _ := p.IVIndex()
	send := func(tid byte) bool {
		before := len(w.received(a, opOnOffSetUnack))
		_ = p.Send(w.now(), &node.Outgoing{DST: 0x0100, AppKeyIndex: appKeyIndex, TTL: 0xff, Opcode: opOnOffSetUnack, Params: []byte{1, tid}})
		return w.run(time.Second, func() bool { return len(w.received(a, opOnOffSetUnack)) > before })
	}
	if !send(1) {
		t.Fatal("message before IV Update")
	}
	if err := p.StartIVUpdate(w.now()); err != nil {
		t.Fatal(err)
	}
	if !w.run(5*time.Second, func() bool {
		for _, n := range []*node.Node{a, b} {
			if iv, upd := n.IVIndex(); iv != iv0+1 || !upd {
				return false
			}
		}
		return true
	}) {
		ia, ua := a.IVIndex()
		t.Fatalf("IV Update not propagated: a = %x %v", ia, ua)
	}
	if !send(2) {
		t.Fatal("message during IV Update")
	}
	seqBefore := p.Seq()
	if err := p.FinishIVUpdate(w.now()); err != nil {
		t.Fatal(err)
	}
	if p.Seq() != 0 || seqBefore == 0 {
		t.Fatalf("SEQ not reset: %d -> %d", seqBefore, p.Seq())
	}
	if !w.run(5*time.Second, func() bool {
		for _, n := range []*node.Node{a, b} {
			if iv, upd := n.IVIndex(); iv != iv0+1 || upd {
				return false
			}
		}
		return true
	}) {
		t.Fatal("IV Update not finished everywhere")
	}
	if a.Seq() > 16 {
		t.Fatalf("a did not reset SEQ: %d", a.Seq())
	}
	if !send(3) {
		t.Fatal("message after IV Update")
	}
}

// TestKeyRefresh: the provisioner distributes a new NetKey and AppKey with
// Config NetKey Update / AppKey Update (phase 1), moves itself to phase 2 and
// 3 with Config Key Refresh Phase Set, and the others follow its Secure
// Network beacons; afterwards only the new keys work, and a node left out
// of the refresh is cut off.
func TestKeyRefresh(t *testing.T) {
	w := newWorld(t, bearer.AirConfig{Seed: 9})
	cfg := node.Config{BeaconInterval: time.Second}
	p := w.provisioner(0x0001, cfg)
	c := cfg
	c.Elements = []node.Element{onOffServer()}
	a := w.add(0x0a, c, nil)
	evicted := w.add(0x0e, c, nil)
	w.air.LinkAll(0)
	w.join(p, a, 0x0100, 1)
	w.join(p, evicted, 0x0200, 1)
	w.setupApp(p, 0x0100, 0, access.ModelID{ID: modelOnOffServer})
	w.setupApp(p, 0x0200, 0, access.ModelID{ID: modelOnOffServer})
	group := func(tid byte) (toA, toEvicted bool) {
		ba, be := len(w.received(a, opOnOffSetUnack)), len(w.received(evicted, opOnOffSetUnack))
		_ = p.Send(w.now(), &node.Outgoing{DST: access.AddrAllNodes, AppKeyIndex: appKeyIndex, TTL: 0xff, Opcode: opOnOffSetUnack, Params: []byte{0, tid}})
		w.run(time.Second, nil)
		return len(w.received(a, opOnOffSetUnack)) > ba, len(w.received(evicted, opOnOffSetUnack)) > be
	}
	if x, y := group(1); !x || !y {
		t.Fatalf("before refresh: %v %v", x, y)
	}
	nk := access.NetKeyAdd{Update: true, NetKeyIndex: netKeyIndex, NetKey: key(testNewNetKeyByte)}
	nkb, _ := nk.AppendBinary(nil)
	ak := access.AppKeyAdd{Update: true, NetKeyIndex: netKeyIndex, AppKeyIndex: appKeyIndex, AppKey: key(testNewAppKeyByte)}
	akb, _ := ak.AppendBinary(nil)
	for _, addr := range []uint16{0x0001, 0x0100} {
		if st := w.config(p, addr, access.OpNetKeyUpdate, nkb); st[0] != access.StatusSuccess {
			t.Fatalf("NetKey Update %04x: %d", addr, st[0])
		}
		if st := w.config(p, addr, access.OpAppKeyUpdate, akb); st[0] != access.StatusSuccess {
			t.Fatalf("AppKey Update %04x: %d", addr, st[0])
		}
	}
	if ph, _ := a.KeyRefreshPhase(netKeyIndex); ph != 1 {
		t.Fatalf("a in phase %d", ph)
	}
	// Phase 1: old keys still used; everyone receives.
	if x, y := group(2); !x || !y {
		t.Fatalf("phase 1: %v %v", x, y)
	}
	// Phase 2 on the provisioner; beacons with the KR flag, authenticated
	// with the new key, move a.
	if st := w.config(p, 0x0001, access.OpKeyRefreshPhaseSet, []byte{0, 0, 2}); st[0] != access.StatusSuccess || st[3] != 2 {
		t.Fatalf("phase set 2: %x", st)
	}
	if !w.run(5*time.Second, func() bool { ph, _ := a.KeyRefreshPhase(netKeyIndex); return ph == 2 }) {
		t.Fatal("a did not follow to phase 2")
	}
	if x, y := group(3); !x || y {
		t.Fatalf("phase 2 (new keys): a %v, evicted %v", x, y)
	}
	if st := w.config(p, 0x0001, access.OpKeyRefreshPhaseSet, []byte{0, 0, 3}); st[0] != access.StatusSuccess || st[3] != 0 {
		t.Fatalf("phase set 3: %x", st)
	}
	if !w.run(5*time.Second, func() bool { ph, _ := a.KeyRefreshPhase(netKeyIndex); return ph == 0 }) {
		t.Fatal("a did not revoke the old key")
	}
	if got := a.ConfigServer().NetKeys[0].Key; got != key(testNewNetKeyByte) {
		t.Fatalf("a's NetKey after refresh: %x", got)
	}
	if x, y := group(4); !x || y {
		t.Fatalf("after refresh: a %v, evicted %v", x, y)
	}
	if evicted.Stats().NetDropped == 0 {
		t.Fatal("the evicted node dropped nothing")
	}
	// The old NetKey is useless now: a PDU from the evicted node is dropped
	// by a.
	before := a.Stats().NetDropped
	_ = evicted.Send(w.now(), &node.Outgoing{DST: 0x0100, AppKeyIndex: appKeyIndex, TTL: 0xff, Opcode: opOnOffSetUnack, Params: []byte{0, 9}})
	w.run(time.Second, nil)
	if a.Stats().NetDropped == before {
		t.Fatal("a accepted a PDU under the revoked key")
	}
}
