package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// fakeBroker hands out the broker ends of in-memory connections, for tests
// that script the broker's side packet by packet.
type fakeBroker struct {
	t     testing.TB
	v     mqtt.Version
	conns chan *fakeConn
}

type fakeConn struct {
	t  testing.TB
	c  net.Conn
	fr *mqtt.Framer
	d  mqtt.Decoded
	v  mqtt.Version
	wb []byte
}

func newFakeBroker(t testing.TB, v mqtt.Version) *fakeBroker {
	return &fakeBroker{t: t, v: v, conns: make(chan *fakeConn, 16)}
}

func (f *fakeBroker) dial(ctx context.Context) (io.ReadWriteCloser, error) {
	a, b := net.Pipe()
	fc := &fakeConn{t: f.t, c: b, v: f.v, fr: mqtt.NewFramer(b, nil, mqtt.FramerConfig{Version: f.v, MaxPacketSize: 1 << 20})}
	select {
	case f.conns <- fc:
	default:
		a.Close()
		return nil, errors.New("fake broker: too many connections")
	}
	return a, nil
}

func (f *fakeBroker) next() *fakeConn {
	f.t.Helper()
	select {
	case fc := <-f.conns:
		f.t.Cleanup(func() { fc.c.Close() })
		return fc
	case <-time.After(10 * time.Second):
		f.t.Fatal("fake broker: no connection")
		return nil
	}
}

// read returns the next packet from the client.
func (fc *fakeConn) read() mqtt.PacketType {
	fc.t.Helper()
	fc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	t, err := fc.fr.ReadInto(&fc.d)
	if err != nil {
		fc.t.Fatalf("fake broker: read: %v", err)
	}
	return t
}

// expect reads packets, skipping PINGREQ (answered), until one of type t.
func (fc *fakeConn) expect(t mqtt.PacketType) {
	fc.t.Helper()
	for {
		got := fc.read()
		if got == t {
			return
		}
		if got == mqtt.TypePingreq {
			fc.write(&mqtt.Ping{Type: mqtt.TypePingresp})
			continue
		}
		fc.t.Fatalf("fake broker: got %v, want %v", got, t)
	}
}

func (fc *fakeConn) write(p mqtt.Packet) {
	fc.t.Helper()
	b, err := p.AppendBinary(fc.wb[:0])
	if err != nil {
		fc.t.Fatalf("fake broker: encode %v: %v", p.PacketType(), err)
	}
	fc.wb = b
	fc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := fc.c.Write(b); err != nil {
		fc.t.Fatalf("fake broker: write: %v", err)
	}
}

// accept reads CONNECT and answers CONNACK with props.
func (fc *fakeConn) accept(present bool, props mqtt.Properties) {
	fc.t.Helper()
	fc.expect(mqtt.TypeConnect)
	fc.write(&mqtt.Connack{Version: fc.v, SessionPresent: present, Props: props})
}

// serve answers the client like a broker that acknowledges everything,
// until the connection ends. It runs on its own goroutine; the returned
// function waits for it.
func (fc *fakeConn) serve() (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var wb []byte
		var d mqtt.Decoded
		for {
			t, err := fc.fr.ReadInto(&d)
			if err != nil {
				return
			}
			var out []byte
			switch t {
			case mqtt.TypePublish:
				switch d.Publish.QoS {
				case 1:
					out = append(wb[:0], byte(mqtt.TypePuback)<<4, 2, byte(d.Publish.ID>>8), byte(d.Publish.ID))
				case 2:
					out = append(wb[:0], byte(mqtt.TypePubrec)<<4, 2, byte(d.Publish.ID>>8), byte(d.Publish.ID))
				}
			case mqtt.TypePubrel:
				out = append(wb[:0], byte(mqtt.TypePubcomp)<<4, 2, byte(d.Ack.ID>>8), byte(d.Ack.ID))
			case mqtt.TypePingreq:
				out = append(wb[:0], byte(mqtt.TypePingresp)<<4, 0)
			case mqtt.TypeSubscribe:
				ack := mqtt.Suback{Version: fc.v, ID: d.Subscribe.ID}
				for _, s := range d.Subscribe.Filters {
					ack.Codes = append(ack.Codes, mqtt.ReasonCode(s.QoS))
				}
				out, _ = ack.AppendBinary(wb[:0])
			case mqtt.TypeDisconnect:
				return
			}
			if out != nil {
				wb = out
				if _, err := fc.c.Write(out); err != nil {
					return
				}
			}
		}
	}()
	return wg.Wait
}

