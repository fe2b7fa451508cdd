package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/hci"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

// Mesh models and opcodes (Mesh Model 1.1).
const (
	modelOnOffServer  = 0x1000
	modelOnOffClient  = 0x1001
	modelLevelServer  = 0x1002
	modelLevelClient  = 0x1003
	modelSensorServer = 0x1100
	modelSensorClient = 0x1102

	opOnOffGet      access.Opcode = 0x8201
	opOnOffSet      access.Opcode = 0x8202
	opOnOffSetUnack access.Opcode = 0x8203
	opOnOffStatus   access.Opcode = 0x8204
	opLevelGet      access.Opcode = 0x8205
	opLevelSet      access.Opcode = 0x8206
	opLevelSetUnack access.Opcode = 0x8207
	opLevelStatus   access.Opcode = 0x8208
	opSensorGet     access.Opcode = 0x8231
	opSensorStatus  access.Opcode = 0x52

	// propAmbientTemperature is Present Ambient Temperature (Temperature 8:
	// int8 in units of 0.5 °C).
	propAmbientTemperature = 0x004F

	gatewayMeshAddr = 0x0001
	firstNodeAddr   = 0x0100
	appKeyIndex     = 0
)

// meshSim runs the gateway's mesh side: a provisioner node (the gateway,
// address 0x0001) on one of two bearers, driven by one goroutine:
//   - the in-memory air (package blemesh/bearer), with the demo's simulated
//     sensor nodes on it, run in real time;
//   - a Bluetooth controller through the Linux HCI bearer (package
//     blemesh/hci, an HCI user channel on hci<mesh.hci_index>).
//
// Either way the gateway provisions (PB-ADV) every unprovisioned device
// whose beacon it hears, gives it the AppKey, binds its Generic OnOff,
// Level and Sensor Server models and sets its Sensor Server to publish to
// the gateway.
type meshSim struct {
	g        *Gateway
	air      *bearer.Air // the in-memory air, or nil
	hb       *hci.Bearer // the HCI bearer, or nil
	gw       *node.Node
	devs     []*meshDevice
	cmds     chan *meshCmd
	pending  map[uint16]*meshCmd
	interval time.Duration
	tid      atomic.Uint32
	cfgRx    []cfgStatus
	seen     map[[16]byte]bool
	order    [][16]byte // unprovisioned devices in the order heard
	done     int        // m.order[:done] were provisioned (or failed)
	nextAddr uint16
	appKey   []byte // the AppKey Add parameters
}

type cfgStatus struct {
	op     access.Opcode
	src    uint16
	params []byte
}

// meshDevice is a simulated mesh sensor/light.
type meshDevice struct {
	n     *node.Node
	uuid  [16]byte
	addr  uint16
	temp  float64
	onoff byte
	level int16
	next  time.Time
}

// meshCmd is a command handed to the air goroutine.
type meshCmd struct {
	addr   uint16
	op     access.Opcode
	params []byte
	want   access.Opcode
	done   chan string
}

var (
	errMeshResource = errors.New("mesh: resource must be onoff or level")
	errMeshValue    = errors.New("mesh: bad value")
)

func meshName(addr uint16) string { return fmt.Sprintf("mesh-%04x", addr) }

func meshAddrOf(name string) (uint16, bool) {
	if !strings.HasPrefix(name, "mesh-") {
		return 0, false
	}
	v, err := strconv.ParseUint(name[5:], 16, 16)
	return uint16(v), err == nil
}

func randKey() (k [16]byte) {
	_, _ = rand.Read(k[:])
	return k
}

