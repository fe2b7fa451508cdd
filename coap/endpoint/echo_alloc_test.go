package endpoint

import (
	"net/netip"
	"testing"

	"github.com/edgekit/edgekit/coap"
)

// TestServerEchoNoAllocs: with Config.Echo on, the per-request path of the
// server allocates nothing: issuing a challenge (4.01 + Echo), verifying a
// fresh Echo on a POST that reaches the handler, and the amplification
// check of a GET.
func TestServerEchoNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	mux := NewMux()
	mux.HandleFunc(coap.POST, "/act", func(w *ResponseWriter, r *Request) { w.WriteString("ok") })
	mux.HandleFunc(coap.GET, "/act", func(w *ResponseWriter, r *Request) { w.WriteString("21.5") })
	_, w, c := memServer(t, Config{Handler: mux, MaxDedup: 1024, Echo: EchoConfig{Unsafe: true, Amplification: true}})

	in := echoReq(t, coap.POST, 1, "/act", nil, "x")
	w.handle(in, testPeer)
	out, _ := c.Last()
	echo, ok := decode(t, out).Option(coap.Echo)
	if !ok {
		t.Fatal("no challenge")
	}
	withEcho := echoReq(t, coap.POST, 2, "/act", echo, "x")
	get := echoReq(t, coap.GET, 3, "/act", nil, "")
	for _, tc := range []struct {
		name string
		in   []byte
		want coap.Code
	}{{"challenge", in, coap.Unauthorized}, {"fresh Echo", withEcho, coap.Changed}, {"GET", get, coap.Content}} {
		mid := uint16(0)
		run := func() {
			mid++
			tc.in[2], tc.in[3] = byte(mid>>8), byte(mid)
			w.handle(tc.in, testPeer)
		}
		for i := 0; i < 3000; i++ { // fill the dedup ring and the maps
			run()
		}
		if n := testing.AllocsPerRun(2000, run); n != 0 {
			t.Errorf("%s: %v allocs per request", tc.name, n)
		}
		out, _ := c.Last()
		if r := decode(t, out); r.Code != tc.want {
			t.Fatalf("%s: reply %v, want %v", tc.name, r.Code, tc.want)
		}
	}
}

// BenchmarkServerHandleEcho measures the server's per-request path with
// Config.Echo on: "challenge" answers a POST without Echo with 4.01 + a new
// value (one HMAC), "verified" checks a fresh Echo (one HMAC) and serves
// the POST. Compare with BenchmarkServerHandle (GET, Echo off).
func BenchmarkServerHandleEcho(b *testing.B) {
	mux := NewMux()
	mux.HandleFunc(coap.POST, "/bench", func(w *ResponseWriter, r *Request) { w.WriteString("ok") })
	_, w, c := memServer(b, Config{Handler: mux, Clock: newFakeClock(), Echo: EchoConfig{Unsafe: true, Amplification: true}})
	// req returns a POST from peer, with an Echo issued to peer if verified.
	req := func(peer netip.AddrPort, verified bool) []byte {
		bare := echoReq(b, coap.POST, 1, "/bench", nil, "x")
		if !verified {
			return bare
		}
		w.handle(bare, peer)
		out, _ := c.Last()
		echo, _ := decode(b, out).Option(coap.Echo)
		return echoReq(b, coap.POST, 2, "/bench", echo, "x")
	}
	for _, verified := range []bool{false, true} {
		name := "challenge"
		if verified {
			name = "verified"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var in []byte
			var peer netip.AddrPort
			for i := 0; i < b.N; i++ {
				// A new peer port every 64 Ki message ids, so that no
				// request is a duplicate answered from the dedup cache.
				if i&0xffff == 0 {
					b.StopTimer()
					peer = netip.AddrPortFrom(testPeer.Addr(), uint16(1000+i>>16))
					in = req(peer, verified)
					b.SetBytes(int64(len(in)))
					b.StartTimer()
				}
				in[2], in[3] = byte(i>>8), byte(i)
				w.handle(in, peer)
			}
		})
	}
}
