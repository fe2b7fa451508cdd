package mqtt

import "strconv"

// PacketType is the MQTT control packet type, the high nibble of the first
// byte (§2.1.2). The zero value is reserved and never valid on the wire.
type PacketType uint8

// Control packet types.
const (
	TypeConnect     PacketType = 1
	TypeConnack     PacketType = 2
	TypePublish     PacketType = 3
	TypePuback      PacketType = 4
	TypePubrec      PacketType = 5
	TypePubrel      PacketType = 6
	TypePubcomp     PacketType = 7
	TypeSubscribe   PacketType = 8
	TypeSuback      PacketType = 9
	TypeUnsubscribe PacketType = 10
	TypeUnsuback    PacketType = 11
	TypePingreq     PacketType = 12
	TypePingresp    PacketType = 13
	TypeDisconnect  PacketType = 14
	TypeAuth        PacketType = 15
)

var typeNames = [16]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC",
	"PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ",
	"PINGRESP", "DISCONNECT", "AUTH"}

// String returns the packet type's name as the spec spells it, e.g. "PUBLISH".
func (t PacketType) String() string {
	if t < 16 {
		return typeNames[t]
	}
	return "type " + strconv.Itoa(int(t))
}

// fixedFlags holds the required low nibble of the first byte for every type
// except PUBLISH, whose flags carry DUP/QoS/RETAIN (§2.1.3, Table 2-2).
var fixedFlags = [16]uint8{TypePubrel: 2, TypeSubscribe: 2, TypeUnsubscribe: 2}

// Version is the protocol level byte of CONNECT (§3.1.2.2). Packets whose
// wire form differs by version carry a Version field; the zero value means
// MQTT 3.1.1.
type Version uint8

// Protocol versions.
const (
	V31  Version = 3 // MQTT 3.1, protocol name "MQIsdp"; wire format of 3.1.1
	V311 Version = 4 // MQTT 3.1.1
	V5   Version = 5 // MQTT 5.0
)

// String returns "3.1", "3.1.1" or "5.0"; the zero value reads "3.1.1".
func (v Version) String() string {
	switch v {
	case V31:
		return "3.1"
	case 0, V311:
		return "3.1.1"
	case V5:
		return "5.0"
	}
	return "version " + strconv.Itoa(int(v))
}

// norm maps the zero value to V311 and reports whether v is known.
func (v Version) norm() (Version, bool) {
	switch v {
	case 0:
		return V311, true
	case V31, V311, V5:
		return v, true
	}
	return v, false
}

// MaxRemainingLength is the largest remaining length a 4-byte variable byte
// integer can carry (§1.5.5): 268,435,455 bytes.
const MaxRemainingLength = 268435455

// Header is a fixed header (§2.1.1): the packet type, its four flag bits
// and the remaining length. It is a plain value; decoding one lets a reader
// learn how many more bytes the packet needs before reading them.
type Header struct {
	Type      PacketType
	Flags     uint8 // low nibble of the first byte
	Remaining int   // length of variable header plus payload
}

// Decode parses the fixed header at the start of src and returns its length
// (2 to 5 bytes). It returns ErrIncomplete when src ends inside the header.
// It checks the type, the reserved flags [MQTT-2.1.3-1] and the encoding of
// the remaining length [MQTT-1.5.5-1], not the packet's contents.
func (h *Header) Decode(src []byte) (n int, err error) {
	if len(src) == 0 {
		return 0, ErrIncomplete
	}
	b := src[0]
	t := PacketType(b >> 4)
	f := b & 0x0f
	if t == 0 {
		return 0, errReservedType
	}
	if t != TypePublish && f != fixedFlags[t] {
		return 0, errReservedFlags // [MQTT-2.1.3-1]
	}
	v, m, err := readVarint(src[1:])
	if err != nil {
		return 0, err
	}
	h.Type, h.Flags, h.Remaining = t, f, int(v)
	return 1 + m, nil
}

