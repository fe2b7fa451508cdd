package network

// Proxy configuration opcodes (Mesh Protocol 1.1 §6.7). A proxy
// configuration message is carried as the transport PDU of a network PDU
// protected with the proxy nonce (CTL = 1, TTL = 0, DST = 0x0000); see
// SealNonce with ProxyNonce.
const (
	ProxyOpSetFilterType                   = 0x00
	ProxyOpAddAddresses                    = 0x01
	ProxyOpRemoveAddresses                 = 0x02
	ProxyOpFilterStatus                    = 0x03
	ProxyOpDirectedProxyCapabilitiesStatus = 0x04
	ProxyOpDirectedProxyControl            = 0x05
)

// Proxy filter types.
const (
	FilterAcceptList = 0x00
	FilterRejectList = 0x01
)

// MaxProxyConfigLen is the largest proxy configuration message that fits
// in a network PDU: 29 - 9 (header and DST) - 8 (NetMIC).
const MaxProxyConfigLen = MaxPDULen - HeaderLen - 2 - 8

// ProxyConfig is a proxy configuration message (Mesh Protocol 1.1 §6.7):
// the opcode and its parameters, with accessors for each message. Params
// aliases the decoded buffer.
type ProxyConfig struct {
	Opcode uint8
	Params []byte
}

// EncodedLen returns the encoded length.
func (m *ProxyConfig) EncodedLen() int { return 1 + len(m.Params) }

// AppendBinary appends opcode || parameters after validating the
// parameters' length for the opcode.
func (m *ProxyConfig) AppendBinary(dst []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return dst, err
	}
	dst = append(dst, m.Opcode)
	return append(dst, m.Params...), nil
}

// Decode parses a proxy configuration message; Params aliases src.
func (m *ProxyConfig) Decode(src []byte) (int, error) {
	if len(src) < 1 {
		return 0, ErrShort
	}
	q := ProxyConfig{Opcode: src[0], Params: src[1:]}
	if err := q.check(); err != nil {
		return 0, err
	}
	*m = q
	return len(src), nil
}

func (m *ProxyConfig) check() error {
	n := len(m.Params)
	if 1+n > MaxProxyConfigLen {
		return ErrLong
	}
	switch m.Opcode {
	case ProxyOpSetFilterType:
		if n != 1 || m.Params[0] > FilterRejectList {
			return ErrField
		}
	case ProxyOpAddAddresses, ProxyOpRemoveAddresses:
		if n == 0 || n%2 != 0 {
			return ErrField
		}
	case ProxyOpFilterStatus:
		if n != 3 || m.Params[0] > FilterRejectList {
			return ErrField
		}
	case ProxyOpDirectedProxyCapabilitiesStatus:
		if n != 2 {
			return ErrField
		}
	case ProxyOpDirectedProxyControl:
		if n != 1 && n != 3 && n != 4 {
			return ErrField
		}
	default:
		return ErrField
	}
	return nil
}

// FilterType returns the filter type of Set Filter Type and Filter Status.
func (m *ProxyConfig) FilterType() uint8 { return m.Params[0] }

// ListSize returns the list size of Filter Status.
func (m *ProxyConfig) ListSize() uint16 { return uint16(m.Params[1])<<8 | uint16(m.Params[2]) }

// NumAddresses and Address read the address list of Add/Remove Addresses
// (big-endian).
func (m *ProxyConfig) NumAddresses() int { return len(m.Params) / 2 }

// Address returns the i-th address.
func (m *ProxyConfig) Address(i int) uint16 {
	return uint16(m.Params[2*i])<<8 | uint16(m.Params[2*i+1])
}

// Clone returns a copy of m whose Params do not alias m's.
func (m *ProxyConfig) Clone() ProxyConfig {
	c := *m
	if m.Params != nil {
		c.Params = append(make([]byte, 0, len(m.Params)), m.Params...)
	}
	return c
}
