//go:build !tinygo

package node_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/beacon"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

type rxMsg struct {
	node.Message
	params []byte
	at     time.Time
}

// world is a set of nodes on an in-memory air.
type world struct {
	t      *testing.T
	air    *bearer.Air
	nodes  []*node.Node
	radios map[*node.Node]*bearer.Radio
	rx     map[*node.Node][]rxMsg
	seed   uint64
}

func newWorld(t *testing.T, cfg bearer.AirConfig) *world {
	return &world{t: t, air: bearer.NewAir(cfg), radios: map[*node.Node]*bearer.Radio{}, rx: map[*node.Node][]rxMsg{}}
}

func (w *world) now() time.Time { return w.air.Now() }

// add creates a node; app, when set, answers application messages.
func (w *world) add(uuid byte, cfg node.Config, app func(n *node.Node, now time.Time, m *node.Message)) *node.Node {
	w.t.Helper()
	r := w.air.Join(nil)
	cfg.Bearer = r
	for i := range cfg.UUID {
		cfg.UUID[i] = uuid
	}
	w.seed++
	cfg.Rand = &seqReader{s: w.seed * 1000}
	if cfg.KeyPair == nil {
		cfg.KeyPair = testKeyPair(uuid)
	}
	cfg.Handler = func(n *node.Node, now time.Time, m *node.Message) {
		w.rx[n] = append(w.rx[n], rxMsg{Message: *m, params: append([]byte(nil), m.Params...), at: now})
		if app != nil {
			app(n, now, m)
		}
	}
	n, err := node.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	r.Attach(n)
	w.nodes = append(w.nodes, n)
	w.radios[n] = r
	return n
}

func (w *world) run(d time.Duration, done func() bool) bool {
	w.t.Helper()
	ok, err := w.air.Run(d, done)
	if err != nil {
		w.t.Fatal(err)
	}
	return ok
}

// received returns the messages n's handler got with opcode op.
func (w *world) received(n *node.Node, op access.Opcode) []rxMsg {
	var out []rxMsg
	for _, m := range w.rx[n] {
		if m.Opcode == op {
			out = append(out, m)
		}
	}
	return out
}

// config sends a Configuration Client message from p to dst and waits for
// the status, retrying; it returns the status parameters.
func (w *world) config(p *node.Node, dst uint16, op access.Opcode, params []byte) []byte {
	w.t.Helper()
	want, ok := access.StatusFor(op)
	if !ok {
		w.t.Fatalf("no status for %v", op)
	}
	for attempt := 0; attempt < 5; attempt++ {
		before := len(w.rx[p])
		if err := p.SendConfig(w.now(), dst, op, params); err != nil {
			w.t.Fatalf("send config %v: %v", op, err)
		}
		var got []byte
		w.run(5*time.Second, func() bool {
			for _, m := range w.rx[p][before:] {
				if m.Opcode == want && m.SRC == dst && m.DevKey {
					got = m.params
					return true
				}
			}
			return false
		})
		if got != nil {
			return got
		}
	}
	w.t.Fatalf("no %v from %04x", want, dst)
	return nil
}

func (w *world) provisioner(addr uint16, cfg node.Config) *node.Node {
	w.t.Helper()
	cfg.Relay = true
	p := w.add(0xf0, cfg, nil)
	data := prov.ProvisioningData{NetKey: key(testNetKeyByte), KeyIndex: netKeyIndex, IVIndex: 0x12345677, UnicastAddress: addr}
	if err := p.SelfProvision(w.now(), data, key(0xd0)); err != nil {
		w.t.Fatal(err)
	}
	var b []byte
	add := access.AppKeyAdd{NetKeyIndex: netKeyIndex, AppKeyIndex: appKeyIndex, AppKey: key(testAppKeyByte)}
	b, _ = add.AppendBinary(b)
	if st := w.config(p, addr, access.OpAppKeyAdd, b); st[0] != access.StatusSuccess {
		w.t.Fatalf("own AppKey Add: status %d", st[0])
	}
	return p
}

