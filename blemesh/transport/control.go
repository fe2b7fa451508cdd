package transport

// Transport control opcodes (Mesh Protocol 1.1 §3.6.5, Table 3.44).
const (
	OpSegmentAck                    = 0x00
	OpFriendPoll                    = 0x01
	OpFriendUpdate                  = 0x02
	OpFriendRequest                 = 0x03
	OpFriendOffer                   = 0x04
	OpFriendClear                   = 0x05
	OpFriendClearConfirm            = 0x06
	OpFriendSubscriptionListAdd     = 0x07
	OpFriendSubscriptionListRemove  = 0x08
	OpFriendSubscriptionListConfirm = 0x09
	OpHeartbeat                     = 0x0a
	// Mesh Protocol 1.1 directed forwarding (§3.6.5.11-§3.6.5.17).
	OpPathRequest             = 0x0b
	OpPathReply               = 0x0c
	OpPathConfirmation        = 0x0d
	OpPathEchoRequest         = 0x0e
	OpPathEchoReply           = 0x0f
	OpDependentNodeUpdate     = 0x10
	OpPathRequestSolicitation = 0x11
)

var opNames = [...]string{
	OpSegmentAck:                    "Segment Acknowledgment",
	OpFriendPoll:                    "Friend Poll",
	OpFriendUpdate:                  "Friend Update",
	OpFriendRequest:                 "Friend Request",
	OpFriendOffer:                   "Friend Offer",
	OpFriendClear:                   "Friend Clear",
	OpFriendClearConfirm:            "Friend Clear Confirm",
	OpFriendSubscriptionListAdd:     "Friend Subscription List Add",
	OpFriendSubscriptionListRemove:  "Friend Subscription List Remove",
	OpFriendSubscriptionListConfirm: "Friend Subscription List Confirm",
	OpHeartbeat:                     "Heartbeat",
	OpPathRequest:                   "Path Request",
	OpPathReply:                     "Path Reply",
	OpPathConfirmation:              "Path Confirmation",
	OpPathEchoRequest:               "Path Echo Request",
	OpPathEchoReply:                 "Path Echo Reply",
	OpDependentNodeUpdate:           "Dependent Node Update",
	OpPathRequestSolicitation:       "Path Request Solicitation",
}

// OpcodeName returns the specification's name of a transport control
// opcode, or "RFU".
func OpcodeName(op uint8) string {
	if int(op) < len(opNames) {
		return opNames[op]
	}
	return "RFU"
}

// SegmentAck is the Segment Acknowledgment message (opcode 0x00, Mesh
// Protocol 1.1 §3.5.2.3.1): OBO (sent on behalf of a Low Power Node),
// SeqZero and the BlockAck bit field (bit n = segment n received).
type SegmentAck struct {
	OBO      bool
	SeqZero  uint16
	BlockAck uint32
}

// Opcode returns OpSegmentAck.
func (*SegmentAck) Opcode() uint8 { return OpSegmentAck }

// EncodedLen returns 6.
func (*SegmentAck) EncodedLen() int { return 6 }

// AppendBinary appends the parameters (without the lower transport
// header octet).
func (m *SegmentAck) AppendBinary(dst []byte) ([]byte, error) {
	if m.SeqZero > 0x1fff {
		return dst, FieldError{"SeqZero", int(m.SeqZero)}
	}
	var b1 byte
	if m.OBO {
		b1 = 0x80
	}
	b1 |= byte(m.SeqZero >> 6)
	return append(dst, b1, byte(m.SeqZero<<2), byte(m.BlockAck>>24), byte(m.BlockAck>>16), byte(m.BlockAck>>8), byte(m.BlockAck)), nil
}

