package endpoint

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// echoReq encodes a CON request with an optional Echo value.
func echoReq(t testing.TB, code coap.Code, mid coap.MessageID, path string, echo []byte, payload string) []byte {
	t.Helper()
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.Confirmable, code, mid
	m.Token, _ = coap.TokenFrom([]byte{7, byte(mid)})
	m.SetPath(path)
	if echo != nil {
		m.SetOption(coap.Echo, echo)
	}
	if payload != "" {
		m.Payload = []byte(payload)
	}
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEchoUnsafe: with Echo.Unsafe a POST without Echo, with a stale one
// (past the window on the endpoint's Clock), a forged one or one issued
// to another address gets 4.01 + a new Echo and does not reach the
// handler; with the value just issued it does. A GET needs none.
func TestEchoUnsafe(t *testing.T) {
	clk := newFakeClock()
	var calls atomic.Int32
	mux := NewMux()
	mux.HandleFunc(coap.POST, "/act", func(w *ResponseWriter, r *Request) {
		calls.Add(1)
		w.WriteString("done")
	})
	mux.HandleFunc(coap.GET, "/act", func(w *ResponseWriter, r *Request) { w.WriteString("state") })
	e, w, c := memServer(t, Config{Handler: mux, Clock: clk, Echo: EchoConfig{Unsafe: true, Window: 5 * time.Second}})
	mid := coap.MessageID(100)
	send := func(code coap.Code, echo []byte, from string) *coap.Message {
		t.Helper()
		mid++
		peer := testPeer
		if from != "" {
			peer = netipMust(from)
		}
		w.handle(echoReq(t, code, mid, "/act", echo, "x"), peer)
		out, _ := c.Last()
		r := decode(t, out)
		if r.Type != coap.Acknowledgement || r.MessageID != mid {
			t.Fatalf("reply %v mid %d to mid %d", r.Type, r.MessageID, mid)
		}
		return r
	}
	challenged := func(r *coap.Message, what string) []byte {
		t.Helper()
		v, ok := r.Option(coap.Echo)
		if r.Code != coap.Unauthorized || !ok || len(v) != echoLen {
			t.Fatalf("%s: %v, Echo %x; want 4.01 with a %d-byte Echo", what, r.Code, v, echoLen)
		}
		return append([]byte(nil), v...)
	}

	echo := challenged(send(coap.POST, nil, ""), "no Echo")
	if calls.Load() != 0 {
		t.Fatal("handler ran without Echo")
	}
	if r := send(coap.POST, echo, ""); r.Code != coap.Changed || string(r.Payload) != "done" || calls.Load() != 1 {
		t.Fatalf("with Echo: %v %q, %d calls", r.Code, r.Payload, calls.Load())
	}
	// Another client address cannot use it (§2.4: reachability proof).
	challenged(send(coap.POST, echo, "127.0.0.1:40001"), "other address")
	// Forged: a flipped MAC bit, a flipped timestamp bit, a short value.
	for i, bad := range [][]byte{
		append(append([]byte(nil), echo[:echoLen-1]...), echo[echoLen-1]^1),
		append([]byte{echo[0] ^ 0x80}, echo[1:]...),
		echo[:8],
		bytes.Repeat([]byte{0}, echoLen),
	} {
		challenged(send(coap.POST, bad, ""), "forged "+itoa(i))
	}
	// Still fresh at the edge of the window, stale after it.
	clk.Advance(5 * time.Second)
	if r := send(coap.POST, echo, ""); r.Code != coap.Changed {
		t.Fatalf("Echo at the window's end: %v", r.Code)
	}
	clk.Advance(time.Millisecond)
	fresh := challenged(send(coap.POST, echo, ""), "stale")
	if bytes.Equal(fresh, echo) {
		t.Fatal("the stale value was issued again")
	}
	if r := send(coap.POST, fresh, ""); r.Code != coap.Changed || calls.Load() != 3 {
		t.Fatalf("new Echo: %v, %d calls", r.Code, calls.Load())
	}
	if r := send(coap.GET, nil, ""); r.Code != coap.Content || string(r.Payload) != "state" {
		t.Fatalf("GET without Echo: %v %q", r.Code, r.Payload)
	}
	for _, code := range []coap.Code{coap.PUT, coap.DELETE, coap.FETCH, coap.PATCH, coap.IPATCH} {
		challenged(send(code, nil, ""), code.String())
	}
	if got := e.Stats().EchoChallenges; got != 1+1+4+1+5 {
		t.Fatalf("Stats.EchoChallenges = %d, want 12", got)
	}
}

// TestEchoKeyPerEndpoint: a value issued by one endpoint is refused by
// another (the key is random per endpoint, from Config.Rand).
func TestEchoKeyPerEndpoint(t *testing.T) {
	clk := newFakeClock()
	cfg := Config{Clock: clk, Echo: EchoConfig{Unsafe: true}}
	_, w1, c1 := memServer(t, cfg)
	_, w2, c2 := memServer(t, cfg)
	w1.handle(echoReq(t, coap.PUT, 1, "/store", nil, "a"), testPeer)
	out, _ := c1.Last()
	echo, _ := decode(t, out).Option(coap.Echo)
	w2.handle(echoReq(t, coap.PUT, 2, "/store", echo, "a"), testPeer)
	out, _ = c2.Last()
	if r := decode(t, out); r.Code != coap.Unauthorized {
		t.Fatalf("other endpoint's Echo accepted: %v", r.Code)
	}
	w1.handle(echoReq(t, coap.PUT, 3, "/store", echo, "a"), testPeer)
	out, _ = c1.Last()
	if r := decode(t, out); r.Code != coap.Created {
		t.Fatalf("own Echo: %v", r.Code)
	}
}

// TestEchoAmplification: with Echo.Amplification a small request for a
// large representation gets 4.01 + Echo (RFC 9175 §2.4); a small response
// needs none; with the Echo the first block comes, and an observe
// registration is not made for an unverified address.
func TestEchoAmplification(t *testing.T) {
	clk := newFakeClock()
	e, w, c := memServer(t, Config{Clock: clk, Echo: EchoConfig{Amplification: true}})
	w.handle(echoReq(t, coap.GET, 1, "/hello", nil, ""), testPeer)
	out, _ := c.Last()
	if r := decode(t, out); r.Code != coap.Content || string(r.Payload) != "world" {
		t.Fatalf("small response: %v %q", r.Code, r.Payload)
	}
	w.handle(echoReq(t, coap.GET, 2, "/large", nil, ""), testPeer)
	out, _ = c.Last()
	r := decode(t, out)
	echo, ok := r.Option(coap.Echo)
	if r.Code != coap.Unauthorized || !ok || len(r.Payload) != 0 || len(out) > 3*len(echoReq(t, coap.GET, 2, "/large", nil, "")) {
		t.Fatalf("large response unverified: %v, %d bytes", r.Code, len(out))
	}
	w.handle(echoReq(t, coap.GET, 3, "/large", echo, ""), testPeer)
	out, _ = c.Last()
	r = decode(t, out)
	if b, ok, _ := r.Block2(); r.Code != coap.Content || !ok || !b.More || len(r.Payload) != DefaultBlockSize {
		t.Fatalf("verified: %v %v %d bytes", r.Code, b, len(r.Payload))
	}
	// An observe registration of /obsbig (2.5 KB) from an unverified address.
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.Confirmable, coap.GET, 4
	m.SetPath("/obsbig")
	m.SetUint(coap.Observe, 0)
	in, _ := m.AppendBinary(nil)
	w.handle(in, testPeer)
	out, _ = c.Last()
	if r := decode(t, out); r.Code != coap.Unauthorized || e.Stats().Observers != 0 {
		t.Fatalf("unverified observe: %v, %d observers", r.Code, e.Stats().Observers)
	}
	if got := e.Stats().EchoChallenges; got != 2 {
		t.Fatalf("EchoChallenges = %d", got)
	}
}

// TestEchoOffByDefault: without Config.Echo, an Echo option in a request
// is ignored and nothing is challenged.
func TestEchoOffByDefault(t *testing.T) {
	e, w, c := memServer(t, Config{})
	if w.echo != nil {
		t.Fatal("Echo state without Config.Echo")
	}
	w.handle(echoReq(t, coap.POST, 1, "/echo", []byte{1, 2, 3}, "hi"), testPeer)
	out, _ := c.Last()
	if r := decode(t, out); r.Code != coap.Changed || string(r.Payload) != "hi" || e.Stats().EchoChallenges != 0 {
		t.Fatalf("%v %q", r.Code, r.Payload)
	}
}

// TestEchoClientServer: our client against our server over loopback UDP:
// the client repeats a challenged request once with the server's Echo
// (POST, PUT, a Block1 upload, and a Block2 download under amplification
// mitigation).
func TestEchoClientServer(t *testing.T) {
	mux, s := newTestMux()
	srv := startEndpoint(t, Config{Handler: mux, Echo: EchoConfig{Unsafe: true, Amplification: true}})
	cli := startEndpoint(t, Config{})
	ctx := testCtx(t)
	to := addrOf(srv)

	resp, err := cli.Post(ctx, to, "/echo", coap.TextPlain, []byte("fresh"))
	if err != nil || resp.Code() != coap.Changed || string(resp.Body) != "fresh" {
		t.Fatalf("POST: %v %v", resp, err)
	}
	if n := srv.Stats().EchoChallenges; n != 1 {
		t.Fatalf("%d challenges for one POST", n)
	}
	if _, err := cli.Put(ctx, to, "/store", coap.TextPlain, []byte("v")); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	got := string(s.store["/store"])
	s.mu.Unlock()
	if got != "v" {
		t.Fatalf("PUT stored %q", got)
	}
	body := bytes.Repeat([]byte("abcdefg"), 400)
	resp, err = cli.Post(ctx, to, "/echo", coap.TextPlain, body)
	if err != nil || !bytes.Equal(resp.Body, body) {
		t.Fatalf("Block1 POST: %v, %d bytes", err, len(resp.Body))
	}
	resp, err = cli.Get(ctx, to, "/large")
	if err != nil || !bytes.Equal(resp.Body, s.large) {
		t.Fatalf("GET /large: %v", err)
	}
	st := srv.Stats()
	t.Logf("server: %d requests, %d Echo challenges", st.Requests, st.EchoChallenges)

	// The client repeats once only: a server that challenges every time
	// makes Do return its second 4.01.
	always := startEndpoint(t, Config{Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		w.SetCode(coap.Unauthorized)
		w.Header().SetOption(coap.Echo, []byte{byte(len(r.Msg.Options))})
	})})
	resp, err = cli.Get(ctx, addrOf(always), "/x")
	if err != nil || resp.Code() != coap.Unauthorized {
		t.Fatalf("always-challenging server: %v %v", resp, err)
	}
	if n := always.Stats().Requests; n != 2 {
		t.Fatalf("client sent %d requests; want the original and one repeat", n)
	}
}

