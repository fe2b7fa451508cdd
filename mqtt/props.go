package mqtt

import "math/bits"

// PropID is an MQTT 5 property identifier (§2.2.2.2, Table 2-4).
type PropID uint8

// Property identifiers.
const (
	PropPayloadFormat        PropID = 0x01 // byte; PUBLISH, will
	PropMessageExpiry        PropID = 0x02 // four-byte integer; PUBLISH, will
	PropContentType          PropID = 0x03 // UTF-8 string; PUBLISH, will
	PropResponseTopic        PropID = 0x08 // UTF-8 string; PUBLISH, will
	PropCorrelationData      PropID = 0x09 // binary data; PUBLISH, will
	PropSubscriptionID       PropID = 0x0B // variable byte integer; PUBLISH, SUBSCRIBE
	PropSessionExpiry        PropID = 0x11 // four-byte integer; CONNECT, CONNACK, DISCONNECT
	PropAssignedClientID     PropID = 0x12 // UTF-8 string; CONNACK
	PropServerKeepAlive      PropID = 0x13 // two-byte integer; CONNACK
	PropAuthMethod           PropID = 0x15 // UTF-8 string; CONNECT, CONNACK, AUTH
	PropAuthData             PropID = 0x16 // binary data; CONNECT, CONNACK, AUTH
	PropRequestProblemInfo   PropID = 0x17 // byte; CONNECT
	PropWillDelay            PropID = 0x18 // four-byte integer; will
	PropRequestResponseInfo  PropID = 0x19 // byte; CONNECT
	PropResponseInfo         PropID = 0x1A // UTF-8 string; CONNACK
	PropServerReference      PropID = 0x1C // UTF-8 string; CONNACK, DISCONNECT
	PropReasonString         PropID = 0x1F // UTF-8 string; acks, DISCONNECT, AUTH
	PropReceiveMax           PropID = 0x21 // two-byte integer; CONNECT, CONNACK
	PropTopicAliasMax        PropID = 0x22 // two-byte integer; CONNECT, CONNACK
	PropTopicAlias           PropID = 0x23 // two-byte integer; PUBLISH
	PropMaxQoS               PropID = 0x24 // byte; CONNACK
	PropRetainAvailable      PropID = 0x25 // byte; CONNACK
	PropUser                 PropID = 0x26 // UTF-8 string pair; every packet with properties
	PropMaxPacketSize        PropID = 0x27 // four-byte integer; CONNECT, CONNACK
	PropWildcardSubAvailable PropID = 0x28 // byte; CONNACK
	PropSubIDAvailable       PropID = 0x29 // byte; CONNACK
	PropSharedSubAvailable   PropID = 0x2A // byte; CONNACK
	maxPropID                       = 0x2A
)

// PropType is the data type of a property's value (§1.5).
type PropType uint8

// Property data types.
const (
	PropTypeInvalid PropType = iota // not a property identifier
	PropTypeByte
	PropTypeUint16
	PropTypeUint32
	PropTypeVarint
	PropTypeString
	PropTypeBinary
	PropTypePair
)

// Type returns the data type of the property's value, or PropTypeInvalid
// for an unassigned identifier.
func (id PropID) Type() PropType { return propType[id] }

// String returns the property's name as in Table 2-4.
func (id PropID) String() string {
	if s := propNames[id]; s != "" {
		return s
	}
	return "invalid property"
}

// AllowedIn reports whether the property may appear in a packet of type t
// (use 0 for the will properties of CONNECT).
func (id PropID) AllowedIn(t PacketType) bool { return t < 16 && propAllowed[id]&(1<<t) != 0 }

// PropSet is a set of property identifiers, bit i standing for PropID i.
type PropSet uint64

// Has reports whether id is in s.
func (s PropSet) Has(id PropID) bool { return id <= maxPropID && s&(1<<id) != 0 }

// With returns s plus id.
func (s PropSet) With(id PropID) PropSet { return s | 1<<(id&63) }

// Without returns s minus id.
func (s PropSet) Without(id PropID) PropSet { return s &^ (1 << (id & 63)) }

// UserProperty is one User Property name/value pair (§3.1.2.11.8). Both
// are UTF-8 strings [MQTT-1.5.7-1]; after Decode they alias the packet.
type UserProperty struct {
	Key, Value []byte
}