// Decode parses the parameters.
func (m *SegmentAck) Decode(src []byte) (int, error) {
	if len(src) < 6 {
		return 0, ErrShort
	}
	if len(src) > 6 {
		return 0, ErrLong
	}
	if src[1]&3 != 0 {
		return 0, ErrMalformed // RFU
	}
	m.OBO = src[0]&0x80 != 0
	m.SeqZero = uint16(src[0]&0x7f)<<6 | uint16(src[1]>>2)
	m.BlockAck = be32(src[2:])
	return 6, nil
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// FriendPoll (0x01, §3.6.5.1): FSN, the friend sequence number.
type FriendPoll struct{ FSN uint8 }

// Opcode returns OpFriendPoll.
func (*FriendPoll) Opcode() uint8 { return OpFriendPoll }

// EncodedLen returns 1.
func (*FriendPoll) EncodedLen() int { return 1 }

// AppendBinary appends the parameters.
func (m *FriendPoll) AppendBinary(dst []byte) ([]byte, error) {
	if m.FSN > 1 {
		return dst, FieldError{"FSN", int(m.FSN)}
	}
	return append(dst, m.FSN), nil
}

// Decode parses the parameters.
func (m *FriendPoll) Decode(src []byte) (int, error) {
	if len(src) != 1 {
		return 0, lenErr(len(src), 1)
	}
	if src[0] > 1 {
		return 0, ErrMalformed // Padding bits are Prohibited
	}
	m.FSN = src[0]
	return 1, nil
}

func lenErr(got, want int) error {
	if got < want {
		return ErrShort
	}
	return ErrLong
}

// FriendUpdate (0x02, §3.6.5.2): Flags (bit 0 Key Refresh, bit 1 IV
// Update), the current IV Index, and MD (more data queued).
type FriendUpdate struct {
	Flags   uint8
	IVIndex uint32
	MD      uint8
}

// Opcode returns OpFriendUpdate.
func (*FriendUpdate) Opcode() uint8 { return OpFriendUpdate }

// EncodedLen returns 6.
func (*FriendUpdate) EncodedLen() int { return 6 }

// AppendBinary appends the parameters.
func (m *FriendUpdate) AppendBinary(dst []byte) ([]byte, error) {
	if m.MD > 1 {
		return dst, FieldError{"MD", int(m.MD)}
	}
	return append(dst, m.Flags, byte(m.IVIndex>>24), byte(m.IVIndex>>16), byte(m.IVIndex>>8), byte(m.IVIndex), m.MD), nil
}

// Decode parses the parameters.
func (m *FriendUpdate) Decode(src []byte) (int, error) {
	if len(src) != 6 {
		return 0, lenErr(len(src), 6)
	}
	if src[5] > 1 {
		return 0, ErrMalformed
	}
	m.Flags, m.IVIndex, m.MD = src[0], be32(src[1:]), src[5]
	return 6, nil
}

// FriendRequest (0x03, §3.6.5.3). Criteria packs RSSIFactor (bits 5-6),
// ReceiveWindowFactor (bits 3-4) and MinQueueSizeLog (bits 0-2); PollTimeout
// is 24 bits in units of 100 ms.
type FriendRequest struct {
	Criteria        uint8
	ReceiveDelay    uint8 // ms
	PollTimeout     uint32
	PreviousAddress uint16
	NumElements     uint8
	LPNCounter      uint16
}

// Opcode returns OpFriendRequest.
func (*FriendRequest) Opcode() uint8 { return OpFriendRequest }

// EncodedLen returns 10.
func (*FriendRequest) EncodedLen() int { return 10 }

// RSSIFactor, ReceiveWindowFactor and MinQueueSizeLog unpack Criteria.
func (m *FriendRequest) RSSIFactor() uint8          { return m.Criteria >> 5 & 3 }
func (m *FriendRequest) ReceiveWindowFactor() uint8 { return m.Criteria >> 3 & 3 }
func (m *FriendRequest) MinQueueSizeLog() uint8     { return m.Criteria & 7 }

// AppendBinary appends the parameters.
func (m *FriendRequest) AppendBinary(dst []byte) ([]byte, error) {
	if m.PollTimeout > 0xffffff {
		return dst, FieldError{"PollTimeout", int(m.PollTimeout)}
	}
	return append(dst, m.Criteria, m.ReceiveDelay, byte(m.PollTimeout>>16), byte(m.PollTimeout>>8), byte(m.PollTimeout),
		byte(m.PreviousAddress>>8), byte(m.PreviousAddress), m.NumElements, byte(m.LPNCounter>>8), byte(m.LPNCounter)), nil
}

// Decode parses the parameters.
func (m *FriendRequest) Decode(src []byte) (int, error) {
	if len(src) != 10 {
		return 0, lenErr(len(src), 10)
	}
	m.Criteria, m.ReceiveDelay, m.PollTimeout = src[0], src[1], be24(src[2:])
	m.PreviousAddress, m.NumElements, m.LPNCounter = be16(src[5:]), src[7], be16(src[8:])
	return 10, nil
}

// FriendOffer (0x04, §3.6.5.4).
type FriendOffer struct {
	ReceiveWindow        uint8 // ms
	QueueSize            uint8
	SubscriptionListSize uint8
	RSSI                 int8 // dBm
	FriendCounter        uint16
}

// Opcode returns OpFriendOffer.
func (*FriendOffer) Opcode() uint8 { return OpFriendOffer }

// EncodedLen returns 6.
func (*FriendOffer) EncodedLen() int { return 6 }

// AppendBinary appends the parameters.
func (m *FriendOffer) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, m.ReceiveWindow, m.QueueSize, m.SubscriptionListSize, byte(m.RSSI), byte(m.FriendCounter>>8), byte(m.FriendCounter)), nil
}

