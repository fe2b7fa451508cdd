package testutil_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// processRunning reports whether pid names a live (not zombie) process.
func processRunning(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		t.Fatalf("odd /proc/%d/stat: %q", pid, s)
	}
	state := s[i+2]
	return state != 'Z' && state != 'X'
}

// waitGone waits (bounded) until none of pids is running; it polls briefly
// because an orphaned grandchild is reaped by init, not by us. It checks
// nothing off Linux.
func waitGone(t *testing.T, pids ...int) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for processRunning(t, pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still running after the peer was stopped", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestPeerStopKillsGroup starts a shell that starts a child, and checks that
// when the sub-test that owns the peer ends, both processes are gone: the
// shell by SIGTERM, and with a shell and child that ignore SIGTERM, by
// SIGKILL after the grace period.
func TestPeerStopKillsGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	for _, tc := range []struct {
		name, script string
		grace        time.Duration
		minStop      time.Duration // lower bound on start-to-stopped
	}{
		{"sigterm", `sleep 600 & echo $! > child.pid; wait`, 5 * time.Second, 0},
		{"sigkill-after-grace", `trap "" TERM; sleep 600 & echo $! > child.pid; wait`, 300 * time.Millisecond, 300 * time.Millisecond},
	} {
		var pid, child int
		start := time.Now()
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "child.pid")
			p := testutil.StartPeer(t, testutil.PeerConfig{
				Name:      "sh",
				Args:      []string{"-c", tc.script},
				Dir:       dir,
				StopGrace: tc.grace,
				Ready: func(context.Context) error {
					b, err := os.ReadFile(pidFile)
					if err == nil && strings.HasSuffix(string(b), "\n") {
						child, err = strconv.Atoi(strings.TrimSpace(string(b)))
					} else if err == nil {
						err = errors.New("child.pid incomplete")
					}
					return err
				},
			})
			pid = p.Pid()
			if !processRunning(t, pid) || !processRunning(t, child) {
				t.Fatalf("peer %d or its child %d not running", pid, child)
			}
		})
		took := time.Since(start)
		if pid == 0 || child == 0 {
			t.Fatalf("%s: peer did not start", tc.name)
		}
		waitGone(t, pid, child)
		if took < tc.minStop {
			t.Errorf("%s: started and stopped in %v; want SIGKILL only after the %v grace period", tc.name, took, tc.minStop)
		}
	}
}

// TestPeerStopIdempotent checks Stop's result and that a stopped peer is not
// reported as having exited early.
func TestPeerStopIdempotent(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("sleep not on PATH")
	}
	p := testutil.StartPeer(t, testutil.PeerConfig{Name: "sleep", Args: []string{"600"}})
	if err := p.Err(); err != nil {
		t.Fatalf("Err before exit = %v", err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if p.Err() == nil {
		t.Error("Err = nil after SIGTERM")
	}
}

// TestPeerDiesWithTest checks that a peer does not outlive a test process
// that exits without running its cleanups.
func TestPeerDiesWithTest(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux-only")
	}
	needShell(t)
	out, _ := runHelper(t, "abandon", "")
	_, after, ok := strings.Cut(out, "helper-peer-pid=")
	if !ok {
		t.Fatalf("helper printed no pid:\n%s", out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]))
	if err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	waitGone(t, pid)
}
