package prov

import "errors"

// ADTypePBADV is the AD type of a PB-ADV advertisement (Mesh Protocol 1.1
// §5.2.1, Assigned Numbers).
const ADTypePBADV = 0x29

// PB-ADV sizes (§5.2.1, §5.3.1). An advertising PDU carries 31 octets of
// AD data: one AD structure of 29 octets after its length and type.
const (
	MaxPBADVLen       = 29 // LinkID(4) || TransactionNumber(1) || Generic Provisioning PDU(24)
	pbadvHeaderLen    = 5  // LinkID || TransactionNumber
	StartDataMax      = 20 // data octets in a Transaction Start PDU
	ContinuationMax   = 23 // data octets in a Transaction Continuation PDU
	MaxSegments       = 64 // SegN and SegmentIndex are 6 bits
	MaxTransactionLen = StartDataMax + (MaxSegments-1)*ContinuationMax
)

// GPCF is the Generic Provisioning Control Format: the low 2 bits of the
// first octet of a Generic Provisioning PDU (§5.3.1, Table 5.4).
type GPCF uint8

// Generic Provisioning Control Formats.
const (
	GPCFTransactionStart        GPCF = 0x00
	GPCFTransactionAck          GPCF = 0x01
	GPCFTransactionContinuation GPCF = 0x02
	GPCFBearerControl           GPCF = 0x03
)

// BearerOpcode is the opcode of a Provisioning Bearer Control PDU
// (§5.3.1.4, Table 5.9).
type BearerOpcode uint8

// Bearer control opcodes.
const (
	LinkOpen  BearerOpcode = 0x00
	LinkAck   BearerOpcode = 0x01
	LinkClose BearerOpcode = 0x02
)

// CloseReason is the Reason of a Link Close message (§5.3.1.4.3, Table 5.11).
type CloseReason uint8

// Link Close reasons.
const (
	CloseSuccess CloseReason = 0x00
	CloseTimeout CloseReason = 0x01
	CloseFail    CloseReason = 0x02
)

var closeNames = [3]string{"success", "timeout", "fail"}

// String returns the name of r.
func (r CloseReason) String() string {
	if int(r) < len(closeNames) {
		return closeNames[r]
	}
	return "rfu"
}

// ErrMalformed reports a PB-ADV PDU that breaks the generic provisioning
// layer's format rules (§5.3.1): wrong length for its control format,
// non-zero padding, a reserved opcode or reason, or a segment count that
// does not match the total length.
var ErrMalformed = errors.New("blemesh/prov: malformed generic provisioning PDU")

// PBADV is one PB-ADV PDU: the payload of one AD structure of type 0x29,
// LinkID || TransactionNumber || Generic Provisioning PDU (§5.2.1, §5.3.1).
// Which fields are meaningful depends on GPCF; Data aliases the decode
// buffer (see [PBADV.Clone]). It is not safe for concurrent mutation.
type PBADV struct {
	LinkID            uint32
	TransactionNumber uint8
	GPCF              GPCF

	// Transaction Start (§5.3.1.1).
	SegN        uint8  // last segment number, 0-63
	TotalLength uint16 // of the provisioning PDU
	FCS         uint8

	// Transaction Continuation (§5.3.1.3).
	SegmentIndex uint8 // 1-63

	// Provisioning Bearer Control (§5.3.1.4).
	Opcode     BearerOpcode
	DeviceUUID [16]byte    // Link Open
	Reason     CloseReason // Link Close

	// Data is the segment of the provisioning PDU (start and continuation).
	Data []byte
}

// LastSegment returns SegN for a provisioning PDU of n octets (n >= 1).
func LastSegment(n int) uint8 {
	if n <= StartDataMax {
		return 0
	}
	return uint8(1 + (n-StartDataMax-1)/ContinuationMax)
}

