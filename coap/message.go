package coap

// MaxOptions bounds the options [Message.Decode] accepts in one message; a
// datagram with more is a [FormatTooManyOptions] error. It keeps the
// reusable Options slice, and the work per datagram, bounded.
const MaxOptions = 256

// Version is the only CoAP version (RFC 7252 §3).
const Version = 1

const payloadMarker = 0xff

// Message is a CoAP message (RFC 7252 §3).
//
// After [Message.Decode], Options values and Payload alias the decoded
// datagram and are valid only until it is reused; [Message.Clone] makes an
// independent copy. The option helpers (AddOption, SetUint, SetPath, ...)
// keep Options sorted by number, as the wire format needs, and copy string
// and integer values into storage owned by the Message, which is reused
// after [Message.Reset]. Copying a Message value shares that storage: use
// Clone. A Message is not safe for concurrent use.
type Message struct {
	Type      Type
	Code      Code
	MessageID MessageID
	Token     Token
	// Options in ascending number order; repeated options keep their
	// relative order.
	Options []Option
	// Payload is the bytes after the payload marker (nil if none).
	Payload []byte

	scratch []byte // backing store for values set by the helpers
}

// Reset clears m for reuse, keeping the capacity of Options and of the
// helpers' value storage.
func (m *Message) Reset() {
	clear(m.Options)
	*m = Message{Options: m.Options[:0], scratch: m.scratch[:0]}
}

// Decode parses the datagram src into m, overwriting every field, and
// returns len(src). Options and Payload alias src.
//
// Errors: [ErrShort] (nothing is filled in), [ErrVersion] (only Type is
// unreliable; ignore the message), or a [FormatError] matching [ErrFormat],
// in which case Type, Code and MessageID are set so that the receiver can
// answer with a Reset (RFC 7252 §4.2, §4.3).
func (m *Message) Decode(src []byte) (int, error) {
	opts := m.Options[:0]
	*m = Message{Options: opts, scratch: m.scratch[:0]}
	if len(src) < 4 {
		return 0, ErrShort
	}
	h := src[0]
	m.Type = Type(h >> 4 & 3)
	m.Code = Code(src[1])
	m.MessageID = MessageID(uint16(src[2])<<8 | uint16(src[3]))
	if h>>6 != Version {
		return 0, ErrVersion
	}
	tkl := int(h & 0x0f)
	if tkl > 8 {
		return 0, FormatTokenLength
	}
	if m.Code == Empty {
		// §4.1: an Empty message has TKL 0 and nothing after the Message ID.
		if tkl != 0 || len(src) != 4 {
			return 0, FormatEmptyNotEmpty
		}
		if m.Type == NonConfirmable {
			return 0, FormatNonEmpty // §4.3
		}
		return 4, nil
	}
	switch m.Code.Class() {
	case 1, 6, 7:
		return 0, FormatReservedClass
	}
	if m.Type == Reset {
		return 0, FormatResetNotEmpty // §4.2
	}
	if m.Type == Acknowledgement && m.Code.Class() == 0 {
		return 0, FormatAckRequest // §4.2: an ACK carries a response or is Empty
	}
	if len(src) < 4+tkl {
		return 0, FormatTruncated
	}
	m.Token.n = uint8(copy(m.Token.b[:], src[4:4+tkl]))
	p := src[4+tkl:]
	num := 0
	for len(p) > 0 {
		b := p[0]
		if b == payloadMarker {
			if len(p) == 1 {
				return 0, FormatEmptyPayload // §3: marker then zero-length payload
			}
			m.Payload = p[1:]
			break
		}
		p = p[1:]
		delta, length := int(b>>4), int(b&0x0f)
		var err error
		if delta, p, err = extended(delta, p); err != nil {
			return 0, err
		}
		if length, p, err = extended(length, p); err != nil {
			return 0, err
		}
		num += delta
		if num > 0xffff {
			return 0, FormatOptionNumber
		}
		if length > len(p) {
			return 0, FormatTruncated
		}
		if len(opts) == MaxOptions {
			return 0, FormatTooManyOptions
		}
		opts = append(opts, Option{ID: OptionID(num), Value: p[:length:length]})
		p = p[length:]
	}
	m.Options = opts
	return len(src), nil
}

// extended reads the extended form of an option delta or length nibble
// v (§3.1).
func extended(v int, p []byte) (int, []byte, error) {
	switch v {
	case 13:
		if len(p) < 1 {
			return 0, p, FormatTruncated
		}
		return int(p[0]) + 13, p[1:], nil
	case 14:
		if len(p) < 2 {
			return 0, p, FormatTruncated
		}
		return int(p[0])<<8 | int(p[1]) + 269, p[2:], nil
	case 15:
		return 0, p, FormatReservedNibble
	}
	return v, p, nil
}

// EncodedLen returns the length of the wire form of m, assuming its options
// are in order (see [Message.AppendBinary]).
func (m *Message) EncodedLen() int {
	n := 4 + m.Token.Len()
	prev := 0
	for _, o := range m.Options {
		n += 1 + extLen(int(o.ID)-prev) + extLen(len(o.Value)) + len(o.Value)
		prev = int(o.ID)
	}
	if len(m.Payload) > 0 {
		n += 1 + len(m.Payload)
	}
	return n
}

func extLen(v int) int {
	switch {
	case v < 13:
		return 0
	case v < 269:
		return 1
	}
	return 2
}

