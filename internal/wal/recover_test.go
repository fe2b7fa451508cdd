package wal

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		writeFile(t, filepath.Join(dst, e.Name()), readFile(t, filepath.Join(src, e.Name())))
	}
}

// lastRecord returns the file and position range of the log's last record.
func lastRecord(t testing.TB, l *Log) (string, int64, int64) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.active()
	e := s.ents[len(s.ents)-1]
	return s.name, int64(e.pos), int64(e.pos) + int64(e.size)
}

// TestTornTail cuts the last segment at every byte of its last record.
func TestTornTail(t *testing.T) {
	for _, c := range []Codec{CodecNone, CodecZstd} {
		t.Run(c.String(), func(t *testing.T) {
			src := t.TempDir()
			l := openT(t, src, Config{Sync: SyncNever, Compression: c, SegmentSize: 8192})
			want := appendN(t, l, 120, AppendOptions{})
			name, start, end := lastRecord(t, l)
			l.Close()
			for cut := start; cut < end; cut++ {
				dir := t.TempDir()
				copyDir(t, src, dir)
				if err := os.Truncate(filepath.Join(dir, name), cut); err != nil {
					t.Fatal(err)
				}
				l := openT(t, dir, Config{Corruption: CorruptionFail})
				r := l.Stats().Recovery
				if r.TornBytes != cut-start || r.DamagedCount != 0 {
					t.Fatalf("cut at %d: recovery %+v", cut, r)
				}
				sameKV(t, readAll(t, l), want[:len(want)-1])
				// The log continues where the torn record was.
				off, err := l.Append(context.Background(), []byte("after"), AppendOptions{})
				if err != nil || off != want[len(want)-1].off {
					t.Fatalf("cut at %d: append got %d, %v", cut, off, err)
				}
				l.Close()
				l = openT(t, dir, Config{})
				if r := l.Stats().Recovery; r.TornBytes != 0 || r.DamagedCount != 0 {
					t.Fatalf("cut at %d: second recovery %+v", cut, r)
				}
				if got := readAll(t, l); len(got) != len(want) || string(got[len(got)-1].data) != "after" {
					t.Fatalf("cut at %d: %d records after reopen", cut, len(got))
				}
				l.Close()
			}
		})
	}
}

// TestZeroFilledTail: a tail of zeros (a file extended but never written,
// as after a power loss) is torn, not damage.
func TestZeroFilledTail(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{Sync: SyncNever})
	want := appendN(t, l, 10, AppendOptions{})
	name, _, end := lastRecord(t, l)
	l.Close()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, 5000), end)
	f.Close()
	l = openT(t, dir, Config{Corruption: CorruptionFail})
	defer l.Close()
	if r := l.Stats().Recovery; r.TornBytes != 5000 || r.DamagedCount != 0 {
		t.Fatalf("recovery %+v", r)
	}
	sameKV(t, readAll(t, l), want)
}

// TestCorruption flips every byte of a record in the middle of the log in
// turn: recovery reports the damage, loses that record only, keeps the log
// usable, and CorruptionFail refuses to open.
func TestCorruption(t *testing.T) {
	src := t.TempDir()
	l := openT(t, src, Config{Sync: SyncNever, SegmentSize: 8192, Compression: CodecNone})
	want := appendN(t, l, 100, AppendOptions{})
	// A record in the first (sealed) segment and one in the active segment.
	l.mu.Lock()
	victims := []struct {
		name       string
		idx        int
		start, end int64
	}{}
	for _, s := range []*segment{l.segs[0], l.active()} {
		e := s.ents[len(s.ents)/2]
		victims = append(victims, struct {
			name       string
			idx        int
			start, end int64
		}{s.name, int(s.base + uint64(e.rel) - 1), int64(e.pos), int64(e.pos + e.size)})
	}
	l.mu.Unlock()
	l.Close()
	if len(segFiles(t, src)) < 2 {
		t.Fatal("need several segments")
	}
	for _, v := range victims {
		for pos := v.start; pos < v.end; pos++ {
			dir := t.TempDir()
			copyDir(t, src, dir)
			p := filepath.Join(dir, v.name)
			b := readFile(t, p)
			b[pos] ^= 0x5a
			writeFile(t, p, b)
			if _, err := Open(dir, Config{Corruption: CorruptionFail, Logger: quiet()}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s byte %d: CorruptionFail opened with %v", v.name, pos, err)
			}
			l := openT(t, dir, Config{})
			r := l.Stats().Recovery
			if r.DamagedCount != 1 || r.Damaged[0].Pos != v.start || r.Damaged[0].Len != v.end-v.start || r.TornBytes != 0 {
				t.Fatalf("%s byte %d: recovery %+v", v.name, pos, r)
			}
			exp := append(append([]kv(nil), want[:v.idx]...), want[v.idx+1:]...)
			sameKV(t, readAll(t, l), exp)
			if _, err := l.Append(context.Background(), []byte("more"), AppendOptions{}); err != nil {
				t.Fatal(err)
			}
			l.Close()
			// Same report on every open: no loop, no drift.
			l = openT(t, dir, Config{})
			if r2 := l.Stats().Recovery; r2.DamagedCount != 1 || r2.Damaged[0] != r.Damaged[0] {
				t.Fatalf("second open: %+v", r2)
			}
			l.Close()
		}
	}
}

