package bearer

import (
	"errors"
	"strconv"
)

// AD types of the advertising bearer (Bluetooth Assigned Numbers, Common Data
// Types; Mesh Protocol 1.1 §3.3.1, §5.2.1).
const (
	TypePBADV   = 0x29 // PB-ADV: a provisioning bearer PDU
	TypeMessage = 0x2a // Mesh Message: a network PDU
	TypeBeacon  = 0x2b // Mesh Beacon
)

// Sizes of legacy advertising data.
const (
	// MaxADLen is the advertising data of one legacy advertisement.
	MaxADLen = 31
	// MaxPayloadLen is the largest payload of one mesh AD structure: 31
	// octets minus the length and type octets.
	MaxPayloadLen = MaxADLen - 2
)

// Errors of the AD codec.
var (
	ErrShort = errors.New("blemesh/bearer: AD structure truncated")
	ErrLong  = errors.New("blemesh/bearer: AD payload too long")
	ErrEmpty = errors.New("blemesh/bearer: empty AD payload")
	ErrType  = errors.New("blemesh/bearer: not a mesh AD type")
)

// IsMeshType reports whether t is one of the three mesh AD types.
func IsMeshType(t uint8) bool { return t == TypePBADV || t == TypeMessage || t == TypeBeacon }

// Adv is one mesh AD structure: Length || AD Type || Payload. Payload
// aliases the buffer it was decoded from; see [Adv.Clone]. It is a plain
// value, not safe for concurrent mutation.
type Adv struct {
	Type    uint8
	Payload []byte
}

// EncodedLen returns 2 + len(Payload).
func (a *Adv) EncodedLen() int { return 2 + len(a.Payload) }

// AppendBinary appends the AD structure to dst. It fails for a type that is
// not a mesh type, an empty payload or one over [MaxPayloadLen].
func (a *Adv) AppendBinary(dst []byte) ([]byte, error) {
	if !IsMeshType(a.Type) {
		return dst, ErrType
	}
	if len(a.Payload) == 0 {
		return dst, ErrEmpty
	}
	if len(a.Payload) > MaxPayloadLen {
		return dst, ErrLong
	}
	dst = append(dst, byte(len(a.Payload)+1), a.Type)
	return append(dst, a.Payload...), nil
}

// Decode parses one AD structure at the start of src and returns its
// length. Payload aliases src. A structure of another AD type is decoded
// too (so that callers can skip it) but Decode then returns ErrType along
// with its length; use [Iter] to walk advertising data.
func (a *Adv) Decode(src []byte) (int, error) {
	if len(src) < 1 {
		return 0, ErrShort
	}
	l := int(src[0])
	if l == 0 {
		// A zero length ends the significant part (Core Vol 3 Part C §11).
		return 1, ErrEmpty
	}
	if len(src) < 1+l {
		return 0, ErrShort
	}
	a.Type, a.Payload = src[1], src[2:1+l]
	if !IsMeshType(a.Type) {
		return 1 + l, ErrType
	}
	if len(a.Payload) == 0 {
		return 1 + l, ErrEmpty
	}
	if len(a.Payload) > MaxPayloadLen {
		return 1 + l, ErrLong
	}
	return 1 + l, nil
}

// Clone returns a copy of a whose Payload does not alias the decode buffer.
func (a *Adv) Clone() Adv {
	return Adv{Type: a.Type, Payload: append([]byte(nil), a.Payload...)}
}

// String returns a short description for logs.
func (a *Adv) String() string {
	name := "ad(" + strconv.Itoa(int(a.Type)) + ")"
	switch a.Type {
	case TypePBADV:
		name = "pb-adv"
	case TypeMessage:
		name = "message"
	case TypeBeacon:
		name = "beacon"
	}
	return name + "[" + strconv.Itoa(len(a.Payload)) + "]"
}

// Iter walks the AD structures of one advertisement's data (an LE
// Advertising Report's Data field) and yields the mesh ones, skipping the
// others. It does not allocate. The zero value yields nothing.
type Iter struct {
	data []byte
	err  error
}

// NewIter returns an iterator over data.
func NewIter(data []byte) Iter { return Iter{data: data} }

// Next decodes the next mesh AD structure into a and reports true, or
// reports false at the end of the data or on malformed data (see Err).
func (it *Iter) Next(a *Adv) bool {
	for len(it.data) > 0 {
		n, err := a.Decode(it.data)
		switch err {
		case nil:
			it.data = it.data[n:]
			return true
		case ErrType:
			it.data = it.data[n:]
			continue
		case ErrEmpty:
			if it.data[0] == 0 {
				// Zero padding after the significant part.
				it.data = nil
				return false
			}
			it.data = it.data[n:]
			continue
		default:
			it.err = err
			it.data = nil
			return false
		}
	}
	return false
}

// Err returns the error that stopped the iteration, or nil.
func (it *Iter) Err() error { return it.err }

// Bearer is what a node needs from the advertising bearer: transmit one mesh
// AD structure. Implementations must not retain a or a.Payload after Send
// returns (copy what they queue), and should not block: a bearer that cannot
// keep up drops and counts. Receiving is the other direction: the bearer's
// owner decodes advertisements (with [Iter]) and calls the node's Receive.
type Bearer interface {
	Send(a *Adv) error
}
