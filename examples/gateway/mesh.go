package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
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
// address 0x0001) and, in demo mode, simulated sensor nodes, all on an
// in-memory air (package blemesh/bearer) driven in real time by one
// goroutine. With a Bluetooth controller the same gateway node would sit on
// the HCI bearer instead (not wired in this example yet).
type meshSim struct {
	g        *Gateway
	air      *bearer.Air
	gw       *node.Node
	devs     []*meshDevice
	cmds     chan *meshCmd
	pending  map[uint16]*meshCmd
	interval time.Duration
	tid      atomic.Uint32
	cfgRx    []cfgStatus
	seen     map[[16]byte]bool
	order    [][16]byte
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
		cmds: make(chan *meshCmd, 64), pending: map[uint16]*meshCmd{}, interval: interval, seen: map[[16]byte]bool{}}
	client := func(id uint16, ops ...access.Opcode) node.Model {
		return node.Model{ID: access.ModelID{ID: id}, Opcodes: ops}
	}
	r := m.air.Join(nil)
	gw, err := node.New(node.Config{UUID: randKey(), Bearer: r, Handler: m.gatewayHandler, TransmitCount: 1,
		Elements: []node.Element{{Models: []node.Model{
			client(modelOnOffClient, opOnOffStatus), client(modelLevelClient, opLevelStatus), client(modelSensorClient, opSensorStatus)}}},
		OnUnprovisioned: func(uuid [16]byte, _ uint16) {
			if !m.seen[uuid] {
				m.seen[uuid] = true
				m.order = append(m.order, uuid)
			}
		}})
	if err != nil {
		return nil, fmt.Errorf("mesh gateway node: %w", err)
	}
	r.Attach(gw)
	m.gw = gw
	netKey, appKey := randKey(), randKey()
	if err := gw.SelfProvision(m.air.Now(), prov.ProvisioningData{NetKey: netKey, UnicastAddress: gatewayMeshAddr}, randKey()); err != nil {
		return nil, fmt.Errorf("mesh self-provision: %w", err)
	}
	add := access.AppKeyAdd{AppKeyIndex: appKeyIndex, AppKey: appKey}
	ak, _ := add.AppendBinary(nil)
	if err := m.configure(gatewayMeshAddr, access.OpAppKeyAdd, ak); err != nil {
		return nil, err
	}
	for _, id := range []uint16{modelOnOffClient, modelLevelClient, modelSensorClient} {
		bind := access.ModelAppBind{ElementAddress: gatewayMeshAddr, AppKeyIndex: appKeyIndex, Model: access.ModelID{ID: id}}
		b, _ := bind.AppendBinary(nil)
		if err := m.configure(gatewayMeshAddr, access.OpModelAppBind, b); err != nil {
			return nil, err
		}
	}

	// The simulated devices: unprovisioned, beaconing.
	for i := 0; i < n; i++ {
		d := &meshDevice{uuid: randKey(), temp: 19 + float64(i), level: 0}
		r := m.air.Join(nil)
		dn, err := node.New(node.Config{UUID: d.uuid, Bearer: r, TransmitCount: 1, UnprovBeaconPeriod: 500 * time.Millisecond,
			Handler: d.handle, Elements: []node.Element{{Models: []node.Model{
				{ID: access.ModelID{ID: modelOnOffServer}, Opcodes: []access.Opcode{opOnOffGet, opOnOffSet, opOnOffSetUnack}},
				{ID: access.ModelID{ID: modelLevelServer}, Opcodes: []access.Opcode{opLevelGet, opLevelSet, opLevelSetUnack}},
				{ID: access.ModelID{ID: modelSensorServer}, Opcodes: []access.Opcode{opSensorGet}},
			}}}})
		if err != nil {
			return nil, fmt.Errorf("mesh node: %w", err)
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
	addr := uint16(firstNodeAddr)
	for _, uuid := range m.order {
		d := byUUID[uuid]
		if d == nil {
			continue
		}
		d.addr = addr
		addr++
		if err := gw.ProvisionDevice(m.air.Now(), uuid, d.addr); err != nil {
			return nil, fmt.Errorf("mesh provision %04x: %w", d.addr, err)
		}
		ok, err := m.air.Run(2*time.Minute, func() bool { return gw.ProvisionResult().Done })
		if err != nil || !ok || gw.ProvisionResult().Err != nil {
			return nil, fmt.Errorf("mesh provision %04x: %v %v", d.addr, err, gw.ProvisionResult().Err)
		}
		g.c.meshProvision.Add(1)
		g.log.Info("mesh node provisioned over PB-ADV", "addr", fmt.Sprintf("0x%04x", d.addr), "uuid", fmt.Sprintf("%x", uuid[:4]))
		if err := m.configure(d.addr, access.OpAppKeyAdd, ak); err != nil {
			return nil, err
		}
		for _, id := range []uint16{modelOnOffServer, modelLevelServer, modelSensorServer} {
			bind := access.ModelAppBind{ElementAddress: d.addr, AppKeyIndex: appKeyIndex, Model: access.ModelID{ID: id}}
			b, _ := bind.AppendBinary(nil)
			if err := m.configure(d.addr, access.OpModelAppBind, b); err != nil {
				return nil, err
			}
		}
		pub := access.ModelPublication{ElementAddress: d.addr, PublishAddress: gatewayMeshAddr, AppKeyIndex: appKeyIndex,
			PublishTTL: 7, Model: access.ModelID{ID: modelSensorServer}}
		b, _ := pub.AppendBinary(nil)
		if err := m.configure(d.addr, access.OpModelPublicationSet, b); err != nil {
			return nil, err
		}
	}
	for i, d := range m.devs {
		if d.addr == 0 {
			return nil, fmt.Errorf("mesh: device %d sent no unprovisioned beacon", i)
		}
	}
	return m, nil
}

// configure sends a Configuration Client message and waits (in simulated
// time) for its status, retrying.
func (m *meshSim) configure(dst uint16, op access.Opcode, params []byte) error {
	want, _ := access.StatusFor(op)
	for attempt := 0; attempt < 5; attempt++ {
		before := len(m.cfgRx)
		if err := m.gw.SendConfig(m.air.Now(), dst, op, params); err != nil {
			return fmt.Errorf("mesh config %v to %04x: %w", op, dst, err)
		}
		var st []byte
		_, err := m.air.Run(5*time.Second, func() bool {
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

// run drives the air in real time until ctx ends.
func (m *meshSim) run(ctx context.Context) {
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
	if err := m.gw.Send(m.air.Now(), &node.Outgoing{DST: c.addr, AppKeyIndex: appKeyIndex, TTL: 0xff, Opcode: c.op, Params: c.params}); err != nil {
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
