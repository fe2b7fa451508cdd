package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// TestGracefulRestart sends a steady stream of NON uploads (no
// retransmission: a lost datagram stays lost) while the gateway gets SIGHUP
// and hands its sockets to a new process; every reading reaches the
// mosquitto upstream.
func TestGracefulRestart(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("hands sockets over to a new process: Unix only")
	}
	bin := buildGateway(t)
	mq := startMosquitto(t)
	col := newCollector(t, mq.Addr, "edge/h1/hup/#")
	dir := t.TempDir()
	coapPort, mqttPort := freePort(t, "udp"), freePort(t, "tcp")
	conf := filepath.Join(dir, "gw.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`
gateway = "h1"
[coap]
listen = "127.0.0.1:%d"
[mqtt]
listen = "127.0.0.1:%d"
[uplink]
addr = %q
store_dir = %q
max_backoff = "200ms"
`, coapPort, mqttPort, mq.Addr, filepath.Join(dir, "store"))), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "gateway.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-config", conf)
	cmd.Stdout, cmd.Stderr = logf, logf // files: the child inherits them, no copier to wait for
	if err := cmd.Start(); err != nil {
		skipExecFormat(t, err)
		t.Fatal(err)
	}
	var childPid int
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if childPid == 0 { // the test failed before it read the new pid
			b, _ := os.ReadFile(logPath)
			if m := regexp.MustCompile(`handed the sockets over to a new process" pid=(\d+)`).FindSubmatch(b); m != nil {
				childPid, _ = strconv.Atoi(string(m[1]))
			}
		}
		if childPid > 0 {
			if p, err := os.FindProcess(childPid); err == nil {
				_ = p.Kill()
			}
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("gateway log:\n%s", b)
		}
	})
	waitFor(t, 10*time.Second, "gateway up", func() bool {
		b, _ := os.ReadFile(logPath)
		return regexp.MustCompile(`uplink connected`).Match(b)
	})

	conn, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(coapPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const N = 3000
	var buf []byte
	hupAt := N / 4
	for i := 0; i < N; i++ {
		m := coap.Message{Type: coap.NonConfirmable, Code: coap.POST, MessageID: coap.MessageID(i), Payload: []byte(strconv.Itoa(i))}
		m.SetPath("/r/hup/seq")
		m.SetContentFormat(coap.TextPlain)
		buf, _ = m.AppendBinary(buf[:0])
		if _, err := conn.Write(buf); err != nil {
			t.Fatal(err)
		}
		if i == hupAt {
			if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("old process: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the old process did not exit after SIGHUP")
	}
	b, _ := os.ReadFile(logPath)
	if m := regexp.MustCompile(`handed the sockets over to a new process" pid=(\d+)`).FindSubmatch(b); m != nil {
		childPid, _ = strconv.Atoi(string(m[1]))
	} else {
		t.Fatal("no handover in the log")
	}
	seen := map[float64]bool{}
	defer func() {
		if t.Failed() {
			var missing []int
			for i := 0; i < N && len(missing) < 50; i++ {
				if !seen[float64(i)] {
					missing = append(missing, i)
				}
			}
			t.Logf("%d/%d readings arrived; missing (first 50): %v", len(seen), N, missing)
		}
	}()
	waitFor(t, 30*time.Second, "every reading across the restart", func() bool {
		for _, p := range col.get("edge/h1/hup/seq") {
			var rd struct{ V float64 }
			if json.Unmarshal(p, &rd) == nil {
				seen[rd.V] = true
			}
		}
		return len(seen) == N
	})
	// The new process serves the broker port too.
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(mqttPort), time.Second)
	if err != nil {
		t.Fatalf("mqtt listener after the restart: %v", err)
	}
	c.Close()
	t.Logf("%d/%d NON readings across the handover to pid %d", len(seen), N, childPid)
	_ = context.Background
}
