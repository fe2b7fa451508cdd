//go:build !tinygo && !race

package access_test

import (
	"testing"

	"github.com/edgekit/edgekit/blemesh/access"
)

func TestNoAllocs(t *testing.T) {
	s := &access.ConfigServer{Models: []access.ModelState{
		{Element: 0x0100, AppKeys: []uint16{1}, Subs: []uint16{0xc000}, Opcodes: []access.Opcode{0x8201}},
	}}
	out := make([]int, 0, 4)
	payload := unhex("0056341263964771734fbd76e3b40519d1d94a48")
	fields := make([]access.Field, 0, 8)
	n := testing.AllocsPerRun(100, func() {
		s.Route(0xc000, 1, 0x8201, out[:0])
		var p access.Payload
		p.Decode(payload)
		var add access.AppKeyAdd
		add.Decode(p.Params)
		var c access.CompositionPage0
		c.Decode(comp)
		it := c.Iter()
		var e access.Element
		for it.Next(&e) {
		}
		access.DecodeFields(p.Opcode, p.Params, fields[:0])
	})
	if n != 0 {
		t.Fatalf("allocs = %v; want 0", n)
	}
}
