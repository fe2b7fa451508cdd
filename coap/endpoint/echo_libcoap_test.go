//go:build !windows

package endpoint

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgekit/edgekit/internal/testutil"
)

// TestEchoLibcoapClient: libcoap's coap-client-notls against our server
// with Echo required (RFC 9175): libcoap repeats a challenged request with
// the server's Echo by itself, for a POST, a PUT, a Block1 upload and,
// under amplification mitigation, a Block2 download.
func TestEchoLibcoapClient(t *testing.T) {
	testutil.NeedPeer(t, "coap-client-notls")
	mux, s := newTestMux()
	srv := startEndpoint(t, Config{Handler: mux, Echo: EchoConfig{Unsafe: true, Amplification: true}})

	out := runCoAPClient(t, "-v", "7", "-m", "post", "-e", "abc", uri(srv, "/echo"))
	t.Logf("coap-client-notls -B 10 -v 7 -m post -e abc %s:\n%s", uri(srv, "/echo"), out)
	// libcoap logs each PDU (-v 7): the 4.01 with our Echo, its repeat of
	// the POST carrying that value, and the 2.04 with the echoed payload.
	ch := regexp.MustCompile(`t:ACK c:4\.01 i:\w+ \{\w*\} \[ Echo:0x([0-9a-f]{28}) \]`).FindStringSubmatch(out)
	if ch == nil {
		t.Fatal("POST with Echo required: no 4.01 + 14-byte Echo in libcoap's log")
	}
	if !regexp.MustCompile(`t:CON c:POST .*Echo:0x` + ch[1] + ` \] :: 'abc'`).MatchString(out) {
		t.Fatal("libcoap did not repeat the POST with the Echo value")
	}
	if !regexp.MustCompile(`t:ACK c:2\.04 .* :: 'abc'`).MatchString(out) {
		t.Fatal("no 2.04 'abc' after the repeat")
	}
	st := srv.Stats()
	if st.EchoChallenges != 1 || st.Requests != 1 {
		t.Fatalf("POST: %d challenges, %d requests served; want 1 and 1", st.EchoChallenges, st.Requests)
	}

	out = runCoAPClient(t, "-m", "put", "-e", "stored", uri(srv, "/store"))
	s.mu.Lock()
	got := string(s.store["/store"])
	s.mu.Unlock()
	if got != "stored" {
		t.Fatalf("PUT: store %q, output %q", got, out)
	}

	dir := t.TempDir()
	body := bytes.Repeat([]byte("0123456"), 500)
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, body, 0o600); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "echoed")
	out = runCoAPClient(t, "-m", "post", "-b", "256", "-f", in, "-o", outFile, uri(srv, "/echo"))
	if got, _ := os.ReadFile(outFile); !bytes.Equal(got, body) {
		t.Fatalf("Block1 POST: echoed %d bytes; output %q", len(got), out)
	}

	largeFile := filepath.Join(dir, "large")
	out = runCoAPClient(t, "-v", "7", "-m", "get", "-o", largeFile, uri(srv, "/large"))
	if got, _ := os.ReadFile(largeFile); !bytes.Equal(got, s.large) {
		t.Fatalf("Block2 GET under amplification mitigation: %d bytes; output:\n%s", len(got), out)
	}
	// libcoap 4.3.1 repeats each challenged block with the Echo, but does
	// not carry the value into the next block's request: every block costs
	// a challenge (logged, not asserted: that is libcoap's choice).
	t.Logf("GET /large: libcoap saw %d 4.01 challenges; %d Echo challenges in all",
		strings.Count(out, "c:4.01"), srv.Stats().EchoChallenges)
}
