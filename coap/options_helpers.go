package coap

// Option returns the value of the first option id, and whether there is
// one.
func (m *Message) Option(id OptionID) ([]byte, bool) {
	for _, o := range m.Options {
		if o.ID == id {
			return o.Value, true
		}
		if o.ID > id {
			break
		}
	}
	return nil, false
}

// HasOption reports whether m has option id.
func (m *Message) HasOption(id OptionID) bool {
	_, ok := m.Option(id)
	return ok
}

// Uint returns the first option id as an unsigned integer. ok is false if
// it is absent or longer than 4 bytes.
func (m *Message) Uint(id OptionID) (uint32, bool) {
	v, ok := m.Option(id)
	if !ok {
		return 0, false
	}
	return DecodeUint(v)
}

// AddOption inserts option id with value v after any options with the
// same or a lower number. v is not copied: it must stay valid as long as
// m is used (see [Message.AddOptionCopy]).
func (m *Message) AddOption(id OptionID, v []byte) {
	i := len(m.Options)
	for i > 0 && m.Options[i-1].ID > id {
		i--
	}
	m.Options = append(m.Options, Option{})
	copy(m.Options[i+1:], m.Options[i:])
	m.Options[i] = Option{ID: id, Value: v}
}

// AddOptionCopy is AddOption with v copied into m's own storage.
func (m *Message) AddOptionCopy(id OptionID, v []byte) {
	s := len(m.scratch)
	m.scratch = append(m.scratch, v...)
	m.AddOption(id, m.scratch[s:len(m.scratch):len(m.scratch)])
}

// AddString adds option id with the bytes of s, copied into m's storage.
func (m *Message) AddString(id OptionID, s string) {
	st := len(m.scratch)
	m.scratch = append(m.scratch, s...)
	m.AddOption(id, m.scratch[st:len(m.scratch):len(m.scratch)])
}

// SetOption replaces every option id by one with value v (not copied).
func (m *Message) SetOption(id OptionID, v []byte) {
	m.RemoveOption(id)
	m.AddOption(id, v)
}

// SetUint replaces every option id by one holding v in the shortest uint
// encoding.
func (m *Message) SetUint(id OptionID, v uint32) {
	m.RemoveOption(id)
	s := len(m.scratch)
	m.scratch = AppendUint(m.scratch, v)
	m.AddOption(id, m.scratch[s:len(m.scratch):len(m.scratch)])
}

// SetString replaces every option id by one holding a copy of s.
func (m *Message) SetString(id OptionID, s string) {
	m.RemoveOption(id)
	m.AddString(id, s)
}

// RemoveOption deletes every option id.
func (m *Message) RemoveOption(id OptionID) {
	j := 0
	for _, o := range m.Options {
		if o.ID != id {
			m.Options[j] = o
			j++
		}
	}
	clear(m.Options[j:])
	m.Options = m.Options[:j]
}

// SetPath replaces the Uri-Path options by the segments of p, split at
// '/'; a leading slash is ignored and "" or "/" means the root (no
// Uri-Path). Segments are taken as they are, without percent-decoding.
func (m *Message) SetPath(p string) { m.setSegments(URIPath, p, '/') }

// SetLocationPath is SetPath for Location-Path.
func (m *Message) SetLocationPath(p string) { m.setSegments(LocationPath, p, '/') }

// SetQuery replaces the Uri-Query options by the '&'-separated parts of q
// (a leading '?' is ignored).
func (m *Message) SetQuery(q string) {
	if len(q) > 0 && q[0] == '?' {
		q = q[1:]
	}
	m.setSegments(URIQuery, q, '&')
}

func (m *Message) setSegments(id OptionID, p string, sep byte) {
	m.RemoveOption(id)
	if len(p) > 0 && p[0] == sep {
		p = p[1:]
	}
	if p == "" {
		return
	}
	for {
		i := 0
		for i < len(p) && p[i] != sep {
			i++
		}
		m.AddString(id, p[:i])
		if i == len(p) {
			return
		}
		p = p[i+1:]
	}
}

