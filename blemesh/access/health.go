package access

// HealthStatus is Health Current Status and Health Fault Status (Mesh
// Protocol 1.1 §4.4.2.1-2): the most recent test ID, the company ID of the
// faults and the fault array (one octet per fault; empty when there are
// none). Faults aliases the decoded buffer.
type HealthStatus struct {
	Fault     bool // Health Fault Status (0x05) instead of Current Status (0x04)
	TestID    uint8
	CompanyID uint16
	Faults    []byte
}

// Opcode returns OpHealthCurrentStatus or OpHealthFaultStatus.
func (m *HealthStatus) Opcode() Opcode {
	if m.Fault {
		return OpHealthFaultStatus
	}
	return OpHealthCurrentStatus
}

// AppendBinary appends the parameters.
func (m *HealthStatus) AppendBinary(dst []byte) ([]byte, error) {
	if 3+len(m.Faults) > MaxPayloadLen-1 {
		return dst, ErrLong
	}
	dst = append(dst, m.TestID, byte(m.CompanyID), byte(m.CompanyID>>8))
	return append(dst, m.Faults...), nil
}

// Decode parses the parameters; Faults aliases src.
func (m *HealthStatus) Decode(src []byte) (int, error) {
	if len(src) < 3 {
		return 0, ErrShort
	}
	if len(src) > MaxPayloadLen-1 {
		return 0, ErrLong
	}
	m.TestID, m.CompanyID, m.Faults = src[0], le16(src[1:]), src[3:]
	return len(src), nil
}

// HealthFaultGet is Health Fault Get / Clear / Clear Unacknowledged
// (§4.4.2.3-5): a company ID.
type HealthFaultGet struct{ CompanyID uint16 }

// AppendBinary appends the parameters.
func (m *HealthFaultGet) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(m.CompanyID), byte(m.CompanyID>>8)), nil
}

// Decode parses the parameters.
func (m *HealthFaultGet) Decode(src []byte) (int, error) {
	if len(src) != 2 {
		return 0, lenErr(len(src), 2)
	}
	m.CompanyID = le16(src)
	return 2, nil
}

// HealthFaultTest is Health Fault Test / Test Unacknowledged (§4.4.2.6-7).
type HealthFaultTest struct {
	TestID    uint8
	CompanyID uint16
}

// AppendBinary appends the parameters.
func (m *HealthFaultTest) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, m.TestID, byte(m.CompanyID), byte(m.CompanyID>>8)), nil
}

// Decode parses the parameters.
func (m *HealthFaultTest) Decode(src []byte) (int, error) {
	if len(src) != 3 {
		return 0, lenErr(len(src), 3)
	}
	m.TestID, m.CompanyID = src[0], le16(src[1:])
	return 3, nil
}

// Clone returns a copy of m whose Faults do not alias m's.
func (m *HealthStatus) Clone() HealthStatus {
	c := *m
	c.Faults = cloneBytes(m.Faults)
	return c
}
