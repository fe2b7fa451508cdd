package dtls

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// Interop with libcoap 4.3.1 (Debian libcoap3-bin): its OpenSSL and GnuTLS
// DTLS clients against our Server, and our Client against its servers, on
// each PSK suite and on ECDSA certificates.

const (
	libcoapHint     = "edgekit-hint"
	libcoapIdentity = "edgekit-client"
	libcoapKey      = "edgekit-secret-key"
)

var libcoapBuilds = []string{"openssl", "gnutls"}

// suiteLog records the suites of the sessions a Server establishes, from
// its debug log.
type suiteLog struct {
	mu     sync.Mutex
	suites []string
}

func (h *suiteLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *suiteLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "coap/dtls: session established" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "suite" {
			h.mu.Lock()
			h.suites = append(h.suites, a.Value.String())
			h.mu.Unlock()
		}
		return true
	})
	return nil
}
func (h *suiteLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *suiteLog) WithGroup(string) slog.Handler      { return h }

func (h *suiteLog) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.suites...)
}

// runCoAPClient runs a libcoap client with args and returns its output; it
// exits 0 even on errors, so callers read the output.
func runCoAPClient(t *testing.T, bin string, args ...string) string {
	t.Helper()
	path := testutil.NeedPeer(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-v", "7", "-B", "10"}, args...)...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish in 30 s:\n%s", bin, out)
	}
	if err != nil {
		t.Logf("%s: %v", bin, err)
	}
	return string(out)
}

func TestLibcoapClientPSK(t *testing.T) {
	for _, build := range libcoapBuilds {
		for _, suite := range defaultPSKSuites {
			t.Run(build+"/"+suite.String(), func(t *testing.T) {
				bin := "coap-client-" + build
				testutil.NeedPeer(t, bin)
				log := &suiteLog{}
				s := listen(t, Config{
					PSK:          PSKTable(map[string][]byte{libcoapIdentity: []byte(libcoapKey)}),
					PSKIdentity:  []byte(libcoapHint),
					CipherSuites: []CipherSuite{suite},
					Logger:       slog.New(log),
				})
				wait := startCoAP(s)
				out := runCoAPClient(t, bin, "-k", libcoapKey, "-u", libcoapIdentity,
					"coaps://"+serverAddr(s).String()+"/hello")
				s.Close()
				if n := wait(); n < 1 || !strings.Contains(out, "hello 127.0.0.1") {
					t.Fatalf("served %d requests; %s output:\n%s", n, bin, out)
				}
				if got := log.get(); len(got) != 1 || got[0] != suite.String() {
					t.Fatalf("sessions %v, want one with %v", got, suite)
				}
			})
		}
	}
}

func TestLibcoapClientCertificates(t *testing.T) {
	pki := newPKI(t, "edgekit interop CA")
	srvCert, _, _ := pki.leaf(t, "server")
	_, cliFile, cliKey := pki.leaf(t, "client")
	for _, build := range libcoapBuilds {
		for _, suite := range defaultCertSuites {
			t.Run(build+"/"+suite.String(), func(t *testing.T) {
				bin := "coap-client-" + build
				testutil.NeedPeer(t, bin)
				log := &suiteLog{}
				s := listen(t, Config{
					Certificates: []tls.Certificate{srvCert},
					ClientCAs:    pki.pool,
					CipherSuites: []CipherSuite{suite},
					Logger:       slog.New(log),
				})
				wait := startCoAP(s)
				out := runCoAPClient(t, bin, "-c", cliFile, "-j", cliKey, "-C", pki.caFile,
					"coaps://"+serverAddr(s).String()+"/hello")
				s.Close()
				if n := wait(); n < 1 || !strings.Contains(out, "hello 127.0.0.1") {
					t.Fatalf("served %d requests; %s output:\n%s", n, bin, out)
				}
				if got := log.get(); len(got) != 1 || got[0] != suite.String() {
					t.Fatalf("sessions %v, want one with %v", got, suite)
				}
			})
		}
	}
}

// libcoapServer starts a libcoap DTLS server and returns its coaps address
// (port+1 of its coap port).
func libcoapServer(t *testing.T, build string, args ...string) netip.AddrPort {
	t.Helper()
	p := testutil.StartCoAPServer(t, testutil.CoAPServerConfig{
		Binary:   "coap-server-" + build,
		Args:     args,
		Lifetime: time.Minute,
	})
	host, port, err := net.SplitHostPort(p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	return netip.AddrPortFrom(netip.MustParseAddr(host), uint16(n+1))
}

// getIndex sends GET / over c and checks libcoap's index page.
func getIndex(t *testing.T, c *Client) {
	t.Helper()
	for i := range 2 {
		resp := exchange(t, c, c.RemoteAddr(), coapMsg{typ: coapCON, code: coapGET, mid: uint16(100 + i), token: []byte{0xca, 0xfe, byte(i)}}, 10*time.Second)
		if resp.typ != coapACK || resp.code != coapContent || !strings.Contains(string(resp.payload), "libcoap") {
			t.Fatalf("GET / = %+v (%q)", resp, resp.payload)
		}
	}
}

func TestLibcoapServerPSK(t *testing.T) {
	for _, build := range libcoapBuilds {
		for _, suite := range defaultPSKSuites {
			t.Run(build+"/"+suite.String(), func(t *testing.T) {
				addr := libcoapServer(t, build, "-k", libcoapKey, "-h", libcoapHint)
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				c, err := Dial(ctx, "udp", addr.String(), Config{
					PSK: func(hint []byte) ([]byte, error) {
						if string(hint) != libcoapHint {
							t.Errorf("hint %q, want %q", hint, libcoapHint)
						}
						return []byte(libcoapKey), nil
					},
					PSKIdentity:  []byte(libcoapIdentity),
					CipherSuites: []CipherSuite{suite},
				})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if got := c.CipherSuite(); got != suite {
					t.Fatalf("negotiated %v", got)
				}
				getIndex(t, c)
			})
		}
	}
}

func TestLibcoapServerCertificates(t *testing.T) {
	pki := newPKI(t, "edgekit interop CA")
	_, srvFile, srvKey := pki.leaf(t, "server")
	cliCert, _, _ := pki.leaf(t, "client")
	for _, build := range libcoapBuilds {
		for _, suite := range defaultCertSuites {
			t.Run(build+"/"+suite.String(), func(t *testing.T) {
				addr := libcoapServer(t, build, "-c", srvFile, "-j", srvKey, "-C", pki.caFile)
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				c, err := Dial(ctx, "udp", addr.String(), Config{
					Certificates: []tls.Certificate{cliCert},
					RootCAs:      pki.pool,
					CipherSuites: []CipherSuite{suite},
				})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if got := c.CipherSuite(); got != suite {
					t.Fatalf("negotiated %v", got)
				}
				getIndex(t, c)
			})
		}
	}
}