// Decode parses the parameters.
func (m *FriendOffer) Decode(src []byte) (int, error) {
	if len(src) != 6 {
		return 0, lenErr(len(src), 6)
	}
	m.ReceiveWindow, m.QueueSize, m.SubscriptionListSize, m.RSSI, m.FriendCounter = src[0], src[1], src[2], int8(src[3]), be16(src[4:])
	return 6, nil
}

// FriendClear (0x05, §3.6.5.5) and, with the same layout, FriendClearConfirm
// (0x06, §3.6.5.6).
type FriendClear struct {
	LPNAddress uint16
	LPNCounter uint16
}

// FriendClearConfirm has the layout of FriendClear.
type FriendClearConfirm FriendClear

// Opcode returns OpFriendClear.
func (*FriendClear) Opcode() uint8 { return OpFriendClear }

// Opcode returns OpFriendClearConfirm.
func (*FriendClearConfirm) Opcode() uint8 { return OpFriendClearConfirm }

// EncodedLen returns 4.
func (*FriendClear) EncodedLen() int { return 4 }

// EncodedLen returns 4.
func (*FriendClearConfirm) EncodedLen() int { return 4 }

// AppendBinary appends the parameters.
func (m *FriendClear) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(m.LPNAddress>>8), byte(m.LPNAddress), byte(m.LPNCounter>>8), byte(m.LPNCounter)), nil
}

// AppendBinary appends the parameters.
func (m *FriendClearConfirm) AppendBinary(dst []byte) ([]byte, error) {
	return (*FriendClear)(m).AppendBinary(dst)
}

// Decode parses the parameters.
func (m *FriendClear) Decode(src []byte) (int, error) {
	if len(src) != 4 {
		return 0, lenErr(len(src), 4)
	}
	m.LPNAddress, m.LPNCounter = be16(src), be16(src[2:])
	return 4, nil
}

// Decode parses the parameters.
func (m *FriendClearConfirm) Decode(src []byte) (int, error) { return (*FriendClear)(m).Decode(src) }

// FriendSubscriptionList is Friend Subscription List Add (0x07) or Remove
// (0x08) (§3.6.5.7-§3.6.5.8): a transaction number and a list of group or
// virtual addresses. Addresses aliases the decoded buffer as big-endian
// octet pairs; use Address(i) and Len to read them.
type FriendSubscriptionList struct {
	Remove            bool // opcode 0x08 instead of 0x07
	TransactionNumber uint8
	Addresses         []byte
}

// Opcode returns OpFriendSubscriptionListAdd or OpFriendSubscriptionListRemove.
func (m *FriendSubscriptionList) Opcode() uint8 {
	if m.Remove {
		return OpFriendSubscriptionListRemove
	}
	return OpFriendSubscriptionListAdd
}

// Len returns the number of addresses.
func (m *FriendSubscriptionList) Len() int { return len(m.Addresses) / 2 }

// Address returns the i-th address.
func (m *FriendSubscriptionList) Address(i int) uint16 { return be16(m.Addresses[2*i:]) }

// EncodedLen returns the parameter length.
func (m *FriendSubscriptionList) EncodedLen() int { return 1 + len(m.Addresses) }

// AppendBinary appends the parameters.
func (m *FriendSubscriptionList) AppendBinary(dst []byte) ([]byte, error) {
	if len(m.Addresses)%2 != 0 || len(m.Addresses) == 0 {
		return dst, ErrMalformed
	}
	if m.EncodedLen() > MaxControlPDULen {
		return dst, ErrLong
	}
	dst = append(dst, m.TransactionNumber)
	return append(dst, m.Addresses...), nil
}

// Decode parses the parameters; Addresses aliases src.
func (m *FriendSubscriptionList) Decode(src []byte) (int, error) {
	if len(src) < 3 {
		return 0, ErrShort
	}
	if len(src) > MaxControlPDULen {
		return 0, ErrLong
	}
	if (len(src)-1)%2 != 0 {
		return 0, ErrMalformed
	}
	m.TransactionNumber, m.Addresses = src[0], src[1:]
	return len(src), nil
}

// FriendSubscriptionListConfirm (0x09, §3.6.5.9).
type FriendSubscriptionListConfirm struct{ TransactionNumber uint8 }

// Opcode returns OpFriendSubscriptionListConfirm.
func (*FriendSubscriptionListConfirm) Opcode() uint8 { return OpFriendSubscriptionListConfirm }

// EncodedLen returns 1.
func (*FriendSubscriptionListConfirm) EncodedLen() int { return 1 }

