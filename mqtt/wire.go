package mqtt

import (
	"bytes"
	"unicode/utf8"
)

// rd is a cursor over a packet body whose length is known. The first error
// sticks; later reads return zero values. Running out of bytes is a
// malformed packet (the remaining length was too short for the fields).
type rd struct {
	b   []byte
	err error
}

func (r *rd) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *rd) u8() byte {
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *rd) u16() uint16 {
	if len(r.b) < 2 {
		r.fail(errShort)
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *rd) u32() uint32 {
	if len(r.b) < 4 {
		r.fail(errShort)
		return 0
	}
	v := uint32(r.b[0])<<24 | uint32(r.b[1])<<16 | uint32(r.b[2])<<8 | uint32(r.b[3])
	r.b = r.b[4:]
	return v
}

func (r *rd) varint() uint32 {
	v, n, err := readVarintIn(r.b)
	if err != nil {
		r.fail(err)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bin reads Binary Data (§1.5.6): a two-byte length and that many bytes. The
// result aliases the packet and is non-nil even when empty.
func (r *rd) bin() []byte {
	if len(r.b) < 2 {
		r.fail(errShort)
		return nil
	}
	n := int(r.b[0])<<8 | int(r.b[1])
	if len(r.b)-2 < n {
		r.fail(errShort)
		return nil
	}
	v := r.b[2 : 2+n : 2+n]
	r.b = r.b[2+n:]
	return v
}

// str reads a UTF-8 Encoded String (§1.5.4) and validates it.
func (r *rd) str() []byte {
	v := r.bin()
	if v != nil {
		if err := checkUTF8(v); err != nil {
			r.fail(err)
			return nil
		}
	}
	return v
}

// rest returns the unread bytes.
func (r *rd) rest() []byte {
	v := r.b
	r.b = r.b[len(r.b):]
	return v
}

// checkUTF8 enforces the UTF-8 Encoded String rules: well-formed UTF-8
// without surrogates [MQTT-1.5.4-1] and without U+0000 [MQTT-1.5.4-2]. A
// BOM is kept as U+FEFF, never stripped [MQTT-1.5.4-3].
func checkUTF8(b []byte) error {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0 {
			return errNullChar // [MQTT-1.5.4-2]
		}
		if c >= utf8.RuneSelf {
			if !utf8.Valid(b[i:]) { // rejects surrogates and overlongs
				return errBadUTF8 // [MQTT-1.5.4-1]
			}
			if bytes.IndexByte(b[i:], 0) >= 0 {
				return errNullChar // [MQTT-1.5.4-2]
			}
			return nil
		}
	}
	return nil
}

func appendU16(dst []byte, v uint16) []byte { return append(dst, byte(v>>8), byte(v)) }

func appendU32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendBin appends a two-byte length and b; callers checked len(b) <= 65535.
func appendBin(dst, b []byte) []byte {
	dst = append(dst, byte(len(b)>>8), byte(len(b)))
	return append(dst, b...)
}

// encStr checks a string field for encoding: its length, and with content
// its UTF-8 (see the Validate methods).
func encStr(b []byte, content bool) error {
	if len(b) > 65535 {
		return errEncString
	}
	if content && checkUTF8(b) != nil {
		return errEncUTF8
	}
	return nil
}

// encName checks a topic name for encoding: its length, non-empty, and with
// content the rules of CheckTopicName.
func encName(b []byte, content bool) error {
	if len(b) > 65535 || len(b) == 0 || (content && CheckTopicName(b) != nil) {
		return errEncTopic
	}
	return nil
}

// encFilter checks a topic filter for encoding like encName.
func encFilter(b []byte, content bool, v Version) error {
	if len(b) > 65535 || len(b) == 0 || (content && CheckTopicFilterV(b, v) != nil) {
		return errEncTopic
	}
	return nil
}

func encBin(b []byte) error {
	if len(b) > 65535 {
		return errEncString
	}
	return nil
}

// cloneBytes copies b, keeping nil as nil and empty as empty non-nil.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