// Properties holds the MQTT 5 properties of one packet (or of a will). A
// single-valued property is present, and encoded, exactly when its bit is
// in Present; the field then holds its value. Subscription identifiers and
// user properties, which may repeat, are present when their slices are
// non-empty; they keep their wire order.
//
// The spec leaves the order of properties free. Decode remembers the wire
// order and AppendBinary reproduces it, so a decoded packet re-encodes byte
// for byte (peers such as mosquitto do not sort them); properties present
// but not seen by Decode follow in ascending identifier order, which is
// also the order of a Properties built in code. [Properties.ResetOrder]
// forgets the wire order.
//
// After Decode, byte-slice fields alias the packet; Decode reuses the
// capacity of SubscriptionIDs and User, so it allocates only while those
// grow. Under MQTT 3.1.1 Properties stay empty.
type Properties struct {
	Present PropSet

	PayloadFormat        uint8  // 0x01: 0 bytes, 1 UTF-8
	MessageExpiry        uint32 // 0x02: seconds
	ContentType          []byte // 0x03
	ResponseTopic        []byte // 0x08: a topic name
	CorrelationData      []byte // 0x09
	SessionExpiry        uint32 // 0x11: seconds
	AssignedClientID     []byte // 0x12
	ServerKeepAlive      uint16 // 0x13: seconds
	AuthMethod           []byte // 0x15
	AuthData             []byte // 0x16
	RequestProblemInfo   uint8  // 0x17: 0 or 1
	WillDelay            uint32 // 0x18: seconds
	RequestResponseInfo  uint8  // 0x19: 0 or 1
	ResponseInfo         []byte // 0x1A
	ServerReference      []byte // 0x1C
	ReasonString         []byte // 0x1F
	ReceiveMax           uint16 // 0x21: non-zero
	TopicAliasMax        uint16 // 0x22
	TopicAlias           uint16 // 0x23: non-zero
	MaxQoS               uint8  // 0x24: 0 or 1
	RetainAvailable      uint8  // 0x25: 0 or 1
	MaxPacketSize        uint32 // 0x27: non-zero
	WildcardSubAvailable uint8  // 0x28: 0 or 1
	SubIDAvailable       uint8  // 0x29: 0 or 1
	SharedSubAvailable   uint8  // 0x2A: 0 or 1

	SubscriptionIDs []uint32       // 0x0B: 1..268435455; at most one in SUBSCRIBE
	User            []UserProperty // 0x26

	// order is the wire order Decode found (the first maxOrder entries),
	// which AppendBinary reproduces; see appendProps.
	order  [maxOrder]PropID
	norder uint8
}

// maxOrder is how many properties' wire order a Properties remembers.
const maxOrder = 24

// Set stores v into the numeric property id and marks it present. It
// returns false, changing nothing, if id is not a numeric property.
func (p *Properties) Set(id PropID, v uint32) bool {
	switch id {
	case PropPayloadFormat:
		p.PayloadFormat = uint8(v)
	case PropMessageExpiry:
		p.MessageExpiry = v
	case PropSessionExpiry:
		p.SessionExpiry = v
	case PropServerKeepAlive:
		p.ServerKeepAlive = uint16(v)
	case PropRequestProblemInfo:
		p.RequestProblemInfo = uint8(v)
	case PropWillDelay:
		p.WillDelay = v
	case PropRequestResponseInfo:
		p.RequestResponseInfo = uint8(v)
	case PropReceiveMax:
		p.ReceiveMax = uint16(v)
	case PropTopicAliasMax:
		p.TopicAliasMax = uint16(v)
	case PropTopicAlias:
		p.TopicAlias = uint16(v)
	case PropMaxQoS:
		p.MaxQoS = uint8(v)
	case PropRetainAvailable:
		p.RetainAvailable = uint8(v)
	case PropMaxPacketSize:
		p.MaxPacketSize = v
	case PropWildcardSubAvailable:
		p.WildcardSubAvailable = uint8(v)
	case PropSubIDAvailable:
		p.SubIDAvailable = uint8(v)
	case PropSharedSubAvailable:
		p.SharedSubAvailable = uint8(v)
	default:
		return false
	}
	p.Present = p.Present.With(id)
	return true
}

