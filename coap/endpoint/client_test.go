package endpoint

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// TestManyConcurrentExchanges: 20,000 requests in flight at once across
// 200 peers are matched to their responses and leave the tables empty.
func TestManyConcurrentExchanges(t *testing.T) {
	const peers, per = 200, 100
	n := peers * per
	if testing.Short() {
		n = 2000
	}
	clk := newFakeClock()
	cli, w, c := memServer(t, Config{Clock: clk, NStart: per})
	c.mu.Lock()
	c.keep = true
	c.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(10000+i%peers))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := cli.Get(context.Background(), peer, "/x")
			if err == nil && string(r.Body) != peer.String() {
				err = errors.New("response for another peer: " + string(r.Body))
			}
			errs <- err
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.all)
		c.mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests sent", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	all, to := c.all, c.allTo
	c.mu.Unlock()
	// Answer in reverse order, each with a piggybacked ACK.
	for i := len(all) - 1; i >= 0; i-- {
		req := decode(t, all[i])
		var r coap.Message
		r.Type, r.Code, r.MessageID, r.Token = coap.Acknowledgement, coap.Content, req.MessageID, req.Token
		r.Payload = []byte(to[i].String())
		in, _ := r.AppendBinary(nil)
		w.handle(in, to[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range cli.tokens {
		if len(cli.tokens[i].m) != 0 || len(cli.mids[i].m) != 0 || len(cli.peers[i].m) != 0 {
			t.Fatalf("shard %d not empty: %d tokens, %d mids, %d peers", i, len(cli.tokens[i].m), len(cli.mids[i].m), len(cli.peers[i].m))
		}
	}
}

// TestNStart: with NSTART 1 a second request to the same peer waits for
// the first.
func TestNStart(t *testing.T) {
	clk := newFakeClock()
	cli, _, c := memServer(t, Config{Clock: clk})
	peer := netipMust("127.0.0.1:9")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { _, err := cli.Get(ctx, peer, "/x"); done <- err }()
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, n := c.Last(); n > 0 {
			break
		}
	}
	time.Sleep(50 * time.Millisecond) // room for a second send, which must not happen
	if _, n := c.Last(); n != 1 {
		t.Fatalf("%d requests outstanding; NSTART is 1", n)
	}
	cancel()
	<-done
	<-done
}

// TestEchoRetryAndETag answers the client's requests by hand.
func TestEchoRetryAndETag(t *testing.T) {
	cli, w, c := memServer(t, Config{})
	peer := netipMust("127.0.0.1:5683")
	// reply runs f on every new request the client sends.
	reply := func(f func(req *coap.Message) *coap.Message) (stop func()) {
		quit := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		_, seen := c.Last()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-quit:
					return
				default:
				}
				out, n := c.Last()
				if n == seen {
					time.Sleep(time.Millisecond)
					continue
				}
				seen = n
				req := decode(t, out)
				if !req.Code.IsRequest() {
					continue
				}
				r := f(req)
				r.Type, r.MessageID, r.Token = coap.Acknowledgement, req.MessageID, req.Token
				in, _ := r.AppendBinary(nil)
				w.handle(in, peer)
			}
		}()
		return func() { close(quit); wg.Wait() }
	}
	ctx := testCtx(t)
	// RFC 9175: 4.01 with Echo, then success when the Echo is repeated.
	stop := reply(func(req *coap.Message) *coap.Message {
		var r coap.Message
		if v, ok := req.Option(coap.Echo); ok && string(v) == "fresh" {
			r.Code = coap.Content
			r.Payload = []byte("ok")
		} else {
			r.Code = coap.Unauthorized
			r.SetOption(coap.Echo, []byte("fresh"))
		}
		return &r
	})
	r, err := cli.Get(ctx, peer, "/x")
	stop()
	if cli.Stats().Retransmissions != 0 {
		t.Fatal("test peer missed a request")
	}
	if err != nil || string(r.Body) != "ok" {
		t.Fatalf("echo retry: %v %+v", err, r)
	}
	// Block2 whose ETag changes between blocks.
	calls := 0
	stop = reply(func(req *coap.Message) *coap.Message {
		calls++
		b, _, _ := req.Block2()
		var r coap.Message
		r.Code = coap.Content
		r.SetOption(coap.ETag, []byte{byte(calls)})
		r.SetBlock2(coap.Block{Num: b.Num, More: b.Num < 2, SZX: 0})
		r.Payload = bytes.Repeat([]byte{'a'}, 16)
		return &r
	})
	_, err = cli.Get(ctx, peer, "/changing")
	stop()
	if !errors.Is(err, ErrETagMismatch) {
		t.Fatalf("ETag change: %v", err)
	}
}

