package wal

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

// smallSegment builds a real segment of a few hundred bytes: tiny records
// under each codec, a droppable one, a deletion and a batch deletion.
func smallSegment(tb testing.TB) []byte {
	dir := tb.TempDir()
	l := openT(tb, dir, Config{Sync: SyncNever, CompactRatio: -1})
	ctx := tb.Context()
	var offs []uint64
	for i, p := range []string{"a", "bb", "ccccccccccccccccccccccc", "d", "eeeeeeeeeeeeeeeeeeee", "f"} {
		off, err := l.Append(ctx, []byte(p), AppendOptions{Codec: Codec(1 + i%3), Droppable: i%2 == 0, Class: uint8(i)})
		if err != nil {
			tb.Fatal(err)
		}
		offs = append(offs, off)
	}
	if err := l.Delete(ctx, offs[1]); err != nil {
		tb.Fatal(err)
	}
	if err := l.DeleteBatch(ctx, []uint64{offs[3], offs[4]}); err != nil {
		tb.Fatal(err)
	}
	l.Close()
	return readFile(tb, segFiles(tb, dir)[0])
}

// memScan is recoverSegment's scan on a segment held in memory: the same
// scanner, check, resync and recoverRecord (tombstones applied through
// killRangeLocked), with the file operations left out (a torn tail only
// sets the segment's size). It returns the log it built (one segment) and
// the scanner, for the invariants below.
func memScan(data []byte, bufSize int, last bool) (*Log, *segment, *scanner) {
	l := &Log{cfg: Config{CompactRatio: DefaultCompactRatio, SegmentSize: DefaultSegmentSize}, lg: quiet()}
	sc := &scanner{f: bytes.NewReader(data), size: int64(len(data)), buf: make([]byte, bufSize)}
	n := min(len(data), segHeaderLen)
	base, gen, reason := parseSegHeader(data[:n])
	if reason != "" {
		return l, nil, sc
	}
	size := int64(len(data))
	s := &segment{base: base, gen: gen, size: size}
	l.segs = append(l.segs, s)
	var after uint64
	budget := 4*size + 1<<20
	pos := int64(segHeaderLen)
	for pos < size {
		h, reason := sc.check(pos, base, after, nil)
		if reason == "" {
			l.recoverRecord(sc, s, pos, &h)
			after = h.off
			pos += recHeaderLen + int64(h.size)
			continue
		}
		q, exhausted := l.resync(sc, pos+1, base, after, &budget)
		if q < 0 {
			if last && !exhausted {
				l.rec.TornBytes += size - pos
				s.size = pos
				break
			}
			_ = l.damage("mem", pos, size-pos, reason)
			break
		}
		_ = l.damage("mem", pos, q-pos, reason)
		pos = q
	}
	return l, s, sc
}

// FuzzScanSegment fuzzes the segment scanner and recovery logic in memory
// (thousands of inputs a second, where FuzzRecover, going through real
// files, manages a few): record header parsing, CRC, offset order, the
// bounded forward search after damage, tombstone application and payload
// decoding. The index it builds must be consistent, every indexed record
// must check and decode, the result must not depend on the scanner's
// window size, and scanning the repaired (truncated) segment again must
// find the same records and no torn tail.
func FuzzScanSegment(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it keeps, which
	// takes long for inputs of kilobytes.
	seg := smallSegment(f)
	f.Add(seg)
	f.Add(seg[:len(seg)-5])
	f.Add(seg[:segHeaderLen])
	flipped := append([]byte(nil), seg...)
	flipped[len(seg)/2] ^= 0x40
	f.Add(flipped)
	// Damage in the middle followed by valid records: the forward search.
	cut := segHeaderLen + recHeaderLen + 3
	f.Add(append(append(append([]byte(nil), seg[:cut]...), make([]byte, 5)...), seg[cut:]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return
		}
		for _, last := range []bool{true, false} {
			l, s, sc := memScan(data, 4096, last)
			if s == nil {
				if l.rec.Records != 0 {
					t.Fatal("records indexed without a valid segment header")
				}
				continue
			}
			checkScan(t, data, l, s, sc)
			// The scanner's window must not change the outcome.
			l2, s2, _ := memScan(data, 64, last)
			sameScan(t, "window 64", s, s2, l, l2)
			if !last {
				continue
			}
			// Recovery is idempotent: the repaired segment scans the same,
			// without a torn tail.
			l3, s3, _ := memScan(data[:s.size], 1024, true)
			if l3.rec.TornBytes != 0 {
				t.Fatalf("torn tail again after repair: %+v then %+v", l.rec, l3.rec)
			}
			if l3.rec.DamagedCount != l.rec.DamagedCount || l3.rec.DamagedBytes != l.rec.DamagedBytes {
				t.Fatalf("damage changed after repair: %+v then %+v", l.rec, l3.rec)
			}
			sameScan(t, "rescan", s, s3, l, l3)
		}
	})
}

