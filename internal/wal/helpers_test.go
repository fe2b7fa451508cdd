package wal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openT(t testing.TB, dir string, cfg Config) *Log {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	l, err := Open(dir, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func payload(i int) []byte {
	// SenML-ish telemetry: compressible, varying length.
	s := `[{"bn":"urn:dev:mac:0024befffe80` + strconv.Itoa(i%97) + `:","bt":` + strconv.Itoa(1700000000+i) +
		`,"n":"temperature","u":"Cel","v":` + strconv.Itoa(20+i%13) + `.` + strconv.Itoa(i%10) + `},{"n":"humidity","u":"%RH","v":` + strconv.Itoa(40+i%7) + `}]`
	return []byte(s)
}

type kv struct {
	off  uint64
	data []byte
}

func appendN(t testing.TB, l *Log, n int, opt AppendOptions) []kv {
	t.Helper()
	out := make([]kv, 0, n)
	for i := 0; i < n; i++ {
		p := payload(i)
		off, err := l.Append(context.Background(), p, opt)
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, kv{off, p})
	}
	return out
}

func readAll(t testing.TB, l *Log) []kv {
	t.Helper()
	r := l.NewReader(0)
	var out []kv
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, kv{rec.Offset, bytes.Clone(rec.Data)})
	}
}

func sameKV(t testing.TB, got, want []kv) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].off != want[i].off || !bytes.Equal(got[i].data, want[i].data) {
			t.Fatalf("record %d: got (%d, %q), want (%d, %q)", i, got[i].off, got[i].data, want[i].off, want[i].data)
		}
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func fileSize(t testing.TB, p string) int64 {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
