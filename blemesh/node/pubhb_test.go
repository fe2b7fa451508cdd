//go:build !tinygo

package node_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/node"
)

// collidingLabels returns two Label UUIDs with the same virtual address
// (the address is a 14-bit hash, so a few hundred tries find a pair).
func collidingLabels(t *testing.T) (a, b [16]byte, va uint16) {
	t.Helper()
	seen := map[uint16][16]byte{}
	for i := 0; i < 1<<16; i++ {
		var l [16]byte
		l[0], l[1], l[15] = byte(i), byte(i>>8), 0x5a
		v := crypto.VirtualAddress(l)
		if o, ok := seen[v]; ok {
			return o, l, v
		}
		seen[v] = l
	}
	t.Fatal("no colliding labels")
	return
}

func virtSubParams(elem uint16, label [16]byte, model uint16) []byte {
	b := []byte{byte(elem), byte(elem >> 8)}
	b = append(b, label[:]...)
	m := model
	return append(b, byte(m), byte(m>>8))
}

// TestVirtualAddresses: a publisher publishes to a Label UUID; the two
// subscribers of that label receive the message, a subscriber of another
// label with the same 16-bit virtual address does not (the label is CCM
// additional data), and vice versa; a deleted subscription stops delivery.
func TestVirtualAddresses(t *testing.T) {
	w := newWorld(t, bearer.AirConfig{Seed: 11})
	p := w.provisioner(0x0001, node.Config{})
	pub := w.add(0x05, node.Config{Elements: []node.Element{onOffClient()}}, nil)
	s1 := w.add(0x0a, node.Config{Elements: []node.Element{onOffServer()}}, nil)
	s2 := w.add(0x0b, node.Config{Elements: []node.Element{onOffServer()}}, nil)
	s3 := w.add(0x0c, node.Config{Elements: []node.Element{onOffServer()}}, nil)
	w.air.LinkAll(0)
	w.join(p, pub, 0x0010, 1)
	server := access.ModelID{ID: modelOnOffServer}
	client := access.ModelID{ID: modelOnOffClient}
	w.setupApp(p, 0x0010, 0, client)
	la, lb, va := collidingLabels(t)
	if la == lb {
		t.Fatal("same label")
	}
	for i, s := range []*node.Node{s1, s2, s3} {
		addr := uint16(0x0100 + i)
		w.join(p, s, addr, 1)
		w.setupApp(p, addr, 0, server)
		label := la
		if s == s3 {
			label = lb
		}
		st := w.config(p, addr, access.OpModelSubscriptionVirtualAdd, virtSubParams(addr, label, modelOnOffServer))
		if st[0] != access.StatusSuccess || uint16(st[3])|uint16(st[4])<<8 != va {
			t.Fatalf("virtual subscription add on %04x: %x (want address %04x)", addr, st, va)
		}
	}
	// Publication to label A through Config Model Publication Virtual Set.
	pp := []byte{0x10, 0x00}
	pp = append(pp, la[:]...)
	pp = append(pp, byte(appKeyIndex), byte(appKeyIndex>>8), 5, 0, 0, 0x01, 0x10) // TTL 5, no period, no retransmit, model 0x1001
	if st := w.config(p, 0x0010, access.OpModelPublicationVirtualSet, pp); st[0] != access.StatusSuccess || uint16(st[3])|uint16(st[4])<<8 != va {
		t.Fatalf("publication virtual set: %x", st)
	}
	if err := pub.Publish(w.now(), 0, client, opOnOffSetUnack, []byte{1, 1}); err != nil {
		t.Fatal(err)
	}
	w.run(500*time.Millisecond, nil)
	for _, s := range []*node.Node{s1, s2} {
		got := w.received(s, opOnOffSetUnack)
		if len(got) != 1 || got[0].DST != va || got[0].params[1] != 1 {
			t.Fatalf("subscriber of label A at %04x got %+v", s.Address(), got)
		}
	}
	if got := w.received(s3, opOnOffSetUnack); len(got) != 0 {
		t.Fatalf("subscriber of label B got a message to label A: %+v", got)
	}
	if s3.Stats().UpperDropped == 0 {
		t.Fatal("label B's subscriber did not even try the message")
	}
	// Label B explicitly: only s3.
	if err := pub.Send(w.now(), &node.Outgoing{Label: &lb, AppKeyIndex: appKeyIndex, TTL: 5, Opcode: opOnOffSetUnack, Params: []byte{0, 2}}); err != nil {
		t.Fatal(err)
	}
	w.run(500*time.Millisecond, nil)
	if got := w.received(s3, opOnOffSetUnack); len(got) != 1 || got[0].params[1] != 2 || got[0].DST != va {
		t.Fatalf("label B subscriber got %+v", got)
	}
	for _, s := range []*node.Node{s1, s2} {
		if got := w.received(s, opOnOffSetUnack); len(got) != 1 {
			t.Fatalf("label A subscriber got label B's message: %+v", got)
		}
	}
	// A virtual DST without a label is refused: the address is ambiguous.
	if err := p.Send(w.now(), &node.Outgoing{DST: va, AppKeyIndex: appKeyIndex, TTL: 5, Opcode: opOnOffSetUnack, Params: []byte{0, 3}}); err != node.ErrNoLabel {
		t.Fatalf("send to bare virtual address: %v", err)
	}
	// Delete s2's subscription; overwrite s3's with label A.
	if st := w.config(p, 0x0101, access.OpModelSubscriptionVirtualDelete, virtSubParams(0x0101, la, modelOnOffServer)); st[0] != access.StatusSuccess {
		t.Fatalf("virtual delete: %x", st)
	}
	if st := w.config(p, 0x0102, access.OpModelSubscriptionVirtualOverwrite, virtSubParams(0x0102, la, modelOnOffServer)); st[0] != access.StatusSuccess {
		t.Fatalf("virtual overwrite: %x", st)
	}
	if err := pub.Publish(w.now(), 0, client, opOnOffSetUnack, []byte{1, 4}); err != nil {
		t.Fatal(err)
	}
	w.run(500*time.Millisecond, nil)
	if n := len(w.received(s1, opOnOffSetUnack)); n != 2 {
		t.Fatalf("s1 got %d messages, want 2", n)
	}
	if n := len(w.received(s2, opOnOffSetUnack)); n != 1 {
		t.Fatalf("s2 got %d messages after unsubscribing, want 1", n)
	}
	if got := w.received(s3, opOnOffSetUnack); len(got) != 2 || got[1].params[1] != 4 {
		t.Fatalf("s3 after overwrite got %+v", got)
	}
}

