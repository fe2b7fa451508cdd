package endpoint

import (
	"testing"

	"github.com/edgekit/edgekit/coap"
)

// TestServerRequestNoAllocs: the per-request path of the server — decode,
// dedup record, option checks, mux lookup, response encode, write and
// caching the response for duplicates — allocates nothing once warm.
func TestServerRequestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	mux := NewMux()
	mux.HandleFunc(coap.GET, "/sensors/temp", func(w *ResponseWriter, r *Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("21.5")
	})
	_, w, c := memServer(t, Config{Handler: mux, MaxDedup: 1024})
	for _, typ := range []coap.Type{coap.Confirmable, coap.NonConfirmable} {
		var m coap.Message
		m.Type, m.Code = typ, coap.GET
		m.Token, _ = coap.TokenFrom([]byte{1, 2, 3, 4})
		m.SetPath("/sensors/temp")
		in, _ := m.AppendBinary(nil)
		mid := uint16(0)
		run := func() {
			mid++
			in[2], in[3] = byte(mid>>8), byte(mid)
			w.handle(in, testPeer)
		}
		for i := 0; i < 5000; i++ { // fill the dedup ring and the maps
			run()
		}
		if n := testing.AllocsPerRun(2000, run); n != 0 {
			t.Errorf("%v GET: %v allocs per request", typ, n)
		}
		out, _ := c.Last()
		if r := decode(t, out); string(r.Payload) != "21.5" {
			t.Fatalf("reply %+v", r)
		}
	}
	// The duplicate path (resend the cached response) too.
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.Confirmable, coap.GET, 9
	m.SetPath("/sensors/temp")
	in, _ := m.AppendBinary(nil)
	w.handle(in, testPeer)
	if n := testing.AllocsPerRun(1000, func() { w.handle(in, testPeer) }); n != 0 {
		t.Errorf("duplicate: %v allocs", n)
	}
}
