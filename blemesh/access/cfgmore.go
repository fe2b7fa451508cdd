package access

import "github.com/edgekit/edgekit/blemesh/crypto"

// More Configuration messages (Mesh Protocol 1.1 §4.3.4 opcode table).
const (
	OpModelSubscriptionVirtualDelete    Opcode = 0x8021
	OpModelSubscriptionVirtualOverwrite Opcode = 0x8022
	OpNetworkTransmitGet                Opcode = 0x8023
	OpNetworkTransmitSet                Opcode = 0x8024
	OpNetworkTransmitStatus             Opcode = 0x8025
	OpSIGModelSubscriptionGet           Opcode = 0x8029
	OpSIGModelSubscriptionList          Opcode = 0x802a
	OpVendorModelSubscriptionGet        Opcode = 0x802b
	OpVendorModelSubscriptionList       Opcode = 0x802c
	OpLPNPollTimeoutGet                 Opcode = 0x802d
	OpLPNPollTimeoutStatus              Opcode = 0x802e
	OpSIGModelAppGet                    Opcode = 0x804b
	OpSIGModelAppList                   Opcode = 0x804c
	OpVendorModelAppGet                 Opcode = 0x804d
	OpVendorModelAppList                Opcode = 0x804e
)

// Key Refresh Phase transitions of Config Key Refresh Phase Set (§4.2.14).
const (
	KeyRefreshTransitionUseNew = 0x02 // phase 1 -> 2
	KeyRefreshTransitionRevoke = 0x03 // phase 1 or 2 -> 0 (old key revoked)
	NodeIdentityStopped        = 0x00
	NodeIdentityRunning        = 0x01
	NodeIdentityNotSupported   = 0x02
	heartbeatLogMax            = 0x11
	heartbeatCountLogInfinite  = 0xff
	heartbeatMinHopsInitial    = 0x7f
)

// HeartbeatPublication is the Heartbeat Publication state (§4.2.17) and the
// parameters of Config Heartbeat Publication Set (§4.3.2.62).
type HeartbeatPublication struct {
	Destination uint16
	CountLog    uint8
	PeriodLog   uint8
	TTL         uint8
	Features    uint16
	NetKeyIndex uint16
}

// EncodedLen is 9.
func (*HeartbeatPublication) EncodedLen() int { return 9 }

// AppendBinary appends the parameters.
func (m *HeartbeatPublication) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, byte(m.Destination), byte(m.Destination>>8), m.CountLog, m.PeriodLog, m.TTL,
		byte(m.Features), byte(m.Features>>8))
	return appendKeyIndex(dst, m.NetKeyIndex), nil
}

// Decode parses the parameters.
func (m *HeartbeatPublication) Decode(src []byte) (int, error) {
	if len(src) != 9 {
		return 0, lenErr(len(src), 9)
	}
	if src[8]&0xf0 != 0 {
		return 0, ErrRange
	}
	m.Destination, m.CountLog, m.PeriodLog, m.TTL = le16(src), src[2], src[3], src[4]
	m.Features, m.NetKeyIndex = le16(src[5:]), le16(src[7:])
	return 9, nil
}

// HeartbeatSubscription is the Heartbeat Subscription state (§4.2.18):
// Set carries Source, Destination and PeriodLog; Status all of it.
type HeartbeatSubscription struct {
	Source      uint16
	Destination uint16
	PeriodLog   uint8
	CountLog    uint8
	MinHops     uint8
	MaxHops     uint8
}

// AppendBinary appends the Status parameters after the status octet
// (Source, Destination, PeriodLog, CountLog, MinHops, MaxHops).
func (m *HeartbeatSubscription) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(m.Source), byte(m.Source>>8), byte(m.Destination), byte(m.Destination>>8),
		m.PeriodLog, m.CountLog, m.MinHops, m.MaxHops), nil
}

