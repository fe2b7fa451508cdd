package wal

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// entry indexes one record of a segment: 16 bytes per record.
type entry struct {
	rel   uint32 // offset - segment base
	pos   uint32 // file position of the record header
	size  uint32 // header + stored payload
	flags uint8
	class uint8
	dead  bool
}

func (e *entry) tomb() bool { return e.flags&flagTombstone != 0 }

// segment is one file of the log.
type segment struct {
	base uint64
	gen  uint32
	name string
	f    *os.File
	// rw is held shared around every use of f outside l.mu (reads, fsync)
	// and exclusively by whoever closes f.
	rw   sync.RWMutex
	size int64
	ents []entry

	live         int   // live data records
	liveBytes    int64 // their bytes
	deadBytes    int64 // deleted data records still in the file
	tombBytes    int64 // tombstone records
	compactEpoch uint64
	compacting   bool
	// headDead is a lower bound of the index of the first live data
	// record: ents[:headDead] are all deleted or tombstones.
	headDead int
}

// skipHead returns the index to start a scan for off at: entries before
// headDead are known dead, so a scan that only looks for live records may
// skip them. It also advances headDead past newly dead entries.
func (s *segment) skipHead(off uint64) int {
	for s.headDead < len(s.ents) && (s.ents[s.headDead].dead || s.ents[s.headDead].tomb()) {
		s.headDead++
	}
	i := s.find(off)
	if i < s.headDead {
		i = s.headDead
	}
	return i
}

// find returns the index of the first entry whose offset is >= off.
func (s *segment) find(off uint64) int {
	if off <= s.base {
		return 0
	}
	rel := off - s.base
	return sort.Search(len(s.ents), func(i int) bool { return uint64(s.ents[i].rel) >= rel })
}

// Log is a durable, append-only, segmented record log in one directory.
//
// Append, Delete, DeleteRange, TruncateHead, Get, Stats, Compact and Close
// are safe for concurrent use; a [Reader] is for one goroutine at a time
// (any number of Readers may exist). A Log starts one background goroutine
// (periodic fsync for SyncInterval, file removal and compaction) that Close
// stops. One process at a time may open a directory.
type Log struct {
	dir string
	cfg Config
	lg  *slog.Logger
	cd  codecs

	mu        sync.Mutex
	syncCond  sync.Cond // on mu: a sync finished
	segs      []*segment
	pending   []*segment // out of segs; files to remove
	next      uint64
	liveBytes int64
	liveRecs  int
	err       error // sticky write/sync failure
	closed    bool
	writeSeq  uint64
	syncedSeq uint64
	syncing   bool
	spaceCh   chan struct{} // closed when space is freed; nil without waiters
	appendCh  chan struct{} // closed when a record is appended; nil without waiters
	dropFrom  [2]uint64     // no droppable [0] / any [1] live record is below
	epoch     uint64        // bumped when data records leave the disk
	wantComp  bool
	st        counters
	rec       Recovery
	tomb      [recHeaderLen + 16]byte
	tombs     []byte // DeleteBatch's ranges
	tombRec   []byte // DeleteBatch's record

	compactMu sync.Mutex
	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	bufs      sync.Pool
}

type counters struct {
	appended, deleted, dropped, syncs, compactions uint64
	rawBytes, storedBytes                          uint64
}

