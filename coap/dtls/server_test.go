package dtls

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

var (
	testIdentity = []byte("edgekit-client")
	testKey      = []byte("secretPSK-0123456789")
)

func pskServerConfig() Config {
	return Config{PSK: StaticPSK(testIdentity, testKey), PSKIdentity: []byte("edgekit")}
}

func pskClientConfig() Config {
	return Config{PSK: StaticPSK(nil, testKey), PSKIdentity: testIdentity}
}

func listen(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Listen("udp4", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func serverAddr(s *Server) netip.AddrPort {
	return s.LocalAddr().(*net.UDPAddr).AddrPort()
}

func dial(t *testing.T, s *Server, cfg Config) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "udp", serverAddr(s).String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPSKSuites(t *testing.T) {
	for _, suite := range defaultPSKSuites {
		t.Run(suite.String(), func(t *testing.T) {
			scfg := pskServerConfig()
			scfg.CipherSuites = []CipherSuite{suite}
			s := listen(t, scfg)
			wait := startCoAP(s)
			c := dial(t, s, pskClientConfig())
			if got := c.CipherSuite(); got != suite {
				t.Fatalf("negotiated %v, want %v", got, suite)
			}
			for i := range 3 {
				resp := exchange(t, c, c.RemoteAddr(), coapMsg{typ: coapCON, code: coapGET, mid: uint16(i), token: []byte{byte(i), 7}, path: []string{"hello"}}, 5*time.Second)
				if resp.typ != coapACK || resp.code != coapContent || resp.mid != uint16(i) || string(resp.payload) != "hello 127.0.0.1" {
					t.Fatalf("response %+v", resp)
				}
			}
			peer := c.LocalAddr().(*net.UDPAddr).AddrPort()
			peer = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), peer.Port())
			info, ok := s.Peer(peer)
			if !ok || string(info.Identity) != string(testIdentity) || info.CipherSuite != suite {
				t.Fatalf("Peer(%v) = %+v, %v", peer, info, ok)
			}
			// The server counts a send after it returns, maybe after the
			// client has the response.
			waitFor(t, func() bool { return s.Stats().TxDatagrams == 3 })
			if st := s.Stats(); st.Sessions != 1 || st.Accepted != 1 || st.RxDatagrams != 3 {
				t.Fatalf("stats %+v", st)
			}
			s.Close()
			if n := wait(); n != 3 {
				t.Fatalf("served %d", n)
			}
		})
	}
}

func TestPSKWrongKey(t *testing.T) {
	s := listen(t, pskServerConfig())
	cfg := pskClientConfig()
	cfg.PSK = StaticPSK(nil, []byte("wrong key"))
	cfg.HandshakeTimeout = 3 * time.Second
	if c, err := Dial(context.Background(), "udp", serverAddr(s).String(), cfg); err == nil {
		c.Close()
		t.Fatal("handshake with a wrong key succeeded")
	}
	cfg = pskClientConfig()
	cfg.PSKIdentity = []byte("stranger")
	cfg.HandshakeTimeout = 3 * time.Second
	if c, err := Dial(context.Background(), "udp", serverAddr(s).String(), cfg); err == nil {
		c.Close()
		t.Fatal("handshake with an unknown identity succeeded")
	}
	waitFor(t, func() bool { return s.Stats().HandshakeFailures == 2 && s.Stats().Handshaking == 0 })
}

func TestCertificates(t *testing.T) {
	pki := newPKI(t, "edgekit test CA")
	srvCert, _, _ := pki.leaf(t, "server")
	cliCert, _, _ := pki.leaf(t, "client")
	for _, suite := range defaultCertSuites {
		t.Run(suite.String(), func(t *testing.T) {
			s := listen(t, Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pki.pool, CipherSuites: []CipherSuite{suite}})
			wait := startCoAP(s)
			c := dial(t, s, Config{Certificates: []tls.Certificate{cliCert}, RootCAs: pki.pool})
			if got := c.CipherSuite(); got != suite {
				t.Fatalf("negotiated %v, want %v", got, suite)
			}
			resp := exchange(t, c, c.RemoteAddr(), coapMsg{typ: coapCON, code: coapPOST, mid: 9, token: []byte{1}, payload: []byte("ping")}, 5*time.Second)
			if resp.code != coapChanged || string(resp.payload) != "ping" {
				t.Fatalf("response %+v", resp)
			}
			peer := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), c.LocalAddr().(*net.UDPAddr).AddrPort().Port())
			info, ok := s.Peer(peer)
			if !ok || len(info.Certificates) != 1 || !bytes.Equal(info.Certificates[0], cliCert.Certificate[0]) {
				t.Fatalf("Peer = %+v, %v", info, ok)
			}
			s.Close()
			wait()
		})
	}
}

