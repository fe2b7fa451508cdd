//go:build !tinygo

package beacon_test

import (
	"testing"

	"github.com/edgekit/edgekit/blemesh/beacon"
)

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	k := beacon.NewNetKeys(netKey)
	buf := make([]byte, 0, 32)
	n := testing.AllocsPerRun(100, func() {
		var s beacon.SecureNetwork
		_ = k.OpenSecure(&s, snb)
		out, _ := k.SealSecure(buf[:0], &s)
		_ = out
		p := beacon.MeshPrivate{IVIndex: 1}
		pb, _ := k.SealPrivate(buf[:0], &p)
		_ = k.OpenPrivate(&p, pb)
	})
	if n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}
