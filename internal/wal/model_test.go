package wal

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestModel runs random operations against the log and a map, reopening
// and compacting now and then, and checks that the log always holds exactly
// the live records of the model.
func TestModel(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		dir := t.TempDir()
		cfg := Config{SegmentSize: 4096, Sync: SyncNever, CompactRatio: []float64{-1, 0.3, 0.9}[seed%3],
			MaxRecords: 60, Full: FullDropOldest}
		model := map[uint64][]byte{}
		cfg.OnDrop = func(off uint64, _ uint8, _ bool) { delete(model, off) }
		l := openT(t, dir, cfg)
		ctx := context.Background()
		check := func(when string) {
			t.Helper()
			got := readAll(t, l)
			if len(got) != len(model) {
				t.Fatalf("seed %d %s: %d records, model %d", seed, when, len(got), len(model))
			}
			for _, r := range got {
				if !bytes.Equal(model[r.off], r.data) {
					t.Fatalf("seed %d %s: record %d differs", seed, when, r.off)
				}
			}
			if st := l.Stats(); st.LiveRecords != len(model) {
				t.Fatalf("seed %d %s: Stats.LiveRecords %d, model %d", seed, when, st.LiveRecords, len(model))
			}
		}
		live := func() []uint64 {
			var k []uint64
			for off := range model {
				k = append(k, off)
			}
			sort.Slice(k, func(i, j int) bool { return k[i] < k[j] })
			return k
		}
		for step := 0; step < 1500; step++ {
			switch op := rng.IntN(100); {
			case op < 55:
				p := payload(rng.IntN(1000))
				p = p[:rng.IntN(len(p))]
				off, err := l.Append(ctx, p, AppendOptions{Droppable: rng.IntN(3) == 0, Codec: Codec(1 + rng.IntN(3))})
				if err != nil {
					t.Fatal(err)
				}
				model[off] = p
			case op < 85:
				k := live()
				if len(k) == 0 {
					continue
				}
				if rng.IntN(3) == 0 {
					var batch []uint64
					for n := 1 + rng.IntN(6); n > 0; n-- {
						batch = append(batch, k[rng.IntN(len(k))])
					}
					if err := l.DeleteBatch(ctx, batch); err != nil {
						t.Fatal(err)
					}
					for _, off := range batch {
						delete(model, off)
					}
					continue
				}
				off := k[rng.IntN(len(k))]
				if err := l.Delete(ctx, off); err != nil {
					t.Fatal(err)
				}
				delete(model, off)
			case op < 88:
				k := live()
				if len(k) == 0 {
					continue
				}
				old := k[rng.IntN(len(k))]
				p := payload(rng.IntN(1000))
				off, err := l.Replace(ctx, old, p, AppendOptions{Droppable: rng.IntN(3) == 0})
				if err != nil {
					t.Fatal(err)
				}
				delete(model, old)
				model[off] = p
			case op < 90:
				k := live()
				if len(k) < 4 {
					continue
				}
				upTo := k[rng.IntN(len(k)/4)]
				if err := l.TruncateHead(ctx, upTo); err != nil {
					t.Fatal(err)
				}
				for _, off := range k {
					if off <= upTo {
						delete(model, off)
					}
				}
			case op < 94:
				if err := l.Compact(ctx); err != nil {
					t.Fatal(err)
				}
				check("after compact")
			case op < 97:
				// A crash: the files as they are now, without Close. The
				// background goroutine is held off so the copy is one state.
				l.compactMu.Lock()
				crash := t.TempDir()
				copyDir(t, dir, crash)
				l.compactMu.Unlock()
				c := openT(t, crash, Config{})
				got := readAll(t, c)
				c.Close()
				if len(got) != len(model) {
					t.Fatalf("seed %d crash copy: %d records, model %d", seed, len(got), len(model))
				}
				for _, r := range got {
					if !bytes.Equal(model[r.off], r.data) {
						t.Fatalf("seed %d crash copy: record %d differs", seed, r.off)
					}
				}
			default:
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				l = openT(t, dir, cfg)
				if r := l.Stats().Recovery; r.DamagedCount != 0 || r.TornBytes != 0 {
					t.Fatalf("seed %d: recovery %+v", seed, r)
				}
				check("after reopen")
			}
		}
		check("end")
		l.Close()
	}
}
