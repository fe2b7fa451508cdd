package broker

import (
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

func TestQoSRoundTrip(t *testing.T) {
	b := newBroker(t, Config{})
	for _, ver := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		for qos := uint8(0); qos <= 2; qos++ {
			name := ver.String() + "/qos" + string(rune('0'+qos))
			t.Run(name, func(t *testing.T) {
				cs := v5("sub")
				cs.Version = ver
				sub := pipeClient(t, b, cs)
				if sub.ack.Code != 0 {
					t.Fatalf("connack %v", sub.ack.Code)
				}
				sub.sub("a/+/c", 2)
				cp := v5("pub")
				cp.Version = ver
				pub := pipeClient(t, b, cp)
				for i := range 3 {
					code := pub.pubAcked("a/b/c", "hello", qos, false, mqtt.PacketID(10+i))
					if code.IsError() {
						t.Fatalf("ack code %v", code)
					}
					p := sub.recv()
					if string(p.Topic) != "a/b/c" || string(p.Payload) != "hello" || p.QoS != qos {
						t.Fatalf("got %+v", p)
					}
				}
			})
		}
	}
}

func TestRetained(t *testing.T) {
	b := newBroker(t, Config{})
	pub := pipeClient(t, b, v5("pub"))
	pub.pubAcked("r/1", "one", 1, true, 1)
	pub.pubAcked("r/2", "two", 1, true, 2)
	sub := pipeClient(t, b, v5("sub"))
	sub.sub("r/#", 1)
	got := []string{string(sub.recv().Payload), string(sub.recv().Payload)}
	slices.Sort(got)
	if !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("retained = %v", got)
	}
	// Retain handling 2: none; 1: only for a new subscription.
	sa := sub.subscribe(2, 0, mqtt.Subscription{Filter: []byte("r/1"), QoS: 1, RetainHandling: 2})
	if sa.Codes[0] != 1 {
		t.Fatal(sa.Codes)
	}
	sub.none(100 * time.Millisecond)
	sub.subscribe(3, 0, mqtt.Subscription{Filter: []byte("r/2"), QoS: 1, RetainHandling: 1})
	if p := sub.recv(); string(p.Payload) != "two" || !p.Retain {
		t.Fatalf("%+v", p)
	}
	sub.subscribe(4, 0, mqtt.Subscription{Filter: []byte("r/2"), QoS: 1, RetainHandling: 1})
	sub.none(100 * time.Millisecond)
	// An empty retained message clears the topic.
	pub.pubAcked("r/1", "", 1, true, 3)
	if p := sub.recv(); len(p.Payload) != 0 {
		t.Fatalf("%+v", p)
	}
	if st := b.Stats(); st.Retained != 1 {
		t.Fatalf("retained count %d", st.Retained)
	}
}

func TestRetainLimits(t *testing.T) {
	b := newBroker(t, Config{MaxRetained: 2})
	pub := pipeClient(t, b, v5("pub"))
	for i, want := range []mqtt.ReasonCode{mqtt.NoMatchingSubscribers, mqtt.NoMatchingSubscribers, mqtt.QuotaExceeded} {
		if code := pub.pubAcked("t/"+string(rune('a'+i)), "x", 1, true, mqtt.PacketID(i+1)); code != want {
			t.Fatalf("publish %d: code %v, want %v", i, code, want)
		}
	}
}

