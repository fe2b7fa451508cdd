package mqtt

// Connect is a CONNECT packet (MQTT 5.0 §3.1; 3.1.1 §3.1). Version selects
// the protocol name and level: V31 writes "MQIsdp" level 3, V311 (or zero)
// "MQTT" level 4, V5 "MQTT" level 5 with properties. Decode sets Version
// from the packet.
//
// After Decode, byte-slice fields alias the decoded buffer; see [Connect.Clone].
// A Connect is not safe for concurrent use while being decoded into.
type Connect struct {
	Version    Version
	CleanStart bool // Clean Session in 3.1.1
	KeepAlive  uint16
	Props      Properties // MQTT 5 only
	ClientID   []byte

	HasWill bool
	Will    Will

	HasUsername bool
	Username    []byte
	HasPassword bool
	Password    []byte
}

// Will is the will message of a CONNECT (§3.1.2.5, §3.1.3.2-4).
type Will struct {
	QoS     uint8
	Retain  bool
	Props   Properties // MQTT 5 will properties
	Topic   []byte
	Payload []byte
}

const (
	cfReserved = 0x01
	cfClean    = 0x02
	cfWill     = 0x04
	cfWillQoS  = 0x18
	cfRetain   = 0x20
	cfPassword = 0x40
	cfUsername = 0x80
)

var (
	nameMQTT   = []byte("MQTT")
	nameMQIsdp = []byte("MQIsdp")
)

// PacketType returns TypeConnect.
func (c *Connect) PacketType() PacketType { return TypeConnect }

// Decode parses a CONNECT packet at the start of src into c, overwriting
// every field, and returns its length. Fields alias src. It returns
// ErrIncomplete when src holds only part of the packet.
func (c *Connect) Decode(src []byte) (int, error) {
	flags, b, n, err := body(src, TypeConnect)
	if err != nil {
		return 0, err
	}
	_ = flags // checked by Header.Decode [MQTT-2.1.3-1]
	if err := c.decodeBody(b); err != nil {
		return 0, err
	}
	return n, nil
}

func (c *Connect) decodeBody(b []byte) error {
	r := rd{b: b}
	name := r.bin()
	level := Version(r.u8())
	if r.err != nil {
		return r.err
	}
	switch {
	case string(name) == "MQTT":
		if level != V311 && level != V5 {
			return errProtoLevel // [MQTT-3.1.2-2]
		}
	case string(name) == "MQIsdp":
		if level != V31 {
			return errProtoLevel // [MQTT-3.1.2-2]
		}
	default:
		return errProtoName // [MQTT-3.1.2-1]
	}
	fl := r.u8()
	keep := r.u16()
	if r.err != nil {
		return r.err
	}
	if fl&cfReserved != 0 {
		return errConnReserved // [MQTT-3.1.2-3]
	}
	hasWill := fl&cfWill != 0
	wq := (fl & cfWillQoS) >> 3
	if !hasWill {
		if wq != 0 {
			return errWillQoS // [MQTT-3.1.2-11]
		}
		if fl&cfRetain != 0 {
			return errWillRetain // [MQTT-3.1.2-13]
		}
	} else if wq == 3 {
		return errWillQoS3 // [MQTT-3.1.2-12]
	}
	if level != V5 && fl&cfPassword != 0 && fl&cfUsername == 0 {
		return errPassNoUser // [MQTT-3.1.2-22] (3.1.1)
	}

	// Field by field rather than *c = Connect{...}: no large temporary on
	// the (4 KiB, under TinyGo) stack, and the property slices keep their
	// capacity.
	c.Version, c.CleanStart, c.KeepAlive = level, fl&cfClean != 0, keep
	c.ClientID = nil
	c.HasWill, c.Will.QoS, c.Will.Retain, c.Will.Topic, c.Will.Payload = false, 0, false, nil, nil
	c.HasUsername, c.Username, c.HasPassword, c.Password = false, nil, false, nil
	if level == V5 {
		decodeProps(&r, TypeConnect, &c.Props)
		if r.err == nil && c.Props.Present.Has(PropAuthData) && !c.Props.Present.Has(PropAuthMethod) {
			return errAuthDataNoMeth // §3.1.2.11.10
		}
	} else {
		c.Props.reset()
	}
	c.ClientID = r.str() // [MQTT-3.1.3-4]
	if level != V5 && r.err == nil && len(c.ClientID) == 0 && !c.CleanStart {
		return errEmptyClientID // [MQTT-3.1.3-8]: identifier rejected (0x02)
	}
	c.Will.Props.reset()
	if hasWill {
		c.HasWill = true
		c.Will.QoS = wq
		c.Will.Retain = fl&cfRetain != 0
		if level == V5 {
			decodeProps(&r, 0, &c.Will.Props)
		}
		c.Will.Topic = r.str() // [MQTT-3.1.3-11]
		if r.err == nil {
			if err := CheckTopicName(c.Will.Topic); err != nil {
				return err
			}
		}
		c.Will.Payload = r.bin()
	}
	if fl&cfUsername != 0 {
		c.HasUsername = true
		c.Username = r.str() // [MQTT-3.1.3-12]
	}
	if fl&cfPassword != 0 {
		c.HasPassword = true
		c.Password = r.bin()
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return errTrailing
	}
	return nil
}

