package broker

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// tclient is a minimal MQTT client for tests, built on the codec's Framer.
type tclient struct {
	tb  testing.TB
	nc  net.Conn
	fr  *mqtt.Framer
	v   mqtt.Version
	in  mqtt.Decoded
	wmu sync.Mutex
	ack *mqtt.Connack
}

// newBroker starts a broker with cfg and closes it at the end of the test.
func newBroker(tb testing.TB, cfg Config) *Broker {
	tb.Helper()
	if cfg.SysInterval == 0 {
		cfg.SysInterval = -1
	}
	b, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// pipeClient connects an in-process client and sends cp.
func pipeClient(tb testing.TB, b *Broker, cp mqtt.Connect) *tclient {
	tb.Helper()
	nc, err := b.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	return handshake(tb, nc, cp)
}

// tcpClient dials addr and sends cp.
func tcpClient(tb testing.TB, addr string, cp mqtt.Connect) *tclient {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	return handshake(tb, nc, cp)
}

func handshake(tb testing.TB, nc net.Conn, cp mqtt.Connect) *tclient {
	tb.Helper()
	if cp.Version == 0 {
		cp.Version = mqtt.V5
	}
	c := &tclient{tb: tb, nc: nc, v: cp.Version, fr: mqtt.NewFramer(nc, nc, mqtt.FramerConfig{MaxPacketSize: 1 << 20})}
	tb.Cleanup(func() { nc.Close() })
	c.write(&cp)
	p := c.read()
	ca, ok := p.(*mqtt.Connack)
	if !ok {
		tb.Fatalf("got %T, want CONNACK", p)
	}
	c.ack = ca
	return c
}

func (c *tclient) write(p mqtt.Packet) {
	c.tb.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.fr.WritePacket(p); err != nil {
		c.tb.Fatalf("write %v: %v", p.PacketType(), err)
	}
}

// readTimeout returns the next packet (cloned), or an error.
func (c *tclient) readTimeout(d time.Duration) (mqtt.Packet, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	t, err := c.fr.ReadInto(&c.in)
	if err != nil {
		return nil, err
	}
	switch t {
	case mqtt.TypeConnack:
		return c.in.Connack.Clone(), nil
	case mqtt.TypePublish:
		return c.in.Publish.Clone(), nil
	case mqtt.TypePuback, mqtt.TypePubrec, mqtt.TypePubrel, mqtt.TypePubcomp:
		return c.in.Ack.Clone(), nil
	case mqtt.TypeSuback:
		return c.in.Suback.Clone(), nil
	case mqtt.TypeUnsuback:
		return c.in.Unsuback.Clone(), nil
	case mqtt.TypePingresp:
		return c.in.Ping.Clone(), nil
	case mqtt.TypeDisconnect:
		return c.in.Disconnect.Clone(), nil
	case mqtt.TypeAuth:
		return c.in.Auth.Clone(), nil
	}
	return nil, errors.New("unexpected " + t.String())
}

func (c *tclient) read() mqtt.Packet {
	c.tb.Helper()
	p, err := c.readTimeout(5 * time.Second)
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return p
}

// none asserts that nothing arrives within d.
func (c *tclient) none(d time.Duration) {
	c.tb.Helper()
	p, err := c.readTimeout(d)
	if err == nil {
		c.tb.Fatalf("unexpected %T %+v", p, p)
	}
	c.reset()
}

// reset replaces the Framer after a read timeout, which a Framer keeps.
func (c *tclient) reset() {
	c.fr = mqtt.NewFramer(c.nc, c.nc, mqtt.FramerConfig{MaxPacketSize: 1 << 20, Version: c.v})
}

func (c *tclient) subscribe(id mqtt.PacketID, subID uint32, subs ...mqtt.Subscription) *mqtt.Suback {
	c.tb.Helper()
	sp := &mqtt.Subscribe{Version: c.v, ID: id, Filters: subs}
	if subID != 0 {
		sp.Props.SubscriptionIDs = []uint32{subID}
	}
	c.write(sp)
	p := c.read()
	sa, ok := p.(*mqtt.Suback)
	if !ok {
		c.tb.Fatalf("got %T, want SUBACK", p)
	}
	return sa
}

func (c *tclient) sub(filter string, qos uint8) {
	c.tb.Helper()
	sa := c.subscribe(1, 0, mqtt.Subscription{Filter: []byte(filter), QoS: qos})
	if sa.Codes[0].IsError() {
		c.tb.Fatalf("subscribe %s: %v", filter, sa.Codes[0])
	}
}

func (c *tclient) pub(topic, payload string, qos uint8, retain bool, id mqtt.PacketID) {
	c.tb.Helper()
	if qos == 0 {
		id = 0
	}
	c.write(&mqtt.Publish{Version: c.v, Topic: []byte(topic), Payload: []byte(payload), QoS: qos, Retain: retain, ID: id})
}

// sync waits for a PINGRESP: every packet sent before has been handled.
func (c *tclient) sync() {
	c.tb.Helper()
	c.write(&mqtt.Ping{Type: mqtt.TypePingreq})
	if p, ok := c.read().(*mqtt.Ping); !ok || p.Type != mqtt.TypePingresp {
		c.tb.Fatalf("got %+v, want PINGRESP", p)
	}
}

// pubAcked publishes at QoS 1 or 2 and completes the flow.
func (c *tclient) pubAcked(topic, payload string, qos uint8, retain bool, id mqtt.PacketID) mqtt.ReasonCode {
	c.tb.Helper()
	c.pub(topic, payload, qos, retain, id)
	if qos == 0 {
		return 0
	}
	a := c.readAck()
	if qos == 2 && !a.Code.IsError() {
		c.write(&mqtt.Ack{Type: mqtt.TypePubrel, Version: c.v, ID: id})
		c.readAck()
	}
	return a.Code
}

func (c *tclient) readAck() *mqtt.Ack {
	c.tb.Helper()
	p := c.read()
	a, ok := p.(*mqtt.Ack)
	if !ok {
		c.tb.Fatalf("got %T %+v, want an ack", p, p)
	}
	return a
}

func (c *tclient) readPub() *mqtt.Publish {
	c.tb.Helper()
	p := c.read()
	pp, ok := p.(*mqtt.Publish)
	if !ok {
		c.tb.Fatalf("got %T %+v, want PUBLISH", p, p)
	}
	return pp
}

// recv reads a PUBLISH and completes its QoS flow.
func (c *tclient) recv() *mqtt.Publish {
	c.tb.Helper()
	p := c.readPub()
	switch p.QoS {
	case 1:
		c.write(&mqtt.Ack{Type: mqtt.TypePuback, Version: c.v, ID: p.ID})
	case 2:
		c.write(&mqtt.Ack{Type: mqtt.TypePubrec, Version: c.v, ID: p.ID})
		a := c.readAck()
		if a.Type != mqtt.TypePubrel {
			c.tb.Fatalf("got %v, want PUBREL", a.Type)
		}
		c.write(&mqtt.Ack{Type: mqtt.TypePubcomp, Version: c.v, ID: p.ID})
	}
	return p
}

func v5(id string) mqtt.Connect {
	return mqtt.Connect{Version: mqtt.V5, CleanStart: true, ClientID: []byte(id), KeepAlive: 60}
}

func v311(id string) mqtt.Connect {
	return mqtt.Connect{Version: mqtt.V311, CleanStart: true, ClientID: []byte(id), KeepAlive: 60}
}

// eventually polls cond for up to 5 s.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}
