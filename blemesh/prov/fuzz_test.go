//go:build !tinygo

package prov

import (
	"bytes"
	"testing"
	"time"
)

// FuzzPDU decodes any provisioning PDU; whatever decodes must re-encode to
// the same octets.
func FuzzPDU(f *testing.F) {
	for _, fx := range pduFixtures {
		f.Add(fx.wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := decodeAny(b)
		if err != nil {
			return
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x", b, out)
		}
	})
}

// FuzzPBADV decodes PB-ADV payloads; whatever decodes must re-encode to the
// same octets.
func FuzzPBADV(f *testing.F) {
	for _, fx := range pbadvFixtures {
		f.Add(fx.wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PBADV
		n, err := p.Decode(b)
		if err != nil {
			return
		}
		out, err := p.AppendBinary(nil)
		if err != nil || n != len(b) || !bytes.Equal(out, b) || p.EncodedLen() != len(b) {
			t.Fatalf("round trip %x -> %x %v", b, out, err)
		}
	})
}

// FuzzProvisioningData: decoded data re-encodes identically.
func FuzzProvisioningData(f *testing.F) {
	f.Add(mustHex("efb2255e6422d330088e09bb015ed707056700010203040b0c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d ProvisioningData
		if _, err := d.Decode(b); err != nil {
			return
		}
		out, err := d.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x %v", b, out, err)
		}
	})
}

// splitFrames cuts b into frames, each prefixed by one length octet.
func splitFrames(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := int(b[0])
		b = b[1:]
		if n > len(b) {
			n = len(b)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func joinFrames(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	return b
}

// FuzzLink feeds arbitrary PB-ADV payloads to a device link: it must not
// panic, must deliver only PDUs within its bound whose FCS matches, and
// must transmit only well-formed payloads.
func FuzzLink(f *testing.F) {
	uuid := [16]byte(mustHex(sampleUUID))
	open := AppendLinkOpen(nil, sampleLinkID, &uuid)
	var seeds [][]byte
	for _, fx := range pbadvFixtures {
		seeds = append(seeds, fx.wire)
	}
	f.Add(joinFrames(append([][]byte{open}, seeds...)...))
	f.Add(joinFrames(open, pbadvFixtures[3].wire, pbadvFixtures[3].wire, pbadvFixtures[2].wire))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, _ := NewDeviceLink(LinkConfig{MaxPDULen: 70}, uuid)
		now := time.Unix(0, 0)
		for _, fr := range splitFrames(b) {
			pdu, err := l.Receive(now, fr)
			if err == nil && pdu != nil && len(pdu) > 70 {
				t.Fatalf("delivered %d octets", len(pdu))
			}
			for i := 0; ; i++ {
				out, ok := l.Transmit(now, nil)
				if !ok {
					break
				}
				if i > 100 {
					t.Fatal("endless transmit")
				}
				var p PBADV
				if _, err := p.Decode(out); err != nil {
					t.Fatalf("transmitted malformed %x: %v", out, err)
				}
			}
			now = now.Add(100 * time.Millisecond)
		}
	})
}

// FuzzDevice feeds arbitrary provisioning PDUs to a device state machine:
// it must not panic and must answer garbage with Failed.
func FuzzDevice(f *testing.F) {
	var all [][]byte
	for _, fx := range pduFixtures {
		all = append(all, fx.wire)
	}
	f.Add(joinFrames(all...))
	f.Add(joinFrames(mustHex("0000"), mustHex("020000000000"), mustHex("03"+sampleProvisionerPub)))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := NewDevice(DeviceConfig{
			Capabilities: Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC | AlgorithmsHMAC, OOBType: OOBStaticAvailable,
				OutputOOBSize: 4, OutputOOBAction: 1 << OutputNumeric, InputOOBSize: 4, InputOOBAction: 1 << InputNumeric},
			KeyPair: newToyKeyPair(9), StaticOOB: []byte("static"), Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 1024)),
		})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		for _, fr := range splitFrames(b) {
			d.Receive(now, fr)
			for out, ok := d.Transmit(now, nil); ok; out, ok = d.Transmit(now, nil) {
				if _, err := decodeAny(out); err != nil {
					t.Fatalf("device sent malformed %x: %v", out, err)
				}
			}
			for _, ok := d.NextEvent(); ok; _, ok = d.NextEvent() {
			}
			now = now.Add(time.Second)
		}
	})
}

// FuzzProvisioner feeds arbitrary provisioning PDUs to a provisioner that
// started a run: it must not panic and must send only well-formed PDUs.
func FuzzProvisioner(f *testing.F) {
	dpk := mustHex(sampleDevicePub)
	f.Add(joinFrames(mustHex("010100010000000000000000"), append([]byte{0x03}, dpk...),
		mustHex("05eeba521c196b52cc2e37aa40329f554e"), mustHex("0655a2a2bca04cd32ff6f346bd0a0c1a3a"), []byte{0x08}))
	f.Add(joinFrames(mustHex("0d000000010011"), mustHex("0b00000100100040303132")))
	f.Add(joinFrames(mustHex("0102000301010400180400"), []byte{0x09, 0x02}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(5), StaticOOB: []byte("s"),
			Rand: newTestRand(uint64(len(b))), MaxRecordLen: 64})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		frames := splitFrames(b)
		if len(b) > 0 && b[0]&1 == 1 {
			p.GetRecord(now, 1, 8)
		} else {
			p.Begin(now)
		}
		for _, fr := range frames {
			p.Receive(now, fr)
			for e, ok := p.NextEvent(); ok; e, ok = p.NextEvent() {
				switch e.Kind {
				case EventCapabilities:
					caps := p.PeerCapabilities()
					for _, s := range []Start{{Algorithm: AlgHMAC, AuthMethod: AuthStaticOOB}, {}} {
						if s.Supported(&caps) {
							p.Start(now, s, ProvisioningData{UnicastAddress: 1})
							break
						}
					}
				case EventInputOOB:
					p.InputNumber(now, 1)
				case EventRecord, EventRecordsList:
					p.Begin(now)
				}
			}
			for out, ok := p.Transmit(now, nil); ok; out, ok = p.Transmit(now, nil) {
				if _, err := decodeAny(out); err != nil {
					t.Fatalf("provisioner sent malformed %x: %v", out, err)
				}
			}
			now = now.Add(time.Second)
		}
	})
}
