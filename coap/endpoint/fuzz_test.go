package endpoint

import (
	"testing"

	"github.com/edgekit/edgekit/coap"
)

// FuzzReceive feeds arbitrary datagrams to the endpoint's receive path.
// Properties: no panic; every reply decodes and answers the message id of
// a CON it replies to (ACK or RST); the tables stay within their limits.
func FuzzReceive(f *testing.F) {
	seeds := [][]byte{
		{0x40, 0, 0, 1},
		{0x42, 0x01, 0x7d, 0x34, 0xab, 0xcd, 0xb5, 'h', 'e', 'l', 'l', 'o'},
		{0x40, 0x02, 0, 2, 0xb4, 'e', 'c', 'h', 'o', 0xff, 'x'},
		{0x40, 0x03, 0, 3, 0xb2, 'u', 'p', 0xd1, 0x02, 0x08, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		{0x40, 0x01, 0, 4, 0xb5, 'l', 'a', 'r', 'g', 'e', 0xc1, 0x16},
		{0x41, 0x01, 0, 5, 7, 0x60, 0x53, 'o', 'b', 's'},
		{0x61, 0x45, 0, 6, 1},
		{0x51, 0x45, 0, 10, 1, 0x61, 0x07, 0xff, 'x'},
		{0x41, 0x45, 0, 11, 1, 0xd1, 0x0a, 0x0e, 0xff, 'y'},
		{0x70, 0, 0, 7},
		{0x40, 1, 0, 8, 0xd0, 0x10},
		{0x49, 1, 0, 9},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	mux, _ := newTestMux()
	e, w, c := memServer(f, Config{Handler: mux, MaxReassemblies: 4, MaxBodySize: 4096, MaxDedup: 256, MaxObservers: 8,
		MaxReassemblyBytes: 1 << 14, MaxBlockCacheBytes: 1 << 14})
	// A client exchange waiting for token 01, so that responses reach the
	// client path too.
	tok, _ := coap.TokenFrom([]byte{1})
	ex := &exchange{token: tok, peer: testPeer, ch: make(chan result, 1)}
	e.addToken(ex)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, before := c.Last()
		w.handle(b, testPeer)
		select {
		case r := <-ex.ch:
			if r.err == nil && (r.msg == nil || r.msg.Token != tok) {
				t.Fatalf("delivered %+v for token %v", r.msg, tok)
			}
		default:
		}
		out, after := c.Last()
		var in coap.Message
		_, inErr := in.Decode(b)
		if after > before {
			var r coap.Message
			if _, err := r.Decode(out); err != nil {
				t.Fatalf("reply % x does not decode: %v", out, err)
			}
			if len(b) >= 4 && b[0]>>4&3 == 0 && (r.Type == coap.Acknowledgement || r.Type == coap.Reset) {
				if mid := coap.MessageID(uint16(b[2])<<8 | uint16(b[3])); r.MessageID != mid {
					t.Fatalf("reply to mid %d has mid %d", mid, r.MessageID)
				}
			}
			if inErr != nil && r.Type != coap.Reset {
				t.Fatalf("malformed input answered with %v %v", r.Type, r.Code)
			}
		}
		st := e.Stats()
		if st.Reassemblies > 4 || st.Observers > 8 || e.reasm.bytes.Load() > 1<<14 || e.blocks.bytes.Load() > 1<<14 {
			t.Fatalf("limits exceeded: %+v, %d bytes in uploads, %d cached", st, e.reasm.bytes.Load(), e.blocks.bytes.Load())
		}
	})
}
