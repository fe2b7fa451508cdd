package uring_test

import (
	"testing"

	"github.com/edgekit/edgekit/uring"
)

// BenchmarkRoundTrip writes a batch of 32 64-byte datagrams over loopback
// and reads it back, per backend; ns/op is per datagram (write + read).
func BenchmarkRoundTrip(b *testing.B) {
	for _, be := range backends {
		b.Run(be.String(), func(b *testing.B) {
			rx := listen(b, "udp4", "127.0.0.1:0", uring.Config{Backend: be})
			tx := listen(b, "udp4", "127.0.0.1:0", uring.Config{Backend: be})
			const batch = 32
			out, in := msgs(batch, 64), msgs(batch, 2048)
			for i := range out {
				out[i].Addr = addrPort(b, rx)
			}
			b.ReportAllocs()
			b.SetBytes(64)
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				if _, err := tx.WriteBatch(out); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < batch; {
					n, err := rx.ReadBatch(in)
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
		})
	}
}

// BenchmarkWrite sends batches of 64 64-byte datagrams to a loopback socket
// that never reads (the kernel drops what does not fit); ns/op is per
// datagram, so it compares sendmmsg with one sendmsg per datagram.
func BenchmarkWrite(b *testing.B) {
	for _, be := range backends {
		b.Run(be.String(), func(b *testing.B) {
			sink := listen(b, "udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendStd})
			tx := listen(b, "udp4", "127.0.0.1:0", uring.Config{Backend: be})
			out := msgs(64, 64)
			for i := range out {
				out[i].Addr = addrPort(b, sink)
			}
			b.ReportAllocs()
			b.SetBytes(64)
			b.ResetTimer()
			for done := 0; done < b.N; done += len(out) {
				if _, err := tx.WriteBatch(out[:min(len(out), b.N-done)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
