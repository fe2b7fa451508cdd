//go:build !tinygo

package prov

import (
	"errors"
	"testing"
	"time"
)

// airRun moves PB-ADV payloads between a provisioner session and a device
// session until the provisioner session finishes, dropping every
// dropEvery-th payload, and returns the provisioner's result.
func airRun(t *testing.T, ps *ProvisionerSession, ds *DeviceSession, start Start, data ProvisioningData, now time.Time, dropEvery int) (time.Time, error) {
	t.Helper()
	w := &wire{dropEvery: dropEvery}
	if err := ps.Open(now); err != nil {
		t.Fatal(err)
	}
	var buf [MaxPBADVLen]byte
	for step := 0; step < 100000; step++ {
		for b, ok := ps.Transmit(now, buf[:0]); ok; b, ok = ps.Transmit(now, buf[:0]) {
			if w.pass() {
				ds.Receive(now, b)
			}
		}
		for b, ok := ds.Transmit(now, buf[:0]); ok; b, ok = ds.Transmit(now, buf[:0]) {
			if w.pass() {
				ps.Receive(now, b)
			}
		}
		for e, ok := ps.NextEvent(); ok; e, ok = ps.NextEvent() {
			if e.Kind == EventCapabilities {
				if err := ps.Provisioner.Start(now, start, data); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, ok := ds.NextEvent(); ok; _, ok = ds.NextEvent() {
		}
		if done, err := ps.Finished(); done {
			// Let the device hear the Link Close repetitions.
			return now, err
		}
		// Jump to the next deadline when nothing is due, as an event loop would.
		next := now.Add(10 * time.Millisecond)
		if d, ok := ps.Deadline(); ok && d.After(now) && d.Before(next) {
			next = d
		}
		ps.Tick(next)
		ds.Tick(next)
		now = next
	}
	t.Fatal("provisioning session did not finish")
	return now, nil
}

func TestSessions(t *testing.T) {
	uuid := [16]byte{9, 8, 7}
	caps := Capabilities{NumElements: 3, Algorithms: AlgorithmsCMAC | AlgorithmsHMAC, OOBType: OOBStaticAvailable}
	ds, err := NewDeviceSession(uuid, LinkConfig{}, DeviceConfig{Capabilities: caps, KeyPair: newToyKeyPair(3),
		StaticOOB: []byte("right value....."), Rand: newTestRand(5)})
	if err != nil {
		t.Fatal(err)
	}
	data := ProvisioningData{NetKey: [16]byte{1}, UnicastAddress: 0x0100}
	start := Start{Algorithm: AlgHMAC, AuthMethod: AuthStaticOOB}
	now := time.Unix(1000, 0)

	// A provisioner with the wrong static OOB value fails with Confirmation
	// Failed, reported by the device; the link closes with reason Fail.
	ps, _ := NewProvisionerSession(uuid, 0x11111111, LinkConfig{}, ProvisionerConfig{KeyPair: newToyKeyPair(4),
		StaticOOB: []byte("wrong value....."), Rand: newTestRand(6)})
	now, err = airRun(t, ps, ds, start, data, now, 5)
	var fe FailedError
	if !errors.As(err, &fe) || fe.Code != ErrCodeConfirmationFailed || fe.Sent {
		t.Fatalf("wrong static OOB: %v", err)
	}
	// The device heard Link Close and waits for another attempt.
	var buf [MaxPBADVLen]byte
	for b, ok := ps.Transmit(now, buf[:0]); ok; b, ok = ps.Transmit(now, buf[:0]) {
		ds.Receive(now, b)
	}
	ds.Tick(now)
	if ds.Link.State() != LinkIdle || ds.Device.State() != StateIdle {
		t.Fatalf("device after failure: link %v device %v", ds.Link.State(), ds.Device.State())
	}

	// The right value provisions it, over a new link.
	ps, _ = NewProvisionerSession(uuid, 0x22222222, LinkConfig{}, ProvisionerConfig{KeyPair: newToyKeyPair(4),
		StaticOOB: []byte("right value....."), Rand: newTestRand(7)})
	now, err = airRun(t, ps, ds, start, data, now, 4)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	for b, ok := ps.Transmit(now, buf[:0]); ok; b, ok = ps.Transmit(now, buf[:0]) {
		ds.Receive(now, b)
	}
	pd, k1, ok1 := ps.Provisioner.Result()
	dd, k2, ok2 := ds.Result()
	if !ok1 || !ok2 || k1 != k2 || pd != dd || dd.UnicastAddress != 0x0100 {
		t.Fatalf("results %v %v %x %x", ok1, ok2, k1, k2)
	}
	if ds.Link.State() != LinkClosed || ds.Link.CloseReason() != CloseSuccess {
		t.Fatalf("device link %v %v", ds.Link.State(), ds.Link.CloseReason())
	}
	if _, ok := ds.Deadline(); ok {
		t.Error("a provisioned device session still has a deadline")
	}

	// A provisioner with nobody to talk to gives up after the link-open
	// timeout.
	ps, _ = NewProvisionerSession([16]byte{0xee}, 0x33333333, LinkConfig{LinkOpenTimeout: 3 * time.Second}, ProvisionerConfig{KeyPair: newToyKeyPair(4)})
	ps.Open(now)
	for t0 := now; now.Sub(t0) < 5*time.Second; now = now.Add(100 * time.Millisecond) {
		ps.Transmit(now, buf[:0])
		ps.Tick(now)
	}
	if done, err := ps.Finished(); !done || !errors.Is(err, ErrLinkClosed) {
		t.Fatalf("no device: %v %v", done, err)
	}
}

// TestSessionRecordsFirst fetches the device's records list over PB-ADV
// before provisioning it (BeginManually).
func TestSessionRecordsFirst(t *testing.T) {
	uuid := [16]byte{4, 4}
	ds, _ := NewDeviceSession(uuid, LinkConfig{}, DeviceConfig{Capabilities: Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC},
		KeyPair: newToyKeyPair(3), Rand: newTestRand(1), Records: []Record{{ID: RecordCompleteLocalName, Data: []byte("lamp")}}})
	ps, _ := NewProvisionerSession(uuid, 0x44, LinkConfig{}, ProvisionerConfig{KeyPair: newToyKeyPair(4), Rand: newTestRand(2)})
	ps.BeginManually = true
	now := time.Unix(0, 0)
	ps.Open(now)
	if err := ps.Provisioner.GetRecordsList(now); err != nil {
		t.Fatal(err)
	}
	w := &wire{dropEvery: 6}
	var buf [MaxPBADVLen]byte
	var got []string
	for step := 0; step < 5000; step++ {
		for b, ok := ps.Transmit(now, buf[:0]); ok; b, ok = ps.Transmit(now, buf[:0]) {
			if w.pass() {
				ds.Receive(now, b)
			}
		}
		for b, ok := ds.Transmit(now, buf[:0]); ok; b, ok = ds.Transmit(now, buf[:0]) {
			if w.pass() {
				ps.Receive(now, b)
			}
		}
		for e, ok := ps.NextEvent(); ok; e, ok = ps.NextEvent() {
			switch e.Kind {
			case EventRecordsList:
				got = append(got, "list")
				l := ps.Provisioner.Records()
				ps.Provisioner.GetRecord(now, l.At(0), 2)
			case EventRecord:
				_, data, ok := ps.Provisioner.Record()
				got = append(got, string(data))
				if !ok {
					t.Fatal("record not fetched")
				}
				if err := ps.Provisioner.Begin(now); err != nil {
					t.Fatal(err)
				}
			case EventCapabilities:
				got = append(got, "capabilities")
				ps.Provisioner.Start(now, Start{}, ProvisioningData{UnicastAddress: 9})
			}
		}
		if done, err := ps.Finished(); done {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		ps.Tick(now)
		ds.Tick(now)
		now = now.Add(10 * time.Millisecond)
	}
	if len(got) != 3 || got[0] != "list" || got[1] != "lamp" || got[2] != "capabilities" {
		t.Fatalf("events %q", got)
	}
	if _, _, ok := ps.Provisioner.Result(); !ok {
		t.Fatal("not provisioned")
	}
}

// TestSessionsRandomLoss provisions devices over PB-ADV links that lose 30%
// of all payloads at random, with many seeds: no loss pattern may stall the
// link or the provisioning protocol.
func TestSessionsRandomLoss(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 20
	}
	var total time.Duration
	for seed := 1; seed <= seeds; seed++ {
		uuid := [16]byte{byte(seed), byte(seed >> 8)}
		ds, _ := NewDeviceSession(uuid, LinkConfig{}, DeviceConfig{Capabilities: Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC | AlgorithmsHMAC},
			KeyPair: newToyKeyPair(3), Rand: newTestRand(uint64(seed))})
		ps, _ := NewProvisionerSession(uuid, uint32(seed), LinkConfig{}, ProvisionerConfig{KeyPair: newToyKeyPair(4), Rand: newTestRand(uint64(seed) + 1000)})
		w := &wire{lossPct: 30, rng: newTestRand(uint64(seed) * 7)}
		now := time.Unix(0, 0)
		ps.Open(now)
		var buf [MaxPBADVLen]byte
		var err error
		done := false
		for step := 0; step < 20000 && !done; step++ {
			for b, ok := ps.Transmit(now, buf[:0]); ok; b, ok = ps.Transmit(now, buf[:0]) {
				if w.pass() {
					ds.Receive(now, b)
				}
			}
			for b, ok := ds.Transmit(now, buf[:0]); ok; b, ok = ds.Transmit(now, buf[:0]) {
				if w.pass() {
					ps.Receive(now, b)
				}
			}
			for e, ok := ps.NextEvent(); ok; e, ok = ps.NextEvent() {
				if e.Kind == EventCapabilities {
					alg := AlgCMAC
					if seed%2 == 0 {
						alg = AlgHMAC
					}
					ps.Provisioner.Start(now, Start{Algorithm: alg}, ProvisioningData{UnicastAddress: 1})
				}
			}
			done, err = ps.Finished()
			now = now.Add(10 * time.Millisecond)
			ps.Tick(now)
			ds.Tick(now)
		}
		if !done || err != nil {
			t.Fatalf("seed %d: finished %v, %v after %v (provisioner %v, device %v)", seed, done, err, now.Sub(time.Unix(0, 0)), ps.Provisioner.State(), ds.Device.State())
		}
		_, k1, _ := ps.Provisioner.Result()
		_, k2, ok := ds.Result()
		if !ok || k1 != k2 {
			t.Fatalf("seed %d: device not provisioned (%v)", seed, ds.Device.State())
		}
		total += now.Sub(time.Unix(0, 0))
	}
	t.Logf("%d runs at 30%% loss: %v simulated on average", seeds, total/time.Duration(seeds))
}
