package prov

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"
)

// toyKeyPair is a symmetric stand-in for P-256 (the secret is a hash of both
// public keys) so that the state machines can run where crypto/ecdh cannot
// (TinyGo on a 64 KB Cortex-M4). It is only for tests.
type toyKeyPair struct{ pub [64]byte }

func (k *toyKeyPair) PublicKey() [64]byte { return k.pub }

func (k *toyKeyPair) ECDH(peer *[64]byte) ([32]byte, error) {
	if *peer == ([64]byte{}) {
		return [32]byte{}, ErrInvalidPublicKey
	}
	a, b := k.pub[:], peer[:]
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	h := sha256.New()
	h.Write(a)
	h.Write(b)
	var s [32]byte
	h.Sum(s[:0])
	return s, nil
}

func newToyKeyPair(seed byte) KeyPair {
	k := &toyKeyPair{}
	for i := range k.pub {
		k.pub[i] = seed + byte(i)
	}
	return k
}

// scenario is one provisioning run over an in-memory PB-ADV link.
type scenario struct {
	alg       Algorithm
	method    AuthMethod
	action    uint8
	size      uint8
	dropEvery int
	keys      func(seed byte) KeyPair
	oobKey    bool // device public key out of band
}

// result of a run.
type runResult struct {
	provKey, devKey   [16]byte
	provData, devData ProvisioningData
	dropped, frames   int
	elapsed           time.Duration
}

