package endpoint

import (
	"bytes"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

var testPeer = netipMust("127.0.0.1:40000")

// memServer returns an endpoint on a memConn and one of its workers, to
// drive the receive path directly.
func memServer(t testing.TB, cfg Config) (*Endpoint, *worker, *memConn) {
	t.Helper()
	c := newMemConn()
	if cfg.Handler == nil {
		mux, _ := newTestMux()
		cfg.Handler = mux
	}
	e, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, newWorker(e), c
}

func decode(t testing.TB, b []byte) *coap.Message {
	t.Helper()
	var m coap.Message
	if _, err := m.Decode(b); err != nil {
		t.Fatalf("reply % x: %v", b, err)
	}
	return m.Clone()
}

func TestRejectsPerRFC7252(t *testing.T) {
	_, w, c := memServer(t, Config{})
	cases := []struct {
		name string
		in   []byte
		typ  coap.Type
		code coap.Code
	}{
		{"ping", []byte{0x40, 0, 0x12, 0x34}, coap.Reset, coap.Empty},
		{"CON with TKL 9", []byte{0x49, 1, 0x12, 0x35, 1, 2, 3, 4, 5, 6, 7, 8, 9}, coap.Reset, coap.Empty},
		{"CON with payload marker, no payload", []byte{0x40, 1, 0x12, 0x36, 0xff}, coap.Reset, coap.Empty},
		{"CON with nibble 15", []byte{0x40, 1, 0x12, 0x37, 0xf1, 0}, coap.Reset, coap.Empty},
		{"CON with unknown critical option", []byte{0x40, 1, 0x12, 0x38, 0xd0, 0x10 /* 13+16 = 29, critical */}, coap.Acknowledgement, coap.BadOption},
		{"CON with two Uri-Port", []byte{0x40, 1, 0x12, 0x39, 0x71, 1, 0x01, 2}, coap.Acknowledgement, coap.BadOption},
		{"unknown elective option is ignored", []byte{0x40, 1, 0x12, 0x3a, 0xb5, 'h', 'e', 'l', 'l', 'o', 0xe1, 0x02, 0xd0, 0 /* option 11+269+720 = 1000, elective */}, coap.Acknowledgement, coap.Content},
		{"unsolicited CON response", []byte{0x41, 0x45, 0x12, 0x3b, 9}, coap.Reset, coap.Empty},
		{"NON with TKL 9", []byte{0x59, 1, 0x12, 0x3f}, coap.Reset, coap.Empty},
		{"empty NON", []byte{0x50, 0, 0x12, 0x40}, coap.Reset, coap.Empty},
		{"NON with unknown critical option", []byte{0x50, 1, 0x12, 0x41, 0xd0, 0x10}, coap.Reset, coap.Empty},
		{"OSCORE is not implemented", []byte{0x40, 1, 0x12, 0x3c, 0x90}, coap.Acknowledgement, coap.BadOption},
		{"Proxy-Uri: no proxy", []byte{0x40, 1, 0x12, 0x3d, 0xd3, 0x16, 'c', ':', '/'}, coap.Acknowledgement, coap.ProxyingNotSupported},
		{"Accept mismatch", []byte{0x40, 1, 0x12, 0x3e, 0xb5, 'h', 'e', 'l', 'l', 'o', 0x61, 50}, coap.Acknowledgement, coap.NotAcceptable},
	}
	for _, tc := range cases {
		_, before := c.Last()
		w.handle(tc.in, testPeer)
		out, after := c.Last()
		if after != before+1 {
			t.Fatalf("%s: %d replies", tc.name, after-before)
		}
		r := decode(t, out)
		if r.Type != tc.typ || r.Code != tc.code || r.MessageID != coap.MessageID(uint16(tc.in[2])<<8|uint16(tc.in[3])) {
			t.Fatalf("%s: reply %v %v mid %d", tc.name, r.Type, r.Code, r.MessageID)
		}
	}
	// Silently ignored: bad version, short, RST and ACK junk.
	for _, in := range [][]byte{{0x80, 1, 0, 1}, {0x40, 1}, {0x70, 0x45, 0, 1}, {0x60, 0x01, 0, 2}} {
		_, before := c.Last()
		w.handle(in, testPeer)
		if _, after := c.Last(); after != before {
			t.Fatalf("% x was answered", in)
		}
	}
}

func TestDeduplication(t *testing.T) {
	calls := 0
	mux := NewMux()
	mux.HandleFunc(coap.POST, "/count", func(w *ResponseWriter, r *Request) {
		calls++
		w.WriteString("once")
	})
	_, w, c := memServer(t, Config{Handler: mux})
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.Confirmable, coap.POST, 77
	m.Token, _ = coap.TokenFrom([]byte{1, 2})
	m.SetPath("/count")
	in, _ := m.AppendBinary(nil)
	w.handle(in, testPeer)
	first, _ := c.Last()
	w.handle(in, testPeer)
	second, n := c.Last()
	if calls != 1 || n != 2 || !bytes.Equal(first, second) {
		t.Fatalf("calls %d, replies %d, same %v", calls, n, bytes.Equal(first, second))
	}
	// Same MID from another port is a different message.
	w.handle(in, netipMust("127.0.0.1:40001"))
	if calls != 2 {
		t.Fatalf("calls %d", calls)
	}
	// NON duplicates are dropped.
	m.Type, m.MessageID = coap.NonConfirmable, 78
	in, _ = m.AppendBinary(nil)
	w.handle(in, testPeer)
	w.handle(in, testPeer)
	if _, n := c.Last(); calls != 3 || n != 4 {
		t.Fatalf("NON dup: calls %d replies %d", calls, n)
	}
}

func TestNoResponse(t *testing.T) {
	_, w, c := memServer(t, Config{})
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.NonConfirmable, coap.POST, 5
	m.SetPath("/echo")
	m.SetUint(coap.NoResponse, uint32(coap.NoResponse2xx))
	m.Payload = []byte("x")
	in, _ := m.AppendBinary(nil)
	w.handle(in, testPeer)
	if _, n := c.Last(); n != 0 {
		t.Fatal("No-Response 2xx answered")
	}
	// A CON still gets its (empty) ACK.
	m.Type, m.MessageID = coap.Confirmable, 6
	in, _ = m.AppendBinary(nil)
	w.handle(in, testPeer)
	out, n := c.Last()
	if r := decode(t, out); n != 1 || r.Type != coap.Acknowledgement || r.Code != coap.Empty {
		t.Fatalf("CON with No-Response: %d % x", n, out)
	}
}

// TestBlock1ByRequestTagNotToken: blocks of one upload with a new token
// each (as libcoap sends them) are joined; two interleaved uploads to the
// same resource with different Request-Tags stay apart; a block out of
// order gets 4.08; a Size1 above MaxBodySize gets 4.13.
func TestBlock1ByRequestTagNotToken(t *testing.T) {
	var bodies []string
	mux := NewMux()
	mux.HandleFunc(coap.PUT, "/up", func(w *ResponseWriter, r *Request) {
		bodies = append(bodies, string(r.Body))
		w.SetCode(coap.Changed)
	})
	_, w, c := memServer(t, Config{Handler: mux, MaxBodySize: 100})
	mid := coap.MessageID(100)
	send := func(tag byte, num uint32, more bool, payload string, size1 uint32) *coap.Message {
		var m coap.Message
		mid++
		m.Type, m.Code, m.MessageID = coap.Confirmable, coap.PUT, mid
		m.Token = coap.TokenFromUint64(uint64(mid)) // new token every block
		m.SetPath("/up")
		m.SetOption(coap.RequestTag, []byte{tag})
		m.SetBlock1(coap.Block{Num: num, More: more, SZX: 0})
		if size1 > 0 {
			m.SetUint(coap.Size1, size1)
		}
		m.Payload = []byte(payload)
		in, _ := m.AppendBinary(nil)
		w.handle(in, testPeer)
		out, _ := c.Last()
		return decode(t, out)
	}
	a, b := "AAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBB"
	if r := send(1, 0, true, a, 0); r.Code != coap.Continue {
		t.Fatalf("block 0: %v", r.Code)
	}
	if r := send(2, 0, true, b, 0); r.Code != coap.Continue {
		t.Fatalf("other upload block 0: %v", r.Code)
	}
	if r := send(1, 1, false, "a", 0); r.Code != coap.Changed {
		t.Fatalf("last block: %v", r.Code)
	}
	if r := send(2, 1, false, "b", 0); r.Code != coap.Changed {
		t.Fatalf("other last block: %v", r.Code)
	}
	if len(bodies) != 2 || bodies[0] != a+"a" || bodies[1] != b+"b" {
		t.Fatalf("bodies %q", bodies)
	}
	if r := send(3, 2, true, a, 0); r.Code != coap.RequestEntityIncomplete {
		t.Fatalf("out of order: %v", r.Code)
	}
	if r := send(4, 0, true, a, 1000); r.Code != coap.RequestEntityTooLarge {
		t.Fatalf("Size1 too big: %v", r.Code)
	} else if v, _ := r.Uint(coap.Size1); v != 100 {
		t.Fatalf("4.13 Size1 = %d", v)
	}
	for i := uint32(0); i < 6; i++ {
		r := send(5, i, true, a, 0)
		if i < 6 && r.Code != coap.Continue && r.Code != coap.RequestEntityTooLarge {
			t.Fatalf("block %d: %v", i, r.Code)
		}
		if r.Code == coap.RequestEntityTooLarge {
			break
		}
		if i == 6 {
			t.Fatal("MaxBodySize not enforced")
		}
	}
}

func TestReassemblyLimitsAndExpiry(t *testing.T) {
	clk := newFakeClock()
	e, w, c := memServer(t, Config{Clock: clk, MaxReassemblies: 2, ReassemblyTimeout: 10e9})
	mid := coap.MessageID(1)
	start := func(path string) coap.Code {
		var m coap.Message
		mid++
		m.Type, m.Code, m.MessageID = coap.Confirmable, coap.PUT, mid
		m.SetPath(path)
		m.SetBlock1(coap.Block{Num: 0, More: true, SZX: 0})
		m.Payload = bytes.Repeat([]byte{1}, 16)
		in, _ := m.AppendBinary(nil)
		w.handle(in, testPeer)
		out, _ := c.Last()
		return decode(t, out).Code
	}
	if start("/a") != coap.Continue || start("/b") != coap.Continue {
		t.Fatal("uploads refused")
	}
	if got := start("/c"); got != coap.ServiceUnavailable {
		t.Fatalf("third upload: %v", got)
	}
	clk.Advance(20e9)
	if n := e.Stats().Reassemblies; n != 0 {
		t.Fatalf("%d reassemblies after expiry", n)
	}
	if start("/c") != coap.Continue {
		t.Fatal("upload refused after expiry")
	}
}

func TestReassemblyByteLimit(t *testing.T) {
	e, w, c := memServer(t, Config{MaxReassemblyBytes: 40})
	mid := coap.MessageID(1)
	block := func(path string, num uint32) coap.Code {
		var m coap.Message
		mid++
		m.Type, m.Code, m.MessageID = coap.Confirmable, coap.PUT, mid
		m.SetPath(path)
		m.SetBlock1(coap.Block{Num: num, More: true, SZX: 0})
		m.Payload = bytes.Repeat([]byte{1}, 16)
		in, _ := m.AppendBinary(nil)
		w.handle(in, testPeer)
		out, _ := c.Last()
		return decode(t, out).Code
	}
	if block("/a", 0) != coap.Continue || block("/b", 0) != coap.Continue {
		t.Fatal("uploads refused")
	}
	if got := block("/a", 1); got != coap.ServiceUnavailable {
		t.Fatalf("48 bytes held: %v", got)
	}
	if e.reasm.bytes.Load() != 16 || e.Stats().Reassemblies != 1 {
		t.Fatalf("after the refusal: %d bytes, %d uploads", e.reasm.bytes.Load(), e.Stats().Reassemblies)
	}
	if block("/c", 0) != coap.Continue {
		t.Fatal("room freed by the dropped upload not reused")
	}
}

// TestSeparateWatchdog: a handler still running after SeparateAfter gets
// its CON request acknowledged with an Empty ACK; the response then goes
// out as a separate CON that is retransmitted until acknowledged.
func TestSeparateWatchdog(t *testing.T) {
	clk := newFakeClock()
	release := make(chan struct{})
	mux := NewMux()
	mux.HandleFunc(coap.GET, "/slow", func(w *ResponseWriter, r *Request) {
		<-release
		w.WriteString("done")
	})
	e, w, c := memServer(t, Config{Handler: mux, Clock: clk})
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.Confirmable, coap.GET, 0x4242
	m.Token, _ = coap.TokenFrom([]byte{7})
	m.SetPath("/slow")
	in, _ := m.AppendBinary(nil)
	done := make(chan struct{})
	go func() { w.handle(in, testPeer); close(done) }()
	for w.sepState.Load() != sepRunning {
		time.Sleep(time.Millisecond)
	}
	clk.Advance(500 * time.Millisecond)
	if _, n := c.Last(); n != 0 {
		t.Fatal("acknowledged before SeparateAfter")
	}
	clk.Advance(600 * time.Millisecond)
	out, n := c.Last()
	if r := decode(t, out); n != 1 || r.Type != coap.Acknowledgement || r.Code != coap.Empty || r.MessageID != 0x4242 {
		t.Fatalf("watchdog: %d datagrams, % x", n, out)
	}
	// A retransmission of the request now gets the Empty ACK again.
	w2 := newWorker(e)         // a second worker, as the pool would use
	go w2.handle(in, testPeer) // dedup: answered from the cache, not the handler
	for _, n := c.Last(); n != 2; _, n = c.Last() {
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-done
	out, _ = c.Last()
	r := decode(t, out)
	if r.Type != coap.Confirmable || r.MessageID == 0x4242 || string(r.Payload) != "done" || r.Token != m.Token {
		t.Fatalf("separate response %+v", r)
	}
	// Unacknowledged, it is retransmitted.
	clk.Advance(3 * time.Second)
	if st := e.Stats(); st.Retransmissions == 0 {
		t.Fatal("separate CON response not retransmitted")
	}
	w.handle([]byte{0x60, 0, byte(r.MessageID >> 8), byte(r.MessageID)}, testPeer)
	_, before := c.Last()
	clk.Advance(time.Minute)
	if _, after := c.Last(); after != before {
		t.Fatal("retransmitted after the ACK")
	}
}
