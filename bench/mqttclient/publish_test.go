package mqttclientbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

const (
	topic    = "bench/gw-17/telemetry"
	inflight = 20
)

var payload = []byte(`{"n":"temp","u":"Cel","v":21.5,"t":1700000000}`)

// startMosquitto runs a mosquitto on a free loopback port for at most 10
// minutes and stops it when b ends.
var brokerPid int

// brokerCPU returns the CPU time the broker used so far (Linux; 0
// elsewhere). With the client's own CPU time per message it shows which
// side limits the rate: on a 2-core machine the broker needs most of one.
func brokerCPU() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(brokerPid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.Atoi(f[11])
	k, _ := strconv.Atoi(f[12])
	return time.Duration(u+k) * 10 * time.Millisecond
}

func startMosquitto(b *testing.B) string {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		b.Skip("mosquitto not installed (Debian package mosquitto): ", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := b.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	lines := []string{"listener " + strconv.Itoa(port) + " 127.0.0.1", "allow_anonymous true", "user root",
		"max_inflight_messages 0", "max_queued_messages 0"}
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "-c", conf)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	brokerPid = cmd.Process.Pid
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if i == 100 {
			b.Fatalf("mosquitto did not start: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publisher is one client under test.
type publisher interface {
	publish(ctx context.Context, qos byte) error
	close()
}

type edgekitPub struct {
	c *client.Client
}

func newEdgekit(b *testing.B, addr string, v mqtt.Version) publisher {
	c, err := client.New(client.Config{Addr: addr, Version: v, CleanStart: true, MaxInflight: inflight, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	return &edgekitPub{c: c}
}

func (e *edgekitPub) publish(ctx context.Context, qos byte) error {
	p := mqtt.Publish{Topic: []byte(topic), QoS: qos, Payload: payload}
	return e.c.Publish(ctx, &p)
}
func (e *edgekitPub) close() { e.c.Close() }

type pahoPub struct{ c *paho.Client }

func newPaho(b *testing.B, addr string) publisher {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := c.Connect(ctx, &paho.Connect{KeepAlive: 30, ClientID: fmt.Sprintf("paho-%d", time.Now().UnixNano()), CleanStart: true})
	if err != nil || ca.ReasonCode != 0 {
		b.Fatal(err, ca)
	}
	return &pahoPub{c: c}
}

func (p *pahoPub) publish(ctx context.Context, qos byte) error {
	_, err := p.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: payload})
	return err
}
func (p *pahoPub) close() { p.c.Disconnect(&paho.Disconnect{}) }

type pahoV3Pub struct{ c pahov3.Client }

func newPahoV3(b *testing.B, addr string) publisher {
	opts := pahov3.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(fmt.Sprintf("pahov3-%d", time.Now().UnixNano())).SetCleanSession(true).SetAutoReconnect(false)
	c := pahov3.NewClient(opts)
	if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		b.Fatal("paho.mqtt.golang connect: ", t.Error())
	}
	return &pahoV3Pub{c: c}
}

func (p *pahoV3Pub) publish(ctx context.Context, qos byte) error {
	t := p.c.Publish(topic, qos, false, payload)
	t.Wait()
	return t.Error()
}
func (p *pahoV3Pub) close() { p.c.Disconnect(100) }

type peer struct {
	name string
	make func(b *testing.B, addr string) publisher
}

var peers = []peer{
	{"edgekit-v5", func(b *testing.B, a string) publisher { return newEdgekit(b, a, mqtt.V5) }},
	{"edgekit-v311", func(b *testing.B, a string) publisher { return newEdgekit(b, a, mqtt.V311) }},
	{"paho.golang-v5", newPaho},
	{"paho.mqtt.golang-v311", newPahoV3},
}

// BenchmarkPublishQoS0: one publisher, b.N QoS 0 messages, then one QoS 1
// message so that the broker has read everything when the clock stops.
func BenchmarkPublishQoS0(b *testing.B) {
	addr := startMosquitto(b)
	for _, pr := range peers {
		b.Run(pr.name, func(b *testing.B) {
			p := pr.make(b, addr)
			defer p.close()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0, self0 := time.Now(), brokerCPU(), processCPU()
			for range b.N {
				if err := p.publish(ctx, 0); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.publish(ctx, 1); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "msg/s")
			b.ReportMetric(float64(brokerCPU()-cpu0)/float64(el), "broker-cpu")
			if self := processCPU() - self0; self > 0 {
				b.ReportMetric(float64(self.Nanoseconds())/float64(b.N), "client-cpu-ns/msg")
			}
		})
	}
}

// BenchmarkPublishQoS1: 20 goroutines each publish and wait for PUBACK,
// so 20 messages are in flight.
func BenchmarkPublishQoS1(b *testing.B) {
	addr := startMosquitto(b)
	for _, pr := range peers {
		b.Run(pr.name, func(b *testing.B) {
			p := pr.make(b, addr)
			defer p.close()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0, self0 := time.Now(), brokerCPU(), processCPU()
			var wg sync.WaitGroup
			per := b.N / inflight
			for g := range inflight {
				n := per
				if g == 0 {
					n += b.N % inflight
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range n {
						if err := p.publish(ctx, 1); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "msg/s")
			b.ReportMetric(float64(brokerCPU()-cpu0)/float64(el), "broker-cpu")
			if self := processCPU() - self0; self > 0 {
				b.ReportMetric(float64(self.Nanoseconds())/float64(b.N), "client-cpu-ns/msg")
			}
		})
	}
}
