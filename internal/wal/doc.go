// Package wal is edgekit's durable record log: the one persistence design
// (ARCHITECTURE.md, "Persistence") under the MQTT client's store-and-forward
// queue, the broker's sessions, retained messages and QoS 1/2 state, and the
// bridge.
//
// A [Log] is a directory of segment files. Records are appended with
// strictly increasing offsets; each carries a CRC-32C (Castagnoli), its
// lengths, a caller-defined class byte, a "droppable" flag and the codec
// that compressed it, so one log mixes codecs. Segments are sealed at
// Config.SegmentSize; each begins with a header carrying a magic, a format
// version, its base offset and a generation, itself CRC-protected. The
// layout is described in format.go.
//
// # Use
//
//	l, err := wal.Open(dir, wal.Config{Sync: wal.SyncAlways, MaxBytes: 64 << 20})
//	off, err := l.Append(ctx, msg, wal.AppendOptions{Class: qos, Droppable: qos == 0})
//	r := l.NewReader(0) // resend what is pending, in order, after a restart
//	for rec, err := r.Next(); err == nil; rec, err = r.Next() { ... }
//	err = l.Delete(ctx, off)        // PUBACK / PUBCOMP arrived, in any order
//	err = l.DeleteBatch(ctx, offs)  // a window of them: one tombstone, one fsync
//	err = l.TruncateHead(ctx, upTo) // or acknowledge everything up to an offset
//
// # Durability
//
// [SyncPolicy] decides when Append (and Delete) return:
//
//	SyncAlways    after fsync; concurrent callers share one fsync (group
//	              commit). Survives power loss.
//	SyncEveryN    an fsync every N records; the Nth waits for it. A power
//	              loss loses at most N-1 acknowledged records.
//	SyncInterval  a background fsync every interval. A power loss loses at
//	              most about one interval of acknowledged records.
//	SyncNever     the OS writes back when it likes; Close syncs.
//
// Under every policy a returned Append has reached the OS (one write(2) per
// record, no user-space buffering), so a killed process loses nothing that
// was acknowledged; TestCrash proves it by SIGKILLing a child process.
// Sealing a segment syncs it (except SyncNever); new segments and compacted
// rewrites are created as temporary files, synced, renamed and the
// directory synced, so a crash never leaves a half-made file in the log.
// After a write or fsync error the log refuses further writes
// ([IOError]); reopen it to recover what reached the disk.
//
// # Bounds
//
// Config.MaxBytes and Config.MaxRecords bound the live records. At the
// bound, [FullPolicy] blocks the appender (until ctx is done or space is
// freed), fails fast with [ErrFull], or drops the oldest records marked
// Droppable (then, with FullDropOldest, the oldest of any kind), reporting
// each through Config.OnDrop and Stats().Dropped: that is the MQTT client's
// "drop the oldest QoS 0 first". Deletes never block and are not bounded.
//
// # Deletion and compaction
//
// Delete and DeleteRange write a tombstone record (as durable as the sync
// policy) and free the records' space in the accounting at once. Segments
// at the head whose records are all deleted are removed whole. A sealed
// segment whose live data falls below Config.CompactRatio is rewritten in
// the background, keeping its live records and only the tombstones that
// still cover a record in an older file; the rewrite is a new generation of
// the file, renamed into place, so a crash at any point leaves either the
// old or the new generation, never a mix. Compaction never loops: a segment
// becomes eligible again only after new deletions or after records leave
// older files.
//
// # Recovery
//
// Open scans every segment and verifies every record. A partial or invalid
// record at the end of the last segment, with nothing valid after it, is a
// torn tail and is truncated. Damage elsewhere (a CRC mismatch, garbage) is
// skipped by searching forward for the next valid record, within a bounded
// amount of work, and reported in Stats().Recovery with file, position and
// reason; Config.Corruption = CorruptionFail makes Open refuse instead. A
// segment with a damaged header is renamed to *.damaged and reported.
// Recovery memory is bounded by the largest valid record (16 MiB at most).
// FuzzRecover feeds arbitrary bytes to it.
//
// # Compression: S2 by default
//
// Both codecs of github.com/klauspost/compress are supported per record
// (CodecS2, CodecZstd, CodecNone); a record that compression would not
// shrink is stored raw. The encoders and decoders are created once per Log
// and shared by all goroutines. BenchmarkCodec measures them on MQTT-like
// payloads: SenML JSON telemetry of 64, 200 and 500 bytes and 4 KiB binary
// sensor frames. Ratio is stored/raw bytes and is exact. Times come from a
// loaded 2-core machine, so they are rough, but the order held in every
// run.
//
//	payload        s2 ratio  zstd ratio  zstd+dict  s2 time       zstd time / s2 time
//	JSON  64 B     1.00      1.00        0.51       0.1-1 µs      1-2x (both kept raw)
//	JSON 200 B     0.83      0.79        0.26       0.3-1.4 µs    15-30x
//	JSON 500 B     0.51      0.44        0.27       0.7-2.5 µs    10-80x
//	binary 4 KiB   0.81      0.79        -          14-33 µs      1.2-5x
//
// Without a dictionary, zstd stores 2-7 percentage points less than S2 on
// these payloads. On small records it costs 10-30 times the CPU or more,
// because it resets its match tables for every record, and its decoder is several
// times slower too (BenchmarkRead). S2 allocates nothing and keeps Append
// cheap on a gateway's small cores. Hence [DefaultCodec] is CodecS2.
// Neither codec compresses telemetry below about 100 bytes on its own.
//
// With Config.ZstdDict (a few KiB of sample payloads), zstd compresses the
// same JSON 3-4 times (ratio 0.26-0.27 at 200-500 bytes, 0.51 even at 64
// bytes). That beats S2 by far wherever a representative sample exists; it
// costs less CPU than plain zstd (2-10 µs per 200-byte record here) but
// still several times S2's. Choose CodecZstd with a dictionary when disk, flash
// wear or a slow uplink matter more than CPU. The dictionary is stored in
// the log's directory, so records stay readable when it changes.
//
// # Allocation
//
// Append, Reader.Next, Get and Delete allocate nothing in the steady state
// with every codec (TestNoAllocs), apart from the index growing (16 bytes
// per record, amortised) and new segments.
package wal
