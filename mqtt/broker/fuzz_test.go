package broker

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// memConn is a net.Conn that reads a fixed byte stream and discards writes.
type memConn struct {
	r       *bytes.Reader
	mu      sync.Mutex
	written int
}

func (c *memConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r.Len() == 0 {
		return 0, io.EOF
	}
	return c.r.Read(p)
}

func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.written += len(p)
	c.mu.Unlock()
	return len(p), nil
}

func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

func enc(p mqtt.Packet) []byte {
	b, err := p.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// fuzzSeeds are packet sequences that reach every handler.
func fuzzSeeds(v mqtt.Version) [][]byte {
	sub := &mqtt.Subscribe{Version: v, ID: 1, Filters: []mqtt.Subscription{{Filter: []byte("a/#"), QoS: 2}, {Filter: []byte("$share/g/a/+"), QoS: 1}}}
	if v == mqtt.V5 {
		sub.Props.SubscriptionIDs = []uint32{3}
	}
	pub := func(q uint8, id mqtt.PacketID, retain bool) []byte {
		p := &mqtt.Publish{Version: v, QoS: q, ID: id, Retain: retain, Topic: []byte("a/b"), Payload: []byte("x")}
		if v == mqtt.V5 {
			p.Props.Set(mqtt.PropTopicAlias, 1)
			p.Props.Set(mqtt.PropMessageExpiry, 10)
		}
		return enc(p)
	}
	ack := func(t mqtt.PacketType, id mqtt.PacketID) []byte { return enc(&mqtt.Ack{Type: t, Version: v, ID: id}) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return [][]byte{
		cat(enc(sub), pub(0, 0, false), pub(1, 1, true), pub(2, 2, false), ack(mqtt.TypePubrel, 2),
			ack(mqtt.TypePuback, 1), ack(mqtt.TypePubrec, 2), ack(mqtt.TypePubcomp, 2)),
		cat(enc(sub), enc(&mqtt.Unsubscribe{Version: v, ID: 3, Filters: [][]byte{[]byte("a/#")}}),
			enc(&mqtt.Ping{Type: mqtt.TypePingreq}), enc(&mqtt.Disconnect{Version: v})),
		cat(pub(2, 5, false), pub(2, 5, false), ack(mqtt.TypePubrel, 5), ack(mqtt.TypePubrel, 6)),
		{0x30, 0x02, 0x00},
		{0xe0, 0x00},
	}
}

// FuzzPacketSequence feeds a connection a CONNECT followed by arbitrary
// bytes (sequences of packets) through the broker's real packet-handling
// path, in process, with no socket: no panic, no hang, bounded state.
func FuzzPacketSequence(f *testing.F) {
	for i, v := range []mqtt.Version{mqtt.V311, mqtt.V5} {
		for _, s := range fuzzSeeds(v) {
			f.Add(byte(i), s)
			f.Add(byte(i|2), s)
		}
	}
	f.Fuzz(func(t *testing.T, mode byte, stream []byte) {
		b, err := New(Config{SysInterval: -1, MaxQueuedMessages: 8, MaxQueuedBytes: 4096, MaxInflight: 4,
			MaxSubscriptions: 8, MaxRetained: 8, MaxPacketSize: 4096, ReceiveMaximum: 4, PublishRate: -1})
		if err != nil {
			t.Fatal(err)
		}
		cp := &mqtt.Connect{Version: mqtt.V311, CleanStart: mode&2 == 0, ClientID: []byte("fz"), KeepAlive: 10}
		if mode&1 != 0 {
			cp.Version = mqtt.V5
			cp.Props.Set(mqtt.PropTopicAliasMax, 2)
			cp.Props.Set(mqtt.PropReceiveMax, 2)
			if mode&2 != 0 {
				cp.Props.Set(mqtt.PropSessionExpiry, 60)
			}
		}
		in := append(enc(cp), stream...)
		c := &memConn{r: bytes.NewReader(in)}
		b.ServeConn(c)
		// Replay the stream on the session the first run may have kept.
		c2 := &memConn{r: bytes.NewReader(in)}
		b.ServeConn(c2)
		// The event loop's path: the same bytes fed in chunks to feed.
		b.nconns.Add(1)
		c3 := &conn{b: b, nc: &memConn{r: bytes.NewReader(nil)}}
		var d mqtt.Decoded
		if _, _, err := d.Decode(enc(cp), 0); err != nil {
			t.Fatal(err)
		}
		err = c3.connect(&d.Connect)
		if err == nil {
			chunk := int(mode>>2) + 1
			var pending []byte
			for rest := stream; len(rest) > 0 && err == nil; {
				k := min(chunk, len(rest))
				pending = append(pending, rest[:k]...)
				rest = rest[k:]
				var used int
				used, _, err = c3.feed(pending, &d)
				pending = pending[used:]
			}
		}
		c3.end(err)
		st := b.Stats()
		if st.Sessions > 1 || st.Subscriptions > 8 || st.Retained > 8 {
			t.Fatalf("state beyond its bounds: %+v", st)
		}
		if cs, ok := b.ClientStats("fz"); ok && (cs.Queued > 8 || cs.QueuedBytes > 4096 || cs.Inflight > 4) {
			t.Fatalf("session beyond its bounds: %+v", cs)
		}
		b.Close()
	})
}
