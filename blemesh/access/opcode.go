package access

import (
	"errors"
	"strconv"
)

// Errors.
var (
	ErrShort     = errors.New("blemesh/access: message too short")
	ErrLong      = errors.New("blemesh/access: message too long")
	ErrOpcode    = errors.New("blemesh/access: invalid opcode")
	ErrMalformed = errors.New("blemesh/access: malformed message")
	ErrRange     = errors.New("blemesh/access: field out of range")
)

// MaxPayloadLen is the largest access payload: 384 octets of upper
// transport PDU minus a 4-octet TransMIC (Mesh Protocol 1.1 §3.7.3).
const MaxPayloadLen = 380

// Opcode is an access layer opcode (Mesh Protocol 1.1 §3.7.3.1). 1-octet
// opcodes are 0x00..0x7e, 2-octet opcodes 0x8000..0xbfff, and 3-octet
// (vendor) opcodes 0xc00000 | op<<16 | CompanyID, where op is the 6-bit
// vendor opcode. The zero value is the 1-octet opcode 0x00 (Config AppKey
// Add). 0x7f is reserved for future use and never valid.
type Opcode uint32

// Vendor returns the 3-octet opcode of a vendor model.
func Vendor(op uint8, companyID uint16) Opcode {
	return Opcode(0xc00000 | uint32(op&0x3f)<<16 | uint32(companyID))
}

// Len returns the opcode's size on the wire (1, 2 or 3), or 0 if invalid.
func (o Opcode) Len() int {
	switch {
	case o < 0x7f:
		return 1
	case o >= 0x8000 && o <= 0xbfff:
		return 2
	case o >= 0xc00000 && o <= 0xffffff:
		return 3
	}
	return 0
}

// Valid reports whether o can be encoded.
func (o Opcode) Valid() bool { return o.Len() != 0 }

// IsVendor reports a 3-octet opcode.
func (o Opcode) IsVendor() bool { return o.Len() == 3 }

// CompanyID returns the company identifier of a vendor opcode.
func (o Opcode) CompanyID() uint16 { return uint16(o) }

// VendorOpcode returns the 6-bit opcode of a vendor opcode.
func (o Opcode) VendorOpcode() uint8 { return uint8(o>>16) & 0x3f }

// AppendBinary appends the wire form: 3-octet opcodes carry the company
// identifier little-endian.
func (o Opcode) AppendBinary(dst []byte) ([]byte, error) {
	switch o.Len() {
	case 1:
		return append(dst, byte(o)), nil
	case 2:
		return append(dst, byte(o>>8), byte(o)), nil
	case 3:
		return append(dst, byte(o>>16), byte(o), byte(o>>8)), nil
	}
	return dst, ErrOpcode
}

// String returns the opcode as hex digits in wire order ("04", "8003",
// "d50a00").
func (o Opcode) String() string {
	var b [6]byte
	w, err := o.AppendBinary(b[:0])
	if err != nil {
		return "invalid(" + strconv.FormatUint(uint64(o), 16) + ")"
	}
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 6)
	for _, c := range w {
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}

// DecodeOpcode parses the opcode at the start of an access payload and
// returns it with its length.
func DecodeOpcode(src []byte) (Opcode, int, error) {
	if len(src) == 0 {
		return 0, 0, ErrShort
	}
	b := src[0]
	switch {
	case b == 0x7f:
		return 0, 0, ErrOpcode
	case b < 0x80:
		return Opcode(b), 1, nil
	case b < 0xc0:
		if len(src) < 2 {
			return 0, 0, ErrShort
		}
		return Opcode(uint32(b)<<8 | uint32(src[1])), 2, nil
	default:
		if len(src) < 3 {
			return 0, 0, ErrShort
		}
		return Opcode(uint32(b)<<16 | uint32(src[2])<<8 | uint32(src[1])), 3, nil
	}
}

// Payload is an access payload: an opcode and its parameters. Params
// aliases the decoded buffer.
type Payload struct {
	Opcode Opcode
	Params []byte
}

// EncodedLen returns the encoded length.
func (p *Payload) EncodedLen() int { return p.Opcode.Len() + len(p.Params) }

// AppendBinary appends opcode || parameters.
func (p *Payload) AppendBinary(dst []byte) ([]byte, error) {
	if p.EncodedLen() > MaxPayloadLen {
		return dst, ErrLong
	}
	dst, err := p.Opcode.AppendBinary(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, p.Params...), nil
}

// Decode parses an access payload; Params aliases src.
func (p *Payload) Decode(src []byte) (int, error) {
	if len(src) > MaxPayloadLen {
		return 0, ErrLong
	}
	op, n, err := DecodeOpcode(src)
	if err != nil {
		return 0, err
	}
	p.Opcode, p.Params = op, src[n:]
	return len(src), nil
}

// Address kinds (Mesh Protocol 1.1 §3.4.2).
const (
	AddrUnassigned = 0x0000
	AddrAllProxies = 0xfffc
	AddrAllFriends = 0xfffd
	AddrAllRelays  = 0xfffe
	AddrAllNodes   = 0xffff
)

// IsUnicast, IsVirtual and IsGroup classify addresses.
func IsUnicast(a uint16) bool { return a != 0 && a&0x8000 == 0 }

// IsVirtual reports a virtual address (0b10xx...).
func IsVirtual(a uint16) bool { return a&0xc000 == 0x8000 }

// IsGroup reports a group address, including the fixed group addresses.
func IsGroup(a uint16) bool { return a&0xc000 == 0xc000 }

// KeyIndexes packs two 12-bit key indexes into 3 octets, first index in the
// low 12 bits, little-endian (Mesh Protocol 1.1 §4.3.1.1).
func appendKeyIndexes(dst []byte, a, b uint16) []byte {
	v := uint32(a&0xfff) | uint32(b&0xfff)<<12
	return append(dst, byte(v), byte(v>>8), byte(v>>16))
}

func keyIndexes(src []byte) (a, b uint16) {
	v := uint32(src[0]) | uint32(src[1])<<8 | uint32(src[2])<<16
	return uint16(v & 0xfff), uint16(v >> 12)
}

func appendKeyIndex(dst []byte, a uint16) []byte { return append(dst, byte(a), byte(a>>8)&0x0f) }

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// Clone returns a copy of p whose Params do not alias p's.
func (p *Payload) Clone() Payload {
	c := *p
	c.Params = cloneBytes(p.Params)
	return c
}

// cloneBytes copies b, keeping nil as nil.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
