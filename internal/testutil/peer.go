package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults for [PeerConfig]'s zero fields.
const (
	DefaultPeerLifetime = 2 * time.Minute
	DefaultReadyTimeout = 10 * time.Second
	DefaultStopGrace    = 5 * time.Second
	// PeerOutputLimit is how many trailing bytes of a peer's combined
	// stdout and stderr a [Peer] keeps.
	PeerOutputLimit = 64 << 10
)

// readyPoll is the pause between two calls of PeerConfig.Ready.
const readyPoll = 25 * time.Millisecond

// PeerConfig describes a peer process for [StartPeer]. The zero value of
// every field but Name is a usable default.
type PeerConfig struct {
	// Name is the program: a binary looked up on PATH with [NeedPeer], or a
	// path. A missing program skips or fails the test as NeedPeer does.
	Name string
	// Args are the program's arguments (without the program name).
	Args []string
	// Env is appended to the test's environment.
	Env []string
	// Dir is the working directory; "" means the test's.
	Dir string
	// Addr is the address the peer serves on, returned by [Peer.Addr]. It is
	// informational only.
	Addr string
	// Ready reports whether the peer is ready to serve. StartPeer calls it
	// every 25 ms until it returns nil, the process exits, or ReadyTimeout
	// passes; ctx is done when either of the last two happens, and each call
	// should return promptly then. Nil means ready as soon as started. See
	// [TCPReady] and [CoAPReady].
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds the wait for Ready; 0 means [DefaultReadyTimeout].
	ReadyTimeout time.Duration
	// Lifetime bounds how long the process may run at all: when it passes,
	// the process group is killed and the test fails. 0 means
	// [DefaultPeerLifetime]; there is no unbounded lifetime.
	Lifetime time.Duration
	// StopGrace is how long stopping waits after SIGTERM before SIGKILL;
	// 0 means [DefaultStopGrace].
	StopGrace time.Duration
}

