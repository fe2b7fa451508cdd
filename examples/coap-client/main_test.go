package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// cli runs the example with args and returns its stdout and stderr.
func cli(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestAgainstLibcoap drives libcoap's coap-server-notls (-d lets PUT create
// resources) with every command: GET, NON GET, PUT and GET back of 3000
// bytes (Block1 up, Block2 down, 256-byte blocks), POST, DELETE and observe.
func TestAgainstLibcoap(t *testing.T) {
	p := testutil.StartCoAPServer(t, testutil.CoAPServerConfig{Args: []string{"-d", "16"}})
	base := "coap://" + p.Addr()

	out, log, err := cli(t, "get", base+"/")
	if err != nil || !strings.Contains(out, "libcoap") || !strings.Contains(log, "2.05") {
		t.Fatalf("get /: %v\n%s\n%s", err, out, log)
	}
	out, _, err = cli(t, "-n", "get", base+"/")
	if err != nil || !strings.Contains(out, "libcoap") {
		t.Fatalf("NON get /: %v\n%s", err, out)
	}

	body := bytes.Repeat([]byte("edgekit-block-"), 220) // 3080 bytes
	in := filepath.Join(t.TempDir(), "in")
	os.WriteFile(in, body, 0o600)
	if _, log, err := cli(t, "-b", "256", "-f", in, "put", base+"/upload"); err != nil || !strings.Contains(log, "2.01") {
		t.Fatalf("put: %v\n%s", err, log)
	}
	dl := filepath.Join(t.TempDir(), "dl")
	if _, log, err := cli(t, "-b", "256", "-o", dl, "get", base+"/upload"); err != nil {
		t.Fatalf("get back: %v\n%s", err, log)
	}
	if got, _ := os.ReadFile(dl); !bytes.Equal(got, body) {
		t.Fatalf("downloaded %d bytes, uploaded %d", len(got), len(body))
	}
	if _, log, err := cli(t, "-d", "x", "post", base+"/upload"); err != nil {
		t.Fatalf("post: %v\n%s", err, log)
	}
	if _, log, err := cli(t, "delete", base+"/upload"); err != nil || !strings.Contains(log, "2.02") {
		t.Fatalf("delete: %v\n%s", err, log)
	}
	_, log, err = cli(t, "get", base+"/upload")
	var st errStatus
	if !errors.As(err, &st) || st.code.String() != "4.04" {
		t.Fatalf("get after delete: %v\n%s", err, log)
	}

	// libcoap's /time is observable and changes every second.
	out, log, err = cli(t, "-count", "3", "observe", base+"/time")
	if err != nil {
		t.Fatalf("observe: %v\n%s", err, log)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || lines[0] == lines[2] {
		t.Fatalf("observe: %q\n%s", out, log)
	}
	if !strings.Contains(log, "observe=") {
		t.Fatalf("observe log: %s", log)
	}
}

func TestAgainstLibcoapDTLS(t *testing.T) {
	for _, build := range []string{"openssl", "gnutls"} {
		t.Run(build, func(t *testing.T) {
			p := testutil.StartCoAPServer(t, testutil.CoAPServerConfig{
				Binary: "coap-server-" + build,
				Args:   []string{"-k", "secret-key", "-h", "hint"},
			})
			host, port, _ := strings.Cut(p.Addr(), ":")
			n, _ := strconv.Atoi(port)
			uri := "coaps://" + host + ":" + strconv.Itoa(n+1) + "/"
			out, log, err := cli(t, "-psk-identity", "me", "-psk-key", "secret-key", "get", uri)
			if err != nil || !strings.Contains(out, "libcoap") {
				t.Fatalf("coaps get: %v\n%s\n%s", err, out, log)
			}
			if _, _, err := cli(t, "-t", "3s", "-psk-identity", "me", "-psk-key", "wrong", "get", uri); err == nil {
				t.Fatal("a wrong key worked")
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"get"},
		{"fetchall", "coap://127.0.0.1/"},
		{"get", "http://127.0.0.1/"},
		{"get", "coaps://127.0.0.1/"}, // no PSK
		{"-f", "/nonexistent/file", "put", "coap://127.0.0.1/x"},
	} {
		if _, _, err := cli(t, args...); err == nil {
			t.Errorf("%q succeeded", args)
		}
	}
}
