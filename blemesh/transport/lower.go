package transport

import (
	"errors"
	"strconv"
)

// Limits of lower transport PDUs (Mesh Protocol 1.1 §3.5.2).
const (
	MaxUnsegAccessLen  = 15 // upper transport access PDU in an unsegmented PDU
	MaxUnsegControlLen = 11 // parameters of an unsegmented control PDU
	MaxSegAccessLen    = 12 // segment of an upper transport access PDU
	MaxSegControlLen   = 8  // segment of an upper transport control PDU
	MaxSegments        = 32 // SegN is 5 bits
	// MaxAccessPDULen is the largest upper transport access PDU (32
	// segments of 12 octets).
	MaxAccessPDULen = MaxSegments * MaxSegAccessLen
	// MaxControlPDULen is the largest upper transport control PDU.
	MaxControlPDULen = MaxSegments * MaxSegControlLen
)

// Errors.
var (
	ErrShort     = errors.New("blemesh/transport: PDU too short")
	ErrLong      = errors.New("blemesh/transport: PDU too long")
	ErrMalformed = errors.New("blemesh/transport: malformed PDU")
	ErrOpcode    = errors.New("blemesh/transport: unknown or wrong control opcode")
	ErrRange     = errors.New("blemesh/transport: field out of range")
)

// FieldError reports a field whose value is out of range, with its name.
// It matches ErrRange with errors.Is.
type FieldError struct {
	Field string
	Value int
}

func (e FieldError) Error() string {
	return "blemesh/transport: " + e.Field + " out of range: " + strconv.Itoa(e.Value)
}

// Is makes FieldError match ErrRange.
func (e FieldError) Is(target error) bool { return target == ErrRange }

// LowerPDU is a lower transport PDU (Mesh Protocol 1.1 §3.5.2). Which
// fields apply depends on CTL (from the network header) and Seg:
//
//	access, unsegmented:  SEG=0 | AKF | AID || Upper Transport Access PDU
//	access, segmented:    SEG=1 | AKF | AID || SZMIC | SeqZero | SegO | SegN || segment
//	control, unsegmented: SEG=0 | Opcode || parameters
//	control, segmented:   SEG=1 | Opcode || RFU | SeqZero | SegO | SegN || segment
//
// Payload aliases the decoded buffer.
type LowerPDU struct {
	CTL     bool  // from the network header; selects the control formats
	Seg     bool  // segmented
	AKF     bool  // access: application key flag
	AID     uint8 // access: 6-bit application key identifier
	Opcode  uint8 // control: 7-bit opcode
	SZMIC   bool  // segmented access: 64-bit TransMIC
	SeqZero uint16
	SegO    uint8
	SegN    uint8
	Payload []byte
}

// HeaderLen returns the header length of p: 1 for unsegmented PDUs, 4 for
// segmented ones.
func (p *LowerPDU) HeaderLen() int {
	if p.Seg {
		return 4
	}
	return 1
}

// EncodedLen returns the encoded length.
func (p *LowerPDU) EncodedLen() int { return p.HeaderLen() + len(p.Payload) }

func (p *LowerPDU) maxPayload() int {
	switch {
	case p.CTL && p.Seg:
		return MaxSegControlLen
	case p.CTL:
		return MaxUnsegControlLen
	case p.Seg:
		return MaxSegAccessLen
	default:
		return MaxUnsegAccessLen
	}
}

// AppendBinary appends the wire form of p to dst.
func (p *LowerPDU) AppendBinary(dst []byte) ([]byte, error) {
	if len(p.Payload) > p.maxPayload() {
		return dst, ErrLong
	}
	if !p.CTL && !p.Seg && len(p.Payload) < 5 {
		// An unsegmented access PDU carries at least 1 octet of access
		// payload and a 4-octet TransMIC.
		return dst, ErrShort
	}
	if p.Seg && len(p.Payload) == 0 {
		return dst, ErrShort
	}
	if p.AID > 0x3f {
		return dst, FieldError{"AID", int(p.AID)}
	}
	if p.Opcode > 0x7f {
		return dst, FieldError{"Opcode", int(p.Opcode)}
	}
	if p.SeqZero > 0x1fff {
		return dst, FieldError{"SeqZero", int(p.SeqZero)}
	}
	if p.SegO > 31 || p.SegN > 31 || p.SegO > p.SegN {
		return dst, FieldError{"SegO", int(p.SegO)}
	}
	var b0 byte
	if p.Seg {
		b0 = 0x80
	}
	if p.CTL {
		b0 |= p.Opcode
	} else {
		if p.AKF {
			b0 |= 0x40
		}
		b0 |= p.AID
	}
	dst = append(dst, b0)
	if p.Seg {
		var b1 byte
		if p.SZMIC && !p.CTL {
			b1 = 0x80
		}
		b1 |= byte(p.SeqZero >> 6)
		dst = append(dst, b1, byte(p.SeqZero<<2)|p.SegO>>3, p.SegO<<5|p.SegN)
	}
	return append(dst, p.Payload...), nil
}

// Decode parses src as a lower transport PDU of a network PDU whose CTL bit
// is ctl. Payload aliases src. It returns len(src): the lower transport PDU
// is the rest of the network PDU.
func (p *LowerPDU) Decode(src []byte, ctl bool) (int, error) {
	*p = LowerPDU{CTL: ctl}
	if len(src) < 1 {
		return 0, ErrShort
	}
	b0 := src[0]
	p.Seg = b0&0x80 != 0
	if ctl {
		p.Opcode = b0 & 0x7f
	} else {
		p.AKF = b0&0x40 != 0
		p.AID = b0 & 0x3f
	}
	if p.Seg {
		if len(src) < 5 {
			return 0, ErrShort
		}
		if ctl && src[1]&0x80 != 0 {
			return 0, ErrMalformed // RFU bit
		}
		p.SZMIC = !ctl && src[1]&0x80 != 0
		p.SeqZero = uint16(src[1]&0x7f)<<6 | uint16(src[2]>>2)
		p.SegO = (src[2]&3)<<3 | src[3]>>5
		p.SegN = src[3] & 0x1f
		if p.SegO > p.SegN {
			return 0, ErrMalformed
		}
		p.Payload = src[4:]
	} else {
		p.Payload = src[1:]
		if !ctl && len(p.Payload) < 5 {
			return 0, ErrShort
		}
	}
	if len(p.Payload) > p.maxPayload() {
		return 0, ErrLong
	}
	return len(src), nil
}

// Clone returns a copy of p whose Payload does not alias the decode buffer.
func (p *LowerPDU) Clone() LowerPDU {
	q := *p
	q.Payload = append([]byte(nil), p.Payload...)
	return q
}
