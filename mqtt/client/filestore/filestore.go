package filestore

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/internal/wal"
	"github.com/edgekit/edgekit/mqtt/client"
)

// SyncPolicy says when a FileStore forces records to stable storage.
type SyncPolicy uint8

const (
	// SyncAlways: Append returns after fsync (concurrent publishers share
	// one). Survives power loss.
	SyncAlways SyncPolicy = iota
	// SyncEveryN: an fsync every Config.SyncEvery records.
	SyncEveryN
	// SyncInterval: a background fsync every Config.SyncInterval.
	SyncInterval
	// SyncNever: the OS writes back when it likes. Like every policy, it
	// survives the process being killed: a returned Append has reached the
	// OS.
	SyncNever
)

// Compression selects how a FileStore compresses records.
type Compression uint8

const (
	// CompressS2 compresses with S2 (the default: cheap on small cores).
	CompressS2 Compression = iota
	// CompressZstd compresses with zstd at its fastest level.
	CompressZstd
	// CompressNone stores records as they are.
	CompressNone
)

// Config configures a Store. The zero value is a safe default:
// fsync every record, S2 compression, at most 256 MiB and 1Mi messages,
// block the publisher when full.
type Config struct {
	// Sync is the fsync policy (default SyncAlways).
	Sync SyncPolicy
	// SyncEvery is N for SyncEveryN (default 64).
	SyncEvery int
	// SyncInterval is the period for SyncInterval (default 100ms).
	SyncInterval time.Duration
	// Compression is the record codec (default CompressS2).
	Compression Compression
	// MaxBytes bounds the stored messages (default 256 MiB).
	MaxBytes int64
	// MaxRecords bounds their number (default 1Mi).
	MaxRecords int
	// MaxRecordSize bounds one record (default 1 MiB).
	MaxRecordSize int
	// SegmentSize is the size of one log segment file (default 8 MiB).
	SegmentSize int64
	// Full is the policy at the bound (default client.FullBlock).
	Full client.FullPolicy
	// FailOnCorruption makes Open refuse a log with damaged
	// records instead of skipping them (torn tails are always truncated).
	FailOnCorruption bool
	// Logger receives recovery reports (default slog.Default()).
	Logger *slog.Logger
}

// Store is a durable client.Store: an append-only segmented log with a CRC per
// record, compression, an fsync policy, a size bound with a policy, and
// crash recovery that truncates a torn tail. It is safe for concurrent use.
// It starts one background goroutine (the log's), which Close stops.
type Store struct {
	log     *wal.Log
	dropped atomic.Uint64

	rmu sync.Mutex // guards r
	r   *wal.Reader
}

// Recovery reports what Open found when it opened the log.
type Recovery struct {
	Segments     int   // segment files scanned
	Records      int   // valid records found
	TornBytes    int64 // bytes cut from a torn tail
	DamagedCount int   // damaged regions skipped
	DamagedBytes int64 // bytes in them
}

// Open opens (or creates) a Store in dir, recovering what a
// crash left. One process at a time may open a directory.
func Open(dir string, cfg Config) (*Store, error) {
	s := &Store{}
	wc := wal.Config{
		SegmentSize:   cfg.SegmentSize,
		MaxRecordSize: cfg.MaxRecordSize,
		MaxBytes:      cfg.MaxBytes,
		MaxRecords:    cfg.MaxRecords,
		SyncEvery:     cfg.SyncEvery,
		SyncInterval:  cfg.SyncInterval,
		Logger:        cfg.Logger,
	}
	switch cfg.Sync {
	case SyncEveryN:
		wc.Sync = wal.SyncEveryN
	case SyncInterval:
		wc.Sync = wal.SyncInterval
	case SyncNever:
		wc.Sync = wal.SyncNever
	default:
		wc.Sync = wal.SyncAlways
	}
	switch cfg.Compression {
	case CompressZstd:
		wc.Compression = wal.CodecZstd
	case CompressNone:
		wc.Compression = wal.CodecNone
	default:
		wc.Compression = wal.CodecS2
	}
	switch cfg.Full {
	case client.FullDropQoS0:
		wc.Full = wal.FullDropDroppable
		wc.OnDrop = func(uint64, uint8, bool) { s.dropped.Add(1) }
	case client.FullFail:
		wc.Full = wal.FullFail
	default:
		wc.Full = wal.FullBlock
	}
	if cfg.FailOnCorruption {
		wc.Corruption = wal.CorruptionFail
	}
	l, err := wal.Open(dir, wc)
	if err != nil {
		return nil, err
	}
	s.log = l
	s.r = l.NewReader(0)
	return s, nil
}

// Recovery reports what opening the store found: torn tails truncated and
// damaged records skipped.
func (s *Store) Recovery() Recovery {
	r := s.log.Stats().Recovery
	return Recovery{Segments: r.Segments, Records: r.Records, TornBytes: r.TornBytes,
		DamagedCount: r.DamagedCount, DamagedBytes: r.DamagedBytes}
}

func mapWalErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wal.ErrFull):
		return client.ErrStoreFull
	case errors.Is(err, wal.ErrClosed):
		return client.ErrStoreClosed
	case errors.Is(err, wal.ErrTooLarge):
		return client.ErrRecordTooLarge
	}
	return err
}

// Append implements client.Store. QoS 0 records are droppable under FullDropQoS0.
func (s *Store) Append(ctx context.Context, rec []byte, qos uint8) (uint64, error) {
	off, err := s.log.Append(ctx, rec, wal.AppendOptions{Class: qos, Droppable: qos == 0})
	return off, mapWalErr(err)
}

// Replace implements client.Store: the new record is written before the old one is
// deleted, so a crash leaves at least one of them.
func (s *Store) Replace(ctx context.Context, key uint64, rec []byte, qos uint8) (uint64, error) {
	off, err := s.log.Replace(ctx, key, rec, wal.AppendOptions{Class: qos, Droppable: qos == 0})
	return off, mapWalErr(err)
}

// Delete implements client.Store with one tombstone for the batch.
func (s *Store) Delete(ctx context.Context, keys []uint64) error {
	if len(keys) == 1 {
		err := s.log.Delete(ctx, keys[0])
		if errors.Is(err, wal.ErrNotFound) {
			err = nil
		}
		return mapWalErr(err)
	}
	return mapWalErr(s.log.DeleteBatch(ctx, keys))
}

// Next implements client.Store. Records that fail their CRC are skipped.
func (s *Store) Next(from uint64, dst []byte) (uint64, []byte, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.r.Offset() != from {
		s.r.Seek(from)
	}
	for {
		rec, err := s.r.Next()
		if err == nil {
			return rec.Offset, append(dst[:0], rec.Data...), nil
		}
		if errors.Is(err, wal.ErrCorrupt) {
			continue
		}
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, mapWalErr(err)
	}
}

// Stats implements client.Store.
func (s *Store) Stats() client.StoreStats {
	st := s.log.Stats()
	return client.StoreStats{Records: st.LiveRecords, Bytes: st.LiveBytes, Dropped: s.dropped.Load()}
}

// Sync forces everything written to stable storage.
func (s *Store) Sync() error { return s.log.Sync() }

// Close implements client.Store: it syncs and closes the log.
func (s *Store) Close() error { return s.log.Close() }

var _ client.Store = (*Store)(nil)
