package wal

import (
	"context"
	"testing"
	"time"
)

// TestTombstonesAndCompaction: out-of-order deletes survive reopen; the
// disk shrinks after compaction; tombstones no longer needed disappear.
func TestTombstonesAndCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{SegmentSize: 8192, Sync: SyncNever, CompactRatio: -1}
	l := openT(t, dir, cfg)
	all := appendN(t, l, 600, AppendOptions{})
	// Keep every 10th record (a broker's long-lived session records among
	// short-lived messages); delete the rest in a scrambled order.
	var keep []kv
	for i := len(all) - 1; i >= 0; i-- {
		if i%10 == 0 {
			continue
		}
		if err := l.Delete(ctx, all[i].off); err != nil {
			t.Fatal(err)
		}
	}
	for i := range all {
		if i%10 == 0 {
			keep = append(keep, all[i])
		}
	}
	if err := l.Delete(ctx, all[1].off); err != nil { // again: no-op
		t.Fatal(err)
	}
	sameKV(t, readAll(t, l), keep)
	before := l.Stats()
	l.Close()

	l = openT(t, dir, cfg)
	sameKV(t, readAll(t, l), keep)
	if err := l.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	after := l.Stats()
	t.Logf("disk %d -> %d bytes, %d segments -> %d, %d compactions", before.DiskBytes, after.DiskBytes, before.Segments, after.Segments, after.Compactions)
	if after.Compactions == 0 || after.DiskBytes > before.DiskBytes/3 {
		t.Fatalf("compaction left %d of %d bytes", after.DiskBytes, before.DiskBytes)
	}
	sameKV(t, readAll(t, l), keep)
	// A second pass finds nothing more to do (no loop).
	if err := l.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	again := l.Stats()
	if again.DiskBytes > after.DiskBytes {
		t.Fatalf("second compaction grew the log")
	}
	l.Close()
	l = openT(t, dir, cfg)
	defer l.Close()
	sameKV(t, readAll(t, l), keep)
	if r := l.Stats().Recovery; r.DamagedCount != 0 {
		t.Fatalf("recovery after compaction: %+v", r)
	}
	// Deleting the rest empties the log down to the active segment.
	for _, r := range keep {
		if err := l.Delete(ctx, r.off); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(segFiles(t, dir)); n > 2 {
		t.Fatalf("%d segment files left for an empty log", n)
	}
}

// TestAutoCompaction: the background goroutine compacts below the ratio.
func TestAutoCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := openT(t, dir, Config{SegmentSize: 8192, Sync: SyncNever, CompactRatio: 0.5})
	all := appendN(t, l, 300, AppendOptions{})
	var keep []kv
	for i, r := range all {
		if i%4 == 0 {
			keep = append(keep, r)
			continue
		}
		if err := l.Delete(ctx, r.off); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Compactions == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := l.Stats()
	l.Close()
	if st.Compactions == 0 {
		t.Fatalf("no automatic compaction: %+v", st)
	}
	l = openT(t, dir, Config{})
	defer l.Close()
	sameKV(t, readAll(t, l), keep)
}

// TestCompactionCrashLeftovers: a crash after the compacted file was renamed
// into place but before the old one was removed leaves two generations; the
// newer wins. A leftover temporary file is removed.
func TestCompactionCrashLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{SegmentSize: 4096, Sync: SyncNever, CompactRatio: -1}
	l := openT(t, dir, cfg)
	all := appendN(t, l, 100, AppendOptions{})
	files := segFiles(t, dir)
	first := files[0]
	old := readFile(t, first)
	for _, r := range all[:10] {
		if err := l.Delete(ctx, r.off); err != nil {
			t.Fatal(err)
		}
	}
	l.Delete(ctx, all[15].off)
	if err := l.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, l)
	l.Close()
	writeFile(t, first, old)                   // the old generation is back
	writeFile(t, first+".tmp", []byte("junk")) // and a torn temporary file
	l = openT(t, dir, cfg)
	defer l.Close()
	sameKV(t, readAll(t, l), want)
	if r := l.Stats().Recovery; r.RemovedFiles < 2 || r.DamagedCount != 0 {
		t.Fatalf("recovery %+v", r)
	}
}

// TestDeleteBatch: a window of acknowledgements in one tombstone and one
// fsync; the deletions survive reopen.
func TestDeleteBatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := openT(t, dir, Config{Sync: SyncAlways, SegmentSize: 1 << 20})
	all := appendN(t, l, 50, AppendOptions{})
	before := l.Stats()
	acks := []uint64{all[7].off, all[3].off, all[4].off, all[5].off, all[20].off, 0, 9999, all[3].off}
	if err := l.DeleteBatch(ctx, acks); err != nil {
		t.Fatal(err)
	}
	after := l.Stats()
	if after.Syncs != before.Syncs+1 || after.Deleted != 5 || after.NextOffset != before.NextOffset+1 {
		t.Fatalf("before %+v after %+v", before, after)
	}
	var want []kv
	for i, r := range all {
		if i != 3 && i != 4 && i != 5 && i != 7 && i != 20 {
			want = append(want, r)
		}
	}
	sameKV(t, readAll(t, l), want)
	l.Close()
	l = openT(t, dir, Config{})
	sameKV(t, readAll(t, l), want)
	l.Close()

	// More ranges than fit one tombstone.
	dir = t.TempDir()
	l = openT(t, dir, Config{Sync: SyncNever})
	all = appendN(t, l, 9000, AppendOptions{})
	var many, left []uint64
	for i, r := range all {
		if i%2 == 0 {
			many = append(many, r.off)
		} else {
			left = append(left, r.off)
		}
	}
	next := l.Stats().NextOffset
	if err := l.DeleteBatch(ctx, many); err != nil {
		t.Fatal(err)
	}
	if got := l.Stats().NextOffset - next; got != 2 {
		t.Fatalf("%d tombstones for 4500 ranges, want 2", got)
	}
	l.Close()
	l = openT(t, dir, Config{})
	defer l.Close()
	got := readAll(t, l)
	if len(got) != len(left) {
		t.Fatalf("%d records left, want %d", len(got), len(left))
	}
	for i := range got {
		if got[i].off != left[i] {
			t.Fatalf("record %d is %d, want %d", i, got[i].off, left[i])
		}
	}
}