// newMeshSim builds the air, the gateway's provisioner node and n simulated
// nodes, then provisions (PB-ADV) and configures every node, in simulated
// time, before it returns.
func newMeshSim(g *Gateway, n int, interval time.Duration) (*meshSim, error) {
	m := &meshSim{g: g, air: bearer.NewAir(bearer.AirConfig{Start: time.Now(), Delay: 2 * time.Millisecond, Jitter: 3 * time.Millisecond}),
		cmds: make(chan *meshCmd, 64), pending: map[uint16]*meshCmd{}, interval: interval, seen: map[[16]byte]bool{}, nextAddr: firstNodeAddr}
	r := m.air.Join(nil)
	if err := m.setupGateway(r, func(gw *node.Node) { r.Attach(gw) }); err != nil {
		return nil, err
	}

	// The simulated devices: unprovisioned, beaconing.
	for i := 0; i < n; i++ {
		d := &meshDevice{uuid: randKey(), temp: 19 + float64(i), level: 0}
		r := m.air.Join(nil)
		dn, err := newMeshDeviceNode(d, r)
		if err != nil {
			return nil, err
		}
		r.Attach(dn)
		d.n = dn
		m.devs = append(m.devs, d)
	}
	m.air.LinkAll(0)
	if n == 0 {
		return m, nil
	}

	// Provisioner role: discover the devices by their Unprovisioned Device
	// beacons, provision each over PB-ADV, then configure it.
	if _, err := m.air.Run(10*time.Second, func() bool { return len(m.order) >= n }); err != nil {
		return nil, err
	}
	byUUID := map[[16]byte]*meshDevice{}
	for _, d := range m.devs {
		byUUID[d.uuid] = d
	}
	for _, uuid := range m.order {
		d := byUUID[uuid]
		if d == nil {
			continue
		}
		addr, err := m.provision(uuid, 2*time.Minute)
		if err != nil {
			return nil, err
		}
		d.addr = addr
	}
	m.done = len(m.order)
	for i, d := range m.devs {
		if d.addr == 0 {
			return nil, fmt.Errorf("mesh: device %d sent no unprovisioned beacon", i)
		}
	}
	return m, nil
}

