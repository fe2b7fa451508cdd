package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromiumArgs are the flags for a headless run as root in a container.
var chromiumArgs = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
	"--no-first-run", "--disable-extensions", "--virtual-time-budget=4000"}

// TestStatusPageChromium loads the live status page of a demo gateway in
// Debian's headless Chromium, asserts on the devices, rates and uplink state
// it shows (after its JavaScript has polled /api/status) and saves a
// screenshot to $EDGEKIT_TEST_OUTPUT (default: the test's temp dir).
func TestStatusPageChromium(t *testing.T) {
	bin := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		bin = needPeer(t, "chromium") // skips (or fails under EDGEKIT_PEERS=require)
	}
	g, httpAddr := startGateway(t, `
gateway = "page"
[coap]
listen = "127.0.0.1:0"
[mqtt]
listen = "127.0.0.1:0"
[http]
listen = "127.0.0.1:0"
[demo]
coap_sensors = 3
mesh_nodes = 2
interval = "200ms"
`, "-demo", "-quiet")
	waitFor(t, 15*time.Second, "five devices", func() bool { return len(g.shadow.views()) == 5 })
	time.Sleep(1200 * time.Millisecond) // a rate sample
	url := "http://" + httpAddr + "/"
	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(append([]string{}, chromiumArgs...), "--user-data-dir="+profile, "--dump-dom", url)
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v\n%s", err, out)
	}
	dom := string(out)
	for _, want := range []string{"coap-sensor-1", "coap-sensor-3", "mesh-0100", "mesh-0101", `<td class="online">online</td>`,
		"temperature=", "Cel", "readings_cap", "ring_full", `id="gw">page<`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if strings.Contains(dom, `id="updated">error`) || strings.Contains(dom, `id="updated">never`) {
		t.Errorf("the page reports a fetch error")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	dir := os.Getenv("EDGEKIT_TEST_OUTPUT")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "gateway-status.png")
	args = append(append([]string{}, chromiumArgs...), "--user-data-dir="+profile, "--window-size=1200,1000", "--screenshot="+shot, url)
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 5000 {
		t.Fatalf("screenshot %s: %v (size %d)", shot, err, st.Size())
	}
	t.Logf("screenshot: %s (%d bytes)", shot, st.Size())
}
