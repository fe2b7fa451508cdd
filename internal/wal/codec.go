package wal

import (
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Codec selects how a record's payload is compressed. A log may mix codecs:
// each record carries its own codec in its flags.
type Codec uint8

const (
	// CodecDefault means the log's Config.Compression, which itself
	// defaults to [DefaultCodec].
	CodecDefault Codec = iota
	// CodecNone stores payloads as they are.
	CodecNone
	// CodecS2 compresses with S2 (klauspost/compress/s2 block format).
	CodecS2
	// CodecZstd compresses with Zstandard at its fastest level.
	CodecZstd
)

// DefaultCodec is the codec used when Config.Compression is CodecDefault.
// See the package documentation for the measurements behind the choice.
const DefaultCodec = CodecS2

// String returns the codec's name.
func (c Codec) String() string {
	switch c {
	case CodecDefault:
		return "default"
	case CodecNone:
		return "none"
	case CodecS2:
		return "s2"
	case CodecZstd:
		return "zstd"
	}
	return "codec(" + itoa(int(c)) + ")"
}

// codecs owns the log's reusable encoder and decoder. The zstd ones are
// expensive to create, so they are made once, on first use, and shared:
// EncodeAll and DecodeAll are safe for concurrent use.
type codecs struct {
	dictID uint32    // of the encoder's dictionary, 0 for none
	dict   []byte    // the encoder's raw-content dictionary
	dicts  []rawDict // every dictionary the decoder knows

	zencOnce sync.Once
	zenc     *zstd.Encoder
	zencErr  error

	zdecOnce sync.Once
	zdec     *zstd.Decoder
	zdecErr  error
}

func (c *codecs) encoder() (*zstd.Encoder, error) {
	c.zencOnce.Do(func() {
		n := runtime.GOMAXPROCS(0)
		if n > 4 {
			n = 4
		}
		opts := []zstd.EOption{
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(n),
			zstd.WithEncoderCRC(false), // every record has its own CRC-32C
			zstd.WithLowerEncoderMem(true),
			zstd.WithWindowSize(1 << 16), // records are small; smaller tables reset faster
		}
		if c.dictID != 0 {
			opts = append(opts, zstd.WithEncoderDictRaw(c.dictID, c.dict))
		}
		c.zenc, c.zencErr = zstd.NewWriter(nil, opts...)
	})
	return c.zenc, c.zencErr
}

func (c *codecs) decoder() (*zstd.Decoder, error) {
	c.zdecOnce.Do(func() {
		n := runtime.GOMAXPROCS(0)
		if n > 4 {
			n = 4
		}
		opts := []zstd.DOption{
			zstd.WithDecoderConcurrency(n),
			zstd.WithDecoderMaxMemory(uint64(maxRecordLimit)),
			zstd.WithDecoderLowmem(true),
		}
		for _, d := range c.dicts {
			opts = append(opts, zstd.WithDecoderDictRaw(d.id, d.b))
		}
		c.zdec, c.zdecErr = zstd.NewReader(nil, opts...)
	})
	return c.zdec, c.zdecErr
}

// maxEncoded bounds the stored size of n raw bytes under codec c.
func maxEncoded(c Codec, n int) int {
	switch c {
	case CodecS2:
		if m := s2.MaxEncodedLen(n); m > n {
			return m
		}
	case CodecZstd:
		// zstd frame overhead plus raw-block fallback; a compressed result
		// that does not fit is stored raw anyway.
		return n + n/128 + 64
	}
	return n
}

// encode compresses src under c into dst[:0:cap(dst)] and returns the
// stored bytes and the flag code. When compression does not make the record
// smaller the raw bytes are stored (code none) so a record never grows.
func (c *codecs) encode(dst, src []byte, codec Codec) ([]byte, uint8, error) {
	switch codec {
	case CodecS2:
		if len(src) >= 16 {
			out := s2.Encode(dst[:0:cap(dst)], src)
			if len(out) < len(src) && &out[0] == &dst[:1][0] {
				return out, codeS2, nil
			}
		}
	case CodecZstd:
		if len(src) >= 16 {
			enc, err := c.encoder()
			if err != nil {
				return nil, 0, err
			}
			out := enc.EncodeAll(src, dst[:0:cap(dst)])
			if len(out) < len(src) && &out[0] == &dst[:1][0] {
				return out, codeZstd, nil
			}
		}
	}
	return append(dst[:0], src...), codeNone, nil
}

// decode appends the raw form of a stored payload to dst.
func (c *codecs) decode(dst, src []byte, code uint8, rawLen int) ([]byte, error) {
	switch code {
	case codeNone:
		return append(dst, src...), nil
	case codeS2:
		n, err := s2.DecodedLen(src)
		if err != nil || n != rawLen {
			return dst, ErrCorrupt
		}
		start := len(dst)
		dst = grow(dst, n)
		out, err := s2.Decode(dst[start:start+n], src)
		if err != nil || len(out) != n {
			return dst[:start], ErrCorrupt
		}
		return dst, nil
	case codeZstd:
		dec, err := c.decoder()
		if err != nil {
			return dst, err
		}
		start := len(dst)
		dst = grow(dst, rawLen)[:start]
		out, err := dec.DecodeAll(src, dst)
		if err != nil || len(out)-start != rawLen {
			return dst[:start], ErrCorrupt
		}
		return out, nil
	}
	return dst, ErrCorrupt
}

// grow returns b extended by n bytes, reallocating only when needed.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

func (c *codecs) close() {
	if c.zenc != nil {
		_ = c.zenc.Close()
	}
	if c.zdec != nil {
		c.zdec.Close()
	}
}

// rawDict is a raw-content zstd dictionary and its ID.
type rawDict struct {
	id uint32
	b  []byte
}

// maxDictSize bounds Config.ZstdDict and the dictionary files read by Open.
const maxDictSize = 1 << 20

// dictID derives a dictionary's ID from its content (never 0).
func dictID(b []byte) uint32 {
	id := crc32.Checksum(b, castagnoli)
	if id == 0 {
		id = 1
	}
	return id
}

func dictName(id uint32) string {
	const hex = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = hex[id&15]
		id >>= 4
	}
	return "zstd-" + string(b[:]) + ".dict"
}

// loadDicts makes the log's dictionaries known to the codecs: every
// dictionary file in the directory (records written with an earlier
// dictionary stay readable), plus cfg's, which is saved there first.
func (l *Log) loadDicts() error {
	if d := l.cfg.ZstdDict; len(d) > 0 {
		id := dictID(d)
		name := l.path(dictName(id))
		if _, err := os.Stat(name); err != nil {
			tmp := name + ".tmp"
			err := os.WriteFile(tmp, d, 0o600)
			if err == nil {
				err = syncFile(tmp)
			}
			if err == nil {
				err = os.Rename(tmp, name)
			}
			if err == nil {
				err = syncDir(l.dir)
			}
			if err != nil {
				_ = os.Remove(tmp)
				return &IOError{Op: "create", Err: err}
			}
		}
		l.cd.dictID, l.cd.dict = id, d
	}
	files, err := filepath.Glob(filepath.Join(l.dir, "zstd-*.dict"))
	if err != nil {
		return err
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil || st.Size() > maxDictSize {
			l.lg.Warn("wal: ignoring dictionary file", "file", f)
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		id := dictID(b)
		if filepath.Base(f) != dictName(id) {
			l.lg.Warn("wal: dictionary file does not match its name; ignored", "file", f)
			continue
		}
		l.cd.dicts = append(l.cd.dicts, rawDict{id: id, b: b})
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
