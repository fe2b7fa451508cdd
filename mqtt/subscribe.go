package mqtt

// Subscription is one topic filter of a SUBSCRIBE with its options
// (MQTT 5.0 §3.8.3.1). Under MQTT 3.1.1 only QoS is on the wire.
type Subscription struct {
	Filter            []byte // may be a shared subscription "$share/group/filter"
	QoS               uint8  // maximum QoS, 0-2
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    uint8 // 0: send retained, 1: only for new subscriptions, 2: never
}

// Subscribe is a SUBSCRIBE packet (MQTT 5.0 §3.8). Version is an input to
// Decode and AppendBinary.
//
// After Decode, filters and byte-slice properties alias the decoded buffer;
// Decode reuses the capacity of Filters, so decoding into the same
// Subscribe allocates only while it grows. See [Subscribe.Clone].
type Subscribe struct {
	Version Version
	ID      PacketID
	Props   Properties // at most one Subscription Identifier
	Filters []Subscription
}

// PacketType returns TypeSubscribe.
func (s *Subscribe) PacketType() PacketType { return TypeSubscribe }

// Decode parses a SUBSCRIBE packet under s.Version at the start of src.
func (s *Subscribe) Decode(src []byte) (int, error) {
	v, ok := s.Version.norm()
	if !ok {
		return 0, ErrVersion
	}
	_, b, n, err := body(src, TypeSubscribe) // flags 0010 [MQTT-3.8.1-1]
	if err != nil {
		return 0, err
	}
	r := rd{b: b}
	s.ID = PacketID(r.u16())
	if r.err == nil && s.ID == 0 {
		return 0, errZeroID // [MQTT-2.2.1-3]
	}
	if v == V5 {
		decodeProps(&r, TypeSubscribe, &s.Props)
	} else if !s.Props.Empty() {
		s.Props.reset()
	}
	if r.err != nil {
		return 0, r.err
	}
	if len(r.b) == 0 {
		return 0, errNoFilters // [MQTT-3.8.3-2]
	}
	s.Filters = s.Filters[:0]
	for len(r.b) > 0 {
		f := r.bin() // a UTF-8 string [MQTT-3.8.3-1]: checked by CheckTopicFilterV
		o := r.u8()
		if r.err != nil {
			return 0, r.err
		}
		if err := CheckTopicFilterV(f, v); err != nil {
			return 0, err
		}
		sub := Subscription{Filter: f, QoS: o & 3}
		if v == V5 {
			if o&0xc0 != 0 {
				return 0, errSubOptReserved // [MQTT-3.8.3-5]
			}
			if sub.QoS == 3 {
				return 0, errSubQoS3 // §3.8.3.1
			}
			sub.NoLocal = o&4 != 0
			sub.RetainAsPublished = o&8 != 0
			sub.RetainHandling = (o >> 4) & 3
			if sub.RetainHandling == 3 {
				return 0, errRetainHandling // §3.8.3.1
			}
			if sub.NoLocal && IsShared(f) {
				return 0, errSharedNoLocal // [MQTT-3.8.3-4]
			}
		} else if o&0xfc != 0 || sub.QoS == 3 {
			return 0, errSubQoS3V3 // 3.1.1 [MQTT-3.8.3-4]
		}
		s.Filters = append(s.Filters, sub)
	}
	return n, nil
}

func (s *Subscribe) lens() (rem, plen int) {
	rem = 2
	if v, _ := s.Version.norm(); v == V5 {
		plen = s.Props.propsLen()
		rem += varintLen(uint32(plen)) + plen
	}
	for i := range s.Filters {
		rem += 3 + len(s.Filters[i].Filter)
	}
	return rem, plen
}

// EncodedLen returns the length of the packet's wire form.
func (s *Subscribe) EncodedLen() int {
	rem, _ := s.lens()
	return packetLen(rem)
}

// Validate reports whether s would encode to a packet the strict decoder
// accepts: the checks of AppendBinary plus the syntax and UTF-8 of the
// topic filters, which AppendBinary leaves to the caller.
func (s *Subscribe) Validate() error {
	v, ok := s.Version.norm()
	if !ok {
		return errEncVersion
	}
	_, _, err := s.check(v, true)
	return err
}