func fakeClient(t testing.TB, fb *fakeBroker, cfg client.Config) *client.Client {
	t.Helper()
	cfg.Dialer = fb.dial
	cfg.Version = fb.v
	return newClient(t, cfg)
}

func TestFakeInboundTopicAlias(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	col := newCollector()
	c := fakeClient(t, fb, client.Config{TopicAliasMaximum: 4, Handler: col.handle})
	c.Start()
	fc := fb.next()
	fc.expect(mqtt.TypeConnect)
	if !fc.d.Connect.Props.Present.Has(mqtt.PropTopicAliasMax) || fc.d.Connect.Props.TopicAliasMax != 4 {
		t.Fatalf("CONNECT does not announce Topic Alias Maximum 4: %+v", fc.d.Connect.Props)
	}
	fc.write(&mqtt.Connack{Version: mqtt.V5})
	p := mqtt.Publish{Version: mqtt.V5, Topic: []byte("a/b"), Payload: []byte("1")}
	p.Props.Set(mqtt.PropTopicAlias, 3)
	fc.write(&p)
	p.Topic, p.Payload = nil, []byte("2")
	fc.write(&p)
	msgs := col.wait(t, 2, 5*time.Second)
	for _, m := range msgs {
		if string(m.Topic) != "a/b" {
			t.Fatalf("alias not resolved: topic %q", m.Topic)
		}
	}
	// An alias above the maximum ends the connection with 0x94.
	p.Topic = []byte("c")
	p.Props.Set(mqtt.PropTopicAlias, 5)
	fc.write(&p)
	fc.expect(mqtt.TypeDisconnect)
	if fc.d.Disconnect.Code != mqtt.TopicAliasInvalid {
		t.Fatalf("DISCONNECT reason %v, want topic alias invalid", fc.d.Disconnect.Code)
	}
}

type testAuth struct {
	mu    sync.Mutex
	steps []string
}

func (a *testAuth) Method() string { return "TEST-1" }
func (a *testAuth) Start() ([]byte, error) {
	a.log("start")
	return []byte("hello"), nil
}
func (a *testAuth) Continue(data []byte) ([]byte, error) {
	a.log("continue:" + string(data))
	return []byte("response"), nil
}
func (a *testAuth) Done(data []byte) error {
	a.log("done:" + string(data))
	return nil
}
func (a *testAuth) log(s string) { a.mu.Lock(); a.steps = append(a.steps, s); a.mu.Unlock() }