// AppendPath appends the Uri-Path as "/a/b" ("/" when there is none) to
// dst.
func (m *Message) AppendPath(dst []byte) []byte { return m.appendSegments(dst, URIPath, '/', '/') }

// AppendQuery appends the Uri-Query options joined by '&' to dst.
func (m *Message) AppendQuery(dst []byte) []byte { return m.appendSegments(dst, URIQuery, 0, '&') }

func (m *Message) appendSegments(dst []byte, id OptionID, lead, sep byte) []byte {
	first := true
	for _, o := range m.Options {
		if o.ID != id {
			continue
		}
		if !first || lead != 0 {
			dst = append(dst, sep)
		}
		first = false
		dst = append(dst, o.Value...)
	}
	if first && lead != 0 {
		dst = append(dst, lead)
	}
	return dst
}

// Path returns the Uri-Path as "/a/b". It allocates; see AppendPath.
func (m *Message) Path() string { return string(m.AppendPath(nil)) }

// ContentFormat returns the Content-Format option.
func (m *Message) ContentFormat() (MediaType, bool) {
	v, ok := m.Uint(ContentFormat)
	return MediaType(v), ok && v <= 0xffff
}

// SetContentFormat sets the Content-Format option.
func (m *Message) SetContentFormat(cf MediaType) { m.SetUint(ContentFormat, uint32(cf)) }

// Accept returns the Accept option.
func (m *Message) Accept() (MediaType, bool) {
	v, ok := m.Uint(Accept)
	return MediaType(v), ok && v <= 0xffff
}

// Observe returns the Observe option value (RFC 7641 §2), 24 bits.
func (m *Message) Observe() (uint32, bool) {
	v, ok := m.Uint(Observe)
	return v & 0xffffff, ok
}

// MaxAgeSeconds returns Max-Age, or its default of 60 s when absent
// (RFC 7252 §5.10.5).
func (m *Message) MaxAgeSeconds() uint32 {
	if v, ok := m.Uint(MaxAge); ok {
		return v
	}
	return 60
}

// Block1 returns the Block1 option. ok is false if it is absent; err is
// [ErrBlock] if it is present but invalid.
func (m *Message) Block1() (b Block, ok bool, err error) { return m.block(Block1) }

// Block2 returns the Block2 option, as Block1 does.
func (m *Message) Block2() (b Block, ok bool, err error) { return m.block(Block2) }

func (m *Message) block(id OptionID) (Block, bool, error) {
	v, ok := m.Option(id)
	if !ok {
		return Block{}, false, nil
	}
	u, ok := DecodeUint(v)
	if !ok || len(v) > 3 {
		return Block{}, true, ErrBlock
	}
	b, err := ParseBlock(u)
	return b, true, err
}

// SetBlock1 sets the Block1 option.
func (m *Message) SetBlock1(b Block) { m.SetUint(Block1, b.Uint()) }

// SetBlock2 sets the Block2 option.
func (m *Message) SetBlock2(b Block) { m.SetUint(Block2, b.Uint()) }

// NoResponse returns the No-Response option (RFC 7967), 0 if absent.
func (m *Message) NoResponse() NoResponseMask {
	v, _ := m.Uint(NoResponse)
	return NoResponseMask(v)
}

// NoResponseMask is the value of the No-Response option (RFC 7967 §2.1):
// bits that suppress classes of responses.
type NoResponseMask uint8

// No-Response bits.
const (
	NoResponse2xx NoResponseMask = 0x02
	NoResponse4xx NoResponseMask = 0x08
	NoResponse5xx NoResponseMask = 0x10
)

// Suppresses reports whether the mask suppresses a response with code c.
func (n NoResponseMask) Suppresses(c Code) bool {
	switch c.Class() {
	case 2:
		return n&NoResponse2xx != 0
	case 4:
		return n&NoResponse4xx != 0
	case 5:
		return n&NoResponse5xx != 0
	}
	return false
}
