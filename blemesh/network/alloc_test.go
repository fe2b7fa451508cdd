//go:build !tinygo

package network_test

import (
	"testing"

	"github.com/edgekit/edgekit/blemesh/network"
)

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	k := network.FloodingKeys(netKey)
	cache := network.NewCache(network.CacheConfig{})
	in := make([]byte, 0, network.MaxPDULen)
	out := make([]byte, 0, network.MaxPDULen)
	var h network.Header
	seq := uint32(0)
	n := testing.AllocsPerRun(200, func() {
		hh := msg16Hdr
		hh.SEQ = seq
		seq++
		pdu, err := k.Seal(in[:0], &hh, msg16Lower)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := k.Open(out[:0], &h, pdu, 0x12345678)
		if err != nil || len(tp) != len(msg16Lower) {
			t.Fatal(err)
		}
		cache.Add(h.IVIndex, h.SRC, h.SEQ)
		_, _ = k.Relay(in[:0], h, tp)
	})
	if n != 0 {
		t.Fatalf("allocs = %v; want 0", n)
	}
}