// join provisions n without PB-ADV (SelfProvision with a device key the
// provisioner learns), for the nodes a scenario does not provision over
// the air.
func (w *world) join(p, n *node.Node, addr uint16, elems uint8) {
	w.t.Helper()
	iv, upd := p.IVIndex()
	var flags uint8
	if upd {
		flags = prov.FlagIVUpdate
	}
	dk := key(byte(addr))
	data := prov.ProvisioningData{NetKey: key(testNetKeyByte), KeyIndex: netKeyIndex, IVIndex: iv, Flags: flags, UnicastAddress: addr}
	if err := n.SelfProvision(w.now(), data, dk); err != nil {
		w.t.Fatal(err)
	}
	if err := p.AddDevKey(addr, elems, dk); err != nil {
		w.t.Fatal(err)
	}
}

// setupApp gives node at addr the AppKey and binds model on element elem.
func (w *world) setupApp(p *node.Node, addr uint16, elem uint16, models ...access.ModelID) {
	w.t.Helper()
	add := access.AppKeyAdd{NetKeyIndex: netKeyIndex, AppKeyIndex: appKeyIndex, AppKey: key(testAppKeyByte)}
	b, _ := add.AppendBinary(nil)
	if st := w.config(p, addr, access.OpAppKeyAdd, b); st[0] != access.StatusSuccess && st[0] != access.StatusKeyIndexAlreadyStored {
		w.t.Fatalf("AppKey Add to %04x: status %d", addr, st[0])
	}
	for _, m := range models {
		bind := access.ModelAppBind{ElementAddress: addr + elem, AppKeyIndex: appKeyIndex, Model: m}
		b, _ := bind.AppendBinary(nil)
		if st := w.config(p, addr, access.OpModelAppBind, b); st[0] != access.StatusSuccess {
			w.t.Fatalf("Model App Bind %04x %v: status %d", addr, m, st[0])
		}
	}
}

// lightApp answers Generic OnOff Set with a Status.
func lightApp(n *node.Node, now time.Time, m *node.Message) {
	if m.Opcode == opOnOffSet && len(m.Params) >= 2 {
		_ = n.Send(now, &node.Outgoing{Element: m.Element, DST: m.SRC, AppKeyIndex: m.AppKeyIndex, TTL: 0xff,
			Opcode: opOnOffStatus, Params: m.Params[:1]})
	}
}

