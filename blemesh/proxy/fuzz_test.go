package proxy

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzPDU: a decoded proxy PDU re-encodes to the same octets.
func FuzzPDU(f *testing.F) {
	for _, v := range sarValues {
		f.Add(mustHex(v))
	}
	f.Add([]byte{0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PDU
		if _, err := p.Decode(b); err != nil {
			return
		}
		out, err := p.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x %v", b, out, err)
		}
	})
}

// FuzzReassembler feeds a sequence of ATT values (each prefixed by a length
// octet) to a reassembler: it must not panic, must respect its bound, and a
// reassembled message must segment back into a sequence the reassembler
// accepts again.
func FuzzReassembler(f *testing.F) {
	var seed []byte
	for _, v := range sarValues {
		b := mustHex(v)
		seed = append(seed, byte(len(b)))
		seed = append(seed, b...)
	}
	f.Add(seed)
	f.Add([]byte{2, 0x40, 1, 2, 0x00, 1, 2, 0xc1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _ := NewReassembler(Config{MaxMessageSize: 64})
		now := time.Unix(0, 0)
		for len(b) > 0 {
			n := int(b[0])
			b = b[1:]
			if n > len(b) {
				n = len(b)
			}
			typ, msg, done, err := r.Feed(now, b[:n])
			b = b[n:]
			now = now.Add(time.Second)
			if err != nil || !done {
				continue
			}
			if len(msg) > 64 {
				t.Fatalf("message of %d octets", len(msg))
			}
			s, err := NewSegmenter(MinATTMTU, typ, append([]byte(nil), msg...))
			if err != nil {
				t.Fatal(err)
			}
			r2, _ := NewReassembler(Config{MaxMessageSize: 64})
			var back []byte
			for v, ok := s.Next(nil); ok; v, ok = s.Next(nil) {
				t2, m2, d2, err := r2.Feed(now, v)
				if err != nil {
					t.Fatal(err)
				}
				if d2 {
					if t2 != typ {
						t.Fatal("type changed")
					}
					back = m2
				}
			}
			if !bytes.Equal(back, msg) {
				t.Fatalf("resegmented %x -> %x", msg, back)
			}
		}
	})
}

// FuzzServiceData: decoded service data re-encodes to the decoded octets.
func FuzzServiceData(f *testing.F) {
	f.Add(mustHex("0c162818003ecaff672f673370"))
	f.Add(mustHex("141628180100861765aefcc57b34ae608fbbc1f2c6"))
	f.Add(mustHex("1416281802d30f7229ef04543534ae608fbbc1f2c6"))
	f.Add(mustHex("14162818032c64a8cbca65bfe134ae608fbbc1f2c6"))
	f.Add(mustHex("1516271870cf7c9732a345b691494810d2e9cbf42040"))
	f.Add(mustHex("020106030328180c162818003ecaff672f673370"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, uuid := range []uint16{ServiceUUIDProxy, ServiceUUIDProvisioning} {
			if sd, ok := FindServiceData(b, uuid); ok && (len(sd) < 4 || int(sd[0])+1 != len(sd)) {
				t.Fatalf("FindServiceData returned %x", sd)
			}
		}
		var d ProxyServiceData
		if n, err := d.Decode(b); err == nil {
			out, err := d.AppendBinary(nil)
			if err != nil || !bytes.Equal(out, b[:n]) {
				t.Fatalf("proxy round trip %x -> %x %v", b[:n], out, err)
			}
		}
		for _, le := range []bool{false, true} {
			p := ProvisioningServiceData{OOBLittleEndian: le}
			if n, err := p.Decode(b); err == nil {
				out, _ := p.AppendBinary(nil)
				if !bytes.Equal(out, b[:n]) {
					t.Fatalf("provisioning round trip %x -> %x", b[:n], out)
				}
			}
		}
	})
}
