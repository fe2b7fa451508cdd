package endpoint

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

func TestLoopbackBasics(t *testing.T) {
	t.Run("concurrent-reads", func(t *testing.T) { testLoopbackBasics(t, true) })
	t.Run("reader-and-pool", func(t *testing.T) { testLoopbackBasics(t, false) })
}

func testLoopbackBasics(t *testing.T, concurrent bool) {
	mux, _ := newTestMux()
	start := startEndpoint
	if !concurrent {
		start = startPooled
	}
	srv := start(t, Config{Handler: mux})
	cli := start(t, Config{})
	ctx := testCtx(t)
	peer := addrOf(srv)

	r, err := cli.Get(ctx, peer, "/hello")
	if err != nil || r.Code() != coap.Content || string(r.Body) != "world" {
		t.Fatalf("GET /hello: %v %v %q", err, r, r.Body)
	}
	r, err = cli.Post(ctx, peer, "/echo", coap.TextPlain, []byte("ping"))
	if err != nil || r.Code() != coap.Changed || string(r.Body) != "ping" {
		t.Fatalf("POST /echo: %v", err)
	}
	r, err = cli.Put(ctx, peer, "/store", coap.TextPlain, []byte("v1"))
	if err != nil || r.Code() != coap.Created {
		t.Fatalf("PUT: %v %v", err, r.Code())
	}
	r, err = cli.Get(ctx, peer, "/store")
	if err != nil || string(r.Body) != "v1" {
		t.Fatalf("GET store: %v", err)
	}
	r, err = cli.Delete(ctx, peer, "/store")
	if err != nil || r.Code() != coap.Deleted {
		t.Fatalf("DELETE: %v", err)
	}
	r, err = cli.Get(ctx, peer, "/nothing")
	if err != nil || r.Code() != coap.NotFound {
		t.Fatalf("404: %v", err)
	}
	r, err = cli.Delete(ctx, peer, "/hello")
	if err != nil || r.Code() != coap.MethodNotAllowed {
		t.Fatalf("405: %v", err)
	}
	// NON request, NON response.
	var m coap.Message
	m.Type, m.Code = coap.NonConfirmable, coap.GET
	m.SetPath("/hello")
	r, err = cli.Do(ctx, peer, &m)
	if err != nil || r.Msg.Type != coap.NonConfirmable || string(r.Body) != "world" {
		t.Fatalf("NON: %v %+v", err, r)
	}
	// Separate response.
	r, err = cli.Get(ctx, peer, "/slow")
	if err != nil || string(r.Body) != "late" || r.Msg.Type != coap.Confirmable {
		t.Fatalf("separate: %v %+v", err, r)
	}
	if err := cli.Ping(ctx, peer); err != nil {
		t.Fatalf("ping: %v", err)
	}
	// Discovery.
	r, err = cli.Get(ctx, peer, WellKnownCore)
	if err != nil || !contains(string(r.Body), `</hello>;rt="greeting";ct=0;title="Hello"`) || !contains(string(r.Body), "</obs>;rt=\"counter\";obs") {
		t.Fatalf("well-known/core: %v %q", err, r.Body)
	}
	var q coap.Message
	q.Code = coap.GET
	q.SetPath(WellKnownCore)
	q.SetQuery("rt=count*")
	r, err = cli.Do(ctx, peer, &q)
	if err != nil || string(r.Body) != `</obs>;rt="counter";obs` {
		t.Fatalf("filtered discovery: %v %q", err, r.Body)
	}
}

func TestLoopbackBlockwise(t *testing.T) {
	mux, s := newTestMux()
	srv := startEndpoint(t, Config{Handler: mux, BlockSize: 256})
	cli := startEndpoint(t, Config{})
	ctx := testCtx(t)
	peer := addrOf(srv)
	r, err := cli.Get(ctx, peer, "/large")
	if err != nil || !bytes.Equal(r.Body, s.large) {
		t.Fatalf("GET /large: %v len %d", err, len(r.Body))
	}
	// A client that wants 64-byte blocks gets them (early negotiation).
	small := startEndpoint(t, Config{BlockSize: 64})
	r, err = small.Get(ctx, peer, "/large")
	if b, _, _ := r.Msg.Block2(); err != nil || !bytes.Equal(r.Body, s.large) || b.Size() != 64 {
		t.Fatalf("GET /large in 64-byte blocks: %v len %d, last block %+v", err, len(r.Body), b)
	}
	body := bytes.Repeat([]byte("xyz-"), 1000) // 4000 bytes: client blocks of 1024, server asks for 256
	r, err = cli.Post(ctx, peer, "/echo", coap.TextPlain, body)
	if err != nil || !bytes.Equal(r.Body, body) {
		t.Fatalf("POST /echo block-wise: %v len %d", err, len(r.Body))
	}
	if st := srv.Stats(); st.Reassemblies != 0 {
		t.Fatalf("reassemblies left: %d", st.Reassemblies)
	}
}

func TestLoopbackObserve(t *testing.T) {
	mux, s := newTestMux()
	srv := startEndpoint(t, Config{Handler: mux, ObserveConEvery: 2})
	cli := startEndpoint(t, Config{})
	ctx := testCtx(t)
	peer := addrOf(srv)
	got := make(chan string, 16)
	var m coap.Message
	m.SetPath("/obs")
	o, err := cli.Observe(ctx, peer, &m, func(r *Response) { got <- string(r.Body) })
	if err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "n=0" {
		t.Fatalf("first: %q", v)
	}
	for i := 1; i <= 4; i++ {
		s.mu.Lock()
		s.obs = i
		s.mu.Unlock()
		srv.Notify("/obs")
		select {
		case v := <-got:
			if v != "n="+itoa(i) {
				t.Fatalf("notification %d: %q", i, v)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("notification %d not received", i)
		}
	}
	if n := srv.Observers("/obs"); n != 1 {
		t.Fatalf("observers %d", n)
	}
	if err := o.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.Observers("/obs"); n != 0 {
		t.Fatalf("observers after cancel %d", n)
	}
}

// TestLoopbackObserveBlockwise: a notification larger than a block is
// sent as its first block; the client fetches the rest before calling fn.
func TestLoopbackObserveBlockwise(t *testing.T) {
	mux := NewMux()
	var mu sync.Mutex
	fill := byte('a')
	mux.HandleFunc(coap.GET, "/big", func(w *ResponseWriter, r *Request) {
		mu.Lock()
		b := bytes.Repeat([]byte{fill}, 3000)
		mu.Unlock()
		w.Write(b)
	})
	mux.SetAttrs("/big", Attrs{Observable: true})
	srv := startEndpoint(t, Config{Handler: mux})
	cli := startEndpoint(t, Config{})
	got := make(chan []byte, 4)
	var m coap.Message
	m.SetPath("/big")
	o, err := cli.Observe(testCtx(t), addrOf(srv), &m, func(r *Response) { got <- r.Body })
	if err != nil {
		t.Fatal(err)
	}
	defer o.Cancel(testCtx(t))
	for _, want := range []byte{'a', 'b'} {
		select {
		case b := <-got:
			if len(b) != 3000 || b[0] != want || b[2999] != want {
				t.Fatalf("notification: %d bytes of %q; want 3000 of %q", len(b), b[:1], want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no notification %q", want)
		}
		mu.Lock()
		fill = 'b'
		mu.Unlock()
		srv.Notify("/big")
	}
}
