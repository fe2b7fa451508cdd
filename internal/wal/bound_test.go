package wal

import (
	"context"
	"errors"
	"testing"
	"time"
)

func recSize(n int) int64 { return int64(recHeaderLen + n) }

func TestBoundFail(t *testing.T) {
	ctx := context.Background()
	l := openT(t, t.TempDir(), Config{MaxRecords: 3, Full: FullFail, Sync: SyncNever})
	defer l.Close()
	var offs []uint64
	for i := 0; i < 3; i++ {
		off, err := l.Append(ctx, []byte("x"), AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
	}
	if _, err := l.Append(ctx, []byte("x"), AppendOptions{}); !errors.Is(err, ErrFull) {
		t.Fatalf("got %v", err)
	}
	if err := l.Delete(ctx, offs[1]); err != nil { // deleting works when full
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, []byte("x"), AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	// Byte bound.
	l2 := openT(t, t.TempDir(), Config{MaxBytes: 3 * recSize(100), Full: FullFail, Sync: SyncNever, Compression: CodecNone})
	defer l2.Close()
	for i := 0; i < 3; i++ {
		if _, err := l2.Append(ctx, make([]byte, 100), AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l2.Append(ctx, make([]byte, 1), AppendOptions{}); !errors.Is(err, ErrFull) {
		t.Fatalf("got %v", err)
	}
	if _, err := l2.Append(ctx, make([]byte, 400), AppendOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("record larger than MaxBytes: %v", err)
	}
}

func TestBoundBlock(t *testing.T) {
	ctx := context.Background()
	l := openT(t, t.TempDir(), Config{MaxRecords: 2, Sync: SyncNever})
	defer l.Close()
	a, _ := l.Append(ctx, []byte("a"), AppendOptions{})
	if _, err := l.Append(ctx, []byte("b"), AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	if _, err := l.Append(short, []byte("c"), AppendOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	cancel()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := l.Append(ctx, []byte("c"), AppendOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Append returned before space was freed: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := l.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Close wakes a blocked appender.
	go func() {
		_, err := l.Append(context.Background(), []byte("d"), AppendOptions{})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	l.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestBoundDropDroppable is the MQTT client's "drop the oldest QoS 0 first".
func TestBoundDropDroppable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var dropped []uint64
	cfg := Config{MaxRecords: 4, Full: FullDropDroppable, Sync: SyncNever,
		OnDrop: func(off uint64, class uint8, droppable bool) {
			if !droppable || class != 0 {
				t.Errorf("dropped %d class %d droppable %v", off, class, droppable)
			}
			dropped = append(dropped, off)
		}}
	l := openT(t, dir, cfg)
	q1a, _ := l.Append(ctx, []byte("q1-a"), AppendOptions{Class: 1})
	q0a, _ := l.Append(ctx, []byte("q0-a"), AppendOptions{Droppable: true})
	q1b, _ := l.Append(ctx, []byte("q1-b"), AppendOptions{Class: 1})
	q0b, _ := l.Append(ctx, []byte("q0-b"), AppendOptions{Droppable: true})
	q1c, err := l.Append(ctx, []byte("q1-c"), AppendOptions{Class: 1}) // drops q0a
	if err != nil {
		t.Fatal(err)
	}
	q1d, err := l.Append(ctx, []byte("q1-d"), AppendOptions{Class: 1}) // drops q0b
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 2 || dropped[0] != q0a || dropped[1] != q0b {
		t.Fatalf("dropped %v, want [%d %d]", dropped, q0a, q0b)
	}
	// Nothing droppable left: blocks like FullBlock.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.Append(short, []byte("q1-e"), AppendOptions{Class: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if st := l.Stats(); st.Dropped != 2 || st.LiveRecords != 4 {
		t.Fatalf("stats %+v", st)
	}
	l.Close()
	// The drops are durable.
	l = openT(t, dir, Config{})
	defer l.Close()
	got := readAll(t, l)
	want := []uint64{q1a, q1b, q1c, q1d}
	if len(got) != len(want) {
		t.Fatalf("got %d records", len(got))
	}
	for i := range want {
		if got[i].off != want[i] {
			t.Fatalf("record %d is %d, want %d", i, got[i].off, want[i])
		}
	}
}

func TestBoundDropOldest(t *testing.T) {
	ctx := context.Background()
	l := openT(t, t.TempDir(), Config{MaxRecords: 3, Full: FullDropOldest, Sync: SyncNever})
	defer l.Close()
	a, _ := l.Append(ctx, []byte("a"), AppendOptions{})
	b, _ := l.Append(ctx, []byte("b"), AppendOptions{})
	c, _ := l.Append(ctx, []byte("c"), AppendOptions{Droppable: true})
	d, _ := l.Append(ctx, []byte("d"), AppendOptions{}) // drops c (droppable first)
	e, _ := l.Append(ctx, []byte("e"), AppendOptions{}) // drops a (oldest)
	got := readAll(t, l)
	want := []uint64{b, d, e}
	if len(got) != 3 {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].off != want[i] {
			t.Fatalf("live %v, want %v (a=%d c=%d)", got, want, a, c)
		}
	}
}

// TestReplace: a state change in one call; at the bound the replaced
// record's space counts as free.
func TestReplace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := openT(t, dir, Config{MaxRecords: 2, Full: FullFail, Sync: SyncAlways})
	a, _ := l.Append(ctx, []byte("publish a"), AppendOptions{Class: 2})
	b, _ := l.Append(ctx, []byte("publish b"), AppendOptions{Class: 2})
	if _, err := l.Append(ctx, []byte("x"), AppendOptions{}); !errors.Is(err, ErrFull) {
		t.Fatalf("got %v", err)
	}
	syncs := l.Stats().Syncs
	a2, err := l.Replace(ctx, a, []byte("pubrel a"), AppendOptions{Class: 3})
	if err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Syncs != syncs+1 || st.LiveRecords != 2 {
		t.Fatalf("syncs %d -> %d, live %d", syncs, st.Syncs, st.LiveRecords)
	}
	// Replacing something already gone is an Append (and the log is full).
	if _, err := l.Replace(ctx, a, []byte("again"), AppendOptions{}); !errors.Is(err, ErrFull) {
		t.Fatalf("got %v", err)
	}
	l.Close()
	l = openT(t, dir, Config{})
	defer l.Close()
	got := readAll(t, l)
	if len(got) != 2 || got[0].off != b || got[1].off != a2 || string(got[1].data) != "pubrel a" {
		t.Fatalf("got %+v", got)
	}
}