// EncodedLen returns the length of the wire form of p.
func (p *PBADV) EncodedLen() int {
	n := pbadvHeaderLen + 1
	switch p.GPCF {
	case GPCFTransactionStart:
		n += 3 + len(p.Data)
	case GPCFTransactionContinuation:
		n += len(p.Data)
	case GPCFBearerControl:
		switch p.Opcode {
		case LinkOpen:
			n += 16
		case LinkClose:
			n++
		}
	}
	return n
}

// AppendBinary appends the wire form of p to dst. It fails with
// ErrMalformed for values the format cannot carry: segment data over 20
// (start) or 23 (continuation) octets or empty, SegN or SegmentIndex over 63
// (or a zero SegmentIndex), or a reserved opcode or GPCF.
func (p *PBADV) AppendBinary(dst []byte) ([]byte, error) {
	var b0 byte
	switch p.GPCF {
	case GPCFTransactionStart:
		if len(p.Data) == 0 || len(p.Data) > StartDataMax || p.SegN >= MaxSegments {
			return dst, ErrMalformed
		}
		b0 = p.SegN<<2 | byte(GPCFTransactionStart)
	case GPCFTransactionAck:
		b0 = byte(GPCFTransactionAck)
	case GPCFTransactionContinuation:
		if len(p.Data) == 0 || len(p.Data) > ContinuationMax || p.SegmentIndex == 0 || p.SegmentIndex >= MaxSegments {
			return dst, ErrMalformed
		}
		b0 = p.SegmentIndex<<2 | byte(GPCFTransactionContinuation)
	case GPCFBearerControl:
		if p.Opcode > LinkClose {
			return dst, ErrMalformed
		}
		b0 = byte(p.Opcode)<<2 | byte(GPCFBearerControl)
	default:
		return dst, ErrMalformed
	}
	dst = append(dst, byte(p.LinkID>>24), byte(p.LinkID>>16), byte(p.LinkID>>8), byte(p.LinkID),
		p.TransactionNumber, b0)
	switch p.GPCF {
	case GPCFTransactionStart:
		dst = append(dst, byte(p.TotalLength>>8), byte(p.TotalLength), p.FCS)
		dst = append(dst, p.Data...)
	case GPCFTransactionContinuation:
		dst = append(dst, p.Data...)
	case GPCFBearerControl:
		switch p.Opcode {
		case LinkOpen:
			dst = append(dst, p.DeviceUUID[:]...)
		case LinkClose:
			dst = append(dst, byte(p.Reason))
		}
	}
	return dst, nil
}

// Decode parses one PB-ADV payload into p, overwriting every field, and
// returns len(src): the PDU fills its AD structure. Data aliases src.
//
// It fails with ErrShort below 6 octets and ErrMalformed when a control
// format's length or padding is wrong, an opcode or reason is reserved, or a
// Transaction Start's SegN does not match its TotalLength. A Link Close with
// a reserved reason is accepted as the spec requires the link to close
// anyway; the reason is kept as received.
func (p *PBADV) Decode(src []byte) (n int, err error) {
	*p = PBADV{}
	if len(src) < pbadvHeaderLen+1 {
		return 0, ErrShort
	}
	if len(src) > MaxPBADVLen {
		return 0, ErrMalformed
	}
	p.LinkID = be32(src)
	p.TransactionNumber = src[4]
	b0 := src[5]
	rest := src[6:]
	p.GPCF = GPCF(b0 & 3)
	switch p.GPCF {
	case GPCFTransactionStart:
		if len(rest) < 4 {
			return 0, ErrShort
		}
		p.SegN = b0 >> 2
		p.TotalLength = be16(rest)
		p.FCS = rest[2]
		p.Data = rest[3:]
		want := int(p.TotalLength)
		if want > StartDataMax {
			want = StartDataMax
		}
		if p.TotalLength == 0 || len(p.Data) != want || p.SegN != LastSegment(int(p.TotalLength)) {
			return 0, ErrMalformed
		}
	case GPCFTransactionAck:
		if b0 != byte(GPCFTransactionAck) || len(rest) != 0 {
			return 0, ErrMalformed
		}
	case GPCFTransactionContinuation:
		p.SegmentIndex = b0 >> 2
		p.Data = rest
		if p.SegmentIndex == 0 || len(rest) == 0 {
			return 0, ErrMalformed
		}
	case GPCFBearerControl:
		p.Opcode = BearerOpcode(b0 >> 2)
		switch p.Opcode {
		case LinkOpen:
			if len(rest) != 16 {
				return 0, ErrMalformed
			}
			copy(p.DeviceUUID[:], rest)
		case LinkAck:
			if len(rest) != 0 {
				return 0, ErrMalformed
			}
		case LinkClose:
			if len(rest) != 1 {
				return 0, ErrMalformed
			}
			p.Reason = CloseReason(rest[0])
		default:
			return 0, ErrMalformed
		}
	}
	return len(src), nil
}

