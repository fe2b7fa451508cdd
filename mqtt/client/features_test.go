package client_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

func TestRetainedAndWill(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	for _, v := range versions() {
		t.Run("v"+v.String(), func(t *testing.T) {
			ctx := ctxT(t)
			topic := "rw/" + v.String()
			pub := newClient(t, client.Config{Addr: broker.Addr(), Version: v, CleanStart: true})
			connect(t, pub)
			if err := pub.Publish(ctx, &mqtt.Publish{Topic: []byte(topic + "/retained"), QoS: 1, Retain: true, Payload: []byte("kept")}); err != nil {
				t.Fatal(err)
			}

			// A client with a will whose connection dies without DISCONNECT.
			will := &mqtt.Will{QoS: 1, Topic: []byte(topic + "/will"), Payload: []byte("gone")}
			if v == mqtt.V5 {
				will.Props.SetBytes(mqtt.PropContentType, []byte("text/plain"))
				will.Props.AddUser("why", "test")
			}
			var mu sync.Mutex
			var raw net.Conn
			dying := newClient(t, client.Config{Version: v, CleanStart: true, Will: will,
				Dialer: func(ctx context.Context) (io.ReadWriteCloser, error) {
					var d net.Dialer
					c, err := d.DialContext(ctx, "tcp", broker.Addr())
					mu.Lock()
					raw = c
					mu.Unlock()
					return c, err
				}})
			connect(t, dying)

			col := newCollector()
			sub := newClient(t, client.Config{Addr: broker.Addr(), Version: v, CleanStart: true})
			connect(t, sub)
			if _, err := sub.Subscribe(ctx, col.handle, mqtt.Subscription{Filter: []byte(topic + "/#"), QoS: 1}); err != nil {
				t.Fatal(err)
			}
			msgs := col.wait(t, 1, 5*time.Second)
			if string(msgs[0].Topic) != topic+"/retained" || !msgs[0].Retain || string(msgs[0].Payload) != "kept" {
				t.Fatalf("retained message: %q %q retain=%v", msgs[0].Topic, msgs[0].Payload, msgs[0].Retain)
			}
			mu.Lock()
			raw.Close() // the link dies: the broker publishes the will
			mu.Unlock()
			msgs = col.wait(t, 2, 5*time.Second)
			w := msgs[1]
			if string(w.Topic) != topic+"/will" || string(w.Payload) != "gone" {
				t.Fatalf("will: %q %q", w.Topic, w.Payload)
			}
			if v == mqtt.V5 && (string(w.Props.ContentType) != "text/plain" || len(w.Props.User) != 1) {
				t.Fatalf("will properties lost: %+v", w.Props)
			}
			// Clear the retained message.
			if err := pub.Publish(ctx, &mqtt.Publish{Topic: []byte(topic + "/retained"), QoS: 1, Retain: true}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSessionResume: a subscriber with a persistent session goes away;
// messages published meanwhile are delivered when it comes back.
func TestSessionResume(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	for _, v := range versions() {
		t.Run("v"+v.String(), func(t *testing.T) {
			ctx := ctxT(t)
			id := "resume-" + v.String()
			topic := "resume/" + v.String()
			cfg := client.Config{Addr: broker.Addr(), Version: v, ClientID: id, CleanStart: true}
			if v == mqtt.V5 {
				cfg.SessionExpiry = 60
			} else {
				cfg.CleanStart = false
			}
			col := newCollector()
			cfg.Handler = col.handle
			a := newClient(t, cfg)
			var infos []client.ConnectInfo
			var imu sync.Mutex
			a2cfg := cfg
			connect(t, a)
			if _, err := a.Subscribe(ctx, nil, mqtt.Subscription{Filter: []byte(topic), QoS: 2}); err != nil {
				t.Fatal(err)
			}
			a.Close()

			pub := newClient(t, client.Config{Addr: broker.Addr(), Version: v, CleanStart: true})
			connect(t, pub)
			for i := range 10 {
				if err := pub.Publish(ctx, &mqtt.Publish{Topic: []byte(topic), QoS: uint8(1 + i%2), Payload: []byte(fmt.Sprint(i))}); err != nil {
					t.Fatal(err)
				}
			}
			a2cfg.CleanStart = false
			a2cfg.OnConnect = func(ci client.ConnectInfo) {
				imu.Lock()
				infos = append(infos, ci)
				imu.Unlock()
			}
			b := newClient(t, a2cfg)
			connect(t, b)
			msgs := col.wait(t, 10, 5*time.Second)
			for i, m := range msgs {
				if string(m.Payload) != fmt.Sprint(i) {
					t.Fatalf("message %d: %q", i, m.Payload)
				}
			}
			imu.Lock()
			defer imu.Unlock()
			if len(infos) != 1 || !infos[0].SessionPresent {
				t.Fatalf("connect infos %+v: want session present", infos)
			}
		})
	}
}

// TestTopicAliases publishes through outbound topic aliases (mosquitto
// allows 10) and checks on the wire that later PUBLISHes carry no topic.
func TestTopicAliases(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	ctx := ctxT(t)
	col := newCollector()
	sub := newClient(t, client.Config{Addr: broker.Addr(), Version: mqtt.V5, CleanStart: true, TopicAliasMaximum: 8})
	connect(t, sub)
	if _, err := sub.Subscribe(ctx, col.handle, mqtt.Subscription{Filter: []byte("alias/#"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	var tc *teeConn
	pub := newClient(t, client.Config{Version: mqtt.V5, CleanStart: true, OutboundTopicAliases: 2,
		Dialer: func(ctx context.Context) (io.ReadWriteCloser, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", broker.Addr())
			if err != nil {
				return nil, err
			}
			tc = &teeConn{Conn: c}
			return tc, nil
		}})
	connect(t, pub)
	topics := []string{"alias/a", "alias/b", "alias/c"}
	const n = 30
	for i := range n {
		if err := pub.Publish(ctx, &mqtt.Publish{Topic: []byte(topics[i%3]), QoS: uint8(i % 2), Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := col.wait(t, n, 5*time.Second)
	for i, m := range msgs {
		if string(m.Topic) != topics[i%3] || string(m.Payload) != fmt.Sprint(i) {
			t.Fatalf("message %d: %q %q", i, m.Topic, m.Payload)
		}
	}
	tc.mu.Lock()
	fr := mqtt.NewFramer(bytes.NewReader(tc.buf), nil, mqtt.FramerConfig{Version: mqtt.V5})
	tc.mu.Unlock()
	aliased, full := 0, 0
	for {
		p, err := fr.ReadPacket()
		if err != nil {
			break
		}
		if pp, ok := p.(*mqtt.Publish); ok {
			switch {
			case len(pp.Topic) == 0 && pp.Props.Present.Has(mqtt.PropTopicAlias):
				aliased++
			case string(pp.Topic) == "alias/c" && pp.Props.Present.Has(mqtt.PropTopicAlias):
				t.Fatal("a third alias was assigned; the limit is 2")
			default:
				full++
			}
		}
	}
	// a and b: one full PUBLISH each, then aliases; c: always full.
	if aliased != n*2/3-2 || full != n/3+2 {
		t.Fatalf("%d aliased and %d full PUBLISHes", aliased, full)
	}
}

// TestUnsubscribe: after Unsubscribe the handler gets nothing more, the
// default handler neither; other subscriptions keep working.
func TestUnsubscribe(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	for _, v := range versions() {
		t.Run("v"+v.String(), func(t *testing.T) {
			ctx := ctxT(t)
			a, b, def := newCollector(), newCollector(), newCollector()
			c := newClient(t, client.Config{Addr: broker.Addr(), Version: v, CleanStart: true, Handler: def.handle})
			connect(t, c)
			base := "unsub/" + v.String()
			if _, err := c.Subscribe(ctx, a.handle, mqtt.Subscription{Filter: []byte(base + "/a"), QoS: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Subscribe(ctx, b.handle, mqtt.Subscription{Filter: []byte(base + "/b"), QoS: 1}); err != nil {
				t.Fatal(err)
			}
			pub := func(sub string, s string) {
				if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte(base + "/" + sub), QoS: 1, Payload: []byte(s)}); err != nil {
					t.Fatal(err)
				}
			}
			pub("a", "1")
			a.wait(t, 1, 5*time.Second)
			codes, err := c.Unsubscribe(ctx, base+"/a")
			if err != nil {
				t.Fatal(err)
			}
			if v == mqtt.V5 && (len(codes) != 1 || codes[0] != mqtt.Success) {
				t.Fatalf("UNSUBACK codes %v", codes)
			}
			pub("a", "2")
			pub("b", "3")
			b.wait(t, 1, 5*time.Second)
			time.Sleep(50 * time.Millisecond)
			if n := len(a.wait(t, 0, time.Second)); n != 1 {
				t.Fatalf("unsubscribed handler got %d messages", n)
			}
			if n := len(def.wait(t, 0, time.Second)); n != 0 {
				t.Fatalf("default handler got %d messages", n)
			}
		})
	}
}

// TestSessionExpiry: an MQTT 5 session with a 1 s expiry is gone after
// 3 s offline; one with 60 s is still there.
func TestSessionExpiry(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	present := func(id string, expiry uint32, clean bool) bool {
		t.Helper()
		ch := make(chan bool, 1)
		c := newClient(t, client.Config{Addr: broker.Addr(), Version: mqtt.V5, ClientID: id, SessionExpiry: expiry, CleanStart: clean,
			OnConnect: func(ci client.ConnectInfo) { ch <- ci.SessionPresent }})
		connect(t, c)
		c.Close()
		return <-ch
	}
	present("exp-short", 1, true)
	present("exp-long", 60, true)
	time.Sleep(3 * time.Second)
	if present("exp-short", 1, false) {
		t.Error("the 1 s session survived 3 s offline")
	}
	if !present("exp-long", 60, false) {
		t.Error("the 60 s session did not survive 3 s offline")
	}
}
