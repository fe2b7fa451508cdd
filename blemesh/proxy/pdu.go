package proxy

import (
	"errors"
	"strconv"
)

// Type is the Message Type field of a proxy PDU (Mesh Protocol 1.1
// §6.3.1, Table 6.3). Values 0x04-0x3F are reserved for future use.
type Type uint8

// Proxy PDU message types.
const (
	TypeNetwork      Type = 0x00 // Network PDU
	TypeBeacon       Type = 0x01 // Mesh Beacon
	TypeConfig       Type = 0x02 // Proxy Configuration
	TypeProvisioning Type = 0x03 // Provisioning PDU
)

// maxType is the largest value a 6-bit Type field can carry.
const maxType = 0x3f

var typeNames = [...]string{"network", "beacon", "proxy-config", "provisioning"}

// String returns a short name of t, or "rfu(N)" for a reserved value.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "rfu(" + strconv.Itoa(int(t)) + ")"
}

// SAR is the 2-bit segmentation and reassembly field of a proxy PDU (Mesh
// Protocol 1.1 §6.3.1, Table 6.2).
type SAR uint8

// SAR values.
const (
	SARComplete     SAR = 0 // the data field holds a complete message
	SARFirst        SAR = 1 // the first segment of a message
	SARContinuation SAR = 2 // a continuation segment
	SARLast         SAR = 3 // the last segment
)

var sarNames = [4]string{"complete", "first", "continuation", "last"}

// String returns the name of s.
func (s SAR) String() string { return sarNames[s&3] }

// Errors returned by this package. Every reassembly error means the peer broke
// the proxy protocol; Mesh Protocol 1.1 §6.3.2 requires the receiver to
// disconnect.
var (
	// ErrShort reports an empty ATT value, or an AD structure shorter than
	// its form requires.
	ErrShort = errors.New("blemesh/proxy: PDU too short")
	// ErrMTU reports an ATT MTU too small to carry a proxy PDU (below 23, the
	// minimum ATT_MTU of LE) or above the 517-octet ATT maximum.
	ErrMTU = errors.New("blemesh/proxy: invalid ATT MTU")
	// ErrTooLarge reports a message larger than the configured limit.
	ErrTooLarge = errors.New("blemesh/proxy: message too large")
	// ErrUnexpectedSegment reports a segment that does not fit the
	// reassembly state: a continuation or last segment with no first, or a
	// complete message or first segment while a message is being reassembled.
	ErrUnexpectedSegment = errors.New("blemesh/proxy: unexpected SAR segment")
	// ErrTypeMismatch reports a segment whose message type differs from the
	// first segment's.
	ErrTypeMismatch = errors.New("blemesh/proxy: message type changed within a segmented message")
	// ErrTimeout reports a segmented message not completed within the SAR
	// timeout (20 s by default, Mesh Protocol 1.1 §6.3.2).
	ErrTimeout = errors.New("blemesh/proxy: segmented message timed out")
	// ErrMalformed reports advertising data that is not the expected
	// service data form.
	ErrMalformed = errors.New("blemesh/proxy: malformed service data")
)

// PDU is one proxy PDU: the value of one ATT Write Command to, or
// Notification from, the Mesh Proxy Data In/Out or Mesh Provisioning Data
// In/Out characteristic (Mesh Protocol 1.1 §6.3.1). It is a plain value and
// not safe for concurrent mutation.
//
// Data aliases the slice given to [PDU.Decode]; see [PDU.Clone].
type PDU struct {
	SAR  SAR
	Type Type
	Data []byte
}

// Header returns the first octet of p: SAR (bits 7-6) || Type (bits 5-0).
func (p *PDU) Header() byte { return byte(p.SAR&3)<<6 | byte(p.Type&maxType) }

// EncodedLen returns the length of the wire form of p.
func (p *PDU) EncodedLen() int { return 1 + len(p.Data) }

// AppendBinary appends the wire form of p to dst. It fails with ErrShort if a
// segment (SAR other than complete) has no data, and returns an error if Type
// does not fit its 6 bits.
func (p *PDU) AppendBinary(dst []byte) ([]byte, error) {
	if p.Type > maxType {
		return dst, ErrMalformed
	}
	if p.SAR != SARComplete && len(p.Data) == 0 {
		return dst, ErrShort
	}
	dst = append(dst, p.Header())
	return append(dst, p.Data...), nil
}

// Decode parses one ATT value into p, overwriting every field. Data aliases
// src. It consumes all of src: a proxy PDU fills its ATT value. A PDU with an
// empty data field is accepted only when SAR is complete.
func (p *PDU) Decode(src []byte) (n int, err error) {
	if len(src) == 0 {
		*p = PDU{}
		return 0, ErrShort
	}
	p.SAR = SAR(src[0] >> 6)
	p.Type = Type(src[0] & maxType)
	p.Data = src[1:]
	if p.SAR != SARComplete && len(p.Data) == 0 {
		return 0, ErrShort
	}
	return len(src), nil
}

// Clone returns a copy of p whose Data does not alias the decode buffer.
func (p *PDU) Clone() PDU {
	q := *p
	if p.Data != nil {
		q.Data = append([]byte(nil), p.Data...)
	}
	return q
}
