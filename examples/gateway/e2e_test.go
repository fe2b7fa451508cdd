package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/endpoint"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// startGateway runs the gateway in-process with the given TOML config and
// extra flags until the test ends.
func startGateway(t *testing.T, toml string, flags ...string) (*Gateway, string) {
	t.Helper()
	return startGatewayTB(t, toml, flags...)
}

func startGatewayTB(t testing.TB, toml string, flags ...string) (*Gateway, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan started, 1)
	done := make(chan error, 1)
	logs := &syncBuf{}
	go func() { done <- run(ctx, append([]string{"-config", path}, flags...), logs, ready) }()
	var st started
	select {
	case st = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("gateway did not start: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("gateway did not start in 20 s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("gateway did not stop in 20 s")
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	httpAddr := ""
	if st.http != nil {
		httpAddr = st.http.String()
	}
	return st.g, httpAddr
}

// collector subscribes to a broker and records what arrives.
type collector struct {
	mu   sync.Mutex
	msgs map[string][][]byte
	c    *client.Client
}

func newCollector(t *testing.T, addr, filter string) *collector {
	t.Helper()
	return newCollectorID(t, addr, "collector", filter)
}

// newCollectorID is newCollector with a client identifier of its own.
func newCollectorID(t *testing.T, addr, id, filter string) *collector {
	t.Helper()
	col := &collector{msgs: map[string][][]byte{}}
	// A large Receive Maximum and a session that outlives a reconnect: the
	// collector must not lose anything itself.
	c, err := client.New(client.Config{Addr: addr, Version: mqtt.V5, ClientID: id, CleanStart: true,
		SessionExpiry: 600, ReceiveMaximum: 4096, DeliveryQueue: 4096,
		Handler: func(m *mqtt.Publish) {
			col.mu.Lock()
			col.msgs[string(m.Topic)] = append(col.msgs[string(m.Topic)], bytes.Clone(m.Payload))
			col.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, nil, mqtt.Subscription{Filter: []byte(filter), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	col.c = c
	return col
}

func (c *collector) get(topic string) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.msgs[topic]...)
}

func (c *collector) has(topic string) bool { return len(c.get(topic)) > 0 }

// TestEndToEnd: CoAP devices (our endpoint and libcoap's coap-client)
// publish through the gateway to a mosquitto upstream; a command from
// upstream becomes a CoAP PUT and its result comes back; the upstream is cut
// and restored with nothing lost at QoS 1; the status API shows it all.
func TestEndToEnd(t *testing.T) {
	mq := startMosquitto(t)
	px := startProxy(t, mq.Addr)
	col := newCollector(t, mq.Addr, "edge/#")
	store := t.TempDir()
	g, httpAddr := startGateway(t, fmt.Sprintf(`
gateway = "t1"
log_level = "debug"
[coap]
listen = "127.0.0.1:0"
[mqtt]
listen = "127.0.0.1:0"
[uplink]
addr = %q
store_dir = %q
max_backoff = "200ms"
[http]
listen = "127.0.0.1:0"
[devices]
state_interval = "100ms"
`, px.Addr(), store))
	waitFor(t, 10*time.Second, "uplink connected", func() bool { return g.up.Stats().Connected })
	gwAddr := g.CoAPAddr()

	// A device on our CoAP endpoint, serving PUT /led.
	var led sync.Map
	mux := endpoint.NewMux()
	mux.HandleFunc(coap.PUT, "/led", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		led.Store("led", string(r.Body))
		w.SetCode(coap.Changed)
		_, _ = w.WriteString("ok:" + string(r.Body))
	})
	dev, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{Handler: mux})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	body := []byte(`[{"bn":"urn:dev:dev1:","n":"temperature","u":"Cel","v":21.5},{"n":"humidity","u":"%RH","v":40}]`)
	resp, err := dev.Post(ctx, gwAddr, "/r/dev1", coap.AppSenMLJSON, body)
	if err != nil || resp.Code() != coap.Changed {
		t.Fatalf("POST SenML: %v %v", resp, err)
	}
	// SenML CBOR too.
	cb := appendSenMLCBOR(nil, "", []reading{{Quantity: "pressure", Unit: "Pa", Num: 101325, Time: 1.7e9}})
	if resp, err := dev.Post(ctx, gwAddr, "/r/dev1", coap.AppSenMLCBOR, cb); err != nil || resp.Code() != coap.Changed {
		t.Fatalf("POST SenML CBOR: %v %v", resp, err)
	}
	waitFor(t, 10*time.Second, "dev1 readings upstream", func() bool {
		return col.has("edge/t1/dev1/temperature") && col.has("edge/t1/dev1/humidity") && col.has("edge/t1/dev1/pressure")
	})
	var rd struct {
		V float64 `json:"v"`
		U string  `json:"u"`
		T float64 `json:"t"`
	}
	if err := json.Unmarshal(col.get("edge/t1/dev1/temperature")[0], &rd); err != nil || rd.V != 21.5 || rd.U != "Cel" || rd.T < 1e9 {
		t.Fatalf("temperature payload %s: %+v %v", col.get("edge/t1/dev1/temperature")[0], rd, err)
	}
	if err := json.Unmarshal(col.get("edge/t1/dev1/pressure")[0], &rd); err != nil || rd.V != 101325 || rd.U != "Pa" {
		t.Fatalf("pressure payload %s", col.get("edge/t1/dev1/pressure")[0])
	}
	waitFor(t, 10*time.Second, "dev1 shadow upstream", func() bool { return col.has("edge/t1/dev1/$state") })
	var state struct {
		Status  string `json:"status"`
		Version uint64 `json:"version"`
		Values  map[string]struct {
			V float64 `json:"v"`
		} `json:"values"`
	}
	states := col.get("edge/t1/dev1/$state")
	if err := json.Unmarshal(states[len(states)-1], &state); err != nil || state.Status != "online" || state.Version == 0 {
		t.Fatalf("state %s: %v", states[len(states)-1], err)
	}

	// libcoap's client: a plain value and a SenML JSON pack.
	port := strconv.Itoa(int(gwAddr.Port()))
	out := runCoAPClient(t, "-m", "post", "-e", "23.25", "coap://127.0.0.1:"+port+"/r/libcoap-1/temperature")
	out += runCoAPClient(t, "-m", "put", "-t", "110", "-e", `[{"n":"co2","u":"ppm","v":612}]`, "coap://127.0.0.1:"+port+"/r/libcoap-1")
	waitFor(t, 10*time.Second, "libcoap readings upstream", func() bool {
		return col.has("edge/t1/libcoap-1/temperature") && col.has("edge/t1/libcoap-1/co2")
	})
	if err := json.Unmarshal(col.get("edge/t1/libcoap-1/temperature")[0], &rd); err != nil || rd.V != 23.25 {
		t.Fatalf("libcoap temperature %s (client said %q)", col.get("edge/t1/libcoap-1/temperature")[0], out)
	}

	// A command from upstream: MQTT -> CoAP PUT -> reply upstream.
	pub, err := client.New(client.Config{Addr: mq.Addr, Version: mqtt.V5, ClientID: "commander"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, &mqtt.Publish{Topic: []byte("edge/t1/dev1/$cmd/led"), Payload: []byte("on"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "command reply upstream", func() bool { return col.has("edge/t1/dev1/$reply/led") })
	var rep struct {
		OK   bool   `json:"ok"`
		Code string `json:"code"`
		Body string `json:"body"`
	}
	if err := json.Unmarshal(col.get("edge/t1/dev1/$reply/led")[0], &rep); err != nil || !rep.OK || rep.Code != "2.04" || rep.Body != "ok:on" {
		t.Fatalf("reply %s: %v", col.get("edge/t1/dev1/$reply/led")[0], err)
	}
	if v, _ := led.Load("led"); v != "on" {
		t.Fatalf("device led = %v", v)
	}
	// A command to an unknown device fails with a reply.
	_ = pub.Publish(ctx, &mqtt.Publish{Topic: []byte("edge/t1/nosuch/$cmd/led"), Payload: []byte("on"), QoS: 1})
	waitFor(t, 10*time.Second, "unknown-device reply", func() bool { return col.has("edge/t1/nosuch/$reply/led") })
	if !bytes.Contains(col.get("edge/t1/nosuch/$reply/led")[0], []byte(`"ok":false`)) {
		t.Fatalf("unknown device reply %s", col.get("edge/t1/nosuch/$reply/led")[0])
	}

	// Uplink outage: cut, publish N readings, restore: all N arrive.
	px.setCut(true)
	waitFor(t, 10*time.Second, "uplink down", func() bool { return !g.up.Stats().Connected })
	const N = 300
	for i := 0; i < N; i++ {
		if resp, err := dev.Post(ctx, gwAddr, "/r/outage/seq", coap.TextPlain, []byte(strconv.Itoa(i))); err != nil || resp.Code() != coap.Changed {
			t.Fatalf("post %d: %v %v", i, resp, err)
		}
	}
	waitFor(t, 10*time.Second, "readings stored while offline", func() bool { return g.up.Stats().Stored >= N })
	if col.has("edge/t1/outage/seq") {
		t.Fatal("readings crossed a cut uplink")
	}
	px.setCut(false)
	seen := map[int]bool{}
	waitFor(t, 30*time.Second, "all readings after the outage", func() bool {
		for _, p := range col.get("edge/t1/outage/seq") {
			if err := json.Unmarshal(p, &rd); err == nil {
				seen[int(rd.V)] = true
			}
		}
		return len(seen) == N
	})
	t.Logf("outage: %d/%d readings delivered after restore (%d messages incl. duplicates)", len(seen), N, len(col.get("edge/t1/outage/seq")))

	// The local broker has the same data, and the status API reports it.
	res, err := http.Get("http://" + httpAddr + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var st status
	if err := json.Unmarshal(sb, &st); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range st.Devices {
		names[d.Name] = d.Online
	}
	if !names["dev1"] || !names["libcoap-1"] || !names["outage"] || !st.Uplink.Connected || st.Count["readings"] < N+5 {
		t.Fatalf("status: %s", sb)
	}
	res, err = http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(mb, []byte("edgekit_gateway_readings_total ")) || !bytes.Contains(mb, []byte("edgekit_gateway_uplink_connected 1")) {
		t.Fatalf("metrics lack gateway series:\n%.2000s", mb)
	}
}

// TestLocalCommandAndMesh runs the demo's mesh side: readings from mesh
// nodes reach a local MQTT client, and a local command becomes a Generic
// OnOff Set whose status comes back on the reply topic.
func TestLocalCommandAndMesh(t *testing.T) {
	g, _ := startGateway(t, `
gateway = "m1"
[coap]
listen = "127.0.0.1:0"
[mqtt]
listen = "127.0.0.1:0"
[demo]
coap_sensors = 2
mesh_nodes = 2
interval = "200ms"
`, "-demo", "-quiet")
	col := newCollector(t, g.MQTTAddr(), "edge/#")
	waitFor(t, 15*time.Second, "mesh and CoAP readings", func() bool {
		return col.has("edge/m1/mesh-0100/temperature") && col.has("edge/m1/mesh-0101/temperature") &&
			col.has("edge/m1/coap-sensor-1/temperature") && col.has("edge/m1/coap-sensor-2/humidity")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := &mqtt.Publish{Topic: []byte("edge/m1/mesh-0101/$cmd/onoff"), Payload: []byte("on"), QoS: 1}
	p.Props.SetBytes(mqtt.PropResponseTopic, []byte("app/replies"))
	p.Props.SetBytes(mqtt.PropCorrelationData, []byte("req-1"))
	_, _ = col.c.Subscribe(ctx, nil, mqtt.Subscription{Filter: []byte("app/replies"), QoS: 1})
	if err := col.c.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "mesh command reply", func() bool { return col.has("app/replies") })
	if r := col.get("app/replies")[0]; !bytes.Contains(r, []byte(`"ok":true`)) || !bytes.Contains(r, []byte(`"body":"1"`)) {
		t.Fatalf("mesh reply %s", r)
	}
	waitFor(t, 10*time.Second, "onoff reading", func() bool { return col.has("edge/m1/mesh-0101/onoff") })
	// And the CoAP demo sensor's LED.
	_ = col.c.Publish(ctx, &mqtt.Publish{Topic: []byte("edge/m1/coap-sensor-1/$cmd/led"), Payload: []byte("on"), QoS: 1})
	waitFor(t, 15*time.Second, "led reply", func() bool { return col.has("edge/m1/coap-sensor-1/$reply/led") })
	if r := col.get("edge/m1/coap-sensor-1/$reply/led")[0]; !bytes.Contains(r, []byte(`"ok":true`)) {
		t.Fatalf("led reply %s", r)
	}
	if g.c.meshProvision.Load() != 2 {
		t.Fatalf("provisioned %d mesh nodes", g.c.meshProvision.Load())
	}
}

// TestShutdownFlushesStore stops the gateway with the uplink down and checks
// that a new gateway on the same store sends what the first one queued.
func TestShutdownFlushesStore(t *testing.T) {
	mq := startMosquitto(t)
	px := startProxy(t, mq.Addr)
	px.setCut(true)
	col := newCollector(t, mq.Addr, "edge/#")
	store := t.TempDir()
	conf := fmt.Sprintf(`
gateway = "s1"
[coap]
listen = "127.0.0.1:0"
[uplink]
addr = %q
store_dir = %q
max_backoff = "200ms"
`, px.Addr(), store)
	const N = 50
	func() {
		path := filepath.Join(t.TempDir(), "gw.toml")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan started, 1)
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-config", path}, io.Discard, ready) }()
		st := <-ready
		dev, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer dev.Close()
		pctx, pcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer pcancel()
		for i := 0; i < N; i++ {
			if _, err := dev.Post(pctx, st.g.CoAPAddr(), "/r/flush/seq", coap.TextPlain, []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 10*time.Second, "stored", func() bool { return st.g.up.Stats().Stored >= N })
		cancel() // SIGTERM equivalent
		if err := <-done; err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	}()
	px.setCut(false)
	startGateway(t, conf)
	seen := map[float64]bool{}
	waitFor(t, 30*time.Second, "readings queued before the restart", func() bool {
		for _, p := range col.get("edge/s1/flush/seq") {
			var rd struct{ V float64 }
			if json.Unmarshal(p, &rd) == nil {
				seen[rd.V] = true
			}
		}
		return len(seen) == N
	})
}

// TestSIGKILLRestart kills the gateway process with SIGKILL in the middle
// of a stream of CoAP uploads (acknowledged once stored: pipeline.ack =
// "stored") and restarts it: every reading reaches the mosquitto upstream.
func TestSIGKILLRestart(t *testing.T) {
	bin := buildGateway(t)
	mq := startMosquitto(t)
	col := newCollector(t, mq.Addr, "edge/k1/kill/#")
	dir := t.TempDir()
	coapPort := freePort(t, "udp")
	conf := filepath.Join(dir, "gw.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`
gateway = "k1"
[coap]
listen = "127.0.0.1:%d"
[uplink]
addr = %q
store_dir = %q
max_backoff = "200ms"
[pipeline]
ack = "stored"
`, coapPort, mq.Addr, filepath.Join(dir, "store"))), 0o600); err != nil {
		t.Fatal(err)
	}
	startProc := gatewayProc(t, bin, conf)
	gw := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(coapPort))
	dev, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{ACKTimeout: 200 * time.Millisecond, MaxRetransmit: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	cmd := startProc()
	const N = 400
	sent := make(chan int, N)
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		for i := 0; i < N; i++ {
			for {
				resp, err := dev.Post(ctx, gw, "/r/kill/seq", coap.TextPlain, []byte(strconv.Itoa(i)))
				if err == nil && resp.Code() == coap.Changed {
					break
				}
				if ctx.Err() != nil {
					errc <- fmt.Errorf("reading %d: %v", i, err)
					return
				}
				time.Sleep(50 * time.Millisecond) // gateway down or refusing: try again
			}
			sent <- i
			time.Sleep(2 * time.Millisecond) // keep the stream going while the gateway is killed
		}
		errc <- nil
	}()
	waitFor(t, 30*time.Second, "100 readings acknowledged", func() bool { return len(sent) >= 100 })
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	_ = cmd.Wait()
	acked := len(sent)
	t.Logf("SIGKILL after %d acknowledged readings", acked)
	startProc()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(120 * time.Second):
		t.Fatal("sender did not finish")
	}
	seen := map[float64]bool{}
	waitFor(t, 30*time.Second, "every acknowledged reading upstream", func() bool {
		for _, p := range col.get("edge/k1/kill/seq") {
			var rd struct{ V float64 }
			if json.Unmarshal(p, &rd) == nil {
				seen[rd.V] = true
			}
		}
		return len(seen) == N
	})
	t.Logf("all %d readings arrived (%d messages incl. duplicates)", N, len(col.get("edge/k1/kill/seq")))
}

// TestSteeredIngest opens the CoAP ingest as a per-CPU reuseport group
// (coap.workers = 2) and checks that uploads from many source ports, which
// the kernel spreads over the group's sockets, all arrive.
func TestSteeredIngest(t *testing.T) {
	g, _ := startGateway(t, `
gateway = "st"
[coap]
listen = "127.0.0.1:0"
workers = 2
[mqtt]
listen = "127.0.0.1:0"
`)
	if len(g.eps) != 2 {
		t.Fatalf("%d endpoints", len(g.eps))
	}
	t.Logf("steering: %s; backend: %s", g.steering, g.backend)
	col := newCollector(t, g.MQTTAddr(), "edge/st/#")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const devices = 8
	for i := 0; i < devices; i++ {
		dev, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := dev.Post(ctx, g.CoAPAddr(), "/r/d"+strconv.Itoa(i)+"/v", coap.TextPlain, []byte(strconv.Itoa(i)))
		dev.Close()
		if err != nil || resp.Code() != coap.Changed {
			t.Fatalf("device %d: %v %v", i, resp, err)
		}
	}
	waitFor(t, 10*time.Second, "every device's reading", func() bool {
		for i := 0; i < devices; i++ {
			if !col.has("edge/st/d" + strconv.Itoa(i) + "/v") {
				return false
			}
		}
		return true
	})
	var per []uint64
	for _, ep := range g.eps {
		per = append(per, ep.Stats().Requests)
	}
	t.Logf("requests per socket: %v", per)
}

// TestObserveDevice: the gateway observes a device's resource (RFC 7641)
// and every notification becomes a reading.
func TestObserveDevice(t *testing.T) {
	mux := endpoint.NewMux()
	var mu sync.Mutex
	val := 10
	mux.HandleFunc(coap.GET, "/temp", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.SetContentFormat(coap.TextPlain)
		_, _ = w.WriteString(strconv.Itoa(val))
	})
	mux.SetAttrs("/temp", endpoint.Attrs{Observable: true})
	dev, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{Handler: mux})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	g, _ := startGateway(t, fmt.Sprintf(`
gateway = "ob"
[coap]
listen = "127.0.0.1:0"
[[coap.observe]]
device = "thermo"
uri = "coap://%s/temp"
quantity = "temperature"
[mqtt]
listen = "127.0.0.1:0"
`, dev.LocalAddr()))
	col := newCollector(t, g.MQTTAddr(), "edge/ob/#")
	waitFor(t, 10*time.Second, "observer registered", func() bool { return dev.Observers("/temp") == 1 })
	for i := 11; i <= 13; i++ {
		mu.Lock()
		val = i
		mu.Unlock()
		dev.Notify("/temp")
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, 10*time.Second, "notifications as readings", func() bool {
		got := col.get("edge/ob/thermo/temperature")
		return len(got) > 0 && bytes.Contains(got[len(got)-1], []byte(`"v":13`))
	})
}

// TestMain removes the gateway binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildBin != "" {
		_ = os.RemoveAll(filepath.Dir(buildBin))
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// buildGateway builds the gateway binary once per test run and returns its
// path; it skips the test under -short or without the go tool.
func buildGateway(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the gateway binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go tool to build the gateway binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gateway-bin")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "gateway")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, goBin, "build", "-o", buildBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// skipExecFormat skips a test whose freshly built binary this host cannot
// run: the tests themselves run under qemu-user (go test -exec) and the
// kernel has no binfmt_misc entry for the target.
func skipExecFormat(t *testing.T, err error) {
	t.Helper()
	if strings.Contains(err.Error(), "exec format error") {
		t.Skipf("cannot run the %s binary on this host without binfmt_misc: %v", runtime.GOARCH, err)
	}
}

// gatewayProc returns a function that starts a gateway process from bin
// with conf, killed at the end of the test; the processes share one log,
// shown if the test fails.
func gatewayProc(t *testing.T, bin, conf string) func() *exec.Cmd {
	t.Helper()
	logs := &syncBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	return func() *exec.Cmd {
		cmd := exec.Command(bin, "-config", conf)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			skipExecFormat(t, err)
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
}