// Len returns the total length of the packet: header plus remaining length.
func (h Header) Len() int { return 1 + varintLen(uint32(h.Remaining)) + h.Remaining }

// AppendBinary appends the fixed header.
func (h Header) AppendBinary(dst []byte) ([]byte, error) {
	if h.Remaining < 0 || h.Remaining > MaxRemainingLength {
		return dst, errEncTooLarge
	}
	if h.Type == 0 || h.Type > 15 || h.Flags > 15 {
		return dst, errEncType
	}
	return appendVarint(append(dst, byte(h.Type)<<4|h.Flags), uint32(h.Remaining)), nil
}

// PacketLen returns the total length of the packet at the start of src,
// reading only its fixed header, so a caller doing its own I/O knows how
// much to read. It returns ErrIncomplete if the header itself is cut short,
// and ErrPacketTooLarge if the total exceeds max (max <= 0 means
// DefaultMaxPacketSize).
func PacketLen(src []byte, max int) (int, error) {
	var h Header
	n, err := h.Decode(src)
	if err != nil {
		return 0, err
	}
	if max <= 0 {
		max = DefaultMaxPacketSize
	}
	if n+h.Remaining > max {
		return 0, ErrPacketTooLarge
	}
	return n + h.Remaining, nil
}

// readVarint decodes a variable byte integer (§1.5.5). It returns
// ErrIncomplete if src ends inside it.
func readVarint(src []byte) (v uint32, n int, err error) {
	var shift uint
	for i := 0; i < 4; i++ {
		if i >= len(src) {
			return 0, 0, ErrIncomplete
		}
		b := src[i]
		v |= uint32(b&0x7f) << shift
		if b < 0x80 {
			if b == 0 && i > 0 {
				return 0, 0, errVarintMinimal // [MQTT-1.5.5-1]
			}
			return v, i + 1, nil
		}
		shift += 7
	}
	return 0, 0, errVarint // at most 4 bytes, §1.5.5
}

// readVarintIn is readVarint inside a packet whose length is known: running
// out of bytes there is a malformed packet, not an incomplete one.
func readVarintIn(src []byte) (uint32, int, error) {
	v, n, err := readVarint(src)
	if err == ErrIncomplete {
		err = errShort
	}
	return v, n, err
}

func varintLen(v uint32) int {
	switch {
	case v < 1<<7:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<21:
		return 3
	}
	return 4
}