func TestFakeEnhancedAuth(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	auth := &testAuth{}
	c := fakeClient(t, fb, client.Config{Auth: auth})
	done := make(chan error, 1)
	go func() { done <- c.Connect(context.Background()) }()
	fc := fb.next()
	fc.expect(mqtt.TypeConnect)
	if string(fc.d.Connect.Props.AuthMethod) != "TEST-1" || string(fc.d.Connect.Props.AuthData) != "hello" {
		t.Fatalf("CONNECT auth properties %q %q", fc.d.Connect.Props.AuthMethod, fc.d.Connect.Props.AuthData)
	}
	a := mqtt.Auth{Version: mqtt.V5, Code: mqtt.ContinueAuthentication}
	a.Props.SetBytes(mqtt.PropAuthMethod, []byte("TEST-1"))
	a.Props.SetBytes(mqtt.PropAuthData, []byte("challenge"))
	fc.write(&a)
	fc.expect(mqtt.TypeAuth)
	if fc.d.Auth.Code != mqtt.ContinueAuthentication || string(fc.d.Auth.Props.AuthData) != "response" {
		t.Fatalf("client AUTH %v %q", fc.d.Auth.Code, fc.d.Auth.Props.AuthData)
	}
	ack := mqtt.Connack{Version: mqtt.V5}
	ack.Props.SetBytes(mqtt.PropAuthMethod, []byte("TEST-1"))
	ack.Props.SetBytes(mqtt.PropAuthData, []byte("welcome"))
	fc.write(&ack)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Re-authentication on the live connection.
	wait := make(chan struct{})
	go func() {
		defer close(wait)
		fc.expect(mqtt.TypeAuth)
	}()
	if err := c.Reauthenticate(); err != nil {
		t.Fatal(err)
	}
	<-wait
	if fc.d.Auth.Code != mqtt.ReAuthenticate || string(fc.d.Auth.Props.AuthMethod) != "TEST-1" || string(fc.d.Auth.Props.AuthData) != "hello" {
		t.Fatalf("re-authentication AUTH %v %+v", fc.d.Auth.Code, fc.d.Auth.Props)
	}
	a.Props.SetBytes(mqtt.PropAuthData, []byte("again?"))
	fc.write(&a)
	fc.expect(mqtt.TypeAuth)
	done2 := mqtt.Auth{Version: mqtt.V5, Code: mqtt.Success}
	done2.Props.SetBytes(mqtt.PropAuthMethod, []byte("TEST-1"))
	done2.Props.SetBytes(mqtt.PropAuthData, []byte("ok"))
	fc.write(&done2)
	want := []string{"start", "continue:challenge", "done:welcome", "start", "continue:again?", "done:ok"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		auth.mu.Lock()
		got := append([]string(nil), auth.steps...)
		auth.mu.Unlock()
		if len(got) == len(want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("authenticator steps %v, want %v", got, want)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("authenticator steps %v, want %v", got, want)
		}
		time.Sleep(time.Millisecond)
	}
	if !c.Stats().Connected {
		t.Fatal("disconnected after re-authentication")
	}
}

func TestFakeRefused(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	c := fakeClient(t, fb, client.Config{})
	done := make(chan error, 1)
	go func() { done <- c.Connect(context.Background()) }()
	fc := fb.next()
	fc.expect(mqtt.TypeConnect)
	fc.write(&mqtt.Connack{Version: mqtt.V5, Code: mqtt.NotAuthorized})
	err := <-done
	var re *client.ReasonError
	if !errors.As(err, &re) || re.Code != mqtt.NotAuthorized {
		t.Fatalf("Connect: %v, want a ReasonError with not authorized", err)
	}
}

// TestFakeReceiveMaximum: the broker's Receive Maximum bounds the
// outgoing window; each PUBACK lets one more PUBLISH out.
func TestFakeReceiveMaximum(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	c := fakeClient(t, fb, client.Config{ReturnWhenStored: true})
	c.Start()
	fc := fb.next()
	var props mqtt.Properties
	props.Set(mqtt.PropReceiveMax, 3)
	fc.accept(false, props)
	ctx := ctxT(t)
	for i := range 10 {
		if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("rm"), QoS: 1, Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []mqtt.PacketID
	for range 3 {
		fc.expect(mqtt.TypePublish)
		ids = append(ids, fc.d.Publish.ID)
	}
	// Nothing more may come until an acknowledgement.
	fc.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := fc.fr.ReadInto(&fc.d); err == nil {
		t.Fatalf("a 4th PUBLISH beyond Receive Maximum 3: %v", fc.d.Publish.Payload)
	}
	// The Framer cannot continue after a deadline error; use a new one.
	fc.fr = mqtt.NewFramer(fc.c, nil, mqtt.FramerConfig{Version: mqtt.V5})
	fc.write(&mqtt.Ack{Type: mqtt.TypePuback, Version: mqtt.V5, ID: ids[0]})
	fc.expect(mqtt.TypePublish)
	if fc.d.Publish.Payload[0] != 3 {
		t.Fatalf("after one PUBACK got message %d, want 3", fc.d.Publish.Payload[0])
	}
	if got := c.Stats().Inflight; got != 3 {
		t.Fatalf("in flight %d, want 3", got)
	}
}

// TestFakeMaxPacketSize: the broker's Maximum Packet Size is enforced
// before sending.
func TestFakeMaxPacketSize(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	c := fakeClient(t, fb, client.Config{MaxPacketSize: 1000})
	c.Start()
	fc := fb.next()
	fc.expect(mqtt.TypeConnect)
	if fc.d.Connect.Props.MaxPacketSize != 1000 {
		t.Fatalf("announced Maximum Packet Size %d", fc.d.Connect.Props.MaxPacketSize)
	}
	var props mqtt.Properties
	props.Set(mqtt.PropMaxPacketSize, 100)
	fc.write(&mqtt.Connack{Version: mqtt.V5, Props: props})
	wait := fc.serve()
	ctx := ctxT(t)
	for !c.Stats().Connected {
		time.Sleep(time.Millisecond)
	}
	for _, qos := range []uint8{0, 1} {
		err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("big"), QoS: qos, Payload: make([]byte, 200)})
		if !errors.Is(err, client.ErrTooLarge) {
			t.Fatalf("QoS %d: oversize publish: %v", qos, err)
		}
	}
	if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("small"), QoS: 1, Payload: make([]byte, 50)}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	wait()
}

