package proxy

import (
	"testing"
	"time"
)

// BenchmarkSAR segments a 65-octet provisioning PDU over an ATT MTU of 23
// and reassembles it.
func BenchmarkSAR(b *testing.B) {
	payload := mustHex(sarPayload)
	r, _ := NewReassembler(Config{})
	buf := make([]byte, 0, 32)
	now := time.Unix(0, 0)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		s, _ := NewSegmenter(MinATTMTU, TypeProvisioning, payload)
		for v, ok := s.Next(buf[:0]); ok; v, ok = s.Next(buf[:0]) {
			_, _, _, _ = r.Feed(now, v)
		}
	}
}

// BenchmarkNodeIdentity computes and encodes a Node Identity advertisement
// and matches it, as a proxy server and client do.
func BenchmarkNodeIdentity(b *testing.B) {
	var ik [16]byte
	random := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	buf := make([]byte, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		d := NodeIdentityServiceData(ik, random, 0x1201)
		out, _ := d.AppendBinary(buf[:0])
		var e ProxyServiceData
		_, _ = e.Decode(out)
		if !e.MatchNode(ik, 0x1201) {
			b.Fatal("no match")
		}
	}
}
