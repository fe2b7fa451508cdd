package wal

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
)

// telemetry returns deterministic MQTT-like payloads: SenML JSON of about
// size bytes (50-500), or binary frames (sensor samples with noise).
func telemetry(kind string, size, i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	switch kind {
	case "json":
		var b []byte
		b = append(b, `[{"bn":"urn:dev:ow:10e2073a0108006`+strconv.Itoa(i%10)+`:","bt":`...)
		b = strconv.AppendInt(b, 1700000000+int64(i), 10)
		b = append(b, '}')
		names := []string{"temperature", "humidity", "pressure", "co2", "voltage", "current"}
		units := []string{"Cel", "%RH", "Pa", "ppm", "V", "A"}
		for j := 0; len(b) < size-40; j++ {
			k := j % len(names)
			b = append(b, `,{"n":"`...)
			b = append(b, names[k]...)
			b = append(b, `","u":"`...)
			b = append(b, units[k]...)
			b = append(b, `","v":`...)
			b = strconv.AppendFloat(b, 20+r.Float64()*10, 'f', 2, 64)
			b = append(b, '}')
		}
		return append(b, ']')
	default: // binary: 16-bit samples of a slow signal plus noise, with a small header
		b := make([]byte, size)
		binary.LittleEndian.PutUint64(b, uint64(1700000000+i))
		v := 2000.0
		for j := 16; j+2 <= size; j += 2 {
			v += r.NormFloat64() * 3
			binary.LittleEndian.PutUint16(b[j:], uint16(v))
		}
		return b
	}
}

var payloadKinds = []struct {
	name string
	kind string
	size int
}{
	{"json64", "json", 64},
	{"json200", "json", 200},
	{"json500", "json", 500},
	{"bin4k", "bin", 4096},
}

// BenchmarkCodec measures the codecs alone on MQTT-like payloads; the
// "ratio" metric is stored/raw bytes (lower is better).
func BenchmarkCodec(b *testing.B) {
	for _, pk := range payloadKinds {
		in := make([][]byte, 64)
		for i := range in {
			in[i] = telemetry(pk.kind, pk.size, i)
		}
		for _, c := range []Codec{CodecS2, CodecZstd, CodecZstd + 1} {
			name := c.String()
			var cd codecs
			if c == CodecZstd+1 {
				// zstd with a raw dictionary of other samples (Config.ZstdDict).
				c, name = CodecZstd, "zstd-dict"
				cd.dict = sampleDict()
				cd.dictID = dictID(cd.dict)
			}
			b.Run(pk.name+"/"+name, func(b *testing.B) {
				defer cd.close()
				dst := make([]byte, maxEncoded(c, 8192))
				var raw, stored int64
				b.SetBytes(int64(len(in[0])))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					src := in[i%len(in)]
					out, _, _ := cd.encode(dst, src, c)
					raw += int64(len(src))
					stored += int64(len(out))
					i++
				}
				b.ReportMetric(float64(stored)/float64(raw), "ratio")
			})
		}
	}
}

// BenchmarkAppend measures Append per sync policy and codec.
func BenchmarkAppend(b *testing.B) {
	policies := []struct {
		name string
		cfg  Config
	}{
		{"always", Config{Sync: SyncAlways}},
		{"every64", Config{Sync: SyncEveryN, SyncEvery: 64}},
		{"interval", Config{Sync: SyncInterval}},
		{"never", Config{Sync: SyncNever}},
	}
	for _, p := range policies {
		for _, pk := range []int{1, 3} { // json200 and bin4k
			kind := payloadKinds[pk]
			for _, c := range []Codec{CodecNone, CodecS2, CodecZstd} {
				b.Run(p.name+"/"+kind.name+"/"+c.String(), func(b *testing.B) {
					in := make([][]byte, 64)
					for i := range in {
						in[i] = telemetry(kind.kind, kind.size, i)
					}
					cfg := p.cfg
					cfg.Compression = c
					cfg.Logger = quiet()
					cfg.MaxBytes = 1 << 40
					cfg.MaxRecords = 1 << 30
					cfg.Full = FullDropOldest
					l, err := Open(b.TempDir(), cfg)
					if err != nil {
						b.Fatal(err)
					}
					defer l.Close()
					ctx := context.Background()
					b.SetBytes(int64(kind.size))
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						if _, err := l.Append(ctx, in[i%len(in)], AppendOptions{}); err != nil {
							b.Fatal(err)
						}
						i++
					}
					st := l.Stats()
					b.ReportMetric(float64(st.StoredBytes)/float64(st.RawBytes), "ratio")
					b.ReportMetric(float64(st.Syncs)/float64(st.Appended), "fsyncs/op")
				})
			}
		}
	}
}

// BenchmarkAppendParallel shows group commit: concurrent appenders share
// fsyncs under SyncAlways.
func BenchmarkAppendParallel(b *testing.B) {
	l, err := Open(b.TempDir(), Config{Sync: SyncAlways, Logger: quiet(), MaxBytes: 1 << 40, MaxRecords: 1 << 30, Full: FullDropOldest})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	p := telemetry("json", 200, 1)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(context.Background(), p, AppendOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	st := l.Stats()
	b.ReportMetric(float64(st.Syncs)/float64(st.Appended), "fsyncs/op")
}

// BenchmarkRead measures sequential reading of 10,000 records.
func BenchmarkRead(b *testing.B) {
	for _, c := range []Codec{CodecNone, CodecS2, CodecZstd} {
		b.Run("json200/"+c.String(), func(b *testing.B) {
			l, err := Open(b.TempDir(), Config{Sync: SyncNever, Compression: c, Logger: quiet()})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			const n = 10000
			var bytes int64
			for i := 0; i < n; i++ {
				p := telemetry("json", 200, i)
				bytes += int64(len(p))
				if _, err := l.Append(context.Background(), p, AppendOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(bytes / n)
			b.ReportAllocs()
			r := l.NewReader(0)
			for b.Loop() {
				if _, err := r.Next(); err == io.EOF {
					r.Seek(0)
				} else if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecovery measures Open of a 100 MB log (4 KiB records, 8 MiB
// segments); MB/s is recovery throughput.
func BenchmarkRecovery(b *testing.B) {
	if testing.Short() {
		b.Skip("writes 100 MB")
	}
	dir := b.TempDir()
	l, err := Open(dir, Config{Sync: SyncNever, Compression: CodecNone, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	p := telemetry("bin", 4096, 0)
	const total = 100 << 20
	for n := 0; n < total; n += len(p) + recHeaderLen {
		if _, err := l.Append(context.Background(), p, AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		l, err := Open(dir, Config{Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		if r := l.Stats().Recovery; r.DamagedCount != 0 || r.TornBytes != 0 {
			b.Fatalf("recovery %+v", r)
		}
		l.Close()
	}
}
