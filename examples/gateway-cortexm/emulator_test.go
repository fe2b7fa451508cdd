//go:build !tinygo

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/transport"
	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
)

// Budget of the target board (LM3S6965: 256 KB flash, 64 KB RAM).
const (
	flashBudget = 256 << 10
	ramBudget   = 64 << 10
)

// firmware is the result of one TinyGo build, shared by the tests.
type firmware struct {
	elf        string
	flash, ram int // totals of tinygo build -size full
	sizeReport string
	err        error
}

// cpus are the cores the firmware is built for and run on: the Cortex-M4 of
// the issue and the Cortex-M7 (QEMU's lm3s6965evb takes either with -cpu).
var cpus = []string{"cortex-m4", "cortex-m7"}

var (
	fwMu    sync.Mutex
	fwBuilt = map[string]*firmware{}
	fwDir   string
)

// tinygoPaths finds TinyGo and the QEMU target file for cpu: $TINYGO (or
// /opt/tinygo/bin/tinygo, or tinygo on PATH) and
// targets-debian/<cpu>-qemu.json beside TinyGo's bin directory, as
// .ci/install-tinygo.sh writes it ($TINYGO_TARGETS names another directory).
func tinygoPaths(t *testing.T, cpu string) (bin, target string) {
	t.Helper()
	bin = os.Getenv("TINYGO")
	if bin == "" {
		if _, err := os.Stat("/opt/tinygo/bin/tinygo"); err == nil {
			bin = "/opt/tinygo/bin/tinygo"
		} else {
			bin = "tinygo"
		}
	}
	bin = testutil.NeedPeer(t, bin)
	dir := os.Getenv("TINYGO_TARGETS")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(filepath.Dir(bin)), "targets-debian")
	}
	target = filepath.Join(dir, cpu+"-qemu.json")
	if _, err := os.Stat(target); err != nil {
		if testutil.PeersRequired() {
			t.Fatalf("TinyGo target file %s missing (bash .ci/install-tinygo.sh writes it)", target)
		}
		t.Skipf("TinyGo target file %s missing (bash .ci/install-tinygo.sh writes it)", target)
	}
	return bin, target
}

var sizeTotal = regexp.MustCompile(`(?m)^\s*\d+\s+\d+\s+\d+\s+\d+\s+\|\s+(\d+)\s+(\d+)\s+\|\s+total\s*$`)

// buildFirmware builds the firmware for cpu once per test binary with
// tinygo build -gc=precise -size full. (-gc=precise: TinyGo 0.41.1's
// conservative collector on Cortex-M misses pointers held in registers.)
// $GATEWAY_FW_TAGS adds build tags, e.g. gwheaptrace.
func buildFirmware(t *testing.T, cpu string) *firmware {
	t.Helper()
	bin, target := tinygoPaths(t, cpu)
	fwMu.Lock()
	defer fwMu.Unlock()
	if fw := fwBuilt[cpu]; fw != nil {
		if fw.err != nil {
			t.Fatal(fw.err)
		}
		return fw
	}
	fw := &firmware{}
	fwBuilt[cpu] = fw
	if fwDir == "" {
		if fwDir, fw.err = os.MkdirTemp("", "gateway-cortexm-"); fw.err != nil {
			t.Fatal(fw.err)
		}
	}
	fw.elf = filepath.Join(fwDir, cpu+".elf")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"build", "-gc=precise", "-target=" + target, "-size", "full", "-o", fw.elf}
	if tags := os.Getenv("GATEWAY_FW_TAGS"); tags != "" {
		args = append(args, "-tags="+tags)
	}
	out, err := exec.CommandContext(ctx, bin, append(args, ".")...).CombinedOutput()
	if err != nil {
		fw.err = errors.New("tinygo build: " + err.Error() + "\n" + string(out))
		t.Fatal(fw.err)
	}
	m := sizeTotal.FindStringSubmatch(string(out))
	if m == nil {
		fw.err = errors.New("no total in tinygo -size full output:\n" + string(out))
		t.Fatal(fw.err)
	}
	fw.flash, _ = strconv.Atoi(m[1])
	fw.ram, _ = strconv.Atoi(m[2])
	fw.sizeReport = string(out)
	return fw
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fwDir != "" {
		os.RemoveAll(fwDir)
	}
	os.Exit(code)
}

