//go:build !race

package wal

import (
	"context"
	"testing"
)

// TestNoAllocs proves the hot paths allocate nothing in the steady state:
// Append (no compression and S2; zstd keeps its state in the shared
// encoder), Reader.Next, Get and Delete. (The index grows by appending to a
// slice, amortised far below one allocation per record.)
func TestNoAllocs(t *testing.T) {
	ctx := context.Background()
	for _, c := range []Codec{CodecNone, CodecS2, CodecZstd} {
		l := openT(t, t.TempDir(), Config{Sync: SyncNever, Compression: c, MaxRecords: 1 << 30, MaxBytes: 1 << 40})
		p := payload(3)
		p = append(p, p...)
		for i := 0; i < 100; i++ { // warm up pools and codecs
			l.Append(ctx, p, AppendOptions{})
		}
		if n := testing.AllocsPerRun(1000, func() {
			if _, err := l.Append(ctx, p, AppendOptions{Droppable: true}); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: Append: %v allocs/op", c, n)
		}
		prev, _ := l.Append(ctx, p, AppendOptions{})
		if n := testing.AllocsPerRun(500, func() {
			var err error
			if prev, err = l.Replace(ctx, prev, p, AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: Replace: %v allocs/op", c, n)
		}
		r := l.NewReader(0)
		r.Next()
		if n := testing.AllocsPerRun(500, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: Reader.Next: %v allocs/op", c, n)
		}
		dst := make([]byte, 0, 4096)
		if n := testing.AllocsPerRun(500, func() {
			if _, err := l.Get(7, dst); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: Get: %v allocs/op", c, n)
		}
		off := uint64(1)
		if n := testing.AllocsPerRun(500, func() {
			if err := l.Delete(ctx, off); err != nil {
				t.Fatal(err)
			}
			off++
		}); n != 0 {
			t.Errorf("%v: Delete: %v allocs/op", c, n)
		}
		batch := []uint64{off, off + 1, off + 2, off + 10}
		if n := testing.AllocsPerRun(200, func() {
			if err := l.DeleteBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
			for i := range batch {
				batch[i] += 20
			}
		}); n != 0 {
			t.Errorf("%v: DeleteBatch: %v allocs/op", c, n)
		}
		l.Close()
	}
	// SyncAlways with group commit: waiting for the fsync allocates nothing.
	l := openT(t, t.TempDir(), Config{Sync: SyncAlways})
	defer l.Close()
	p := payload(1)
	l.Append(ctx, p, AppendOptions{})
	if n := testing.AllocsPerRun(50, func() {
		if _, err := l.Append(ctx, p, AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("SyncAlways Append: %v allocs/op", n)
	}
}