// TestHeartbeat: a publisher sends heartbeats to a group through a relay;
// the subscriber counts them with the right hop counts, the statuses
// report the logs, and a feature change triggers an extra heartbeat.
func TestHeartbeat(t *testing.T) {
	w := newWorld(t, bearer.AirConfig{Seed: 13})
	p := w.provisioner(0x0001, node.Config{})
	a := w.add(0x0a, node.Config{}, nil)
	r := w.add(0x0b, node.Config{Relay: true}, nil)
	type hb struct {
		src  uint16
		hops uint8
		feat uint16
	}
	var beats []hb
	s := w.add(0x0c, node.Config{OnHeartbeat: func(src, dst uint16, hops uint8, feat uint16) {
		beats = append(beats, hb{src, hops, feat})
	}}, nil)
	// A star around the relay: A and S hear each other only through it.
	for _, x := range []*node.Node{p, a, s} {
		w.air.Link(w.radios[x], w.radios[r], 0)
	}
	w.join(p, a, 0x0010, 1)
	w.join(p, r, 0x0020, 1)
	w.join(p, s, 0x0030, 1)
	for _, x := range []uint16{0x0010, 0x0030} {
		if st := w.config(p, x, access.OpRelaySet, []byte{access.FeatureDisabled, 0}); st[0] != access.FeatureDisabled {
			t.Fatalf("relay set: %x", st)
		}
	}
	const group = 0xc0ff
	// Subscription: source A, destination the group, 64 s.
	if st := w.config(p, 0x0030, access.OpHeartbeatSubscriptionSet, []byte{0x10, 0x00, 0xff, 0xc0, 7}); st[0] != access.StatusSuccess {
		t.Fatalf("heartbeat subscription set: %x", st)
	}
	// Publication: 4 heartbeats (count log 3), every 2 s (period log 2),
	// TTL 5, triggered by Relay changes, NetKey 0.
	hp := access.HeartbeatPublication{Destination: group, CountLog: 3, PeriodLog: 2, TTL: 5, Features: node.HeartbeatRelay}
	b, _ := hp.AppendBinary(nil)
	start := w.now()
	if st := w.config(p, 0x0010, access.OpHeartbeatPublicationSet, b); st[0] != access.StatusSuccess {
		t.Fatalf("heartbeat publication set: %x", st)
	}
	w.run(10*time.Second, nil)
	if len(beats) != 4 {
		t.Fatalf("subscriber counted %d heartbeats, want 4 (A sent %d)", len(beats), a.Stats().HeartbeatsSent)
	}
	for _, x := range beats {
		if x.src != 0x0010 || x.hops != 2 || x.feat != 0 {
			t.Fatalf("heartbeat %+v: want src 0010, 2 hops (one relay), no features", x)
		}
	}
	sub, count := s.HeartbeatSubscription(w.now())
	if count != 4 || sub.MinHops != 2 || sub.MaxHops != 2 || sub.CountLog != 3 {
		t.Fatalf("subscription state %+v count %d", sub, count)
	}
	// The Status over the air: Source, Destination, PeriodLog (remaining
	// 64 s - ~10 s → log 6), CountLog 3, MinHops 2, MaxHops 2.
	st := w.config(p, 0x0030, access.OpHeartbeatSubscriptionGet, nil)
	if len(st) != 9 || st[0] != access.StatusSuccess || st[1] != 0x10 || st[3] != 0xff || st[5] != 6 || st[6] != 3 || st[7] != 2 || st[8] != 2 {
		t.Fatalf("heartbeat subscription status %x", st)
	}
	// Publication done: count log 0.
	if st := w.config(p, 0x0010, access.OpHeartbeatPublicationGet, nil); st[0] != access.StatusSuccess || st[3] != 0 || st[4] != 2 {
		t.Fatalf("heartbeat publication status %x", st)
	}
	_ = start
	// Enabling A's relay triggers a heartbeat announcing it.
	if st := w.config(p, 0x0010, access.OpRelaySet, []byte{access.FeatureEnabled, 0}); st[0] != access.FeatureEnabled {
		t.Fatalf("relay set: %x", st)
	}
	w.run(2*time.Second, nil)
	if len(beats) != 5 || beats[4].feat != node.HeartbeatRelay || beats[4].hops != 2 {
		t.Fatalf("triggered heartbeat: %+v", beats)
	}
	// Heartbeats from another source are not counted.
	if st := w.config(p, 0x0020, access.OpHeartbeatPublicationSet, b); st[0] != access.StatusSuccess {
		t.Fatalf("heartbeat publication set on the relay: %x", st)
	}
	w.run(10*time.Second, nil)
	if _, count := s.HeartbeatSubscription(w.now()); count != 5 || s.Stats().HeartbeatsRx < 9 {
		t.Fatalf("count %d after the relay's heartbeats (received %d)", count, s.Stats().HeartbeatsRx)
	}
	// The subscription period ends: nothing more is counted.
	w.run(60*time.Second, nil)
	if st := w.config(p, 0x0010, access.OpHeartbeatPublicationSet, b); st[0] != access.StatusSuccess {
		t.Fatal("publication set")
	}
	w.run(10*time.Second, nil)
	if sub, count := s.HeartbeatSubscription(w.now()); count != 5 || sub.PeriodLog != 0 {
		t.Fatalf("after the period: count %d state %+v", count, sub)
	}
}

