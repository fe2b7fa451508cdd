package endpoint

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/uring"
)

// testMux is the server used by the loopback and libcoap tests: /echo,
// /large (4096 bytes), /obs (observable), /store (PUT/GET/DELETE), /slow
// (separate response).
type testServer struct {
	mu    sync.Mutex
	store map[string][]byte
	obs   int
	large []byte
}

func newTestMux() (*Mux, *testServer) {
	s := &testServer{store: map[string][]byte{}}
	s.large = bytes.Repeat([]byte("0123456789abcdef"), 256)
	mux := NewMux()
	mux.HandleFunc(coap.POST, "/echo", func(w *ResponseWriter, r *Request) {
		w.SetCode(coap.Changed)
		w.SetContentFormat(coap.TextPlain)
		w.Write(r.Body)
	})
	mux.HandleFunc(coap.PUT, "/echo", func(w *ResponseWriter, r *Request) {
		w.SetCode(coap.Changed)
		w.Write(r.Body)
	})
	mux.HandleFunc(coap.GET, "/hello", func(w *ResponseWriter, r *Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("world")
	})
	mux.SetAttrs("/hello", Attrs{RT: "greeting", CT: []coap.MediaType{coap.TextPlain}, Title: "Hello"})
	mux.HandleFunc(coap.GET, "/large", func(w *ResponseWriter, r *Request) {
		w.SetContentFormat(coap.AppOctetStream)
		w.Write(s.large)
	})
	mux.SetAttrs("/large", Attrs{Size: 4096})
	mux.HandleFunc(coap.GET, "/obs", func(w *ResponseWriter, r *Request) {
		s.mu.Lock()
		n := s.obs
		s.mu.Unlock()
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("n=" + itoa(n))
	})
	mux.SetAttrs("/obs", Attrs{Observable: true, RT: "counter"})
	mux.HandleFunc(coap.GET, "/obsbig", func(w *ResponseWriter, r *Request) {
		s.mu.Lock()
		n := s.obs
		s.mu.Unlock()
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("n=" + itoa(n) + " ")
		w.Write(bytes.Repeat([]byte("."), 2500))
		w.WriteString(" end-" + itoa(n))
	})
	mux.SetAttrs("/obsbig", Attrs{Observable: true})
	store := func(w *ResponseWriter, r *Request) {
		p := r.Msg.Path()
		s.mu.Lock()
		defer s.mu.Unlock()
		switch r.Msg.Code {
		case coap.PUT:
			_, had := s.store[p]
			s.store[p] = append([]byte(nil), r.Body...)
			if had {
				w.SetCode(coap.Changed)
			} else {
				w.SetCode(coap.Created)
			}
		case coap.GET:
			b, ok := s.store[p]
			if !ok {
				w.SetCode(coap.NotFound)
				return
			}
			w.Write(b)
		case coap.DELETE:
			delete(s.store, p)
			w.SetCode(coap.Deleted)
		}
	}
	mux.Handle(coap.Empty, "/store", HandlerFunc(store))
	mux.HandleFunc(coap.GET, "/slow", func(w *ResponseWriter, r *Request) {
		w.Separate()
		time.Sleep(20 * time.Millisecond)
		w.WriteString("late")
	})
	return mux, s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func startEndpoint(t testing.TB, cfg Config) *Endpoint {
	t.Helper()
	e, err := Listen("udp4", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func addrOf(e *Endpoint) netip.AddrPort {
	return netip.MustParseAddrPort(e.LocalAddr().String())
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// startPooled starts an endpoint on a loopback UDP socket in the
// reader-plus-worker-queue mode (ConcurrentReads off).
func startPooled(t testing.TB, cfg Config) *Endpoint {
	t.Helper()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(uring.WrapPacketConn(uc), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}