// Open opens or creates the log in dir, recovering what a crash left: it
// verifies every record's CRC, truncates a torn tail and skips (or, with
// CorruptionFail, refuses) damaged records elsewhere. Stats().Recovery
// reports what it found. The directory is created (mode 0700) if needed;
// segment files are private to the owner (0600).
func Open(dir string, cfg Config) (*Log, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{
		dir:  dir,
		cfg:  cfg,
		lg:   cfg.Logger,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	l.syncCond.L = &l.mu
	if err := l.loadDicts(); err != nil {
		return nil, err
	}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	go l.janitor()
	return l, nil
}

func (l *Log) path(name string) string { return filepath.Join(l.dir, name) }

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// createSegment makes a new segment file atomically: header written to a
// temporary file, synced, renamed into place, directory synced.
func (l *Log) createSegment(base uint64, gen uint32) (*segment, error) {
	name := segName(base, gen)
	final := l.path(name)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, &IOError{Op: "create", Err: err}
	}
	var hdr [segHeaderLen]byte
	putSegHeader(hdr[:], base, gen)
	_, err = f.Write(hdr[:])
	if err == nil && l.cfg.Sync != SyncNever {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil && l.cfg.Sync != SyncNever {
		err = syncDir(l.dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return nil, &IOError{Op: "create", Err: err}
	}
	f, err = os.OpenFile(final, os.O_RDWR, 0)
	if err != nil {
		return nil, &IOError{Op: "create", Err: err}
	}
	return &segment{base: base, gen: gen, name: name, f: f, size: segHeaderLen}, nil
}

// failLocked records a sticky I/O failure.
func (l *Log) failLocked(op string, err error) error {
	if l.err == nil {
		l.err = &IOError{Op: op, Err: err}
		l.lg.Error("wal: log failed; reopen to recover", "dir", l.dir, "op", op, "err", err)
		l.wakeLocked()
	}
	return l.err
}

// wakeLocked wakes every kind of waiter.
func (l *Log) wakeLocked() {
	l.wakeSpaceLocked()
	if l.appendCh != nil {
		close(l.appendCh)
		l.appendCh = nil
	}
	l.syncCond.Broadcast()
}

func (l *Log) wakeSpaceLocked() {
	if l.spaceCh != nil {
		close(l.spaceCh)
		l.spaceCh = nil
	}
}

// usableLocked reports why the log cannot be written.
func (l *Log) usableLocked() error {
	if l.closed {
		return ErrClosed
	}
	return l.err
}

// Close flushes the log to stable storage (whatever the sync policy), stops
// the background goroutine and closes every file. Blocked appenders and
// readers return ErrClosed. Close returns the first I/O error the log saw.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	for l.syncing {
		l.syncCond.Wait()
	}
	err := l.err
	if err == nil && l.writeSeq > l.syncedSeq {
		if serr := l.active().f.Sync(); serr != nil {
			err = l.failLocked("sync", serr)
		} else {
			l.st.syncs++
		}
	}
	if err == nil {
		l.syncedSeq = l.writeSeq
	}
	l.wakeLocked()
	l.mu.Unlock()

	close(l.stop)
	<-l.done
	l.compactMu.Lock()
	l.removePending()
	l.closeFiles()
	l.compactMu.Unlock()
	l.cd.close()
	return err
}

func (l *Log) closeFiles() {
	l.mu.Lock()
	segs := l.segs
	l.mu.Unlock()
	for _, s := range segs {
		s.rw.Lock()
		if s.f != nil {
			_ = s.f.Close()
		}
		s.rw.Unlock()
	}
}

// janitor is the Log's one background goroutine.
func (l *Log) janitor() {
	defer close(l.done)
	var tick <-chan time.Time
	if l.cfg.Sync == SyncInterval {
		t := time.NewTicker(l.cfg.SyncInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-l.stop:
			return
		case <-tick:
			l.mu.Lock()
			if !l.closed && l.err == nil && !l.syncing && l.writeSeq > l.syncedSeq {
				l.syncLeaderLocked()
			}
			l.mu.Unlock()
		case <-l.kick:
			l.compactMu.Lock()
			l.removePending()
			if l.cfg.CompactRatio > 0 {
				if err := l.compactAll(l.cfg.CompactRatio, l.stop); err != nil {
					l.lg.Warn("wal: compaction failed", "dir", l.dir, "err", err)
				}
			}
			l.compactMu.Unlock()
		}
	}
}

