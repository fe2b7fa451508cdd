package mqttbrokerbench

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func report(b *testing.B, r result) {
	b.ReportMetric(r.rate(), "msgs/s")
	b.ReportMetric(float64(r.p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(r.delivered)/float64(max(r.sent, 1))*100, "%delivered")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkThroughput: b.N messages in all, spread over N publishers.
func BenchmarkThroughput(b *testing.B) {
	for _, br := range brokers {
		if br.name == "edgekit-goroutines" {
			continue
		}
		for _, clients := range []int{10, 100} {
			for qos := uint8(0); qos <= 2; qos++ {
				name := br.name + "/qos" + strconv.Itoa(int(qos)) + "/clients" + strconv.Itoa(clients)
				b.Run(name, func(b *testing.B) {
					t, err := br.start(b)
					if err != nil {
						b.Skip(err)
					}
					defer t.stop()
					n := max(b.N/clients, 1)
					r, err := scenario{addr: t.addr, qos: qos, pubs: clients, n: n, window: 20, payload: 64}.run()
					if err != nil {
						b.Fatal(err)
					}
					report(b, r)
				})
			}
		}
	}
}

// BenchmarkFanout: one publisher, 1000 subscribers; b.N/1000 messages
// (at least 20), so b.N is about the deliveries.
func BenchmarkFanout(b *testing.B) {
	for _, br := range brokers {
		if br.name == "edgekit-goroutines" {
			continue
		}
		for _, qos := range []uint8{0, 1} {
			b.Run(br.name+"/qos"+strconv.Itoa(int(qos)), func(b *testing.B) {
				t, err := br.start(b)
				if err != nil {
					b.Skip(err)
				}
				defer t.stop()
				n := max(b.N/1000, 20)
				r, err := scenario{addr: t.addr, qos: qos, pubs: 1, fan: 1000, n: n, window: 20, payload: 64}.run()
				if err != nil {
					b.Fatal(err)
				}
				r.sent = n * 1000
				report(b, r)
			})
		}
	}
}

// goMem is the Go heap in use plus goroutine stacks, after a GC.
func goMem() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

const helperEnv = "EDGEKIT_BENCH_IDLE_CLIENT"

func TestMain(m *testing.M) {
	if addr := os.Getenv(helperEnv); addr != "" {
		idleClients(addr)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// idleClients opens EDGEKIT_BENCH_IDLE_N connections to addr, each after
// CONNECT/CONNACK, prints "ok" and holds them until stdin closes.
func idleClients(addr string) {
	raiseNoFileMax()
	n, _ := strconv.Atoi(os.Getenv("EDGEKIT_BENCH_IDLE_N"))
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	const workers = 32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				c, err := dialMQTT(addr, "idle-"+strconv.Itoa(i))
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				conns[i] = c.nc
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		os.Stdout.WriteString("error " + firstErr.Error() + "\n")
	} else {
		os.Stdout.WriteString("ok\n")
	}
	io.Copy(io.Discard, os.Stdin)
}

// BenchmarkIdleConn reports memory per idle connection with 10,000
// connections held open by a child process.
func BenchmarkIdleConn(b *testing.B) {
	const n = 10000
	raiseNoFileMax()
	for _, br := range brokers {
		if br.name == "edgekit-bigq" {
			continue
		}
		b.Run(br.name+"/conns"+strconv.Itoa(n), func(b *testing.B) {
			t, err := br.start(b)
			if err != nil {
				b.Skip(err)
			}
			defer t.stop()
			time.Sleep(200 * time.Millisecond)
			before, beforeRSS := t.mem(), t.rss()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+t.addr, "EDGEKIT_BENCH_IDLE_N="+strconv.Itoa(n))
			setPdeathsig(cmd)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
			line := make(chan string, 1)
			go func() {
				s, _ := bufio.NewReader(stdout).ReadString('\n')
				line <- strings.TrimSpace(s)
			}()
			select {
			case l := <-line:
				if l != "ok" {
					b.Fatalf("client: %q", l)
				}
			case <-time.After(2 * time.Minute):
				b.Fatal("clients not connected in time")
			}
			time.Sleep(500 * time.Millisecond)
			after, afterRSS := t.mem(), t.rss()
			per := float64(int64(after)-int64(before)) / n
			b.ReportMetric(per, "B/conn")
			b.ReportMetric(float64(int64(afterRSS)-int64(beforeRSS))/n, "RSS-B/conn")
			b.ReportMetric(0, "ns/op")
		})
	}
}