// check validates s for encoding and returns the remaining length and
// the property length, in one pass over the filters.
func (s *Subscribe) check(v Version, content bool) (rem, plen int, err error) {
	if s.ID == 0 {
		return 0, 0, errEncID
	}
	if len(s.Filters) == 0 {
		return 0, 0, errEncFilters
	}
	rem = 2
	if v == V5 {
		if plen, err = s.Props.encLen(TypeSubscribe, content); err != nil {
			return 0, 0, err
		}
		rem += varintLen(uint32(plen)) + plen
	} else if !s.Props.Empty() {
		return 0, 0, errEncProps
	}
	for i := range s.Filters {
		f := &s.Filters[i]
		if err := encFilter(f.Filter, content, v); err != nil {
			return 0, 0, err
		}
		if f.QoS > 2 || f.RetainHandling > 2 {
			return 0, 0, errEncOptions
		}
		if v != V5 && (f.NoLocal || f.RetainAsPublished || f.RetainHandling != 0) {
			return 0, 0, errEncOptions
		}
		if v == V5 && f.NoLocal && IsShared(f.Filter) {
			return 0, 0, errEncOptions // [MQTT-3.8.3-4]
		}
		rem += 3 + len(f.Filter)
	}
	return rem, plen, nil
}

// AppendBinary appends the wire form of s to dst. It does not scan the
// bytes of the filters (see [Subscribe.Validate]).
func (s *Subscribe) AppendBinary(dst []byte) ([]byte, error) {
	v, ok := s.Version.norm()
	if !ok {
		return dst, errEncVersion
	}
	rem, plen, err := s.check(v, false)
	if err != nil {
		return dst, err
	}
	dst, err = appendHeader(dst, byte(TypeSubscribe)<<4|2, rem)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, uint16(s.ID))
	if v == V5 {
		dst = s.Props.appendProps(dst, plen)
	}
	for i := range s.Filters {
		f := &s.Filters[i]
		o := f.QoS | f.RetainHandling<<4
		if f.NoLocal {
			o |= 4
		}
		if f.RetainAsPublished {
			o |= 8
		}
		dst = append(appendBin(dst, f.Filter), o)
	}
	return dst, nil
}

// Clone returns a deep copy of s that aliases nothing.
func (s *Subscribe) Clone() *Subscribe {
	t := *s
	t.Props = s.Props.Clone()
	if s.Filters != nil {
		t.Filters = make([]Subscription, len(s.Filters))
		for i, f := range s.Filters {
			f.Filter = cloneBytes(f.Filter)
			t.Filters[i] = f
		}
	}
	return &t
}

// Unsubscribe is an UNSUBSCRIBE packet (MQTT 5.0 §3.10). Version is an
// input to Decode and AppendBinary. After Decode, Filters alias the
// decoded buffer; Decode reuses the capacity of Filters.
type Unsubscribe struct {
	Version Version
	ID      PacketID
	Props   Properties // user properties only
	Filters [][]byte
}

// PacketType returns TypeUnsubscribe.
func (u *Unsubscribe) PacketType() PacketType { return TypeUnsubscribe }

// Decode parses an UNSUBSCRIBE packet under u.Version at the start of src.
func (u *Unsubscribe) Decode(src []byte) (int, error) {
	v, ok := u.Version.norm()
	if !ok {
		return 0, ErrVersion
	}
	_, b, n, err := body(src, TypeUnsubscribe) // flags 0010 [MQTT-3.10.1-1]
	if err != nil {
		return 0, err
	}
	r := rd{b: b}
	u.ID = PacketID(r.u16())
	if r.err == nil && u.ID == 0 {
		return 0, errZeroID // [MQTT-2.2.1-3]
	}
	if v == V5 {
		decodeProps(&r, TypeUnsubscribe, &u.Props)
	} else if !u.Props.Empty() {
		u.Props.reset()
	}
	if r.err != nil {
		return 0, r.err
	}
	if len(r.b) == 0 {
		return 0, errNoFilters // [MQTT-3.10.3-2]
	}
	u.Filters = u.Filters[:0]
	for len(r.b) > 0 {
		f := r.bin() // a UTF-8 string [MQTT-3.10.3-1]: checked by CheckTopicFilterV
		if r.err != nil {
			return 0, r.err
		}
		if err := CheckTopicFilterV(f, v); err != nil {
			return 0, err
		}
		u.Filters = append(u.Filters, f)
	}
	return n, nil
}

func (u *Unsubscribe) lens() (rem, plen int) {
	rem = 2
	if v, _ := u.Version.norm(); v == V5 {
		plen = u.Props.propsLen()
		rem += varintLen(uint32(plen)) + plen
	}
	for _, f := range u.Filters {
		rem += 2 + len(f)
	}
	return rem, plen
}

