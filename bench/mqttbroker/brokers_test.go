package mqttbrokerbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/edgekit/edgekit/mqtt/broker"
)

// target is one broker under test.
type target struct {
	name string
	addr string
	// mem reports the broker's memory in bytes (Go heap and stacks for
	// in-process brokers, resident set for a process).
	mem func() uint64
	// rss reports the resident set of the broker's process.
	rss  func() uint64
	stop func()
}

// selfRSS is this process's resident set (after a GC).
func selfRSS() uint64 {
	runtime.GC()
	return procRSS(os.Getpid())
}

type starter func(tb testing.TB) (*target, error)

var brokers = []struct {
	name  string
	start starter
}{
	{"edgekit", startEdgekit},
	{"edgekit-bigq", startEdgekitBigQueue},
	{"edgekit-goroutines", startEdgekitGoroutines},
	{"mochi", startMochi},
	{"mosquitto", startMosquitto},
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startEdgekit runs edgekit's broker with its default limits (a queue of
// 1000 messages / 1 MiB per client: a QoS 0 flood beyond what a subscriber
// reads is dropped).
func startEdgekit(tb testing.TB) (*target, error) {
	return startEdgekitCfg(broker.Config{})
}

// startEdgekitBigQueue raises the per-client queue to 100,000 messages /
// 64 MiB, closer to mosquitto, which does not bound QoS 0 for online
// clients.
func startEdgekitBigQueue(tb testing.TB) (*target, error) {
	return startEdgekitCfg(broker.Config{MaxQueuedMessages: 100000, MaxQueuedBytes: 64 << 20})
}

// startEdgekitGoroutines reads every connection with its own goroutine, as
// the broker does off Linux.
func startEdgekitGoroutines(tb testing.TB) (*target, error) {
	return startEdgekitCfg(broker.Config{EventLoop: broker.EventLoopOff})
}

func startEdgekitCfg(cfg broker.Config) (*target, error) {
	cfg.MaxConnections, cfg.MaxSessions, cfg.PublishRate, cfg.SysInterval = 30000, 30000, -1, -1
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := broker.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go b.Serve(ln)
	return &target{name: "edgekit", addr: ln.Addr().String(), mem: goMem, rss: selfRSS, stop: func() { b.Close() }}, nil
}

func startMochi(tb testing.TB) (*target, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := mochi.New(&mochi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, err
	}
	if err := s.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: addr})); err != nil {
		return nil, err
	}
	if err := s.Serve(); err != nil {
		return nil, err
	}
	if err := waitTCP(addr); err != nil {
		return nil, err
	}
	return &target{name: "mochi", addr: addr, mem: goMem, rss: selfRSS, stop: func() { closeMochi(s) }}, nil
}

// closeMochi closes a mochi server, waiting at most 10 s: mochi v2.7.9's
// Close can deadlock while clients are still disconnecting (a recursive
// read lock in Clients.GetByListener against a waiting writer: mochi issue
// 488, fix unmerged), which hung the benchmark after the 10,000 idle
// connections closed. The server's goroutines are then left behind; the
// benchmark process ends soon anyway.
func closeMochi(s *mochi.Server) {
	done := make(chan struct{})
	go func() {
		_ = s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(os.Stderr, "mochi: Close did not return in 10 s (mochi issue 488); left behind")
	}
}

// startMosquitto runs mosquitto on a free port for at most 15 minutes.
func startMosquitto(tb testing.TB) (*target, error) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		return nil, errors.New("mosquitto not installed (apt-get install mosquitto)")
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	dir := tb.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	lines := []string{"listener " + port + " 127.0.0.1", "allow_anonymous true", "user root", "log_dest none", "max_connections -1"}
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "-c", conf)
	cmd.WaitDelay = 2 * time.Second
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		cmd.Process.Kill()
		<-done
		cancel()
	}
	if err := waitTCP(addr); err != nil {
		stop()
		return nil, err
	}
	pid := cmd.Process.Pid
	rss := func() uint64 { return procRSS(pid) }
	return &target{name: "mosquitto", addr: addr, mem: rss, rss: rss, stop: stop}, nil
}

func waitTCP(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procRSS reads VmRSS of a process from /proc (Linux), in bytes.
func procRSS(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