// SetBytes stores v into the string or binary property id and marks it
// present. It returns false, changing nothing, if id is not such a property.
func (p *Properties) SetBytes(id PropID, v []byte) bool {
	f := p.bytesField(id)
	if f == nil {
		return false
	}
	*f = v
	p.Present = p.Present.With(id)
	return true
}

// AddUser appends a user property.
func (p *Properties) AddUser(key, value string) {
	p.User = append(p.User, UserProperty{Key: []byte(key), Value: []byte(value)})
}

// ResetOrder makes AppendBinary write the properties in ascending
// identifier order instead of the order Decode found them in.
func (p *Properties) ResetOrder() { p.norder = 0 }

// Empty reports whether no property is present.
func (p *Properties) Empty() bool {
	return p.Present == 0 && len(p.SubscriptionIDs) == 0 && len(p.User) == 0
}

func (p *Properties) bytesField(id PropID) *[]byte {
	switch id {
	case PropContentType:
		return &p.ContentType
	case PropResponseTopic:
		return &p.ResponseTopic
	case PropCorrelationData:
		return &p.CorrelationData
	case PropAssignedClientID:
		return &p.AssignedClientID
	case PropAuthMethod:
		return &p.AuthMethod
	case PropAuthData:
		return &p.AuthData
	case PropResponseInfo:
		return &p.ResponseInfo
	case PropServerReference:
		return &p.ServerReference
	case PropReasonString:
		return &p.ReasonString
	}
	return nil
}

func (p *Properties) num(id PropID) uint32 {
	switch id {
	case PropPayloadFormat:
		return uint32(p.PayloadFormat)
	case PropMessageExpiry:
		return p.MessageExpiry
	case PropSessionExpiry:
		return p.SessionExpiry
	case PropServerKeepAlive:
		return uint32(p.ServerKeepAlive)
	case PropRequestProblemInfo:
		return uint32(p.RequestProblemInfo)
	case PropWillDelay:
		return p.WillDelay
	case PropRequestResponseInfo:
		return uint32(p.RequestResponseInfo)
	case PropReceiveMax:
		return uint32(p.ReceiveMax)
	case PropTopicAliasMax:
		return uint32(p.TopicAliasMax)
	case PropTopicAlias:
		return uint32(p.TopicAlias)
	case PropMaxQoS:
		return uint32(p.MaxQoS)
	case PropRetainAvailable:
		return uint32(p.RetainAvailable)
	case PropMaxPacketSize:
		return p.MaxPacketSize
	case PropWildcardSubAvailable:
		return uint32(p.WildcardSubAvailable)
	case PropSubIDAvailable:
		return uint32(p.SubIDAvailable)
	case PropSharedSubAvailable:
		return uint32(p.SharedSubAvailable)
	}
	return 0
}

// Clone returns a deep copy of p that aliases nothing.
func (p *Properties) Clone() Properties {
	q := *p
	for _, f := range [...]*[]byte{&q.ContentType, &q.ResponseTopic, &q.CorrelationData,
		&q.AssignedClientID, &q.AuthMethod, &q.AuthData, &q.ResponseInfo,
		&q.ServerReference, &q.ReasonString} {
		*f = cloneBytes(*f)
	}
	if p.SubscriptionIDs != nil {
		q.SubscriptionIDs = append([]uint32(nil), p.SubscriptionIDs...)
	}
	if p.User != nil {
		q.User = make([]UserProperty, len(p.User))
		for i, u := range p.User {
			q.User[i] = UserProperty{cloneBytes(u.Key), cloneBytes(u.Value)}
		}
	}
	return q
}

// reset clears p for a decode, keeping the capacity of its slices.
func (p *Properties) reset() {
	s, u := p.SubscriptionIDs, p.User
	if s != nil {
		s = s[:0]
	}
	if u != nil {
		u = u[:0]
	}
	*p = Properties{SubscriptionIDs: s, User: u}
}

