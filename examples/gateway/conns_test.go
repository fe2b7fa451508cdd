package main

import (
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// BenchmarkBrokerConnections measures the memory the gateway's embedded
// broker holds per idle MQTT 3.1.1 connection (CONNECT + one SUBSCRIBE,
// accepted by Serve, so read by the epoll event loop where available).
// CONNS sets the number (default 5000; this container's open-file limit
// caps it near 9,000: each connection costs two descriptors here, client
// and server). It reports heap+stack bytes per connection, measured
// in-process (the clients' side is included) after a GC, and the process
// RSS growth per connection.
//
//	CONNS=9000 go test -run XXX -bench BrokerConnections -benchtime 1x .
func BenchmarkBrokerConnections(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("CONNS")); err == nil && v > 0 {
		n = v
	}
	g, _ := startGatewayTB(b, `
gateway = "conns"
log_level = "warn"
[mqtt]
listen = "127.0.0.1:0"
max_connections = 200000
`)
	addr := g.MQTTAddr()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rss0 := rss()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	connack := make([]byte, 4)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			b.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		cp := mqtt.Connect{Version: mqtt.V311, CleanStart: true, KeepAlive: 0, ClientID: []byte("c" + strconv.Itoa(i))}
		pkt, _ := cp.AppendBinary(nil)
		sub := mqtt.Subscribe{ID: 1, Filters: []mqtt.Subscription{{Filter: []byte("edge/conns/+/$cmd/#"), QoS: 1}}}
		pkt, _ = sub.AppendBinary(pkt)
		if _, err := c.Write(pkt); err != nil {
			b.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, connack); err != nil || connack[0] != 0x20 {
			b.Fatalf("connection %d: CONNACK %x %v", i, connack, err)
		}
	}
	waitFor(b, 30*time.Second, "every connection and subscription", func() bool {
		st := g.broker.Stats()
		return st.Connections >= int64(n) && st.Subscriptions >= n
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)
	b.ReportMetric(heap/float64(n), "heap+stack-B/conn")
	if r0, r1 := rss0, rss(); r0 > 0 && r1 > r0 {
		b.ReportMetric(float64(r1-r0)/float64(n), "rss-B/conn")
	}
	b.ReportMetric(float64(n), "conns")
	b.Logf("%d connections: heap+stack %.1f MiB (%.0f B/conn); event loop %v; extrapolated to 100,000: %.0f MiB",
		n, heap/(1<<20), heap/float64(n), g.broker.Stats().EventLoop, heap/float64(n)*100000/(1<<20))
}

// rss returns the resident set size in bytes (Linux), or 0.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var f [2]int64
	i := 0
	for _, field := range splitFields(string(b)) {
		if i == 2 {
			break
		}
		v, _ := strconv.ParseInt(field, 10, 64)
		f[i] = v
		i++
	}
	return f[1] * int64(os.Getpagesize())
}

func splitFields(s string) []string {
	var out []string
	start := -1
	for i, c := range s {
		if c == ' ' || c == '\n' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