// Clone returns a copy of p whose Data does not alias the decode buffer.
func (p *PBADV) Clone() PBADV {
	q := *p
	if p.Data != nil {
		q.Data = append([]byte(nil), p.Data...)
	}
	return q
}

// Segments returns the number of Generic Provisioning PDUs a provisioning PDU
// of n octets needs (1-64), or 0 if n is 0 or over MaxTransactionLen.
func Segments(n int) int {
	if n <= 0 || n > MaxTransactionLen {
		return 0
	}
	return int(LastSegment(n)) + 1
}

// AppendSegment appends PB-ADV segment i (0-based) of the provisioning PDU pdu
// sent as transaction number txn on link id to dst. Segment 0 is the
// Transaction Start; the rest are Transaction Continuations. It fails with
// ErrMalformed if pdu is empty or too long, or i is out of range.
func AppendSegment(dst []byte, id uint32, txn uint8, pdu []byte, i int) ([]byte, error) {
	n := Segments(len(pdu))
	if n == 0 || i < 0 || i >= n {
		return dst, ErrMalformed
	}
	dst = append(dst, byte(id>>24), byte(id>>16), byte(id>>8), byte(id), txn)
	if i == 0 {
		end := len(pdu)
		if end > StartDataMax {
			end = StartDataMax
		}
		dst = append(dst, byte(n-1)<<2|byte(GPCFTransactionStart), byte(len(pdu)>>8), byte(len(pdu)), FCS(pdu))
		return append(dst, pdu[:end]...), nil
	}
	off := StartDataMax + (i-1)*ContinuationMax
	end := off + ContinuationMax
	if end > len(pdu) {
		end = len(pdu)
	}
	dst = append(dst, byte(i)<<2|byte(GPCFTransactionContinuation))
	return append(dst, pdu[off:end]...), nil
}

// AppendAck appends a Transaction Acknowledgment PDU for transaction txn.
func AppendAck(dst []byte, id uint32, txn uint8) []byte {
	return append(dst, byte(id>>24), byte(id>>16), byte(id>>8), byte(id), txn, byte(GPCFTransactionAck))
}

// AppendLinkOpen appends a Link Open message for the device uuid. Bearer
// control messages use transaction number 0.
func AppendLinkOpen(dst []byte, id uint32, uuid *[16]byte) []byte {
	dst = append(dst, byte(id>>24), byte(id>>16), byte(id>>8), byte(id), 0, byte(LinkOpen)<<2|byte(GPCFBearerControl))
	return append(dst, uuid[:]...)
}

// AppendLinkAck appends a Link Ack message.
func AppendLinkAck(dst []byte, id uint32) []byte {
	return append(dst, byte(id>>24), byte(id>>16), byte(id>>8), byte(id), 0, byte(LinkAck)<<2|byte(GPCFBearerControl))
}

// AppendLinkClose appends a Link Close message with the given reason.
func AppendLinkClose(dst []byte, id uint32, reason CloseReason) []byte {
	return append(dst, byte(id>>24), byte(id>>16), byte(id>>8), byte(id), 0, byte(LinkClose)<<2|byte(GPCFBearerControl), byte(reason))
}