// checkScan verifies the index memScan built from data.
func checkScan(t *testing.T, data []byte, l *Log, s *segment, sc *scanner) {
	t.Helper()
	if len(sc.buf) > maxRecordLimit+recHeaderLen {
		t.Fatalf("scanner window grew to %d", len(sc.buf))
	}
	if s.size < segHeaderLen || s.size > int64(len(data)) {
		t.Fatalf("segment size %d of %d bytes", s.size, len(data))
	}
	if int64(len(data))-s.size != l.rec.TornBytes {
		t.Fatalf("size %d of %d with %d torn bytes", s.size, len(data), l.rec.TornBytes)
	}
	var prevOff uint64
	prevEnd := int64(segHeaderLen)
	live, liveBytes, tombBytes, covered := 0, int64(0), int64(0), int64(0)
	cd := &scanCodecs
	for i, e := range s.ents {
		off := s.base + uint64(e.rel)
		pos, end := int64(e.pos), int64(e.pos)+int64(e.size)
		if off <= prevOff || pos < prevEnd || end > s.size {
			t.Fatalf("entry %d: offset %d after %d, bytes [%d,%d) after %d in %d", i, off, prevOff, pos, end, prevEnd, s.size)
		}
		covered += end - pos
		prevOff, prevEnd = off, end
		rb := data[pos:end]
		h, ok := parseRecHeader(rb)
		if !ok || h.off != off || int64(h.size)+recHeaderLen != end-pos || h.flags != e.flags || h.class != e.class ||
			recordCRC(rb, rb[recHeaderLen:]) != h.crc {
			t.Fatalf("entry %d (offset %d) does not check: %+v", i, off, h)
		}
		var hb [recHeaderLen]byte
		putRecHeader(hb[:], &h)
		if !bytes.Equal(hb[:], rb[:recHeaderLen]) {
			t.Fatalf("entry %d: header does not round-trip", i)
		}
		if e.tomb() {
			tombBytes += end - pos
			if e.dead {
				t.Fatalf("entry %d: a dead tombstone", i)
			}
			for p := rb[recHeaderLen:]; len(p) >= 16; p = p[16:] {
				from, to := getRange(p)
				if from == 0 || to < from || to >= off {
					t.Fatalf("entry %d: accepted tombstone range [%d,%d]", i, from, to)
				}
			}
			continue
		}
		// The record decodes, or is reported corrupt; never more than rawLen.
		out, err := cd.decode(nil, rb[recHeaderLen:], h.flags&flagCodecMask, int(h.rawLen))
		if err == nil && len(out) != int(h.rawLen) {
			t.Fatalf("entry %d: decoded %d bytes, want %d", i, len(out), h.rawLen)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("entry %d: decode: %v", i, err)
		}
		if !e.dead {
			live++
			liveBytes += end - pos
		}
		// Dead exactly when a later tombstone covers it.
		dead := false
		for _, t2 := range s.ents[i+1:] {
			if !t2.tomb() {
				continue
			}
			tp := int64(t2.pos)
			for p := data[tp+recHeaderLen : tp+int64(t2.size)]; len(p) >= 16; p = p[16:] {
				if from, to := getRange(p); from <= off && off <= to {
					dead = true
				}
			}
		}
		if dead != e.dead {
			t.Fatalf("entry %d (offset %d): dead %v, tombstones say %v", i, off, e.dead, dead)
		}
	}
	if l.rec.Records != len(s.ents) {
		t.Fatalf("%d records counted, %d indexed", l.rec.Records, len(s.ents))
	}
	if s.live != live || l.liveRecs != live || s.liveBytes != liveBytes || l.liveBytes != liveBytes || s.tombBytes != tombBytes {
		t.Fatalf("accounting: segment live %d/%d bytes, log %d/%d, tombstones %d; index says %d/%d, %d",
			s.live, s.liveBytes, l.liveRecs, l.liveBytes, s.tombBytes, live, liveBytes, tombBytes)
	}
	// Every byte up to the size is a record, damage or the header.
	if covered+l.rec.DamagedBytes+segHeaderLen != s.size {
		t.Fatalf("%d record bytes + %d damaged + header != size %d", covered, l.rec.DamagedBytes, s.size)
	}
}

