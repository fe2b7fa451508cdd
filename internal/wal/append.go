package wal

import (
	"context"
	"errors"
	"hash/crc32"
	"sort"
)

// AppendOptions describe one record.
type AppendOptions struct {
	// Class is a caller-defined tag stored with the record and returned by
	// readers (the MQTT client stores the message kind or QoS here).
	Class uint8
	// Droppable marks a record that FullDropDroppable and FullDropOldest may
	// delete to make room (the MQTT client's QoS 0 messages).
	Droppable bool
	// Codec overrides Config.Compression for this record.
	Codec Codec
}

var errBadCodec = errors.New("wal: unknown codec")

// bufCap is the largest scratch buffer kept for reuse.
const bufCap = 256 << 10

func (l *Log) getBuf(n int) *[]byte {
	if p, _ := l.bufs.Get().(*[]byte); p != nil {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
		l.bufs.Put(p)
	}
	c := n
	if c < 4096 {
		c = 4096
	}
	b := make([]byte, n, c)
	return &b
}

func (l *Log) putBuf(p *[]byte) {
	if cap(*p) <= bufCap {
		l.bufs.Put(p)
	}
}

// Append adds a record and returns its offset once it is as durable as the
// sync policy promises (see [SyncPolicy]). Offsets start at 1 and increase
// strictly; they are never reused while the log holds a record at or after
// them. The payload is compressed outside the log's lock, so concurrent
// appenders compress in parallel and share fsyncs.
//
// At the size bound Append follows Config.Full; ctx bounds the wait of
// FullBlock. If ctx is done while Append waits for an fsync the record
// has already been written; Append still waits (an fsync is bounded).
//
// Append does not allocate in the steady state with CodecNone or CodecS2;
// see the package documentation for zstd.
func (l *Log) Append(ctx context.Context, data []byte, opt AppendOptions) (uint64, error) {
	return l.appendReplace(ctx, 0, data, opt)
}

// Replace appends data as a new record and deletes the record at old, with
// one wait for durability: a state change such as an MQTT QoS 2 message
// moving from "PUBLISH sent" to "PUBREL sent", or a broker session update.
// The new record is written before the tombstone, so a crash in between
// leaves both (the newer offset wins), never neither. At the bound, the old
// record's space counts as free. If old is not live, Replace is Append.
func (l *Log) Replace(ctx context.Context, old uint64, data []byte, opt AppendOptions) (uint64, error) {
	return l.appendReplace(ctx, old, data, opt)
}

func (l *Log) appendReplace(ctx context.Context, old uint64, data []byte, opt AppendOptions) (uint64, error) {
	if len(data) > l.cfg.MaxRecordSize {
		return 0, ErrTooLarge
	}
	codec := opt.Codec
	if codec == CodecDefault {
		codec = l.cfg.Compression
	}
	if codec > CodecZstd {
		return 0, errBadCodec
	}
	if err := ctx.Err(); err != nil {
		return 0, ctxErr(ctx)
	}
	bp := l.getBuf(recHeaderLen + maxEncoded(codec, len(data)))
	buf := *bp
	payload, code, err := l.cd.encode(buf[recHeaderLen:], data, codec)
	if err != nil {
		l.putBuf(bp)
		return 0, err
	}
	h := recHeader{size: uint32(len(payload)), rawLen: uint32(len(data)), flags: code, class: opt.Class}
	if opt.Droppable {
		h.flags |= flagDroppable
	}
	rec := buf[:recHeaderLen+len(payload)]
	pcrc := crc32.Update(0, castagnoli, payload)

	l.mu.Lock()
	off, seq, err := l.appendLocked(ctx, rec, &h, pcrc, old)
	if err == nil && old != 0 {
		if s, i, ok := l.liveLocked(old); ok {
			l.killLocked(s, i)
			l.st.deleted++
			l.wakeSpaceLocked()
			if seq, err = l.writeTombLocked(old, old); err == nil {
				l.reapLocked()
				if l.wantComp {
					l.wantComp = false
					l.kickJanitor()
				}
			}
		}
	}
	if err == nil {
		err = l.syncWaitLocked(seq)
	}
	l.mu.Unlock()
	l.putBuf(bp)
	if err != nil {
		return 0, err
	}
	return off, nil
}

