//go:build !tinygo

package mqtt

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpOpts compares decoded packets: nil and empty slices are equal, and the
// remembered wire order of properties is not part of a packet's value.
var cmpOpts = cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(Properties{})}

// TestFixturesDecodeFields compares every decoded fixture with its value
// field by field.
func TestFixturesDecodeFields(t *testing.T) {
	for _, fx := range fixtures {
		p := newLike(fx.pkt, fx.v)
		if _, err := p.Decode(fx.wire); err != nil {
			t.Errorf("%s: %v", fx.name, err)
			continue
		}
		if d := cmp.Diff(fx.pkt, p, cmpOpts); d != "" {
			t.Errorf("%s: decoded value differs (-want +got):\n%s", fx.name, d)
		}
	}
}

// seeds returns the fixtures, strict cases and captured packets of type
// typ (0: all) as fuzz inputs: a version byte followed by the packet.
func seeds(t testing.TB, types ...PacketType) [][]byte {
	want := func(b []byte) bool {
		if len(types) == 0 || len(b) == 0 {
			return true
		}
		for _, ty := range types {
			if PacketType(b[0]>>4) == ty {
				return true
			}
		}
		return false
	}
	var out [][]byte
	add := func(v Version, b []byte) {
		if want(b) {
			out = append(out, append([]byte{byte(v)}, b...))
		}
	}
	for _, fx := range fixtures {
		add(fx.v, fx.wire)
	}
	for _, c := range strictCases {
		add(c.v, c.wire)
	}
	for _, p := range readCaptures(t, captureFile) {
		add(p.v, p.raw)
	}
	return out
}

// fuzzVersion maps the first input byte to a version.
func fuzzVersion(b byte) Version {
	switch b % 3 {
	case 0:
		return V311
	case 1:
		return V5
	}
	return V31
}

// checkDecoder is the property every decoder must have: no panic; a
// packet that decodes re-encodes, and the re-encoding decodes to an equal
// value and is a fixed point; decoding again into the same struct
// allocates nothing; slices stay within the input's size.
func checkDecoder(t *testing.T, data []byte, mk func(Version) Packet) {
	if len(data) == 0 {
		return
	}
	v := fuzzVersion(data[0])
	in := data[1:]
	p := mk(v)
	n, err := p.Decode(in)
	if err != nil {
		if n != 0 {
			t.Fatalf("error %v with n = %d", err, n)
		}
		return
	}
	if n > len(in) {
		t.Fatalf("n = %d > %d", n, len(in))
	}
	checkBounded(t, p, n)
	if err := p.Validate(); err != nil {
		t.Fatalf("decoded %#v does not validate: %v", p, err)
	}
	enc, err := p.AppendBinary(nil)
	if err != nil {
		t.Fatalf("decoded %#v does not encode: %v", p, err)
	}
	if len(enc) != p.EncodedLen() {
		t.Fatalf("EncodedLen %d, encoded %d", p.EncodedLen(), len(enc))
	}
	q := mk(v)
	m, err := q.Decode(enc)
	if err != nil || m != len(enc) {
		t.Fatalf("re-decode of % x: %d, %v", enc, m, err)
	}
	if d := cmp.Diff(p, q, cmpOpts); d != "" {
		t.Fatalf("round trip differs (-first +second):\n%s", d)
	}
	enc2, err := q.AppendBinary(nil)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not a fixed point:\n% x\n% x", enc, enc2)
	}
	if !raceEnabled {
		// 20 runs: AllocsPerRun counts the whole process, and a fuzz
		// worker's own goroutines may allocate now and then; the integer
		// average ignores a stray allocation but not one per Decode.
		if a := testing.AllocsPerRun(20, func() { _, _ = p.Decode(in) }); a != 0 {
			t.Fatalf("second Decode into the same struct: %v allocs", a)
		}
	}
}