// EncodedLen returns the length of the packet's wire form.
func (u *Unsubscribe) EncodedLen() int {
	rem, _ := u.lens()
	return packetLen(rem)
}

// Validate reports whether u would encode to a packet the strict decoder
// accepts, checking the filters' syntax as AppendBinary does not.
func (u *Unsubscribe) Validate() error {
	v, ok := u.Version.norm()
	if !ok {
		return errEncVersion
	}
	return u.check(v, true)
}

func (u *Unsubscribe) check(v Version, content bool) error {
	if u.ID == 0 {
		return errEncID
	}
	if len(u.Filters) == 0 {
		return errEncFilters
	}
	if v == V5 {
		if err := u.Props.checkEnc(TypeUnsubscribe, content); err != nil {
			return err
		}
	} else if !u.Props.Empty() {
		return errEncProps
	}
	for _, f := range u.Filters {
		if err := encFilter(f, content, v); err != nil {
			return err
		}
	}
	return nil
}

// AppendBinary appends the wire form of u to dst. It does not scan the
// bytes of the filters (see [Unsubscribe.Validate]).
func (u *Unsubscribe) AppendBinary(dst []byte) ([]byte, error) {
	v, ok := u.Version.norm()
	if !ok {
		return dst, errEncVersion
	}
	if err := u.check(v, false); err != nil {
		return dst, err
	}
	rem, plen := u.lens()
	dst, err := appendHeader(dst, byte(TypeUnsubscribe)<<4|2, rem)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, uint16(u.ID))
	if v == V5 {
		dst = u.Props.appendProps(dst, plen)
	}
	for _, f := range u.Filters {
		dst = appendBin(dst, f)
	}
	return dst, nil
}

// Clone returns a deep copy of u that aliases nothing.
func (u *Unsubscribe) Clone() *Unsubscribe {
	t := *u
	t.Props = u.Props.Clone()
	if u.Filters != nil {
		t.Filters = make([][]byte, len(u.Filters))
		for i, f := range u.Filters {
			t.Filters[i] = cloneBytes(f)
		}
	}
	return &t
}

// Suback is a SUBACK packet (MQTT 5.0 §3.9): one reason code per filter of
// the SUBSCRIBE, in order. Under MQTT 3.1.1 the codes are return codes 0,
// 1, 2 or 0x80. Decode reuses the capacity of Codes.
type Suback struct {
	Version Version
	ID      PacketID
	Props   Properties
	Codes   []ReasonCode
}

// PacketType returns TypeSuback.
func (s *Suback) PacketType() PacketType { return TypeSuback }

// Decode parses a SUBACK packet under s.Version at the start of src.
func (s *Suback) Decode(src []byte) (int, error) {
	return decodeCodes(src, TypeSuback, s.Version, &s.ID, &s.Props, &s.Codes)
}

// EncodedLen returns the length of the packet's wire form.
func (s *Suback) EncodedLen() int { return codesLen(s.Version, &s.Props, len(s.Codes)) }

// AppendBinary appends the wire form of s to dst.
func (s *Suback) AppendBinary(dst []byte) ([]byte, error) {
	return appendCodes(dst, TypeSuback, s.Version, s.ID, &s.Props, s.Codes)
}

// Clone returns a deep copy of s that aliases nothing.
func (s *Suback) Clone() *Suback {
	t := *s
	t.Props = s.Props.Clone()
	if s.Codes != nil {
		t.Codes = append([]ReasonCode(nil), s.Codes...)
	}
	return &t
}

// Unsuback is an UNSUBACK packet (MQTT 5.0 §3.11). Under MQTT 3.1.1 it
// carries only ID and Codes stays empty; under MQTT 5 one reason code per
// filter. Decode reuses the capacity of Codes.
type Unsuback struct {
	Version Version
	ID      PacketID
	Props   Properties
	Codes   []ReasonCode
}

// PacketType returns TypeUnsuback.
func (u *Unsuback) PacketType() PacketType { return TypeUnsuback }

// Decode parses an UNSUBACK packet under u.Version at the start of src.
func (u *Unsuback) Decode(src []byte) (int, error) {
	return decodeCodes(src, TypeUnsuback, u.Version, &u.ID, &u.Props, &u.Codes)
}

// EncodedLen returns the length of the packet's wire form.
func (u *Unsuback) EncodedLen() int { return codesLen(u.Version, &u.Props, len(u.Codes)) }

