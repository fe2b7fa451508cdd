//go:build !tinygo

package proxy

import (
	"testing"
	"time"
)

// TestNoAllocs proves the proxy PDU codec, SAR both ways and the service
// data codecs allocate nothing.
func TestNoAllocs(t *testing.T) {
	payload := mustHex(sarPayload)
	r, _ := NewReassembler(Config{})
	buf := make([]byte, 0, 64)
	now := time.Unix(0, 0)
	done := 0
	if n := testing.AllocsPerRun(200, func() {
		s, _ := NewSegmenter(23, TypeProvisioning, payload)
		for v, ok := s.Next(buf[:0]); ok; v, ok = s.Next(buf[:0]) {
			var p PDU
			_, _ = p.Decode(v)
			_, _ = p.AppendBinary(buf[len(v):len(v)])
			if _, _, d, _ := r.Feed(now, v); d {
				done++
			}
		}
	}); n != 0 {
		t.Errorf("SAR: %v allocs/op; want 0", n)
	}
	if done != 201 {
		t.Errorf("%d messages reassembled", done)
	}
	ad := mustHex("141628180100861765aefcc57b34ae608fbbc1f2c6")
	pad := mustHex("1516271870cf7c9732a345b691494810d2e9cbf42040")
	var ik [16]byte
	if n := testing.AllocsPerRun(200, func() {
		var d ProxyServiceData
		_, _ = d.Decode(ad)
		_, _ = d.AppendBinary(buf[:0])
		_ = d.MatchNode(ik, 0x1201)
		var p ProvisioningServiceData
		_, _ = p.Decode(pad)
		_, _ = p.AppendBinary(buf[:0])
	}); n != 0 {
		t.Errorf("service data: %v allocs/op; want 0", n)
	}
}