// Peer is a running peer process started by [StartPeer]. Its methods are safe
// for concurrent use. A Peer runs goroutines that wait for the process and
// copy its output; [Peer.Stop] (called at the latest by the test's cleanup)
// ends the process and waits for them.
type Peer struct {
	name   string
	addr   string
	pid    int
	proc   *os.Process
	out    *tailBuffer
	grace  time.Duration
	life   time.Duration
	cancel context.CancelFunc

	done    chan struct{} // closed when the process has been waited for
	waitErr error         // set before done is closed
	expired bool          // the lifetime ran out; set before done is closed

	stopping atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

// Addr returns PeerConfig.Addr.
func (p *Peer) Addr() string { return p.addr }

// Pid returns the process id; the process is also its process group's leader
// on unix.
func (p *Peer) Pid() int { return p.pid }

// Output returns the last [PeerOutputLimit] bytes the process wrote to
// stdout and stderr so far.
func (p *Peer) Output() string { return p.out.String() }

// Done returns a channel that is closed when the process has exited and been
// waited for.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err returns how the process exited (as from [exec.Cmd.Wait]) once Done is
// closed, and nil before.
func (p *Peer) Err() error {
	select {
	case <-p.done:
		return p.waitErr
	default:
		return nil
	}
}

// Stop ends the process if it is still running: SIGTERM to its process group,
// then SIGKILL after PeerConfig.StopGrace (on non-unix systems it kills the
// process at once). It then kills whatever is left of the process group and
// waits for the process. Only the first call does anything; later calls
// return the first call's result. A non-nil result means the process could
// not be stopped.
func (p *Peer) Stop() error {
	p.stopOnce.Do(func() {
		p.stopping.Store(true)
		defer p.cancel()
		if !isClosed(p.done) {
			_ = terminate(p.proc)
			grace := time.NewTimer(p.grace)
			defer grace.Stop()
			select {
			case <-p.done:
			case <-grace.C:
				_ = kill(p.proc)
				select {
				case <-p.done:
				case <-time.After(p.grace + 10*time.Second):
					p.stopErr = fmt.Errorf("%s (pid %d) still running after SIGKILL", p.name, p.pid)
					return
				}
			}
		}
		// Children that outlived the leader, e.g. after it crashed.
		_ = killGroup(p.pid)
	})
	return p.stopErr
}

// exitReason describes how a finished process ended.
func (p *Peer) exitReason() string {
	if p.expired {
		return fmt.Sprintf("killed when its lifetime of %v ran out (%v)", p.life, p.waitErr)
	}
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

// StartPeer starts the peer process cfg describes in its own process group,
// waits until cfg.Ready reports it ready, and registers a cleanup that stops
// it with [Peer.Stop] and fails the test if it had exited by itself. The
// process's output is kept and logged if the test fails. If the program is
// missing, the test is skipped or failed as by [NeedPeer]; if the process
// cannot start, exits before it is ready, or is not ready within
// cfg.ReadyTimeout, the test fails with the process's output.
func StartPeer(tb testing.TB, cfg PeerConfig) *Peer {
	tb.Helper()
	p, err := startPeer(tb, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// errExited marks a start that failed because the process exited early.
var errExited = errors.New("exited before it was ready")

// startPeer is StartPeer but returns start failures (already stopped) as an
// error, so the starters can retry on a fresh port.
func startPeer(tb testing.TB, cfg PeerConfig) (*Peer, error) {
	tb.Helper()
	path := NeedPeer(tb, cfg.Name)
	life := orDefault(cfg.Lifetime, DefaultPeerLifetime)
	ctx, cancel := context.WithTimeout(context.Background(), life)
	cmd := exec.CommandContext(ctx, path, cfg.Args...)
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Dir = cfg.Dir
	out := &tailBuffer{limit: PeerOutputLimit}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	// When the lifetime passes, kill the whole group, and let Wait close the
	// output pipes even if a grandchild still holds them.
	cmd.Cancel = func() error { return killGroupOrProcess(cmd.Process) }
	grace := orDefault(cfg.StopGrace, DefaultStopGrace)
	cmd.WaitDelay = grace
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("testutil: start %s: %w", cfg.Name, err)
	}
	// exited is done once the process has exited, or the lifetime passed.
	exited, exitedCancel := context.WithCancel(ctx)
	p := &Peer{
		name:   cfg.Name,
		addr:   cfg.Addr,
		pid:    cmd.Process.Pid,
		proc:   cmd.Process,
		out:    out,
		grace:  grace,
		life:   life,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		p.expired = errors.Is(ctx.Err(), context.DeadlineExceeded)
		close(p.done)
		exitedCancel()
	}()

	if err := p.waitReady(exited, cfg); err != nil {
		if serr := p.Stop(); serr != nil {
			tb.Error(serr)
		}
		return nil, fmt.Errorf("testutil: %s (pid %d) %w\n--- %s output ---\n%s", cfg.Name, p.pid, err, cfg.Name, p.Output())
	}

	tb.Cleanup(func() {
		exitedEarly := isClosed(p.done) && !p.stopping.Load()
		if err := p.Stop(); err != nil {
			tb.Error(err)
		}
		if exitedEarly {
			tb.Errorf("%s (pid %d) exited before the test ended: %s", p.name, p.pid, p.exitReason())
		}
		if tb.Failed() {
			tb.Logf("--- %s (pid %d) output ---\n%s", p.name, p.pid, p.Output())
		}
	})
	return p, nil
}

// waitReady polls cfg.Ready until it succeeds, the process exits or the
// ready timeout passes.
func (p *Peer) waitReady(exited context.Context, cfg PeerConfig) error {
	if cfg.Ready == nil {
		return nil
	}
	timeout := orDefault(cfg.ReadyTimeout, DefaultReadyTimeout)
	ctx, cancel := context.WithTimeout(exited, timeout)
	defer cancel()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		err := cfg.Ready(ctx)
		if err == nil && isClosed(p.done) {
			// Something else answered: another process holds the port.
			return fmt.Errorf("%w: %s", errExited, p.exitReason())
		}
		if err == nil {
			return nil
		}
		select {
		case <-tick.C:
			continue
		case <-ctx.Done():
		}
		// Let a process exit that raced with the timeout be reported as such.
		select {
		case <-p.done:
		case <-time.After(readyPoll):
		}
		if isClosed(p.done) {
			return fmt.Errorf("%w: %s", errExited, p.exitReason())
		}
		return fmt.Errorf("not ready after %v: %v", timeout, err)
	}
}

// TCPReady returns a PeerConfig.Ready function that reports the peer ready
// once a TCP connection to addr succeeds.
func TCPReady(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// tailBuffer is an io.Writer that keeps the last limit bytes written to it.
// It is safe for concurrent use.
type tailBuffer struct {
	limit   int
	mu      sync.Mutex
	buf     []byte
	dropped int64
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.dropped += int64(over)
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped == 0 {
		return string(b.buf)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "[... %d earlier bytes dropped ...]\n", b.dropped)
	s.Write(b.buf)
	return s.String()
}
