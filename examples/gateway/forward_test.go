package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// localPublisher connects an MQTT 5 client to the gateway's embedded broker.
func localPublisher(t *testing.T, addr, id string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Addr: addr, Version: mqtt.V5, ClientID: id,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// seqSeen returns the distinct integer payloads collected on topic.
func seqSeen(col *collector, topic string) map[int]bool {
	seen := map[int]bool{}
	for _, p := range col.get(topic) {
		if n, err := strconv.Atoi(string(p)); err == nil {
			seen[n] = true
		}
	}
	return seen
}

// TestForwardUpDown: a local MQTT client publishes 500 QoS 1 messages on
// the embedded broker; an uplink.up rule carries them to a mosquitto
// upstream, and the uplink is cut for the middle 200 of them (acknowledged
// locally once in the uplink store): all 500 arrive. uplink.down rules
// deliver upstream messages to a local subscriber, and with the same
// topics in both directions nothing loops.
func TestForwardUpDown(t *testing.T) {
	mq := startMosquitto(t)
	px := startProxy(t, mq.Addr)
	up := newCollector(t, mq.Addr, "#")
	g, httpAddr := startGateway(t, fmt.Sprintf(`
gateway = "f1"
[mqtt]
listen = "127.0.0.1:0"
[http]
listen = "127.0.0.1:0"
[uplink]
addr = %q
store_dir = %q
max_backoff = "200ms"
[[uplink.up]]
filter = "site/#"
prefix = "gw-f1/"
qos = 1
[[uplink.up]]
filter = "loop/#"          # the same topic upstream...
[[uplink.down]]
filter = "loop/#"          # ...and down: No Local keeps it from coming back
[[uplink.down]]
filter = "cloud/f1/#"
strip = "cloud/f1/"
prefix = "from-cloud/"
`, px.Addr(), t.TempDir()))
	waitFor(t, 10*time.Second, "uplink connected", func() bool { return g.up.Stats().Connected })
	local := newCollectorID(t, g.MQTTAddr(), "local-sub", "#")
	pub := localPublisher(t, g.MQTTAddr(), "local-pub")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const N = 500
	for i := 0; i < N; i++ {
		switch i {
		case 150:
			px.setCut(true)
			waitFor(t, 10*time.Second, "uplink down", func() bool { return !g.up.Stats().Connected })
		case 350:
			px.setCut(false)
		}
		if err := pub.Publish(ctx, &mqtt.Publish{Topic: []byte("site/door/seq"), QoS: 1, Payload: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatalf("local publish %d: %v", i, err)
		}
	}
	waitFor(t, 30*time.Second, "all 500 upstream", func() bool { return len(seqSeen(up, "gw-f1/site/door/seq")) == N })
	t.Logf("upstream: %d distinct of %d messages (duplicates are QoS 1 redelivery after the cut); forwarded_up=%d",
		len(seqSeen(up, "gw-f1/site/door/seq")), len(up.get("gw-f1/site/door/seq")), g.fwd.up.Load())
	if up.has("site/door/seq") {
		t.Fatal("message forwarded without the rule's prefix")
	}
	if n := len(seqSeen(local, "site/door/seq")); n != N {
		t.Fatalf("local subscriber got %d of %d", n, N)
	}
	waitFor(t, 10*time.Second, "uplink reconnected", func() bool { return g.up.Stats().Connected })

	// Down: an upstream client's message reaches the local subscriber,
	// stripped and prefixed.
	cloud := localPublisher(t, mq.Addr, "cloud-app")
	if err := cloud.Publish(ctx, &mqtt.Publish{Topic: []byte("cloud/f1/cfg/interval"), QoS: 1, Payload: []byte("5s")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "down message locally", func() bool { return local.has("from-cloud/cfg/interval") })
	if got := local.get("from-cloud/cfg/interval"); string(got[0]) != "5s" {
		t.Fatalf("down payload %q", got[0])
	}

	// No loop, upward: a local message on loop/up goes up once and does not
	// come back down (the local subscriber sees its one local copy).
	if err := pub.Publish(ctx, &mqtt.Publish{Topic: []byte("loop/up"), QoS: 1, Payload: []byte("u")}); err != nil {
		t.Fatal(err)
	}
	// No loop, downward: an upstream message on loop/down comes down once
	// and is not sent back up.
	if err := cloud.Publish(ctx, &mqtt.Publish{Topic: []byte("loop/down"), QoS: 1, Payload: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "loop messages", func() bool { return up.has("loop/up") && local.has("loop/down") })
	time.Sleep(time.Second) // room for an echo to show up
	for _, c := range []struct {
		col   *collector
		where string
		topic string
	}{{up, "upstream", "loop/up"}, {local, "locally", "loop/up"}, {up, "upstream", "loop/down"}, {local, "locally", "loop/down"}} {
		if n := len(c.col.get(c.topic)); n != 1 {
			t.Errorf("%s seen %d times %s; want 1 (a loop?)", c.topic, n, c.where)
		}
	}
	// An MQTT 3.1.1 client: libmosquitto's mosquitto_pub.
	if mp := needPeer(t, "mosquitto_pub"); mp != "" {
		pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := exec.CommandContext(pctx, mp, "-h", "127.0.0.1", "-p", strings.TrimPrefix(g.MQTTAddr(), "127.0.0.1:"),
			"-V", "mqttv311", "-q", "1", "-t", "site/mosquitto_pub", "-m", "311").CombinedOutput()
		pcancel()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v\n%s", err, out)
		}
		waitFor(t, 10*time.Second, "mosquitto_pub's message upstream", func() bool { return up.has("gw-f1/site/mosquitto_pub") })
	}
	if g.fwd.upFailed.Load() != 0 || g.fwd.downFailed.Load() != 0 {
		t.Errorf("forward failures: up %d down %d", g.fwd.upFailed.Load(), g.fwd.downFailed.Load())
	}
	if st := getStatus(t, httpAddr); st.Count["forwarded_up"] < N+2 || st.Count["forwarded_down"] < 2 {
		t.Errorf("status counts %v", st.Count)
	}
}

// TestForwardUpSIGKILL: a local client publishes QoS 1 messages to the
// gateway process's embedded broker while the uplink is down; the gateway
// is SIGKILLed and restarted: every message the broker acknowledged
// reaches the mosquitto upstream.
func TestForwardUpSIGKILL(t *testing.T) {
	bin := buildGateway(t)
	mq := startMosquitto(t)
	px := startProxy(t, mq.Addr)
	px.setCut(true)
	col := newCollector(t, mq.Addr, "gw-k2/#")
	dir := t.TempDir()
	mqttPort := freePort(t, "tcp")
	conf := filepath.Join(dir, "gw.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`
gateway = "k2"
[coap]
listen = ""
[mqtt]
listen = "127.0.0.1:%d"
[uplink]
addr = %q
store_dir = %q
max_backoff = "200ms"
[[uplink.up]]
filter = "site/#"
prefix = "gw-k2/"
`, mqttPort, px.Addr(), filepath.Join(dir, "store"))), 0o600); err != nil {
		t.Fatal(err)
	}
	startProc := gatewayProc(t, bin, conf)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(mqttPort)).String()
	cmd := startProc()
	if !waitTCP(addr, nil, 20*time.Second) {
		t.Fatal("gateway broker did not listen")
	}
	pub := localPublisher(t, addr, "local-pub")
	const N = 300
	acked := map[int]bool{}
	publish := func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return pub.Publish(ctx, &mqtt.Publish{Topic: []byte("site/k/seq"), QoS: 1, Payload: []byte(strconv.Itoa(i))})
	}
	for i := 0; i < N/2; i++ {
		if err := publish(i); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		acked[i] = true
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, uplink still down
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("SIGKILL after %d acknowledged messages, none of them sent upstream yet", len(acked))
	px.setCut(false)
	startProc()
	deadline := time.Now().Add(60 * time.Second)
	for i := N / 2; i < N; i++ {
		for {
			err := publish(i)
			if err == nil {
				acked[i] = true
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("publish %d after the restart: %v", i, err)
			}
			if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "closed") {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	waitFor(t, 30*time.Second, "every acknowledged message upstream", func() bool {
		seen := seqSeen(col, "gw-k2/site/k/seq")
		for i := range acked {
			if !seen[i] {
				return false
			}
		}
		return true
	})
	t.Logf("all %d acknowledged messages arrived (%d incl. duplicates)", len(acked), len(col.get("gw-k2/site/k/seq")))
}

func TestForwardRuleConfig(t *testing.T) {
	for _, tc := range []struct{ conf, err string }{
		{"[uplink]\naddr = \"h:1\"\n[[uplink.up]]\nfilter = \"a/#\"\nprefix = \"p/\"\nstrip = \"a/\"\nqos = 0\n[[uplink.down]]\nfilter = \"c/+/x\"\n", ""},
		{"[[uplink.up]]\nfilter = \"a/#\"\n", "config: uplink.up: forwarding rules need uplink.addr"},
		{"[uplink]\naddr = \"h:1\"\n[[uplink.up]]\nprefix = \"p/\"\n", "config: uplink.up[0].filter: missing"},
		{"[uplink]\naddr = \"h:1\"\n[[uplink.up]]\nfilter = \"a/#/b\"\n", "config: uplink.up[0].filter: \"a/#/b\""},
		{"[uplink]\naddr = \"h:1\"\n[[uplink.down]]\nfilter = \"a\"\n[[uplink.down]]\nfilter = \"b\"\nprefix = \"x/+/\"\n", "config: uplink.down[1].prefix: \"x/+/\" has a wildcard"},
		{"[uplink]\naddr = \"h:1\"\n[[uplink.down]]\nfilter = \"a/#\"\nstrip = \"b/\"\n", "config: uplink.down[0].strip: \"b/\" is not a prefix"},
		{"[uplink]\naddr = \"h:1\"\n[[uplink.up]]\nfilter = \"a/#\"\nqos = 2\n", "config: uplink.up[0].qos: 2 is not 0 or 1"},
		{"[uplink]\naddr = \"h:1\"\n[[uplink.up]]\nfilter = \"a/#\"\nqso = 1\n", "config: uplink.up.qso: unknown key"},
	} {
		var cfg Config
		err := parseConfig(tc.conf, &cfg)
		if err == nil {
			cfg.applyDefaults(false)
			err = cfg.validate()
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.conf, err)
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err) || !errors.Is(err, ErrConfig)):
			t.Errorf("%q: got %v, want %s...", tc.conf, err, tc.err)
		}
	}
}

func TestMapTopic(t *testing.T) {
	one := 1
	for _, tc := range []struct {
		rule       ForwardRule
		topic, out string
		ok         bool
	}{
		{ForwardRule{Filter: "site/#", Prefix: "gw/"}, "site/a", "gw/site/a", true},
		{ForwardRule{Filter: "cloud/g/#", Strip: "cloud/g/", Prefix: "in/"}, "cloud/g/cfg/x", "in/cfg/x", true},
		{ForwardRule{Filter: "cloud/g/#", Strip: "cloud/g/"}, "cloud/g/x", "x", true},
		{ForwardRule{Filter: "cloud/g/#", Strip: "cloud/g/", Prefix: "p/"}, "cloud/g", "p/cloud/g", true}, // # matches the parent
		{ForwardRule{Filter: "cloud/g/#", Strip: "cloud/g/", QoS: &one}, "cloud/g/", "", false},           // empty topic
	} {
		out, ok := mapTopic(&tc.rule, []byte(tc.topic))
		if ok != tc.ok || string(out) != tc.out {
			t.Errorf("mapTopic(%+v, %q) = %q, %v; want %q, %v", tc.rule, tc.topic, out, ok, tc.out, tc.ok)
		}
	}
}

// getStatus fetches /api/status.
func getStatus(t *testing.T, httpAddr string) status {
	t.Helper()
	res, err := http.Get("http://" + httpAddr + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st status
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
