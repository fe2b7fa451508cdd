package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/dtls"
	"github.com/edgekit/edgekit/coap/endpoint"
	"github.com/edgekit/edgekit/internal/testutil"
)

const (
	testIdentity = "edgekit-test"
	testKey      = "edgekit-test-key"
)

// startServer runs the example on loopback until the test ends and returns
// its coap and coaps addresses.
func startServer(t *testing.T) (udp, dtlsAddr netip.AddrPort) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{
			udpAddr: "127.0.0.1:0", dtlsAddr: "127.0.0.1:0",
			pskIdentity: testIdentity, pskKey: testKey,
		}, io.Discard, func(u, d net.Addr) { addrs <- [2]net.Addr{u, d} })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case a := <-addrs:
		return a[0].(*net.UDPAddr).AddrPort(), a[1].(*net.UDPAddr).AddrPort()
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	panic("unreachable")
}

// libcoap runs a libcoap client (it exits 0 even on errors) and returns
// what it wrote to -o FILE, and its log.
func libcoap(t *testing.T, bin string, args ...string) (body []byte, log string) {
	t.Helper()
	path := testutil.NeedPeer(t, bin)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"-v", "7", "-B", "10", "-o", out}, args...)
	b, _ := exec.CommandContext(ctx, path, args...).CombinedOutput()
	body, _ = os.ReadFile(out)
	return body, string(b)
}

func TestLibcoapClient(t *testing.T) {
	udp, _ := startServer(t)
	base := "coap://" + udp.String()

	body, log := libcoap(t, "coap-client-notls", base+"/.well-known/core")
	for _, want := range []string{"</echo>", "</large>", "</obs>", "</time>", ";obs"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Fatalf("/.well-known/core = %q lacks %q\n%s", body, want, log)
		}
	}

	body, log = libcoap(t, "coap-client-notls", base+"/large")
	if !bytes.Equal(body, largeBody()) {
		t.Fatalf("/large: %d bytes\n%s", len(body), log)
	}

	up := bytes.Repeat([]byte("0123456789abcdef"), 200) // 3200 bytes, Block1 and Block2
	in := filepath.Join(t.TempDir(), "in")
	os.WriteFile(in, up, 0o600)
	body, log = libcoap(t, "coap-client-notls", "-m", "post", "-b", "512", "-f", in, base+"/echo")
	if !bytes.Equal(body, up) {
		t.Fatalf("/echo: %d bytes back of %d\n%s", len(body), len(up), log)
	}
	body, log = libcoap(t, "coap-client-notls", "-m", "post", "-N", "-e", "hello", base+"/echo")
	if string(body) != "hello" {
		t.Fatalf("NON /echo = %q\n%s", body, log)
	}

	// Observe for 3.5 s: the registration response and notifications.
	body, log = libcoap(t, "coap-client-notls", "-s", "3", "-w", base+"/obs")
	if lines := strings.Fields(string(body)); len(lines) < 3 || lines[0] == lines[len(lines)-1] {
		t.Fatalf("/obs observed %q\n%s", body, log)
	}
}

func TestLibcoapClientDTLS(t *testing.T) {
	_, d := startServer(t)
	for _, bin := range []string{"coap-client-openssl", "coap-client-gnutls"} {
		body, log := libcoap(t, bin, "-k", testKey, "-u", testIdentity, "coaps://"+d.String()+"/time")
		if _, err := time.Parse(time.RFC3339, string(body)); err != nil {
			t.Fatalf("%s /time = %q: %v\n%s", bin, body, err, log)
		}
		body, log = libcoap(t, bin, "-k", "wrong", "-u", testIdentity, "coaps://"+d.String()+"/time")
		if len(body) != 0 {
			t.Fatalf("%s with a wrong key got %q\n%s", bin, body, log)
		}
	}
}

// TestEndpointClient checks the server with edgekit's own client over
// both transports: GET, a block-wise POST and observe.
func TestEndpointClient(t *testing.T) {
	udp, d := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := dtls.Dial(ctx, "udp", d.String(), dtls.Config{
		PSK: dtls.StaticPSK(nil, []byte(testKey)), PSKIdentity: []byte(testIdentity)})
	if err != nil {
		t.Fatal(err)
	}
	secure, err := endpoint.New(conn, endpoint.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	plain, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	for name, c := range map[string]struct {
		ep   *endpoint.Endpoint
		peer netip.AddrPort
	}{"udp": {plain, udp}, "dtls": {secure, conn.RemoteAddr()}} {
		t.Run(name, func(t *testing.T) {
			resp, err := c.ep.Get(ctx, c.peer, "/large")
			if err != nil || !bytes.Equal(resp.Body, largeBody()) {
				t.Fatalf("GET /large: %v", err)
			}
			up := bytes.Repeat([]byte("x"), 5000)
			resp, err = c.ep.Post(ctx, c.peer, "/echo", coap.TextPlain, up)
			if err != nil || resp.Code() != coap.Changed || !bytes.Equal(resp.Body, up) {
				t.Fatalf("POST /echo: %v", err)
			}
			var mu sync.Mutex
			var seen []string
			two := make(chan struct{})
			req := &coap.Message{Code: coap.GET}
			req.SetPath("/obs")
			obs, err := c.ep.Observe(ctx, c.peer, req, func(r *endpoint.Response) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, string(r.Body))
				if len(seen) == 3 {
					close(two)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-two:
			case <-ctx.Done():
				t.Fatal("fewer than 3 observe responses")
			}
			if err := obs.Cancel(ctx); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[0] == seen[2] {
				t.Fatalf("/obs did not change: %q", seen)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []config{{}, {dtlsAddr: "127.0.0.1:0"}} {
		if err := run(context.Background(), cfg, io.Discard, nil); err == nil {
			t.Errorf("run(%+v) succeeded", cfg)
		}
	}
}
