package wal

import (
	"context"
	"io"
)

// Record is a record read back from the log. Data aliases the reader's
// buffer and is valid until the next call on the same Reader (or until the
// dst passed to Get is reused); copy it to retain it.
type Record struct {
	Offset    uint64
	Class     uint8
	Droppable bool
	Data      []byte
}

// Reader iterates over the live records of a Log in offset order, from a
// starting offset, skipping deleted records and tombstones. It sees records
// once they are written, before they are synced. A Reader must not be used
// by several goroutines at once; it holds no resources and needs no Close.
type Reader struct {
	l    *Log
	next uint64
	raw  []byte
	data []byte
}

// NewReader returns a Reader positioned at from (0 or 1: the oldest record).
func (l *Log) NewReader(from uint64) *Reader {
	return &Reader{l: l, next: from}
}

// Seek positions the reader at off.
func (r *Reader) Seek(off uint64) { r.next = off }

// Offset returns the offset the reader will look at next.
func (r *Reader) Offset() uint64 { return r.next }

// Next returns the next live record, or io.EOF when the reader has reached
// the end of the log (call Wait to wait for more). A record that fails its
// CRC returns an error wrapping ErrCorrupt and the reader moves past it.
func (r *Reader) Next() (Record, error) {
	l := r.l
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return Record{}, ErrClosed
	}
	s, e, ok := l.seekLocked(r.next, true)
	if !ok {
		if r.next < l.next {
			r.next = l.next
		}
		l.mu.Unlock()
		return Record{}, io.EOF
	}
	off := s.base + uint64(e.rel)
	r.next = off + 1
	s.rw.RLock()
	l.mu.Unlock()
	rec, err := l.readEntry(s, e, off, &r.raw, r.data[:0])
	s.rw.RUnlock()
	if err == nil {
		r.data = rec.Data
	}
	return rec, err
}

// Wait blocks until a record at or after the reader's position may be
// available, ctx is done or the log is closed.
func (r *Reader) Wait(ctx context.Context) error {
	l := r.l
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return ErrClosed
		}
		if _, _, ok := l.seekLocked(r.next, true); ok {
			l.mu.Unlock()
			return nil
		}
		if l.appendCh == nil {
			l.appendCh = make(chan struct{})
		}
		ch := l.appendCh
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctxErr(ctx)
		}
	}
}

// seekLocked finds the first entry at or after off (live data only if live).
func (l *Log) seekLocked(off uint64, live bool) (*segment, entry, bool) {
	for si := l.segIndexLocked(off); si < len(l.segs); si++ {
		s := l.segs[si]
		if live && s.live == 0 {
			continue
		}
		i := s.find(off)
		if live {
			i = s.skipHead(off)
		}
		for ; i < len(s.ents); i++ {
			e := s.ents[i]
			if live && (e.dead || e.tomb()) {
				continue
			}
			return s, e, true
		}
	}
	return nil, entry{}, false
}

// Get returns the live record at off, its Data appended to dst[:0].
// It returns ErrNotFound if there is no live record at off.
func (l *Log) Get(off uint64, dst []byte) (Record, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return Record{}, ErrClosed
	}
	s, e, ok := l.seekLocked(off, true)
	if !ok || s.base+uint64(e.rel) != off {
		l.mu.Unlock()
		return Record{}, ErrNotFound
	}
	s.rw.RLock()
	l.mu.Unlock()
	bp := l.getBuf(int(e.size))
	rec, err := l.readEntry(s, e, off, bp, dst[:0])
	s.rw.RUnlock()
	l.putBuf(bp)
	return rec, err
}

// readEntry reads, verifies and decodes one record. The caller holds s.rw.
func (l *Log) readEntry(s *segment, e entry, off uint64, raw *[]byte, dst []byte) (Record, error) {
	if s.f == nil {
		return Record{}, ErrClosed
	}
	if cap(*raw) < int(e.size) {
		*raw = make([]byte, e.size)
	}
	b := (*raw)[:e.size]
	if _, err := s.f.ReadAt(b, int64(e.pos)); err != nil {
		return Record{}, &CorruptError{File: s.name, Pos: int64(e.pos), Offset: off, Reason: "read: " + err.Error()}
	}
	h, ok := parseRecHeader(b)
	if !ok || h.off != off || int(h.size)+recHeaderLen != len(b) || recordCRC(b, b[recHeaderLen:]) != h.crc {
		return Record{}, &CorruptError{File: s.name, Pos: int64(e.pos), Offset: off, Reason: "CRC mismatch"}
	}
	data, err := l.cd.decode(dst, b[recHeaderLen:], h.flags&flagCodecMask, int(h.rawLen))
	if err != nil {
		return Record{}, &CorruptError{File: s.name, Pos: int64(e.pos), Offset: off, Reason: "decompress: " + err.Error()}
	}
	return Record{Offset: off, Class: h.class, Droppable: h.flags&flagDroppable != 0, Data: data}, nil
}

// CorruptError reports a record that failed verification when read.
// errors.Is(err, ErrCorrupt) is true.
type CorruptError struct {
	File   string
	Pos    int64
	Offset uint64
	Reason string
}

func (e *CorruptError) Error() string {
	return "wal: corrupt record " + utoa(e.Offset) + " in " + e.File + " at " + utoa(uint64(e.Pos)) + ": " + e.Reason
}

// Is reports target == ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func utoa(u uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			return string(b[i:])
		}
	}
}