func TestCertificateRejected(t *testing.T) {
	pki := newPKI(t, "edgekit test CA")
	other := newPKI(t, "other CA")
	srvCert, _, _ := pki.leaf(t, "server")
	strangerCert, _, _ := other.leaf(t, "stranger")
	s := listen(t, Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pki.pool})
	// A client certificate from another CA.
	cfg := Config{Certificates: []tls.Certificate{strangerCert}, RootCAs: pki.pool, HandshakeTimeout: 3 * time.Second}
	if c, err := Dial(context.Background(), "udp", serverAddr(s).String(), cfg); err == nil {
		c.Close()
		t.Fatal("server accepted a certificate of another CA")
	}
	// No client certificate at all.
	cfg = Config{RootCAs: pki.pool, HandshakeTimeout: 3 * time.Second}
	if c, err := Dial(context.Background(), "udp", serverAddr(s).String(), cfg); err == nil {
		c.Close()
		t.Fatal("server accepted a client without certificate")
	}
	// The client does not trust the server's CA.
	cfg = Config{Certificates: []tls.Certificate{strangerCert}, RootCAs: other.pool, HandshakeTimeout: 3 * time.Second}
	if c, err := Dial(context.Background(), "udp", serverAddr(s).String(), cfg); err == nil {
		c.Close()
		t.Fatal("client accepted a server certificate of an untrusted CA")
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"none":        {},
		"suite":       {PSK: StaticPSK(nil, testKey), CipherSuites: []CipherSuite{TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8}},
		"unknown":     {PSK: StaticPSK(nil, testKey), CipherSuites: []CipherSuite{0x1301}},
		"empty":       {PSK: StaticPSK(nil, testKey), CipherSuites: []CipherSuite{}},
		"negative":    {PSK: StaticPSK(nil, testKey), MaxSessions: -1},
		"cid":         {PSK: StaticPSK(nil, testKey), ConnectionIDLength: 256},
		"mtu":         {PSK: StaticPSK(nil, testKey), MTU: 100},
		"maxdatagram": {PSK: StaticPSK(nil, testKey), MaxDatagramSize: 1 << 20},
	} {
		if s, err := Listen("udp4", "127.0.0.1:0", cfg); err == nil {
			s.Close()
			t.Errorf("%s: Listen succeeded", name)
		} else if !errors.Is(err, ErrConfig) && !errors.Is(err, ErrCipherSuite) && !errors.Is(err, ErrNoCredentials) {
			t.Errorf("%s: %v matches none of the sentinels", name, err)
		}
	}
	if _, err := Dial(context.Background(), "udp", "127.0.0.1:1", Config{PSK: StaticPSK(nil, testKey)}); !errors.Is(err, ErrConfig) {
		t.Errorf("PSK client without identity: %v", err)
	}
}

func TestManyClients(t *testing.T) {
	s := listen(t, pskServerConfig())
	wait := startCoAP(s)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, "udp", serverAddr(s).String(), pskClientConfig())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for j := range 5 {
				req := coapMsg{typ: coapCON, code: coapPOST, mid: uint16(j), token: []byte{byte(i), byte(j)}, payload: []byte{byte(i), byte(j)}}
				resp := exchange(t, c, c.RemoteAddr(), req, 5*time.Second)
				if !bytes.Equal(resp.payload, req.payload) {
					errs <- errors.New("wrong echo")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Accepted != n || st.RxDatagrams != 5*n {
		t.Fatalf("stats %+v", st)
	}
	s.Close()
	wait()
}

func TestMaxSessions(t *testing.T) {
	cfg := pskServerConfig()
	cfg.MaxSessions = 1
	s := listen(t, cfg)
	wait := startCoAP(s)
	c := dial(t, s, pskClientConfig())
	ccfg := pskClientConfig()
	ccfg.HandshakeTimeout = 1500 * time.Millisecond
	if c2, err := Dial(context.Background(), "udp", serverAddr(s).String(), ccfg); err == nil {
		c2.Close()
		t.Fatal("second session accepted beyond MaxSessions = 1")
	}
	if st := s.Stats(); st.DroppedLimit == 0 || st.Sessions != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The first session still works.
	resp := exchange(t, c, c.RemoteAddr(), coapMsg{typ: coapCON, code: coapGET, mid: 1, token: []byte{1}, path: []string{"hello"}}, 5*time.Second)
	if resp.code != coapContent {
		t.Fatalf("response %+v", resp)
	}
	s.Close()
	wait()
}

func TestIdleExpiry(t *testing.T) {
	cfg := pskServerConfig()
	cfg.IdleTimeout = 300 * time.Millisecond
	s := listen(t, cfg)
	wait := startCoAP(s)
	c := dial(t, s, pskClientConfig())
	waitFor(t, func() bool { st := s.Stats(); return st.Expired == 1 && st.Sessions == 0 })
	// The server sent close_notify: the client's session is over.
	in := []uring.Msg{{Buf: make([]byte, 64)}}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.ReadBatch(in); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("client read after expiry: %v", err)
	}
	// A write to the expired peer is dropped and counted.
	out := []uring.Msg{{Buf: []byte{0x40, 0, 0, 1}, Addr: netip.MustParseAddrPort("127.0.0.1:9")}}
	if n, err := s.WriteBatch(out); n != 1 || err != nil || out[0].N != 0 {
		t.Fatalf("WriteBatch = %d, %v, N = %d", n, err, out[0].N)
	}
	if s.Stats().DroppedNoSession == 0 {
		t.Fatal("write to no session not counted")
	}
	s.Close()
	wait()
}