// TestPeriodicPublish: a sensor model with a 500 ms publish period and two
// retransmissions 100 ms apart publishes its state on time; turning the
// period off stops it.
func TestPeriodicPublish(t *testing.T) {
	w := newWorld(t, bearer.AirConfig{Seed: 17})
	p := w.provisioner(0x0001, node.Config{})
	var level byte
	el := onOffServer()
	el.Models[0].State = func(now time.Time, params []byte) (access.Opcode, []byte, bool) {
		level++
		return opOnOffStatus, append(params, level&1, level), true
	}
	sensor := w.add(0x0a, node.Config{Elements: []node.Element{el}}, nil)
	sink := w.add(0x0b, node.Config{Elements: []node.Element{onOffClient()}}, nil)
	w.air.LinkAll(0)
	w.join(p, sensor, 0x0010, 1)
	w.join(p, sink, 0x0020, 1)
	server := access.ModelID{ID: modelOnOffServer}
	w.setupApp(p, 0x0010, 0, server)
	w.setupApp(p, 0x0020, 0, access.ModelID{ID: modelOnOffClient})
	pub := access.ModelPublication{ElementAddress: 0x0010, PublishAddress: 0x0020, AppKeyIndex: appKeyIndex, PublishTTL: 3,
		PublishPeriod: 5, RetransmitCount: 2, RetransmitIntervalSteps: 1, Model: server}
	b, _ := pub.AppendBinary(nil)
	if st := w.config(p, 0x0010, access.OpModelPublicationSet, b); st[0] != access.StatusSuccess {
		t.Fatalf("publication set: %x", st)
	}
	set := w.now()
	w.run(2750*time.Millisecond, nil)
	got := w.received(sink, opOnOffStatus)
	if len(got) != 15 {
		t.Fatalf("sink got %d messages, want 5 publications x 3 transmissions", len(got))
	}
	for i, m := range got {
		k := i / 3
		if m.params[1] != byte(k+1) || m.SRC != 0x0010 {
			t.Fatalf("message %d: %x from %04x", i, m.params, m.SRC)
		}
		// Publication k at (k+1) × 500 ms, retransmission j 100 ms × j later.
		// (Relative to the first: the Set took effect a little before
		// the status came back.)
		want := time.Duration(k)*500*time.Millisecond + time.Duration(i%3)*100*time.Millisecond
		if d := m.at.Sub(got[0].at) - want; d < -2*time.Millisecond || d > 2*time.Millisecond {
			t.Fatalf("message %d at %v, want %v", i, m.at.Sub(got[0].at), want)
		}
	}
	if first := got[0].at.Sub(set); first < 400*time.Millisecond || first > 500*time.Millisecond {
		t.Fatalf("first publication %v after the status, want one period (500 ms) after the Set", first)
	}
	if st := sensor.Stats(); st.Published != 15 || st.PubFailed != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Period 0: no more periodic publications.
	pub.PublishPeriod = 0
	b, _ = pub.AppendBinary(nil)
	if st := w.config(p, 0x0010, access.OpModelPublicationSet, b); st[0] != access.StatusSuccess {
		t.Fatalf("publication set: %x", st)
	}
	before := len(w.received(sink, opOnOffStatus))
	w.run(3*time.Second, nil)
	if n := len(w.received(sink, opOnOffStatus)); n != before {
		t.Fatalf("%d publications after the period was turned off", n-before)
	}
	if node.PublishPeriod(0x41) != time.Second || node.PublishPeriod(0x82) != 20*time.Second || node.PublishPeriod(0xc1) != 10*time.Minute {
		t.Fatal("PublishPeriod resolutions")
	}
}
