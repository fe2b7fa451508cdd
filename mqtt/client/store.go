package client

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Store keeps the client's outgoing messages until the broker has taken
// them: QoS 1 and 2 messages until PUBACK or PUBCOMP, with the QoS 2 state
// (PUBLISH sent, PUBREL sent) and packet identifier, and QoS 0 messages
// published while offline until they are sent. It is the client's
// send queue: records are sent in key order.
//
// A Store must be safe for concurrent use. Keys increase strictly in
// Append (and Replace) order and are never 0. Records are opaque bytes the
// client wrote; qos is the message's QoS, which a bounded store uses for
// its full policy (QoS 0 records may be dropped).
//
// [MemStore] keeps records in memory; mqtt/client/filestore keeps them in a durable
// log on disk, so that a new process with the same store and client id
// resumes the session.
type Store interface {
	// Append adds rec at the tail and returns its key. It returns once
	// the record is as durable as the store promises. A bounded store
	// applies its full policy here: it may block until ctx is done, fail,
	// or drop older QoS 0 records.
	Append(ctx context.Context, rec []byte, qos uint8) (key uint64, err error)
	// Replace stores rec in place of the record at key, as one durable
	// step, and returns the record's key (which may differ from key).
	Replace(ctx context.Context, key uint64, rec []byte, qos uint8) (uint64, error)
	// Delete removes the records at keys; keys already gone are ignored.
	Delete(ctx context.Context, keys []uint64) error
	// Next returns the first live record with a key at or after from,
	// its bytes appended to dst[:0]. It returns io.EOF when there is none.
	// Next is called by one goroutine at a time.
	Next(from uint64, dst []byte) (key uint64, rec []byte, err error)
	// Stats reports the store's size and drop counter.
	Stats() StoreStats
	// Close releases the store; blocked Appends return an error.
	Close() error
}

// StoreStats is a snapshot of a Store's gauges and counters.
type StoreStats struct {
	Records int    // live records
	Bytes   int64  // live record bytes
	Dropped uint64 // QoS 0 records dropped by the full policy
}

// FullPolicy says what a bounded store does with an Append that does not
// fit.
type FullPolicy uint8

const (
	// FullBlock blocks the publisher until acknowledgements free space or
	// its context ends.
	FullBlock FullPolicy = iota
	// FullDropQoS0 drops the oldest queued QoS 0 messages to make room,
	// and blocks like FullBlock when none is left.
	FullDropQoS0
	// FullFail fails the Append with ErrStoreFull.
	FullFail
)

// Store errors.
var (
	// ErrStoreFull is returned by a store at its bound under FullFail.
	ErrStoreFull = errors.New("mqtt/client: store full")
	// ErrStoreClosed is returned by a closed store.
	ErrStoreClosed = errors.New("mqtt/client: store closed")
	// ErrRecordTooLarge is returned for a record that can never fit the store.
	ErrRecordTooLarge = errors.New("mqtt/client: record larger than the store bound")
)

// MemStoreConfig configures a MemStore. The zero value is a safe default.
type MemStoreConfig struct {
	// MaxRecords bounds the number of queued messages (default 65536).
	MaxRecords int
	// MaxBytes bounds their total size (default 64 MiB).
	MaxBytes int64
	// Full is the policy at the bound (default FullBlock).
	Full FullPolicy
}

// Defaults of MemStoreConfig.
const (
	DefaultMemMaxRecords = 1 << 16
	DefaultMemMaxBytes   = 64 << 20
)

// MemStore is a bounded in-memory Store: messages survive reconnects but not
// the process. It is safe for concurrent use. Record buffers are recycled,
// so steady-state use allocates nothing.
type MemStore struct {
	cfg MemStoreConfig

	mu      sync.Mutex
	ents    []memEnt // ents[i] has key base+i
	head    int      // first possibly live entry
	base    uint64
	live    int
	bytes   int64
	qos0    int // live QoS 0 records
	dropped uint64
	free    [][]byte
	space   chan struct{} // closed and replaced when space is freed
	waiting int           // Appends waiting on space
	closed  bool
}

type memEnt struct {
	rec  []byte
	qos  uint8
	live bool
}

// NewMemStore returns an empty MemStore.
func NewMemStore(cfg MemStoreConfig) *MemStore {
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = DefaultMemMaxRecords
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMemMaxBytes
	}
	return &MemStore{cfg: cfg, base: 1, space: make(chan struct{})}
}

