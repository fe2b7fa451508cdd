package access

// Limits of a ConfigServer's lists (Mesh Protocol 1.1 §4.2: a node supports
// at least one NetKey and one AppKey; the rest is implementation-defined).
const (
	DefaultMaxNetKeys  = 4
	DefaultMaxAppKeys  = 8
	DefaultMaxBindings = 8 // AppKeys bound to one model
	DefaultMaxSubs     = 8 // subscriptions of one model
)

// Feature state values of the Relay, Beacon, GATT Proxy and Friend states.
const (
	FeatureDisabled     = 0x00
	FeatureEnabled      = 0x01
	FeatureNotSupported = 0x02
)

// NetKeyEntry is one network key of a node, with the Key Refresh phase
// (the new key is valid in phases 1 and 2).
type NetKeyEntry struct {
	Index  uint16
	Key    [16]byte
	NewKey [16]byte
	Phase  uint8
	// NodeIdentity is the Node Identity state of this subnet (§4.2.12).
	NodeIdentity uint8
}

// AppKeyEntry is one application key bound to a network key.
type AppKeyEntry struct {
	Index    uint16
	NetIndex uint16
	Key      [16]byte
	NewKey   [16]byte
	Updated  bool
}

// ModelState is the configuration of one model instance.
type ModelState struct {
	Element uint16 // unicast address of the element the model is on
	ID      ModelID
	AppKeys []uint16 // bound application key indexes
	Subs    []uint16 // subscribed group and virtual addresses
	// Labels are the Label UUIDs of the virtual addresses in Subs.
	Labels [][16]byte
	// PubLabel is the Label UUID when Pub.PublishAddress is virtual.
	PubLabel [16]byte
	Pub      ModelPublication
	// DevKey marks a model that accepts messages secured with the device
	// key (the Configuration Server and other foundation servers) instead
	// of bound application keys.
	DevKey bool
	// Opcodes lists the opcodes the model receives; Route delivers only
	// those.
	Opcodes []Opcode
}

// DeviceKey is the key index Route takes for messages secured with the
// device key.
const DeviceKey = -1

// Route appends to out the indexes (in s.Models) of the models a received
// access message is delivered to (Mesh Protocol 1.1 §3.7.4.3): models that
// receive op, on the element addressed by a unicast dst, or subscribed to a
// group or virtual dst (the all-nodes address reaches the primary element,
// the one with the lowest address), and that accept the key the message was
// secured with: keyIndex is the application key index, or DeviceKey. It
// does not allocate when out has room.
func (s *ConfigServer) Route(dst uint16, keyIndex int, op Opcode, out []int) []int {
	primary := uint16(0)
	if dst == AddrAllNodes {
		for i := range s.Models {
			if e := s.Models[i].Element; primary == 0 || e < primary {
				primary = e
			}
		}
	}
	for i := range s.Models {
		m := &s.Models[i]
		switch {
		case IsUnicast(dst):
			if m.Element != dst {
				continue
			}
		case dst == AddrAllNodes:
			if m.Element != primary && !containsAddr(m.Subs, dst) {
				continue
			}
		default:
			if !containsAddr(m.Subs, dst) {
				continue
			}
		}
		if m.accepts(keyIndex, op) {
			out = append(out, i)
		}
	}
	return out
}

// RouteVirtual is [ConfigServer.Route] for a message to a virtual address:
// it appends the models subscribed to label itself (Mesh Protocol 1.1
// §3.4.2.3: labels sharing a virtual address are different destinations).
// It does not allocate when out has room.
func (s *ConfigServer) RouteVirtual(label *[16]byte, keyIndex int, op Opcode, out []int) []int {
	for i := range s.Models {
		m := &s.Models[i]
		has := false
		for j := range m.Labels {
			if m.Labels[j] == *label {
				has = true
				break
			}
		}
		if has && m.accepts(keyIndex, op) {
			out = append(out, i)
		}
	}
	return out
}

// accepts reports whether m takes a message secured with keyIndex (or
// DeviceKey) with opcode op.
func (m *ModelState) accepts(keyIndex int, op Opcode) bool {
	if keyIndex == DeviceKey {
		if !m.DevKey {
			return false
		}
	} else if m.DevKey || !containsAddr(m.AppKeys, uint16(keyIndex)) {
		return false
	}
	for _, o := range m.Opcodes {
		if o == op {
			return true
		}
	}
	return false
}