func TestWill(t *testing.T) {
	b := newBroker(t, Config{})
	sub := pipeClient(t, b, v5("sub"))
	sub.sub("will/#", 1)

	cp := v5("w1")
	cp.HasWill = true
	cp.Will = mqtt.Will{QoS: 1, Topic: []byte("will/w1"), Payload: []byte("gone")}
	cp.Will.Props.AddUser("k", "v")
	w1 := pipeClient(t, b, cp)
	w1.nc.Close() // abnormal end
	p := sub.recv()
	if string(p.Topic) != "will/w1" || string(p.Payload) != "gone" || len(p.Props.User) != 1 {
		t.Fatalf("%+v", p)
	}

	// A normal DISCONNECT discards the will.
	cp.ClientID = []byte("w2")
	w2 := pipeClient(t, b, cp)
	w2.write(&mqtt.Disconnect{Version: mqtt.V5})
	sub.none(200 * time.Millisecond)

	// Disconnect with will message sends it.
	cp.ClientID = []byte("w3")
	w3 := pipeClient(t, b, cp)
	w3.write(&mqtt.Disconnect{Version: mqtt.V5, Code: mqtt.DisconnectWithWill})
	if p := sub.recv(); string(p.Payload) != "gone" {
		t.Fatalf("%+v", p)
	}

	// A delayed will is cancelled by a reconnection within the delay.
	cp.ClientID = []byte("w4")
	cp.CleanStart = false
	cp.Props.Set(mqtt.PropSessionExpiry, 60)
	cp.Will.Props.Set(mqtt.PropWillDelay, 1)
	w4 := pipeClient(t, b, cp)
	w4.nc.Close()
	time.Sleep(100 * time.Millisecond)
	w4b := pipeClient(t, b, cp)
	if !w4b.ack.SessionPresent {
		t.Fatal("session not present")
	}
	sub.none(1500 * time.Millisecond)
	// ... and sent after the delay otherwise.
	w4b.nc.Close()
	sub.none(500 * time.Millisecond)
	if p := sub.recv(); string(p.Payload) != "gone" {
		t.Fatalf("%+v", p)
	}
}

