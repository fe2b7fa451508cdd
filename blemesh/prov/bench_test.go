//go:build !tinygo

package prov

import (
	"testing"
	"time"
)

func BenchmarkDecodePDU(b *testing.B) {
	for _, fx := range pduFixtures {
		if fx.name != "public-key" && fx.name != "capabilities" && fx.name != "data" {
			continue
		}
		b.Run(fx.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(fx.wire)))
			buf := make([]byte, 0, 128)
			for b.Loop() {
				out, err := decodeAnyNoAlloc(fx.wire, buf)
				if err != nil || len(out) != len(fx.wire) {
					b.Fatal(err)
				}
			}
		})
	}
}

// decodeAnyNoAlloc is decodeAny without the interface boxing.
func decodeAnyNoAlloc(wire, buf []byte) ([]byte, error) {
	switch PDUType(wire[0]) {
	case TypeCapabilities:
		var p Capabilities
		if _, err := p.Decode(wire); err != nil {
			return nil, err
		}
		return p.AppendBinary(buf[:0])
	case TypePublicKey:
		var p PublicKey
		if _, err := p.Decode(wire); err != nil {
			return nil, err
		}
		return p.AppendBinary(buf[:0])
	default:
		var p Data
		if _, err := p.Decode(wire); err != nil {
			return nil, err
		}
		return p.AppendBinary(buf[:0])
	}
}

func BenchmarkFCS(b *testing.B) {
	pdu := mustHex("03" + sampleProvisionerPub)
	b.SetBytes(int64(len(pdu)))
	b.ReportAllocs()
	for b.Loop() {
		_ = FCS(pdu)
	}
}

// BenchmarkLinkTransaction moves the 65-octet Public Key PDU across a PB-ADV
// link: segmentation into 3 PDUs, FCS, reassembly and acknowledgment.
func BenchmarkLinkTransaction(b *testing.B) {
	uuid := [16]byte(mustHex(sampleUUID))
	pl, _ := NewProvisionerLink(LinkConfig{}, sampleLinkID, uuid)
	dl, _ := NewDeviceLink(LinkConfig{}, uuid)
	now := time.Unix(0, 0)
	pl.Open(now)
	var buf [MaxPBADVLen]byte
	pump := func(from, to *Link) {
		for f, ok := from.Transmit(now, buf[:0]); ok; f, ok = from.Transmit(now, buf[:0]) {
			_, _ = to.Receive(now, f)
		}
	}
	pump(pl, dl)
	pump(dl, pl)
	pdu := mustHex("03" + sampleProvisionerPub)
	b.SetBytes(int64(len(pdu)))
	b.ReportAllocs()
	for b.Loop() {
		if err := pl.Send(now, pdu); err != nil {
			b.Fatal(err)
		}
		pump(pl, dl)
		pump(dl, pl)
		if pl.Pending() != 0 {
			b.Fatal("not acknowledged")
		}
	}
}

// BenchmarkSession derives everything a provisioning run computes after
// ECDH: confirmation key, both confirmations, session keys, data encryption
// and decryption.
func BenchmarkSession(b *testing.B) {
	for _, alg := range []Algorithm{AlgCMAC, AlgHMAC} {
		b.Run(alg.String(), func(b *testing.B) {
			s := Session{Algorithm: alg}
			r := Value{Len: uint8(alg.AuthSize())}
			pd := ProvisioningData{UnicastAddress: 1}
			b.ReportAllocs()
			for b.Loop() {
				_ = s.DeriveConfirmationKey()
				c, _ := s.Confirm(&r)
				_ = s.Verify(&c, &r)
				_ = s.DeriveSessionKeys(&r, &r)
				d, _ := s.EncryptData(&pd)
				_, _ = s.DecryptData(&d)
			}
		})
	}
}
