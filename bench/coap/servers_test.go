package coapbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/endpoint"
	gocoapmsg "github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	gocoapmux "github.com/plgd-dev/go-coap/v3/mux"
	gocoapnet "github.com/plgd-dev/go-coap/v3/net"
	"github.com/plgd-dev/go-coap/v3/options"
	gocoapudp "github.com/plgd-dev/go-coap/v3/udp"
)

// timePayload is what the in-process servers answer to GET /time: the
// length of libcoap's answer ("Nov 23 08:04:05" style, 15 bytes).
var timePayload = []byte("Nov 23 08:04:05")

// server is a CoAP server under test. start returns its address; rss
// returns its resident set in bytes when it is a separate process (0
// otherwise).
type server struct {
	name  string
	start func() (netip.AddrPort, error)
	rss   func() int64
}

// running holds the servers started so far, stopped by TestMain.
var running struct {
	sync.Mutex
	addrs map[string]netip.AddrPort
	stops []func()
}

// startOnce starts s the first time a benchmark needs it; later calls
// return the same address.
func startOnce(s server) (netip.AddrPort, error) {
	running.Lock()
	defer running.Unlock()
	if a, ok := running.addrs[s.name]; ok {
		return a, nil
	}
	a, err := s.start()
	if err != nil {
		return a, err
	}
	if running.addrs == nil {
		running.addrs = make(map[string]netip.AddrPort)
	}
	running.addrs[s.name] = a
	return a, nil
}

func onStop(f func()) {
	running.stops = append(running.stops, f)
}

func TestMain(m *testing.M) {
	code := m.Run()
	running.Lock()
	for i := len(running.stops) - 1; i >= 0; i-- {
		running.stops[i]()
	}
	running.Unlock()
	os.Exit(code)
}

// edgekitServer is coap/endpoint on a plain UDP socket.
func edgekitServer() (netip.AddrPort, error) {
	mux := endpoint.NewMux()
	mux.HandleFunc(coap.GET, "/time", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		w.SetContentFormat(coap.TextPlain)
		w.Write(timePayload)
	})
	ep, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{Handler: mux})
	if err != nil {
		return netip.AddrPort{}, err
	}
	onStop(func() { ep.Close() })
	return ep.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

// goCoAPServer is github.com/plgd-dev/go-coap/v3's UDP server with its mux.
func goCoAPServer() (netip.AddrPort, error) {
	r := gocoapmux.NewRouter()
	if err := r.Handle("/time", gocoapmux.HandlerFunc(func(w gocoapmux.ResponseWriter, _ *gocoapmux.Message) {
		_ = w.SetResponse(codes.Content, gocoapmsg.TextPlain, bytes.NewReader(timePayload))
	})); err != nil {
		return netip.AddrPort{}, err
	}
	l, err := gocoapnet.NewListenUDP("udp4", "127.0.0.1:0")
	if err != nil {
		return netip.AddrPort{}, err
	}
	s := gocoapudp.NewServer(options.WithMux(r))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	onStop(func() {
		s.Stop()
		<-done
		l.Close()
	})
	return l.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

// peerLifetime bounds how long a server process may run.
const peerLifetime = 15 * time.Minute

// libcoapProc is the running libcoap server, for its resident set.
var libcoapProc struct {
	sync.Mutex
	pid int
}

// libcoapServer starts coap-server-notls on a free loopback port, waits
// until it answers a CoAP ping, and stops it (SIGKILL, by process id) at
// the end of the run or when peerLifetime passes.
func libcoapServer() (netip.AddrPort, error) {
	path, err := exec.LookPath("coap-server-notls")
	if err != nil {
		return netip.AddrPort{}, errSkip{"coap-server-notls not installed (apt-get install libcoap3-bin)"}
	}
	var lastErr error
	for range 3 { // another process may take the free port first
		port, err := freeUDPPort()
		if err != nil {
			return netip.AddrPort{}, err
		}
		addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
		ctx, cancel := context.WithTimeout(context.Background(), peerLifetime)
		cmd := exec.CommandContext(ctx, path, "-A", "127.0.0.1", "-p", strconv.Itoa(port), "-v", "0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			cancel()
			return netip.AddrPort{}, err
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			cancel() // kills the process
			<-exited
		}
		if err := waitPing(addr, exited, 5*time.Second); err != nil {
			stop()
			lastErr = fmt.Errorf("coap-server-notls: %w; output:\n%s", err, out.String())
			continue
		}
		libcoapProc.Lock()
		libcoapProc.pid = cmd.Process.Pid
		libcoapProc.Unlock()
		onStop(stop)
		return addr, nil
	}
	return netip.AddrPort{}, lastErr
}

// errSkip is a reason to skip a benchmark.
type errSkip struct{ why string }

func (e errSkip) Error() string { return e.why }

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// waitPing sends CoAP pings (empty CON) to addr until one is answered with a
// RST, the process exits, or d passes.
func waitPing(addr netip.AddrPort, exited <-chan struct{}, d time.Duration) error {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(d)
	var buf [64]byte
	for mid := uint16(1); time.Now().Before(deadline); mid++ {
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		default:
		}
		if _, err := c.Write([]byte{0x40, 0, byte(mid >> 8), byte(mid)}); err != nil {
			time.Sleep(25 * time.Millisecond)
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Read(buf[:])
		if err == nil && n == 4 && buf[0] == 0x70 && buf[2] == byte(mid>>8) && buf[3] == byte(mid) {
			return nil
		}
	}
	return errors.New("no answer to CoAP ping")
}

// libcoapRSS returns the resident set of the libcoap server from
// /proc/PID/status (Linux), or 0.
func libcoapRSS() int64 {
	libcoapProc.Lock()
	pid := libcoapProc.pid
	libcoapProc.Unlock()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

var servers = []server{
	{name: "edgekit", start: edgekitServer},
	{name: "go-coap", start: goCoAPServer},
	{name: "libcoap", start: libcoapServer, rss: libcoapRSS},
}

// clientCounts are the numbers of concurrent clients; 16 is the headline.
var clientCounts = []int{1, 16}

// warmup is how many requests warm a server up before each measurement.
const warmup = 2000

func BenchmarkCoAPServer(b *testing.B) {
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			for _, n := range clientCounts {
				b.Run("clients="+strconv.Itoa(n), func(b *testing.B) {
					benchServer(b, srv, n)
				})
			}
		})
	}
}

