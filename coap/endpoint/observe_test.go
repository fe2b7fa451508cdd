package endpoint

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

func TestFreshness(t *testing.T) {
	cases := []struct {
		v1, v2 uint32
		dt     time.Duration
		want   bool
	}{
		{1, 2, 0, true},
		{2, 1, 0, false},
		{5, 5, 0, false},
		{0xfffffe, 1, 0, true}, // wrap-around
		{1, 0xfffffe, 0, false},
		{1, 1 + 1<<23, 0, false}, // too far ahead: treated as older
		{2, 1, 129 * time.Second, true},
	}
	for _, c := range cases {
		if got := fresh(c.v1, 0, c.v2, c.dt); got != c.want {
			t.Errorf("fresh(%d, %d, %v) = %v", c.v1, c.v2, c.dt, got)
		}
	}
}

// register sends a GET Observe=0 for /obs from peer with token tok and
// returns the reply.
func registerObs(t *testing.T, w *worker, c *memConn, peer netip.AddrPort, tok uint64, mid coap.MessageID, obs uint32) *coap.Message {
	t.Helper()
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.Confirmable, coap.GET, mid
	m.Token = coap.TokenFromUint64(tok)
	m.SetPath("/obs")
	m.SetUint(coap.Observe, obs)
	in, _ := m.AppendBinary(nil)
	w.handle(in, peer)
	out, _ := c.Last()
	return decode(t, out)
}

func TestObserveServerLifecycle(t *testing.T) {
	clk := newFakeClock()
	mux, _ := newTestMux()
	e, w, c := memServer(t, Config{Handler: mux, Clock: clk, ObserveConEvery: 3})
	r := registerObs(t, w, c, testPeer, 1, 1, 0)
	if _, ok := r.Observe(); !ok || e.Observers("/obs") != 1 {
		t.Fatalf("not registered: %+v", r)
	}
	var seqs []uint32
	tok := uint64(1)
	notify := func() *coap.Message {
		_, before := c.Last()
		e.Notify("/obs")
		out, after := c.Last()
		if after != before+1 {
			t.Fatalf("%d notifications sent", after-before)
		}
		n := decode(t, out)
		s, _ := n.Observe()
		seqs = append(seqs, s)
		if n.Token != coap.TokenFromUint64(tok) {
			t.Fatalf("wrong token %v in %+v", n.Token, n)
		}
		return n
	}
	// Every third notification is CON.
	types := []coap.Type{notify().Type, notify().Type, notify().Type}
	if types[0] != coap.NonConfirmable || types[1] != coap.NonConfirmable || types[2] != coap.Confirmable {
		t.Fatalf("types %v", types)
	}
	// While that CON is unacknowledged the next one is CON too (§4.5.2).
	if n := notify(); n.Type != coap.Confirmable {
		t.Fatalf("replacement of an unacknowledged CON: %v", n.Type)
	} else {
		w.handle([]byte{0x60, 0, byte(n.MessageID >> 8), byte(n.MessageID)}, testPeer) // ACK
	}
	// RST to a NON notification ends the observation.
	n := notify()
	if n.Type != coap.NonConfirmable {
		t.Fatal("want NON")
	}
	rst := []byte{0x70, 0, byte(n.MessageID >> 8), byte(n.MessageID)}
	w.handle(rst, testPeer)
	if e.Observers("/obs") != 0 {
		t.Fatal("RST to a NON notification did not deregister")
	}
	for i := 1; i < len(seqs); i++ {
		if !fresh(seqs[i-1], 0, seqs[i], 0) {
			t.Fatalf("sequence %v", seqs)
		}
	}

	// GET with Observe=1 deregisters.
	registerObs(t, w, c, testPeer, 2, 10, 0)
	if e.Observers("/obs") != 1 {
		t.Fatal("re-register failed")
	}
	registerObs(t, w, c, testPeer, 2, 11, 1)
	if e.Observers("/obs") != 0 {
		t.Fatal("Observe=1 did not deregister")
	}

	// A notification after 24 h without a CON is CON; unacknowledged, the
	// observer is dropped after MAX_RETRANSMIT.
	registerObs(t, w, c, testPeer, 3, 20, 0)
	tok = 3
	clk.Advance(DefaultObserveConInterval - time.Minute)
	if n := notify(); n.Type != coap.NonConfirmable {
		t.Fatalf("before 24 h: %v", n.Type)
	}
	clk.Advance(time.Minute + time.Second)
	if n := notify(); n.Type != coap.Confirmable {
		t.Fatalf("after 24 h: %v", n.Type)
	}
	clk.Advance(2 * time.Minute)
	if e.Observers("/obs") != 0 {
		t.Fatal("observer kept after an unacknowledged CON notification")
	}

	// Without any change of the resource, the housekeeping sends the
	// 24-hourly CON notification itself.
	registerObs(t, w, c, testPeer, 4, 30, 0)
	tok = 4
	_, before := c.Last()
	clk.Advance(DefaultObserveConInterval + time.Minute)
	out, after := c.Last()
	if after == before {
		t.Fatal("no periodic notification after 24 h")
	}
	if n := decode(t, out); n.Type != coap.Confirmable || n.Token != coap.TokenFromUint64(4) {
		t.Fatalf("periodic notification %v %v", n.Type, n.Token)
	} else {
		w.handle([]byte{0x60, 0, byte(n.MessageID >> 8), byte(n.MessageID)}, testPeer) // ACK
	}
	if e.Observers("/obs") != 1 {
		t.Fatal("acknowledged observer removed")
	}
}