// checkBounded checks the slices a decode grew are proportional to the
// packet's length n.
func checkBounded(t *testing.T, p Packet, n int) {
	var caps []int
	addProps := func(pr *Properties) { caps = append(caps, cap(pr.User)*5, cap(pr.SubscriptionIDs)*2) }
	switch p := p.(type) {
	case *Connect:
		addProps(&p.Props)
		addProps(&p.Will.Props)
	case *Connack:
		addProps(&p.Props)
	case *Publish:
		addProps(&p.Props)
	case *Ack:
		addProps(&p.Props)
	case *Subscribe:
		addProps(&p.Props)
		caps = append(caps, cap(p.Filters)*3)
	case *Unsubscribe:
		addProps(&p.Props)
		caps = append(caps, cap(p.Filters)*2)
	case *Suback:
		addProps(&p.Props)
		caps = append(caps, cap(p.Codes))
	case *Unsuback:
		addProps(&p.Props)
		caps = append(caps, cap(p.Codes))
	}
	for _, c := range caps {
		if c > 2*n+16 {
			t.Fatalf("slice capacity %d for a %d-byte packet", c, n)
		}
	}
}

func fuzzPacket(f *testing.F, mk func(Version) Packet, types ...PacketType) {
	for _, s := range seeds(f, types...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecoder(t, data, mk) })
}

func FuzzConnect(f *testing.F) {
	fuzzPacket(f, func(Version) Packet { return &Connect{} }, TypeConnect)
}

func FuzzConnack(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Connack{Version: v} }, TypeConnack)
}

func FuzzPublish(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Publish{Version: v} }, TypePublish)
}

func FuzzAck(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Ack{Version: v} }, TypePuback, TypePubrec, TypePubrel, TypePubcomp)
}

func FuzzSubscribe(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Subscribe{Version: v} }, TypeSubscribe)
}

func FuzzSuback(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Suback{Version: v} }, TypeSuback)
}

func FuzzUnsubscribe(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Unsubscribe{Version: v} }, TypeUnsubscribe)
}

func FuzzUnsuback(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Unsuback{Version: v} }, TypeUnsuback)
}

func FuzzPing(f *testing.F) {
	fuzzPacket(f, func(Version) Packet { return &Ping{} }, TypePingreq, TypePingresp)
}

func FuzzDisconnect(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Disconnect{Version: v} }, TypeDisconnect)
}

func FuzzAuth(f *testing.F) {
	fuzzPacket(f, func(v Version) Packet { return &Auth{Version: v} }, TypeAuth)
}

// FuzzHeader checks the fixed header decoder against its encoder and
// PacketLen.
func FuzzHeader(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s[1:])
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var h Header
		n, err := h.Decode(in)
		if err != nil {
			if n != 0 {
				t.Fatal(n)
			}
			return
		}
		out, err := h.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, in[:n]) {
			t.Fatalf("header % x re-encodes as % x, %v", in[:n], out, err)
		}
		if l, err := PacketLen(in, MaxRemainingLength+5); err != nil || l != h.Len() {
			t.Fatalf("PacketLen = %d, %v; Len %d", l, err, h.Len())
		}
	})
}

// FuzzFramer is a differential test: a Framer reading a stream of packets
// in one-byte or half-size chunks yields the same packets, and the same
// errors, as Decoded.Decode walking the bytes in one piece.
func FuzzFramer(f *testing.F) {
	ss := seeds(f)
	for i := 0; i+1 < len(ss); i += 2 {
		f.Add(append(ss[i], ss[i+1][1:]...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		v := fuzzVersion(data[0])
		in := data[1:]
		for _, chunk := range []func([]byte) *Framer{
			func(b []byte) *Framer {
				return NewFramer(iotest.OneByteReader(bytes.NewReader(b)), nil, FramerConfig{Version: v, MaxPacketSize: 512, ReadBufferSize: 8})
			},
			func(b []byte) *Framer {
				return NewFramer(iotest.HalfReader(bytes.NewReader(b)), nil, FramerConfig{Version: v, MaxPacketSize: 512})
			},
		} {
			fr := chunk(in)
			rest := in
			ver := v
			var want, got Decoded
			for {
				typ, err := fr.ReadInto(&got)
				wtyp, n, werr := want.Decode(rest, ver)
				_ = wtyp
				if werr == ErrIncomplete || len(rest) == 0 {
					if err == nil {
						t.Fatalf("framer decoded %v from an incomplete tail", typ)
					}
					break
				}
				var h Header
				if hn, herr := h.Decode(rest); herr == nil && hn+h.Remaining > 512 {
					if err != ErrPacketTooLarge {
						t.Fatalf("framer: %v; want ErrPacketTooLarge", err)
					}
					break
				}
				if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
					t.Fatalf("framer %v, %v; Decode %v", typ, err, werr)
				}
				if werr != nil {
					// Malformed: both report it; the framer has consumed the
					// packet's bytes when its header was sound.
					if fr.Buffered() < 0 {
						t.Fatal("negative buffer")
					}
					break
				}
				if typ == TypeConnect {
					ver = got.Connect.Version
				}
				if d := cmp.Diff(want.Packet(typ), got.Packet(typ), cmpOpts); d != "" {
					t.Fatalf("framer and Decode differ:\n%s", d)
				}
				rest = rest[n:]
			}
		}
	})
}

