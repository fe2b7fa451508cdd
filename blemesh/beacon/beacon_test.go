package beacon_test

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/beacon"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var netKey = [16]byte{0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6}

// Secure Network beacon of §8.4.3.
var snb = unhex("01003ecaff672f673370123456788ea261582f364f6f")

func TestSecureNetwork(t *testing.T) {
	k := beacon.NewNetKeys(netKey)
	s := beacon.SecureNetwork{NetworkID: k.NetworkID, IVIndex: 0x12345678}
	out, err := k.SealSecure(nil, &s)
	if err != nil || !bytes.Equal(out, snb) {
		t.Fatalf("seal %x %v", out, err)
	}
	var d beacon.SecureNetwork
	if err := k.OpenSecure(&d, snb); err != nil || d != s || d.KeyRefresh() || d.IVUpdate() {
		t.Fatalf("open %+v %v", d, err)
	}
	other := beacon.NewNetKeys([16]byte{1})
	if err := other.OpenSecure(&d, snb); err != beacon.ErrAuth {
		t.Fatalf("other key: %v", err)
	}
	if err := k.OpenSecure(&d, snb[:21]); err != beacon.ErrShort {
		t.Fatal(err)
	}
	if _, err := k.SealSecure(nil, &beacon.SecureNetwork{Flags: 4}); err != beacon.ErrFlags {
		t.Fatal("RFU flags sealed")
	}
	ad, _ := beacon.AppendAD(nil, snb)
	if ad[0] != 23 || ad[1] != 0x2b {
		t.Fatalf("AD %x", ad)
	}
}

func TestMeshPrivate(t *testing.T) {
	k := beacon.NewNetKeys(netKey)
	p := beacon.MeshPrivate{Flags: beacon.FlagIVUpdate, IVIndex: 0x1010abcd, Random: [13]byte{1, 2, 3}}
	out, err := k.SealPrivate(nil, &p)
	if err != nil || len(out) != beacon.MeshPrivateLen || out[0] != beacon.TypeMeshPrivate {
		t.Fatalf("seal %x %v", out, err)
	}
	var d beacon.MeshPrivate
	if err := k.OpenPrivate(&d, out); err != nil || d != p {
		t.Fatalf("open %+v %v", d, err)
	}
	out[15] ^= 1
	if err := k.OpenPrivate(&d, out); err != beacon.ErrAuth {
		t.Fatalf("tampered: %v", err)
	}
}

