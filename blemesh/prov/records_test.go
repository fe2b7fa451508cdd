//go:build !tinygo

package prov

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// The record tests and the PB-GATT tests run on hosts only: with them the
// TinyGo test binary overflows the emulated Cortex-M4's 256 KB of flash.

func TestDeviceRecords(t *testing.T) {
	t0 := time.Unix(0, 0)
	cert := bytes.Repeat([]byte("certificate "), 20) // 240 octets: two fragments at most
	d, err := NewDevice(DeviceConfig{
		Capabilities: Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC},
		KeyPair:      newToyKeyPair(1),
		Records:      []Record{{ID: RecordDeviceCertificate, Data: cert}, {ID: RecordCompleteLocalName, Data: []byte("edgekit")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(pdu appender) []byte {
		t.Helper()
		b, _ := pdu.AppendBinary(nil)
		if err := d.Receive(t0, b); err != nil {
			t.Fatal(err)
		}
		out, ok := d.Transmit(t0, nil)
		if !ok {
			t.Fatal("no answer")
		}
		return out
	}
	var list RecordsList
	if _, err := list.Decode(ask(&RecordsGet{})); err != nil || list.Len() != 2 || list.At(0) != 1 || list.At(1) != 0x11 {
		t.Fatalf("list %v %+v", err, list)
	}
	var got []byte
	for off := 0; off < len(cert); {
		var r RecordResponse
		if _, err := r.Decode(ask(&RecordRequest{RecordID: 1, FragmentOffset: uint16(off), FragmentMaxSize: 200})); err != nil {
			t.Fatal(err)
		}
		if r.Status != RecordStatusSuccess || int(r.TotalLength) != len(cert) || len(r.Data) == 0 || len(r.Data) > maxFragment {
			t.Fatalf("fragment at %d: %+v", off, r)
		}
		got = append(got, r.Data...)
		off += len(r.Data)
	}
	if !bytes.Equal(got, cert) {
		t.Fatal("certificate differs")
	}
	var r RecordResponse
	r.Decode(ask(&RecordRequest{RecordID: 7, FragmentMaxSize: 10}))
	if r.Status != RecordStatusRequestedAbsent {
		t.Fatalf("absent: %+v", r)
	}
	r.Decode(ask(&RecordRequest{RecordID: 0x11, FragmentOffset: 7, FragmentMaxSize: 10}))
	if r.Status != RecordStatusOffsetOutOfBound || r.TotalLength != 7 {
		t.Fatalf("offset: %+v", r)
	}
	// Records are served before the Invite only; the run then proceeds.
	b, _ := (&Invite{}).AppendBinary(nil)
	d.Receive(t0, b)
	if d.State() != StateStart {
		t.Fatalf("state %v", d.State())
	}
	d.Transmit(t0, nil)
	b, _ = (&RecordsGet{}).AppendBinary(nil)
	d.Receive(t0, b)
	if d.State() != StateFailed {
		t.Fatal("records served after the Invite")
	}
	// A device without records treats Records Get as unexpected.
	d2, _ := NewDevice(DeviceConfig{Capabilities: Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC}, KeyPair: newToyKeyPair(1)})
	d2.Receive(t0, []byte{byte(TypeRecordsGet)})
	var fe FailedError
	if !errors.As(d2.Err(), &fe) || fe.Code != ErrCodeUnexpectedPDU {
		t.Fatalf("no records: %v", d2.Err())
	}
}

// TestProvisionerRecords fetches a device's records list and a
// three-fragment certificate before provisioning it.
func TestProvisionerRecords(t *testing.T) {
	t0 := time.Unix(0, 0)
	cert := bytes.Repeat([]byte{0x30, 0x82, 0x01}, 50) // 150 octets
	caps := Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC}
	d, _ := NewDevice(DeviceConfig{Capabilities: caps, KeyPair: newToyKeyPair(1), Rand: newTestRand(8),
		Records: []Record{{ID: RecordDeviceCertificate, Data: cert}, {ID: RecordAppearance, Data: []byte{0x40, 0x05}}}})
	p, _ := NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(2), Rand: newTestRand(9), MaxRecordLen: 200})
	exchange := func() []Event {
		var evs []Event
		for i := 0; i < 10; i++ {
			moved := false
			for b, ok := p.Transmit(t0, nil); ok; b, ok = p.Transmit(t0, nil) {
				d.Receive(t0, b)
				moved = true
			}
			for b, ok := d.Transmit(t0, nil); ok; b, ok = d.Transmit(t0, nil) {
				p.Receive(t0, b)
				moved = true
			}
			for e, ok := p.NextEvent(); ok; e, ok = p.NextEvent() {
				evs = append(evs, e)
				if e.Kind == EventCapabilities {
					p.Start(t0, Start{}, ProvisioningData{UnicastAddress: 5})
				}
			}
			if !moved {
				break
			}
		}
		return evs
	}
	if err := p.GetRecordsList(t0); err != nil {
		t.Fatal(err)
	}
	if err := p.Begin(t0); !errors.Is(err, ErrState) {
		t.Fatal("Begin during a record request")
	}
	if evs := exchange(); len(evs) != 1 || evs[0].Kind != EventRecordsList {
		t.Fatalf("events %+v", evs)
	}
	if l := p.Records(); l.Len() != 2 || l.At(0) != RecordDeviceCertificate || l.At(1) != RecordAppearance {
		t.Fatalf("records %x", p.Records().IDs)
	}
	if err := p.GetRecord(t0, RecordDeviceCertificate, 60); err != nil {
		t.Fatal(err)
	}
	if dl, ok := p.Deadline(); !ok || !dl.After(t0) {
		t.Fatal("no deadline for a record request")
	}
	if evs := exchange(); len(evs) != 1 || evs[0].Kind != EventRecord {
		t.Fatalf("events %+v", evs)
	}
	if id, data, ok := p.Record(); !ok || id != RecordDeviceCertificate || !bytes.Equal(data, cert) {
		t.Fatalf("record %d %v %d octets", id, ok, len(data))
	}
	p.GetRecord(t0, 0x0010, 60)
	exchange()
	if _, _, ok := p.Record(); ok {
		t.Fatal("absent record reported present")
	}
	// A record over MaxRecordLen is refused.
	small, _ := NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(2), MaxRecordLen: 100})
	small.GetRecord(t0, RecordDeviceCertificate, 60)
	for b, ok := small.Transmit(t0, nil); ok; b, ok = small.Transmit(t0, nil) {
		d.Receive(t0, b)
	}
	for b, ok := d.Transmit(t0, nil); ok; b, ok = d.Transmit(t0, nil) {
		small.Receive(t0, b)
	}
	if _, _, ok := small.Record(); ok || small.State() != StateIdle {
		t.Fatalf("oversize record: %v %v", ok, small.State())
	}
	// Then the run itself.
	p.Begin(t0)
	exchange()
	_, k1, ok1 := p.Result()
	_, k2, ok2 := d.Result()
	if !ok1 || !ok2 || k1 != k2 {
		t.Fatalf("provisioning after records: %v %v", p.State(), d.State())
	}
	// An unanswered request times out.
	q, _ := NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(2)})
	q.GetRecordsList(t0)
	q.Tick(t0.Add(DefaultProtocolTimeout))
	if q.State() != StateFailed || !errors.Is(q.Err(), ErrTimeout) {
		t.Fatalf("record timeout: %v %v", q.State(), q.Err())
	}
}