// Append implements Store.
func (s *MemStore) Append(ctx context.Context, rec []byte, qos uint8) (uint64, error) {
	if int64(len(rec)) > s.cfg.MaxBytes {
		return 0, ErrRecordTooLarge
	}
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			return 0, ErrStoreClosed
		}
		if s.live < s.cfg.MaxRecords && s.bytes+int64(len(rec)) <= s.cfg.MaxBytes {
			break
		}
		if s.cfg.Full == FullDropQoS0 && s.qos0 > 0 {
			s.dropOldestQoS0()
			continue
		}
		if s.cfg.Full == FullFail {
			s.mu.Unlock()
			return 0, ErrStoreFull
		}
		ch := s.space
		s.waiting++
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		s.mu.Lock()
	}
	var b []byte
	if n := len(s.free); n > 0 {
		b = s.free[n-1][:0]
		s.free = s.free[:n-1]
	}
	b = append(b, rec...)
	s.compact()
	s.ents = append(s.ents, memEnt{rec: b, qos: qos, live: true})
	key := s.base + uint64(len(s.ents)-1)
	s.live++
	s.bytes += int64(len(rec))
	if qos == 0 {
		s.qos0++
	}
	s.mu.Unlock()
	return key, nil
}

// compact drops the dead prefix of ents: at once when nothing is live,
// otherwise when ents would have to grow and a quarter of it is dead.
func (s *MemStore) compact() {
	switch {
	case s.head == 0:
	case s.head == len(s.ents):
		clear(s.ents)
		s.ents = s.ents[:0]
		s.base += uint64(s.head)
		s.head = 0
	case len(s.ents) == cap(s.ents) && s.head >= len(s.ents)/4:
		n := copy(s.ents, s.ents[s.head:])
		clear(s.ents[n:])
		s.ents = s.ents[:n]
		s.base += uint64(s.head)
		s.head = 0
	}
}

func (s *MemStore) dropOldestQoS0() {
	for i := s.head; i < len(s.ents); i++ {
		e := &s.ents[i]
		if e.live && e.qos == 0 {
			s.kill(i)
			s.dropped++
			return
		}
	}
}

// kill removes entry i; s.mu is held.
func (s *MemStore) kill(i int) {
	e := &s.ents[i]
	s.live--
	s.bytes -= int64(len(e.rec))
	if e.qos == 0 {
		s.qos0--
	}
	if len(s.free) < 256 && cap(e.rec) <= 64<<10 {
		s.free = append(s.free, e.rec)
	}
	*e = memEnt{}
	for s.head < len(s.ents) && !s.ents[s.head].live {
		s.head++
	}
}

func (s *MemStore) index(key uint64) int {
	if key < s.base+uint64(s.head) {
		return -1
	}
	i := key - s.base
	if i >= uint64(len(s.ents)) {
		return -1
	}
	return int(i)
}

// Replace implements Store; the key does not change.
func (s *MemStore) Replace(ctx context.Context, key uint64, rec []byte, qos uint8) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrStoreClosed
	}
	i := s.index(key)
	if i < 0 || !s.ents[i].live {
		s.mu.Unlock()
		k, err := s.Append(ctx, rec, qos)
		s.mu.Lock()
		return k, err
	}
	e := &s.ents[i]
	s.bytes += int64(len(rec) - len(e.rec))
	if e.qos == 0 {
		s.qos0--
	}
	if qos == 0 {
		s.qos0++
	}
	e.rec = append(e.rec[:0], rec...)
	e.qos = qos
	return key, nil
}

// Delete implements Store.
func (s *MemStore) Delete(ctx context.Context, keys []uint64) error {
	s.mu.Lock()
	n := 0
	for _, k := range keys {
		if i := s.index(k); i >= 0 && s.ents[i].live {
			s.kill(i)
			n++
		}
	}
	if n > 0 && s.waiting > 0 {
		close(s.space)
		s.space = make(chan struct{})
		s.waiting = 0
	}
	s.mu.Unlock()
	return nil
}

// Next implements Store.
func (s *MemStore) Next(from uint64, dst []byte) (uint64, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, nil, ErrStoreClosed
	}
	i := s.head
	if from > s.base+uint64(s.head) {
		if from-s.base >= uint64(len(s.ents)) {
			return 0, nil, io.EOF
		}
		i = int(from - s.base)
	}
	for ; i < len(s.ents); i++ {
		if e := &s.ents[i]; e.live {
			return s.base + uint64(i), append(dst[:0], e.rec...), nil
		}
	}
	return 0, nil, io.EOF
}

// Stats implements Store.
func (s *MemStore) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StoreStats{Records: s.live, Bytes: s.bytes, Dropped: s.dropped}
}

// Close implements Store: blocked Appends return ErrStoreClosed.
func (s *MemStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.space)
	}
	return nil
}