// TestFirmwareSize checks the flash and static RAM of the firmware against
// the board's budget (the figures are recorded in README.md; the live heap
// is checked by TestEmulator).
func TestFirmwareSize(t *testing.T) {
	for _, cpu := range cpus {
		t.Run(cpu, func(t *testing.T) {
			fw := buildFirmware(t, cpu)
			t.Logf("tinygo -size full: flash %d bytes, static RAM %d bytes (budget %d / %d)", fw.flash, fw.ram, flashBudget, ramBudget)
			if fw.flash > flashBudget {
				t.Errorf("flash %d > %d\n%s", fw.flash, flashBudget, fw.sizeReport)
			}
			if fw.ram > ramBudget {
				t.Errorf("static RAM %d > %d\n%s", fw.ram, ramBudget, fw.sizeReport)
			}
		})
	}
}

// subscriber is a raw MQTT 3.1.1 client of the test, on the mqtt codec.
type subscriber struct {
	conn net.Conn
	fr   *mqtt.Framer
	mu   sync.Mutex // serialises writes
	msgs chan *mqtt.Publish
}

func newSubscriber(t *testing.T, addr, filter string) *subscriber {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &subscriber{conn: conn, fr: mqtt.NewFramer(conn, conn, mqtt.FramerConfig{Role: mqtt.RoleClient}), msgs: make(chan *mqtt.Publish, 4096)}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := s.fr.WritePacket(&mqtt.Connect{Version: mqtt.V311, CleanStart: true, ClientID: []byte("test-sub"), KeepAlive: 120}); err != nil {
		t.Fatal(err)
	}
	p, err := s.fr.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	if ca, ok := p.(*mqtt.Connack); !ok || ca.Code != 0 {
		t.Fatalf("CONNACK: %+v", p)
	}
	if err := s.fr.WritePacket(&mqtt.Subscribe{ID: 1, Filters: []mqtt.Subscription{{Filter: []byte(filter), QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if p, err = s.fr.ReadPacket(); err != nil {
		t.Fatal(err)
	}
	if sa, ok := p.(*mqtt.Suback); !ok || len(sa.Codes) != 1 || sa.Codes[0].IsError() {
		t.Fatalf("SUBACK: %+v", p)
	}
	conn.SetDeadline(time.Time{})
	go func() {
		defer close(s.msgs)
		for {
			p, err := s.fr.ReadPacket()
			if err != nil {
				return
			}
			if pub, ok := p.(*mqtt.Publish); ok {
				if pub.QoS == 1 {
					s.mu.Lock()
					err = s.fr.WritePacket(&mqtt.Ack{Type: mqtt.TypePuback, ID: pub.ID})
					s.mu.Unlock()
					if err != nil {
						return
					}
				}
				s.msgs <- pub.Clone()
			}
		}
	}()
	return s
}

func (s *subscriber) publish(t *testing.T, topic, payload string, qos uint8, id mqtt.PacketID) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fr.WritePublish(&mqtt.Publish{Topic: []byte(topic), Payload: []byte(payload), QoS: qos, ID: id}); err != nil {
		t.Fatal(err)
	}
}

// await returns the next message on topic (skipping others) or fails.
func (s *subscriber) await(t *testing.T, topic string, d time.Duration) *mqtt.Publish {
	t.Helper()
	p := s.next(topic, d)
	if p == nil {
		t.Fatalf("no message on %s within %v", topic, d)
	}
	return p
}

// next returns the next message on topic (skipping others), or nil if none
// comes within d.
func (s *subscriber) next(topic string, d time.Duration) *mqtt.Publish {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case p, ok := <-s.msgs:
			if !ok {
				return nil
			}
			if string(p.Topic) == topic {
				return p
			}
		case <-timer.C:
			return nil
		}
	}
}

// modem stands for the modem between the firmware's MQTT UART and the
// network: it accepts QEMU's connection for that UART and pipes it to the
// broker, dialling the broker whenever the firmware sends bytes and no
// connection is up. cut closes the broker connection, as a lost carrier
// does; the firmware is not told, as it would not be over a plain UART.
type modem struct {
	broker string
	mu     sync.Mutex
	qemu   net.Conn
	up     net.Conn
	closed bool
}

func startModem(t *testing.T, ln net.Listener, broker string) *modem {
	m := &modem{broker: broker}
	go m.run(ln)
	t.Cleanup(m.close)
	return m
}

func (m *modem) run(ln net.Listener) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		c.Close()
		return
	}
	m.qemu = c
	m.mu.Unlock()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if up := m.upstream(); up != nil {
				if _, err := up.Write(buf[:n]); err != nil {
					m.drop(up)
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// upstream returns the broker connection, dialling one if there is none.
func (m *modem) upstream() net.Conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	if m.up == nil {
		u, err := net.DialTimeout("tcp", m.broker, 5*time.Second)
		if err != nil {
			return nil
		}
		m.up = u
		go func() {
			io.Copy(m.qemu, u)
			m.drop(u)
		}()
	}
	return m.up
}

func (m *modem) drop(u net.Conn) {
	m.mu.Lock()
	if m.up == u {
		m.up = nil
	}
	m.mu.Unlock()
	u.Close()
}

// cut closes the broker connection.
func (m *modem) cut() {
	m.mu.Lock()
	u := m.up
	m.up = nil
	m.mu.Unlock()
	if u != nil {
		u.Close()
	}
}

func (m *modem) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for _, c := range []net.Conn{m.qemu, m.up} {
		if c != nil {
			c.Close()
		}
	}
}

