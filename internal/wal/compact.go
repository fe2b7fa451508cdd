package wal

import (
	"bufio"
	"context"
	"os"
)

// Compact rewrites every sealed segment that holds deleted records, keeping
// only live records and the tombstones still needed, and removes segments
// left with nothing. The log stays usable meanwhile: appends, deletes and
// reads proceed, and a reader positioned in a rewritten segment continues
// by offset. The background goroutine does the same on its own for
// segments below Config.CompactRatio.
func (l *Log) Compact(ctx context.Context) error {
	l.compactMu.Lock()
	defer l.compactMu.Unlock()
	l.removePending()
	if err := l.compactAll(1, ctx.Done()); err != nil {
		return err
	}
	l.removePending()
	return ctx.Err()
}

// compactAll compacts eligible segments at ratio until none is left, stop
// is closed or the number of passes is exhausted. The caller holds compactMu
// and has removed pending segments.
func (l *Log) compactAll(ratio float64, stop <-chan struct{}) error {
	if err := syncDir(l.dir); err != nil {
		return err
	}
	l.mu.Lock()
	budget := 2 * len(l.segs)
	l.mu.Unlock()
	for ; budget > 0; budget-- {
		select {
		case <-stop:
			return nil
		default:
		}
		l.mu.Lock()
		if l.closed || l.err != nil {
			l.mu.Unlock()
			return nil
		}
		var s *segment
		for _, c := range l.segs {
			if l.eligibleLocked(c, ratio) {
				s = c
				break
			}
		}
		l.mu.Unlock()
		if s == nil {
			return nil
		}
		if err := l.compactSegment(s); err != nil {
			return err
		}
		l.removePending()
	}
	return nil
}

// existsLocked reports whether a data record with an offset in [from, to]
// is still in a file of a segment older than before (live or not).
func (l *Log) existsLocked(from, to, before uint64) bool {
	check := func(s *segment) bool {
		if s.base >= before || s.base > to {
			return false
		}
		for i := s.find(from); i < len(s.ents); i++ {
			off := s.base + uint64(s.ents[i].rel)
			if off > to || off >= before {
				return false
			}
			if !s.ents[i].tomb() {
				return true
			}
		}
		return false
	}
	for _, s := range l.segs {
		if check(s) {
			return true
		}
	}
	for _, s := range l.pending {
		if check(s) {
			return true
		}
	}
	return false
}

