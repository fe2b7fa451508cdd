package broker

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// upstreamSub subscribes to filter on the upstream broker at addr and
// counts distinct payloads.
type upstreamSub struct {
	mu   sync.Mutex
	seen map[string]int
	c    *tclient
	done chan struct{}
}

func newUpstreamSub(t *testing.T, addr, filter string, qos uint8) *upstreamSub {
	return newSlowUpstreamSub(t, addr, filter, qos, 0, 0)
}

// newSlowUpstreamSub is newUpstreamSub with a subscriber that stops
// reading for pause after pauseAt messages, as one starved of CPU does: the
// upstream broker must queue for it meanwhile.
func newSlowUpstreamSub(t *testing.T, addr, filter string, qos uint8, pauseAt int, pause time.Duration) *upstreamSub {
	cp := v5("up-sub")
	u := &upstreamSub{seen: make(map[string]int), c: tcpClient(t, addr, cp), done: make(chan struct{})}
	u.c.sub(filter, qos)
	go func() {
		defer close(u.done)
		// A quiet period (the bridge stalled, or the uplink down for a
		// while) does not end the subscriber: its reads are bounded only by
		// an overall deadline (the Framer keeps a read error, so a timed-out
		// read cannot be retried), and the test's cleanup closes it.
		end := time.Now().Add(3 * time.Minute)
		for n := 1; ; n++ {
			if n == pauseAt {
				time.Sleep(pause)
			}
			p, err := u.c.readTimeout(time.Until(end))
			if err != nil {
				return
			}
			if pp, ok := p.(*mqtt.Publish); ok {
				if pp.QoS == 1 {
					if u.c.tryWrite(&mqtt.Ack{Type: mqtt.TypePuback, Version: mqtt.V5, ID: pp.ID}) != nil {
						return // closed by the test's cleanup
					}
				}
				u.mu.Lock()
				u.seen[string(pp.Topic)+" "+string(pp.Payload)]++
				u.mu.Unlock()
			}
		}
	}()
	return u
}

// tryWrite writes p like write, but reports an error instead of failing
// the test: for goroutines that may outlive it.
func (c *tclient) tryWrite(p mqtt.Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.fr.WritePacket(p)
}

func (u *upstreamSub) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