// Decode parses Config Heartbeat Subscription Set parameters (5 octets).
func (m *HeartbeatSubscription) Decode(src []byte) (int, error) {
	if len(src) != 5 {
		return 0, lenErr(len(src), 5)
	}
	m.Source, m.Destination, m.PeriodLog = le16(src), le16(src[2:]), src[4]
	return 5, nil
}

// handleMore answers the Configuration messages Handle does not switch on.
func (s *ConfigServer) handleMore(op Opcode, params, resp []byte) (Opcode, []byte, bool, error) {
	switch op {
	case OpNetworkTransmitGet:
		if len(params) != 0 {
			return 0, resp, false, ErrLong
		}
		return OpNetworkTransmitStatus, append(resp, s.NetworkTransmit), true, nil
	case OpNetworkTransmitSet:
		if len(params) != 1 {
			return 0, resp, false, lenErr(len(params), 1)
		}
		s.NetworkTransmit = params[0]
		return OpNetworkTransmitStatus, append(resp, s.NetworkTransmit), true, nil

	case OpHeartbeatPublicationGet:
		if len(params) != 0 {
			return 0, resp, false, ErrLong
		}
		out, _ := s.HeartbeatPub.AppendBinary(append(resp, StatusSuccess))
		return OpHeartbeatPublicationStatus, out, true, nil
	case OpHeartbeatPublicationSet:
		var m HeartbeatPublication
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		if (m.CountLog > heartbeatLogMax && m.CountLog != heartbeatCountLogInfinite) || m.PeriodLog > heartbeatLogMax || m.TTL > 0x7f {
			return 0, resp, false, ErrRange // prohibited: no response
		}
		st := uint8(StatusSuccess)
		switch {
		case IsVirtual(m.Destination):
			st = StatusInvalidAddress
		case s.netKey(m.NetKeyIndex) == nil:
			st = StatusInvalidNetKeyIndex
		default:
			if m.Destination == AddrUnassigned {
				m.CountLog, m.PeriodLog, m.TTL = 0, 0, 0
			}
			s.HeartbeatPub = m
		}
		out, _ := m.AppendBinary(append(resp, st))
		return OpHeartbeatPublicationStatus, out, true, nil

	case OpHeartbeatSubscriptionGet:
		if len(params) != 0 {
			return 0, resp, false, ErrLong
		}
		out, _ := s.HeartbeatSub.AppendBinary(append(resp, StatusSuccess))
		return OpHeartbeatSubscriptionStatus, out, true, nil
	case OpHeartbeatSubscriptionSet:
		var m HeartbeatSubscription
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		if m.PeriodLog > heartbeatLogMax {
			return 0, resp, false, ErrRange
		}
		st := uint8(StatusSuccess)
		switch {
		case m.Source != AddrUnassigned && !IsUnicast(m.Source),
			m.Destination != AddrUnassigned && !IsUnicast(m.Destination) && !IsGroup(m.Destination):
			st = StatusInvalidAddress
		case m.Source == AddrUnassigned || m.Destination == AddrUnassigned || m.PeriodLog == 0:
			// Disables the subscription; the last counts stay readable.
			s.HeartbeatSub.Source, s.HeartbeatSub.Destination, s.HeartbeatSub.PeriodLog = 0, 0, 0
		default:
			s.HeartbeatSub = HeartbeatSubscription{Source: m.Source, Destination: m.Destination, PeriodLog: m.PeriodLog,
				MinHops: heartbeatMinHopsInitial}
		}
		r := s.HeartbeatSub
		if st != StatusSuccess {
			r = HeartbeatSubscription{Source: m.Source, Destination: m.Destination, PeriodLog: m.PeriodLog}
		}
		out, _ := r.AppendBinary(append(resp, st))
		return OpHeartbeatSubscriptionStatus, out, true, nil

	case OpSIGModelSubscriptionGet, OpVendorModelSubscriptionGet, OpSIGModelAppGet, OpVendorModelAppGet:
		vendor := op == OpVendorModelSubscriptionGet || op == OpVendorModelAppGet
		want := 4
		if vendor {
			want = 6
		}
		if len(params) != want {
			return 0, resp, false, lenErr(len(params), want)
		}
		elem, id := le16(params), decodeModelID(params[2:])
		ms := s.model(elem, id)
		st := uint8(StatusSuccess)
		if ms == nil {
			st = s.missing(elem)
		}
		resp = append(resp, st, byte(elem), byte(elem>>8))
		resp = id.appendTo(resp)
		switch op {
		case OpSIGModelSubscriptionGet, OpVendorModelSubscriptionGet:
			if ms != nil {
				for _, a := range ms.Subs {
					resp = append(resp, byte(a), byte(a>>8))
				}
			}
			if vendor {
				return OpVendorModelSubscriptionList, resp, true, nil
			}
			return OpSIGModelSubscriptionList, resp, true, nil
		default:
			if ms != nil {
				resp = s.appendIndexList(resp, len(ms.AppKeys), func(i int) uint16 { return ms.AppKeys[i] })
			}
			if vendor {
				return OpVendorModelAppList, resp, true, nil
			}
			return OpSIGModelAppList, resp, true, nil
		}

	case OpLPNPollTimeoutGet:
		if len(params) != 2 {
			return 0, resp, false, lenErr(len(params), 2)
		}
		lpn := le16(params)
		if !IsUnicast(lpn) {
			return 0, resp, false, ErrRange // prohibited
		}
		var pt uint32
		if s.LPNPollTimeout != nil {
			pt = s.LPNPollTimeout(lpn) & 0xffffff
		}
		return OpLPNPollTimeoutStatus, append(resp, byte(lpn), byte(lpn>>8), byte(pt), byte(pt>>8), byte(pt>>16)), true, nil

	case OpKeyRefreshPhaseGet, OpKeyRefreshPhaseSet:
		idx, k, st, err := s.netKeyGetSet(params, op == OpKeyRefreshPhaseSet)
		if err != nil {
			return 0, resp, false, err
		}
		if op == OpKeyRefreshPhaseSet {
			tr := params[2]
			if tr != KeyRefreshTransitionUseNew && tr != KeyRefreshTransitionRevoke {
				return 0, resp, false, ErrRange // prohibited
			}
			if k != nil {
				switch {
				case tr == KeyRefreshTransitionUseNew && (k.Phase == 1 || k.Phase == 2):
					k.Phase = 2
				case tr == KeyRefreshTransitionUseNew:
					st = StatusCannotUpdate // no new key to use in phase 0
				case k.Phase == 1 || k.Phase == 2:
					s.revoke(k)
				}
			}
		}
		phase := uint8(0)
		if k != nil {
			phase = k.Phase
		}
		return OpKeyRefreshPhaseStatus, append(appendKeyIndex(append(resp, st), idx), phase), true, nil

	case OpNodeIdentityGet, OpNodeIdentitySet:
		idx, k, st, err := s.netKeyGetSet(params, op == OpNodeIdentitySet)
		if err != nil {
			return 0, resp, false, err
		}
		if op == OpNodeIdentitySet {
			if params[2] > NodeIdentityRunning {
				return 0, resp, false, ErrRange // prohibited
			}
			if k != nil && s.GATTProxy != FeatureNotSupported {
				k.NodeIdentity = params[2]
			}
		}
		id := uint8(NodeIdentityStopped)
		switch {
		case s.GATTProxy == FeatureNotSupported:
			id = NodeIdentityNotSupported
		case k != nil:
			id = k.NodeIdentity
		}
		return OpNodeIdentityStatus, append(appendKeyIndex(append(resp, st), idx), id), true, nil

	case OpModelPublicationVirtualSet:
		// Element (2) | Label UUID (16) | AppKeyIndex+flag (2) | TTL |
		// Period | Retransmit | Model (2 or 4).
		if len(params) != 25 && len(params) != 27 {
			return 0, resp, false, lenErr(len(params), 25)
		}
		var label [16]byte
		copy(label[:], params[2:18])
		va := crypto.VirtualAddress(label)
		var plain [13]byte
		copy(plain[:], params[:2])
		plain[2], plain[3] = byte(va), byte(va>>8)
		n := 4 + copy(plain[4:], params[18:])
		var m ModelPublication
		if _, err := m.Decode(plain[:n]); err != nil {
			return 0, resp, false, err
		}
		st := s.publish(&m)
		if st == StatusSuccess {
			if ms := s.model(m.ElementAddress, m.Model); ms != nil {
				ms.PubLabel = label
			}
		}
		out, _ := m.AppendBinary(append(resp, st))
		return OpModelPublicationStatus, out, true, nil

	case OpModelSubscriptionVirtualAdd, OpModelSubscriptionVirtualDelete, OpModelSubscriptionVirtualOverwrite:
		if len(params) != 20 && len(params) != 22 {
			return 0, resp, false, lenErr(len(params), 20)
		}
		var label [16]byte
		copy(label[:], params[2:18])
		m := ModelSubscription{ElementAddress: le16(params), Address: crypto.VirtualAddress(label), Model: decodeModelID(params[18:])}
		st := s.subscribeVirtual(op, &m, label)
		out, _ := m.AppendBinary(append(resp, st))
		return OpModelSubscriptionStatus, out, true, nil
	}
	return 0, resp, false, nil
}