// liveLocked finds the live data record at off.
func (l *Log) liveLocked(off uint64) (*segment, int, bool) {
	if off == 0 || off >= l.next || len(l.segs) == 0 {
		return nil, 0, false
	}
	s := l.segs[l.segIndexLocked(off)]
	i := s.find(off)
	if i >= len(s.ents) || s.base+uint64(s.ents[i].rel) != off || s.ents[i].dead || s.ents[i].tomb() {
		return nil, 0, false
	}
	return s, i, true
}

// appendLocked enforces the bound and writes a data record.
// The live record at replaced, if any, counts as free space.
func (l *Log) appendLocked(ctx context.Context, rec []byte, h *recHeader, pcrc uint32, replaced uint64) (uint64, uint64, error) {
	if err := l.usableLocked(); err != nil {
		return 0, 0, err
	}
	size := int64(len(rec))
	if size > l.cfg.MaxBytes {
		return 0, 0, ErrTooLarge
	}
	for {
		bytes, recs := l.liveBytes+size, l.liveRecs+1
		if s, i, ok := l.liveLocked(replaced); ok {
			bytes -= int64(s.ents[i].size)
			recs--
		}
		if bytes <= l.cfg.MaxBytes && recs <= l.cfg.MaxRecords {
			break
		}
		switch l.cfg.Full {
		case FullFail:
			return 0, 0, ErrFull
		case FullDropDroppable, FullDropOldest:
			ok, err := l.dropOneLocked(0)
			if err != nil {
				return 0, 0, err
			}
			if !ok && l.cfg.Full == FullDropOldest {
				if ok, err = l.dropOneLocked(1); err != nil {
					return 0, 0, err
				}
			}
			if ok {
				continue
			}
		}
		if err := l.waitSpaceLocked(ctx); err != nil {
			return 0, 0, err
		}
		if err := l.usableLocked(); err != nil {
			return 0, 0, err
		}
	}
	off, err := l.writeLocked(rec, h, pcrc)
	if err != nil {
		return 0, 0, err
	}
	l.st.appended++
	l.st.rawBytes += uint64(h.rawLen)
	l.st.storedBytes += uint64(h.size)
	return off, l.writeSeq, nil
}

// waitSpaceLocked waits, with l.mu released, until space may have been
// freed, ctx is done or the log fails.
func (l *Log) waitSpaceLocked(ctx context.Context) error {
	if l.spaceCh == nil {
		l.spaceCh = make(chan struct{})
	}
	ch := l.spaceCh
	l.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctxErr(ctx)
	}
	l.mu.Lock()
	return err
}

// writeLocked assigns the next offset to the record in rec (header at
// rec[:recHeaderLen], fields other than off and crc filled in), writes it,
// rolling the segment first if needed, and indexes it.
func (l *Log) writeLocked(rec []byte, h *recHeader, pcrc uint32) (uint64, error) {
	act := l.active()
	if act.size+int64(len(rec)) > l.cfg.SegmentSize && len(act.ents) > 0 {
		if err := l.rollLocked(); err != nil {
			return 0, err
		}
		act = l.active()
	}
	h.off = l.next
	h.crc = 0
	putRecHeader(rec, h)
	h.crc = crc32.Update(pcrc, castagnoli, rec[4:recHeaderLen])
	putRecHeader(rec, h)
	if _, err := act.f.WriteAt(rec, act.size); err != nil {
		// Cut whatever part reached the file; recovery would anyway.
		_ = act.f.Truncate(act.size)
		return 0, l.failLocked("write", err)
	}
	e := entry{
		rel:   uint32(h.off - act.base),
		pos:   uint32(act.size),
		size:  uint32(len(rec)),
		flags: h.flags,
		class: h.class,
	}
	act.ents = append(act.ents, e)
	act.size += int64(len(rec))
	if h.flags&flagTombstone != 0 {
		act.tombBytes += int64(len(rec))
	} else {
		act.live++
		act.liveBytes += int64(len(rec))
		l.liveRecs++
		l.liveBytes += int64(len(rec))
	}
	l.next++
	l.writeSeq++
	if l.appendCh != nil {
		close(l.appendCh)
		l.appendCh = nil
	}
	return h.off, nil
}

// rollLocked seals the active segment (syncing it unless SyncNever, so that
// every sealed segment is durable) and starts a new one.
func (l *Log) rollLocked() error {
	act := l.active()
	if l.cfg.Sync != SyncNever {
		if err := act.f.Sync(); err != nil {
			return l.failLocked("sync", err)
		}
		l.st.syncs++
		l.syncedSeq = l.writeSeq
	}
	s, err := l.createSegment(l.next, 0)
	if err != nil {
		return l.failLocked("create", err)
	}
	l.segs = append(l.segs, s)
	l.reapLocked()
	return nil
}