// AppendBinary appends the wire form of u to dst.
func (u *Unsuback) AppendBinary(dst []byte) ([]byte, error) {
	return appendCodes(dst, TypeUnsuback, u.Version, u.ID, &u.Props, u.Codes)
}

// Clone returns a deep copy of u that aliases nothing.
func (u *Unsuback) Clone() *Unsuback {
	t := *u
	t.Props = u.Props.Clone()
	if u.Codes != nil {
		t.Codes = append([]ReasonCode(nil), u.Codes...)
	}
	return &t
}

func decodeCodes(src []byte, t PacketType, ver Version, id *PacketID, p *Properties, codes *[]ReasonCode) (int, error) {
	v, ok := ver.norm()
	if !ok {
		return 0, ErrVersion
	}
	_, b, n, err := body(src, t)
	if err != nil {
		return 0, err
	}
	r := rd{b: b}
	*id = PacketID(r.u16())
	if r.err == nil && *id == 0 {
		return 0, errZeroID // [MQTT-2.2.1-3]
	}
	if v == V5 {
		decodeProps(&r, t, p)
	} else if !p.Empty() {
		p.reset()
	}
	if r.err != nil {
		return 0, r.err
	}
	cs := (*codes)[:0]
	if t == TypeUnsuback && v != V5 {
		if len(r.b) != 0 {
			return 0, errTrailing // 3.1.1 UNSUBACK has remaining length 2
		}
		*codes = cs
		return n, nil
	}
	if len(r.b) == 0 {
		return 0, errNoCodes // §3.9.3, §3.11.3: one per topic filter
	}
	for _, c := range r.b {
		rc := ReasonCode(c)
		if v == V5 {
			if !rc.ValidFor(t) {
				return 0, errReasonCode // §3.9.3, §3.11.3
			}
		} else if rc > 2 && rc != SubackFailure {
			return 0, errSubackCode // [MQTT-3.9.3-2] (3.1.1)
		}
		cs = append(cs, rc)
	}
	*codes = cs
	return n, nil
}

func codesLen(ver Version, p *Properties, ncodes int) int {
	rem := 2 + ncodes
	if v, _ := ver.norm(); v == V5 {
		plen := p.propsLen()
		rem += varintLen(uint32(plen)) + plen
	}
	return packetLen(rem)
}

func checkCodes(t PacketType, v Version, id PacketID, p *Properties, codes []ReasonCode, content bool) error {
	if id == 0 {
		return errEncID
	}
	if v == V5 {
		if err := p.checkEnc(t, content); err != nil {
			return err
		}
		if len(codes) == 0 {
			return errEncReason
		}
		for _, c := range codes {
			if !c.ValidFor(t) {
				return errEncReason
			}
		}
		return nil
	}
	if !p.Empty() {
		return errEncProps
	}
	if t == TypeUnsuback {
		if len(codes) != 0 {
			return errEncReason
		}
		return nil
	}
	if len(codes) == 0 {
		return errEncReason
	}
	for _, c := range codes {
		if c > 2 && c != SubackFailure {
			return errEncReason
		}
	}
	return nil
}

func validateCodes(t PacketType, ver Version, id PacketID, p *Properties, codes []ReasonCode) error {
	v, ok := ver.norm()
	if !ok {
		return errEncVersion
	}
	return checkCodes(t, v, id, p, codes, true)
}

// Validate reports whether s would encode to a packet the strict decoder
// accepts, including the UTF-8 of string properties.
func (s *Suback) Validate() error {
	return validateCodes(TypeSuback, s.Version, s.ID, &s.Props, s.Codes)
}

// Validate reports whether u would encode to a packet the strict decoder
// accepts, including the UTF-8 of string properties.
func (u *Unsuback) Validate() error {
	return validateCodes(TypeUnsuback, u.Version, u.ID, &u.Props, u.Codes)
}

func appendCodes(dst []byte, t PacketType, ver Version, id PacketID, p *Properties, codes []ReasonCode) ([]byte, error) {
	v, ok := ver.norm()
	if !ok {
		return dst, errEncVersion
	}
	if err := checkCodes(t, v, id, p, codes, false); err != nil {
		return dst, err
	}
	plen := 0
	rem := 2 + len(codes)
	if v == V5 {
		plen = p.propsLen()
		rem += varintLen(uint32(plen)) + plen
	}
	dst, err := appendHeader(dst, byte(t)<<4, rem)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, uint16(id))
	if v == V5 {
		dst = p.appendProps(dst, plen)
	}
	for _, c := range codes {
		dst = append(dst, byte(c))
	}
	return dst, nil
}