// revoke ends a Key Refresh procedure on k: the new keys replace the old.
func (s *ConfigServer) revoke(k *NetKeyEntry) {
	k.Key, k.NewKey, k.Phase = k.NewKey, [16]byte{}, 0
	for i := range s.AppKeys {
		a := &s.AppKeys[i]
		if a.NetIndex == k.Index && a.Updated {
			a.Key, a.NewKey, a.Updated = a.NewKey, [16]byte{}, false
		}
	}
}

func (s *ConfigServer) subscribeVirtual(op Opcode, m *ModelSubscription, label [16]byte) uint8 {
	ms := s.model(m.ElementAddress, m.Model)
	if ms == nil {
		return s.missing(m.ElementAddress)
	}
	has := -1
	for i := range ms.Labels {
		if ms.Labels[i] == label {
			has = i
		}
	}
	switch op {
	case OpModelSubscriptionVirtualOverwrite:
		ms.Subs = append(ms.Subs[:0], m.Address)
		ms.Labels = append(ms.Labels[:0], label)
		return StatusSuccess
	case OpModelSubscriptionVirtualDelete:
		if has >= 0 {
			ms.Labels = append(ms.Labels[:has], ms.Labels[has+1:]...)
			removeAddr(&ms.Subs, m.Address)
		}
		return StatusSuccess
	}
	if has >= 0 {
		return StatusSuccess
	}
	if len(ms.Subs) >= orDefault(s.MaxSubs, DefaultMaxSubs) {
		return StatusInsufficientResources
	}
	ms.Subs = append(ms.Subs, m.Address)
	ms.Labels = append(ms.Labels, label)
	return StatusSuccess
}

// removeAddr removes one occurrence of a from *list.
func removeAddr(list *[]uint16, a uint16) {
	l := *list
	for i, x := range l {
		if x == a {
			*list = append(l[:i], l[i+1:]...)
			return
		}
	}
}

// netKeyGetSet checks the parameters of a Get (NetKeyIndex) or Set
// (NetKeyIndex and one byte) addressed to a NetKey and returns the index,
// the key (nil if unknown) and the status to answer with.
func (s *ConfigServer) netKeyGetSet(params []byte, set bool) (idx uint16, k *NetKeyEntry, st uint8, err error) {
	want := 2
	if set {
		want = 3
	}
	if len(params) != want {
		return 0, nil, 0, lenErr(len(params), want)
	}
	if params[1]&0xf0 != 0 {
		return 0, nil, 0, ErrRange
	}
	idx = le16(params)
	k = s.netKey(idx)
	st = StatusSuccess
	if k == nil {
		st = StatusInvalidNetKeyIndex
	}
	return idx, k, st, nil
}
