package wal

import (
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

const maxDamageList = 32

// scanner reads a segment file through a window that grows only as far as
// the largest valid record needs (maxRecordLimit at most), so recovery uses
// bounded memory whatever the file holds.
type scanner struct {
	f      io.ReaderAt
	size   int64
	buf    []byte
	bufOff int64
	n      int
}

func (sc *scanner) bytes(pos int64, n int) ([]byte, bool) {
	if pos < 0 || n < 0 || pos+int64(n) > sc.size {
		return nil, false
	}
	if pos >= sc.bufOff && pos+int64(n) <= sc.bufOff+int64(sc.n) {
		i := int(pos - sc.bufOff)
		return sc.buf[i : i+n], true
	}
	if n > len(sc.buf) {
		c := 2 * len(sc.buf)
		if c < n {
			c = n
		}
		if c > maxRecordLimit+recHeaderLen {
			c = maxRecordLimit + recHeaderLen
		}
		sc.buf = make([]byte, c)
	}
	want := int64(len(sc.buf))
	if pos+want > sc.size {
		want = sc.size - pos
	}
	m, err := sc.f.ReadAt(sc.buf[:want], pos)
	if m < n && err != nil {
		sc.n = 0
		return nil, false
	}
	sc.bufOff, sc.n = pos, m
	if m < n {
		return nil, false
	}
	return sc.buf[:n], true
}

// check validates the record at pos: header, bounds, order, CRC and, for a
// tombstone, its ranges. It returns the header or the reason it failed.
// crcBudget, when not nil, is charged for the CRC work and stops the check
// (reason "budget") when exhausted.
func (sc *scanner) check(pos int64, base, after uint64, crcBudget *int64) (recHeader, string) {
	hb, ok := sc.bytes(pos, recHeaderLen)
	if !ok {
		return recHeader{}, "truncated record header"
	}
	h, ok := parseRecHeader(hb)
	if !ok {
		return h, "invalid record header"
	}
	if h.off <= after || h.off < base || h.off-base > 1<<31 {
		return h, "offset out of order"
	}
	if pos+recHeaderLen+int64(h.size) > sc.size {
		return h, "record extends past end of file"
	}
	if crcBudget != nil {
		if *crcBudget < int64(h.size) {
			return h, "budget"
		}
		*crcBudget -= int64(h.size)
	}
	rb, ok := sc.bytes(pos, recHeaderLen+int(h.size))
	if !ok {
		return h, "read error"
	}
	if recordCRC(rb, rb[recHeaderLen:]) != h.crc {
		return h, "CRC mismatch"
	}
	if h.flags&flagTombstone != 0 {
		p := rb[recHeaderLen:]
		for i := 0; i+16 <= len(p); i += 16 {
			from, to := getRange(p[i:])
			if from == 0 || to < from || to >= h.off {
				return h, "invalid tombstone"
			}
		}
	}
	return h, ""
}

type segFile struct {
	name string
	base uint64
	gen  uint32
}

// recover rebuilds the index from the directory. It runs before the log is
// shared, but takes l.mu for the helpers that expect it.
func (l *Log) recover() error {
	start := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	des, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	var files []segFile
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() {
			continue
		}
		if strings.HasSuffix(name, ".wal.tmp") || strings.HasSuffix(name, ".dict.tmp") {
			if os.Remove(l.path(name)) == nil {
				l.rec.RemovedFiles++
			}
			continue
		}
		if base, gen, ok := parseSegName(name); ok {
			files = append(files, segFile{name, base, gen})
		}
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].base != files[j].base {
			return files[i].base < files[j].base
		}
		return files[i].gen > files[j].gen
	})
	// A compaction that crashed after its rename leaves an older generation
	// behind: the newest one is complete (it was synced before the rename).
	kept := files[:0]
	for i, f := range files {
		if i > 0 && f.base == files[i-1].base {
			if os.Remove(l.path(f.name)) == nil {
				l.rec.RemovedFiles++
			}
			continue
		}
		kept = append(kept, f)
	}
	files = kept

	var after uint64 // last valid offset so far
	var maxBase uint64
	sc := &scanner{}
	sealLast := false
	for i, fi := range files {
		if fi.base > maxBase {
			maxBase = fi.base
		}
		if err := l.recoverSegment(sc, fi, i == len(files)-1, &after, &sealLast); err != nil {
			return err
		}
	}
	l.next = after + 1
	if maxBase > l.next {
		l.next = maxBase
	}
	if sealLast && len(l.segs) > 0 && l.next <= l.active().base {
		l.next = l.active().base + 1 // the new segment needs its own base
	}
	if len(l.segs) == 0 || sealLast || l.active().base < l.next && l.active().size >= l.cfg.SegmentSize {
		s, err := l.createSegment(l.next, 0)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	l.dropFrom = [2]uint64{1, 1}
	// Remove what is already dead, synchronously.
	l.reapLocked()
	for _, s := range l.pending { // oldest first, each durable (see removePending)
		_ = s.f.Close()
		if os.Remove(l.path(s.name)) == nil {
			l.rec.RemovedFiles++
		}
		if err := syncDir(l.dir); err != nil {
			return &IOError{Op: "sync", Err: err}
		}
	}
	l.pending = nil
	l.wantComp = false
	if l.cfg.CompactRatio > 0 {
		for _, s := range l.segs {
			if l.eligibleLocked(s, l.cfg.CompactRatio) {
				l.kickJanitor() // buffered: runs once the janitor starts
				break
			}
		}
	}
	l.rec.Duration = time.Since(start)
	if l.rec.TornBytes > 0 || l.rec.DamagedCount > 0 || l.rec.RemovedFiles > 0 {
		l.lg.Warn("wal: recovered", "dir", l.dir, "segments", l.rec.Segments, "records", l.rec.Records,
			"torn_bytes", l.rec.TornBytes, "damaged", l.rec.DamagedCount, "damaged_bytes", l.rec.DamagedBytes,
			"removed_files", l.rec.RemovedFiles)
	}
	return nil
}