func TestSegmentHeaderCorruption(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{Sync: SyncNever, SegmentSize: 4096, Compression: CodecNone})
	want := appendN(t, l, 100, AppendOptions{})
	l.mu.Lock()
	firstN := len(l.segs[0].ents)
	l.mu.Unlock()
	l.Close()
	first := segFiles(t, dir)[0]
	b := readFile(t, first)
	b[9] ^= 1 // base offset
	writeFile(t, first, b)
	l = openT(t, dir, Config{})
	defer l.Close()
	r := l.Stats().Recovery
	if r.DamagedCount != 1 || r.Damaged[0].Pos != 0 {
		t.Fatalf("recovery %+v", r)
	}
	sameKV(t, readAll(t, l), want[firstN:])
	if _, err := os.Stat(first + ".damaged"); err != nil {
		t.Fatalf("damaged segment not kept aside: %v", err)
	}
}

// TestCorruptionWhileOpen: damage that appears after Open is reported by the
// reader, which moves on.
func TestCorruptionWhileOpen(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{Sync: SyncNever, Compression: CodecNone})
	defer l.Close()
	want := appendN(t, l, 5, AppendOptions{})
	l.mu.Lock()
	s := l.active()
	e := s.ents[2]
	l.mu.Unlock()
	if _, err := s.f.WriteAt([]byte{0xff}, int64(e.pos)+recHeaderLen+3); err != nil {
		t.Fatal(err)
	}
	r := l.NewReader(0)
	var got []uint64
	var corrupt int
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var ce *CorruptError
		if errors.As(err, &ce) && errors.Is(err, ErrCorrupt) && ce.Offset == want[2].off {
			corrupt++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.Offset)
	}
	if corrupt != 1 || len(got) != 4 {
		t.Fatalf("corrupt=%d got=%v", corrupt, got)
	}
}

// TestHostileTail: a last segment full of plausible headers with wrong CRCs
// exhausts the bounded search; recovery reports damage (not a torn tail),
// keeps the valid records, and starts a new segment for new appends.
func TestHostileTail(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{Sync: SyncNever, SegmentSize: 4 << 20})
	want := appendN(t, l, 3, AppendOptions{})
	name, _, end := lastRecord(t, l)
	l.Close()
	var fake [recHeaderLen]byte
	putRecHeader(fake[:], &recHeader{crc: 1, size: 65536, rawLen: 65536, off: want[2].off + 5})
	garbage := make([]byte, 0, 1<<20)
	for len(garbage)+recHeaderLen <= cap(garbage) {
		garbage = append(garbage, fake[:]...)
	}
	p := filepath.Join(dir, name)
	b := append(readFile(t, p)[:end], garbage...)
	writeFile(t, p, b)
	for round := 0; round < 2; round++ {
		l = openT(t, dir, Config{})
		r := l.Stats().Recovery
		if r.TornBytes != 0 || r.DamagedCount != 1 || r.Damaged[0].Pos != end {
			t.Fatalf("round %d: recovery %+v", round, r)
		}
		sameKV(t, readAll(t, l), want)
		off, err := l.Append(context.Background(), []byte("new"), AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, kv{off, []byte("new")})
		l.Close()
	}
	l = openT(t, dir, Config{})
	defer l.Close()
	sameKV(t, readAll(t, l), want)
}