func (l *Log) kickJanitor() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// removePending closes and removes the files of segments that left the log.
// The caller holds compactMu.
func (l *Log) removePending() {
	l.mu.Lock()
	list := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(list) == 0 {
		return
	}
	// In list order (oldest first as they were reaped), each removal made
	// durable before the next: a later segment may hold the tombstones of
	// an earlier one, which must not outlive it.
	for _, s := range list {
		s.rw.Lock()
		if s.f != nil {
			_ = s.f.Close()
			s.f = nil
		}
		s.rw.Unlock()
		if err := os.Remove(l.path(s.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			l.lg.Warn("wal: removing segment", "file", s.name, "err", err)
		}
		if err := syncDir(l.dir); err != nil {
			l.lg.Warn("wal: syncing directory", "dir", l.dir, "err", err)
		}
	}
}

// reapLocked moves segments without anything worth keeping to pending: the
// oldest segments whose data records are all deleted (their tombstones can
// only concern themselves or already removed segments) and any sealed
// segment with neither live data nor tombstones.
func (l *Log) reapLocked() {
	reaped := false
	for i := 0; i < len(l.segs)-1; {
		s := l.segs[i]
		if s.live == 0 && !s.compacting && (i == 0 || s.tombBytes == 0) {
			l.segs = append(l.segs[:i], l.segs[i+1:]...)
			l.pending = append(l.pending, s)
			if s.deadBytes > 0 {
				l.epoch++
			}
			reaped = true
			continue
		}
		i++
	}
	if reaped {
		l.kickJanitor()
	}
}

// eligibleLocked reports whether a sealed segment is worth compacting at ratio.
func (l *Log) eligibleLocked(s *segment, ratio float64) bool {
	if s == l.active() || s.compacting {
		return false
	}
	if s.deadBytes > 0 && float64(s.liveBytes) < ratio*float64(s.liveBytes+s.deadBytes) {
		return true
	}
	return s.tombBytes > 0 && s.tombBytes*2 > s.size && s.compactEpoch < l.epoch
}

// Recovery reports what Open found.
type Recovery struct {
	Segments     int           // segment files scanned
	Records      int           // valid records found (data and tombstones)
	TornBytes    int64         // bytes cut from the tail of the last segment
	Damaged      []Damage      // the first 32 damaged regions
	DamagedCount int           // damaged regions in all
	DamagedBytes int64         // bytes in damaged regions
	RemovedFiles int           // temporary files, superseded generations, dead segments
	Duration     time.Duration // time Open spent recovering
}

// Damage is one region that failed validation.
type Damage struct {
	File   string
	Pos    int64 // file position
	Len    int64 // bytes skipped
	Reason string
}

// Stats is a snapshot of the log's counters and gauges.
type Stats struct {
	FirstOffset uint64 // oldest live record, 0 if none
	NextOffset  uint64 // offset the next record will get
	LiveRecords int
	LiveBytes   int64 // stored bytes of live records, headers included
	DiskBytes   int64 // bytes in segment files
	Segments    int
	Appended    uint64 // data records appended since Open
	Deleted     uint64 // records deleted by Delete, DeleteRange, TruncateHead
	Dropped     uint64 // records dropped by the full policy
	Syncs       uint64 // fsyncs of segment files
	Compactions uint64 // segments rewritten
	RawBytes    uint64 // payload bytes appended, before compression
	StoredBytes uint64 // the same after compression
	Recovery    Recovery
}

// Stats returns a snapshot of the log's state.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Stats{
		NextOffset:  l.next,
		LiveRecords: l.liveRecs,
		LiveBytes:   l.liveBytes,
		Segments:    len(l.segs),
		Appended:    l.st.appended,
		Deleted:     l.st.deleted,
		Dropped:     l.st.dropped,
		Syncs:       l.st.syncs,
		Compactions: l.st.compactions,
		RawBytes:    l.st.rawBytes,
		StoredBytes: l.st.storedBytes,
		Recovery:    l.rec,
	}
	st.Recovery.Damaged = append([]Damage(nil), l.rec.Damaged...)
	for _, s := range l.segs {
		st.DiskBytes += s.size
		if st.FirstOffset == 0 && s.live > 0 {
			for i := s.skipHead(0); i < len(s.ents); i++ {
				if e := &s.ents[i]; !e.dead && !e.tomb() {
					st.FirstOffset = s.base + uint64(e.rel)
					break
				}
			}
		}
	}
	return st
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// errFromCtx distinguishes a done context from a closed log.
func ctxErr(ctx context.Context) error { return context.Cause(ctx) }
