package wal

import (
	"errors"
	"log/slog"
	"strconv"
	"time"
)

// SyncPolicy says when appended records are forced to stable storage with
// fsync (os.File.Sync; F_FULLFSYNC on darwin).
type SyncPolicy uint8

const (
	// SyncAlways: Append returns after the record is on stable storage.
	// Concurrent appenders share one fsync (group commit). Survives process
	// crash and power loss.
	SyncAlways SyncPolicy = iota
	// SyncEveryN: an fsync at least every Config.SyncEvery records; Append
	// of the record that completes a batch waits for it. Survives process
	// crash; a power loss may lose at most SyncEvery-1 acknowledged records.
	SyncEveryN
	// SyncInterval: a background fsync every Config.SyncInterval when
	// something was written; Append does not wait. Survives process crash;
	// a power loss may lose the records acknowledged in the last interval
	// (plus the duration of one fsync).
	SyncInterval
	// SyncNever: no fsync except when a segment is rewritten or the log is
	// closed; the OS writes back when it likes. Survives process crash
	// (the data is in the page cache once Append returns); a power loss may
	// lose anything written since the last Close.
	SyncNever
)

// String returns the policy's name.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncEveryN:
		return "every-n"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return "sync(" + itoa(int(p)) + ")"
}

// FullPolicy says what Append does when the log is at its size bound
// (Config.MaxBytes or Config.MaxRecords, counting live records only).
type FullPolicy uint8

const (
	// FullBlock waits, until ctx is done, for Delete, DeleteRange or
	// TruncateHead to free space.
	FullBlock FullPolicy = iota
	// FullFail returns ErrFull at once.
	FullFail
	// FullDropDroppable deletes the oldest live records appended with
	// AppendOptions.Droppable (the MQTT client's QoS 0 messages) until the
	// new record fits; when no droppable record is left it blocks like
	// FullBlock. Each drop is reported to Config.OnDrop and counted.
	FullDropDroppable
	// FullDropOldest drops droppable records first, oldest first, then the
	// oldest records of any kind.
	FullDropOldest
)

// CorruptionPolicy says what Open does with a damaged record that is not a
// torn tail (a CRC mismatch or garbage followed by valid records).
type CorruptionPolicy uint8

const (
	// CorruptionSkip skips the damaged bytes, keeps every valid record
	// around them, and reports the damage in Stats().Recovery.
	CorruptionSkip CorruptionPolicy = iota
	// CorruptionFail makes Open return an error wrapping ErrCorrupt.
	CorruptionFail
)

// Defaults for a zero Config.
const (
	DefaultSegmentSize   = 8 << 20
	DefaultMaxRecordSize = 1 << 20
	DefaultMaxBytes      = 256 << 20
	DefaultMaxRecords    = 1 << 20
	DefaultSyncEvery     = 64
	DefaultSyncInterval  = 100 * time.Millisecond
	DefaultCompactRatio  = 0.5
	minSegmentSize       = 4 << 10
	maxSegmentSize       = 1 << 30
)

