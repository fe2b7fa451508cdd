package mqtt

// Ack is a PUBACK, PUBREC, PUBREL or PUBCOMP packet (MQTT 5.0 §3.4-3.7);
// Type says which. Under MQTT 3.1.1 only ID is on the wire. Under MQTT 5 the
// reason code and the properties are omitted when they are Success and empty
// (§3.4.2.1), and the properties alone when empty.
//
// Version is an input to Decode and AppendBinary; Decode sets Type. After
// Decode, byte-slice properties alias the decoded buffer.
type Ack struct {
	Type    PacketType // TypePuback, TypePubrec, TypePubrel or TypePubcomp
	Version Version
	ID      PacketID
	Code    ReasonCode
	Props   Properties
}

// PacketType returns a.Type.
func (a *Ack) PacketType() PacketType { return a.Type }

func isAck(t PacketType) bool { return t >= TypePuback && t <= TypePubcomp }

// Decode parses a PUBACK, PUBREC, PUBREL or PUBCOMP packet under a.Version
// at the start of src, overwriting every other field, and returns its
// length.
func (a *Ack) Decode(src []byte) (int, error) {
	v, ok := a.Version.norm()
	if !ok {
		return 0, ErrVersion
	}
	h, b, n, err := bodyAny(src)
	if err != nil {
		return 0, err
	}
	if !isAck(h.Type) {
		return 0, ErrWrongType
	}
	a.Type = h.Type // flags checked by Header.Decode: PUBREL 0010 [MQTT-3.6.1-1]
	r := rd{b: b}
	a.ID = PacketID(r.u16())
	if r.err != nil {
		return 0, r.err
	}
	if a.ID == 0 {
		return 0, errZeroID // [MQTT-2.2.1-3]: the identifier of a PUBLISH with QoS > 0
	}
	a.Code, err = decodeReasonProps(&r, v, h.Type, &a.Props)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// decodeReasonProps reads the optional reason code and properties that
// end the acknowledgement-like packets under MQTT 5, or checks that nothing
// follows under 3.1.1.
func decodeReasonProps(r *rd, v Version, t PacketType, p *Properties) (ReasonCode, error) {
	if v != V5 {
		if !p.Empty() {
			p.reset()
		}
		if len(r.b) != 0 {
			return 0, errTrailing // remaining length is fixed (3.1.1 §3.4.1 ff.)
		}
		return 0, nil
	}
	if len(r.b) == 0 {
		p.reset()
		return Success, nil // §3.4.2.1: omitted means Success
	}
	code := ReasonCode(r.u8())
	if !code.ValidFor(t) {
		return 0, errReasonCode // §2.4, Table 2-6
	}
	if len(r.b) == 0 {
		p.reset()
		return code, nil // §3.4.2.2.1: property length omitted means none
	}
	decodeProps(r, t, p)
	if r.err != nil {
		return 0, r.err
	}
	if len(r.b) != 0 {
		return 0, errTrailing
	}
	return code, nil
}

// reasonPropsLen returns the length of the reason code and property
// block in the shortest form, and the property length.
func reasonPropsLen(v Version, code ReasonCode, p *Properties) (n, plen int) {
	if v != V5 {
		return 0, 0
	}
	plen = p.propsLen()
	if plen > 0 {
		return 1 + varintLen(uint32(plen)) + plen, plen
	}
	if code != Success {
		return 1, 0
	}
	return 0, 0
}

func appendReasonProps(dst []byte, n int, code ReasonCode, p *Properties, plen int) []byte {
	if n == 0 {
		return dst
	}
	dst = append(dst, byte(code))
	if n == 1 {
		return dst
	}
	return p.appendProps(dst, plen)
}

func checkReasonProps(v Version, t PacketType, code ReasonCode, p *Properties, content bool) error {
	if v != V5 {
		if code != 0 || !p.Empty() {
			return errEncReason
		}
		return nil
	}
	if !code.ValidFor(t) {
		return errEncReason
	}
	if p.Empty() {
		return nil
	}
	return p.checkEnc(t, content)
}

// EncodedLen returns the length of the packet's wire form.
func (a *Ack) EncodedLen() int {
	v, _ := a.Version.norm()
	n, _ := reasonPropsLen(v, a.Code, &a.Props)
	return packetLen(2 + n)
}

// AppendBinary appends the wire form of a to dst, omitting a Success
// reason code and empty properties.
func (a *Ack) AppendBinary(dst []byte) ([]byte, error) {
	v, ok := a.Version.norm()
	if !ok {
		return dst, errEncVersion
	}
	if !isAck(a.Type) {
		return dst, errEncType
	}
	if a.ID == 0 {
		return dst, errEncID
	}
	if err := checkReasonProps(v, a.Type, a.Code, &a.Props, false); err != nil {
		return dst, err
	}
	n, plen := reasonPropsLen(v, a.Code, &a.Props)
	dst, err := appendHeader(dst, byte(a.Type)<<4|fixedFlags[a.Type], 2+n)
	if err != nil {
		return dst, err
	}
	dst = appendU16(dst, uint16(a.ID))
	return appendReasonProps(dst, n, a.Code, &a.Props, plen), nil
}

// Clone returns a deep copy of a that aliases nothing.
func (a *Ack) Clone() *Ack {
	b := *a
	b.Props = a.Props.Clone()
	return &b
}

// Ping is a PINGREQ or PINGRESP packet (§3.12, §3.13); Type says which.
// Both are two bytes in every version.
type Ping struct {
	Type PacketType // TypePingreq or TypePingresp
}

// PacketType returns p.Type.
func (p *Ping) PacketType() PacketType { return p.Type }

// Decode parses a PINGREQ or PINGRESP at the start of src.
func (p *Ping) Decode(src []byte) (int, error) {
	h, b, n, err := bodyAny(src)
	if err != nil {
		return 0, err
	}
	if h.Type != TypePingreq && h.Type != TypePingresp {
		return 0, ErrWrongType
	}
	if len(b) != 0 {
		return 0, errTrailing // remaining length 0 (§3.12.1)
	}
	p.Type = h.Type
	return n, nil
}

// EncodedLen returns 2.
func (p *Ping) EncodedLen() int { return 2 }

// AppendBinary appends the two bytes of p.
func (p *Ping) AppendBinary(dst []byte) ([]byte, error) {
	if p.Type != TypePingreq && p.Type != TypePingresp {
		return dst, errEncType
	}
	return append(dst, byte(p.Type)<<4, 0), nil
}

// Clone returns a copy of p.
func (p *Ping) Clone() *Ping { q := *p; return &q }

// Disconnect is a DISCONNECT packet (MQTT 5.0 §3.14). Under MQTT 3.1.1 it
// is two bytes and Code and Props stay empty. Under MQTT 5 the reason code
// is omitted when it is Normal disconnection and there are no properties
// [§3.14.2.1]. Version is an input to Decode and AppendBinary.
type Disconnect struct {
	Version Version
	Code    ReasonCode
	Props   Properties
}

// PacketType returns TypeDisconnect.
func (d *Disconnect) PacketType() PacketType { return TypeDisconnect }

// Decode parses a DISCONNECT packet under d.Version at the start of src.
func (d *Disconnect) Decode(src []byte) (int, error) {
	v, ok := d.Version.norm()
	if !ok {
		return 0, ErrVersion
	}
	_, b, n, err := body(src, TypeDisconnect)
	if err != nil {
		return 0, err
	}
	r := rd{b: b}
	d.Code, err = decodeReasonProps(&r, v, TypeDisconnect, &d.Props)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// EncodedLen returns the length of the packet's wire form.
func (d *Disconnect) EncodedLen() int {
	v, _ := d.Version.norm()
	n, _ := reasonPropsLen(v, d.Code, &d.Props)
	return packetLen(n)
}

// AppendBinary appends the wire form of d to dst.
func (d *Disconnect) AppendBinary(dst []byte) ([]byte, error) {
	v, ok := d.Version.norm()
	if !ok {
		return dst, errEncVersion
	}
	if err := checkReasonProps(v, TypeDisconnect, d.Code, &d.Props, false); err != nil {
		return dst, err
	}
	n, plen := reasonPropsLen(v, d.Code, &d.Props)
	dst, err := appendHeader(dst, byte(TypeDisconnect)<<4, n)
	if err != nil {
		return dst, err
	}
	return appendReasonProps(dst, n, d.Code, &d.Props, plen), nil
}

// Clone returns a deep copy of d that aliases nothing.
func (d *Disconnect) Clone() *Disconnect {
	e := *d
	e.Props = d.Props.Clone()
	return &e
}

// Auth is an AUTH packet (MQTT 5.0 §3.15), which exists only in MQTT 5:
// Decode and AppendBinary fail with ErrVersion under 3.1.1. The reason
// code and properties are omitted when Success and empty [§3.15.2.1].
type Auth struct {
	Version Version
	Code    ReasonCode // Success, ContinueAuthentication or ReAuthenticate
	Props   Properties
}

// PacketType returns TypeAuth.
func (a *Auth) PacketType() PacketType { return TypeAuth }

// Decode parses an AUTH packet at the start of src.
func (a *Auth) Decode(src []byte) (int, error) {
	_, b, n, err := body(src, TypeAuth)
	if err != nil {
		return 0, err
	}
	if v, _ := a.Version.norm(); v != V5 {
		return 0, ErrVersion // AUTH exists only in MQTT 5 (§3.15)
	}
	r := rd{b: b}
	a.Code, err = decodeReasonProps(&r, V5, TypeAuth, &a.Props)
	if err != nil {
		return 0, err
	}
	if a.Props.Present.Has(PropAuthData) && !a.Props.Present.Has(PropAuthMethod) {
		return 0, errAuthDataNoMeth // §3.15.2.2.3
	}
	return n, nil
}

// EncodedLen returns the length of the packet's wire form.
func (a *Auth) EncodedLen() int {
	n, _ := reasonPropsLen(V5, a.Code, &a.Props)
	return packetLen(n)
}

// AppendBinary appends the wire form of a to dst.
func (a *Auth) AppendBinary(dst []byte) ([]byte, error) {
	if v, _ := a.Version.norm(); v != V5 {
		return dst, ErrVersion
	}
	if err := checkReasonProps(V5, TypeAuth, a.Code, &a.Props, false); err != nil {
		return dst, err
	}
	if a.Props.Present.Has(PropAuthData) && !a.Props.Present.Has(PropAuthMethod) {
		return dst, errEncProps
	}
	n, plen := reasonPropsLen(V5, a.Code, &a.Props)
	dst, err := appendHeader(dst, byte(TypeAuth)<<4, n)
	if err != nil {
		return dst, err
	}
	return appendReasonProps(dst, n, a.Code, &a.Props, plen), nil
}

// Clone returns a deep copy of a that aliases nothing.
func (a *Auth) Clone() *Auth {
	b := *a
	b.Props = a.Props.Clone()
	return &b
}

// Validate reports whether a would encode to a packet the strict decoder
// accepts, including the UTF-8 of string properties.
func (a *Ack) Validate() error {
	v, ok := a.Version.norm()
	if !ok {
		return errEncVersion
	}
	if !isAck(a.Type) {
		return errEncType
	}
	if a.ID == 0 {
		return errEncID
	}
	return checkReasonProps(v, a.Type, a.Code, &a.Props, true)
}

// Validate reports whether d would encode to a packet the strict decoder
// accepts, including the UTF-8 of string properties.
func (d *Disconnect) Validate() error {
	v, ok := d.Version.norm()
	if !ok {
		return errEncVersion
	}
	return checkReasonProps(v, TypeDisconnect, d.Code, &d.Props, true)
}

// Validate reports whether a would encode to a packet the strict decoder
// accepts, including the UTF-8 of string properties.
func (a *Auth) Validate() error {
	if v, _ := a.Version.norm(); v != V5 {
		return ErrVersion
	}
	if a.Props.Present.Has(PropAuthData) && !a.Props.Present.Has(PropAuthMethod) {
		return errEncProps
	}
	return checkReasonProps(V5, TypeAuth, a.Code, &a.Props, true)
}

// Validate reports whether p is a PINGREQ or PINGRESP.
func (p *Ping) Validate() error {
	if p.Type != TypePingreq && p.Type != TypePingresp {
		return errEncType
	}
	return nil
}
