package mqtt

// Connack is a CONNACK packet (MQTT 5.0 §3.2). Under MQTT 3.1.1 and 3.1,
// Code carries the return code (0-5, see [ConnAccepted]) and Props stay
// empty. Version is an input to Decode and AppendBinary.
//
// After Decode, byte-slice fields alias the decoded buffer; see [Connack.Clone].
type Connack struct {
	Version        Version
	SessionPresent bool
	Code           ReasonCode
	Props          Properties
}

// PacketType returns TypeConnack.
func (c *Connack) PacketType() PacketType { return TypeConnack }

// Decode parses a CONNACK packet under c.Version at the start of src,
// overwriting every other field, and returns its length.
func (c *Connack) Decode(src []byte) (int, error) {
	v, ok := c.Version.norm()
	if !ok {
		return 0, ErrVersion
	}
	_, b, n, err := body(src, TypeConnack)
	if err != nil {
		return 0, err
	}
	r := rd{b: b}
	fl := r.u8()
	code := ReasonCode(r.u8())
	if r.err != nil {
		return 0, r.err
	}
	if fl&0xfe != 0 {
		return 0, errConnackFlags // [MQTT-3.2.2-1]
	}
	c.SessionPresent = fl&1 != 0
	c.Code = code
	if v == V5 {
		if !code.ValidFor(TypeConnack) {
			return 0, errReasonCode // §3.2.2.2
		}
		decodeProps(&r, TypeConnack, &c.Props)
		if r.err != nil {
			return 0, r.err
		}
		if c.Props.Present.Has(PropAuthData) && !c.Props.Present.Has(PropAuthMethod) {
			return 0, errAuthDataNoMeth
		}
	} else {
		c.Props.reset()
		if code > 5 {
			return 0, errReturnCode // 3.1.1 §3.2.2.3, Table 3.1
		}
	}
	if c.SessionPresent && code != 0 {
		return 0, errSessionPresent // [MQTT-3.2.2-6] (3.1.1: [MQTT-3.2.2-4])
	}
	if len(r.b) != 0 {
		return 0, errTrailing
	}
	return n, nil
}

func (c *Connack) lens() (rem, plen int) {
	rem = 2
	if v, _ := c.Version.norm(); v == V5 {
		plen = c.Props.propsLen()
		rem += varintLen(uint32(plen)) + plen
	}
	return rem, plen
}

// EncodedLen returns the length of the packet's wire form.
func (c *Connack) EncodedLen() int {
	rem, _ := c.lens()
	return packetLen(rem)
}

// AppendBinary appends the wire form of c to dst.
func (c *Connack) AppendBinary(dst []byte) ([]byte, error) {
	v, ok := c.Version.norm()
	if !ok {
		return dst, errEncVersion
	}
	if err := c.check(v, false); err != nil {
		return dst, err
	}
	rem, plen := c.lens()
	dst, err := appendHeader(dst, byte(TypeConnack)<<4, rem)
	if err != nil {
		return dst, err
	}
	var fl byte
	if c.SessionPresent {
		fl = 1
	}
	dst = append(dst, fl, byte(c.Code))
	if v == V5 {
		dst = c.Props.appendProps(dst, plen)
	}
	return dst, nil
}

// Clone returns a deep copy of c that aliases nothing.
func (c *Connack) Clone() *Connack {
	d := *c
	d.Props = c.Props.Clone()
	return &d
}

// Validate reports whether c would encode to a packet the strict decoder
// accepts, including the UTF-8 of string properties.
func (c *Connack) Validate() error {
	v, ok := c.Version.norm()
	if !ok {
		return errEncVersion
	}
	return c.check(v, true)
}

func (c *Connack) check(v Version, content bool) error {
	if v == V5 {
		if !c.Code.ValidFor(TypeConnack) {
			return errEncReason
		}
		if err := c.Props.checkEnc(TypeConnack, content); err != nil {
			return err
		}
		if c.Props.Present.Has(PropAuthData) && !c.Props.Present.Has(PropAuthMethod) {
			return errEncProps
		}
	} else if c.Code > 5 || !c.Props.Empty() {
		return errEncReason
	}
	if c.SessionPresent && c.Code != 0 {
		return errEncReason
	}
	return nil
}
