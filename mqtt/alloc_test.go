//go:build !tinygo

package mqtt

import (
	"bytes"
	"io"
	"testing"
)

func fixtureNamed(t testing.TB, name string) fixture {
	for _, fx := range fixtures {
		if fx.name == name {
			return fx
		}
	}
	t.Fatalf("no fixture %q", name)
	return fixture{}
}

// TestNoAllocs proves decode and encode of PUBLISH, SUBSCRIBE and CONNECT
// (3.1.1, and 5 with properties) allocate nothing (STYLE R21).
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, name := range []string{
		"publish/v311/qos1-dup-retain", "publish/v5/qos1-3props", "publish/v5/request-response",
		"subscribe/v311", "subscribe/v5/options",
		"connect/v311/will+auth", "connect/v5/props", "connect/v5/will",
		"connack/v5/props", "puback/v5/no-subscribers", "pubrec/v5/reason-string",
		"suback/v5", "unsubscribe/v5", "unsuback/v5", "disconnect/v5/props", "auth/v5/continue", "pingreq",
	} {
		fx := fixtureNamed(t, name)
		p := newLike(fx.pkt, fx.v)
		if n := testing.AllocsPerRun(1000, func() {
			if _, err := p.Decode(fx.wire); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: Decode: %v allocs/op; want 0", name, n)
		}
		buf := make([]byte, 0, 512)
		if n := testing.AllocsPerRun(1000, func() {
			if _, err := fx.pkt.AppendBinary(buf[:0]); err != nil {
				t.Fatal(err)
			}
			_ = fx.pkt.EncodedLen()
		}); n != 0 {
			t.Errorf("%s: AppendBinary: %v allocs/op; want 0", name, n)
		}
	}
	// Concrete types, without the interface: a Publish on the stack.
	wire := fixtureNamed(t, "publish/v5/qos1-3props").wire
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(1000, func() {
		p := Publish{Version: V5}
		if _, err := p.Decode(wire); err != nil {
			t.Fatal(err)
		}
		out, err := p.AppendBinary(buf[:0])
		if err != nil || !bytes.Equal(out, wire) {
			t.Fatal("round trip")
		}
	}); n != 0 {
		t.Errorf("stack Publish: %v allocs/op; want 0", n)
	}
	var d Decoded
	if n := testing.AllocsPerRun(1000, func() {
		for _, fx := range fixtures {
			if _, _, err := d.Decode(fx.wire, fx.v); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Errorf("Decoded.Decode: %v allocs/op; want 0", n)
	}
	bad := strictCases[0].wire
	if n := testing.AllocsPerRun(1000, func() { _, _, _ = d.Decode(bad, V311) }); n != 0 {
		t.Errorf("Decode error path: %v allocs/op; want 0", n)
	}
}

// TestMatchNoAllocs proves topic matching allocates nothing.
func TestMatchNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	tr := benchTrie(t, 10000)
	topic := []byte("site/b40/f3/d0/temp")
	dst := make([]int, 0, 64)
	var got int
	if n := testing.AllocsPerRun(1000, func() { got = len(tr.Match(topic, dst[:0])) }); n != 0 {
		t.Errorf("Trie.Match: %v allocs/op; want 0", n)
	}
	if got == 0 {
		t.Fatal("no match")
	}
	if n := testing.AllocsPerRun(1000, func() {
		if !MatchTopic([]byte("site/+/f3/#"), topic) {
			t.Fatal("no match")
		}
	}); n != 0 {
		t.Errorf("MatchTopic: %v allocs/op; want 0", n)
	}
}

// TestFramerNoAllocs proves the Framer's expert tier allocates nothing
// once its buffers have grown.
func TestFramerNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	wire := fixtureNamed(t, "publish/v5/qos1-3props").wire
	stream := bytes.Repeat(wire, 2000)
	r := bytes.NewReader(stream)
	fr := NewFramer(r, io.Discard, FramerConfig{Version: V5})
	var d Decoded
	pub := &Publish{Version: V5, QoS: 1, ID: 1, Topic: []byte("a/b"), Payload: []byte("x")}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := fr.ReadInto(&d); err != nil {
			t.Fatal(err)
		}
		if err := fr.WritePublish(pub); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ReadInto+WritePublish: %v allocs/op; want 0", n)
	}
}