func appendVarint(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// Packet is implemented by every packet struct: *Connect, *Connack,
// *Publish, *Ack, *Subscribe, *Suback, *Unsubscribe, *Unsuback, *Ping,
// *Disconnect and *Auth. Passing a packet through this interface makes it
// escape to the heap; hot paths call the concrete methods.
type Packet interface {
	PacketType() PacketType
	EncodedLen() int
	AppendBinary(dst []byte) ([]byte, error)
	Decode(src []byte) (int, error)
	// Validate reports whether the packet would encode to bytes the strict
	// decoder accepts. AppendBinary checks the same structural rules but
	// does not scan string contents (UTF-8, topic syntax), to keep the
	// encode path as cheap as a copy.
	Validate() error
}

// Decoded holds one packet struct of each type, for decoding any packet
// without allocating: [Decoded.Decode] (and [Framer.ReadInto]) fill the
// struct matching the packet's type and return the type. Reusing one Decoded
// reuses the capacity of its slices. Fields alias the decoded bytes.
// A Decoded is a few kilobytes: under TinyGo, whose goroutine stacks are
// 4 KiB by default on Cortex-M, allocate it with new (or make it a global)
// rather than declaring it on the stack.
type Decoded struct {
	Connect     Connect
	Connack     Connack
	Publish     Publish
	Ack         Ack // PUBACK, PUBREC, PUBREL, PUBCOMP
	Subscribe   Subscribe
	Suback      Suback
	Unsubscribe Unsubscribe
	Unsuback    Unsuback
	Ping        Ping // PINGREQ, PINGRESP
	Disconnect  Disconnect
	Auth        Auth
}

// Decode decodes the packet at the start of src, read under protocol
// version v (CONNECT reports its own), into the matching field of d, and
// returns its type and length. See the Decode methods for aliasing.
func (d *Decoded) Decode(src []byte, v Version) (PacketType, int, error) {
	if len(src) == 0 {
		return 0, 0, ErrIncomplete
	}
	var n int
	var err error
	t := PacketType(src[0] >> 4)
	switch t {
	case TypeConnect:
		n, err = d.Connect.Decode(src)
	case TypeConnack:
		d.Connack.Version = v
		n, err = d.Connack.Decode(src)
	case TypePublish:
		d.Publish.Version = v
		n, err = d.Publish.Decode(src)
	case TypePuback, TypePubrec, TypePubrel, TypePubcomp:
		d.Ack.Version = v
		n, err = d.Ack.Decode(src)
	case TypeSubscribe:
		d.Subscribe.Version = v
		n, err = d.Subscribe.Decode(src)
	case TypeSuback:
		d.Suback.Version = v
		n, err = d.Suback.Decode(src)
	case TypeUnsubscribe:
		d.Unsubscribe.Version = v
		n, err = d.Unsubscribe.Decode(src)
	case TypeUnsuback:
		d.Unsuback.Version = v
		n, err = d.Unsuback.Decode(src)
	case TypePingreq, TypePingresp:
		n, err = d.Ping.Decode(src)
	case TypeDisconnect:
		d.Disconnect.Version = v
		n, err = d.Disconnect.Decode(src)
	case TypeAuth:
		d.Auth.Version = v
		n, err = d.Auth.Decode(src)
	default:
		return 0, 0, errReservedType
	}
	return t, n, err
}

// Packet returns a pointer to the field of d that holds a packet of type t,
// or nil for an invalid type.
func (d *Decoded) Packet(t PacketType) Packet {
	switch t {
	case TypeConnect:
		return &d.Connect
	case TypeConnack:
		return &d.Connack
	case TypePublish:
		return &d.Publish
	case TypePuback, TypePubrec, TypePubrel, TypePubcomp:
		return &d.Ack
	case TypeSubscribe:
		return &d.Subscribe
	case TypeSuback:
		return &d.Suback
	case TypeUnsubscribe:
		return &d.Unsubscribe
	case TypeUnsuback:
		return &d.Unsuback
	case TypePingreq, TypePingresp:
		return &d.Ping
	case TypeDisconnect:
		return &d.Disconnect
	case TypeAuth:
		return &d.Auth
	}
	return nil
}

// body splits a packet: it decodes the fixed header of src, checks the type
// is want, and returns the flags, the body (variable header and payload)
// and the total length. ErrIncomplete means src is shorter than the packet.
func body(src []byte, want PacketType) (flags uint8, b []byte, n int, err error) {
	var h Header
	hn, err := h.Decode(src)
	if err != nil {
		return 0, nil, 0, err
	}
	if h.Type != want {
		return 0, nil, 0, ErrWrongType
	}
	n = hn + h.Remaining
	if len(src) < n {
		return 0, nil, 0, ErrIncomplete
	}
	return h.Flags, src[hn:n:n], n, nil
}

// ackBody is body for the four acknowledgement types.
func bodyAny(src []byte) (h Header, b []byte, n int, err error) {
	hn, err := h.Decode(src)
	if err != nil {
		return h, nil, 0, err
	}
	n = hn + h.Remaining
	if len(src) < n {
		return h, nil, 0, ErrIncomplete
	}
	return h, src[hn:n:n], n, nil
}

// appendHeader appends the fixed header for a body of length rem.
func appendHeader(dst []byte, first byte, rem int) ([]byte, error) {
	if rem > MaxRemainingLength {
		return dst, errEncTooLarge
	}
	return appendVarint(append(dst, first), uint32(rem)), nil
}

// packetLen is the total length for a remaining length rem.
func packetLen(rem int) int { return 1 + varintLen(uint32(rem)) + rem }
