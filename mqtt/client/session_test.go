package client_test

import (
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// offsetClock is the real clock shifted by an adjustable offset: message
// expiry reads Now, timers run in real time.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}
func (c *offsetClock) NewTimer(d time.Duration) client.Timer { return realTimer{time.NewTimer(d)} }
func (c *offsetClock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }

// TestMessageExpiry: queued messages carry the remaining Message Expiry
// Interval when sent, and expired ones are dropped [MQTT-3.3.2-5/6].
func TestMessageExpiry(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	clk := &offsetClock{}
	c := fakeClient(t, fb, client.Config{Clock: clk, ReturnWhenStored: true})
	ctx := ctxT(t)
	for i, exp := range []uint32{10, 100, 0} {
		p := &mqtt.Publish{Topic: []byte("e"), QoS: 1, Payload: []byte{byte(i)}}
		if exp > 0 {
			p.Props.Set(mqtt.PropMessageExpiry, exp)
		}
		if err := c.Publish(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	clk.advance(30 * time.Second) // offline for 30 s
	c.Start()
	fc := fb.next()
	fc.accept(false, mqtt.Properties{})
	fc.expect(mqtt.TypePublish)
	if p := fc.d.Publish; p.Payload[0] != 1 || p.Props.MessageExpiry != 70 {
		t.Fatalf("first PUBLISH: message %d with expiry %d, want message 1 with 70 s left", p.Payload[0], p.Props.MessageExpiry)
	}
	fc.expect(mqtt.TypePublish)
	if p := fc.d.Publish; p.Payload[0] != 2 || p.Props.Present.Has(mqtt.PropMessageExpiry) {
		t.Fatalf("second PUBLISH: message %d, %+v", p.Payload[0], p.Props)
	}
	if d := c.Stats().Dropped; d != 1 {
		t.Fatalf("dropped %d, want the expired message", d)
	}
}

// TestResendAfterReconnect: with the session present, PUBLISHes in flight
// are resent with DUP and the same packet identifier, and a QoS 2 message
// whose PUBREC arrived gets its PUBREL again, in the original order.
func TestResendAfterReconnect(t *testing.T) {
	for _, v := range versions() {
		t.Run("v"+v.String(), func(t *testing.T) {
			fb := newFakeBroker(t, v)
			c := fakeClient(t, fb, client.Config{ReturnWhenStored: true})
			c.Start()
			fc := fb.next()
			fc.accept(false, mqtt.Properties{})
			ctx := ctxT(t)
			for i, q := range []uint8{2, 1, 2} {
				if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("r"), QoS: q, Payload: []byte{byte(i)}}); err != nil {
					t.Fatal(err)
				}
			}
			var ids []mqtt.PacketID
			for range 3 {
				fc.expect(mqtt.TypePublish)
				ids = append(ids, fc.d.Publish.ID)
			}
			fc.write(&mqtt.Ack{Type: mqtt.TypePubrec, Version: v, ID: ids[0]})
			fc.expect(mqtt.TypePubrel)
			fc.c.Close() // the link drops

			fc2 := fb.next()
			fc2.accept(true, mqtt.Properties{})
			fc2.expect(mqtt.TypePubrel)
			if fc2.d.Ack.ID != ids[0] {
				t.Fatalf("PUBREL for %d, want %d", fc2.d.Ack.ID, ids[0])
			}
			for i := 1; i < 3; i++ {
				fc2.expect(mqtt.TypePublish)
				p := fc2.d.Publish
				if !p.Dup || p.ID != ids[i] || p.Payload[0] != byte(i) {
					t.Fatalf("resent PUBLISH %d: dup=%v id=%d (want %d)", p.Payload[0], p.Dup, p.ID, ids[i])
				}
			}
			fc2.write(&mqtt.Ack{Type: mqtt.TypePubcomp, Version: v, ID: ids[0]})
			fc2.write(&mqtt.Ack{Type: mqtt.TypePuback, Version: v, ID: ids[1]})
			fc2.write(&mqtt.Ack{Type: mqtt.TypePubrec, Version: v, ID: ids[2]})
			fc2.expect(mqtt.TypePubrel)
			fc2.write(&mqtt.Ack{Type: mqtt.TypePubcomp, Version: v, ID: ids[2]})
			deadline := time.Now().Add(5 * time.Second)
			for c.Stats().Stored != 0 || c.Stats().Acked != 3 {
				if time.Now().After(deadline) {
					t.Fatalf("not completed: %+v", c.Stats())
				}
				time.Sleep(time.Millisecond)
			}
			if s := c.Stats(); s.Resent != 3 || s.Reconnects != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// TestInboundQoS2: a QoS 2 message is delivered once even when the broker
// sends it again with DUP, PUBREC follows the handler, PUBREL gets PUBCOMP.
func TestInboundQoS2(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	col := newCollector()
	c := fakeClient(t, fb, client.Config{Handler: col.handle})
	c.Start()
	fc := fb.next()
	fc.accept(false, mqtt.Properties{})
	p := mqtt.Publish{Version: mqtt.V5, QoS: 2, ID: 42, Topic: []byte("in"), Payload: []byte("once")}
	fc.write(&p)
	fc.expect(mqtt.TypePubrec)
	if fc.d.Ack.ID != 42 {
		t.Fatalf("PUBREC for %d", fc.d.Ack.ID)
	}
	p.Dup = true
	fc.write(&p) // PUBREC lost, say: the broker resends
	fc.expect(mqtt.TypePubrec)
	fc.write(&mqtt.Ack{Type: mqtt.TypePubrel, Version: mqtt.V5, ID: 42})
	fc.expect(mqtt.TypePubcomp)
	q1 := mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: 43, Topic: []byte("in"), Payload: []byte("q1")}
	fc.write(&q1)
	fc.expect(mqtt.TypePuback)
	col.wait(t, 2, 5*time.Second)
	time.Sleep(20 * time.Millisecond) // a second delivery of "once" would show up now
	msgs := col.wait(t, 2, time.Second)
	if len(msgs) != 2 || string(msgs[0].Payload) != "once" || string(msgs[1].Payload) != "q1" {
		t.Fatalf("delivered %d messages", len(msgs))
	}
}

// TestResubscribe: after a reconnect without a session the client renews
// its subscriptions; with a session it does not.
func TestResubscribe(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	c := fakeClient(t, fb, client.Config{})
	c.Start()
	fc := fb.next()
	fc.accept(false, mqtt.Properties{})
	ctx := ctxT(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Subscribe(ctx, nil, mqtt.Subscription{Filter: []byte("a/#"), QoS: 1}, mqtt.Subscription{Filter: []byte("b"), QoS: 2})
		done <- err
	}()
	fc.expect(mqtt.TypeSubscribe)
	fc.write(&mqtt.Suback{Version: mqtt.V5, ID: fc.d.Subscribe.ID, Codes: []mqtt.ReasonCode{1, 2}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fc.c.Close()

	fc = fb.next()
	fc.accept(true, mqtt.Properties{}) // session present: nothing to renew
	p := mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: 9, Topic: []byte("b"), Payload: []byte("x")}
	fc.write(&p)
	fc.expect(mqtt.TypePuback) // the first packet is the PUBACK, not a SUBSCRIBE
	fc.c.Close()

	fc = fb.next()
	fc.accept(false, mqtt.Properties{})
	fc.expect(mqtt.TypeSubscribe)
	s := fc.d.Subscribe
	if len(s.Filters) != 2 || string(s.Filters[0].Filter) != "a/#" || s.Filters[0].QoS != 1 || string(s.Filters[1].Filter) != "b" || s.Filters[1].QoS != 2 {
		t.Fatalf("resubscription %+v", s.Filters)
	}
}
