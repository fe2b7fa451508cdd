package endpoint

import (
	"context"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// TestMulticastServer: on a multicast endpoint (RFC 7252 §8.2) responses
// are NON and delayed within the leisure, errors are not sent, and
// neither a malformed CON nor a ping is reset.
func TestMulticastServer(t *testing.T) {
	clk := newFakeClock()
	_, w, c := memServer(t, Config{Clock: clk, Multicast: true, Leisure: time.Second})
	var m coap.Message
	m.Type, m.Code, m.MessageID = coap.NonConfirmable, coap.GET, 1
	m.Token, _ = coap.TokenFrom([]byte{9})
	m.SetPath(WellKnownCore)
	in, _ := m.AppendBinary(nil)
	w.handle(in, testPeer)
	if _, n := c.Last(); n != 0 {
		t.Fatal("multicast response not delayed")
	}
	clk.Advance(time.Second)
	out, n := c.Last()
	if n != 1 {
		t.Fatalf("%d responses after the leisure", n)
	}
	if r := decode(t, out); r.Type != coap.NonConfirmable || r.Code != coap.Content || !contains(string(r.Payload), "</hello>") {
		t.Fatalf("response %+v", r)
	}
	m.MessageID = 2
	m.SetPath("/missing")
	in, _ = m.AppendBinary(nil)
	w.handle(in, testPeer)
	w.handle([]byte{0x40, 0, 0, 3}, testPeer)       // ping
	w.handle([]byte{0x40, 1, 0, 4, 0xff}, testPeer) // malformed CON
	clk.Advance(2 * time.Second)
	if _, n := c.Last(); n != 1 {
		t.Fatalf("%d datagrams; errors, pings and malformed messages must get none", n-1)
	}
}

// TestMulticastClient: responses from any address with the request's
// token reach the callback.
func TestMulticastClient(t *testing.T) {
	cli, w, c := memServer(t, Config{})
	group := netipMust("224.0.1.187:5683")
	got := make(chan *Response, 4)
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		var m coap.Message
		m.Code = coap.GET
		m.SetPath(WellKnownCore)
		done <- cli.Multicast(ctx, group, &m, func(r *Response) bool {
			got <- r
			return len(got) < 2
		})
	}()
	var req *coap.Message
	for req == nil {
		if out, n := c.Last(); n > 0 {
			req = decode(t, out)
		}
		time.Sleep(time.Millisecond)
	}
	c.mu.Lock()
	to := c.lastTo
	c.mu.Unlock()
	if req.Type != coap.NonConfirmable || to != group {
		t.Fatalf("request %v to %v", req.Type, to)
	}
	for i, p := range []string{"127.0.0.1:1001", "127.0.0.1:1002"} {
		var r coap.Message
		r.Type, r.Code, r.MessageID, r.Token = coap.NonConfirmable, coap.Content, coap.MessageID(50+i), req.Token
		r.Payload = []byte(p)
		in, _ := r.AppendBinary(nil)
		w.handle(in, netipMust(p))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a, b := <-got, <-got
	if a.Peer == b.Peer || string(a.Body) != a.Peer.String() {
		t.Fatalf("responses from %v and %v", a.Peer, b.Peer)
	}
}

// A test over real multicast groups (IPv4 on lo, IPv6 on a veth pair) runs
// in a fresh network namespace, where no datagram can leave the host: see
// TestMulticastGroupNetns in multicast_netns_test.go.