// TestProvisionConfigureRelay provisions a light over PB-ADV, configures it
// and a switch with the Configuration Client (AppKey Add, Model App Bind,
// Model Subscription Add, Model Publication Set), then sends messages from
// the switch to the light over a chain of four relays (5 hops) with 20 %
// loss on every link: unacknowledged publications to a group, acknowledged
// Set/Status round trips, and a segmented vendor message.
func TestProvisionConfigureRelay(t *testing.T) {
	w := newWorld(t, bearer.AirConfig{Seed: 7, Delay: 2 * time.Millisecond, Jitter: 3 * time.Millisecond})
	base := node.Config{TransmitCount: 2, RelayCount: 2, IV: beacon.IVConfig{TestMode: true}}
	p := w.provisioner(0x0001, base)
	light := w.add(0x0d, node.Config{Elements: []node.Element{onOffServer()}, TransmitCount: 2,
		UnprovBeaconPeriod: time.Second}, lightApp)
	sw := w.add(0x05, node.Config{Elements: []node.Element{onOffClient()}, TransmitCount: 2}, nil)
	var relays []*node.Node
	for i := 0; i < 4; i++ {
		cfg := base
		cfg.Relay = true
		relays = append(relays, w.add(byte(0x20+i), cfg, nil))
	}
	// Phase A: everyone hears everyone, 10 % loss. The light is found by its
	// Unprovisioned Device beacon and provisioned over PB-ADV.
	w.air.LinkAll(10)
	var seen [16]byte
	found := false
	// (the provisioner node's OnUnprovisioned is not set in base; look at
	// the light's beacons through a scanner station instead)
	sc := &scanner{}
	sr := w.air.Join(sc)
	for _, n := range w.nodes {
		w.air.Link(sr, w.radios[n], 0)
	}
	w.run(3*time.Second, func() bool {
		if u, ok := sc.unprovisioned(0x0d); ok {
			seen, found = u, true
		}
		return found
	})
	if !found || seen[0] != 0x0d {
		t.Fatalf("no unprovisioned beacon from the light (got %x)", seen)
	}
	const lightAddr = 0x0100
	if err := p.ProvisionDevice(w.now(), seen, lightAddr); err != nil {
		t.Fatal(err)
	}
	if !w.run(2*time.Minute, func() bool { return p.ProvisionResult().Done && light.Provisioned() }) {
		t.Fatalf("provisioning did not finish: %+v", p.ProvisionResult())
	}
	if res := p.ProvisionResult(); res.Err != nil || light.Address() != lightAddr || res.Elements != 1 {
		t.Fatalf("provisioning: %+v, light address %04x", res, light.Address())
	}
	t.Logf("provisioned the light over PB-ADV at %v (simulated)", w.now().Sub(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)))

	// The others join directly; the provisioner knows their device keys.
	w.join(p, sw, 0x0010, 1)
	for i, r := range relays {
		w.join(p, r, uint16(0x0020+i), 1)
	}

	// Phase B: configuration through the Configuration Client.
	comp := w.config(p, lightAddr, access.OpCompositionDataGet, []byte{0})
	var page access.CompositionPage0
	if _, err := page.Decode(comp[1:]); err != nil {
		t.Fatalf("composition data: %v", err)
	}
	it := page.Iter()
	var el access.Element
	if !it.Next(&el) || el.NumS != 3 || el.SIGModel(2) != modelOnOffServer || el.NumV != 1 {
		t.Fatalf("composition element: %+v", el)
	}
	w.setupApp(p, lightAddr, 0, access.ModelID{ID: modelOnOffServer}, access.ModelID{Vendor: true, CompanyID: vendorCompany, ID: 1})
	w.setupApp(p, 0x0010, 0, access.ModelID{ID: modelOnOffClient})
	sub := access.ModelSubscription{ElementAddress: lightAddr, Address: groupLights, Model: access.ModelID{ID: modelOnOffServer}}
	b, _ := sub.AppendBinary(nil)
	if st := w.config(p, lightAddr, access.OpModelSubscriptionAdd, b); st[0] != access.StatusSuccess {
		t.Fatalf("subscription add: %d", st[0])
	}
	pub := access.ModelPublication{ElementAddress: 0x0010, PublishAddress: groupLights, AppKeyIndex: appKeyIndex,
		PublishTTL: 7, Model: access.ModelID{ID: modelOnOffClient}}
	b, _ = pub.AppendBinary(nil)
	if st := w.config(p, 0x0010, access.OpModelPublicationSet, b); st[0] != access.StatusSuccess {
		t.Fatalf("publication set: %d", st[0])
	}
	if got := sw.ConfigServer().Models; len(got) < 3 || got[2].Pub.PublishAddress != groupLights {
		t.Fatalf("switch publication not stored: %+v", got)
	}
	// Relay states: the relays relay, the end nodes do not.
	for _, n := range []*node.Node{sw, light} {
		st := w.config(p, n.Address(), access.OpRelaySet, []byte{access.FeatureDisabled, 0})
		if st[0] != access.FeatureDisabled {
			t.Fatalf("relay set: %x", st)
		}
	}

	// Phase C: a chain switch - r0 - r1 - r2 - r3 - light, 20 % loss per link.
	for _, x := range w.nodes {
		for _, y := range w.nodes {
			if x != y {
				w.air.Unlink(w.radios[x], w.radios[y])
			}
		}
	}
	chain := []*bearer.Radio{w.radios[sw]}
	for _, r := range relays {
		chain = append(chain, w.radios[r])
	}
	chain = append(chain, w.radios[light])
	w.air.Chain(20, chain...)

	const N = 20
	client := access.ModelID{ID: modelOnOffClient}
	for i := 0; i < N; i++ {
		if err := sw.Publish(w.now(), 0, client, opOnOffSetUnack, []byte{byte(i & 1), byte(i)}); err != nil {
			t.Fatal(err)
		}
		w.run(500*time.Millisecond, nil)
	}
	got := w.received(light, opOnOffSetUnack)
	tids := map[byte]bool{}
	for _, m := range got {
		if m.DST != groupLights || m.SRC != 0x0010 || m.TTL != 3 {
			t.Fatalf("unexpected delivery %+v (TTL 3 means four relays)", m.Message)
		}
		tids[m.params[1]] = true
	}
	if len(got) != len(tids) {
		t.Fatalf("duplicates delivered: %d messages, %d distinct", len(got), len(tids))
	}
	if len(tids) < N*8/10 {
		t.Fatalf("only %d/%d publications crossed 5 lossy hops", len(tids), N)
	}
	t.Logf("publications over 5 hops with 20%% loss: %d/%d delivered", len(tids), N)

	// Acknowledged: Set -> Status round trips over the chain.
	okRT := 0
	for i := 0; i < 5; i++ {
		before := len(w.received(sw, opOnOffStatus))
		_ = sw.Send(w.now(), &node.Outgoing{DST: lightAddr, AppKeyIndex: appKeyIndex, TTL: 0xff, Opcode: opOnOffSet, Params: []byte{1, byte(100 + i)}})
		if w.run(2*time.Second, func() bool { return len(w.received(sw, opOnOffStatus)) > before }) {
			okRT++
		}
	}
	if okRT < 4 {
		t.Fatalf("only %d/5 Set/Status round trips", okRT)
	}

	// Segmented: a 40-octet vendor message, acknowledged segment by segment.
	payload := bytes.Repeat([]byte{0xa5, 0x5a}, 20)
	delivered := false
	for attempt := 0; attempt < 3 && !delivered; attempt++ {
		if err := sw.Send(w.now(), &node.Outgoing{DST: lightAddr, AppKeyIndex: appKeyIndex, TTL: 0xff, Opcode: opVendorData, Params: payload}); err != nil {
			t.Fatal(err)
		}
		delivered = w.run(10*time.Second, func() bool {
			return len(w.received(light, opVendorData)) > 0 && sw.SegmentsInFlight() == 0
		})
	}
	if !delivered {
		t.Fatalf("segmented message not delivered; switch stats %+v", sw.Stats())
	}
	if m := w.received(light, opVendorData)[0]; !bytes.Equal(m.params, payload) {
		t.Fatalf("segmented payload %x", m.params)
	}
	if st := sw.Stats(); st.SegDelivered == 0 {
		t.Fatalf("segmented send not acknowledged: %+v", st)
	}
	for i, r := range relays {
		if r.Stats().Relayed == 0 {
			t.Fatalf("relay %d relayed nothing", i)
		}
	}
	t.Logf("air: %+v", w.air.Stats())
}

// scanner is a passive station that remembers Unprovisioned Device beacons.
type scanner struct {
	seen map[[16]byte]bool
}

func (s *scanner) Receive(now time.Time, a *bearer.Adv) {
	if a.Type != bearer.TypeBeacon {
		return
	}
	var u beacon.Unprovisioned
	if _, err := u.Decode(a.Payload); err == nil {
		if s.seen == nil {
			s.seen = map[[16]byte]bool{}
		}
		s.seen[u.UUID] = true
	}
}
func (s *scanner) Tick(time.Time)              {}
func (s *scanner) Deadline() (time.Time, bool) { return time.Time{}, false }
func (s *scanner) unprovisioned(first byte) ([16]byte, bool) {
	for u := range s.seen {
		if u[0] == first {
			return u, true
		}
	}
	return [16]byte{}, false
}