func (c *Connect) lens() (rem, plen, wplen int) {
	v, _ := c.Version.norm()
	if v == V31 {
		rem = 2 + 6 + 4
	} else {
		rem = 2 + 4 + 4
	}
	if v == V5 {
		plen = c.Props.propsLen()
		rem += varintLen(uint32(plen)) + plen
	}
	rem += 2 + len(c.ClientID)
	if c.HasWill {
		if v == V5 {
			wplen = c.Will.Props.propsLen()
			rem += varintLen(uint32(wplen)) + wplen
		}
		rem += 4 + len(c.Will.Topic) + len(c.Will.Payload)
	}
	if c.HasUsername {
		rem += 2 + len(c.Username)
	}
	if c.HasPassword {
		rem += 2 + len(c.Password)
	}
	return
}

// EncodedLen returns the length of the packet's wire form.
func (c *Connect) EncodedLen() int {
	rem, _, _ := c.lens()
	return packetLen(rem)
}

// AppendBinary appends the wire form of c to dst. It rejects values that
// break the structural rules Decode enforces; it does not scan the bytes
// of strings (see [Connect.Validate]).
func (c *Connect) AppendBinary(dst []byte) ([]byte, error) {
	v, ok := c.Version.norm()
	if !ok {
		return dst, errEncVersion
	}
	if err := c.checkEnc(v, false); err != nil {
		return dst, err
	}
	rem, plen, wplen := c.lens()
	dst, err := appendHeader(dst, byte(TypeConnect)<<4, rem)
	if err != nil {
		return dst, err
	}
	if v == V31 {
		dst = appendBin(dst, nameMQIsdp)
	} else {
		dst = appendBin(dst, nameMQTT)
	}
	var fl byte
	if c.CleanStart {
		fl |= cfClean
	}
	if c.HasWill {
		fl |= cfWill | c.Will.QoS<<3
		if c.Will.Retain {
			fl |= cfRetain
		}
	}
	if c.HasPassword {
		fl |= cfPassword
	}
	if c.HasUsername {
		fl |= cfUsername
	}
	dst = append(dst, byte(v), fl)
	dst = appendU16(dst, c.KeepAlive)
	if v == V5 {
		dst = c.Props.appendProps(dst, plen)
	}
	dst = appendBin(dst, c.ClientID)
	if c.HasWill {
		if v == V5 {
			dst = c.Will.Props.appendProps(dst, wplen)
		}
		dst = appendBin(dst, c.Will.Topic)
		dst = appendBin(dst, c.Will.Payload)
	}
	if c.HasUsername {
		dst = appendBin(dst, c.Username)
	}
	if c.HasPassword {
		dst = appendBin(dst, c.Password)
	}
	return dst, nil
}

// Validate reports whether c would encode to a packet the strict decoder
// accepts: the checks of AppendBinary plus the UTF-8 of strings and the
// will topic's syntax, which AppendBinary leaves to the caller.
func (c *Connect) Validate() error {
	v, ok := c.Version.norm()
	if !ok {
		return errEncVersion
	}
	return c.checkEnc(v, true)
}

func (c *Connect) checkEnc(v Version, content bool) error {
	if v == V5 {
		if err := c.Props.checkEnc(TypeConnect, content); err != nil {
			return err
		}
		if c.Props.Present.Has(PropAuthData) && !c.Props.Present.Has(PropAuthMethod) {
			return errEncProps
		}
	} else if !c.Props.Empty() || (c.HasWill && !c.Will.Props.Empty()) {
		return errEncProps
	}
	if v != V5 && c.HasPassword && !c.HasUsername {
		return errEncProps // [MQTT-3.1.2-22]
	}
	if v != V5 && len(c.ClientID) == 0 && !c.CleanStart {
		return errEncClientID // [MQTT-3.1.3-8]
	}
	if err := encStr(c.ClientID, content); err != nil {
		return err
	}
	if c.HasWill {
		if c.Will.QoS > 2 {
			return errEncWill
		}
		if err := encName(c.Will.Topic, content); err != nil {
			return err
		}
		if err := encBin(c.Will.Payload); err != nil {
			return err
		}
		if v == V5 {
			if err := c.Will.Props.checkEnc(0, content); err != nil {
				return err
			}
		}
	}
	if c.HasUsername {
		if err := encStr(c.Username, content); err != nil {
			return err
		}
	}
	if c.HasPassword {
		if err := encBin(c.Password); err != nil {
			return err
		}
	}
	return nil
}

// Clone returns a deep copy of c that aliases nothing.
func (c *Connect) Clone() *Connect {
	d := *c
	d.Props = c.Props.Clone()
	d.ClientID = cloneBytes(c.ClientID)
	d.Will.Props = c.Will.Props.Clone()
	d.Will.Topic = cloneBytes(c.Will.Topic)
	d.Will.Payload = cloneBytes(c.Will.Payload)
	d.Username = cloneBytes(c.Username)
	d.Password = cloneBytes(c.Password)
	return &d
}