func TestReadDeadline(t *testing.T) {
	s := listen(t, pskServerConfig())
	in := []uring.Msg{{Buf: make([]byte, 64)}}
	s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, err := s.ReadBatch(in); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadBatch = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("deadline took %v", d)
	}
	// A deadline set while ReadBatch is blocked wakes it.
	s.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := s.ReadBatch(in); done <- err }()
	time.Sleep(20 * time.Millisecond)
	s.SetReadDeadline(time.Now().Add(-time.Second))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadBatch = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch not woken by a past deadline")
	}
	s.SetReadDeadline(time.Time{})
	go func() { _, err := s.ReadBatch(in); done <- err }()
	time.Sleep(20 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadBatch after Close = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch not woken by Close")
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Listen("udp4", "127.0.0.1:0", pskServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	wait := startCoAP(s)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := Dial(ctx, "udp", serverAddr(s).String(), pskClientConfig())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		exchange(t, c, c.RemoteAddr(), coapMsg{typ: coapCON, code: coapGET, mid: 1, token: []byte{1}, path: []string{"hello"}}, 5*time.Second)
		c.Close()
	}
	// A handshake left half done.
	raw, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(serverAddr(s)))
	if err != nil {
		t.Fatal(err)
	}
	raw.Write(captureClientHello(t))
	raw.Close()
	waitFor(t, func() bool { return s.Stats().Handshaking+s.Stats().Sessions >= 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wait()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("condition not met in 10 s; goroutines:\n%s", filterStacks(string(buf[:n])))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func filterStacks(s string) string {
	var out []string
	for _, g := range strings.Split(s, "\n\n") {
		if strings.Contains(g, "testing.tRunner") || strings.Contains(g, "testing.(*T).Run") {
			continue
		}
		out = append(out, g)
	}
	return strings.Join(out, "\n\n")
}

// TestQueuesBounded: with nobody calling ReadBatch, a peer that keeps
// sending fills the read queue and its own queue, and the rest is dropped
// and counted, not buffered.
func TestQueuesBounded(t *testing.T) {
	cfg := pskServerConfig()
	cfg.ReadQueueLen = 2
	cfg.PeerQueueLen = 4
	s := listen(t, cfg)
	c := dial(t, s, pskClientConfig())
	const sent = 300
	for i := range sent {
		msg := coapMsg{typ: coapNON, code: coapPOST, mid: uint16(i), payload: []byte("x")}
		if _, err := c.WriteBatch([]uring.Msg{{Buf: msg.encode(), Addr: c.RemoteAddr()}}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(10 * time.Millisecond) // let the server's reader keep up with the socket
		}
	}
	waitFor(t, func() bool { return s.Stats().DroppedPeerQueue > 0 })
	// Wait until the socket is drained: the drop count stops moving.
	for last := uint64(0); ; {
		time.Sleep(200 * time.Millisecond)
		d := s.Stats().DroppedPeerQueue
		if d == last {
			break
		}
		last = d
	}
	// What was held is delivered, and no more than the bounds: 2 in the
	// read queue, 1 in the session reader's hands, 1 in Pion's decrypted
	// channel, 1 in Pion's reader, 4 in the peer queue.
	in := make([]uring.Msg, 16)
	for i := range in {
		in[i].Buf = make([]byte, 64)
	}
	got := 0
	s.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		n, err := s.ReadBatch(in)
		got += n
		if err != nil {
			break
		}
	}
	if st := s.Stats(); got > 2+1+1+1+4 {
		t.Fatalf("%d datagrams held; stats %+v", got, st)
	}
	if got < 2 {
		t.Fatalf("delivered %d", got)
	}
}

// TestHandshakeEviction: ClientHellos that never return the cookie (as
// from spoofed addresses) fill MaxHandshakes, yet a real client still gets
// in at once, taking the slot of the oldest of them.
func TestHandshakeEviction(t *testing.T) {
	cfg := pskServerConfig()
	cfg.MaxHandshakes = 2
	cfg.HandshakeTimeout = time.Minute
	s := listen(t, cfg)
	wait := startCoAP(s)
	hello := captureClientHello(t)
	for range 3 {
		raw, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(serverAddr(s)))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Write(hello); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { st := s.Stats(); return st.Handshaking == 2 && st.Evicted == 1 })
	ccfg := pskClientConfig()
	ccfg.HandshakeTimeout = 10 * time.Second
	start := time.Now()
	c := dial(t, s, ccfg)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("handshake took %v", d)
	}
	resp := exchange(t, c, c.RemoteAddr(), coapMsg{typ: coapCON, code: coapGET, mid: 1, token: []byte{1}, path: []string{"hello"}}, 5*time.Second)
	if resp.code != coapContent {
		t.Fatalf("response %+v", resp)
	}
	if st := s.Stats(); st.Evicted != 2 || st.Sessions != 1 || st.Handshaking != 1 {
		t.Fatalf("stats %+v", st)
	}
	s.Close()
	wait()
}
