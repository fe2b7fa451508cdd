//go:build !windows

package endpoint

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/internal/testutil"
)

// runCoAPClient runs libcoap's coap-client-notls with args (bounded to
// 30 s) and returns its combined output; it always exits 0, so callers
// check the output.
func runCoAPClient(t *testing.T, args ...string) string {
	t.Helper()
	bin := testutil.NeedPeer(t, "coap-client-notls")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-B", "10"}, args...)...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("coap-client %v: timed out; output:\n%s", args, out)
	}
	if err != nil {
		t.Fatalf("coap-client %v: %v; output:\n%s", args, err, out)
	}
	return string(out)
}

func uri(e *Endpoint, path string) string {
	return "coap://" + e.LocalAddr().String() + path
}

// libcoap client against our server.
func TestLibcoapClientAgainstServer(t *testing.T) {
	testutil.NeedPeer(t, "coap-client-notls")
	mux, s := newTestMux()
	// Every notification CON, so that the test can wait for libcoap's ACK.
	srv := startEndpoint(t, Config{Handler: mux, ObserveConEvery: 1})
	dir := t.TempDir()

	for _, non := range []bool{false, true} {
		var flags []string
		if non {
			flags = []string{"-N"}
		}
		out := runCoAPClient(t, append(flags, "-m", "get", uri(srv, "/hello"))...)
		if strings.TrimSpace(out) != "world" {
			t.Fatalf("GET non=%v: %q", non, out)
		}
		out = runCoAPClient(t, append(flags, "-m", "post", "-e", "abc", uri(srv, "/echo"))...)
		if strings.TrimSpace(out) != "abc" {
			t.Fatalf("POST non=%v: %q", non, out)
		}
		out = runCoAPClient(t, append(flags, "-m", "put", "-e", "stored", uri(srv, "/store"))...)
		s.mu.Lock()
		got := string(s.store["/store"])
		s.mu.Unlock()
		if got != "stored" {
			t.Fatalf("PUT non=%v: store %q, output %q", non, got, out)
		}
		runCoAPClient(t, append(flags, "-m", "delete", uri(srv, "/store"))...)
		s.mu.Lock()
		_, had := s.store["/store"]
		s.mu.Unlock()
		if had {
			t.Fatalf("DELETE non=%v: still stored", non)
		}
	}

	// Block2 download of 4096 bytes, default and 64-byte blocks.
	for _, bs := range []string{"", "64"} {
		outFile := filepath.Join(dir, "large"+bs)
		args := []string{"-m", "get", "-o", outFile}
		if bs != "" {
			args = append(args, "-b", bs)
		}
		out := runCoAPClient(t, append(args, uri(srv, "/large"))...)
		got, _ := os.ReadFile(outFile)
		if !bytes.Equal(got, s.large) {
			t.Fatalf("Block2 (-b %q): got %d bytes; output %q", bs, len(got), out)
		}
	}

	// Block1 upload of 3500 bytes (libcoap changes the token per block and
	// sends Request-Tag) echoed back with Block2.
	body := bytes.Repeat([]byte("0123456"), 500)
	in := filepath.Join(dir, "in")
	os.WriteFile(in, body, 0o600)
	for _, bs := range []string{"1024", "256"} {
		outFile := filepath.Join(dir, "echo"+bs)
		out := runCoAPClient(t, "-m", "post", "-b", bs, "-f", in, "-o", outFile, uri(srv, "/echo"))
		got, _ := os.ReadFile(outFile)
		if !bytes.Equal(got, body) {
			t.Fatalf("Block1 POST -b %s: echoed %d bytes; output %q", bs, len(got), out)
		}
		out = runCoAPClient(t, "-m", "put", "-b", bs, "-f", in, uri(srv, "/store"))
		s.mu.Lock()
		got = s.store["/store"]
		s.mu.Unlock()
		if !bytes.Equal(got, body) {
			t.Fatalf("Block1 PUT -b %s: stored %d bytes; output %q", bs, len(got), out)
		}
	}

	// Observe: several notifications.
	done := make(chan string, 1)
	go func() {
		done <- runCoAPClient(t, "-s", "3", "-m", "get", uri(srv, "/obs"))
	}()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Observers("/obs") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 1; i <= 4; i++ {
		s.mu.Lock()
		s.obs = i
		s.mu.Unlock()
		base := srv.Stats().Received
		srv.Notify("/obs")
		for deadline := time.Now().Add(3 * time.Second); srv.Stats().Received == base && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond) // libcoap's ACK
		}
	}
	out := <-done
	for i := 0; i <= 4; i++ {
		if !strings.Contains(out, "n="+strconv.Itoa(i)) {
			t.Fatalf("observe: missing n=%d in %q", i, out)
		}
	}

	// Observe a resource larger than a block: each notification is
	// fetched block-wise by libcoap.
	base := srv.Stats().Received
	done = make(chan string, 1)
	go func() {
		done <- runCoAPClient(t, "-s", "4", "-m", "get", uri(srv, "/obsbig"))
	}()
	// waitReceived waits until the server has read at least n more
	// datagrams (the registration or notification ACK and libcoap's
	// requests for the other blocks) and then none for 250 ms, so that
	// libcoap has the whole body before the resource changes again.
	waitReceived := func(from uint64, n uint64) {
		deadline := time.Now().Add(5 * time.Second)
		last, quietSince := srv.Stats().Received, time.Now()
		for time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			r := srv.Stats().Received
			if r != last {
				last, quietSince = r, time.Now()
				continue
			}
			if r >= from+n && time.Since(quietSince) >= 250*time.Millisecond {
				return
			}
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for srv.Observers("/obsbig") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	waitReceived(base, 3) // GET Observe=0 answered with block 0, then blocks 1 and 2
	for i := 1; i <= 2; i++ {
		s.mu.Lock()
		s.obs = 10 + i
		s.mu.Unlock()
		base = srv.Stats().Received
		srv.Notify("/obsbig")
		waitReceived(base, 3) // libcoap ACKs the CON notification and fetches blocks 1 and 2
	}
	out = <-done
	for _, want := range []string{"n=11", "n=12", "end-11", "end-12"} {
		if !strings.Contains(out, want) {
			t.Fatalf("block-wise observe: missing %q in %d bytes of output:\n%s\nserver stats %+v", want, len(out), strings.ReplaceAll(out, strings.Repeat(".", 100), ""), srv.Stats())
		}
	}

	// Discovery.
	out = runCoAPClient(t, "-m", "get", uri(srv, "/.well-known/core"))
	if !strings.Contains(out, "</obs>") || !strings.Contains(out, "</large>") {
		t.Fatalf("discovery: %q", out)
	}
	if st := srv.Stats(); st.FormatErrors != 0 || st.HandlerPanics != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

// Our client against libcoap's server.
func TestClientAgainstLibcoapServer(t *testing.T) {
	peer := testutil.StartCoAPServer(t, testutil.CoAPServerConfig{Args: []string{"-d", "16", "-e"}})
	addr := netip.MustParseAddrPort(peer.Addr())
	cli := startEndpoint(t, Config{})
	ctx := testCtx(t)

	for _, typ := range []coap.Type{coap.Confirmable, coap.NonConfirmable} {
		var m coap.Message
		m.Type, m.Code = typ, coap.GET
		m.SetPath("/")
		r, err := cli.Do(ctx, addr, &m)
		if err != nil || r.Code() != coap.Content || !bytes.Contains(r.Body, []byte("libcoap")) {
			t.Fatalf("GET / (%v): %v %+v", typ, err, r)
		}
		// PUT creates a resource (-d), GET reads it, DELETE removes it.
		m.Reset()
		m.Type, m.Code = typ, coap.PUT
		m.SetPath("/r" + typ.String())
		m.Payload = []byte("hello " + typ.String())
		if r, err = cli.Do(ctx, addr, &m); err != nil || !r.Code().IsSuccess() {
			t.Fatalf("PUT (%v): %v %v", typ, err, r)
		}
		m.Reset()
		m.Type, m.Code = typ, coap.GET
		m.SetPath("/r" + typ.String())
		if r, err = cli.Do(ctx, addr, &m); err != nil || string(r.Body) != "hello "+typ.String() {
			t.Fatalf("GET created (%v): %v %+v", typ, err, r)
		}
		m.Reset()
		m.Type, m.Code = typ, coap.POST
		m.SetPath("/r" + typ.String())
		m.Payload = []byte("post")
		if r, err = cli.Do(ctx, addr, &m); err != nil || !r.Code().IsSuccess() {
			t.Fatalf("POST (%v): %v %+v", typ, err, r)
		}
		m.Reset()
		m.Type, m.Code = typ, coap.DELETE
		m.SetPath("/r" + typ.String())
		if r, err = cli.Do(ctx, addr, &m); err != nil || r.Code() != coap.Deleted {
			t.Fatalf("DELETE (%v): %v %+v", typ, err, r)
		}
	}

	// Block1 upload of 5000 bytes, then Block2 download of it.
	body := bytes.Repeat([]byte("abcdefghij"), 500)
	r, err := cli.Put(ctx, addr, "/big", coap.AppOctetStream, body)
	if err != nil || !r.Code().IsSuccess() {
		t.Fatalf("Block1 PUT: %v %+v", err, r)
	}
	r, err = cli.Get(ctx, addr, "/big")
	if err != nil || !bytes.Equal(r.Body, body) {
		t.Fatalf("Block2 GET: %v, %d bytes", err, len(r.Body))
	}

	// Observe libcoap's /time (notifies every second).
	got := make(chan *Response, 8)
	var m coap.Message
	m.SetPath("/time")
	o, err := cli.Observe(ctx, addr, &m, func(r *Response) {
		select {
		case got <- r:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint32
	for len(seqs) < 3 {
		select {
		case r := <-got:
			s, _ := r.Msg.Observe()
			seqs = append(seqs, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("observe: only %d notifications", len(seqs))
		}
	}
	for i := 1; i < len(seqs); i++ {
		if !fresh(seqs[i-1], 0, seqs[i], 0) {
			t.Fatalf("observe sequence not increasing: %v", seqs)
		}
	}
	if err := o.Cancel(ctx); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if err := cli.Ping(ctx, addr); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

// BenchmarkLibcoapServerLoopback is BenchmarkServerLoopback against
// libcoap's coap-server-notls (GET of its root resource "/"),
// for a same-run comparison.
func BenchmarkLibcoapServerLoopback(b *testing.B) {
	peer := testutil.StartCoAPServer(b, testutil.CoAPServerConfig{})
	ua, err := net.ResolveUDPAddr("udp4", peer.Addr())
	if err != nil {
		b.Fatal(err)
	}
	benchRawUDP(b, ua, "/")
}

// TestMalformedVersusLibcoap sends the same malformed and edge-case
// datagrams to libcoap's coap-server and to ours. Ours must answer as RFC
// 7252 says (the want column); libcoap's answers are logged, and where
// they differ the RFC section that decides is noted.
func TestMalformedVersusLibcoap(t *testing.T) {
	peer := testutil.StartCoAPServer(t, testutil.CoAPServerConfig{})
	mux, _ := newTestMux()
	srv := startEndpoint(t, Config{Handler: mux})
	cases := []struct {
		name string
		in   []byte
		want string // "RST", "ACK c.dd" or "-" (no reply)
		note string // why, where libcoap differs
	}{
		{"ping", []byte{0x40, 0, 0x12, 0x34}, "RST", ""},
		{"TKL 9", []byte{0x49, 1, 0x12, 0x35, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "RST", ""},
		{"payload marker, no payload", []byte{0x40, 1, 0x12, 0x36, 0xff}, "RST", ""},
		{"delta nibble 15", []byte{0x40, 1, 0x12, 0x37, 0xf1, 0}, "RST", ""},
		{"length nibble 15", []byte{0x40, 1, 0x12, 0x38, 0x1f}, "RST", ""},
		{"unknown critical option 29", []byte{0x40, 1, 0x12, 0x39, 0xd0, 0x10}, "ACK 4.02", ""},
		{"Uri-Port twice", []byte{0x40, 1, 0x12, 0x3a, 0x71, 1, 0x01, 2}, "ACK 4.02", "§5.4.5: a supernumerary critical option is unrecognised"},
		{"Empty with token", []byte{0x41, 0, 0x12, 0x3b, 7}, "RST", ""},
		{"Empty NON", []byte{0x50, 0, 0x12, 0x3c}, "RST", ""},
		{"code class 1", []byte{0x40, 0x21, 0x12, 0x3d}, "RST", ""},
		{"truncated option", []byte{0x40, 1, 0x12, 0x3f, 0xb3, 'a'}, "RST", ""},
		{"version 2", []byte{0x80, 1, 0x12, 0x40}, "-", "§3: unknown version MUST be silently ignored"},
		{"empty Uri-Host", []byte{0x40, 1, 0x12, 0x41, 0x30}, "ACK 4.02", "§5.4.3: a length out of range makes the option unrecognised"},
		{"OSCORE (not implemented)", []byte{0x40, 1, 0x12, 0x42, 0x90}, "ACK 4.02", ""},
		{"Proxy-Uri (no proxy)", []byte{0x40, 1, 0x12, 0x43, 0xd3, 0x16, 'c', ':', '/'}, "ACK 5.05", ""},
		{"Block2 SZX 7", []byte{0x40, 1, 0x12, 0x44, 0xd1, 0x0a, 0x07}, "ACK 4.00", "RFC 7959 §2.2: SZX 7 is reserved"},
		{"unsolicited CON response", []byte{0x41, 0x45, 0x12, 0x45, 9}, "RST", "§4.2: a CON without context is rejected with RST"},
		{"NON, unknown critical option", []byte{0x50, 1, 0x12, 0x46, 0xd0, 0x10}, "RST", ""},
		{"ACK carrying GET", []byte{0x60, 1, 0x12, 0x47}, "-", "§4.2: an ACK with a request code is a format error, ignored"},
		{"RST carrying 2.05", []byte{0x70, 0x45, 0x12, 0x48}, "-", ""},
	}
	ask := func(addr string, in []byte) string {
		c, err := net.Dial("udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(in)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			return "-"
		}
		var m coap.Message
		if _, err := m.Decode(buf[:n]); err != nil {
			return "undecodable"
		}
		if m.MessageID != coap.MessageID(uint16(in[2])<<8|uint16(in[3])) {
			return m.Type.String() + " with another message id"
		}
		if m.Code == coap.Empty {
			return m.Type.String()
		}
		return m.Type.String() + " " + m.Code.String()
	}
	for _, tc := range cases {
		ours := ask(srv.LocalAddr().String(), tc.in)
		theirs := ask(peer.Addr(), tc.in)
		if ours != tc.want {
			t.Errorf("%s: we answer %q; want %q", tc.name, ours, tc.want)
		}
		if theirs != ours {
			t.Logf("%-30s ours %-9s libcoap %-9s %s", tc.name, ours, theirs, tc.note)
		}
	}
}