func TestPersistentSession(t *testing.T) {
	for _, ver := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		t.Run(ver.String(), func(t *testing.T) {
			b := newBroker(t, Config{})
			cp := mqtt.Connect{Version: ver, ClientID: []byte("p"), KeepAlive: 60}
			if ver == mqtt.V5 {
				cp.Props.Set(mqtt.PropSessionExpiry, 100)
			}
			c := pipeClient(t, b, cp)
			if c.ack.SessionPresent {
				t.Fatal("present on first connect")
			}
			c.sub("p/#", 2)
			c.nc.Close()
			pub := pipeClient(t, b, mqtt.Connect{Version: ver, CleanStart: true, ClientID: []byte("x")})
			eventually(t, "offline", func() bool { s, _ := b.ClientStats("p"); return !s.Connected })
			pub.pubAcked("p/1", "q1", 1, false, 1)
			pub.pubAcked("p/2", "q2", 2, false, 2)
			pub.pubAcked("p/0", "q0", 0, false, 0) // not queued offline
			pub.sync()
			c = pipeClient(t, b, cp)
			if !c.ack.SessionPresent {
				t.Fatal("session not present")
			}
			if p := c.recv(); string(p.Payload) != "q1" || p.QoS != 1 {
				t.Fatalf("%+v", p)
			}
			if p := c.recv(); string(p.Payload) != "q2" || p.QoS != 2 {
				t.Fatalf("%+v", p)
			}
			c.none(100 * time.Millisecond)
			// Clean start discards the session.
			c.nc.Close()
			cp.CleanStart = true
			c = pipeClient(t, b, cp)
			if c.ack.SessionPresent {
				t.Fatal("present after clean start")
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	b := newBroker(t, Config{})
	cp := v5("e")
	cp.Props.Set(mqtt.PropSessionExpiry, 1)
	c := pipeClient(t, b, cp)
	c.sub("e", 1)
	c.nc.Close()
	eventually(t, "session kept", func() bool { s, ok := b.ClientStats("e"); return ok && !s.Connected })
	eventually(t, "session expired", func() bool { _, ok := b.ClientStats("e"); return !ok })
	if st := b.Stats(); st.Subscriptions != 0 {
		t.Fatalf("subscriptions %d", st.Subscriptions)
	}
}

func TestTakeover(t *testing.T) {
	b := newBroker(t, Config{})
	cp := v5("same")
	cp.CleanStart = false
	cp.Props.Set(mqtt.PropSessionExpiry, 60)
	c1 := pipeClient(t, b, cp)
	c1.sub("t", 1)
	c2 := pipeClient(t, b, cp)
	if !c2.ack.SessionPresent {
		t.Fatal("session not present")
	}
	p := c1.read()
	if d, ok := p.(*mqtt.Disconnect); !ok || d.Code != mqtt.SessionTakenOver {
		t.Fatalf("old connection got %+v", p)
	}
	pub := pipeClient(t, b, v5("pub"))
	pub.pubAcked("t", "x", 1, false, 1)
	if p := c2.recv(); string(p.Payload) != "x" {
		t.Fatalf("%+v", p)
	}
}

func TestMessageExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := newBroker(t, Config{Now: clk.Now})
	cp := v5("s")
	cp.CleanStart = false
	cp.Props.Set(mqtt.PropSessionExpiry, 600)
	c := pipeClient(t, b, cp)
	c.sub("x/#", 1)
	c.nc.Close()
	eventually(t, "offline", func() bool { s, _ := b.ClientStats("s"); return !s.Connected })
	pub := pipeClient(t, b, v5("p"))
	for i, exp := range []uint32{5, 100} {
		p := &mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: mqtt.PacketID(i + 1), Topic: []byte("x/1"), Payload: []byte{byte('a' + i)}}
		p.Props.Set(mqtt.PropMessageExpiry, exp)
		pub.write(p)
		pub.readAck()
	}
	clk.Add(10 * time.Second)
	c = pipeClient(t, b, cp)
	p := c.recv()
	if string(p.Payload) != "b" || p.Props.MessageExpiry != 90 {
		t.Fatalf("%+v", p)
	}
	c.none(100 * time.Millisecond)
	if b.Stats().DroppedExpired != 1 {
		t.Fatal("expired message not counted")
	}
}

func TestReceiveMaximumOutbound(t *testing.T) {
	b := newBroker(t, Config{})
	cp := v5("slow")
	cp.Props.Set(mqtt.PropReceiveMax, 2)
	c := pipeClient(t, b, cp)
	c.sub("rm", 1)
	pub := pipeClient(t, b, v5("pub"))
	for i := range 5 {
		pub.pubAcked("rm", string(rune('0'+i)), 1, false, mqtt.PacketID(i+1))
	}
	p1, p2 := c.readPub(), c.readPub()
	c.none(100 * time.Millisecond)
	c.write(&mqtt.Ack{Type: mqtt.TypePuback, Version: mqtt.V5, ID: p1.ID})
	p3 := c.readPub()
	c.none(100 * time.Millisecond)
	if string(p1.Payload)+string(p2.Payload)+string(p3.Payload) != "012" {
		t.Fatal("order")
	}
}

func TestReceiveMaximumInbound(t *testing.T) {
	b := newBroker(t, Config{ReceiveMaximum: 2})
	c := pipeClient(t, b, v5("q2"))
	if c.ack.Props.ReceiveMax != 2 {
		t.Fatalf("receive max %d", c.ack.Props.ReceiveMax)
	}
	c.pub("a", "1", 2, false, 1)
	c.readAck()
	c.pub("a", "2", 2, false, 2)
	c.readAck()
	c.pub("a", "3", 2, false, 3)
	p := c.read()
	if d, ok := p.(*mqtt.Disconnect); !ok || d.Code != mqtt.ReceiveMaximumExceeded {
		t.Fatalf("%+v", p)
	}
}

func TestExactlyOnceInbound(t *testing.T) {
	b := newBroker(t, Config{})
	sub := pipeClient(t, b, v5("sub"))
	sub.sub("e", 2)
	pub := pipeClient(t, b, v5("pub"))
	pub.pub("e", "once", 2, false, 7)
	pub.readAck()
	// A duplicate before PUBREL is acknowledged but not routed again.
	pub.write(&mqtt.Publish{Version: mqtt.V5, Dup: true, QoS: 2, ID: 7, Topic: []byte("e"), Payload: []byte("once")})
	if a := pub.readAck(); a.Type != mqtt.TypePubrec {
		t.Fatal(a.Type)
	}
	pub.write(&mqtt.Ack{Type: mqtt.TypePubrel, Version: mqtt.V5, ID: 7})
	if a := pub.readAck(); a.Type != mqtt.TypePubcomp || a.Code != 0 {
		t.Fatalf("%+v", a)
	}
	sub.recv()
	sub.none(100 * time.Millisecond)
	// PUBREL for an unknown identifier.
	pub.write(&mqtt.Ack{Type: mqtt.TypePubrel, Version: mqtt.V5, ID: 99})
	if a := pub.readAck(); a.Code != mqtt.PacketIdentifierNotFound {
		t.Fatalf("%+v", a)
	}
}

func TestMaxPacketSize(t *testing.T) {
	b := newBroker(t, Config{MaxPacketSize: 512})
	cp := v5("small")
	cp.Props.Set(mqtt.PropMaxPacketSize, 100)
	c := pipeClient(t, b, cp)
	if c.ack.Props.MaxPacketSize != 512 {
		t.Fatal(c.ack.Props.MaxPacketSize)
	}
	c.sub("m", 0)
	pub := pipeClient(t, b, v5("pub"))
	pub.pub("m", string(make([]byte, 200)), 0, false, 0)
	pub.pub("m", "small", 0, false, 0)
	if p := c.readPub(); string(p.Payload) != "small" {
		t.Fatalf("%q", p.Payload)
	}
	// Too large for the broker: DISCONNECT 0x95.
	big, _ := (&mqtt.Publish{Version: mqtt.V5, Topic: []byte("m"), Payload: make([]byte, 600)}).AppendBinary(nil)
	go pub.nc.Write(big) // the broker closes before reading it all
	if d, ok := pub.read().(*mqtt.Disconnect); !ok || d.Code != mqtt.PacketTooLarge {
		t.Fatal(d)
	}
}

func TestTopicAliases(t *testing.T) {
	b := newBroker(t, Config{})
	cs := v5("sub")
	cs.Props.Set(mqtt.PropTopicAliasMax, 4)
	sub := pipeClient(t, b, cs)
	sub.sub("al/#", 0)
	pub := pipeClient(t, b, v5("pub"))
	p := &mqtt.Publish{Version: mqtt.V5, Topic: []byte("al/long/topic"), Payload: []byte("1")}
	p.Props.Set(mqtt.PropTopicAlias, 3)
	pub.write(p)
	p2 := &mqtt.Publish{Version: mqtt.V5, Payload: []byte("2")}
	p2.Props.Set(mqtt.PropTopicAlias, 3)
	pub.write(p2)
	r1, r2 := sub.readPub(), sub.readPub()
	if string(r1.Topic) != "al/long/topic" || r1.Props.TopicAlias == 0 {
		t.Fatalf("first %+v", r1)
	}
	if len(r2.Topic) != 0 || r2.Props.TopicAlias != r1.Props.TopicAlias || string(r2.Payload) != "2" {
		t.Fatalf("second %+v", r2)
	}
	// An alias above the maximum is a protocol violation.
	p3 := &mqtt.Publish{Version: mqtt.V5, Topic: []byte("al/x"), Payload: []byte("3")}
	p3.Props.Set(mqtt.PropTopicAlias, 1000)
	pub.write(p3)
	if d, ok := pub.read().(*mqtt.Disconnect); !ok || d.Code != mqtt.TopicAliasInvalid {
		t.Fatal(d)
	}
}

func TestOverlapAndSubscriptionIDs(t *testing.T) {
	b := newBroker(t, Config{})
	sub := pipeClient(t, b, v5("sub"))
	sub.subscribe(1, 11, mqtt.Subscription{Filter: []byte("o/#"), QoS: 0})
	sub.subscribe(2, 22, mqtt.Subscription{Filter: []byte("o/+"), QoS: 2})
	pub := pipeClient(t, b, v5("pub"))
	pub.pubAcked("o/x", "v", 2, false, 1)
	p := sub.recv()
	ids := slices.Clone(p.Props.SubscriptionIDs)
	slices.Sort(ids)
	if p.QoS != 2 || !slices.Equal(ids, []uint32{11, 22}) {
		t.Fatalf("%+v", p)
	}
	sub.none(100 * time.Millisecond)
}

func TestNoLocalAndRetainAsPublished(t *testing.T) {
	b := newBroker(t, Config{})
	c := pipeClient(t, b, v5("self"))
	c.subscribe(1, 0, mqtt.Subscription{Filter: []byte("nl"), NoLocal: true})
	c.subscribe(2, 0, mqtt.Subscription{Filter: []byte("rap"), RetainAsPublished: true})
	c.subscribe(3, 0, mqtt.Subscription{Filter: []byte("norap")})
	c.pub("nl", "x", 0, false, 0)
	c.pub("rap", "x", 0, true, 0)
	if p := c.readPub(); string(p.Topic) != "rap" || !p.Retain {
		t.Fatalf("%+v", p)
	}
	c.pub("norap", "x", 0, true, 0)
	if p := c.readPub(); string(p.Topic) != "norap" || p.Retain {
		t.Fatalf("%+v", p)
	}
	c.none(100 * time.Millisecond)
}

func TestSharedSubscriptions(t *testing.T) {
	for _, strat := range []SharedStrategy{SharedRoundRobin, SharedRandom} {
		b := newBroker(t, Config{Shared: strat, Seed: 1})
		var members []*tclient
		for i := range 2 {
			m := pipeClient(t, b, v5("m"+string(rune('0'+i))))
			m.sub("$share/g/s/#", 0)
			members = append(members, m)
		}
		pub := pipeClient(t, b, v5("pub"))
		const n = 20
		for range n {
			pub.pub("s/1", "x", 0, false, 0)
		}
		counts := make([]int, 2)
		for i, m := range members {
			for {
				if _, err := m.readTimeout(200 * time.Millisecond); err != nil {
					break
				}
				counts[i]++
			}
		}
		if counts[0]+counts[1] != n || counts[0] == 0 || counts[1] == 0 {
			t.Fatalf("strategy %d: counts %v", strat, counts)
		}
		if strat == SharedRoundRobin && counts[0] != counts[1] {
			t.Fatalf("round robin counts %v", counts)
		}
	}
}

func TestAssignedClientID(t *testing.T) {
	b := newBroker(t, Config{})
	c := pipeClient(t, b, v5(""))
	if len(c.ack.Props.AssignedClientID) == 0 {
		t.Fatal("no assigned client identifier")
	}
	// 3.1.1 with an empty id and a persistent session is refused; the
	// codec will not encode one, so flip the Clean Session flag by hand.
	cp := v311("")
	raw, err := cp.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw[9] &^= 0x02
	nc, _ := b.Pipe()
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write(raw)
	fr := mqtt.NewFramer(nc, nil, mqtt.FramerConfig{})
	p, err := fr.ReadPacket()
	if ca, ok := p.(*mqtt.Connack); err != nil || !ok || ca.Code != mqtt.ConnRefusedIdentifier {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestRequestResponseProperties(t *testing.T) {
	b := newBroker(t, Config{})
	sub := pipeClient(t, b, v5("sub"))
	sub.sub("req", 0)
	pub := pipeClient(t, b, v5("pub"))
	p := &mqtt.Publish{Version: mqtt.V5, Topic: []byte("req"), Payload: []byte("?")}
	p.Props.SetBytes(mqtt.PropResponseTopic, []byte("resp/1"))
	p.Props.SetBytes(mqtt.PropCorrelationData, []byte{1, 2, 3})
	p.Props.SetBytes(mqtt.PropContentType, []byte("text/plain"))
	p.Props.Set(mqtt.PropPayloadFormat, 1)
	p.Props.AddUser("a", "b")
	pub.write(p)
	r := sub.readPub()
	if string(r.Props.ResponseTopic) != "resp/1" || string(r.Props.CorrelationData) != "\x01\x02\x03" ||
		string(r.Props.ContentType) != "text/plain" || r.Props.PayloadFormat != 1 || len(r.Props.User) != 1 {
		t.Fatalf("%+v", r.Props)
	}
}

func TestHooks(t *testing.T) {
	b := newBroker(t, Config{Hooks: Hooks{
		Authenticate: func(c *ClientInfo, p *mqtt.Connect) mqtt.ReasonCode {
			if string(p.Password) == "bad" {
				return mqtt.BadUserNameOrPassword
			}
			return mqtt.Success
		},
		AuthorizePublish: func(c *ClientInfo, topic []byte, qos uint8, retain bool) mqtt.ReasonCode {
			if string(topic) == "secret" {
				return mqtt.NotAuthorized
			}
			return mqtt.Success
		},
		AuthorizeSubscribe: func(c *ClientInfo, filter []byte, qos uint8) mqtt.ReasonCode {
			if string(filter) == "#" {
				return mqtt.NotAuthorized
			}
			return mqtt.GrantedQoS1
		},
		OnPublish: func(c *ClientInfo, p *mqtt.Publish) mqtt.ReasonCode {
			if string(p.Topic) == "up" {
				p.Payload = []byte("UPPER")
			}
			return mqtt.Success
		},
	}})
	cp := v5("bad")
	cp.HasPassword, cp.Password = true, []byte("bad")
	if c := pipeClient(t, b, cp); c.ack.Code != mqtt.BadUserNameOrPassword {
		t.Fatal(c.ack.Code)
	}
	c := pipeClient(t, b, v5("ok"))
	sa := c.subscribe(1, 0, mqtt.Subscription{Filter: []byte("#")}, mqtt.Subscription{Filter: []byte("up"), QoS: 2})
	if sa.Codes[0] != mqtt.NotAuthorized || sa.Codes[1] != mqtt.GrantedQoS1 {
		t.Fatal(sa.Codes)
	}
	if code := c.pubAcked("secret", "x", 1, false, 1); code != mqtt.NotAuthorized {
		t.Fatal(code)
	}
	c.pub("up", "lower", 0, false, 0)
	if p := c.readPub(); string(p.Payload) != "UPPER" {
		t.Fatalf("%q", p.Payload)
	}
}

func TestEnhancedAuth(t *testing.T) {
	b := newBroker(t, Config{Hooks: Hooks{
		EnhancedAuth: func(c *ClientInfo, method, data []byte) (mqtt.ReasonCode, []byte) {
			switch string(data) {
			case "hello":
				return mqtt.ContinueAuthentication, []byte("challenge")
			case "response":
				return mqtt.Success, []byte("welcome")
			}
			return mqtt.NotAuthorized, nil
		},
	}})
	nc, _ := b.Pipe()
	c := &tclient{tb: t, nc: nc, v: mqtt.V5, fr: mqtt.NewFramer(nc, nc, mqtt.FramerConfig{})}
	defer nc.Close()
	cp := v5("ea")
	cp.Props.SetBytes(mqtt.PropAuthMethod, []byte("TEST"))
	cp.Props.SetBytes(mqtt.PropAuthData, []byte("hello"))
	c.write(&cp)
	a, ok := c.read().(*mqtt.Auth)
	if !ok || a.Code != mqtt.ContinueAuthentication || string(a.Props.AuthData) != "challenge" {
		t.Fatalf("%+v", a)
	}
	r := &mqtt.Auth{Version: mqtt.V5, Code: mqtt.ContinueAuthentication}
	r.Props.SetBytes(mqtt.PropAuthMethod, []byte("TEST"))
	r.Props.SetBytes(mqtt.PropAuthData, []byte("response"))
	c.write(r)
	ca, ok := c.read().(*mqtt.Connack)
	if !ok || ca.Code != 0 || string(ca.Props.AuthData) != "welcome" {
		t.Fatalf("%+v", ca)
	}
	// Without the hook, an authentication method is refused.
	b2 := newBroker(t, Config{})
	if c := pipeClient(t, b2, cp); c.ack.Code != mqtt.BadAuthenticationMethod {
		t.Fatal(c.ack.Code)
	}
}

func TestSys(t *testing.T) {
	b := newBroker(t, Config{SysInterval: 50 * time.Millisecond})
	c := pipeClient(t, b, v5("sys"))
	c.sub("$SYS/broker/clients/connected", 0)
	// The retained value may predate this client; a fresh one follows.
	for i := 0; ; i++ {
		p := c.readPub()
		if string(p.Payload) == "1" {
			break
		}
		if i == 3 {
			t.Fatalf("%q", p.Payload)
		}
	}
	// Clients may not publish to $SYS.
	if code := c.pubAcked("$SYS/broker/x", "1", 1, false, 1); code != mqtt.NotAuthorized {
		t.Fatal(code)
	}
	// '#' does not match $SYS [MQTT-4.7.2-1].
	c2 := pipeClient(t, b, v5("all"))
	c2.sub("#", 0)
	c2.none(200 * time.Millisecond)
}

func TestBrokerPublish(t *testing.T) {
	b := newBroker(t, Config{})
	c := pipeClient(t, b, v5("app"))
	c.sub("app/#", 1)
	if err := b.Publish(context.Background(), &mqtt.Publish{Topic: []byte("app/x"), Payload: []byte("hi"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if p := c.recv(); string(p.Payload) != "hi" {
		t.Fatal(p)
	}
	if err := b.Publish(context.Background(), &mqtt.Publish{Topic: []byte("bad/#")}); err != ErrBadTopic {
		t.Fatal(err)
	}
}

func TestLimits(t *testing.T) {
	b := newBroker(t, Config{MaxSubscriptions: 2, MaxTopicLevels: 3, MaxConnections: 2})
	c := pipeClient(t, b, v5("lim"))
	sa := c.subscribe(1, 0, mqtt.Subscription{Filter: []byte("a")}, mqtt.Subscription{Filter: []byte("b")},
		mqtt.Subscription{Filter: []byte("c")}, mqtt.Subscription{Filter: []byte("a/b/c/d")})
	if !slices.Equal(sa.Codes, []mqtt.ReasonCode{0, 0, mqtt.QuotaExceeded, mqtt.TopicFilterInvalid}) {
		t.Fatal(sa.Codes)
	}
	if code := c.pubAcked("a/b/c/d", "x", 1, false, 1); code != mqtt.TopicNameInvalid {
		t.Fatal(code)
	}
	pipeClient(t, b, v5("second"))
	third := pipeClient(t, b, v5("third"))
	if third.ack.Code != mqtt.ServerBusy {
		t.Fatal(third.ack.Code)
	}
}

func TestPublishRate(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		b := newBroker(t, Config{PublishRate: 100})
		var c *tclient
		if tcp { // the event loop pauses the connection instead of a goroutine sleeping
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go b.Serve(ln)
			c = tcpClient(t, ln.Addr().String(), v5("rate"))
		} else {
			c = pipeClient(t, b, v5("rate"))
		}
		start := time.Now()
		for i := range 150 {
			c.pubAcked("r", "x", 1, false, mqtt.PacketID(i+1))
		}
		// 100 in the burst, 50 more at 100/s: at least ~0.5 s.
		if d := time.Since(start); d < 400*time.Millisecond {
			t.Fatalf("tcp %v: 150 messages at 100/s took %v", tcp, d)
		}
	}
}

func TestEventLoopRequire(t *testing.T) {
	b, err := New(Config{EventLoop: EventLoopRequire, SysInterval: -1})
	if runtime.GOOS != "linux" {
		if !errors.Is(err, errors.ErrUnsupported) || err == errors.ErrUnsupported {
			t.Fatalf("got %v, want a wrapped ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.Stats().EventLoop {
		t.Fatal("no event loop")
	}
}

func TestKeepAlive(t *testing.T) {
	b := newBroker(t, Config{})
	cp := v5("ka")
	cp.KeepAlive = 1
	c := pipeClient(t, b, cp)
	start := time.Now()
	p, err := c.readTimeout(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := p.(*mqtt.Disconnect); !ok || d.Code != mqtt.KeepAliveTimeout {
		t.Fatalf("%+v", p)
	}
	if el := time.Since(start); el < time.Second || el > 3*time.Second {
		t.Fatalf("disconnected after %v", el)
	}
	// Server Keep Alive caps a client asking for none.
	b2 := newBroker(t, Config{MaxKeepAlive: 30})
	cp.KeepAlive = 0
	if c := pipeClient(t, b2, cp); c.ack.Props.ServerKeepAlive != 30 {
		t.Fatal(c.ack.Props.ServerKeepAlive)
	}
}

func TestConnectTimeout(t *testing.T) {
	b := newBroker(t, Config{ConnectTimeout: 200 * time.Millisecond})
	nc, _ := b.Pipe()
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	var buf [1]byte
	if _, err := nc.Read(buf[:]); err == nil || isTimeout(err) {
		t.Fatalf("connection not closed: %v", err)
	}
}

func TestUnsubscribe(t *testing.T) {
	b := newBroker(t, Config{})
	c := pipeClient(t, b, v5("u"))
	c.sub("u/1", 0)
	c.write(&mqtt.Unsubscribe{Version: mqtt.V5, ID: 5, Filters: [][]byte{[]byte("u/1"), []byte("u/2")}})
	ua, ok := c.read().(*mqtt.Unsuback)
	if !ok || !slices.Equal(ua.Codes, []mqtt.ReasonCode{0, mqtt.NoSubscriptionExisted}) {
		t.Fatalf("%+v", ua)
	}
	c.pub("u/1", "x", 0, false, 0)
	c.none(100 * time.Millisecond)
	c.write(&mqtt.Ping{Type: mqtt.TypePingreq})
	if _, ok := c.read().(*mqtt.Ping); !ok {
		t.Fatal("no PINGRESP")
	}
}