// decodeProps reads a property length and the properties of a packet of
// type t (0: will) from r into p.
func decodeProps(r *rd, t PacketType, p *Properties) {
	p.reset()
	n := r.varint()
	if r.err != nil {
		return
	}
	if uint32(len(r.b)) < n {
		r.fail(errPropLen) // §2.2.2.1
		return
	}
	if n == 0 {
		return
	}
	pr := rd{b: r.b[:n:n]}
	r.b = r.b[n:]
	mask := uint16(1) << t
	for len(pr.b) > 0 && pr.err == nil {
		// The identifier is a variable byte integer; every assigned one
		// fits in one byte, so anything else is unknown (§2.2.2.2).
		idb := pr.u8()
		if idb > maxPropID || propType[idb] == PropTypeInvalid {
			r.fail(errPropID)
			return
		}
		id := PropID(idb)
		if p.norder < maxOrder {
			p.order[p.norder] = id
			p.norder++
		}
		if propAllowed[id]&mask == 0 {
			r.fail(errPropNotAllowed) // §2.2.2.2: invalid identifier for the packet type
			return
		}
		switch propType[id] {
		case PropTypeVarint: // only the subscription identifier
			v := pr.varint()
			if pr.err != nil {
				break
			}
			if v == 0 {
				r.fail(errSubIDZero) // §3.3.2.3.8, §3.8.2.1.2
				return
			}
			if t == TypeSubscribe && len(p.SubscriptionIDs) > 0 {
				r.fail(errPropRepeated) // §3.8.2.1.2
				return
			}
			p.SubscriptionIDs = append(p.SubscriptionIDs, v)
			continue
		case PropTypePair:
			k := pr.str()
			v := pr.str() // [MQTT-1.5.7-1]
			if pr.err == nil {
				p.User = append(p.User, UserProperty{k, v})
			}
			continue
		}
		if p.Present.Has(id) {
			r.fail(errPropRepeated) // "It is a Protocol Error to include ... more than once"
			return
		}
		p.Present |= 1 << id
		switch propType[id] {
		case PropTypeByte:
			v := pr.u8()
			if v > 1 { // every byte property is 0 or 1 (§3.1.2.11.6/7, §3.2.2.3.4+, §3.3.2.3.2)
				pr.fail(errPropValue)
			}
			p.Set(id, uint32(v))
		case PropTypeUint16:
			v := pr.u16()
			if v == 0 && pr.err == nil {
				switch id {
				case PropReceiveMax: // §3.1.2.11.3, §3.2.2.3.3
					pr.fail(errPropValue)
				case PropTopicAlias:
					pr.fail(errTopicAliasZero) // [MQTT-3.3.2-8]
				}
			}
			p.Set(id, uint32(v))
		case PropTypeUint32:
			v := pr.u32()
			if v == 0 && id == PropMaxPacketSize && pr.err == nil {
				pr.fail(errPropValue) // §3.1.2.11.4, §3.2.2.3.6
			}
			p.Set(id, v)
		case PropTypeString:
			v := pr.str()
			if id == PropResponseTopic && pr.err == nil {
				if err := CheckTopicName(v); err != nil {
					pr.fail(errRespTopic) // [MQTT-3.3.2-14]
				}
			}
			*p.bytesField(id) = v
		case PropTypeBinary:
			*p.bytesField(id) = pr.bin()
		}
	}
	if pr.err != nil {
		if pr.err == errShort {
			pr.err = errPropLen
		}
		r.fail(pr.err)
	}
}

// propsLen returns the encoded length of the properties, without the
// property length prefix.
func (p *Properties) propsLen() int {
	n := 0
	for s := uint64(p.Present); s != 0; s &= s - 1 {
		id := PropID(bits.TrailingZeros64(s))
		switch propType[id] {
		case PropTypeByte:
			n += 2
		case PropTypeUint16:
			n += 3
		case PropTypeUint32:
			n += 5
		case PropTypeString, PropTypeBinary:
			if f := p.bytesField(id); f != nil {
				n += 3 + len(*f)
			}
		}
	}
	for _, v := range p.SubscriptionIDs {
		n += 1 + varintLen(v)
	}
	for _, u := range p.User {
		n += 5 + len(u.Key) + len(u.Value)
	}
	return n
}

// checkEnc validates p for encoding in a packet of type t (0: will); with
// content it also checks the UTF-8 of strings and the response topic.
func (p *Properties) checkEnc(t PacketType, content bool) error {
	_, err := p.encLen(t, content)
	return err
}