// TestFakeKeepalive: a broker that stops answering PINGREQ is dropped
// after PingTimeout and the client reconnects.
func TestFakeKeepalive(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V311)
	lost := make(chan error, 4)
	c := fakeClient(t, fb, client.Config{KeepAlive: 100 * time.Millisecond, PingTimeout: 150 * time.Millisecond,
		OnConnectionLost: func(err error) { lost <- err }})
	c.Start()
	fc := fb.next()
	fc.accept(false, mqtt.Properties{})
	if fc.d.Connect.KeepAlive != 1 {
		t.Fatalf("CONNECT keepalive %d s, want 1 (rounded up)", fc.d.Connect.KeepAlive)
	}
	start := time.Now()
	fc.expect(mqtt.TypePingreq) // and do not answer
	select {
	case err := <-lost:
		if !errors.Is(err, client.ErrPingTimeout) {
			t.Fatalf("connection lost with %v, want ErrPingTimeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ping timeout")
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("ping timeout after %v", d)
	}
	fc2 := fb.next() // it reconnects
	fc2.accept(true, mqtt.Properties{})
	wait := fc2.serve()
	for c.Stats().Reconnects != 1 {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	wait()
}

// TestFakeSlowHandler: a handler that blocks longer than the ping timeout
// stalls reading (backpressure) but the connection survives.
func TestFakeSlowHandler(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V311)
	release := make(chan struct{})
	var mu sync.Mutex
	n := 0
	lost := make(chan error, 4)
	c := fakeClient(t, fb, client.Config{KeepAlive: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond,
		DeliveryQueue: 4, OnConnectionLost: func(err error) { lost <- err },
		Handler: func(m *mqtt.Publish) {
			mu.Lock()
			n++
			first := n == 1
			mu.Unlock()
			if first {
				<-release
			}
		}})
	c.Start()
	fc := fb.next()
	fc.accept(false, mqtt.Properties{})
	// Serve acks and pings in the background while pushing messages.
	wait := fc.serve()
	go func() {
		p := mqtt.Publish{Topic: []byte("slow"), Payload: []byte("x")}
		b, _ := p.AppendBinary(nil)
		for range 20 {
			if _, err := fc.c.Write(b); err != nil {
				return
			}
		}
	}()
	time.Sleep(600 * time.Millisecond) // many ping timeouts long
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := n
		mu.Unlock()
		if got == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of 20", got)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-lost:
		t.Fatalf("connection lost while the handler was slow: %v", err)
	default:
	}
	c.Close()
	wait()
}

