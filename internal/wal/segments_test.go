package wal

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

func TestRollAndHeadTruncation(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l := openT(t, dir, Config{SegmentSize: 4096, Sync: SyncNever, Compression: CodecNone})
	want := appendN(t, l, 400, AppendOptions{})
	nseg := len(segFiles(t, dir))
	if nseg < 10 {
		t.Fatalf("only %d segments", nseg)
	}
	for _, p := range segFiles(t, dir) {
		if sz := fileSize(t, p); sz > 4096 {
			t.Fatalf("%s is %d bytes", p, sz)
		}
	}
	if st := l.Stats(); st.Segments != nseg {
		t.Fatalf("Stats.Segments %d, files %d", st.Segments, nseg)
	}
	// Acknowledge the first half: whole segments go away.
	if err := l.TruncateHead(ctx, want[199].off); err != nil {
		t.Fatal(err)
	}
	if err := l.Compact(ctx); err != nil { // also waits for file removal
		t.Fatal(err)
	}
	left := len(segFiles(t, dir))
	if left > nseg/2+2 {
		t.Fatalf("%d of %d segments left after truncating half", left, nseg)
	}
	sameKV(t, readAll(t, l), want[200:])
	if st := l.Stats(); st.FirstOffset != want[200].off || st.LiveRecords != 200 {
		t.Fatalf("stats %+v", st)
	}
	l.Close()
	l = openT(t, dir, Config{SegmentSize: 4096})
	sameKV(t, readAll(t, l), want[200:])
	// Offsets continue after the last one, even once everything is deleted.
	if err := l.TruncateHead(ctx, want[399].off); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openT(t, dir, Config{SegmentSize: 4096})
	defer l.Close()
	if n := len(readAll(t, l)); n != 0 {
		t.Fatalf("%d records after truncating all", n)
	}
	off, err := l.Append(ctx, []byte("next"), AppendOptions{})
	if err != nil || off <= want[399].off {
		t.Fatalf("offset %d after %d: %v", off, want[399].off, err)
	}
}

func TestSyncPolicies(t *testing.T) {
	for _, tc := range []struct {
		cfg       Config
		minSyncs  uint64
		maxSyncs  uint64
		waitTicks bool
	}{
		{Config{Sync: SyncAlways}, 100, 101, false},
		{Config{Sync: SyncEveryN, SyncEvery: 10}, 10, 11, false},
		{Config{Sync: SyncInterval, SyncInterval: 5 * time.Millisecond}, 1, 100, true},
		{Config{Sync: SyncNever}, 0, 0, false},
	} {
		t.Run(tc.cfg.Sync.String(), func(t *testing.T) {
			dir := t.TempDir()
			l := openT(t, dir, tc.cfg)
			want := appendN(t, l, 100, AppendOptions{})
			if tc.waitTicks {
				deadline := time.Now().Add(5 * time.Second)
				for l.Stats().Syncs == 0 && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}
			st := l.Stats()
			if st.Syncs < tc.minSyncs || st.Syncs > tc.maxSyncs {
				t.Fatalf("%d syncs for 100 appends, want %d..%d", st.Syncs, tc.minSyncs, tc.maxSyncs)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openT(t, dir, Config{})
			defer l.Close()
			sameKV(t, readAll(t, l), want)
		})
	}
}

// TestGroupCommit: concurrent appenders under SyncAlways share fsyncs.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{Sync: SyncAlways})
	const workers, each = 8, 50
	var wg sync.WaitGroup
	offs := make([][]uint64, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				off, err := l.Append(context.Background(), payload(w*each+i), AppendOptions{Class: uint8(w)})
				if err != nil {
					t.Error(err)
					return
				}
				offs[w] = append(offs[w], off)
			}
		}(w)
	}
	wg.Wait()
	st := l.Stats()
	t.Logf("%d appends, %d fsyncs", st.Appended, st.Syncs)
	if st.Syncs >= workers*each { // some fsyncs were shared
		t.Fatalf("%d syncs for %d appends", st.Syncs, workers*each)
	}
	l.Close()
	l = openT(t, dir, Config{})
	defer l.Close()
	got := readAll(t, l)
	if len(got) != workers*each {
		t.Fatalf("%d records", len(got))
	}
	for w := range offs {
		for i, off := range offs[w] {
			rec, err := l.Get(off, nil)
			if err != nil || string(rec.Data) != string(payload(w*each+i)) || rec.Class != uint8(w) {
				t.Fatalf("worker %d record %d: %v", w, i, err)
			}
		}
	}
}

func TestReaderWait(t *testing.T) {
	l := openT(t, t.TempDir(), Config{Sync: SyncNever})
	defer l.Close()
	r := l.NewReader(0)
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("empty log: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on empty log: %v", err)
	}
	cancel()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Wait(ctx); err != nil {
			done <- err
			return
		}
		rec, err := r.Next()
		if err == nil && string(rec.Data) != "hello" {
			err = errors.New("got " + string(rec.Data))
		}
		done <- err
	}()
	time.Sleep(5 * time.Millisecond)
	if _, err := l.Append(context.Background(), []byte("hello"), AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Deleted records are skipped; Seek works.
	a, _ := l.Append(context.Background(), []byte("a"), AppendOptions{})
	b, _ := l.Append(context.Background(), []byte("b"), AppendOptions{})
	if err := l.Delete(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	r.Seek(a)
	rec, err := r.Next()
	if err != nil || rec.Offset != b {
		t.Fatalf("after delete: %v %d", err, rec.Offset)
	}
}

// TestConcurrentAppendDeleteRead runs appenders, a deleter acknowledging out
// of order and a tailing reader together (run it with -race).
func TestConcurrentAppendDeleteRead(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{SegmentSize: 8192, Sync: SyncEveryN, SyncEvery: 16, CompactRatio: 0.9})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const workers, each = 4, 300
	acks := make(chan uint64, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				off, err := l.Append(ctx, payload(i), AppendOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				acks <- off
			}
		}(w)
	}
	var dwg sync.WaitGroup
	dwg.Add(1)
	deleted := 0
	go func() {
		defer dwg.Done()
		var held []uint64
		for off := range acks {
			held = append(held, off)
			if len(held) == 4 { // acknowledge out of order
				for _, i := range []int{2, 0, 3} {
					if err := l.Delete(ctx, held[i]); err != nil {
						t.Error(err)
					}
					deleted++
				}
				held = held[:0]
			}
		}
	}()
	seen := 0
	r := l.NewReader(0)
	var last uint64
	for seen < workers*each/2 {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			if err := r.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Offset <= last {
			t.Fatalf("offset %d after %d", rec.Offset, last)
		}
		last = rec.Offset
		seen++
	}
	wg.Wait()
	close(acks)
	dwg.Wait()
	if err := l.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, l)
	if len(want) != workers*each-deleted {
		t.Fatalf("%d live, want %d", len(want), workers*each-deleted)
	}
	l.Close()
	l = openT(t, dir, Config{SegmentSize: 8192})
	defer l.Close()
	sameKV(t, readAll(t, l), want)
}