// newMeshHCI puts the gateway's provisioner node on an initialised HCI
// bearer. Devices are provisioned as their beacons are heard (see run).
func newMeshHCI(g *Gateway, hb *hci.Bearer) (*meshSim, error) {
	m := &meshSim{g: g, hb: hb, cmds: make(chan *meshCmd, 64), pending: map[uint16]*meshCmd{}, seen: map[[16]byte]bool{},
		nextAddr: firstNodeAddr}
	if err := m.setupGateway(hb, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// newMeshDeviceNode builds a simulated device's node on bearer b:
// unprovisioned, beaconing, with Generic OnOff, Level and Sensor Servers.
func newMeshDeviceNode(d *meshDevice, b bearer.Bearer) (*node.Node, error) {
	dn, err := node.New(node.Config{UUID: d.uuid, Bearer: b, TransmitCount: 1, UnprovBeaconPeriod: 500 * time.Millisecond,
		Handler: d.handle, Elements: []node.Element{{Models: []node.Model{
			{ID: access.ModelID{ID: modelOnOffServer}, Opcodes: []access.Opcode{opOnOffGet, opOnOffSet, opOnOffSetUnack}},
			{ID: access.ModelID{ID: modelLevelServer}, Opcodes: []access.Opcode{opLevelGet, opLevelSet, opLevelSetUnack}},
			{ID: access.ModelID{ID: modelSensorServer}, Opcodes: []access.Opcode{opSensorGet}},
		}}}})
	if err != nil {
		return nil, fmt.Errorf("mesh node: %w", err)
	}
	return dn, nil
}

// setupGateway builds the gateway's node on b (attach, if set, connects
// it to b), creates the network (new random NetKey and AppKey) and
// configures the gateway's own client models.
func (m *meshSim) setupGateway(b bearer.Bearer, attach func(*node.Node)) error {
	client := func(id uint16, ops ...access.Opcode) node.Model {
		return node.Model{ID: access.ModelID{ID: id}, Opcodes: ops}
	}
	gw, err := node.New(node.Config{UUID: randKey(), Bearer: b, Handler: m.gatewayHandler, TransmitCount: 1,
		Elements: []node.Element{{Models: []node.Model{
			client(modelOnOffClient, opOnOffStatus), client(modelLevelClient, opLevelStatus), client(modelSensorClient, opSensorStatus)}}},
		OnUnprovisioned: func(uuid [16]byte, _ uint16) {
			if !m.seen[uuid] {
				m.seen[uuid] = true
				m.order = append(m.order, uuid)
			}
		}})
	if err != nil {
		return fmt.Errorf("mesh gateway node: %w", err)
	}
	if attach != nil {
		attach(gw)
	}
	m.gw = gw
	netKey, appKey := randKey(), randKey()
	if err := gw.SelfProvision(m.now(), prov.ProvisioningData{NetKey: netKey, UnicastAddress: gatewayMeshAddr}, randKey()); err != nil {
		return fmt.Errorf("mesh self-provision: %w", err)
	}
	add := access.AppKeyAdd{AppKeyIndex: appKeyIndex, AppKey: appKey}
	m.appKey, _ = add.AppendBinary(nil)
	if err := m.configure(gatewayMeshAddr, access.OpAppKeyAdd, m.appKey); err != nil {
		return err
	}
	for _, id := range []uint16{modelOnOffClient, modelLevelClient, modelSensorClient} {
		bind := access.ModelAppBind{ElementAddress: gatewayMeshAddr, AppKeyIndex: appKeyIndex, Model: access.ModelID{ID: id}}
		b, _ := bind.AppendBinary(nil)
		if err := m.configure(gatewayMeshAddr, access.OpModelAppBind, b); err != nil {
			return err
		}
	}
	return nil
}

// provision provisions the device uuid over PB-ADV at the next free
// address and configures it: AppKey, model bindings, and Sensor Server
// publication to the gateway. It returns the device's address.
func (m *meshSim) provision(uuid [16]byte, timeout time.Duration) (uint16, error) {
	gw := m.gw
	addr := m.nextAddr
	if err := gw.ProvisionDevice(m.now(), uuid, addr); err != nil {
		return 0, fmt.Errorf("mesh provision %04x: %w", addr, err)
	}
	ok, err := m.step(timeout, func() bool { return gw.ProvisionResult().Done })
	if err != nil || !ok || gw.ProvisionResult().Err != nil {
		return 0, fmt.Errorf("mesh provision %04x: %v %v", addr, err, gw.ProvisionResult().Err)
	}
	m.nextAddr += uint16(max(gw.ProvisionResult().Elements, 1))
	m.g.c.meshProvision.Add(1)
	m.g.log.Info("mesh node provisioned over PB-ADV", "addr", fmt.Sprintf("0x%04x", addr), "uuid", fmt.Sprintf("%x", uuid[:4]),
		"bearer", m.bearerName())
	if err := m.configure(addr, access.OpAppKeyAdd, m.appKey); err != nil {
		return 0, err
	}
	for _, id := range []uint16{modelOnOffServer, modelLevelServer, modelSensorServer} {
		bind := access.ModelAppBind{ElementAddress: addr, AppKeyIndex: appKeyIndex, Model: access.ModelID{ID: id}}
		b, _ := bind.AppendBinary(nil)
		if err := m.configure(addr, access.OpModelAppBind, b); err != nil {
			return 0, err
		}
	}
	pub := access.ModelPublication{ElementAddress: addr, PublishAddress: gatewayMeshAddr, AppKeyIndex: appKeyIndex,
		PublishTTL: 7, Model: access.ModelID{ID: modelSensorServer}}
	b, _ := pub.AppendBinary(nil)
	if err := m.configure(addr, access.OpModelPublicationSet, b); err != nil {
		return 0, err
	}
	return addr, nil
}

// bearerName names the mesh bearer in logs and the status page.
func (m *meshSim) bearerName() string {
	if m.hb != nil {
		return "hci"
	}
	return "air"
}

// now is the mesh's clock: the air's simulated one, or the real one.
func (m *meshSim) now() time.Time {
	if m.air != nil {
		return m.air.Now()
	}
	return time.Now()
}

// step runs the mesh for up to d or until cond (if not nil) holds, and
// reports whether it held. On the air it runs in simulated time; on the
// HCI bearer in real time, handing received advertisements to the gateway
// node and running its timers.
func (m *meshSim) step(d time.Duration, cond func() bool) (bool, error) {
	if m.air != nil {
		return m.air.Run(d, cond)
	}
	deadline := time.Now().Add(d)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		if cond != nil && cond() {
			return true, nil
		}
		if err := m.hb.Err(); err != nil {
			return false, err
		}
		now := time.Now()
		if !now.Before(deadline) {
			return false, nil
		}
		wait := min(deadline.Sub(now), 50*time.Millisecond) // bearer errors are polled
		if dl, ok := m.gw.Deadline(); ok {
			wait = max(min(wait, dl.Sub(now)), 0)
		}
		t.Reset(wait)
		select {
		case r := <-m.hb.Received():
			a := r.Adv()
			m.gw.Receive(time.Now(), &a)
		case <-t.C:
			m.gw.Tick(time.Now())
		}
	}
}

// configure sends a Configuration Client message and waits (in simulated
// time) for its status, retrying.
func (m *meshSim) configure(dst uint16, op access.Opcode, params []byte) error {
	want, _ := access.StatusFor(op)
	for attempt := 0; attempt < 5; attempt++ {
		before := len(m.cfgRx)
		if err := m.gw.SendConfig(m.now(), dst, op, params); err != nil {
			return fmt.Errorf("mesh config %v to %04x: %w", op, dst, err)
		}
		var st []byte
		_, err := m.step(5*time.Second, func() bool {
			for _, s := range m.cfgRx[before:] {
				if s.op == want && s.src == dst {
					st = s.params
					return true
				}
			}
			return false
		})
		if err != nil {
			return err
		}
		if st != nil {
			if len(st) > 0 && st[0] != access.StatusSuccess && st[0] != access.StatusKeyIndexAlreadyStored {
				return fmt.Errorf("mesh config %v to %04x: status %d", op, dst, st[0])
			}
			return nil
		}
	}
	return fmt.Errorf("mesh config %v to %04x: no status", op, dst)
}

// gatewayHandler receives the mesh messages addressed to the gateway.
func (m *meshSim) gatewayHandler(_ *node.Node, _ time.Time, msg *node.Message) {
	if msg.DevKey {
		m.cfgRx = append(m.cfgRx, cfgStatus{op: msg.Opcode, src: msg.SRC, params: append([]byte(nil), msg.Params...)})
		return
	}
	now := time.Now()
	name := meshName(msg.SRC)
	var body []byte
	switch msg.Opcode {
	case opSensorStatus:
		body = appendSensorSenML(nil, msg.Params)
	case opOnOffStatus:
		if len(msg.Params) >= 1 {
			body = fmt.Appendf(nil, `[{"n":"onoff","vb":%t}]`, msg.Params[0] != 0)
			m.complete(msg.SRC, msg.Opcode, strconv.Itoa(int(msg.Params[0])))
		}
	case opLevelStatus:
		if len(msg.Params) >= 2 {
			lv := int16(binary.LittleEndian.Uint16(msg.Params))
			body = fmt.Appendf(nil, `[{"n":"level","v":%d}]`, lv)
			m.complete(msg.SRC, msg.Opcode, strconv.Itoa(int(lv)))
		}
	}
	if body != nil {
		m.g.pushIngest(name, body, fmtSenMLJSON, srcMesh, now)
	}
}

// appendSensorSenML turns Sensor Status marshalled data (Mesh Model 1.1
// §4.2.14) into a SenML JSON pack.
func appendSensorSenML(dst []byte, p []byte) []byte {
	dst = append(dst, '[')
	first := true
	for len(p) >= 2 {
		var prop uint16
		var n int
		if p[0]&1 == 0 { // Format A: 4-bit length, 11-bit property
			h := binary.LittleEndian.Uint16(p)
			n, prop = int(h>>1&0xf)+1, h>>5
			p = p[2:]
		} else { // Format B: 7-bit length, 16-bit property
			if len(p) < 3 {
				break
			}
			n, prop = int(p[0]>>1)+1, binary.LittleEndian.Uint16(p[1:])
			if n == 0x80 {
				n = 0
			}
			p = p[3:]
		}
		if n > len(p) {
			break
		}
		v := p[:n]
		p = p[n:]
		if !first {
			dst = append(dst, ',')
		}
		first = false
		switch {
		case prop == propAmbientTemperature && n == 1:
			dst = fmt.Appendf(dst, `{"n":"temperature","u":"Cel","v":%g}`, float64(int8(v[0]))/2)
		default:
			var x uint64
			for i := len(v) - 1; i >= 0 && i < 8; i-- {
				x = x<<8 | uint64(v[i])
			}
			dst = fmt.Appendf(dst, `{"n":"prop_%04x","v":%d}`, prop, x)
		}
	}
	return append(dst, ']')
}

// complete finishes a pending command waiting for status op from src.
func (m *meshSim) complete(src uint16, op access.Opcode, state string) {
	if c := m.pending[src]; c != nil && c.want == op {
		delete(m.pending, src)
		c.done <- state
	}
}

// handle is a simulated device's application: Generic OnOff and Level
// servers that answer Set with Status, and a Sensor Server.
func (d *meshDevice) handle(n *node.Node, now time.Time, msg *node.Message) {
	if msg.DevKey {
		return
	}
	reply := func(op access.Opcode, params []byte) {
		_ = n.Send(now, &node.Outgoing{Element: msg.Element, DST: msg.SRC, AppKeyIndex: msg.AppKeyIndex, TTL: 0xff, Opcode: op, Params: params})
	}
	switch msg.Opcode {
	case opOnOffSet, opOnOffSetUnack:
		if len(msg.Params) >= 2 && msg.Params[0] <= 1 {
			d.onoff = msg.Params[0]
			if msg.Opcode == opOnOffSet {
				reply(opOnOffStatus, []byte{d.onoff})
			}
		}
	case opOnOffGet:
		reply(opOnOffStatus, []byte{d.onoff})
	case opLevelSet, opLevelSetUnack:
		if len(msg.Params) >= 3 {
			d.level = int16(binary.LittleEndian.Uint16(msg.Params))
			if msg.Opcode == opLevelSet {
				reply(opLevelStatus, binary.LittleEndian.AppendUint16(nil, uint16(d.level)))
			}
		}
	case opLevelGet:
		reply(opLevelStatus, binary.LittleEndian.AppendUint16(nil, uint16(d.level)))
	case opSensorGet:
		reply(opSensorStatus, d.sensorStatus())
	}
}

// sensorStatus encodes the temperature as Sensor Status Format A.
func (d *meshDevice) sensorStatus() []byte {
	h := uint16(propAmbientTemperature)<<5 | 0<<1 // length 1 (encoded as 0), format A
	b := binary.LittleEndian.AppendUint16(nil, h)
	return append(b, byte(int8(math.Round(d.temp*2))))
}

// run drives the mesh in real time until ctx ends.
func (m *meshSim) run(ctx context.Context) {
	if m.hb != nil {
		m.runHCI(ctx)
		return
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for i, d := range m.devs {
		d.next = m.air.Now().Add(time.Duration(i+1) * m.interval / time.Duration(len(m.devs)+1))
	}
	for {
		select {
		case <-ctx.Done():
			for _, c := range m.pending {
				close(c.done)
			}
			return
		case c := <-m.cmds:
			m.start(c)
		case now := <-t.C:
			d := now.Sub(last)
			last = now
			if _, err := m.air.Run(d, nil); err != nil {
				m.g.log.Warn("mesh air", "err", err)
			}
			m.publishDue()
		}
	}
}

// runHCI drives the gateway node over the HCI bearer until ctx ends (or
// the controller goes away), provisioning the devices it hears.
func (m *meshSim) runHCI(ctx context.Context) {
	defer func() {
		for _, c := range m.pending {
			close(c.done)
		}
		m.pending = map[uint16]*meshCmd{}
	}()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for {
		wait := time.Hour
		if dl, ok := m.gw.Deadline(); ok {
			wait = max(time.Until(dl), 0)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case c := <-m.cmds:
			m.start(c)
		case r := <-m.hb.Received():
			a := r.Adv()
			m.gw.Receive(time.Now(), &a)
		case <-t.C:
			m.gw.Tick(time.Now())
		case <-poll.C:
			if err := m.hb.Err(); err != nil {
				m.g.log.Error("mesh: the HCI bearer stopped; mesh is down", "err", err)
				return
			}
			m.provisionHeard(ctx)
		}
	}
}

// provisionHeard provisions the devices heard since the last call. A
// device that fails is forgotten, so its next beacon retries it.
func (m *meshSim) provisionHeard(ctx context.Context) {
	for m.done < len(m.order) && ctx.Err() == nil {
		uuid := m.order[m.done]
		if _, err := m.provision(uuid, 30*time.Second); err != nil {
			m.g.log.Warn("mesh: provisioning failed; retrying on its next beacon", "uuid", fmt.Sprintf("%x", uuid[:4]), "err", err)
			delete(m.seen, uuid)
			m.order = append(m.order[:m.done], m.order[m.done+1:]...)
			return
		}
		m.done++
	}
}

// publishDue makes the simulated sensors publish their temperature.
func (m *meshSim) publishDue() {
	now := m.air.Now()
	for _, d := range m.devs {
		if d.addr == 0 || now.Before(d.next) || m.interval <= 0 {
			continue
		}
		d.next = now.Add(m.interval)
		d.temp += (mrand.Float64() - 0.5) * 0.5
		if err := d.n.Publish(now, 0, access.ModelID{ID: modelSensorServer}, opSensorStatus, d.sensorStatus()); err != nil {
			m.g.log.Warn("mesh publish", "addr", d.addr, "err", err)
		}
	}
}

// start sends a command's Set from the gateway node (air goroutine).
func (m *meshSim) start(c *meshCmd) {
	if old := m.pending[c.addr]; old != nil {
		close(old.done) // superseded
	}
	m.pending[c.addr] = c
	if err := m.gw.Send(m.now(), &node.Outgoing{DST: c.addr, AppKeyIndex: appKeyIndex, TTL: 0xff, Opcode: c.op, Params: c.params}); err != nil {
		delete(m.pending, c.addr)
		close(c.done)
	}
}

// command sends Generic OnOff Set or Generic Level Set to a mesh node and
// waits for its status.
func (m *meshSim) command(ctx context.Context, addr uint16, resource string, payload []byte) (string, error) {
	tid := byte(m.tid.Add(1))
	c := &meshCmd{addr: addr, done: make(chan string, 1)}
	v := strings.ToLower(strings.TrimSpace(string(payload)))
	switch resource {
	case "onoff":
		var on byte
		switch v {
		case "1", "on", "true":
			on = 1
		case "0", "off", "false":
		default:
			return "", errMeshValue
		}
		c.op, c.want, c.params = opOnOffSet, opOnOffStatus, []byte{on, tid}
	case "level":
		lv, err := strconv.ParseInt(v, 10, 16)
		if err != nil {
			return "", errMeshValue
		}
		c.op, c.want = opLevelSet, opLevelStatus
		c.params = append(binary.LittleEndian.AppendUint16(nil, uint16(lv)), tid)
	default:
		return "", errMeshResource
	}
	select {
	case m.cmds <- c:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case s, ok := <-c.done:
		if !ok {
			return "", errors.New("mesh: command not delivered")
		}
		return s, nil
	case <-ctx.Done():
		return "", fmt.Errorf("mesh: no status from 0x%04x: %w", addr, ctx.Err())
	}
}

// hciOpener opens the controller hci<index> as an H:4 stream:
// hci.OpenUserChannel, or a fake controller in tests.
type hciOpener func(index uint16) (io.ReadWriteCloser, error)

// hciInitTimeout bounds the controller's initialisation (reset, event
// masks, advertising and scan parameters).
const hciInitTimeout = 5 * time.Second

// openMesh builds the mesh side that mesh.bearer asks for (nil for "off").
// "hci" fails when the controller cannot be opened or initialised (on
// systems other than Linux with an error wrapping errors.ErrUnsupported);
// "auto" then falls back to the in-memory air and logs why. The demo's
// simulated nodes (demo.mesh_nodes) live on the air only.
func (g *Gateway) openMesh(demo bool, open hciOpener) (*meshSim, error) {
	cfg := g.cfg
	nodes := 0
	if demo {
		nodes = cfg.Demo.MeshNodes
	}
	switch cfg.Mesh.Bearer {
	case "off":
		return nil, nil
	case "hci", "auto":
		m, err := g.openMeshHCI(open)
		if err == nil {
			if nodes > 0 {
				g.log.Warn("mesh: the demo's simulated nodes need the in-memory air; the HCI bearer has only real devices", "demo_mesh_nodes", nodes)
			}
			return m, nil
		}
		if cfg.Mesh.Bearer == "hci" {
			return nil, err
		}
		g.log.Warn("mesh: no usable Bluetooth controller, using the in-memory air instead (mesh.bearer = auto)",
			"hci_index", cfg.Mesh.HCIIndex, "err", err)
	}
	if nodes == 0 {
		g.log.Info("mesh: on the in-memory air with no simulated nodes (demo.mesh_nodes with -demo adds some)")
	}
	return newMeshSim(g, nodes, cfg.Demo.Interval.D())
}

// openMeshHCI opens and initialises hci<mesh.hci_index> and puts the
// gateway's node on it.
func (g *Gateway) openMeshHCI(open hciOpener) (*meshSim, error) {
	idx := uint16(g.cfg.Mesh.HCIIndex)
	name := "hci" + strconv.Itoa(int(idx))
	rw, err := open(idx)
	if err != nil {
		return nil, fmt.Errorf("mesh.bearer: %s: %w", name, err)
	}
	hb := hci.New(rw, hci.Config{Logger: g.log.With("component", "hci")})
	ctx, cancel := context.WithTimeout(g.runCtx, hciInitTimeout)
	err = hb.Init(ctx)
	cancel()
	if err == nil {
		var m *meshSim
		if m, err = newMeshHCI(g, hb); err == nil {
			g.log.Info("mesh: on the HCI bearer", "controller", name)
			return m, nil
		}
	}
	(&meshSim{g: g, hb: hb}).close()
	return nil, fmt.Errorf("mesh.bearer: %s: %w", name, err)
}

// close releases the mesh's controller, if any, once run has returned. It
// waits a little for the bearer's goroutines: a reader blocked in a read
// that closing cannot interrupt is left behind (and logged).
func (m *meshSim) close() {
	if m.hb == nil {
		return
	}
	_ = m.hb.Close()
	done := make(chan struct{})
	go func() { m.hb.Wait(); close(done) }()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		m.g.log.Warn("mesh: the HCI bearer's goroutines did not stop within 2 s")
	}
}
