//go:build !tinygo

package node_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/bearer"
)

// FuzzReceive feeds arbitrary AD structures to a provisioned node (with a
// relay, a Friend and an open provisioning session) and to an unprovisioned
// one: no input may panic, and the node keeps working afterwards.
func FuzzReceive(f *testing.F) {
	snd, cp, _, _, _ := pair(f, false)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 4; i++ {
		_ = snd.Send(now, &outgoingSet)
	}
	_ = snd.Send(now, &outgoingSet) // kept out of the corpus: the check below
	check := cp.advs[len(cp.advs)-1]
	for _, a := range cp.advs[:len(cp.advs)-1] {
		f.Add(a.Type, a.Payload)
	}
	f.Add(uint8(bearer.TypeBeacon), []byte{0x01, 0x00, 0x3e, 0xca, 0xff, 0x67, 0x2f, 0x67, 0x33, 0x70, 0x12, 0x34, 0x56, 0x78, 0x8e, 0xa2, 0x61, 0x58, 0x2f, 0x36, 0x4f, 0x6f})
	f.Add(uint8(bearer.TypePBADV), []byte{0x31, 0x6b, 0xfe, 0x6f, 0x00, 0x03, 0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6, 0x91, 0x49, 0x48, 0x10, 0xd2, 0xe9, 0xcb, 0xf4})
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		_, _, rcv, _, _ := pair(t, true)
		a := bearer.Adv{Type: typ, Payload: payload}
		rcv.Receive(now, &a)
		rcv.Tick(now.Add(time.Second))
		// Still delivers a genuine message afterwards.
		before := rcv.Stats().Delivered
		rcv.Receive(now, &check)
		if rcv.Stats().Delivered != before+1 {
			t.Fatalf("node stopped delivering after %x %x: %+v", typ, payload, rcv.Stats())
		}
	})
}
