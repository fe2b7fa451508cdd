package broker

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary re-executes itself as a helper process for tests that
// need a second process: EDGEKIT_BROKER_HELPER names the role, the
// arguments follow in EDGEKIT_BROKER_ARGS (space-separated).
const helperEnv = "EDGEKIT_BROKER_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		args := strings.Fields(os.Getenv("EDGEKIT_BROKER_ARGS"))
		switch role {
		case "burst":
			n, _ := strconv.Atoi(args[1])
			burstClient(args[0], n)
		case "broker":
			brokerChild(args[0], args[1])
		case "bridge":
			bridgeChild(args[0], args[1], args[2])
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type helper struct {
	cmd   *exec.Cmd
	out   *bufio.Reader
	stdin io.WriteCloser
	done  chan struct{}
}

// startHelper runs the test binary as a helper with role and args; it is
// killed when the test ends, and by the kernel if this process dies.
func startHelper(t *testing.T, role string, args ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "EDGEKIT_BROKER_ARGS="+strings.Join(args, " "))
	setPdeathsig(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.ENOEXEC) { // under qemu-user without binfmt
			t.Skip("cannot re-execute the test binary:", err)
		}
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, out: bufio.NewReader(stdout), stdin: stdin, done: make(chan struct{})}
	go func() { cmd.Wait(); close(h.done) }()
	t.Cleanup(func() { h.kill() })
	return h
}

// readLine reads one line of the helper's output within d.
func (h *helper) readLine(t *testing.T, d time.Duration) string {
	t.Helper()
	ch := make(chan string, 1)
	go func() {
		s, _ := h.out.ReadString('\n')
		ch <- strings.TrimSpace(s)
	}()
	select {
	case s := <-ch:
		return s
	case <-time.After(d):
		h.kill()
		t.Fatal("helper did not answer in time")
		return ""
	}
}

// stop closes the helper's stdin and waits for it to exit (up to 10 s).
func (h *helper) stop() {
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.kill()
	}
}

// kill sends SIGKILL to the helper and waits for it.
func (h *helper) kill() {
	if h.cmd.Process != nil {
		h.cmd.Process.Kill()
	}
	<-h.done
}
