package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/hci"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/mqtt"
)

// fakeRadio connects fake H:4 controllers (a trimmed copy of
// blemesh/hci's test controller): the advertising data enabled on one is
// reported to every other controller that scans.
type fakeRadio struct {
	mu    sync.Mutex
	ctrls []*fakeCtrl
}

// fakeCtrl answers every HCI command with Command Complete (status
// failStatus, 0 by default) and emits LE Advertising Reports.
type fakeCtrl struct {
	radio      *fakeRadio
	conn       net.Conn
	host       net.Conn // the host's end, for hci.New
	addr       [6]byte
	out        chan []byte
	stop       chan struct{}
	mu         sync.Mutex
	scanning   bool
	advData    []byte
	failStatus byte
	wg         sync.WaitGroup
}

func (r *fakeRadio) newCtrl(t *testing.T, id byte, failStatus byte) *fakeCtrl {
	host, ctrl := net.Pipe()
	c := &fakeCtrl{radio: r, conn: ctrl, host: host, addr: [6]byte{id, 0, 0, 0xcc, 0xbb, 0xaa},
		out: make(chan []byte, 4096), stop: make(chan struct{}), failStatus: failStatus}
	r.mu.Lock()
	r.ctrls = append(r.ctrls, c)
	r.mu.Unlock()
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	t.Cleanup(func() {
		close(c.stop)
		ctrl.Close()
		host.Close()
		c.wg.Wait()
	})
	return c
}

func (c *fakeCtrl) writeLoop() {
	defer c.wg.Done()
	for {
		select {
		case p := <-c.out:
			if _, err := c.conn.Write(p); err != nil {
				return
			}
		case <-c.stop:
			return
		}
	}
}

func (c *fakeCtrl) emit(p []byte) {
	select {
	case c.out <- p:
	case <-c.stop:
	default: // a full queue drops, as a radio would
	}
}

func (c *fakeCtrl) readLoop() {
	defer c.wg.Done()
	fr := hci.NewFramer(c.conn, 0)
	for {
		typ, body, err := fr.Next()
		if err != nil {
			return
		}
		if typ != hci.PacketCommand || len(body) < 3 {
			continue
		}
		op := binary.LittleEndian.Uint16(body)
		params := body[3:]
		c.mu.Lock()
		status := c.failStatus
		if status == 0 {
			switch op {
			case hci.OpLESetScanEnable:
				c.scanning = len(params) > 0 && params[0] == 1
			case hci.OpLESetAdvData:
				if len(params) > 0 && int(params[0]) < len(params) {
					c.advData = append([]byte(nil), params[1:1+int(params[0])]...)
				}
			}
		}
		data := c.advData
		c.mu.Unlock()
		ev, _ := hci.AppendEvent(nil, hci.EvtCommandComplete, []byte{1, byte(op), byte(op >> 8), status})
		c.emit(ev)
		if op == hci.OpLESetAdvEnable && len(params) > 0 && params[0] == 1 && status == 0 {
			c.radio.broadcast(c, data)
		}
	}
}

func (r *fakeRadio) broadcast(from *fakeCtrl, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.ctrls {
		if c == from {
			continue
		}
		c.mu.Lock()
		scanning := c.scanning
		c.mu.Unlock()
		if scanning {
			p := hci.AppendAdvReport(nil, &hci.AdvReport{EventType: hci.AdvNonconnInd, Addr: from.addr, Data: data, RSSI: -40})
			ev, _ := hci.AppendEvent(nil, hci.EvtLEMeta, p)
			c.emit(ev)
		}
	}
}