// syncWaitLocked waits until the record with write sequence seq is as
// durable as the policy promises.
func (l *Log) syncWaitLocked(seq uint64) error {
	var need uint64
	switch l.cfg.Sync {
	case SyncAlways:
		need = seq
	case SyncEveryN:
		if n := uint64(l.cfg.SyncEvery); seq >= n {
			need = seq - n + 1
		}
	default:
		return nil
	}
	for l.syncedSeq < need {
		if l.err != nil {
			return l.err
		}
		if l.syncing {
			l.syncCond.Wait()
			continue
		}
		l.syncLeaderLocked()
	}
	return nil
}

// syncLeaderLocked fsyncs the active segment with l.mu released; appenders
// that arrive meanwhile wait for it or for the next one (group commit).
// Sealed segments were synced when they were sealed.
func (l *Log) syncLeaderLocked() {
	l.syncing = true
	target := l.writeSeq
	s := l.active()
	s.rw.RLock()
	l.mu.Unlock()
	err := s.f.Sync()
	s.rw.RUnlock()
	l.mu.Lock()
	l.syncing = false
	l.st.syncs++
	if err != nil {
		l.failLocked("sync", err)
	} else if target > l.syncedSeq {
		l.syncedSeq = target
	}
	l.syncCond.Broadcast()
}

// Sync forces everything written so far to stable storage, whatever the
// policy.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return err
	}
	seq := l.writeSeq
	for l.syncedSeq < seq {
		if l.err != nil {
			return l.err
		}
		if l.syncing {
			l.syncCond.Wait()
			continue
		}
		l.syncLeaderLocked()
	}
	return nil
}

// writeTombLocked appends a tombstone for [from, to].
func (l *Log) writeTombLocked(from, to uint64) (uint64, error) {
	rec := l.tomb[:]
	putRange(rec[recHeaderLen:], from, to)
	h := recHeader{size: 16, rawLen: 16, flags: flagTombstone}
	if _, err := l.writeLocked(rec, &h, crc32.Update(0, castagnoli, rec[recHeaderLen:])); err != nil {
		return 0, err
	}
	return l.writeSeq, nil
}

// writeTombsLocked appends one tombstone holding the encoded ranges.
func (l *Log) writeTombsLocked(ranges []byte) (uint64, error) {
	n := recHeaderLen + len(ranges)
	if cap(l.tombRec) < n {
		l.tombRec = make([]byte, n, recHeaderLen+maxTombRanges*16)
	}
	rec := l.tombRec[:n]
	copy(rec[recHeaderLen:], ranges)
	h := recHeader{size: uint32(len(ranges)), rawLen: uint32(len(ranges)), flags: flagTombstone}
	if _, err := l.writeLocked(rec, &h, crc32.Update(0, castagnoli, rec[recHeaderLen:])); err != nil {
		return 0, err
	}
	return l.writeSeq, nil
}

// killLocked marks entry i of s deleted and updates the accounting.
func (l *Log) killLocked(s *segment, i int) bool {
	e := &s.ents[i]
	if e.dead || e.tomb() {
		return false
	}
	e.dead = true
	sz := int64(e.size)
	s.live--
	s.liveBytes -= sz
	s.deadBytes += sz
	l.liveRecs--
	l.liveBytes -= sz
	if l.cfg.CompactRatio > 0 && l.eligibleLocked(s, l.cfg.CompactRatio) {
		l.wantComp = true
	}
	return true
}

// segIndexLocked returns the index of the segment that would hold off (the
// last one whose base is <= off), or 0.
func (l *Log) segIndexLocked(off uint64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > off })
	if i > 0 {
		i--
	}
	return i
}

// killRangeLocked deletes every live data record in [from, to].
func (l *Log) killRangeLocked(from, to uint64) int {
	n := 0
	for si := l.segIndexLocked(from); si < len(l.segs); si++ {
		s := l.segs[si]
		if s.base > to {
			break
		}
		if s.live == 0 {
			continue
		}
		for i := s.skipHead(from); i < len(s.ents); i++ {
			if s.base+uint64(s.ents[i].rel) > to {
				break
			}
			if l.killLocked(s, i) {
				n++
			}
		}
	}
	return n
}

