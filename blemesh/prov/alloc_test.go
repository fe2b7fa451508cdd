//go:build !tinygo

package prov

import (
	"testing"
	"time"
)

// TestNoAllocsCodecs proves the PDU codecs, the PB-ADV framing and the FCS
// allocate nothing.
func TestNoAllocsCodecs(t *testing.T) {
	buf := make([]byte, 0, 256)
	for _, fx := range pduFixtures {
		wire := fx.wire
		var err error
		n := testing.AllocsPerRun(200, func() {
			switch PDUType(wire[0]) {
			case TypeInvite:
				var p Invite
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeCapabilities:
				var p Capabilities
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeStart:
				var p Start
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypePublicKey:
				var p PublicKey
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeInputComplete:
				var p InputComplete
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeConfirmation:
				var p Confirmation
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeRandom:
				var p Random
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeData:
				var p Data
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeComplete:
				var p Complete
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeFailed:
				var p Failed
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeRecordRequest:
				var p RecordRequest
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeRecordResponse:
				var p RecordResponse
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeRecordsGet:
				var p RecordsGet
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			case TypeRecordsList:
				var p RecordsList
				_, err = p.Decode(wire)
				_, _ = p.AppendBinary(buf[:0])
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		if n != 0 {
			t.Errorf("%s: %v allocs/op; want 0", fx.name, n)
		}
	}
	for _, fx := range pbadvFixtures {
		wire := fx.wire
		if n := testing.AllocsPerRun(200, func() {
			var p PBADV
			_, _ = p.Decode(wire)
			_, _ = p.AppendBinary(buf[:0])
		}); n != 0 {
			t.Errorf("PBADV %s: %v allocs/op", fx.name, n)
		}
	}
	pdu := mustHex("03" + sampleProvisionerPub)
	uuid := [16]byte(mustHex(sampleUUID))
	if n := testing.AllocsPerRun(200, func() {
		for i := 0; i < Segments(len(pdu)); i++ {
			_, _ = AppendSegment(buf[:0], sampleLinkID, 2, pdu, i)
		}
		_ = AppendAck(buf[:0], sampleLinkID, 2)
		_ = AppendLinkOpen(buf[:0], sampleLinkID, &uuid)
		_ = AppendLinkAck(buf[:0], sampleLinkID)
		_ = AppendLinkClose(buf[:0], sampleLinkID, CloseFail)
		_ = FCS(pdu)
	}); n != 0 {
		t.Errorf("segmentation: %v allocs/op", n)
	}
	var d ProvisioningData
	pd := mustHex("efb2255e6422d330088e09bb015ed707056700010203040b0c")
	if n := testing.AllocsPerRun(200, func() {
		_, _ = d.Decode(pd)
		_, _ = d.AppendBinary(buf[:0])
	}); n != 0 {
		t.Errorf("ProvisioningData: %v allocs/op", n)
	}
}

// TestNoAllocsLink proves that a PB-ADV link moving transactions both ways
// (segmentation, reassembly, FCS, acknowledgments) allocates nothing after
// construction.
func TestNoAllocsLink(t *testing.T) {
	uuid := [16]byte(mustHex(sampleUUID))
	pl, _ := NewProvisionerLink(LinkConfig{}, sampleLinkID, uuid)
	dl, _ := NewDeviceLink(LinkConfig{}, uuid)
	now := time.Unix(0, 0)
	pl.Open(now)
	var buf [MaxPBADVLen]byte
	pump := func(from, to *Link) int {
		got := 0
		for b, ok := from.Transmit(now, buf[:0]); ok; b, ok = from.Transmit(now, buf[:0]) {
			if pdu, _ := to.Receive(now, b); pdu != nil {
				got++
			}
		}
		return got
	}
	pump(pl, dl)
	pump(dl, pl)
	pdu := mustHex("03" + sampleProvisionerPub)
	delivered := 0
	n := testing.AllocsPerRun(200, func() {
		_ = pl.Send(now, pdu)
		delivered += pump(pl, dl)
		pump(dl, pl) // ack
		_ = dl.Send(now, pdu)
		delivered += pump(dl, pl)
		pump(pl, dl)
		now = now.Add(time.Millisecond)
	})
	if n != 0 {
		t.Errorf("link round trip: %v allocs/op; want 0", n)
	}
	if delivered != 2*201 {
		t.Errorf("delivered %d PDUs; want %d", delivered, 2*201)
	}
}

// TestNoAllocsSession proves the CMAC algorithm's security functions
// allocate nothing (the HMAC algorithm's crypto/hmac does).
func TestNoAllocsSession(t *testing.T) {
	s := Session{Algorithm: AlgCMAC}
	r := Value{Len: 16}
	pd := ProvisioningData{UnicastAddress: 1}
	if n := testing.AllocsPerRun(100, func() {
		_ = s.DeriveConfirmationKey()
		c, _ := s.Confirm(&r)
		_ = s.Verify(&c, &r)
		_ = s.DeriveSessionKeys(&r, &r)
		d, _ := s.EncryptData(&pd)
		_, _ = s.DecryptData(&d)
	}); n != 0 {
		t.Errorf("CMAC session: %v allocs/op; want 0", n)
	}
}

// TestNoAllocsRun proves that a whole provisioning run (CMAC, no OOB) of a
// reused Device and Provisioner allocates nothing beyond its KeyPair: the
// PDUs are encoded straight into the machines' own buffers.
func TestNoAllocsRun(t *testing.T) {
	now := time.Unix(0, 0)
	caps := Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC}
	d, _ := NewDevice(DeviceConfig{Capabilities: caps, KeyPair: newToyKeyPair(1), Rand: newTestRand(1)})
	p, _ := NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(2), Rand: newTestRand(2)})
	var buf [128]byte
	runs := 0
	n := testing.AllocsPerRun(20, func() {
		d.Reset()
		p.Reset()
		p.Begin(now)
		for i := 0; i < 10 && p.State() != StateDone; i++ {
			for b, ok := p.Transmit(now, buf[:0]); ok; b, ok = p.Transmit(now, buf[:0]) {
				d.Receive(now, b)
			}
			for b, ok := d.Transmit(now, buf[:0]); ok; b, ok = d.Transmit(now, buf[:0]) {
				p.Receive(now, b)
			}
			for e, ok := p.NextEvent(); ok; e, ok = p.NextEvent() {
				if e.Kind == EventCapabilities {
					p.Start(now, Start{}, ProvisioningData{UnicastAddress: 1})
				}
			}
		}
		if _, k1, ok := p.Result(); ok {
			if _, k2, _ := d.Result(); k1 == k2 {
				runs++
			}
		}
	})
	if runs != 21 {
		t.Fatalf("%d of 21 runs provisioned", runs)
	}
	if n != 0 {
		t.Errorf("provisioning run: %v allocs; want 0", n)
	}
}
