//go:build !tinygo

package mqtt

import (
	"bytes"
	"io"
	"strconv"
	"testing"
)

// benchTrie builds a trie of n filters shaped like a gateway's: nine in
// ten exact "site/bB/fF/dD/temp", one in twenty "site/bB/+/dD/temp", one in
// twenty "site/bB/fF/#". The value is the filter's index.
func benchTrie(tb testing.TB, n int) *Trie[int] {
	tb.Helper()
	var tr Trie[int]
	for i := 0; i < n; i++ {
		b, f, d := strconv.Itoa(i%100), strconv.Itoa((i/100)%10), strconv.Itoa(i/1000)
		var filter string
		switch i % 20 {
		case 0:
			filter = "site/b" + b + "/+/d" + d + "/temp"
		case 1:
			filter = "site/b" + b + "/f" + f + "/#"
		default:
			filter = "site/b" + b + "/f" + f + "/d" + d + "/temp"
		}
		if err := tr.Add([]byte(filter), i); err != nil {
			tb.Fatal(err)
		}
	}
	return &tr
}

func BenchmarkDecode(b *testing.B) {
	for _, fx := range fixtures {
		b.Run(fx.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(fx.wire)))
			p := newLike(fx.pkt, fx.v)
			for b.Loop() {
				_, _ = p.Decode(fx.wire)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, fx := range fixtures {
		b.Run(fx.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(fx.wire)))
			buf := make([]byte, 0, 512)
			for b.Loop() {
				_, _ = fx.pkt.AppendBinary(buf[:0])
			}
		})
	}
}

// BenchmarkMatch matches one topic against tries of 1k to 100k filters.
// The bar is under 1 µs at 100k.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		tr := benchTrie(b, n)
		topic := []byte("site/b40/f3/d0/temp")
		dst := make([]int, 0, 64)
		b.Run("filters="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				dst = tr.Match(topic, dst[:0])
			}
			if len(dst) == 0 {
				b.Fatal("no match")
			}
		})
	}
	b.Run("MatchTopic", func(b *testing.B) {
		b.ReportAllocs()
		f, t := []byte("site/+/f3/#"), []byte("site/b42/f3/d57/temp")
		for b.Loop() {
			MatchTopic(f, t)
		}
	})
}

// BenchmarkFramer reads and writes v5 QoS 1 PUBLISH packets through a
// Framer over in-memory streams.
func BenchmarkFramer(b *testing.B) {
	wire := fixtureNamed(b, "publish/v5/qos1-3props").wire
	stream := bytes.Repeat(wire, 4096)
	b.Run("ReadInto", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		fr := NewFramer(&loopReader{b: stream}, nil, FramerConfig{Version: V5})
		var d Decoded
		for b.Loop() {
			if _, err := fr.ReadInto(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("WritePublish", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		fr := NewFramer(nil, io.Discard, FramerConfig{})
		var p Publish
		p.Version = V5
		if _, err := p.Decode(wire); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			_ = fr.WritePublish(&p)
		}
	})
}

// loopReader reads b over and over.
type loopReader struct {
	b []byte
	i int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.i:])
	r.i = (r.i + n) % len(r.b)
	return n, nil
}
