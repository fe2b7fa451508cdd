package access

// Features bits of Composition Data (Mesh Protocol 1.1 §4.2.2.1).
const (
	FeatureRelay    = 1 << 0
	FeatureProxy    = 1 << 1
	FeatureFriend   = 1 << 2
	FeatureLowPower = 1 << 3
)

// CompositionPage0 is Composition Data page 0 (Mesh Protocol 1.1 §4.2.2.1):
// the node's identity, features and elements. Elements aliases the decoded
// buffer; iterate it with Element.
type CompositionPage0 struct {
	CID, PID, VID uint16
	CRPL          uint16
	Features      uint16
	Elements      []byte // raw element descriptions
}

// Element is one element description: location, SIG model IDs and vendor
// model IDs (raw, little-endian; read them with SIGModel and VendorModel).
type Element struct {
	Loc          uint16
	NumS, NumV   uint8
	SIGModels    []byte // 2 octets per model
	VendorModels []byte // 4 octets per model
}

// SIGModel returns the i-th SIG model ID.
func (e *Element) SIGModel(i int) uint16 { return le16(e.SIGModels[2*i:]) }

// VendorModel returns the i-th vendor model.
func (e *Element) VendorModel(i int) ModelID { return decodeModelID(e.VendorModels[4*i : 4*i+4]) }

// AppendBinary appends the element description.
func (e *Element) AppendBinary(dst []byte) ([]byte, error) {
	if len(e.SIGModels) != 2*int(e.NumS) || len(e.VendorModels) != 4*int(e.NumV) {
		return dst, ErrMalformed
	}
	dst = append(dst, byte(e.Loc), byte(e.Loc>>8), e.NumS, e.NumV)
	dst = append(dst, e.SIGModels...)
	return append(dst, e.VendorModels...), nil
}

// ElementIter walks the element descriptions of a composition page.
type ElementIter struct {
	rest []byte
	err  error
}

// Iter returns an iterator over the elements.
func (c *CompositionPage0) Iter() ElementIter { return ElementIter{rest: c.Elements} }

// Next decodes the next element into e; it returns false at the end or on
// malformed data (see Err).
func (it *ElementIter) Next(e *Element) bool {
	if len(it.rest) == 0 || it.err != nil {
		return false
	}
	n, err := decodeElement(e, it.rest)
	if err != nil {
		it.err = err
		return false
	}
	it.rest = it.rest[n:]
	return true
}

// Err returns the decoding error that stopped the iteration.
func (it *ElementIter) Err() error { return it.err }

func decodeElement(e *Element, src []byte) (int, error) {
	if len(src) < 4 {
		return 0, ErrShort
	}
	e.Loc, e.NumS, e.NumV = le16(src), src[2], src[3]
	n := 4 + 2*int(e.NumS) + 4*int(e.NumV)
	if len(src) < n {
		return 0, ErrShort
	}
	e.SIGModels = src[4 : 4+2*int(e.NumS)]
	e.VendorModels = src[4+2*int(e.NumS) : n]
	return n, nil
}

// EncodedLen returns the encoded length.
func (c *CompositionPage0) EncodedLen() int { return 10 + len(c.Elements) }

// AppendBinary appends the page (without the Page octet of Config
// Composition Data Status).
func (c *CompositionPage0) AppendBinary(dst []byte) ([]byte, error) {
	// Validate the element list.
	for rest := c.Elements; len(rest) > 0; {
		var e Element
		n, err := decodeElement(&e, rest)
		if err != nil {
			return dst, err
		}
		rest = rest[n:]
	}
	dst = append(dst, byte(c.CID), byte(c.CID>>8), byte(c.PID), byte(c.PID>>8), byte(c.VID), byte(c.VID>>8),
		byte(c.CRPL), byte(c.CRPL>>8), byte(c.Features), byte(c.Features>>8))
	return append(dst, c.Elements...), nil
}

// Decode parses a page 0 and validates every element description. Elements
// aliases src.
func (c *CompositionPage0) Decode(src []byte) (int, error) {
	if len(src) < 10 {
		return 0, ErrShort
	}
	if len(src) > MaxPayloadLen {
		return 0, ErrLong
	}
	for rest := src[10:]; len(rest) > 0; {
		var e Element
		n, err := decodeElement(&e, rest)
		if err != nil {
			return 0, err
		}
		rest = rest[n:]
	}
	c.CID, c.PID, c.VID, c.CRPL, c.Features = le16(src), le16(src[2:]), le16(src[4:]), le16(src[6:]), le16(src[8:])
	c.Elements = src[10:]
	return len(src), nil
}

// Clone returns a copy of c whose Elements do not alias c's.
func (c *CompositionPage0) Clone() CompositionPage0 {
	d := *c
	d.Elements = cloneBytes(c.Elements)
	return d
}