// meshTestGateway builds (but does not run) a gateway from TOML.
func meshTestGateway(t *testing.T, conf string, logs io.Writer) *Gateway {
	t.Helper()
	var cfg Config
	if err := parseConfig(conf, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.applyDefaults(false)
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestMeshHCIBearer runs the gateway's mesh side over the HCI bearer: the
// gateway's controller and a simulated device's controller are fake H:4
// controllers on a fake radio, so every PDU goes through HCI commands
// (LE Set Advertising Data/Enable) and LE Advertising Report events. The
// gateway provisions the device over PB-ADV, configures it, turns its
// Sensor Status into a reading on the embedded broker, and a local command
// becomes a Generic OnOff Set whose status comes back on the reply topic.
// (The real-controller run, in the BlueZ QEMU guest of blemesh/hci, is not
// wired for the gateway.)
func TestMeshHCIBearer(t *testing.T) {
	radio := &fakeRadio{}
	gwCtrl := radio.newCtrl(t, 1, 0)
	devCtrl := radio.newCtrl(t, 2, 0)
	meshOverHCI(t, 3, func(uint16) (io.ReadWriteCloser, error) { return gwCtrl.host, nil }, devCtrl.host)
}

// meshOverHCI runs a gateway whose mesh side is on the controller that
// open gives for hci<index>, and a simulated device on the controller
// devRW: the device is provisioned, its reading arrives, and a command
// gets its status back.
func meshOverHCI(t *testing.T, index uint16, open hciOpener, devRW io.ReadWriteCloser) {
	logs := &syncBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	g := meshTestGateway(t, `
gateway = "h1"
[mqtt]
listen = "127.0.0.1:0"
[mesh]
bearer = "hci"
hci_index = `+strconv.Itoa(int(index))+`
`, logs)
	var opened []uint16
	m, err := g.openMesh(false, func(idx uint16) (io.ReadWriteCloser, error) {
		opened = append(opened, idx)
		return open(idx)
	})
	if err != nil {
		g.Close()
		t.Fatal(err)
	}
	if len(opened) != 1 || opened[0] != index || m.bearerName() != "hci" {
		g.Close()
		t.Fatalf("opened %v, bearer %s", opened, m.bearerName())
	}
	g.mesh = m
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway stopped with %v", err)
		}
	})

	// The simulated device on its own controller, driven by hci.Run.
	hb := hci.New(devRW, hci.Config{})
	defer hb.Close()
	ictx, icancel := context.WithTimeout(ctx, 5*time.Second)
	if err := hb.Init(ictx); err != nil {
		icancel()
		t.Fatal(err)
	}
	icancel()
	d := &meshDevice{uuid: randKey(), temp: 21}
	dn, err := newMeshDeviceNode(d, hb)
	if err != nil {
		t.Fatal(err)
	}
	do := make(chan func(*node.Node, time.Time), 8)
	dctx, dcancel := context.WithCancel(ctx)
	var dwg sync.WaitGroup
	dwg.Add(1)
	go func() { defer dwg.Done(); _ = hci.Run(dctx, hb, dn, do) }()
	defer func() { dcancel(); dwg.Wait() }()

	col := newCollector(t, g.MQTTAddr(), "edge/#")
	t0 := time.Now()
	waitFor(t, 60*time.Second, "the device provisioned over HCI", func() bool { return g.c.meshProvision.Load() == 1 })
	t.Logf("device provisioned and configured over HCI in %v", time.Since(t0).Round(time.Millisecond))
	publish := func(n *node.Node, now time.Time) {
		_ = n.Publish(now, 0, access.ModelID{ID: modelSensorServer}, opSensorStatus, d.sensorStatus())
	}
	waitFor(t, 30*time.Second, "the device's temperature as a reading", func() bool {
		if col.has("edge/h1/mesh-0100/temperature") {
			return true
		}
		select {
		case do <- publish:
		default:
		}
		time.Sleep(200 * time.Millisecond)
		return false
	})
	if r := col.get("edge/h1/mesh-0100/temperature")[0]; !bytes.Contains(r, []byte(`"v":21`)) {
		t.Fatalf("reading %s", r)
	}
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	defer ccancel()
	if err := col.c.Publish(cctx, &mqtt.Publish{Topic: []byte("edge/h1/mesh-0100/$cmd/onoff"), Payload: []byte("on"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the onoff reply", func() bool { return col.has("edge/h1/mesh-0100/$reply/onoff") })
	if r := col.get("edge/h1/mesh-0100/$reply/onoff")[0]; !bytes.Contains(r, []byte(`"ok":true`)) || !bytes.Contains(r, []byte(`"body":"1"`)) {
		t.Fatalf("reply %s", r)
	}
	st := m.hb.Stats()
	if st.TxSent == 0 || st.RxMesh == 0 {
		t.Fatalf("HCI bearer stats %+v", st)
	}
	t.Logf("gateway HCI bearer: %+v", st)
}

// TestMeshBearerFallback: mesh.bearer = "hci" fails with the opener's error
// (errors.ErrUnsupported off Linux) or the controller's; "auto" falls back
// to the in-memory air and says so in the log.
func TestMeshBearerFallback(t *testing.T) {
	unsupported := func(*testing.T) hciOpener {
		return func(uint16) (io.ReadWriteCloser, error) {
			return nil, errors.Join(errors.New("hci user channel: only on Linux"), errors.ErrUnsupported)
		}
	}
	// Off Linux the real opener's error wraps errors.ErrUnsupported.
	var hostErr error
	if runtime.GOOS != "linux" {
		hostErr = errors.ErrUnsupported
	}
	// A controller that answers every command with Unknown HCI Command.
	refusing := func(t *testing.T) hciOpener {
		c := (&fakeRadio{}).newCtrl(t, 9, 0x01)
		return func(uint16) (io.ReadWriteCloser, error) { return c.host, nil }
	}
	for _, tc := range []struct {
		name, bearer string
		open         func(t *testing.T) hciOpener
		wantErr      error  // for "hci"
		wantErrText  string // for "hci"
	}{
		{"unsupported", "hci", unsupported, errors.ErrUnsupported, "mesh.bearer: hci0: hci user channel: only on Linux"},
		{"unsupported", "auto", unsupported, nil, ""},
		{"refusing controller", "hci", refusing, nil, "mesh.bearer: hci0: blemesh/hci: command 0xc03 failed with status 0x1"},
		{"refusing controller", "auto", refusing, nil, ""},
		{"this host", "hci", func(*testing.T) hciOpener { return hci.OpenUserChannel }, hostErr, "mesh.bearer: hci0: "},
		{"this host", "auto", func(*testing.T) hciOpener { return hci.OpenUserChannel }, nil, ""},
	} {
		t.Run(tc.name+"/"+tc.bearer, func(t *testing.T) {
			logs := &syncBuf{}
			g := meshTestGateway(t, "gateway = \"fb\"\n[mesh]\nbearer = \""+tc.bearer+"\"\n", logs)
			defer g.Close()
			m, err := g.openMesh(false, tc.open(t))
			if tc.bearer == "hci" {
				if err == nil && tc.name == "this host" {
					g.mesh = m
					t.Skip("this host has a usable Bluetooth controller")
				}
				if err == nil {
					t.Fatalf("no error; bearer %s", m.bearerName())
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("error %v does not wrap %v", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), tc.wantErrText) {
					t.Errorf("error %q; want it to start with %q", err, tc.wantErrText)
				}
				t.Logf("error: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g.mesh = m
			if m.bearerName() == "hci" { // a real controller on this host
				t.Logf("this host has a usable controller: %s", logs.String())
				return
			}
			if m.bearerName() != "air" || !strings.Contains(logs.String(), "no usable Bluetooth controller, using the in-memory air") {
				t.Fatalf("bearer %s; log:\n%s", m.bearerName(), logs.String())
			}
			t.Logf("fallback logged: %s", firstLine(logs.String(), "no usable"))
		})
	}
}

func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestMeshConfig(t *testing.T) {
	for _, tc := range []struct {
		conf string
		demo bool
		want string // bearer after defaults, or the error's start
	}{
		{"", false, "off"},
		{"", true, "air"},
		{"[mesh]\nbearer = \"hci\"\nhci_index = 1\n", false, "hci"},
		{"[mesh]\nbearer = \"radio\"\n", false, "config: mesh.bearer: \"radio\" is not off, air, hci or auto"},
		{"[mesh]\nbearer = \"auto\"\nhci_index = -1\n", false, "config: mesh.hci_index: -1 is not in 0..65534"},
		{"[mesh]\nhci = 1\n", false, "config: mesh.hci: unknown key"},
	} {
		var cfg Config
		err := parseConfig(tc.conf, &cfg)
		if err == nil {
			cfg.applyDefaults(tc.demo)
			err = cfg.validate()
		}
		got := cfg.Mesh.Bearer
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q demo=%v: got %q, want %q", tc.conf, tc.demo, got, tc.want)
		}
	}
}
