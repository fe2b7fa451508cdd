package dtls

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/endpoint"
	"github.com/edgekit/edgekit/uring"
)

// testMux serves /hello (GET) and /echo (POST echoes the body, however
// large: block-wise both ways).
func testMux() *endpoint.Mux {
	mux := endpoint.NewMux()
	mux.HandleFunc(coap.GET, "/hello", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("hello " + r.Peer.Addr().String())
	})
	mux.HandleFunc(coap.POST, "/echo", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		w.SetCode(coap.Changed)
		w.Write(r.Body)
	})
	return mux
}

func newEndpoint(t *testing.T, bc uring.BatchConn, h endpoint.Handler) *endpoint.Endpoint {
	t.Helper()
	ep, err := endpoint.New(bc, endpoint.Config{Handler: h, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep
}

func bigBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

// TestEndpointOverDTLS runs the CoAP endpoint on both ends of a DTLS
// session: GET, and a 3000-byte POST echoed back (Block1 up, Block2 down).
func TestEndpointOverDTLS(t *testing.T) {
	s := listen(t, pskServerConfig())
	newEndpoint(t, s, testMux())
	c := dial(t, s, pskClientConfig())
	cli := newEndpoint(t, c, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, c.RemoteAddr(), "/hello")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code() != coap.Content || string(resp.Body) != "hello 127.0.0.1" {
		t.Fatalf("GET /hello = %v %q", resp.Code(), resp.Body)
	}
	body := bigBody(3000)
	resp, err = cli.Post(ctx, c.RemoteAddr(), "/echo", coap.TextPlain, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code() != coap.Changed || !bytes.Equal(resp.Body, body) {
		t.Fatalf("POST /echo = %v, %d bytes", resp.Code(), len(resp.Body))
	}
}

// TestLibcoapClientEndpoint: libcoap's DTLS client uploads 3000 bytes
// block-wise to the endpoint over our DTLS server and gets them back.
func TestLibcoapClientEndpoint(t *testing.T) {
	for _, build := range libcoapBuilds {
		t.Run(build, func(t *testing.T) {
			bin := "coap-client-" + build
			pki := newPKI(t, "edgekit interop CA")
			srvCert, _, _ := pki.leaf(t, "server")
			_, cliFile, cliKey := pki.leaf(t, "client")
			s := listen(t, Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pki.pool,
				PSK: PSKTable(map[string][]byte{libcoapIdentity: []byte(libcoapKey)})})
			newEndpoint(t, s, testMux())
			body := bigBody(3000)
			in := filepath.Join(t.TempDir(), "in")
			if err := os.WriteFile(in, body, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, auth := range [][]string{
				{"-k", libcoapKey, "-u", libcoapIdentity},
				{"-c", cliFile, "-j", cliKey, "-C", pki.caFile},
			} {
				out := filepath.Join(t.TempDir(), "out")
				args := append(append([]string{}, auth...), "-m", "post", "-b", "512", "-f", in, "-o", out,
					"coaps://"+serverAddr(s).String()+"/echo")
				log := runCoAPClient(t, bin, args...)
				got, _ := os.ReadFile(out)
				if !bytes.Equal(got, body) {
					t.Fatalf("%s %s: echoed %d bytes, want %d; output:\n%s", bin, auth[0], len(got), len(body), log)
				}
			}
		})
	}
}

// twoSockets is a BatchConn over two UDP sockets that sends through the
// first until moved, then through the second: a client whose address
// changes, as behind a NAT that rebinds.
type twoSockets struct {
	socks [2]*net.UDPConn
	moved atomic.Bool
	in    chan uring.Msg
	done  chan struct{}
	rdl   deadline
	wg    sync.WaitGroup
	once  sync.Once
}

func newTwoSockets(t *testing.T) *twoSockets {
	ts := &twoSockets{in: make(chan uring.Msg, 16), done: make(chan struct{})}
	for i := range ts.socks {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		ts.socks[i] = c
		ts.wg.Add(1)
		go func() {
			defer ts.wg.Done()
			for {
				b := make([]byte, maxRecord)
				n, from, err := c.ReadFromUDPAddrPort(b)
				if err != nil {
					return
				}
				select {
				case ts.in <- uring.Msg{Buf: b[:n], N: n, Addr: from}:
				case <-ts.done:
					return
				}
			}
		}()
	}
	return ts
}

func (ts *twoSockets) cur() *net.UDPConn {
	if ts.moved.Load() {
		return ts.socks[1]
	}
	return ts.socks[0]
}

func (ts *twoSockets) ReadBatch(ms []uring.Msg) (int, error) {
	select {
	case m := <-ts.in:
		ms[0].N = copy(ms[0].Buf, m.Buf)
		ms[0].Addr, ms[0].Flags = m.Addr, 0
		return 1, nil
	case <-ts.done:
		return 0, net.ErrClosed
	case <-ts.rdl.wait():
		return 0, os.ErrDeadlineExceeded
	}
}

func (ts *twoSockets) WriteBatch(ms []uring.Msg) (int, error) {
	for i := range ms {
		n, err := ts.cur().WriteToUDPAddrPort(ms[i].Buf, ms[i].Addr)
		ms[i].N = n
		if err != nil {
			return i, err
		}
	}
	return len(ms), nil
}

func (ts *twoSockets) LocalAddr() net.Addr               { return ts.cur().LocalAddr() }
func (ts *twoSockets) SetReadDeadline(t time.Time) error { ts.rdl.set(t); return nil }
func (ts *twoSockets) Close() error {
	ts.once.Do(func() {
		close(ts.done)
		ts.socks[0].Close()
		ts.socks[1].Close()
		ts.wg.Wait()
	})
	return nil
}

// TestConnectionIDMigration: with RFC 9146 Connection IDs a client keeps its
// session when its address changes; without them its records are dropped.
func TestConnectionIDMigration(t *testing.T) {
	for _, cidLen := range []int{6, 0} {
		t.Run(map[int]string{6: "cid", 0: "nocid"}[cidLen], func(t *testing.T) {
			scfg := pskServerConfig()
			scfg.ConnectionIDLength = cidLen
			s := listen(t, scfg)
			wait := startCoAP(s)
			ts := newTwoSockets(t)
			ccfg := pskClientConfig()
			if cidLen > 0 {
				ccfg.ConnectionIDLength = ConnectionIDSendOnly
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := NewClient(ctx, ts, serverAddr(s), ccfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			get := coapMsg{typ: coapCON, code: coapGET, mid: 1, token: []byte{1}, path: []string{"hello"}}
			if resp := exchange(t, c, c.RemoteAddr(), get, 5*time.Second); resp.code != coapContent {
				t.Fatalf("before the move: %+v", resp)
			}
			a0 := ts.socks[0].LocalAddr().(*net.UDPAddr).AddrPort()
			a1 := ts.socks[1].LocalAddr().(*net.UDPAddr).AddrPort()
			if _, ok := s.Peer(a0); !ok {
				t.Fatalf("no session for %v", a0)
			}
			ts.moved.Store(true)
			get.mid, get.token = 2, []byte{2}
			if cidLen == 0 {
				c.WriteBatch([]uring.Msg{{Buf: get.encode(), Addr: c.RemoteAddr()}})
				waitFor(t, func() bool { return s.Stats().DroppedNoSession > 0 })
				if _, ok := s.Peer(a1); ok {
					t.Fatal("a session for the new address without CID")
				}
			} else {
				// Pion moves the session to the new address once it has
				// authenticated a record from there; the server re-keys the
				// session when it next reads from it, so the second request
				// is the one tagged with the new address.
				for i := range 2 {
					get.mid, get.token = uint16(2+i), []byte{byte(2 + i)}
					if resp := exchange(t, c, c.RemoteAddr(), get, 5*time.Second); resp.code != coapContent {
						t.Fatalf("after the move: %+v", resp)
					}
				}
				info, ok := s.Peer(a1)
				if !ok || info.Addr != a1 {
					t.Fatalf("Peer(%v) = %+v, %v", a1, info, ok)
				}
				if st := s.Stats(); st.Accepted != 1 || st.Sessions != 1 {
					t.Fatalf("stats %+v", st)
				}
			}
			c.Close()
			s.Close()
			wait()
		})
	}
}

func TestRehandshakeSameAddress(t *testing.T) {
	s := listen(t, pskServerConfig())
	wait := startCoAP(s)
	// Two clients in turn on the same local port, the first never closing
	// its session: a device that rebooted.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	local := pc.LocalAddr().(*net.UDPAddr)
	c1, err := NewClient(ctx, uring.WrapPacketConn(pc), serverAddr(s), pskClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	get := coapMsg{typ: coapCON, code: coapGET, mid: 1, token: []byte{1}, path: []string{"hello"}}
	exchange(t, c1, c1.RemoteAddr(), get, 5*time.Second)
	pc.Close() // no close_notify: the server still has the session
	pc2, err := net.ListenUDP("udp4", local)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := NewClient(ctx, uring.WrapPacketConn(pc2), serverAddr(s), pskClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if resp := exchange(t, c2, c2.RemoteAddr(), get, 5*time.Second); !strings.HasPrefix(string(resp.payload), "hello") {
		t.Fatalf("after the new handshake: %+v", resp)
	}
	waitFor(t, func() bool { st := s.Stats(); return st.Replaced == 1 && st.Sessions == 1 })
	s.Close()
	wait()
}