func TestBridgeMosquitto(t *testing.T) {
	up := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	b := newBroker(t, Config{})
	br, err := b.NewBridge(BridgeConfig{
		Name:     "t",
		Upstream: client.Config{Addr: up.Addr(), Version: mqtt.V5, ClientID: "edge-bridge", MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
		Mappings: []BridgeMapping{
			{Filter: "sensors/#", Direction: Out, QoS: 1, RemotePrefix: "gw/"},
			{Filter: "cmd/#", Direction: In, QoS: 1, RemotePrefix: "gw/"},
			{Filter: "both/#", Direction: Both, QoS: 1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	usub := newUpstreamSub(t, up.Addr(), "#", 1)
	local := pipeClient(t, b, v5("local"))
	local.sub("cmd/#", 1)
	local.sub("both/#", 1)
	eventually(t, "bridge subscriptions", func() bool { return b.Stats().Subscriptions >= 4 })
	time.Sleep(300 * time.Millisecond) // the upstream SUBSCRIBE

	// Out: local sensors/1 -> upstream gw/sensors/1.
	local.pubAcked("sensors/1", "21.5", 1, false, 1)
	eventually(t, "out", func() bool { usub.mu.Lock(); defer usub.mu.Unlock(); return usub.seen["gw/sensors/1 21.5"] == 1 })

	// In: upstream gw/cmd/x -> local cmd/x.
	upc := tcpClient(t, up.Addr(), v5("up-pub"))
	upc.pubAcked("gw/cmd/x", "on", 1, false, 1)
	if p := local.recv(); string(p.Topic) != "cmd/x" || string(p.Payload) != "on" {
		t.Fatalf("%+v", p)
	}

	// Both, without loops: one copy each way.
	local.pubAcked("both/a", "from-local", 1, false, 2)
	if p := local.recv(); string(p.Payload) != "from-local" {
		t.Fatal(p)
	}
	upc.pubAcked("both/b", "from-up", 1, false, 2)
	if p := local.recv(); string(p.Payload) != "from-up" {
		t.Fatal(p)
	}
	time.Sleep(300 * time.Millisecond)
	local.none(200 * time.Millisecond)
	usub.mu.Lock()
	if usub.seen["both/a from-local"] != 1 || usub.seen["both/b from-up"] != 1 {
		t.Fatalf("loop: %v", usub.seen)
	}
	usub.mu.Unlock()
	if st := br.Stats(); st.Out < 2 || st.In < 2 || st.Failed != 0 {
		t.Fatalf("%+v", st)
	}
}

// TestBridgeStoreAndForward: the uplink goes away (the upstream broker is
// stopped) while local QoS 1 messages keep coming; they are stored by the
// bridge's file store and all arrive once a broker is back.
func TestBridgeStoreAndForward(t *testing.T) {
	testutil.NeedPeer(t, "mosquitto")
	var addr atomic.Value
	up1 := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	addr.Store(up1.Addr())
	st, err := filestore.Open(t.TempDir(), filestore.Config{Sync: filestore.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := newBroker(t, Config{})
	br, err := b.NewBridge(BridgeConfig{
		Name: "sf",
		Upstream: client.Config{
			Dialer: func(ctx context.Context) (io.ReadWriteCloser, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", addr.Load().(string))
			},
			Version: mqtt.V5, ClientID: "edge-sf", SessionExpiry: 3600, Store: st,
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		},
		Mappings: []BridgeMapping{{Filter: "data/#", Direction: Out, QoS: 1, RemotePrefix: "gw/"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	eventually(t, "upstream connected", func() bool { return br.Upstream().Connected })
	up1.Stop()
	const n = 2000
	pub := pipeClient(t, b, v5("producer"))
	for i := range n {
		pub.pubAcked("data/x", strconv.Itoa(i), 1, false, mqtt.PacketID(i%60000+1))
	}
	eventually(t, "all stored", func() bool { return br.Stats().Out == n })
	// 2000 stored messages arrive at once: no mosquitto queue limit (the
	// default, 1000, drops messages for a subscriber that falls behind).
	up2 := testutil.StartMosquitto(t, testutil.MosquittoConfig{Extra: []string{"max_queued_messages 0"}})
	usub := newUpstreamSub(t, up2.Addr(), "gw/#", 1)
	addr.Store(up2.Addr())
	deadline := time.Now().Add(60 * time.Second)
	for usub.count() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if c := usub.count(); c != n {
		t.Fatalf("upstream got %d of %d messages", c, n)
	}
}

// cutProxy forwards TCP connections to target and cuts them on demand.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestBridgeLinkCuts sends 10,000 QoS 1 messages through the bridge while
// the uplink is cut again and again: none is lost.
//
// The link is cut every 500 published messages (EDGEKIT_BRIDGE_CUTS=N: every
// N), then every 150 ms while the stored messages go upstream.
func TestBridgeLinkCuts(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	// No mosquitto queue limit: a slow upstream subscriber must not lose
	// messages upstream (the default max_queued_messages is 1000).
	up := testutil.StartMosquitto(t, testutil.MosquittoConfig{Extra: []string{"max_queued_messages 0"}})
	proxy := newCutProxy(t, up.Addr())
	st, err := filestore.Open(t.TempDir(), filestore.Config{Sync: filestore.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := newBroker(t, Config{MaxQueuedMessages: 20000, MaxQueuedBytes: 16 << 20, PublishRate: -1})
	br, err := b.NewBridge(BridgeConfig{
		Name: "cuts",
		Upstream: client.Config{Addr: proxy.ln.Addr().String(), Version: mqtt.V5, ClientID: "edge-cuts",
			SessionExpiry: 3600, Store: st, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		Mappings: []BridgeMapping{{Filter: "data/#", Direction: Out, QoS: 1, RemotePrefix: "gw/"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	// The subscriber falls behind once by far more than mosquitto's default
	// queue (20 in flight + 1000 queued): under CPU load it does so by
	// itself, and mosquitto then dropped messages silently.
	usub := newSlowUpstreamSub(t, up.Addr(), "gw/#", 1, 50, 2*time.Second)
	eventually(t, "upstream connected", func() bool { return br.Upstream().Connected })
	const n = 10000
	const cutPeriod = 150 * time.Millisecond
	cutEvery := 500
	if v, err := strconv.Atoi(os.Getenv("EDGEKIT_BRIDGE_CUTS")); err == nil && v > 1 {
		cutEvery = v // messages between cuts
	}
	cuts := 0
	pub := pipeClient(t, b, v5("producer"))
	for i := range n {
		pub.pubAcked("data/x", strconv.Itoa(i), 1, false, mqtt.PacketID(i%60000+1))
		if i%cutEvery == cutEvery/2 {
			proxy.cut()
			cuts++
		}
	}
	// Keep cutting while the stored messages go up.
	deadline := time.Now().Add(90 * time.Second)
	for last := time.Now(); usub.count() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		if time.Since(last) >= cutPeriod {
			proxy.cut()
			cuts++
			last = time.Now()
		}
	}
	if c := usub.count(); c != n {
		t.Errorf("upstream got %d of %d messages", c, n)
		logBridgeState(t, b, br)
		t.FailNow()
	}
	t.Logf("10,000 messages, %d link cuts, upstream client %+v", cuts, br.Upstream())
}

// bridgeChild runs a broker (FileStore in dir/broker) with a bridge to
// upstream (file store in dir/bridge) on addr until killed.
func bridgeChild(dir, addr, upstream string) {
	fail := func(err error) { os.Stdout.WriteString("error " + err.Error() + "\n") }
	fs, err := NewFileStore(dir+"/broker", FileStoreConfig{Sync: SyncNever})
	if err != nil {
		fail(err)
		return
	}
	b, err := New(Config{Store: fs, SysInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fail(err)
		return
	}
	st, err := filestore.Open(dir+"/bridge", filestore.Config{Sync: filestore.SyncNever})
	if err != nil {
		fail(err)
		return
	}
	_, err = b.NewBridge(BridgeConfig{
		Name: "kill",
		Upstream: client.Config{Addr: upstream, Version: mqtt.V5, ClientID: "edge-kill", SessionExpiry: 3600, Store: st,
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Mappings: []BridgeMapping{{Filter: "data/#", Direction: Out, QoS: 1, RemotePrefix: "gw/"}},
	})
	if err != nil {
		fail(err)
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err)
		return
	}
	os.Stdout.WriteString("ready\n")
	b.Serve(ln)
}

// TestBridgeSIGKILL: with the upstream down, a gateway (broker + bridge,
// both persistent) acknowledges QoS 1 messages and is killed with SIGKILL;
// restarted, it delivers every one of them once the upstream is up.
func TestBridgeSIGKILL(t *testing.T) {
	testutil.NeedPeer(t, "mosquitto")
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL here")
	}
	freeAddr := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	upAddr, gwAddr := freeAddr(), freeAddr()
	dir := t.TempDir()
	start := func() *helper {
		h := startHelper(t, "bridge", dir, gwAddr, upAddr)
		if line := h.readLine(t, 30*time.Second); line != "ready" {
			t.Fatalf("child: %q", line)
		}
		return h
	}
	h := start()
	const n = 500
	pub := tcpClient(t, gwAddr, v5("producer"))
	for i := range n {
		if code := pub.pubAcked("data/x", strconv.Itoa(i), 1, false, mqtt.PacketID(i+1)); code.IsError() {
			t.Fatal(code)
		}
	}
	h.kill() // SIGKILL, some messages in the broker's queue, some in the bridge's store
	_, port, _ := net.SplitHostPort(upAddr)
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	os.WriteFile(conf, []byte("listener "+port+" 127.0.0.1\nallow_anonymous true\nuser root\nmax_queued_messages 0\n"), 0o600)
	testutil.StartPeer(t, testutil.PeerConfig{Name: "mosquitto", Args: []string{"-c", conf}, Addr: upAddr,
		Ready: testutil.TCPReady(upAddr)})
	usub := newUpstreamSub(t, upAddr, "gw/#", 1)
	h = start()
	deadline := time.Now().Add(60 * time.Second)
	for usub.count() < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if c := usub.count(); c != n {
		t.Fatalf("upstream got %d of %d messages acknowledged before the kill", c, n)
	}
	h.kill()
}

// logBridgeState logs the local broker's, the bridge's and both of its
// clients' counters, and the bridge session's queue and window.
func logBridgeState(t *testing.T, b *Broker, br *Bridge) {
	t.Helper()
	t.Logf("local broker: %+v", b.Stats())
	id := "$bridge/" + br.cfg.Name
	cs, ok := b.ClientStats(id)
	t.Logf("local session %s (%v): %+v", id, ok, cs)
	t.Logf("bridge: %+v", br.Stats())
	t.Logf("bridge local client: %+v", br.local.Stats())
	t.Logf("bridge upstream client: %+v", br.Upstream())
	b.mu.RLock()
	s := b.sessions[id]
	b.mu.RUnlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]mqtt.PacketID, 0, len(s.inflight))
	for _, o := range s.inflight {
		ids = append(ids, o.id)
	}
	if c := s.conn; c != nil {
		t.Logf("session conn: writing=%v dead=%v resend=%v window=%d ctrl=%d bytes; queued %d; in flight %v",
			c.writing, c.dead, c.resend, c.window, len(c.ctrl), s.qlen(), ids)
	} else {
		t.Logf("session offline; queued %d; in flight %v", s.qlen(), ids)
	}
}