// refMatch is a plain reference implementation of §4.7 matching.
func refMatch(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	fl := strings.Split(filter, "/")
	tl := strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return true
		}
		if i >= len(tl) {
			return false
		}
		if f != "+" && f != tl[i] {
			return false
		}
	}
	return len(fl) == len(tl)
}

// FuzzTopicMatch checks MatchTopic and the Trie against refMatch, and the
// validators against each other.
func FuzzTopicMatch(f *testing.F) {
	for _, c := range topicCases {
		f.Add(c.filter, c.topic)
	}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		ferr := CheckTopicFilter([]byte(filter))
		terr := CheckTopicName([]byte(topic))
		if ferr != nil || terr != nil || IsShared([]byte(filter)) {
			return
		}
		want := refMatch(filter, topic)
		if got := MatchTopic([]byte(filter), []byte(topic)); got != want {
			t.Fatalf("MatchTopic(%q, %q) = %v; want %v", filter, topic, got, want)
		}
		var tr Trie[int]
		if err := tr.Add([]byte(filter), 1); err != nil {
			t.Fatal(err)
		}
		got := tr.Match([]byte(topic), nil)
		if (len(got) == 1) != want || len(got) > 1 {
			t.Fatalf("Trie.Match(%q, %q) = %v; want %v", filter, topic, got, want)
		}
		if !tr.Remove([]byte(filter), 1) || tr.Len() != 0 || len(tr.root.children) != 0 || tr.root.plus != nil {
			t.Fatalf("Remove(%q) left %d values", filter, tr.Len())
		}
	})
}

// FuzzTopicCheck checks the validators against plain reference versions.
func FuzzTopicCheck(f *testing.F) {
	for _, c := range topicCases {
		f.Add(c.filter)
		f.Add(c.topic)
	}
	f.Add("$share/g/a/+")
	f.Add("a\x00b/\xff+#")
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		if got, want := scanTopic(b), refScan(b); got != want {
			t.Fatalf("scanTopic(%q) = %#x; want %#x", s, got, want)
		}
		validUTF8 := utf8.ValidString(s) && !strings.ContainsRune(s, 0)
		nameOK := s != "" && validUTF8 && !strings.ContainsAny(s, "+#")
		if (CheckTopicName(b) == nil) != nameOK {
			t.Fatalf("CheckTopicName(%q) = %v; want ok=%v", s, CheckTopicName(b), nameOK)
		}
		filter := s
		filterOK := s != "" && validUTF8
		if strings.HasPrefix(s, "$share/") {
			rest := s[len("$share/"):]
			i := strings.IndexByte(rest, '/')
			if i <= 0 || strings.ContainsAny(rest[:i], "+#") || i == len(rest)-1 {
				filterOK = false
			} else {
				filter = rest[i+1:]
			}
		}
		for i, lvl := range strings.Split(filter, "/") {
			last := i == strings.Count(filter, "/")
			if (strings.Contains(lvl, "+") && lvl != "+") || (strings.Contains(lvl, "#") && (lvl != "#" || !last)) {
				filterOK = false
			}
		}
		if (CheckTopicFilter(b) == nil) != filterOK {
			t.Fatalf("CheckTopicFilter(%q) = %v; want ok=%v", s, CheckTopicFilter(b), filterOK)
		}
	})
}
