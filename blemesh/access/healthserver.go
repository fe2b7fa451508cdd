package access

// MaxFaults bounds the fault arrays of a HealthServer.
const MaxFaults = 32

// HealthServer is the Health Server model (Mesh Protocol 1.1 §4.4.3): the
// current and registered fault arrays of one company, the fast period
// divisor and the attention timer. Handle answers Health Client messages; it
// does no I/O and starts no timers (the attention timer is a value the
// caller counts down). Not safe for concurrent use.
type HealthServer struct {
	CompanyID  uint16
	TestID     uint8 // most recent test
	Current    []byte
	Registered []byte
	FastPeriod uint8 // fast period divisor (0..15)
	Attention  uint8 // seconds remaining
	// Test runs a self-test; nil means every test ID is accepted and does
	// nothing. It returns false for an unknown test ID.
	Test func(testID uint8) bool
}

// AddFault records a fault in the current and registered arrays.
func (h *HealthServer) AddFault(code uint8) {
	if code == 0 {
		return
	}
	if indexByte(h.Current, code) < 0 && len(h.Current) < MaxFaults {
		h.Current = append(h.Current, code)
	}
	if indexByte(h.Registered, code) < 0 && len(h.Registered) < MaxFaults {
		h.Registered = append(h.Registered, code)
	}
}

// ClearCurrent removes a fault that is no longer present.
func (h *HealthServer) ClearCurrent(code uint8) {
	if i := indexByte(h.Current, code); i >= 0 {
		h.Current = append(h.Current[:i], h.Current[i+1:]...)
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// CurrentStatus returns the Health Current Status message the model
// publishes (Faults aliases h.Current).
func (h *HealthServer) CurrentStatus() HealthStatus {
	return HealthStatus{TestID: h.TestID, CompanyID: h.CompanyID, Faults: h.Current}
}

// Handle processes one Health Client message and appends the response's
// parameters to resp; ok is false when no response is due (unacknowledged
// messages, unknown opcodes, or a message for another company).
func (h *HealthServer) Handle(op Opcode, params, resp []byte) (status Opcode, out []byte, ok bool, err error) {
	fault := func() (Opcode, []byte, bool, error) {
		m := HealthStatus{Fault: true, TestID: h.TestID, CompanyID: h.CompanyID, Faults: h.Registered}
		out, err := m.AppendBinary(resp)
		return OpHealthFaultStatus, out, err == nil, err
	}
	switch op {
	case OpHealthFaultGet, OpHealthFaultClear, OpHealthFaultClearUnack:
		var m HealthFaultGet
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		if m.CompanyID != h.CompanyID {
			return 0, resp, false, nil
		}
		if op != OpHealthFaultGet {
			h.Registered = h.Registered[:0]
		}
		if op == OpHealthFaultClearUnack {
			return 0, resp, false, nil
		}
		return fault()
	case OpHealthFaultTest, OpHealthFaultTestUnack:
		var m HealthFaultTest
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		if m.CompanyID != h.CompanyID || (h.Test != nil && !h.Test(m.TestID)) {
			return 0, resp, false, nil
		}
		h.TestID = m.TestID
		if op == OpHealthFaultTestUnack {
			return 0, resp, false, nil
		}
		return fault()
	case OpHealthPeriodGet:
		return OpHealthPeriodStatus, append(resp, h.FastPeriod), true, nil
	case OpHealthPeriodSet, OpHealthPeriodSetUnack:
		if len(params) != 1 {
			return 0, resp, false, lenErr(len(params), 1)
		}
		if params[0] > 15 {
			return 0, resp, false, ErrRange
		}
		h.FastPeriod = params[0]
		if op == OpHealthPeriodSetUnack {
			return 0, resp, false, nil
		}
		return OpHealthPeriodStatus, append(resp, h.FastPeriod), true, nil
	case OpAttentionGet:
		return OpAttentionStatus, append(resp, h.Attention), true, nil
	case OpAttentionSet, OpAttentionSetUnack:
		if len(params) != 1 {
			return 0, resp, false, lenErr(len(params), 1)
		}
		h.Attention = params[0]
		if op == OpAttentionSetUnack {
			return 0, resp, false, nil
		}
		return OpAttentionStatus, append(resp, h.Attention), true, nil
	}
	return 0, resp, false, nil
}
