package coap

import "testing"

func BenchmarkDecode(b *testing.B) {
	for _, fx := range fixtures {
		b.Run(fx.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(fx.wire)))
			var m Message
			for i := 0; i < b.N; i++ {
				_, _ = m.Decode(fx.wire)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	buf := make([]byte, 0, 2048)
	for _, fx := range fixtures {
		b.Run(fx.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(fx.wire)))
			m := fx.msg
			for i := 0; i < b.N; i++ {
				buf, _ = m.AppendBinary(buf[:0])
			}
		})
	}
}