// TestFakeInboundLimits: a broker exceeding the client's Receive Maximum
// or Maximum Packet Size gets DISCONNECT 0x93 or 0x95.
func TestFakeInboundLimits(t *testing.T) {
	t.Run("receive-maximum", func(t *testing.T) {
		fb := newFakeBroker(t, mqtt.V5)
		block := make(chan struct{})
		defer close(block)
		c := fakeClient(t, fb, client.Config{ReceiveMaximum: 2, Handler: func(*mqtt.Publish) { <-block }})
		c.Start()
		fc := fb.next()
		fc.expect(mqtt.TypeConnect)
		if fc.d.Connect.Props.ReceiveMax != 2 {
			t.Fatalf("announced Receive Maximum %d", fc.d.Connect.Props.ReceiveMax)
		}
		fc.write(&mqtt.Connack{Version: mqtt.V5})
		for id := mqtt.PacketID(1); id <= 3; id++ {
			fc.write(&mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: id, Topic: []byte("rm"), Payload: []byte("x")})
		}
		fc.expect(mqtt.TypeDisconnect)
		if fc.d.Disconnect.Code != mqtt.ReceiveMaximumExceeded {
			t.Fatalf("DISCONNECT %v", fc.d.Disconnect.Code)
		}
	})
	// After a Receive Maximum violation the count starts afresh on the
	// next connection: the broker resends the unacknowledged PUBLISHes
	// with DUP, and they must not trip the limit again (the bridge's local
	// client looped through hundreds of reconnects on exactly this).
	t.Run("receive-maximum-reconnect", func(t *testing.T) {
		fb := newFakeBroker(t, mqtt.V5)
		block := make(chan struct{})
		var once sync.Once
		release := func() { once.Do(func() { close(block) }) }
		defer release()
		c := fakeClient(t, fb, client.Config{ReceiveMaximum: 2, MinBackoff: time.Millisecond, Handler: func(*mqtt.Publish) { <-block }})
		c.Start()
		fc := fb.next()
		fc.accept(false, mqtt.Properties{})
		for id := mqtt.PacketID(1); id <= 3; id++ {
			fc.write(&mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: id, Topic: []byte("rm"), Payload: []byte("x")})
		}
		fc.expect(mqtt.TypeDisconnect)
		if fc.d.Disconnect.Code != mqtt.ReceiveMaximumExceeded {
			t.Fatalf("DISCONNECT %v", fc.d.Disconnect.Code)
		}
		fc.c.Close()
		fc = fb.next()
		fc.accept(true, mqtt.Properties{})
		for id := mqtt.PacketID(1); id <= 2; id++ {
			fc.write(&mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: id, Dup: true, Topic: []byte("rm"), Payload: []byte("x")})
		}
		release()
		acked := map[mqtt.PacketID]bool{}
		for len(acked) < 2 {
			switch typ := fc.read(); typ {
			case mqtt.TypePuback:
				acked[fc.d.Ack.ID] = true
			case mqtt.TypePingreq:
				fc.write(&mqtt.Ping{Type: mqtt.TypePingresp})
			case mqtt.TypeDisconnect:
				t.Fatalf("DISCONNECT %v after the resend, acked %v", fc.d.Disconnect.Code, acked)
			default:
				t.Fatalf("unexpected %v", typ)
			}
		}
		if !acked[1] || !acked[2] {
			t.Fatalf("acked %v", acked)
		}
	})
	t.Run("packet-size", func(t *testing.T) {
		fb := newFakeBroker(t, mqtt.V5)
		c := fakeClient(t, fb, client.Config{MaxPacketSize: 512, Handler: func(*mqtt.Publish) {}})
		c.Start()
		fc := fb.next()
		fc.accept(false, mqtt.Properties{})
		big, _ := (&mqtt.Publish{Version: mqtt.V5, Topic: []byte("big"), Payload: make([]byte, 1000)}).AppendBinary(nil)
		go fc.c.Write(big) // the client reads only its header
		fc.expect(mqtt.TypeDisconnect)
		if fc.d.Disconnect.Code != mqtt.PacketTooLarge {
			t.Fatalf("DISCONNECT %v", fc.d.Disconnect.Code)
		}
	})
}