// radioLink is the test's end of the radio UART: it plays the HCI
// controller, sending LE Advertising Report events and reading the
// firmware's LE Set Advertising Data commands.
type radioLink struct {
	conn net.Conn
	dev  *meshDevice
	buf  []byte
	pdus chan radioPDU
}

func (r *radioLink) reader(t *testing.T) {
	defer close(r.pdus)
	var b [512]byte
	for {
		n, err := r.conn.Read(b[:])
		if err != nil {
			return
		}
		r.buf = append(r.buf, b[:n]...)
		for {
			var p radioPDU
			k, err := r.dev.nextRadioPDU(r.buf, &p)
			if err != nil {
				t.Errorf("radio: %v", err)
				return
			}
			if k == 0 {
				break
			}
			p.params = append([]byte(nil), p.params...)
			p.lp.Payload = append([]byte(nil), p.lp.Payload...)
			r.buf = r.buf[k:]
			r.pdus <- p
		}
	}
}

func (r *radioLink) send(t *testing.T, pdus ...[]byte) {
	t.Helper()
	var f []byte
	for _, p := range pdus {
		f = advEvent(f, p)
	}
	r.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.conn.Write(f); err != nil {
		t.Fatal(err)
	}
}

// await returns the next PDU the firmware transmits that satisfies ok.
func (r *radioLink) await(t *testing.T, what string, d time.Duration, ok func(*radioPDU) bool) radioPDU {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case p, open := <-r.pdus:
			if !open {
				t.Fatalf("radio closed waiting for %s", what)
			}
			if ok(&p) {
				return p
			}
		case <-timer.C:
			t.Fatalf("no %s on the radio within %v", what, d)
		}
	}
}

var statRE = regexp.MustCompile(`(\w+)=(\d+)`)

func parseStats(p []byte) map[string]uint64 {
	m := map[string]uint64{}
	for _, kv := range statRE.FindAllSubmatch(p, -1) {
		v, _ := strconv.ParseUint(string(kv[2]), 10, 64)
		m[string(kv[1])] = v
	}
	return m
}

// TestEmulator runs the firmware in qemu-system-arm (lm3s6965evb, Cortex-M4)
// with its MQTT UART connected through a relay to a real mosquitto and its
// radio UART to this test, and checks both directions of the bridge, the
// mesh acknowledgments, the absence of allocations after start-up (TinyGo's
// heap counter, read through the stats command), and measures the messages
// per second bridged.
func TestEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the firmware in QEMU; skipped in -short mode")
	}
	for _, cpu := range cpus {
		t.Run(cpu, func(t *testing.T) { testEmulator(t, cpu) })
	}
}

