package testutil_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// envHelper selects what TestHelperProcess does in a re-executed test binary.
const envHelper = "EDGEKIT_TESTUTIL_HELPER"

// TestHelperProcess is not a real test: runHelper re-executes the test binary
// to run it with envHelper set, so that a helper's Skip or Fatal can be
// observed from outside. Without envHelper it does nothing.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envHelper)
	switch mode {
	case "":
		return
	case "needpeer-missing":
		testutil.NeedPeer(t, "coap-edgekit-no-such-binary")
		t.Fatal("NeedPeer returned for a missing binary")
	case "unsupported-bare":
		testutil.SkipIfUnsupported(t, errors.ErrUnsupported)
		t.Fatal("SkipIfUnsupported returned for the bare sentinel")
	case "unsupported-wrapped":
		testutil.SkipIfUnsupported(t, fmt.Errorf("uring: %w on plan9", errors.ErrUnsupported))
		t.Fatal("SkipIfUnsupported returned for a wrapped ErrUnsupported")
	case "unsupported-other":
		testutil.SkipIfUnsupported(t, nil)
		testutil.SkipIfUnsupported(t, io.EOF)
		t.Log("helper: returned")
	case "early-exit":
		testutil.StartPeer(t, testutil.PeerConfig{
			Name:  "sh",
			Args:  []string{"-c", "echo helper-boom >&2; exit 3"},
			Ready: func(context.Context) error { return errors.New("never ready") },
		})
		t.Fatal("StartPeer returned for a process that exited")
	case "ready-timeout":
		testutil.StartPeer(t, testutil.PeerConfig{
			Name:         "sleep",
			Args:         []string{"60"},
			ReadyTimeout: 300 * time.Millisecond,
			Ready:        func(context.Context) error { return errors.New("helper-not-yet") },
		})
		t.Fatal("StartPeer returned for a peer that never got ready")
	case "lifetime":
		p := testutil.StartPeer(t, testutil.PeerConfig{
			Name:     "sleep",
			Args:     []string{"60"},
			Lifetime: 300 * time.Millisecond,
		})
		select {
		case <-p.Done():
		case <-time.After(20 * time.Second):
			t.Fatal("peer outlived its lifetime by 20s")
		}
	case "abandon":
		p := testutil.StartPeer(t, testutil.PeerConfig{Name: "sleep", Args: []string{"600"}})
		fmt.Printf("helper-peer-pid=%d\n", p.Pid())
		os.Exit(3) // no cleanups run
	case "mosquitto-bad-config":
		testutil.StartMosquitto(t, testutil.MosquittoConfig{Extra: []string{"edgekit_no_such_option 1"}})
		t.Fatal("StartMosquitto returned with a bad config")
	default:
		t.Fatalf("unknown %s=%q", envHelper, mode)
	}
}

// runHelper runs TestHelperProcess in a child test process with
// EDGEKIT_TESTUTIL_HELPER=mode and EDGEKIT_PEERS=peers, and returns its
// output and whether it passed (a skip passes).
func runHelper(t *testing.T, mode, peers string) (out string, passed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
	env := []string{envHelper + "=" + mode, testutil.EnvPeers + "=" + peers}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envHelper+"=") && !strings.HasPrefix(kv, testutil.EnvPeers+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("helper %s timed out:\n%s", mode, b)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("helper %s: %v", mode, err)
	}
	return string(b), err == nil
}

// wantHelper runs a helper and checks its verdict ("PASS", "SKIP" or
// "FAIL") and that its output contains every string in want.
func wantHelper(t *testing.T, mode, peers, verdict string, want ...string) string {
	t.Helper()
	out, passed := runHelper(t, mode, peers)
	if passed != (verdict != "FAIL") || !strings.Contains(out, "--- "+verdict+": TestHelperProcess") {
		t.Fatalf("helper %s with %s=%q: want %s; got passed=%v, output:\n%s", mode, testutil.EnvPeers, peers, verdict, passed, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("helper %s output lacks %q:\n%s", mode, w, out)
		}
	}
	return out
}

func needShell(t *testing.T) {
	t.Helper()
	for _, b := range []string{"sh", "sleep"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not on PATH", b)
		}
	}
}

func TestNeedPeerMissing(t *testing.T) {
	t.Run("skip", func(t *testing.T) {
		wantHelper(t, "needpeer-missing", "", "SKIP",
			"coap-edgekit-no-such-binary not installed (apt-get install libcoap3-bin); set EDGEKIT_PEERS=require to make this a failure")
	})
	t.Run("other-value-skips", func(t *testing.T) {
		wantHelper(t, "needpeer-missing", "yes", "SKIP")
	})
	t.Run("require", func(t *testing.T) {
		wantHelper(t, "needpeer-missing", "require", "FAIL",
			"coap-edgekit-no-such-binary not installed (apt-get install libcoap3-bin); EDGEKIT_PEERS=require")
	})
}

func TestNeedPeerFound(t *testing.T) {
	needShell(t)
	if p := testutil.NeedPeer(t, "sh"); p == "" {
		t.Fatal("NeedPeer(sh) = empty path")
	}
}

func TestSkipIfUnsupported(t *testing.T) {
	wantHelper(t, "unsupported-bare", "", "FAIL", "unwrapped ErrUnsupported")
	wantHelper(t, "unsupported-wrapped", "", "SKIP", "uring: unsupported operation on plan9")
	wantHelper(t, "unsupported-other", "", "PASS", "helper: returned")
}

func TestStartPeerFailures(t *testing.T) {
	needShell(t)
	t.Run("early-exit", func(t *testing.T) {
		wantHelper(t, "early-exit", "", "FAIL", "exited before it was ready: exit status 3", "helper-boom")
	})
	t.Run("ready-timeout", func(t *testing.T) {
		wantHelper(t, "ready-timeout", "", "FAIL", "not ready after 300ms: helper-not-yet")
	})
	t.Run("lifetime", func(t *testing.T) {
		wantHelper(t, "lifetime", "", "FAIL", "exited before the test ended: killed when its lifetime of 300ms ran out")
	})
}

func TestFreePort(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		port := testutil.FreePort(t, network)
		if port <= 0 || port > 65535 {
			t.Fatalf("FreePort(%s) = %d", network, port)
		}
		addr := testutil.LoopbackAddr(port)
		if want := fmt.Sprintf("127.0.0.1:%d", port); addr != want {
			t.Fatalf("LoopbackAddr(%d) = %q; want %q", port, addr, want)
		}
		var c io.Closer
		var err error
		if network == "tcp" {
			c, err = new(net.ListenConfig).Listen(context.Background(), "tcp4", addr)
		} else {
			c, err = new(net.ListenConfig).ListenPacket(context.Background(), "udp4", addr)
		}
		if err != nil {
			t.Fatalf("bind %s %s from FreePort: %v", network, addr, err)
		}
		c.Close()
	}
}