// compactSegment rewrites s as generation gen+1. The caller holds compactMu.
func (l *Log) compactSegment(s *segment) (err error) {
	l.mu.Lock()
	found := false
	for _, c := range l.segs[:len(l.segs)-1] {
		if c == s {
			found = true
		}
	}
	if !found || s.compacting || l.closed {
		l.mu.Unlock()
		return nil
	}
	s.compacting = true
	snap := append([]entry(nil), s.ents...)
	l.mu.Unlock()
	defer func() {
		if err != nil {
			l.mu.Lock()
			s.compacting = false
			s.compactEpoch = l.epoch // do not retry at once
			l.mu.Unlock()
		}
	}()

	gen := s.gen + 1
	name := segName(s.base, gen)
	final := l.path(name)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return &IOError{Op: "create", Err: err}
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 256<<10)
	var hdr [segHeaderLen]byte
	putSegHeader(hdr[:], s.base, gen)
	_, _ = w.Write(hdr[:])
	pos := int64(segHeaderLen)

	type kept struct {
		e   entry // new position and size
		old int   // index in s.ents
	}
	var keep []kept
	var buf []byte
	dropped := 0
	var lostIdx []int
	s.rw.RLock()
	for i, e := range snap {
		if e.dead {
			dropped++
			continue
		}
		if cap(buf) < int(e.size) {
			buf = make([]byte, e.size)
		}
		b := buf[:e.size]
		off := s.base + uint64(e.rel)
		_, rerr := s.f.ReadAt(b, int64(e.pos))
		h, ok := parseRecHeader(b)
		if rerr != nil || !ok || h.off != off || recordCRC(b, b[recHeaderLen:]) != h.crc {
			// Damaged since Open: nothing to copy. Count it as lost.
			l.lg.Error("wal: compaction found a corrupt record; dropping it", "file", s.name, "offset", off)
			if !e.tomb() {
				lostIdx = append(lostIdx, i)
			}
			continue
		}
		if e.tomb() {
			// Keep only the ranges that still cover a record in an older file.
			p := b[recHeaderLen:]
			n := 0
			l.mu.Lock()
			for j := 0; j+16 <= len(p); j += 16 {
				from, to := getRange(p[j:])
				if l.existsLocked(from, to, s.base) {
					copy(p[n:], p[j:j+16])
					n += 16
				}
			}
			l.mu.Unlock()
			if n == 0 {
				continue
			}
			h.size, h.rawLen = uint32(n), uint32(n)
			b = b[:recHeaderLen+n]
			putRecHeader(b, &h)
			h.crc = recordCRC(b, b[recHeaderLen:])
			putRecHeader(b, &h)
			e.size = uint32(len(b))
		}
		if _, err = w.Write(b); err != nil {
			s.rw.RUnlock()
			return &IOError{Op: "write", Err: err}
		}
		e.pos = uint32(pos)
		pos += int64(len(b))
		keep = append(keep, kept{e: e, old: i})
	}
	s.rw.RUnlock()
	if err = w.Flush(); err != nil {
		return &IOError{Op: "write", Err: err}
	}
	if err = f.Sync(); err != nil {
		return &IOError{Op: "sync", Err: err}
	}
	if err = f.Close(); err != nil {
		return &IOError{Op: "write", Err: err}
	}
	if len(keep) == 0 {
		_ = os.Remove(tmp)
		err = nil
		l.mu.Lock()
		l.replaceLocked(s, nil)
		l.forgetLostLocked(s, lostIdx)
		l.epoch++
		l.st.compactions++
		l.mu.Unlock()
		return nil
	}
	if err = os.Rename(tmp, final); err != nil {
		return &IOError{Op: "rename", Err: err}
	}
	if err = syncDir(l.dir); err != nil {
		return &IOError{Op: "sync", Err: err}
	}
	nf, err := os.OpenFile(final, os.O_RDWR, 0)
	if err != nil {
		return &IOError{Op: "open", Err: err}
	}
	ns := &segment{base: s.base, gen: gen, name: name, f: nf, size: pos}
	ns.ents = make([]entry, 0, len(keep))

	l.mu.Lock()
	for _, k := range keep {
		e := k.e
		e.dead = s.ents[k.old].dead // deletions during the rewrite
		ns.ents = append(ns.ents, e)
		switch {
		case e.tomb():
			ns.tombBytes += int64(e.size)
		case e.dead:
			ns.deadBytes += int64(e.size)
		default:
			ns.live++
			ns.liveBytes += int64(e.size)
		}
	}
	l.forgetLostLocked(s, lostIdx)
	if dropped > 0 || len(lostIdx) > 0 {
		l.epoch++
	}
	ns.compactEpoch = l.epoch
	l.replaceLocked(s, ns)
	l.st.compactions++
	l.reapLocked()
	l.mu.Unlock()
	return nil
}

// replaceLocked swaps s for ns (or removes it if ns is nil) and queues s's
// file for removal. s's file was superseded: removing it is safe.
func (l *Log) replaceLocked(s, ns *segment) {
	for i, c := range l.segs {
		if c == s {
			if ns != nil {
				l.segs[i] = ns
			} else {
				l.segs = append(l.segs[:i], l.segs[i+1:]...)
			}
			break
		}
	}
	l.pending = append(l.pending, s)
}

// forgetLostLocked removes from the accounting the records of s that could
// not be copied because they were damaged, unless they were deleted since.
func (l *Log) forgetLostLocked(s *segment, idx []int) {
	for _, i := range idx {
		if e := &s.ents[i]; !e.dead {
			l.liveRecs--
			l.liveBytes -= int64(e.size)
		}
	}
}