// Config configures a Log. The zero value is a safe default: fsync every
// record (group commit), S2 compression, 8 MiB segments, at most 256 MiB and
// 1Mi live records, 1 MiB per record, block when full, skip corruption.
type Config struct {
	// SegmentSize is the size at which the active segment is sealed and a
	// new one started (4 KiB .. 1 GiB; default 8 MiB).
	SegmentSize int64
	// MaxRecordSize bounds one record's payload before compression
	// (default 1 MiB, at most 16 MiB and at most SegmentSize/2).
	MaxRecordSize int
	// MaxBytes bounds the live records' stored bytes, headers included
	// (default 256 MiB). Disk use is higher by deleted-but-not-yet-reclaimed
	// records and tombstones; compaction reclaims them.
	MaxBytes int64
	// MaxRecords bounds the number of live records (default 1Mi). The
	// in-memory index costs 16 bytes per record on disk.
	MaxRecords int
	// Full is the policy at the bound (default FullBlock).
	Full FullPolicy
	// OnDrop, if set, is called for every record dropped by FullDropDroppable
	// or FullDropOldest, in offset order, with the log's lock held: it must
	// not call the Log.
	OnDrop func(offset uint64, class uint8, droppable bool)

	// Sync is the fsync policy (default SyncAlways).
	Sync SyncPolicy
	// SyncEvery is N for SyncEveryN (default 64).
	SyncEvery int
	// SyncInterval is the period for SyncInterval (default 100ms).
	SyncInterval time.Duration

	// Compression is the codec for records appended with CodecDefault
	// (default DefaultCodec).
	Compression Codec

	// ZstdDict, if set, is a raw-content dictionary for CodecZstd: samples
	// of typical payloads (a few KiB of them), which makes small telemetry
	// compress several times better and faster (see the package doc). It
	// is saved in the log's directory, and every dictionary found there is
	// loaded by Open, so records stay readable when it changes. At most 1 MiB.
	ZstdDict []byte

	// CompactRatio: a sealed segment whose live data is below this fraction
	// of its data bytes is rewritten in the background (default 0.5; a
	// negative value disables automatic compaction; Compact still works).
	CompactRatio float64

	// Corruption is the policy for damage found by Open (default skip).
	Corruption CorruptionPolicy

	// Logger receives recovery reports and background errors
	// (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) normalize() (Config, error) {
	if c.SegmentSize == 0 {
		c.SegmentSize = DefaultSegmentSize
	}
	if c.SegmentSize < minSegmentSize || c.SegmentSize > maxSegmentSize {
		return c, errors.New("wal: SegmentSize out of range (4 KiB .. 1 GiB)")
	}
	if c.MaxRecordSize == 0 {
		c.MaxRecordSize = DefaultMaxRecordSize
		if int64(c.MaxRecordSize) > c.SegmentSize/2 {
			c.MaxRecordSize = int(c.SegmentSize / 2)
		}
	}
	if c.MaxRecordSize < 0 || c.MaxRecordSize > maxRecordLimit || int64(c.MaxRecordSize) > c.SegmentSize/2 {
		return c, errors.New("wal: MaxRecordSize out of range (at most 16 MiB and SegmentSize/2)")
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxBytes < 0 {
		return c, errors.New("wal: negative MaxBytes")
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = DefaultMaxRecords
	}
	if c.MaxRecords < 0 {
		return c, errors.New("wal: negative MaxRecords")
	}
	if c.Full > FullDropOldest {
		return c, errors.New("wal: unknown FullPolicy")
	}
	if c.Sync > SyncNever {
		return c, errors.New("wal: unknown SyncPolicy")
	}
	if c.SyncEvery == 0 {
		c.SyncEvery = DefaultSyncEvery
	}
	if c.SyncEvery < 0 {
		return c, errors.New("wal: negative SyncEvery")
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.SyncInterval < 0 {
		return c, errors.New("wal: negative SyncInterval")
	}
	if c.Compression == CodecDefault {
		c.Compression = DefaultCodec
	}
	if c.Compression > CodecZstd {
		return c, errors.New("wal: unknown Codec")
	}
	if len(c.ZstdDict) > maxDictSize {
		return c, errors.New("wal: ZstdDict larger than 1 MiB")
	}
	if c.CompactRatio == 0 {
		c.CompactRatio = DefaultCompactRatio
	}
	if c.CompactRatio >= 1 {
		return c, errors.New("wal: CompactRatio must be below 1")
	}
	if c.Corruption > CorruptionFail {
		return c, errors.New("wal: unknown CorruptionPolicy")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Errors.
var (
	// ErrFull: the log is at its bound and the policy is FullFail.
	ErrFull = errors.New("wal: log full")
	// ErrTooLarge: a record exceeds MaxRecordSize or could never fit MaxBytes.
	ErrTooLarge = errors.New("wal: record too large")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("wal: log closed")
	// ErrCorrupt: a record failed its CRC or could not be decoded.
	ErrCorrupt = errors.New("wal: corrupt record")
	// ErrNotFound: the offset was never assigned, or the record is gone.
	ErrNotFound = errors.New("wal: no such record")
)

// IOError reports a failed write or fsync. The log refuses further writes
// after one (an fsync failure leaves the page cache in an unknown state), so
// the owner should Close and re-Open, which recovers what reached the disk.
type IOError struct {
	Op  string // "write", "sync", "create", "truncate"
	Err error
}

func (e *IOError) Error() string { return "wal: " + e.Op + ": " + e.Err.Error() }
func (e *IOError) Unwrap() error { return e.Err }

func itoa(n int) string { return strconv.Itoa(n) }
