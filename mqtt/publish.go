package mqtt

// PacketID is a packet identifier (§2.2.1). Zero means "none": a QoS 0
// PUBLISH has none, and every packet that carries one needs it non-zero
// [MQTT-2.2.1-3].
type PacketID uint16

// Publish is a PUBLISH packet (MQTT 5.0 §3.3). Version is an input to
// Decode and AppendBinary (zero: 3.1.1).
//
// After Decode, Topic, Payload and the byte-slice properties alias the
// decoded buffer and are valid only until it is reused; call
// [Publish.Clone] to retain them. A Publish is a plain value; it is not
// safe for concurrent use while being decoded into.
type Publish struct {
	Version Version
	Dup     bool
	QoS     uint8
	Retain  bool
	Topic   []byte // may be empty under MQTT 5 when Props carries a Topic Alias
	ID      PacketID
	Props   Properties
	Payload []byte
}

// PacketType returns TypePublish.
func (p *Publish) PacketType() PacketType { return TypePublish }

// Decode parses a PUBLISH packet under p.Version at the start of src,
// overwriting every other field, and returns its length. Topic, Payload
// and properties alias src.
func (p *Publish) Decode(src []byte) (int, error) {
	fl, b, n, err := body(src, TypePublish)
	if err != nil {
		return 0, err
	}
	if err := p.decodeBody(fl, b); err != nil {
		return 0, err
	}
	return n, nil
}

func (p *Publish) decodeBody(fl uint8, b []byte) error {
	v, ok := p.Version.norm()
	if !ok {
		return ErrVersion
	}
	qos := (fl >> 1) & 3
	if qos == 3 {
		return errQoS3 // [MQTT-3.3.1-4]
	}
	dup := fl&8 != 0
	if dup && qos == 0 {
		return errDupQoS0 // [MQTT-3.3.1-2]
	}
	p.Dup, p.QoS, p.Retain = dup, qos, fl&1 != 0
	r := rd{b: b}
	p.Topic = r.bin() // a UTF-8 string [MQTT-3.3.2-1], checked below
	p.ID = 0
	if qos > 0 {
		p.ID = PacketID(r.u16())
		if p.ID == 0 && r.err == nil {
			return errZeroID // [MQTT-2.2.1-3]
		}
	}
	if v == V5 {
		decodeProps(&r, TypePublish, &p.Props)
	} else if !p.Props.Empty() {
		p.Props.reset()
	}
	if r.err != nil {
		return r.err
	}
	if len(p.Topic) == 0 {
		if v != V5 {
			return errTopicEmpty // [MQTT-4.7.3-1]
		}
		if !p.Props.Present.Has(PropTopicAlias) {
			return errTopicEmptyV5 // §3.3.2.3.4
		}
	} else if err := CheckTopicName(p.Topic); err != nil {
		return err // [MQTT-3.3.2-1], [MQTT-3.3.2-2]
	}
	p.Payload = r.rest()
	return nil
}

func (p *Publish) lens() (rem, plen int) {
	rem = 2 + len(p.Topic) + len(p.Payload)
	if p.QoS > 0 {
		rem += 2
	}
	if v, _ := p.Version.norm(); v == V5 {
		plen = p.Props.propsLen()
		rem += varintLen(uint32(plen)) + plen
	}
	return rem, plen
}

// EncodedLen returns the length of the packet's wire form.
func (p *Publish) EncodedLen() int {
	rem, _ := p.lens()
	return packetLen(rem)
}

// Validate reports whether p would encode to a packet the strict decoder
// accepts: the checks of AppendBinary plus the content of strings (topic
// syntax and UTF-8), which AppendBinary leaves to the caller.
func (p *Publish) Validate() error {
	v, ok := p.Version.norm()
	if !ok {
		return errEncVersion
	}
	_, err := p.check(v, true)
	return err
}

func (p *Publish) check(v Version, content bool) (plen int, err error) {
	if p.QoS > 2 {
		return 0, errEncQoS
	}
	if (p.QoS > 0) != (p.ID != 0) || (p.Dup && p.QoS == 0) {
		return 0, errEncID
	}
	if v == V5 {
		if !p.Props.Empty() {
			if plen, err = p.Props.encLen(TypePublish, content); err != nil {
				return 0, err
			}
		}
		if len(p.Topic) != 0 || !p.Props.Present.Has(PropTopicAlias) {
			return plen, encName(p.Topic, content)
		}
		return plen, nil
	}
	if !p.Props.Empty() {
		return 0, errEncProps
	}
	return 0, encName(p.Topic, content)
}

// AppendBinary appends the wire form of p to dst. It rejects QoS 3, a
// missing or superfluous packet identifier, an empty or overlong topic, and
// properties the version or packet type does not allow; it does not scan
// the bytes of strings (see [Publish.Validate]).
func (p *Publish) AppendBinary(dst []byte) ([]byte, error) {
	v, ok := p.Version.norm()
	if !ok {
		return dst, errEncVersion
	}
	plen, err := p.check(v, false)
	if err != nil {
		return dst, err
	}
	rem := 2 + len(p.Topic) + len(p.Payload)
	if p.QoS > 0 {
		rem += 2
	}
	if v == V5 {
		rem += varintLen(uint32(plen)) + plen
	}
	first := byte(TypePublish)<<4 | p.QoS<<1
	if p.Dup {
		first |= 8
	}
	if p.Retain {
		first |= 1
	}
	dst, err = appendHeader(dst, first, rem)
	if err != nil {
		return dst, err
	}
	dst = appendBin(dst, p.Topic)
	if p.QoS > 0 {
		dst = appendU16(dst, uint16(p.ID))
	}
	if v == V5 {
		dst = p.Props.appendProps(dst, plen)
	}
	return append(dst, p.Payload...), nil
}

// Clone returns a deep copy of p that aliases nothing.
func (p *Publish) Clone() *Publish {
	q := *p
	q.Topic = cloneBytes(p.Topic)
	q.Payload = cloneBytes(p.Payload)
	q.Props = p.Props.Clone()
	return &q
}