// AppendBinary appends the parameters.
func (m *FriendSubscriptionListConfirm) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, m.TransactionNumber), nil
}

// Decode parses the parameters.
func (m *FriendSubscriptionListConfirm) Decode(src []byte) (int, error) {
	if len(src) != 1 {
		return 0, lenErr(len(src), 1)
	}
	m.TransactionNumber = src[0]
	return 1, nil
}

// Heartbeat (0x0a, §3.6.5.10): the initial TTL (7 bits) and the Features
// bit field (Relay, Proxy, Friend, Low Power).
type Heartbeat struct {
	InitTTL  uint8
	Features uint16
}

// Opcode returns OpHeartbeat.
func (*Heartbeat) Opcode() uint8 { return OpHeartbeat }

// EncodedLen returns 3.
func (*Heartbeat) EncodedLen() int { return 3 }

// AppendBinary appends the parameters.
func (m *Heartbeat) AppendBinary(dst []byte) ([]byte, error) {
	if m.InitTTL > 0x7f {
		return dst, FieldError{"InitTTL", int(m.InitTTL)}
	}
	return append(dst, m.InitTTL, byte(m.Features>>8), byte(m.Features)), nil
}

// Decode parses the parameters.
func (m *Heartbeat) Decode(src []byte) (int, error) {
	if len(src) != 3 {
		return 0, lenErr(len(src), 3)
	}
	if src[0]&0x80 != 0 {
		return 0, ErrMalformed // RFU
	}
	m.InitTTL, m.Features = src[0], be16(src[1:])
	return 3, nil
}

// ControlMessage is implemented by the transport control message types.
type ControlMessage interface {
	Opcode() uint8
	EncodedLen() int
	AppendBinary(dst []byte) ([]byte, error)
	Decode(src []byte) (int, error)
}

// ControlSet holds one value of each control message type, so that a
// receiver decodes any control PDU without allocating (the expert tier of
// STYLE R8).
type ControlSet struct {
	SegmentAck                    SegmentAck
	FriendPoll                    FriendPoll
	FriendUpdate                  FriendUpdate
	FriendRequest                 FriendRequest
	FriendOffer                   FriendOffer
	FriendClear                   FriendClear
	FriendClearConfirm            FriendClearConfirm
	FriendSubscriptionList        FriendSubscriptionList
	FriendSubscriptionListConfirm FriendSubscriptionListConfirm
	Heartbeat                     Heartbeat
}

// Decode parses the parameters of a control message with the given opcode
// into the matching field of s and returns that field. Opcodes without a
// codec here (RFU, and the Mesh 1.1 directed forwarding messages) return
// ErrOpcode.
func (s *ControlSet) Decode(opcode uint8, params []byte) (ControlMessage, error) {
	// Concrete calls (not through the interface) keep params from escaping.
	var err error
	var m ControlMessage
	switch opcode {
	case OpSegmentAck:
		_, err = s.SegmentAck.Decode(params)
		m = &s.SegmentAck
	case OpFriendPoll:
		_, err = s.FriendPoll.Decode(params)
		m = &s.FriendPoll
	case OpFriendUpdate:
		_, err = s.FriendUpdate.Decode(params)
		m = &s.FriendUpdate
	case OpFriendRequest:
		_, err = s.FriendRequest.Decode(params)
		m = &s.FriendRequest
	case OpFriendOffer:
		_, err = s.FriendOffer.Decode(params)
		m = &s.FriendOffer
	case OpFriendClear:
		_, err = s.FriendClear.Decode(params)
		m = &s.FriendClear
	case OpFriendClearConfirm:
		_, err = s.FriendClearConfirm.Decode(params)
		m = &s.FriendClearConfirm
	case OpFriendSubscriptionListAdd, OpFriendSubscriptionListRemove:
		s.FriendSubscriptionList.Remove = opcode == OpFriendSubscriptionListRemove
		_, err = s.FriendSubscriptionList.Decode(params)
		m = &s.FriendSubscriptionList
	case OpFriendSubscriptionListConfirm:
		_, err = s.FriendSubscriptionListConfirm.Decode(params)
		m = &s.FriendSubscriptionListConfirm
	case OpHeartbeat:
		_, err = s.Heartbeat.Decode(params)
		m = &s.Heartbeat
	default:
		return nil, ErrOpcode
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Clone returns a copy of m whose Addresses do not alias m's.
func (m *FriendSubscriptionList) Clone() FriendSubscriptionList {
	c := *m
	if m.Addresses != nil {
		c.Addresses = append(make([]byte, 0, len(m.Addresses)), m.Addresses...)
	}
	return c
}