func TestUnprovisioned(t *testing.T) {
	u := beacon.Unprovisioned{OOBInfo: 0xa040}
	copy(u.UUID[:], unhex("70cf7c9732a345b691494810d2e9cbf4"))
	out, _ := u.AppendBinary(nil)
	if hex.EncodeToString(out) != "0070cf7c9732a345b691494810d2e9cbf4a040" {
		t.Fatalf("%x", out)
	}
	// §8.4.2: with a URI hash.
	u.OOBInfo = 0x4020
	u.HasURIHash = true
	u.URIHash = beacon.URIHash(append([]byte{0x17}, "//www.example.com/mesh/products/light-switch-v3"...))
	out, _ = u.AppendBinary(nil)
	if hex.EncodeToString(out) != "0070cf7c9732a345b691494810d2e9cbf44020d97478b3" {
		t.Fatalf("%x", out)
	}
	var d beacon.Unprovisioned
	if _, err := d.Decode(out); err != nil || d != u {
		t.Fatalf("%+v %v", d, err)
	}
	for _, n := range []int{0, 18, 20, 24} {
		b := make([]byte, n)
		if _, err := d.Decode(b); err == nil {
			t.Errorf("length %d decoded", n)
		}
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestIVUpdate(t *testing.T) {
	s := beacon.NewIVUpdate(beacon.IVConfig{}, 100, false, t0)
	if s.TxIVIndex() != 100 || s.Flags() != 0 {
		t.Fatal("initial")
	}
	// Too early: the node has been in Normal for less than 96 hours.
	if ev := s.OnBeacon(t0.Add(time.Hour), 101, true); ev != beacon.IVNone {
		t.Fatalf("early update: %v", ev)
	}
	t1 := t0.Add(97 * time.Hour)
	if ev := s.OnBeacon(t1, 101, true); ev != beacon.IVUpdateStarted || s.IVIndex != 101 || !s.InProgress || s.TxIVIndex() != 100 || s.Flags() != beacon.FlagIVUpdate {
		t.Fatalf("start: %v %+v", ev, s)
	}
	if ev := s.OnBeacon(t1.Add(time.Hour), 101, true); ev != beacon.IVNone {
		t.Fatal("repeated beacon changed state")
	}
	t2 := t1.Add(96 * time.Hour)
	if ev := s.OnBeacon(t2, 101, false); ev != beacon.IVUpdateDone || s.InProgress || s.TxIVIndex() != 101 {
		t.Fatalf("done: %v %+v", ev, s)
	}
	// Out of range and old beacons are ignored.
	for _, iv := range []uint32{100, 101, 101 + 43} {
		if ev := s.OnBeacon(t2.Add(200*time.Hour), iv, false); ev != beacon.IVNone {
			t.Fatalf("IV %d: %v", iv, ev)
		}
	}
	// Recovery, at most once per 192 hours.
	t3 := t2.Add(200 * time.Hour)
	if ev := s.OnBeacon(t3, 110, false); ev != beacon.IVRecovered || s.IVIndex != 110 {
		t.Fatalf("recovery: %v", ev)
	}
	if ev := s.OnBeacon(t3.Add(100*time.Hour), 120, false); ev != beacon.IVNone {
		t.Fatal("second recovery within 192 h")
	}
	// The node's own update.
	if err := s.Start(t3.Add(time.Hour)); err != beacon.ErrTooSoon {
		t.Fatal(err)
	}
	if err := s.Start(t3.Add(100 * time.Hour)); err != nil || !s.InProgress || s.IVIndex != 111 {
		t.Fatal(err)
	}
	if err := s.Finish(t3.Add(101 * time.Hour)); err != beacon.ErrTooSoon {
		t.Fatal(err)
	}
	if err := s.Finish(t3.Add(200 * time.Hour)); err != nil || s.InProgress {
		t.Fatal(err)
	}
	// Test mode drops the durations.
	q := beacon.NewIVUpdate(beacon.IVConfig{TestMode: true}, 5, false, t0)
	if q.OnBeacon(t0, 6, true) != beacon.IVUpdateStarted || q.OnBeacon(t0, 6, false) != beacon.IVUpdateDone {
		t.Fatal("test mode")
	}
}

func TestKeyRefresh(t *testing.T) {
	var k beacon.KeyRefresh
	if from, to := k.OnBeacon(true, true); from != 0 || to != 0 {
		t.Fatal("phase 0 moved by a beacon")
	}
	if err := k.NetKeyUpdate(); err != nil || k.Phase != beacon.PhaseDistribute {
		t.Fatal(err)
	}
	if _, to := k.OnBeacon(true, false); to != beacon.PhaseDistribute {
		t.Fatal("old-key beacon moved the phase")
	}
	if _, to := k.OnBeacon(true, true); to != beacon.PhaseUseNew || k.Flags() != beacon.FlagKeyRefresh {
		t.Fatal("phase 2")
	}
	if err := k.NetKeyUpdate(); err != beacon.ErrState {
		t.Fatal("update in phase 2")
	}
	if _, to := k.OnBeacon(false, true); to != beacon.PhaseNormal {
		t.Fatal("revoke")
	}
	k.NetKeyUpdate()
	if err := k.SetPhase(beacon.PhaseUseNew); err != nil || k.Phase != beacon.PhaseUseNew {
		t.Fatal(err)
	}
	if err := k.SetPhase(beacon.PhaseRevoke); err != nil || k.Phase != beacon.PhaseNormal {
		t.Fatal(err)
	}
	if err := k.SetPhase(1); err != beacon.ErrState {
		t.Fatal("transition 1 accepted")
	}
}