// steadyWarmup exceeds endpoint.Config.MaxDedup (65536): after it, the
// deduplication table of edgekit is full and stays at its bound.
const steadyWarmup = 70000

// BenchmarkCoAPServerSteady measures the in-process servers after a warm-up
// of steadyWarmup requests (done once per server), so that retained-B/req
// shows growth beyond what the deduplication state needs when it is full:
// the "no memory growth per completed request" bar.
func BenchmarkCoAPServerSteady(b *testing.B) {
	for _, srv := range servers {
		if srv.rss != nil {
			continue
		}
		b.Run(srv.name, func(b *testing.B) {
			b.Run("clients=16", func(b *testing.B) {
				if err := warmOnce(srv, steadyWarmup); err != nil {
					b.Fatal(err)
				}
				benchServer(b, srv, 16)
			})
		})
	}
}

var warmed = map[string]bool{}

// warmOnce sends n requests to srv the first time it is called for it.
func warmOnce(srv server, n int) error {
	if warmed[srv.name] {
		return nil
	}
	addr, err := startOnce(srv)
	if err != nil {
		return err
	}
	g, err := newLoadGen(addr, 16)
	if err != nil {
		return err
	}
	defer g.close()
	if _, err := g.run(n); err != nil {
		return err
	}
	warmed[srv.name] = true
	return nil
}

func benchServer(b *testing.B, srv server, clients int) {
	addr, err := startOnce(srv)
	var skip errSkip
	if errors.As(err, &skip) {
		b.Skip(skip.why)
	}
	if err != nil {
		b.Fatal(err)
	}
	g, err := newLoadGen(addr, clients)
	if err != nil {
		b.Fatal(err)
	}
	defer g.close()
	if _, err := g.run(warmup); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	g.reserve(b.N)
	var rss0 int64
	if srv.rss != nil {
		rss0 = srv.rss()
	}
	heap0 := heapInUse()
	b.ReportAllocs()
	b.ResetTimer()
	r, err := g.run(b.N)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	heap1 := heapInUse()
	r.lat = g.latencies()
	b.ReportMetric(r.reqPerSec(), "req/s")
	b.ReportMetric(float64(r.percentile(0.50).Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(r.percentile(0.99).Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(float64(r.timeouts), "timeouts")
	if srv.rss != nil {
		b.ReportMetric(float64(srv.rss()-rss0)/float64(b.N), "rss-B/req")
	} else {
		b.ReportMetric((float64(heap1)-float64(heap0))/float64(b.N), "retained-B/req")
	}
	if b.N >= 1000 && r.timeouts*100 > int64(b.N) {
		b.Errorf("%d of %d requests timed out", r.timeouts, b.N)
	}
}

// TestServersAnswer checks, quickly, that every server answers the load
// generator's request as the benchmark expects.
func TestServersAnswer(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			addr, err := startOnce(srv)
			var skip errSkip
			if errors.As(err, &skip) {
				t.Skip(skip.why)
			}
			if err != nil {
				t.Fatal(err)
			}
			g, err := newLoadGen(addr, 4)
			if err != nil {
				t.Fatal(err)
			}
			defer g.close()
			r, err := g.run(200)
			if err != nil {
				t.Fatal(err)
			}
			if r.done != 200 || r.timeouts != 0 {
				t.Fatalf("%d done, %d timeouts", r.done, r.timeouts)
			}
			if lat := g.latencies(); len(lat) != 200 || lat[0] <= 0 {
				t.Fatalf("latencies %d", len(lat))
			}
		})
	}
}