// encLen is checkEnc that also returns propsLen, in one pass.
func (p *Properties) encLen(t PacketType, content bool) (int, error) {
	if uint64(p.Present)&^propMask[t] != 0 {
		return 0, errEncProps
	}
	n := 0
	for s := uint64(p.Present); s != 0; s &= s - 1 {
		id := PropID(bits.TrailingZeros64(s))
		switch propType[id] {
		case PropTypeByte:
			if p.num(id) > 1 {
				return 0, errEncPropValue
			}
			n += 2
		case PropTypeUint16:
			if p.num(id) == 0 && (id == PropReceiveMax || id == PropTopicAlias) {
				return 0, errEncPropValue
			}
			n += 3
		case PropTypeUint32:
			if id == PropMaxPacketSize && p.MaxPacketSize == 0 {
				return 0, errEncPropValue
			}
			n += 5
		case PropTypeString:
			f := *p.bytesField(id)
			if err := encStr(f, content); err != nil {
				return 0, err
			}
			if id == PropResponseTopic {
				if err := encName(f, content); err != nil {
					return 0, err
				}
			}
			n += 3 + len(f)
		case PropTypeBinary:
			f := *p.bytesField(id)
			if err := encBin(f); err != nil {
				return 0, err
			}
			n += 3 + len(f)
		}
	}
	if len(p.SubscriptionIDs) > 0 {
		if !PropSubscriptionID.AllowedIn(t) || (t == TypeSubscribe && len(p.SubscriptionIDs) > 1) {
			return 0, errEncProps
		}
		for _, v := range p.SubscriptionIDs {
			if v == 0 || v > MaxRemainingLength {
				return 0, errEncPropValue
			}
			n += 1 + varintLen(v)
		}
	}
	if len(p.User) > 0 {
		if !PropUser.AllowedIn(t) {
			return 0, errEncProps
		}
		for _, u := range p.User {
			if err := encStr(u.Key, content); err != nil {
				return 0, err
			}
			if err := encStr(u.Value, content); err != nil {
				return 0, err
			}
			n += 5 + len(u.Key) + len(u.Value)
		}
	}
	return n, nil
}

// appendProps appends the property length (plen, from propsLen) and the
// properties: first in the recorded wire order, then the rest in ascending
// identifier order. Repeated properties keep their order among themselves.
func (p *Properties) appendProps(dst []byte, plen int) []byte {
	dst = appendVarint(dst, uint32(plen))
	if plen == 0 {
		return dst
	}
	var si, ui int // next subscription identifier, next user property
	done := uint64(0)
	for _, id := range p.order[:p.norder] {
		switch id {
		case PropSubscriptionID:
			if si < len(p.SubscriptionIDs) {
				dst = appendVarint(append(dst, byte(id)), p.SubscriptionIDs[si])
				si++
			}
		case PropUser:
			if ui < len(p.User) {
				u := &p.User[ui]
				dst = appendBin(appendBin(append(dst, byte(id)), u.Key), u.Value)
				ui++
			}
		default:
			if p.Present.Has(id) && done&(1<<id) == 0 {
				dst = p.appendOne(dst, id)
				done |= 1 << id
			}
		}
	}
	s := uint64(p.Present) &^ done
	if si < len(p.SubscriptionIDs) {
		s |= 1 << PropSubscriptionID
	}
	if ui < len(p.User) {
		s |= 1 << PropUser
	}
	for ; s != 0; s &= s - 1 {
		id := PropID(bits.TrailingZeros64(s))
		switch id {
		case PropSubscriptionID:
			for _, v := range p.SubscriptionIDs[si:] {
				dst = appendVarint(append(dst, byte(id)), v)
			}
		case PropUser:
			for i := ui; i < len(p.User); i++ {
				u := &p.User[i]
				dst = appendBin(appendBin(append(dst, byte(id)), u.Key), u.Value)
			}
		default:
			dst = p.appendOne(dst, id)
		}
	}
	return dst
}

// appendOne appends the single-valued property id.
func (p *Properties) appendOne(dst []byte, id PropID) []byte {
	switch propType[id] {
	case PropTypeByte:
		return append(dst, byte(id), byte(p.num(id)))
	case PropTypeUint16:
		return appendU16(append(dst, byte(id)), uint16(p.num(id)))
	case PropTypeUint32:
		return appendU32(append(dst, byte(id)), p.num(id))
	case PropTypeString, PropTypeBinary:
		return appendBin(append(dst, byte(id)), *p.bytesField(id))
	}
	return dst
}
