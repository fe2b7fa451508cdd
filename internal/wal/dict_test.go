package wal

import (
	"context"
	"testing"
)

func sampleDict() []byte {
	var d []byte
	for i := 1000; i < 1040; i++ {
		d = append(d, telemetry("json", 200, i)...)
	}
	return d
}

func TestZstdDict(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(cfg Config, from int) ([]kv, Stats) {
		l := openT(t, dir, cfg)
		defer l.Close()
		var out []kv
		for i := from; i < from+100; i++ {
			p := telemetry("json", 200, i)
			off, err := l.Append(ctx, p, AppendOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, kv{off, p})
		}
		return out, l.Stats()
	}
	_, plain := write(Config{Sync: SyncNever, Compression: CodecZstd}, 0)
	d1 := sampleDict()
	want, withDict := write(Config{Sync: SyncNever, Compression: CodecZstd, ZstdDict: d1}, 100)
	pr := float64(plain.StoredBytes) / float64(plain.RawBytes)
	dr := float64(withDict.StoredBytes) / float64(withDict.RawBytes)
	t.Logf("zstd ratio without dictionary %.3f, with %.3f", pr, dr)
	if dr > pr*0.6 {
		t.Fatalf("dictionary did not help: %.3f vs %.3f", dr, pr)
	}
	// A different dictionary later: the old records stay readable.
	d2 := append([]byte(nil), d1[len(d1)/2:]...)
	more, _ := write(Config{Sync: SyncNever, Compression: CodecZstd, ZstdDict: d2}, 200)
	want = append(want, more...)
	l := openT(t, dir, Config{}) // no dictionary configured
	defer l.Close()
	got := readAll(t, l)
	sameKV(t, got[100:], want)
	if _, err := Open(t.TempDir(), Config{ZstdDict: make([]byte, maxDictSize+1)}); err == nil {
		t.Fatal("oversized dictionary accepted")
	}
}
