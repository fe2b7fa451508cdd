//go:build !tinygo

package coap

import "testing"

func TestNoAllocs(t *testing.T) {
	var m Message
	buf := make([]byte, 0, 2048)
	for _, fx := range fixtures {
		if n := testing.AllocsPerRun(1000, func() { _, _ = m.Decode(fx.wire) }); n != 0 {
			t.Errorf("Decode %s: %v allocs", fx.name, n)
		}
		msg := fx.msg
		if n := testing.AllocsPerRun(1000, func() { buf, _ = msg.AppendBinary(buf[:0]) }); n != 0 {
			t.Errorf("AppendBinary %s: %v allocs", fx.name, n)
		}
	}
	// Building a request with the helpers reuses m's storage after Reset.
	build := func() {
		m.Reset()
		m.Type, m.Code, m.MessageID, m.Token = Confirmable, GET, 1, tok(1, 2, 3, 4)
		m.SetPath("/a/bb/ccc")
		m.SetContentFormat(AppCBOR)
		m.SetBlock2(Block{Num: 1, SZX: 6})
		buf, _ = m.AppendBinary(buf[:0])
	}
	build()
	if n := testing.AllocsPerRun(1000, build); n != 0 {
		t.Errorf("build and encode: %v allocs", n)
	}
	if n := testing.AllocsPerRun(1000, func() { _, _ = m.CheckOptions(); _ = m.AppendPath(buf[:0]) }); n != 0 {
		t.Errorf("CheckOptions/AppendPath: %v allocs", n)
	}
}