// TestEchoConfigDefault: Window defaults to DefaultEchoWindow.
func TestEchoConfigDefault(t *testing.T) {
	p, err := Config{Echo: EchoConfig{Unsafe: true}}.withDefaults()
	if err != nil || p.Echo.Window != DefaultEchoWindow {
		t.Fatalf("Window %v, %v", p.Echo.Window, err)
	}
}

// TestEchoClientServerStale: our client against our server on the test
// Clock: a request carrying a stale Echo (past the window) or a forged one
// is challenged, and the client's repeat with the new value succeeds; the
// handler never sees the stale or forged value.
func TestEchoClientServerStale(t *testing.T) {
	clk := newFakeClock()
	var mu sync.Mutex
	var seen [][]byte
	mux := NewMux()
	mux.HandleFunc(coap.POST, "/act", func(w *ResponseWriter, r *Request) {
		v, _ := r.Msg.Option(coap.Echo)
		mu.Lock()
		seen = append(seen, append([]byte(nil), v...))
		mu.Unlock()
		w.WriteString("ok")
	})
	srv := startEndpoint(t, Config{Handler: mux, Clock: clk, SeparateAfter: -1, Echo: EchoConfig{Unsafe: true}})
	cli := startEndpoint(t, Config{})
	ctx := testCtx(t)
	post := func(echo []byte) {
		t.Helper()
		var m coap.Message
		m.Code = coap.POST
		m.SetPath("/act")
		if echo != nil {
			m.SetOption(coap.Echo, echo)
		}
		resp, err := cli.Do(ctx, addrOf(srv), &m)
		if err != nil || resp.Code() != coap.Changed || string(resp.Body) != "ok" {
			t.Fatalf("POST: %v %v", resp, err)
		}
	}
	post(nil)
	mu.Lock()
	first := seen[0]
	mu.Unlock()
	post(first) // still fresh: no challenge
	if n := srv.Stats().EchoChallenges; n != 1 {
		t.Fatalf("%d challenges after a fresh repeat", n)
	}
	clk.Advance(DefaultEchoWindow + time.Millisecond)
	post(first) // stale
	forged := append([]byte(nil), first...)
	forged[echoLen-1] ^= 0x55
	post(forged)
	if n := srv.Stats().EchoChallenges; n != 3 {
		t.Fatalf("%d challenges; want 3 (none, stale, forged)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 || !bytes.Equal(seen[1], first) || bytes.Equal(seen[2], first) || bytes.Equal(seen[3], forged) {
		t.Fatalf("handler saw Echo values %x", seen)
	}
}

// zeroRand is a deterministic Config.Rand, so that the Echo key (and the
// fuzz seeds holding values under it) are the same in every run.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// FuzzEcho feeds arbitrary datagrams to a server requiring Echo on unsafe
// requests and before large responses. Properties: no panic; the handler
// runs for an unsafe method only when the request carries an Echo value
// this server issued; every 4.01 carries a well-formed Echo.
func FuzzEcho(f *testing.F) {
	clk := newFakeClock()
	var unsafeCalls atomic.Int32
	var lastEcho atomic.Value // []byte of the unsafe request the handler saw
	mux := NewMux()
	h := HandlerFunc(func(w *ResponseWriter, r *Request) {
		if unsafeMethod(r.Msg.Code) {
			unsafeCalls.Add(1)
			v, _ := r.Msg.Option(coap.Echo)
			lastEcho.Store(append([]byte(nil), v...))
		}
		w.Write(bytes.Repeat([]byte("x"), 300))
	})
	mux.Handle(coap.Empty, "/a", h)
	_, w, c := memServer(f, Config{Handler: mux, Clock: clk, Rand: zeroRand{}, MaxDedup: 256,
		Echo: EchoConfig{Unsafe: true, Amplification: true}})
	issued := map[string]bool{}
	w.handle(echoReq(f, coap.POST, 1, "/a", nil, "p"), testPeer)
	out, _ := c.Last()
	echo, _ := decode(f, out).Option(coap.Echo)
	issued[string(echo)] = true
	for i, code := range []coap.Code{coap.GET, coap.POST, coap.PUT, coap.DELETE, coap.FETCH, coap.IPATCH} {
		f.Add(echoReq(f, code, coap.MessageID(10+i), "/a", nil, "p"))
		f.Add(echoReq(f, code, coap.MessageID(20+i), "/a", echo, "p"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before := unsafeCalls.Load()
		w.handle(b, testPeer)
		if unsafeCalls.Load() != before {
			if v, _ := lastEcho.Load().([]byte); !issued[string(v)] {
				t.Fatalf("handler ran an unsafe request with Echo %x, never issued", v)
			}
		}
		out, _ := c.Last()
		var r coap.Message
		if _, err := r.Decode(out); err != nil {
			t.Fatalf("reply % x: %v", out, err)
		}
		if r.Code == coap.Unauthorized {
			v, ok := r.Option(coap.Echo)
			if !ok || len(v) != echoLen {
				t.Fatalf("4.01 with Echo %x", v)
			}
			issued[string(v)] = true
		}
	})
}