func containsAddr(list []uint16, a uint16) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// ConfigServer is the Configuration Server model (Mesh Protocol 1.1 §4.4.1):
// it holds the configuration states of a node and answers the
// Configuration Client's messages. It starts no goroutines and does no I/O:
// Handle takes a received message and returns the status to send. Lists are
// bounded by the Max fields (0 means the defaults). Not safe for concurrent
// use.
type ConfigServer struct {
	// Composition is Composition Data page 0, encoded.
	Composition []byte
	DefaultTTL  uint8
	Relay       uint8
	// RelayRetransmit packs count (bits 0-2) and interval steps (3-7).
	RelayRetransmit uint8
	Beacon          uint8
	GATTProxy       uint8
	Friend          uint8
	NetKeys         []NetKeyEntry
	AppKeys         []AppKeyEntry
	Models          []ModelState

	// NetworkTransmit packs the Network Transmit count (bits 0-2) and
	// interval steps (3-7) (§4.2.19).
	NetworkTransmit uint8
	// HeartbeatPub and HeartbeatSub are the heartbeat states (§4.2.17-18);
	// the node sends and counts heartbeats from them.
	HeartbeatPub HeartbeatPublication
	HeartbeatSub HeartbeatSubscription
	// LPNPollTimeout returns the PollTimeout timer of a Low Power Node this
	// node is the Friend of, 0 if none (Config Low Power Node PollTimeout
	// Get, §4.3.2.67). Nil answers 0.
	LPNPollTimeout func(lpn uint16) uint32

	MaxNetKeys, MaxAppKeys, MaxBindings, MaxSubs int

	// Reset is set when a Config Node Reset was handled: the node must
	// send the status and then forget its provisioning.
	Reset bool
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func (s *ConfigServer) netKey(idx uint16) *NetKeyEntry {
	for i := range s.NetKeys {
		if s.NetKeys[i].Index == idx {
			return &s.NetKeys[i]
		}
	}
	return nil
}

func (s *ConfigServer) appKey(idx uint16) *AppKeyEntry {
	for i := range s.AppKeys {
		if s.AppKeys[i].Index == idx {
			return &s.AppKeys[i]
		}
	}
	return nil
}

func (s *ConfigServer) model(elem uint16, id ModelID) *ModelState {
	for i := range s.Models {
		if s.Models[i].Element == elem && s.Models[i].ID == id {
			return &s.Models[i]
		}
	}
	return nil
}

func (s *ConfigServer) elementKnown(elem uint16) bool {
	for i := range s.Models {
		if s.Models[i].Element == elem {
			return true
		}
	}
	return false
}

// Handle processes one Configuration Client message (opcode and
// parameters) and appends the status message's parameters to resp. It
// returns the status opcode, or ok == false when no response is due
// (unknown opcode). A malformed message returns an error and no response,
// as the specification requires.
func (s *ConfigServer) Handle(op Opcode, params, resp []byte) (status Opcode, out []byte, ok bool, err error) {
	switch op {
	case OpCompositionDataGet:
		if len(params) != 1 {
			return 0, resp, false, lenErr(len(params), 1)
		}
		// Only page 0 exists: any other page is answered with page 0.
		resp = append(resp, 0)
		return OpCompositionDataStatus, append(resp, s.Composition...), true, nil
	case OpDefaultTTLGet, OpBeaconGet, OpGATTProxyGet, OpFriendGet, OpRelayGet:
		if len(params) != 0 {
			return 0, resp, false, ErrLong
		}
		return s.state(op, resp)
	case OpDefaultTTLSet:
		if len(params) != 1 {
			return 0, resp, false, lenErr(len(params), 1)
		}
		if params[0] == 1 || params[0] > 0x7f {
			return 0, resp, false, ErrRange // prohibited values: no response
		}
		s.DefaultTTL = params[0]
		return s.state(OpDefaultTTLGet, resp)
	case OpBeaconSet, OpGATTProxySet, OpFriendSet:
		if len(params) != 1 {
			return 0, resp, false, lenErr(len(params), 1)
		}
		if params[0] > 1 {
			return 0, resp, false, ErrRange
		}
		switch op {
		case OpBeaconSet:
			s.Beacon = params[0]
			return s.state(OpBeaconGet, resp)
		case OpGATTProxySet:
			if s.GATTProxy != FeatureNotSupported {
				s.GATTProxy = params[0]
			}
			return s.state(OpGATTProxyGet, resp)
		default:
			if s.Friend != FeatureNotSupported {
				s.Friend = params[0]
			}
			return s.state(OpFriendGet, resp)
		}
	case OpRelaySet:
		var m Relay
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		if m.Relay > 1 {
			return 0, resp, false, ErrRange
		}
		if s.Relay != FeatureNotSupported {
			s.Relay = m.Relay
			s.RelayRetransmit = m.RetransmitCount | m.RetransmitIntervalSteps<<3
		}
		return s.state(OpRelayGet, resp)
	case OpNetKeyAdd, OpNetKeyUpdate:
		var m NetKeyAdd
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		st := s.netKeyAdd(op == OpNetKeyUpdate, &m)
		r := NetKeyStatus{Status: st, NetKeyIndex: m.NetKeyIndex}
		out, _ = r.AppendBinary(resp)
		return OpNetKeyStatus, out, true, nil
	case OpNetKeyDelete:
		if len(params) != 2 {
			return 0, resp, false, lenErr(len(params), 2)
		}
		idx := le16(params) & 0xfff
		st := uint8(StatusSuccess)
		if k := s.netKey(idx); k != nil {
			if len(s.NetKeys) == 1 {
				st = StatusCannotRemove
			} else {
				s.deleteNetKey(idx)
			}
		}
		r := NetKeyStatus{Status: st, NetKeyIndex: idx}
		out, _ = r.AppendBinary(resp)
		return OpNetKeyStatus, out, true, nil
	case OpNetKeyGet:
		return OpNetKeyList, s.appendIndexList(resp, len(s.NetKeys), func(i int) uint16 { return s.NetKeys[i].Index }), true, nil
	case OpAppKeyAdd, OpAppKeyUpdate:
		var m AppKeyAdd
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		st := s.appKeyAdd(op == OpAppKeyUpdate, &m)
		r := AppKeyStatus{Status: st, NetKeyIndex: m.NetKeyIndex, AppKeyIndex: m.AppKeyIndex}
		out, _ = r.AppendBinary(resp)
		return OpAppKeyStatus, out, true, nil
	case OpAppKeyDelete:
		if len(params) != 3 {
			return 0, resp, false, lenErr(len(params), 3)
		}
		ni, ai := keyIndexes(params)
		st := uint8(StatusSuccess)
		if s.netKey(ni) == nil {
			st = StatusInvalidNetKeyIndex
		} else if k := s.appKey(ai); k != nil {
			if k.NetIndex != ni {
				st = StatusInvalidBinding
			} else {
				s.deleteAppKey(ai)
			}
		}
		r := AppKeyStatus{Status: st, NetKeyIndex: ni, AppKeyIndex: ai}
		out, _ = r.AppendBinary(resp)
		return OpAppKeyStatus, out, true, nil
	case OpAppKeyGet:
		if len(params) != 2 {
			return 0, resp, false, lenErr(len(params), 2)
		}
		ni := le16(params) & 0xfff
		st := uint8(StatusSuccess)
		if s.netKey(ni) == nil {
			st = StatusInvalidNetKeyIndex
		}
		resp = appendKeyIndex(append(resp, st), ni)
		var list [DefaultMaxAppKeys * 2]uint16
		n := 0
		for i := range s.AppKeys {
			if s.AppKeys[i].NetIndex == ni && n < len(list) {
				list[n] = s.AppKeys[i].Index
				n++
			}
		}
		if st != StatusSuccess {
			n = 0
		}
		return OpAppKeyList, s.appendIndexList(resp, n, func(i int) uint16 { return list[i] }), true, nil
	case OpModelAppBind, OpModelAppUnbind:
		var m ModelAppBind
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		m.Unbind = op == OpModelAppUnbind
		r := ModelAppStatus{Status: s.bind(&m), ModelAppBind: m}
		r.Unbind = false
		out, _ = r.AppendBinary(resp)
		return OpModelAppStatus, out, true, nil
	case OpModelPublicationSet:
		var m ModelPublication
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		st := s.publish(&m)
		out, _ = m.AppendBinary(append(resp, st))
		return OpModelPublicationStatus, out, true, nil
	case OpModelPublicationGet:
		if len(params) != 4 && len(params) != 6 {
			return 0, resp, false, lenErr(len(params), 4)
		}
		elem, id := le16(params), decodeModelID(params[2:])
		m := ModelPublication{ElementAddress: elem, Model: id}
		st := uint8(StatusSuccess)
		if ms := s.model(elem, id); ms == nil {
			st = s.missing(elem)
		} else {
			m = ms.Pub
			m.ElementAddress, m.Model = elem, id
		}
		out, _ = m.AppendBinary(append(resp, st))
		return OpModelPublicationStatus, out, true, nil
	case OpModelSubscriptionAdd, OpModelSubscriptionDelete, OpModelSubscriptionOverwrite:
		var m ModelSubscription
		if _, err := m.Decode(params); err != nil {
			return 0, resp, false, err
		}
		st := s.subscribe(op, &m)
		out, _ = m.AppendBinary(append(resp, st))
		return OpModelSubscriptionStatus, out, true, nil
	case OpModelSubscriptionDeleteAll:
		if len(params) != 4 && len(params) != 6 {
			return 0, resp, false, lenErr(len(params), 4)
		}
		m := ModelSubscription{ElementAddress: le16(params), Model: decodeModelID(params[2:])}
		st := uint8(StatusSuccess)
		if ms := s.model(m.ElementAddress, m.Model); ms == nil {
			st = s.missing(m.ElementAddress)
		} else {
			ms.Subs = ms.Subs[:0]
			ms.Labels = ms.Labels[:0]
		}
		out, _ = m.AppendBinary(append(resp, st))
		return OpModelSubscriptionStatus, out, true, nil
	case OpNodeReset:
		if len(params) != 0 {
			return 0, resp, false, ErrLong
		}
		s.Reset = true
		return OpNodeResetStatus, resp, true, nil
	}
	return s.handleMore(op, params, resp)
}

// missing is the status for an unknown model on elem.
func (s *ConfigServer) missing(elem uint16) uint8 {
	if !s.elementKnown(elem) {
		return StatusInvalidAddress
	}
	return StatusInvalidModel
}

func (s *ConfigServer) state(get Opcode, resp []byte) (Opcode, []byte, bool, error) {
	switch get {
	case OpDefaultTTLGet:
		return OpDefaultTTLStatus, append(resp, s.DefaultTTL), true, nil
	case OpBeaconGet:
		return OpBeaconStatus, append(resp, s.Beacon), true, nil
	case OpGATTProxyGet:
		return OpGATTProxyStatus, append(resp, s.GATTProxy), true, nil
	case OpFriendGet:
		return OpFriendStatus, append(resp, s.Friend), true, nil
	default:
		return OpRelayStatus, append(resp, s.Relay, s.RelayRetransmit), true, nil
	}
}

// appendIndexList packs key indexes two by two into 3 octets, a lone last
// index into 2 (Mesh Protocol 1.1 §4.3.1.1).
func (s *ConfigServer) appendIndexList(dst []byte, n int, at func(int) uint16) []byte {
	i := 0
	for ; i+1 < n; i += 2 {
		dst = appendKeyIndexes(dst, at(i), at(i+1))
	}
	if i < n {
		dst = appendKeyIndex(dst, at(i))
	}
	return dst
}

func (s *ConfigServer) netKeyAdd(update bool, m *NetKeyAdd) uint8 {
	k := s.netKey(m.NetKeyIndex)
	if update {
		switch {
		case k == nil:
			return StatusInvalidNetKeyIndex
		case k.Phase == 0:
			k.NewKey, k.Phase = m.NetKey, 1
			return StatusSuccess
		case k.Phase == 1 && k.NewKey == m.NetKey:
			return StatusSuccess
		default:
			return StatusCannotUpdate
		}
	}
	if k != nil {
		if k.Key == m.NetKey {
			return StatusSuccess
		}
		return StatusKeyIndexAlreadyStored
	}
	if len(s.NetKeys) >= orDefault(s.MaxNetKeys, DefaultMaxNetKeys) {
		return StatusInsufficientResources
	}
	s.NetKeys = append(s.NetKeys, NetKeyEntry{Index: m.NetKeyIndex, Key: m.NetKey})
	return StatusSuccess
}

func (s *ConfigServer) deleteNetKey(idx uint16) {
	out := s.NetKeys[:0]
	for _, k := range s.NetKeys {
		if k.Index != idx {
			out = append(out, k)
		}
	}
	s.NetKeys = out
	// Application keys bound to it go too.
	for i := 0; i < len(s.AppKeys); {
		if s.AppKeys[i].NetIndex == idx {
			s.deleteAppKey(s.AppKeys[i].Index)
			continue
		}
		i++
	}
}

func (s *ConfigServer) appKeyAdd(update bool, m *AppKeyAdd) uint8 {
	nk := s.netKey(m.NetKeyIndex)
	if nk == nil {
		return StatusInvalidNetKeyIndex
	}
	k := s.appKey(m.AppKeyIndex)
	if update {
		switch {
		case k == nil:
			return StatusInvalidAppKeyIndex
		case k.NetIndex != m.NetKeyIndex:
			return StatusInvalidBinding
		case nk.Phase != 1:
			return StatusCannotUpdate
		}
		k.NewKey, k.Updated = m.AppKey, true
		return StatusSuccess
	}
	if k != nil {
		if k.NetIndex != m.NetKeyIndex {
			return StatusInvalidNetKeyIndex
		}
		if k.Key == m.AppKey {
			return StatusSuccess
		}
		return StatusKeyIndexAlreadyStored
	}
	if len(s.AppKeys) >= orDefault(s.MaxAppKeys, DefaultMaxAppKeys) {
		return StatusInsufficientResources
	}
	s.AppKeys = append(s.AppKeys, AppKeyEntry{Index: m.AppKeyIndex, NetIndex: m.NetKeyIndex, Key: m.AppKey})
	return StatusSuccess
}

func (s *ConfigServer) deleteAppKey(idx uint16) {
	out := s.AppKeys[:0]
	for _, k := range s.AppKeys {
		if k.Index != idx {
			out = append(out, k)
		}
	}
	s.AppKeys = out
	for i := range s.Models {
		m := &s.Models[i]
		b := m.AppKeys[:0]
		for _, a := range m.AppKeys {
			if a != idx {
				b = append(b, a)
			}
		}
		m.AppKeys = b
		if m.Pub.PublishAddress != 0 && m.Pub.AppKeyIndex == idx {
			m.Pub = ModelPublication{}
		}
	}
}

func (s *ConfigServer) bind(m *ModelAppBind) uint8 {
	ms := s.model(m.ElementAddress, m.Model)
	if ms == nil {
		return s.missing(m.ElementAddress)
	}
	if s.appKey(m.AppKeyIndex) == nil {
		return StatusInvalidAppKeyIndex
	}
	for i, a := range ms.AppKeys {
		if a == m.AppKeyIndex {
			if m.Unbind {
				ms.AppKeys = append(ms.AppKeys[:i], ms.AppKeys[i+1:]...)
			}
			return StatusSuccess
		}
	}
	if m.Unbind {
		return StatusSuccess
	}
	if len(ms.AppKeys) >= orDefault(s.MaxBindings, DefaultMaxBindings) {
		return StatusInsufficientResources
	}
	ms.AppKeys = append(ms.AppKeys, m.AppKeyIndex)
	return StatusSuccess
}

func (s *ConfigServer) publish(m *ModelPublication) uint8 {
	ms := s.model(m.ElementAddress, m.Model)
	if ms == nil {
		return s.missing(m.ElementAddress)
	}
	ms.PubLabel = [16]byte{}
	if m.PublishAddress != AddrUnassigned && s.appKey(m.AppKeyIndex) == nil {
		return StatusInvalidAppKeyIndex
	}
	if m.PublishAddress == AddrUnassigned {
		ms.Pub = ModelPublication{}
		*m = ModelPublication{ElementAddress: m.ElementAddress, Model: m.Model}
		return StatusSuccess
	}
	ms.Pub = *m
	return StatusSuccess
}

func (s *ConfigServer) subscribe(op Opcode, m *ModelSubscription) uint8 {
	ms := s.model(m.ElementAddress, m.Model)
	if ms == nil {
		return s.missing(m.ElementAddress)
	}
	if !IsGroup(m.Address) || m.Address == AddrAllNodes {
		return StatusInvalidAddress
	}
	switch op {
	case OpModelSubscriptionOverwrite:
		ms.Subs = append(ms.Subs[:0], m.Address)
		ms.Labels = ms.Labels[:0]
		return StatusSuccess
	case OpModelSubscriptionDelete:
		for i, a := range ms.Subs {
			if a == m.Address {
				ms.Subs = append(ms.Subs[:i], ms.Subs[i+1:]...)
				break
			}
		}
		return StatusSuccess
	}
	for _, a := range ms.Subs {
		if a == m.Address {
			return StatusSuccess
		}
	}
	if len(ms.Subs) >= orDefault(s.MaxSubs, DefaultMaxSubs) {
		return StatusInsufficientResources
	}
	ms.Subs = append(ms.Subs, m.Address)
	return StatusSuccess
}

// StatusFor returns the status opcode a Configuration or Health client waits
// for after sending op, or ok == false for unacknowledged messages and
// statuses. It lets a client match responses to requests.
func StatusFor(op Opcode) (Opcode, bool) {
	switch op {
	case OpAppKeyAdd, OpAppKeyUpdate, OpAppKeyDelete:
		return OpAppKeyStatus, true
	case OpAppKeyGet:
		return OpAppKeyList, true
	case OpNetKeyAdd, OpNetKeyUpdate, OpNetKeyDelete:
		return OpNetKeyStatus, true
	case OpNetKeyGet:
		return OpNetKeyList, true
	case OpCompositionDataGet:
		return OpCompositionDataStatus, true
	case OpDefaultTTLGet, OpDefaultTTLSet:
		return OpDefaultTTLStatus, true
	case OpBeaconGet, OpBeaconSet:
		return OpBeaconStatus, true
	case OpGATTProxyGet, OpGATTProxySet:
		return OpGATTProxyStatus, true
	case OpFriendGet, OpFriendSet:
		return OpFriendStatus, true
	case OpRelayGet, OpRelaySet:
		return OpRelayStatus, true
	case OpModelAppBind, OpModelAppUnbind:
		return OpModelAppStatus, true
	case OpModelPublicationGet, OpModelPublicationSet, OpModelPublicationVirtualSet:
		return OpModelPublicationStatus, true
	case OpModelSubscriptionAdd, OpModelSubscriptionDelete, OpModelSubscriptionDeleteAll, OpModelSubscriptionOverwrite,
		OpModelSubscriptionVirtualAdd, OpModelSubscriptionVirtualDelete, OpModelSubscriptionVirtualOverwrite:
		return OpModelSubscriptionStatus, true
	case OpNetworkTransmitGet, OpNetworkTransmitSet:
		return OpNetworkTransmitStatus, true
	case OpHeartbeatPublicationGet, OpHeartbeatPublicationSet:
		return OpHeartbeatPublicationStatus, true
	case OpHeartbeatSubscriptionGet, OpHeartbeatSubscriptionSet:
		return OpHeartbeatSubscriptionStatus, true
	case OpSIGModelSubscriptionGet:
		return OpSIGModelSubscriptionList, true
	case OpVendorModelSubscriptionGet:
		return OpVendorModelSubscriptionList, true
	case OpSIGModelAppGet:
		return OpSIGModelAppList, true
	case OpVendorModelAppGet:
		return OpVendorModelAppList, true
	case OpLPNPollTimeoutGet:
		return OpLPNPollTimeoutStatus, true
	case OpNodeReset:
		return OpNodeResetStatus, true
	case OpKeyRefreshPhaseGet, OpKeyRefreshPhaseSet:
		return OpKeyRefreshPhaseStatus, true
	case OpNodeIdentityGet, OpNodeIdentitySet:
		return OpNodeIdentityStatus, true
	case OpHealthFaultGet, OpHealthFaultClear, OpHealthFaultTest:
		return OpHealthFaultStatus, true
	case OpHealthPeriodGet, OpHealthPeriodSet:
		return OpHealthPeriodStatus, true
	case OpAttentionGet, OpAttentionSet:
		return OpAttentionStatus, true
	}
	return 0, false
}
