package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// This nested module cannot import internal/testutil, so it carries a small,
// bounded copy of what it needs: find a peer binary (skip, or fail under
// EDGEKIT_PEERS=require), start it with a lifetime, stop it by its pid.

func needPeer(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("EDGEKIT_PEERS") == "require" {
			t.Fatalf("peer %s is required (EDGEKIT_PEERS=require) but not installed: %v", bin, err)
		}
		t.Skipf("peer %s not installed (apt-get install -y %s): %v", bin, debPackage(bin), err)
	}
	return p
}

func debPackage(bin string) string {
	switch {
	case strings.HasPrefix(bin, "coap-"):
		return "libcoap3-bin"
	case bin == "mosquitto":
		return "mosquitto"
	}
	return bin
}

func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mosquitto is a running mosquitto broker on loopback.
type mosquitto struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() < 1<<20 {
		s.b.Write(p)
	}
	return len(p), nil
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMosquitto starts mosquitto on a free port for at most two minutes;
// it is stopped when the test ends.
func startMosquitto(t testing.TB, extra ...string) *mosquitto {
	t.Helper()
	bin := needPeer(t, "mosquitto")
	dir := t.TempDir()
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t, "tcp")
		conf := filepath.Join(dir, "mosquitto.conf")
		lines := append([]string{"listener " + strconv.Itoa(port) + " 127.0.0.1", "allow_anonymous true", "log_dest stderr", "user root"}, extra...)
		if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		m := &mosquitto{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{}), out: &syncBuf{}}
		m.cmd = exec.CommandContext(ctx, bin, "-c", conf)
		m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
		if err := m.cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		go func() { _ = m.cmd.Wait(); cancel(); close(m.done) }()
		if waitTCP(m.Addr, m.done, 5*time.Second) {
			t.Cleanup(func() {
				_ = m.cmd.Process.Kill()
				<-m.done
				if t.Failed() {
					t.Logf("mosquitto output:\n%s", m.out.String())
				}
			})
			return m
		}
		_ = m.cmd.Process.Kill()
		<-m.done
		if !strings.Contains(m.out.String(), "in use") {
			t.Fatalf("mosquitto did not start:\n%s", m.out.String())
		}
	}
	t.Fatal("mosquitto: no free port after 3 attempts")
	return nil
}

func waitTCP(addr string, done <-chan struct{}, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// proxy is a TCP proxy whose link can be cut (every connection closed and
// new ones refused) and restored: an uplink outage on loopback.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.setCut(true)
		p.wg.Wait()
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[u] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(u, c)
		go pipe(c, u)
	}
}

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runCoAPClient runs libcoap's coap-client-notls (exit status is always 0:
// its output tells).
func runCoAPClient(t testing.TB, args ...string) string {
	t.Helper()
	bin := needPeer(t, "coap-client-notls")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("coap-client-notls %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var _ = fmt.Sprint
