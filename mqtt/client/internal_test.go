package client

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// seqReader returns the 8-byte little-endian values vals, in turn.
type seqReader struct{ vals []uint64 }

func (r *seqReader) Read(p []byte) (int, error) {
	v := r.vals[0]
	r.vals = r.vals[1:]
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return copy(p, b[:]), nil
}

func TestBackoff(t *testing.T) {
	c, err := New(Config{Addr: "x:1", MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
		Rand: &seqReader{vals: []uint64{0, 0, 0, 0, 0, 0, 1<<64 - 1, 50_000_000, 7}}})
	if err != nil {
		t.Fatal(err)
	}
	// The 8 bytes of the client id come from the same source: one value.
	// Random 0 gives the lower half of the doubling delay.
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond}
	for n, w := range want {
		if d := c.backoff(n); d != w {
			t.Fatalf("backoff(%d) = %v, want %v", n, d, w)
		}
	}
	// Jitter stays within [d/2, d] at the cap.
	for n := 5; n < 8; n++ {
		d := c.backoff(n)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("backoff(%d) = %v out of [0.5s, 1s]", n, d)
		}
	}
}

func TestRecord(t *testing.T) {
	h := recHeader{state: stSent, version: mqtt.V5, qos: 2, id: 513, seq: 1 << 40, created: 1700000000123}
	rec := appendRecHeader(nil, h)
	rec = append(rec, 0x34, 0)
	got, err := parseRec(rec)
	if err != nil || got != h {
		t.Fatalf("parseRec = %+v, %v; want %+v", got, err, h)
	}
	setRecState(rec, stPubrel, 9)
	got, _ = parseRec(rec)
	if got.state != stPubrel || got.id != 9 {
		t.Fatalf("after setRecState: %+v", got)
	}
	for _, bad := range [][]byte{nil, rec[:recHdr], append([]byte{9}, rec[1:]...), bytes.Repeat([]byte{1}, 30)} {
		if _, err := parseRec(bad); err == nil && len(bad) < recHdr+2 {
			t.Fatalf("parseRec accepted %x", bad)
		}
	}
}

func TestPacketIDs(t *testing.T) {
	c, err := New(Config{Addr: "x:1"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[mqtt.PacketID]bool{}
	for range 65535 {
		id, ok := c.allocID()
		if !ok || id == 0 || seen[id] {
			t.Fatalf("allocID = %d, %v (seen %v)", id, ok, seen[id])
		}
		seen[id] = true
	}
	if _, ok := c.allocID(); ok {
		t.Fatal("a 65536th packet id")
	}
	c.freeID(777)
	if id, ok := c.allocID(); !ok || id != 777 {
		t.Fatalf("after freeing 777: %d %v", id, ok)
	}
}