func testEmulator(t *testing.T, cpu string) {
	qemu := testutil.NeedPeer(t, "qemu-system-arm")
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	fw := buildFirmware(t, cpu)
	cfg := provisioned()

	mqttLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mqttLn.Close()
	radioLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer radioLn.Close()
	link := startModem(t, mqttLn, broker.Addr())
	sub := newSubscriber(t, broker.Addr(), cfg.TopicPrefix+"/#")

	vm := testutil.StartPeer(t, testutil.PeerConfig{
		Name: qemu,
		Args: []string{"-machine", "lm3s6965evb", "-cpu", cpu, "-semihosting", "-nographic",
			"-monitor", "none", "-serial", "stdio",
			"-serial", "tcp:" + mqttLn.Addr().String() + ",nodelay=on",
			"-serial", "tcp:" + radioLn.Addr().String() + ",nodelay=on",
			"-kernel", fw.elf},
		Lifetime: 3 * time.Minute,
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("firmware console:\n%s", vm.Output())
		}
	})
	radioLn.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	rc, err := radioLn.Accept()
	if err != nil {
		t.Fatalf("QEMU did not connect the radio UART: %v", err)
	}
	defer rc.Close()
	dev := newMeshDevice(cfg, 0x0100)
	radio := &radioLink{conn: rc, dev: newMeshDevice(cfg, 0x0100), pdus: make(chan radioPDU, 1024)}
	go radio.reader(t)

	// The firmware connects and announces itself.
	if p := sub.await(t, "edgekit/gw/status", 30*time.Second); string(p.Payload) != "online" {
		t.Fatalf("status %q", p.Payload)
	}
	// Its subscription is in place once it answers a stats request; that
	// answer also carries the heap counter after start-up.
	var base map[string]uint64
	for i := 0; base == nil; i++ {
		if i == 20 {
			t.Fatal("no answer to stats requests")
		}
		sub.publish(t, "edgekit/gw/cmd/stats", "", 0, 0)
		if p := sub.next("edgekit/gw/stats", 500*time.Millisecond); p != nil {
			base = parseStats(p.Payload)
		}
	}
	t.Logf("after start-up: %v", base)
	if _, ok := base["mallocs"]; !ok {
		t.Fatalf("stats without heap counter: %v", base)
	}

	// Uplink: a Generic OnOff Status to the gateway's group.
	radio.send(t, dev.access(0xc000, onoffStatus(true), false)...)
	if p := sub.await(t, "edgekit/gw/mesh/0100/onoff", 10*time.Second); string(p.Payload) != "1" || p.QoS != 1 {
		t.Fatalf("onoff %q qos %d", p.Payload, p.QoS)
	}
	// ... which the gateway relays with TTL - 1.
	radio.await(t, "relayed status", 10*time.Second, func(p *radioPDU) bool {
		return p.h.SRC == 0x0100 && p.h.TTL == dev.ttl-1 && p.op == opGenericOnOffStatus
	})

	// A segmented vendor message to the gateway: reassembled, acknowledged
	// on the mesh, bridged raw.
	msg := vendorMessage(20)
	op, k, err := access.DecodeOpcode(msg)
	if err != nil {
		t.Fatal(err)
	}
	segs := dev.access(cfg.Address, msg, false)
	if len(segs) < 2 {
		t.Fatalf("%d segments", len(segs))
	}
	radio.send(t, segs...)
	topic := "edgekit/gw/mesh/0100/op/" + string(appendHex(nil, uint32(op)))
	if p := sub.await(t, topic, 10*time.Second); string(p.Payload) != string(msg[k:]) {
		t.Fatalf("vendor payload % x; want % x", p.Payload, msg[k:])
	}
	radio.await(t, "segment acknowledgment", 10*time.Second, func(p *radioPDU) bool {
		if !p.h.CTL || p.lp.Opcode != transport.OpSegmentAck || p.h.DST != 0x0100 {
			return false
		}
		var a transport.SegmentAck
		_, err := a.Decode(p.lp.Payload)
		return err == nil && a.BlockAck == 1<<len(segs)-1
	})

	// Downlink: an MQTT command comes out of the radio as an encrypted
	// Generic OnOff Set to the light.
	sub.publish(t, "edgekit/gw/cmd/0100/onoff", "on", 1, 2)
	set := radio.await(t, "Generic OnOff Set", 10*time.Second, func(p *radioPDU) bool {
		return !p.h.CTL && p.op == opGenericOnOffSet
	})
	if set.h.SRC != cfg.Address || set.h.DST != 0x0100 || len(set.params) != 2 || set.params[0] != 1 {
		t.Fatalf("OnOff Set %+v params % x", set.h, set.params)
	}
	sub.publish(t, "edgekit/gw/cmd/0100/onoff", "off", 0, 0)
	set2 := radio.await(t, "second Generic OnOff Set", 10*time.Second, func(p *radioPDU) bool {
		return !p.h.CTL && p.op == opGenericOnOffSet
	})
	if set2.params[0] != 0 || set2.params[1] != set.params[1]+1 || set2.h.SEQ <= set.h.SEQ {
		t.Fatalf("second Set params % x seq %d after % x seq %d", set2.params, set2.h.SEQ, set.params, set.h.SEQ)
	}

	// Throughput: n statuses from 10 lights, as fast as the emulated UARTs
	// take them; every one must arrive at the subscriber, in order per light.
	const lights, n = 10, 1000
	var ds [lights]*meshDevice
	for i := range ds {
		ds[i] = newMeshDevice(cfg, uint16(0x0200+i))
	}
	start := time.Now()
	go func() {
		var f []byte
		for i := range n {
			f = advEvent(f[:0], ds[i%lights].access(0xc000, onoffStatus(i/lights%2 == 0), false)[0])
			rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := rc.Write(f); err != nil {
				return
			}
		}
	}()
	var got [lights]int
	deadline := time.NewTimer(90 * time.Second)
	defer deadline.Stop()
	for total := 0; total < n; {
		select {
		case p := <-sub.msgs:
			var i int
			if _, err := fmt.Sscanf(string(p.Topic), "edgekit/gw/mesh/%04X/onoff", &i); err != nil || i < 0x200 || i >= 0x200+lights {
				continue
			}
			i -= 0x200
			want := "0"
			if got[i]%2 == 0 {
				want = "1"
			}
			if string(p.Payload) != want {
				t.Fatalf("light %d message %d: %q; want %q", i, got[i], p.Payload, want)
			}
			got[i]++
			total++
		case <-deadline.C:
			t.Fatalf("bridged %v of %d messages per light in 90 s", got, n/lights)
		}
	}
	el := time.Since(start)
	t.Logf("%s: bridged %d mesh messages to MQTT (QoS 1) in %v: %.0f msg/s in the emulator", cpu, n, el.Round(time.Millisecond), float64(n)/el.Seconds())

	// The link to the broker is lost without the firmware being told: the
	// broker publishes its will; messages heard meanwhile are published into
	// the void, the overdue PUBACK restarts the session, and they arrive, in
	// order, after the reconnection.
	link.cut()
	if p := sub.await(t, "edgekit/gw/status", 10*time.Second); string(p.Payload) != "offline" {
		t.Fatalf("will %q", p.Payload)
	}
	const outage = 6
	for i := range outage {
		radio.send(t, dev.access(0xc000, onoffStatus(i%2 == 0), false)...)
	}
	if p := sub.await(t, "edgekit/gw/status", 30*time.Second); string(p.Payload) != "online" {
		t.Fatalf("status %q after reconnection", p.Payload)
	}
	for i := range outage {
		want := "0"
		if i%2 == 0 {
			want = "1"
		}
		if p := sub.await(t, "edgekit/gw/mesh/0100/onoff", 10*time.Second); string(p.Payload) != want {
			t.Fatalf("message %d after reconnection: %q; want %q", i, p.Payload, want)
		}
	}

	// No allocation after start-up: the heap counter has not moved.
	var final map[string]uint64
	sub.publish(t, "edgekit/gw/cmd/stats", "", 0, 0)
	p := sub.await(t, "edgekit/gw/stats", 10*time.Second)
	final = parseStats(p.Payload)
	t.Logf("after the run: %v", final)
	if final["mallocs"] != base["mallocs"] {
		t.Errorf("firmware heap allocations went from %d to %d while bridging", base["mallocs"], final["mallocs"])
	}
	if final["acked"] != n+2+outage || final["dropped"] != 0 || final["reconnects"] == 0 {
		t.Errorf("acked %d (want %d), dropped %d, reconnects %d", final["acked"], n+2+outage, final["dropped"], final["reconnects"])
	}
	if used := fw.ram + int(final["heap"]); used > ramBudget {
		t.Errorf("static RAM %d + live heap %d > %d", fw.ram, final["heap"], ramBudget)
	}
	// The console shows the same counter.
	sc := bufio.NewScanner(strings.NewReader(vm.Output()))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "gw:") {
			t.Log("console: " + sc.Text())
		}
	}
}