// AppendBinary appends the wire form of m to dst and returns the extended
// slice; it implements encoding.BinaryAppender and allocates only if dst
// lacks room. It fails with [ErrOptionOrder] if Options are not sorted and
// [ErrOptionTooLong] for a value the format cannot carry. An empty Payload
// is sent without a payload marker.
func (m *Message) AppendBinary(dst []byte) ([]byte, error) {
	tkl := m.Token.Len()
	dst = append(dst, Version<<6|byte(m.Type&3)<<4|byte(tkl), byte(m.Code), byte(m.MessageID>>8), byte(m.MessageID))
	dst = append(dst, m.Token.b[:tkl]...)
	var err error
	if dst, err = AppendOptions(dst, 0, m.Options); err != nil {
		return dst, err
	}
	if len(m.Payload) > 0 {
		dst = append(dst, payloadMarker)
		dst = append(dst, m.Payload...)
	}
	return dst, nil
}

// AppendOptions appends the wire form of opts, which must be sorted and
// follow an option numbered prev (0 at the start of a message), to dst. It
// lets an endpoint encode the options of a notification once for many
// observers.
func AppendOptions(dst []byte, prev OptionID, opts []Option) ([]byte, error) {
	for i := range opts {
		o := &opts[i]
		if o.ID < prev {
			return dst, ErrOptionOrder
		}
		if len(o.Value) > 0xffff+269 {
			return dst, ErrOptionTooLong
		}
		d, l := int(o.ID-prev), len(o.Value)
		dn, ln := nibble(d), nibble(l)
		dst = append(dst, dn<<4|ln)
		dst = appendExt(dst, dn, d)
		dst = appendExt(dst, ln, l)
		dst = append(dst, o.Value...)
		prev = o.ID
	}
	return dst, nil
}

func nibble(v int) byte {
	switch {
	case v < 13:
		return byte(v)
	case v < 269:
		return 13
	}
	return 14
}

func appendExt(dst []byte, n byte, v int) []byte {
	switch n {
	case 13:
		return append(dst, byte(v-13))
	case 14:
		v -= 269
		return append(dst, byte(v>>8), byte(v))
	}
	return dst
}

// Clone returns a deep copy of m that shares no memory with m or with the
// buffer m was decoded from. It makes two allocations (one for the
// options, one for all value bytes and the payload).
func (m *Message) Clone() *Message {
	c := new(Message)
	m.CloneInto(c)
	return c
}

// CloneInto makes c a deep copy of m, reusing c's storage where it is big
// enough.
func (m *Message) CloneInto(c *Message) {
	size := len(m.Payload)
	for _, o := range m.Options {
		size += len(o.Value)
	}
	buf := c.scratch[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	opts := c.Options[:0]
	if cap(opts) < len(m.Options) {
		opts = make([]Option, 0, len(m.Options))
	}
	for _, o := range m.Options {
		s := len(buf)
		buf = append(buf, o.Value...)
		opts = append(opts, Option{ID: o.ID, Value: buf[s:len(buf):len(buf)]})
	}
	var payload []byte
	if len(m.Payload) > 0 {
		s := len(buf)
		buf = append(buf, m.Payload...)
		payload = buf[s:len(buf):len(buf)]
	}
	*c = Message{Type: m.Type, Code: m.Code, MessageID: m.MessageID, Token: m.Token,
		Options: opts, Payload: payload, scratch: buf[len(buf):]}
}

// UnmarshalBinary decodes a copy of data into m (the encoding.BinaryUnmarshaler
// contract forbids retaining data).
func (m *Message) UnmarshalBinary(data []byte) error {
	var tmp Message
	if _, err := tmp.Decode(data); err != nil {
		return err
	}
	tmp.CloneInto(m)
	return nil
}

// MarshalBinary returns the wire form of m in a new slice.
func (m *Message) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, m.EncodedLen()))
}

// Equal reports whether m and o have the same header, token, options and
// payload (a nil and an empty payload are equal).
func (m *Message) Equal(o *Message) bool {
	if m.Type != o.Type || m.Code != o.Code || m.MessageID != o.MessageID || m.Token != o.Token ||
		len(m.Options) != len(o.Options) || string(m.Payload) != string(o.Payload) {
		return false
	}
	for i := range m.Options {
		if m.Options[i].ID != o.Options[i].ID || string(m.Options[i].Value) != string(o.Options[i].Value) {
			return false
		}
	}
	return true
}

// CheckOptions applies RFC 7252 §5.4 to the options of a received
// message. An unregistered option, a registered one with a value length
// out of range (§5.4.3), and each supernumerary occurrence of a
// non-repeatable option (§5.4.5) count as unrecognised: elective ones are
// to be ignored, and the first critical one is returned with
// [ErrBadOption] (answer a CON request with 4.02 Bad Option, reject a
// response with RST). It allocates nothing.
func (m *Message) CheckOptions() (OptionID, error) {
	var prev OptionID
	for i, o := range m.Options {
		if !o.ID.Critical() {
			prev = o.ID
			continue
		}
		d := o.ID.def()
		bad := d.format == FormatUnknown || len(o.Value) < int(d.min) || len(o.Value) > int(d.max) ||
			(!d.repeatable && i > 0 && prev == o.ID)
		if bad {
			return o.ID, ErrBadOption
		}
		prev = o.ID
	}
	return 0, nil
}

// Recognised reports whether the option at index i of m.Options is
// usable: registered, of a valid length, and not a supernumerary
// occurrence of a non-repeatable option. Endpoints ignore elective options
// that are not.
func (m *Message) Recognised(i int) bool {
	o := m.Options[i]
	d := o.ID.def()
	if d.format == FormatUnknown || len(o.Value) < int(d.min) || len(o.Value) > int(d.max) {
		return false
	}
	return d.repeatable || i == 0 || m.Options[i-1].ID != o.ID
}