// scanCodecs decodes the payloads checkScan finds; its zstd decoder is
// costly to make, so it is made once (DecodeAll is safe for concurrent use).
var scanCodecs codecs

func sameScan(t *testing.T, what string, a, b *segment, la, lb *Log) {
	t.Helper()
	if b == nil || len(a.ents) != len(b.ents) || la.liveRecs != lb.liveRecs || la.rec.Records != lb.rec.Records {
		t.Fatalf("%s: different index (%d vs %d entries)", what, len(a.ents), len(b.ents))
	}
	for i := range a.ents {
		if a.ents[i] != b.ents[i] {
			t.Fatalf("%s: entry %d: %+v vs %+v", what, i, a.ents[i], b.ents[i])
		}
	}
}

// TestScanSegmentMatchesOpen keeps memScan honest: on the seed segment, a
// torn copy and a damaged copy it indexes exactly what Open recovers from
// the same bytes on disk.
func TestScanSegmentMatchesOpen(t *testing.T) {
	seg := seedSegment(t)
	damaged := append([]byte(nil), seg...)
	damaged[segHeaderLen+30] ^= 0x10
	gap := append(append(append([]byte(nil), seg[:segHeaderLen+40]...), make([]byte, 13)...), seg[segHeaderLen+40:]...)
	for name, data := range map[string][]byte{"valid": seg, "torn": seg[:len(seg)-7], "damaged": damaged, "gap": gap} {
		t.Run(name, func(t *testing.T) {
			ml, ms, _ := memScan(data, 256<<10, true)
			if ms == nil {
				t.Fatal("seed has no valid header")
			}
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, segName(1, 0)), data)
			l := openT(t, dir, Config{Sync: SyncNever, SegmentSize: 64 << 10, CompactRatio: -1})
			defer l.Close()
			l.mu.Lock()
			s := l.segs[0]
			if len(s.ents) != len(ms.ents) {
				l.mu.Unlock()
				t.Fatalf("Open indexed %d entries, memScan %d", len(s.ents), len(ms.ents))
			}
			for i := range s.ents {
				a, b := s.ents[i], ms.ents[i]
				if a.rel != b.rel || a.pos != b.pos || a.size != b.size || a.flags != b.flags || a.dead != b.dead {
					l.mu.Unlock()
					t.Fatalf("entry %d: Open %+v, memScan %+v", i, a, b)
				}
			}
			l.mu.Unlock()
			r := l.Stats().Recovery
			if r.TornBytes != ml.rec.TornBytes || r.DamagedCount != ml.rec.DamagedCount || r.DamagedBytes != ml.rec.DamagedBytes || r.Records != ml.rec.Records {
				t.Fatalf("Open recovery %+v, memScan %+v", r, ml.rec)
			}
			if name != "valid" && r.TornBytes == 0 && r.DamagedCount == 0 {
				t.Fatalf("%s seed recovered as clean: %+v", name, r)
			}
		})
	}
}
