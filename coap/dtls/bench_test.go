package dtls

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// BenchmarkRoundTrip measures one CoAP request and its response over an
// established DTLS session on loopback (client encrypt, server decrypt,
// server encrypt, client decrypt), per cipher suite.
func BenchmarkRoundTrip(b *testing.B) {
	for _, suite := range []CipherSuite{TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_GCM_SHA256} {
		b.Run(suite.String(), func(b *testing.B) {
			scfg := pskServerConfig()
			scfg.CipherSuites = []CipherSuite{suite}
			s, err := Listen("udp4", "127.0.0.1:0", scfg)
			if err != nil {
				b.Fatal(err)
			}
			wait := startCoAP(s)
			defer func() { s.Close(); wait() }()
			ctx := b.Context()
			c, err := Dial(ctx, "udp", serverAddr(s).String(), pskClientConfig())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			req := coapMsg{typ: coapCON, code: coapGET, token: []byte{1, 2, 3, 4}, path: []string{"hello"}}
			out := []uring.Msg{{Buf: req.encode(), Addr: c.RemoteAddr()}}
			in := []uring.Msg{{Buf: make([]byte, 2048)}}
			c.SetReadDeadline(time.Now().Add(time.Minute))
			b.ReportAllocs()
			b.SetBytes(int64(len(out[0].Buf)))
			for b.Loop() {
				if _, err := c.WriteBatch(out); err != nil {
					b.Fatal(err)
				}
				if _, err := c.ReadBatch(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
