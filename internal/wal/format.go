package wal

import (
	"encoding/binary"
	"hash/crc32"
	"strconv"
)

// On-disk format (all integers little-endian).
//
// A segment file is named "<base>-<gen>.wal": base is the offset of the first
// record the segment may hold (20 decimal digits) and gen counts rewrites by
// compaction (4+ decimal digits). It starts with a 32-byte header:
//
//	0  magic "EKWL"
//	4  version uint16 (1)
//	6  header length uint16 (32)
//	8  base offset uint64
//	16 generation uint32
//	20 reserved, zero (8 bytes)
//	28 CRC-32C of bytes 0..27
//
// followed by records, each a 24-byte header and a payload:
//
//	0  CRC-32C (Castagnoli) of payload, then of header bytes 4..23
//	4  stored payload length uint32
//	8  offset uint64 (strictly increasing within a log)
//	16 raw (uncompressed) length uint32
//	20 flags: bits 0-1 codec (0 none, 1 s2, 2 zstd), bit 2 droppable, bit 3 tombstone
//	21 class (caller-defined)
//	22 reserved uint16, zero
//
// A tombstone's payload is a list of inclusive offset ranges (from, to
// uint64 pairs): the records in them are deleted.
const (
	segHeaderLen = 32
	recHeaderLen = 24
	formatVer    = 1

	flagCodecMask = 0x03
	flagDroppable = 0x04
	flagTombstone = 0x08
	flagKnown     = flagCodecMask | flagDroppable | flagTombstone

	codeNone = 0
	codeS2   = 1
	codeZstd = 2

	// maxRecordLimit is the largest record (raw or stored) the format
	// accepts; Config.MaxRecordSize may not exceed it and recovery rejects
	// bigger headers, which bounds its memory.
	maxRecordLimit = 16 << 20
	// maxTombRanges bounds one tombstone's payload.
	maxTombRanges = 4096
)

var segMagic = [4]byte{'E', 'K', 'W', 'L'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recHeader is a decoded record header.
type recHeader struct {
	crc    uint32
	size   uint32
	off    uint64
	rawLen uint32
	flags  uint8
	class  uint8
}

func putRecHeader(b []byte, h *recHeader) {
	_ = b[recHeaderLen-1]
	binary.LittleEndian.PutUint32(b[0:], h.crc)
	binary.LittleEndian.PutUint32(b[4:], h.size)
	binary.LittleEndian.PutUint64(b[8:], h.off)
	binary.LittleEndian.PutUint32(b[16:], h.rawLen)
	b[20] = h.flags
	b[21] = h.class
	b[22] = 0
	b[23] = 0
}

// parseRecHeader decodes b[:recHeaderLen] and checks what can be checked
// without the payload.
func parseRecHeader(b []byte) (h recHeader, ok bool) {
	_ = b[recHeaderLen-1]
	h.crc = binary.LittleEndian.Uint32(b[0:])
	h.size = binary.LittleEndian.Uint32(b[4:])
	h.off = binary.LittleEndian.Uint64(b[8:])
	h.rawLen = binary.LittleEndian.Uint32(b[16:])
	h.flags = b[20]
	h.class = b[21]
	if b[22] != 0 || b[23] != 0 || h.flags&^flagKnown != 0 || h.flags&flagCodecMask > codeZstd {
		return h, false
	}
	if h.size > maxRecordLimit || h.rawLen > maxRecordLimit || h.off == 0 {
		return h, false
	}
	if h.flags&flagCodecMask == codeNone && h.size != h.rawLen {
		return h, false
	}
	if h.flags&flagTombstone != 0 && (h.flags&flagCodecMask != codeNone || h.size%16 != 0 || h.size == 0 || h.size > maxTombRanges*16) {
		return h, false
	}
	return h, true
}

// recordCRC computes the CRC of a record whose header is in hdr and payload
// in payload.
func recordCRC(hdr, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, payload)
	return crc32.Update(c, castagnoli, hdr[4:recHeaderLen])
}

func putSegHeader(b []byte, base uint64, gen uint32) {
	_ = b[segHeaderLen-1]
	copy(b[0:4], segMagic[:])
	binary.LittleEndian.PutUint16(b[4:], formatVer)
	binary.LittleEndian.PutUint16(b[6:], segHeaderLen)
	binary.LittleEndian.PutUint64(b[8:], base)
	binary.LittleEndian.PutUint32(b[16:], gen)
	clear(b[20:28])
	binary.LittleEndian.PutUint32(b[28:], crc32.Checksum(b[:28], castagnoli))
}

// parseSegHeader checks a segment header and returns its base and generation.
func parseSegHeader(b []byte) (base uint64, gen uint32, reason string) {
	if len(b) < segHeaderLen {
		return 0, 0, "short segment header"
	}
	if [4]byte(b[0:4]) != segMagic {
		return 0, 0, "bad magic"
	}
	if crc32.Checksum(b[:28], castagnoli) != binary.LittleEndian.Uint32(b[28:]) {
		return 0, 0, "segment header CRC mismatch"
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != formatVer {
		return 0, 0, "unsupported version " + strconv.Itoa(int(v))
	}
	if binary.LittleEndian.Uint16(b[6:]) != segHeaderLen {
		return 0, 0, "bad segment header length"
	}
	base = binary.LittleEndian.Uint64(b[8:])
	if base == 0 {
		return 0, 0, "zero base offset"
	}
	return base, binary.LittleEndian.Uint32(b[16:]), ""
}

// segName returns the file name of a segment.
func segName(base uint64, gen uint32) string {
	var b [40]byte
	s := strconv.AppendUint(b[:0], base, 10)
	out := make([]byte, 0, 32)
	for i := len(s); i < 20; i++ {
		out = append(out, '0')
	}
	out = append(out, s...)
	out = append(out, '-')
	g := strconv.AppendUint(b[:0], uint64(gen), 10)
	for i := len(g); i < 4; i++ {
		out = append(out, '0')
	}
	out = append(out, g...)
	out = append(out, ".wal"...)
	return string(out)
}

// parseSegName is the inverse of segName.
func parseSegName(name string) (base uint64, gen uint32, ok bool) {
	if len(name) < 20+1+4+4 || name[20] != '-' || name[len(name)-4:] != ".wal" {
		return 0, 0, false
	}
	b, err := strconv.ParseUint(name[:20], 10, 64)
	if err != nil || b == 0 {
		return 0, 0, false
	}
	g, err := strconv.ParseUint(name[21:len(name)-4], 10, 32)
	if err != nil {
		return 0, 0, false
	}
	return b, uint32(g), true
}

// putRange / getRange encode one inclusive tombstone range.
func putRange(b []byte, from, to uint64) {
	binary.LittleEndian.PutUint64(b[0:], from)
	binary.LittleEndian.PutUint64(b[8:], to)
}

func getRange(b []byte) (from, to uint64) {
	return binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:])
}