func (l *Log) damage(file string, pos, n int64, reason string) error {
	l.rec.DamagedCount++
	l.rec.DamagedBytes += n
	if len(l.rec.Damaged) < maxDamageList {
		l.rec.Damaged = append(l.rec.Damaged, Damage{File: file, Pos: pos, Len: n, Reason: reason})
	}
	l.lg.Warn("wal: damaged region", "file", file, "pos", pos, "len", n, "reason", reason)
	if l.cfg.Corruption == CorruptionFail {
		return &CorruptError{File: file, Pos: pos, Reason: reason}
	}
	return nil
}

// recoverSegment scans one file and appends it to l.segs.
func (l *Log) recoverSegment(sc *scanner, fi segFile, last bool, after *uint64, sealLast *bool) error {
	f, err := os.OpenFile(l.path(fi.name), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return err
	}
	size := st.Size()
	l.rec.Segments++
	var hdr [segHeaderLen]byte
	n, _ := f.ReadAt(hdr[:], 0)
	base, gen, reason := parseSegHeader(hdr[:n])
	if reason == "" && (base != fi.base || gen != fi.gen) {
		reason = "segment header does not match file name"
	}
	if reason != "" {
		_ = f.Close()
		if last && size < segHeaderLen {
			// Cannot happen with our atomic creation, but a truncated
			// header at the very end is a torn tail all the same.
			l.rec.TornBytes += size
			if os.Remove(l.path(fi.name)) == nil {
				l.rec.RemovedFiles++
			}
			return nil
		}
		if err := l.damage(fi.name, 0, size, reason); err != nil {
			return err
		}
		// Keep the bytes for inspection, out of the log's way.
		_ = os.Rename(l.path(fi.name), l.path(fi.name+".damaged"))
		return nil
	}
	if size > maxSegmentSize*2 {
		// pos is 32-bit in the index; such a file was not written by us.
		if err := l.damage(fi.name, maxSegmentSize*2, size-maxSegmentSize*2, "segment too large"); err != nil {
			_ = f.Close()
			return err
		}
		size = maxSegmentSize * 2
	}
	s := &segment{base: base, gen: gen, name: fi.name, f: f, size: size}
	l.segs = append(l.segs, s)
	sc.f, sc.size, sc.n, sc.bufOff = f, size, 0, 0
	if sc.buf == nil {
		sc.buf = make([]byte, 256<<10)
	}
	// The CRC work spent looking for the next valid record after damage is
	// bounded, so hostile input cannot make recovery quadratic.
	budget := 4*size + 1<<20
	pos := int64(segHeaderLen)
	for pos < size {
		h, reason := sc.check(pos, base, *after, nil)
		if reason == "" {
			l.recoverRecord(sc, s, pos, &h)
			*after = h.off
			pos += recHeaderLen + int64(h.size)
			continue
		}
		q, exhausted := l.resync(sc, pos+1, base, *after, &budget)
		if q < 0 {
			if last && !exhausted {
				l.rec.TornBytes += size - pos
				if err := f.Truncate(pos); err != nil {
					return &IOError{Op: "truncate", Err: err}
				}
				if err := f.Sync(); err != nil {
					return &IOError{Op: "sync", Err: err}
				}
				s.size = pos
				break
			}
			if err := l.damage(fi.name, pos, size-pos, reason); err != nil {
				return err
			}
			if last {
				// The search gave up: do not append after bytes that a
				// later Open might not get past either.
				*sealLast = true
			}
			break
		}
		if err := l.damage(fi.name, pos, q-pos, reason); err != nil {
			return err
		}
		pos = q
	}
	return nil
}

// resync looks for the next position at or after from where a valid record
// starts; -1 if there is none, with exhausted set if the budget ran out.
func (l *Log) resync(sc *scanner, from int64, base, after uint64, budget *int64) (int64, bool) {
	for q := from; q+recHeaderLen <= sc.size; q++ {
		_, reason := sc.check(q, base, after, budget)
		if reason == "" {
			return q, false
		}
		if reason == "budget" {
			return -1, true
		}
	}
	return -1, false
}

// recoverRecord indexes a valid record found by recovery.
func (l *Log) recoverRecord(sc *scanner, s *segment, pos int64, h *recHeader) {
	l.rec.Records++
	size := int64(recHeaderLen) + int64(h.size)
	s.ents = append(s.ents, entry{
		rel:   uint32(h.off - s.base),
		pos:   uint32(pos),
		size:  uint32(size),
		flags: h.flags,
		class: h.class,
	})
	if h.flags&flagTombstone == 0 {
		s.live++
		s.liveBytes += size
		l.liveRecs++
		l.liveBytes += size
		return
	}
	s.tombBytes += size
	p, ok := sc.bytes(pos+recHeaderLen, int(h.size))
	if !ok {
		return
	}
	for i := 0; i+16 <= len(p); i += 16 {
		l.killRangeLocked(getRange(p[i:]))
	}
}