// runProvisioning runs a provisioner and a device against each other over
// two Links joined by a wire that drops every dropEvery-th PB-ADV PDU.
func runProvisioning(t testing.TB, sc scenario) runResult {
	t.Helper()
	uuid := [16]byte{0x70, 0xcf, 0x7c, 0x97, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	static := []byte("0123456789abcdef0123456789ABCDEF")
	caps := Capabilities{
		NumElements: 2, Algorithms: AlgorithmsCMAC | AlgorithmsHMAC, OOBType: OOBStaticAvailable,
		OutputOOBSize: 8, OutputOOBAction: 1<<OutputBlink | 1<<OutputNumeric | 1<<OutputAlphanumeric,
		InputOOBSize: 8, InputOOBAction: 1<<InputPush | 1<<InputNumeric | 1<<InputAlphanumeric,
	}
	devKeys := sc.keys(0x40)
	if sc.oobKey {
		caps.PublicKeyType = PublicKeyOOBAvailable
	}
	dev, err := NewDevice(DeviceConfig{Capabilities: caps, KeyPair: devKeys, StaticOOB: static, Rand: newTestRand(1)})
	if err != nil {
		t.Fatal(err)
	}
	pcfg := ProvisionerConfig{AttentionDuration: 5, KeyPair: sc.keys(0x80), StaticOOB: static, Rand: newTestRand(2)}
	if sc.oobKey {
		pk := devKeys.PublicKey()
		pcfg.DevicePublicKey = &pk
	}
	prov, err := NewProvisioner(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := NewProvisionerLink(LinkConfig{}, 0x23af5850, uuid)
	dl, _ := NewDeviceLink(LinkConfig{}, uuid)
	data := ProvisioningData{NetKey: [16]byte{0xef, 0xb2, 0x25}, KeyIndex: 0x567, IVIndex: 0x01020304, UnicastAddress: 0x0b0c}
	start := Start{Algorithm: sc.alg, AuthMethod: sc.method, AuthAction: sc.action, AuthSize: sc.size}
	if sc.oobKey {
		start.PublicKey = 1
	}

	t0 := time.Unix(1700000000, 0)
	now := t0
	w := &wire{dropEvery: sc.dropEvery}
	if err := pl.Open(now); err != nil {
		t.Fatal(err)
	}
	var shown Event           // what the device (or provisioner) displays
	var devAsk, provAsk Event // pending requests for user input
	attention := false
	buf := make([]byte, 0, MaxPBADVLen) // on the heap: TinyGo test goroutines have 4 KB stacks
	pdu := make([]byte, 0, outSlotLen)
	for step := 0; step < 20000; step++ {
		if pl.State() == LinkEstablished && prov.State() == StateIdle {
			if err := prov.Begin(now); err != nil {
				t.Fatal(err)
			}
		}
		// Provisioning PDUs from the machines to their links.
		for b, ok := prov.Transmit(now, pdu[:0]); ok; b, ok = prov.Transmit(now, pdu[:0]) {
			if err := pl.Send(now, b); err != nil {
				t.Fatalf("provisioner link send: %v", err)
			}
		}
		for b, ok := dev.Transmit(now, pdu[:0]); ok; b, ok = dev.Transmit(now, pdu[:0]) {
			if err := dl.Send(now, b); err != nil {
				t.Fatalf("device link send: %v", err)
			}
		}
		// The air, both ways.
		for _, dir := range [2]struct {
			from, to *Link
			toDev    bool
		}{{pl, dl, true}, {dl, pl, false}} {
			for i := 0; ; i++ {
				if i > 200 {
					t.Fatal("link transmits without end")
				}
				b, ok := dir.from.Transmit(now, buf[:0])
				if !ok {
					break
				}
				if !w.pass() {
					continue
				}
				got, err := dir.to.Receive(now, b)
				if err != nil {
					t.Fatalf("receive %x: %v", b, err)
				}
				if got == nil {
					continue
				}
				if dir.toDev {
					dev.Receive(now, got)
				} else {
					prov.Receive(now, got)
				}
			}
		}
		// Events: the application's part.
		for e, ok := dev.NextEvent(); ok; e, ok = dev.NextEvent() {
			switch e.Kind {
			case EventAttention:
				attention = e.Attention == 5
			case EventOutputOOB:
				shown = e
			case EventInputOOB:
				devAsk = e
			case EventFailed:
				t.Fatalf("device failed: %v", e.Err)
			}
		}
		for e, ok := prov.NextEvent(); ok; e, ok = prov.NextEvent() {
			switch e.Kind {
			case EventCapabilities:
				if got := prov.PeerCapabilities(); got != caps {
					t.Fatalf("capabilities %+v", got)
				}
				if err := prov.Start(now, start, data); err != nil {
					t.Fatal(err)
				}
			case EventOutputOOB:
				shown = e
			case EventInputOOB:
				provAsk = e
			case EventFailed:
				t.Fatalf("provisioner failed: %v", e.Err)
			}
		}
		// The user reads the value one side shows and types it into the other.
		if shown.Kind == EventOutputOOB {
			for _, ask := range []struct {
				e      *Event
				number func(time.Time, uint32) error
				str    func(time.Time, string) error
			}{{&devAsk, dev.InputNumber, dev.InputString}, {&provAsk, prov.InputNumber, prov.InputString}} {
				if ask.e.Kind != EventInputOOB {
					continue
				}
				if ask.e.Action != shown.Action || ask.e.Size != shown.Size || ask.e.Method != shown.Method {
					t.Fatalf("asked %+v, shown %+v", *ask.e, shown)
				}
				if numericAction(ask.e.Method, ask.e.Action) {
					err = ask.number(now, shown.Number)
				} else {
					err = ask.str(now, shown.Str())
				}
				if err != nil {
					t.Fatal(err)
				}
				*ask.e = Event{}
			}
		}
		if prov.State() == StateDone && pl.State() == LinkEstablished && pl.Pending() == 0 {
			pl.Close(now, CloseSuccess)
		}
		if pl.State() == LinkClosed && dl.State() == LinkClosed {
			break
		}
		dev.Tick(now)
		prov.Tick(now)
		now = now.Add(10 * time.Millisecond)
	}
	if prov.State() != StateDone || dev.State() != StateDone {
		t.Fatalf("not done after %v: provisioner %v (%v) device %v (%v), links %v %v",
			now.Sub(t0), prov.State(), prov.Err(), dev.State(), dev.Err(), pl.State(), dl.State())
	}
	if !attention {
		t.Error("no attention event")
	}
	if dl.State() != LinkClosed || dl.CloseReason() != CloseSuccess {
		t.Errorf("device link %v %v", dl.State(), dl.CloseReason())
	}
	var r runResult
	var ok bool
	r.provData, r.provKey, ok = prov.Result()
	if !ok {
		t.Fatal("no provisioner result")
	}
	r.devData, r.devKey, ok = dev.Result()
	if !ok {
		t.Fatal("no device result")
	}
	r.dropped, r.frames, r.elapsed = w.dropped, w.count, now.Sub(t0)
	return r
}

var scenarios = []struct {
	name string
	sc   scenario
}{
	{"cmac/no-oob", scenario{alg: AlgCMAC, method: AuthNoOOB}},
	{"hmac/no-oob", scenario{alg: AlgHMAC, method: AuthNoOOB}},
	{"cmac/static", scenario{alg: AlgCMAC, method: AuthStaticOOB}},
	{"hmac/static", scenario{alg: AlgHMAC, method: AuthStaticOOB}},
	{"cmac/output-numeric", scenario{alg: AlgCMAC, method: AuthOutputOOB, action: OutputNumeric, size: 6}},
	{"hmac/output-numeric", scenario{alg: AlgHMAC, method: AuthOutputOOB, action: OutputNumeric, size: 8}},
	{"cmac/output-blink", scenario{alg: AlgCMAC, method: AuthOutputOOB, action: OutputBlink, size: 1}},
	{"hmac/output-alphanumeric", scenario{alg: AlgHMAC, method: AuthOutputOOB, action: OutputAlphanumeric, size: 8}},
	{"cmac/input-numeric", scenario{alg: AlgCMAC, method: AuthInputOOB, action: InputNumeric, size: 4}},
	{"hmac/input-push", scenario{alg: AlgHMAC, method: AuthInputOOB, action: InputPush, size: 2}},
	{"cmac/input-alphanumeric", scenario{alg: AlgCMAC, method: AuthInputOOB, action: InputAlphanumeric, size: 5}},
	{"hmac/oob-public-key", scenario{alg: AlgHMAC, method: AuthStaticOOB, oobKey: true}},
}

// testMultiRole runs every scenario with every loss pattern using keys.
func testMultiRole(t *testing.T, keys func(byte) KeyPair, drops []int) {
	for _, s := range scenarios {
		for _, drop := range drops {
			sc := s.sc
			sc.dropEvery = drop
			sc.keys = keys
			r := runProvisioning(t, sc)
			if r.provKey != r.devKey || r.provKey == ([16]byte{}) {
				t.Errorf("%s drop %d: device keys differ: %x %x", s.name, drop, r.provKey, r.devKey)
			}
			if r.provData != r.devData {
				t.Errorf("%s drop %d: data differs", s.name, drop)
			}
			if drop > 0 && r.dropped == 0 {
				t.Errorf("%s drop %d: nothing dropped", s.name, drop)
			}
			t.Logf("%s drop every %d: %d PB-ADV PDUs, %d dropped, %v simulated", s.name, drop, r.frames, r.dropped, r.elapsed)
		}
	}
}

// TestMultiRoleToy runs the state machines with the toy key agreement; it is
// the variant that TinyGo runs.
func TestMultiRoleToy(t *testing.T) {
	testMultiRole(t, newToyKeyPair, []int{0, 4})
}

// appender is the encoding half of every provisioning PDU type.
type appender interface {
	AppendBinary([]byte) ([]byte, error)
}
