package wal

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// seedSegment builds a small real segment: mixed codecs, droppable records,
// tombstones.
func seedSegment(tb testing.TB) []byte {
	dir := tb.TempDir()
	l := openT(tb, dir, Config{Sync: SyncNever})
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		p := payload(i)
		if i%4 == 3 {
			p = append(p, p...)
		}
		off, err := l.Append(ctx, p, AppendOptions{Codec: Codec(1 + i%3), Droppable: i%2 == 0, Class: uint8(i)})
		if err != nil {
			tb.Fatal(err)
		}
		if i%5 == 1 {
			_ = l.Delete(ctx, off)
		}
	}
	_ = l.TruncateHead(ctx, 2)
	l.Close()
	return readFile(tb, segFiles(tb, dir)[0])
}

// FuzzRecover feeds arbitrary bytes to recovery as the only segment file.
// Open must succeed (damage is skipped), every record it indexed must read
// back, a second Open must find the same records and no new damage, and the
// log must accept appends.
func FuzzRecover(f *testing.F) {
	seg := seedSegment(f)
	f.Add(seg)
	f.Add(seg[:len(seg)-7])
	f.Add(seg[:segHeaderLen])
	f.Add(seg[:segHeaderLen-3])
	flipped := append([]byte(nil), seg...)
	flipped[segHeaderLen+30] ^= 0x10
	f.Add(flipped)
	hdrOnly := append([]byte(nil), seg[:segHeaderLen]...)
	f.Add(append(hdrOnly, make([]byte, 100)...))
	f.Add([]byte("EKWL"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, segName(1, 0)), data)
		cfg := Config{Sync: SyncNever, SegmentSize: 64 << 10, Logger: quiet()}
		l, err := Open(dir, cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		first := readFuzz(t, l)
		r1 := l.Stats().Recovery
		l.Close()
		l, err = Open(dir, cfg)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		r2 := l.Stats().Recovery
		// A segment with a bad header is moved aside (to *.damaged) and is
		// not seen again; any other damage is reported on every Open.
		wantCount, wantBytes := r1.DamagedCount, r1.DamagedBytes
		for _, d := range r1.Damaged {
			if d.Pos == 0 {
				wantCount--
				wantBytes -= d.Len
			}
		}
		if r2.TornBytes != 0 || r2.DamagedCount != wantCount || r2.DamagedBytes != wantBytes {
			t.Fatalf("recovery not idempotent: %+v then %+v", r1, r2)
		}
		second := readFuzz(t, l)
		if len(first) != len(second) {
			t.Fatalf("%d records, then %d", len(first), len(second))
		}
		for i := range first {
			if first[i] != second[i] {
				t.Fatalf("record %d: offset %d then %d", i, first[i], second[i])
			}
		}
		off, err := l.Append(context.Background(), []byte("after"), AppendOptions{})
		if err != nil {
			t.Fatalf("Append after recovery: %v", err)
		}
		if len(first) > 0 && off <= first[len(first)-1] {
			t.Fatalf("offset %d not after %d", off, first[len(first)-1])
		}
		if rec, err := l.Get(off, nil); err != nil || string(rec.Data) != "after" {
			t.Fatalf("Get: %v", err)
		}
		l.Close()
	})
}

func readFuzz(t *testing.T, l *Log) []uint64 {
	var offs []uint64
	r := l.NewReader(0)
	for i := 0; ; i++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return offs
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			// CRC-valid but undecodable payloads are reported, not fatal.
			t.Fatalf("Next: %v", err)
		}
		if i > 1<<20 {
			t.Fatal("reader does not end")
		}
		offs = append(offs, rec.Offset)
	}
}