// dropOneLocked deletes the oldest live droppable (kind 0) or any (kind 1)
// record, persisting a tombstone for it. It reports whether it found one.
func (l *Log) dropOneLocked(kind int) (bool, error) {
	from := l.dropFrom[kind]
	for si := l.segIndexLocked(from); si < len(l.segs); si++ {
		s := l.segs[si]
		if s.live == 0 {
			continue
		}
		for i := s.skipHead(from); i < len(s.ents); i++ {
			e := &s.ents[i]
			if e.dead || e.tomb() || (kind == 0 && e.flags&flagDroppable == 0) {
				continue
			}
			off := s.base + uint64(e.rel)
			l.dropFrom[kind] = off + 1
			class, droppable := e.class, e.flags&flagDroppable != 0
			l.killLocked(s, i)
			l.st.dropped++
			if _, err := l.writeTombLocked(off, off); err != nil {
				return false, err
			}
			if l.cfg.OnDrop != nil {
				l.cfg.OnDrop(off, class, droppable)
			}
			l.reapLocked()
			return true, nil
		}
	}
	l.dropFrom[kind] = l.next
	return false, nil
}

// DeleteBatch deletes the records at offs (in any order; runs of
// consecutive offsets are coalesced) with one tombstone record per 4096
// ranges, hence one fsync under SyncAlways: an MQTT client acknowledging a
// window of PUBACKs at once. Offsets already gone or never assigned are
// ignored. It does not allocate once the log's scratch space has grown.
func (l *Log) DeleteBatch(ctx context.Context, offs []uint64) error {
	if len(offs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(ctx)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usableLocked(); err != nil {
		return err
	}
	var seq uint64
	buf := l.tombs[:0]
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		var err error
		seq, err = l.writeTombsLocked(buf)
		buf = buf[:0]
		return err
	}
	killed := 0
	for i := 0; i < len(offs); {
		from := offs[i]
		j := i + 1
		for j < len(offs) && offs[j] == offs[j-1]+1 {
			j++
		}
		to := offs[j-1]
		i = j
		if from == 0 || from >= l.next {
			continue
		}
		if to >= l.next {
			to = l.next - 1
		}
		n := l.killRangeLocked(from, to)
		if n == 0 {
			continue
		}
		killed += n
		buf = append(buf, make([]byte, 16)...)
		putRange(buf[len(buf)-16:], from, to)
		if len(buf) == maxTombRanges*16 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	err := flush()
	l.tombs = buf[:0]
	if killed == 0 || err != nil {
		return err
	}
	l.st.deleted += uint64(killed)
	l.wakeSpaceLocked()
	l.reapLocked()
	if l.wantComp {
		l.wantComp = false
		l.kickJanitor()
	}
	return l.syncWaitLocked(seq)
}

// Delete deletes the record at off: readers no longer see it and its space
// counts as free at once; the disk space is reclaimed when its segment is
// removed or compacted. The deletion is persisted as a tombstone record, as
// durable as the sync policy promises when Delete returns. Deleting a record
// that is already gone does nothing; an offset never assigned is ErrNotFound.
// Delete ignores the size bound, so it never blocks on a full log.
func (l *Log) Delete(ctx context.Context, off uint64) error {
	return l.DeleteRange(ctx, off, off)
}

// TruncateHead deletes every record up to and including off: the owner's
// acknowledgement that they are done. Whole segments are removed.
func (l *Log) TruncateHead(ctx context.Context, off uint64) error {
	return l.DeleteRange(ctx, 1, off)
}

// DeleteRange deletes every record with an offset in [from, to]; see Delete.
func (l *Log) DeleteRange(ctx context.Context, from, to uint64) error {
	if from == 0 {
		from = 1
	}
	if to < from {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(ctx)
	}
	l.mu.Lock()
	if err := l.usableLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	if from >= l.next {
		l.mu.Unlock()
		return ErrNotFound
	}
	if to >= l.next {
		to = l.next - 1
	}
	n := l.killRangeLocked(from, to)
	if n == 0 {
		l.mu.Unlock()
		return nil
	}
	l.st.deleted += uint64(n)
	l.wakeSpaceLocked()
	seq, err := l.writeTombLocked(from, to)
	if err == nil {
		l.reapLocked()
		if l.wantComp {
			l.wantComp = false
			l.kickJanitor()
		}
		err = l.syncWaitLocked(seq)
	}
	l.mu.Unlock()
	return err
}
