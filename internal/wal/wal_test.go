package wal

import (
	"context"
	"errors"
	"testing"
	"unsafe"
)

func TestRoundTripCodecs(t *testing.T) {
	for _, c := range []Codec{CodecNone, CodecS2, CodecZstd} {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			l := openT(t, dir, Config{Compression: c, Sync: SyncNever})
			want := appendN(t, l, 500, AppendOptions{Class: 7})
			sameKV(t, readAll(t, l), want)
			st := l.Stats()
			if st.LiveRecords != 500 || st.Segments != 1 || st.Appended != 500 || st.FirstOffset != 1 || st.NextOffset != 501 {
				t.Fatalf("stats %+v", st)
			}
			big := []byte{}
			for i := 0; i < 8; i++ {
				big = append(big, payload(i)...)
			}
			if _, err := l.Append(context.Background(), big, AppendOptions{}); err != nil {
				t.Fatal(err)
			}
			st2 := l.Stats()
			raw, stored := st2.RawBytes-st.RawBytes, st2.StoredBytes-st.StoredBytes
			if (c != CodecNone) != (stored < raw/2) {
				t.Fatalf("%v: %d bytes stored as %d", c, raw, stored)
			}
			want = append(want, kv{st2.NextOffset - 1, big})
			rec, err := l.Get(want[42].off, nil)
			if err != nil || string(rec.Data) != string(want[42].data) || rec.Class != 7 {
				t.Fatalf("Get: %v %q", err, rec.Data)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openT(t, dir, Config{Compression: CodecNone})
			defer l.Close()
			sameKV(t, readAll(t, l), want)
			if r := l.Stats().Recovery; r.TornBytes != 0 || r.DamagedCount != 0 || r.Records != 501 {
				t.Fatalf("recovery %+v", r)
			}
		})
	}
}

func TestMixedCodecs(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{Sync: SyncNever})
	var want []kv
	for i := 0; i < 300; i++ {
		p := payload(i)
		off, err := l.Append(context.Background(), p, AppendOptions{Codec: Codec(1 + i%3), Droppable: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, kv{off, p})
	}
	l.Close()
	l = openT(t, dir, Config{})
	defer l.Close()
	sameKV(t, readAll(t, l), want)
	r := l.NewReader(0)
	for i := 0; i < 300; i++ {
		rec, err := r.Next()
		if err != nil || rec.Droppable != (i%2 == 0) {
			t.Fatalf("%d: %v droppable=%v", i, err, rec.Droppable)
		}
	}
}

func TestErrors(t *testing.T) {
	l := openT(t, t.TempDir(), Config{MaxRecordSize: 100, Sync: SyncNever})
	ctx := context.Background()
	if _, err := l.Append(ctx, make([]byte, 101), AppendOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
	if err := l.Delete(ctx, 5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	if _, err := l.Get(1, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Append(cctx, []byte("x"), AppendOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if _, err := l.Append(ctx, []byte("x"), AppendOptions{Codec: 9}); err == nil {
		t.Fatal("bad codec accepted")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, []byte("x"), AppendOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	for _, c := range []Config{{SegmentSize: 10}, {MaxRecordSize: 1 << 30}, {MaxBytes: -1}, {Sync: 9}, {Full: 9}, {Compression: 9}, {CompactRatio: 2}} {
		if _, err := Open(t.TempDir(), c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

func TestIndexEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n != 16 {
		t.Fatalf("index entry is %d bytes; the docs promise 16", n)
	}
}

func TestExplicitSync(t *testing.T) {
	l := openT(t, t.TempDir(), Config{Sync: SyncNever})
	appendN(t, l, 3, AppendOptions{})
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Syncs != 1 {
		t.Fatalf("%d syncs", st.Syncs)
	}
	if err := l.Sync(); err != nil || l.Stats().Syncs != 1 {
		t.Fatalf("nothing to sync: %v, %d syncs", err, l.Stats().Syncs)
	}
	l.Close()
	if err := l.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