// TestObserveFanOut: thousands of observers get one notification each,
// encoded once, without a goroutine per observer.
func TestObserveFanOut(t *testing.T) {
	const n = 3000
	mux, _ := newTestMux()
	e, w, c := memServer(t, Config{Handler: mux, ObserveConEvery: -1})
	for i := 0; i < n; i++ {
		peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 5683)
		registerObs(t, w, c, peer, uint64(i), coap.MessageID(i), 0)
	}
	if got := e.Observers("/obs"); got != n {
		t.Fatalf("%d observers", got)
	}
	c.mu.Lock()
	c.keep, c.all = true, nil
	c.mu.Unlock()
	g0 := runtime.NumGoroutine()
	e.Notify("/obs")
	if g := runtime.NumGoroutine(); g > g0+2 {
		t.Fatalf("goroutines %d -> %d", g0, g)
	}
	c.mu.Lock()
	all := c.all
	c.mu.Unlock()
	if len(all) != n {
		t.Fatalf("%d notifications; want %d", len(all), n)
	}
	seen := map[coap.Token]bool{}
	for _, b := range all {
		m := decode(t, b)
		if s, _ := m.Observe(); s != 1 || string(m.Payload) != "n=0" || m.Type != coap.NonConfirmable {
			t.Fatalf("notification %+v", m)
		}
		seen[m.Token] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct tokens", len(seen))
	}
	if st := e.Stats(); st.Notifications != n {
		t.Fatalf("stats %+v", st)
	}
}

// TestObserveClientOrdering drives a client Observation with crafted
// notifications: stale ones (§3.4) are dropped, and the client
// re-registers with the same token when Max-Age runs out.
func TestObserveClientOrdering(t *testing.T) {
	clk := newFakeClock()
	cli, w, c := memServer(t, Config{Clock: clk})
	server := netipMust("127.0.0.1:5683")
	got := make(chan string, 16)
	errc := make(chan error, 1)
	var obs *Observation
	go func() {
		var m coap.Message
		m.SetPath("/obs")
		o, err := cli.Observe(context.Background(), server, &m, func(r *Response) { got <- string(r.Body) })
		obs = o
		errc <- err
	}()
	var reg *coap.Message
	deadline := time.Now().Add(5 * time.Second)
	for reg == nil && time.Now().Before(deadline) {
		if out, n := c.Last(); n > 0 {
			reg = decode(t, out)
		}
		time.Sleep(time.Millisecond)
	}
	if reg == nil || !reg.HasOption(coap.Observe) {
		t.Fatal("no registration sent")
	}
	mid := coap.MessageID(1000)
	send := func(typ coap.Type, seq uint32, body string, ackMID coap.MessageID) {
		var m coap.Message
		m.Type, m.Code, m.Token = typ, coap.Content, reg.Token
		if typ == coap.Acknowledgement {
			m.MessageID = ackMID
		} else {
			mid++
			m.MessageID = mid
		}
		m.SetUint(coap.Observe, seq)
		m.SetUint(coap.MaxAge, 30)
		m.Payload = []byte(body)
		in, _ := m.AppendBinary(nil)
		w.handle(in, server)
	}
	send(coap.Acknowledgement, 5, "five", reg.MessageID)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	send(coap.NonConfirmable, 7, "seven", 0)
	send(coap.NonConfirmable, 6, "six (stale)", 0)
	send(coap.Confirmable, 8, "eight", 0)
	if out, _ := c.Last(); decode(t, out).Type != coap.Acknowledgement {
		t.Fatal("CON notification not acknowledged")
	}
	want := []string{"five", "seven", "eight"}
	for _, w := range want {
		select {
		case v := <-got:
			if v != w {
				t.Fatalf("got %q; want %q", v, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("missing %q", w)
		}
	}
	if len(got) != 0 {
		t.Fatalf("extra notification %q", <-got)
	}
	// Max-Age 30 s + margin passes with no notification: re-register.
	_, before := c.Last()
	clk.Advance(30*time.Second + ReregisterMargin + time.Millisecond)
	out, after := c.Last()
	if after == before {
		t.Fatal("no re-registration")
	}
	if rr := decode(t, out); rr.Token != reg.Token || !rr.HasOption(coap.Observe) || rr.MessageID == reg.MessageID {
		t.Fatalf("re-registration %+v", rr)
	}
	// Cancel sends GET Observe=1 with the same token.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = obs.Cancel(ctx)
	out, _ = c.Last()
	if cm := decode(t, out); cm.Token != reg.Token {
		t.Fatal("cancel with another token")
	} else if v, _ := cm.Observe(); v != 1 {
		t.Fatalf("cancel Observe=%d", v)
	}
	select {
	case <-obs.Done():
	default:
		t.Fatal("observation not done after Cancel")
	}
}