func TestServerETagValidAndBlockRange(t *testing.T) {
	mux := NewMux()
	mux.HandleFunc(coap.GET, "/tagged", func(w *ResponseWriter, r *Request) {
		w.Header().SetOption(coap.ETag, []byte{1, 2})
		w.WriteString("body")
	})
	mux.HandleFunc(coap.GET, "/big", func(w *ResponseWriter, r *Request) {
		w.Write(make([]byte, 100))
	})
	_, w, c := memServer(t, Config{Handler: mux, BlockSize: 64, MaxMessageSize: 256})
	get := func(path string, mid coap.MessageID, f func(*coap.Message)) *coap.Message {
		var m coap.Message
		m.Type, m.Code, m.MessageID = coap.Confirmable, coap.GET, mid
		m.SetPath(path)
		if f != nil {
			f(&m)
		}
		in, _ := m.AppendBinary(nil)
		w.handle(in, testPeer)
		out, _ := c.Last()
		return decode(t, out)
	}
	if r := get("/tagged", 1, func(m *coap.Message) { m.AddOption(coap.ETag, []byte{9}); m.AddOption(coap.ETag, []byte{1, 2}) }); r.Code != coap.Valid || len(r.Payload) != 0 {
		t.Fatalf("ETag match: %v %q", r.Code, r.Payload)
	}
	if r := get("/tagged", 2, func(m *coap.Message) { m.AddOption(coap.ETag, []byte{9}) }); r.Code != coap.Content || string(r.Payload) != "body" {
		t.Fatalf("ETag mismatch: %v", r.Code)
	}
	r := get("/big", 3, nil)
	if b, ok, _ := r.Block2(); !ok || !b.More || b.Size() != 64 || len(r.Payload) != 64 {
		t.Fatalf("block 0: %+v", r)
	}
	if v, _ := r.Uint(coap.Size2); v != 100 {
		t.Fatalf("Size2 %d", v)
	}
	// Early negotiation: the client asks for 32-byte blocks.
	r = get("/big", 4, func(m *coap.Message) { m.SetBlock2(coap.Block{Num: 1, SZX: 1}) })
	if b, _, _ := r.Block2(); b.Num != 1 || b.Size() != 32 || len(r.Payload) != 32 {
		t.Fatalf("block 1/32: %+v", b)
	}
	if r = get("/big", 5, func(m *coap.Message) { m.SetBlock2(coap.Block{Num: 7, SZX: 2}) }); r.Code != coap.BadOption {
		t.Fatalf("out of range: %v", r.Code)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{BlockSize: 100},
		{BlockSize: 2048},
		{MaxMessageSize: 500},
		{MaxRetransmit: 99},
	} {
		if _, err := New(newMemConn(), cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err = %v", cfg, err)
		}
	}
	if _, err := New(newMemConn(), Config{Rand: bytes.NewReader(nil)}); !errors.Is(err, ErrConfig) {
		t.Errorf("empty Rand: %v", err)
	}
	p, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	// RFC 7252 §4.8.2 derived values.
	if p.exchangeLifetime != 247*time.Second || p.nonLifetime != 145*time.Second || p.maxTransmitWait != 93*time.Second {
		t.Fatalf("derived: %v %v %v", p.exchangeLifetime, p.nonLifetime, p.maxTransmitWait)
	}
}
