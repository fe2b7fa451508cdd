package access

// Bridge configuration opcodes (Mesh Protocol 1.1 §4.3.4, subnet bridge).
const (
	OpSubnetBridgeGet             Opcode = 0x80b1
	OpSubnetBridgeSet             Opcode = 0x80b2
	OpSubnetBridgeStatus          Opcode = 0x80b3
	OpBridgingTableAdd            Opcode = 0x80b4
	OpBridgingTableRemove         Opcode = 0x80b5
	OpBridgingTableStatus         Opcode = 0x80b6
	OpBridgedSubnetsGet           Opcode = 0x80b7
	OpBridgedSubnetsList          Opcode = 0x80b8
	OpBridgingTableGet            Opcode = 0x80b9
	OpBridgingTableList           Opcode = 0x80ba
	OpBridgingTableSizeGet        Opcode = 0x80bb
	OpBridgingTableSizeStatus     Opcode = 0x80bc
	OpHeartbeatSubscriptionGet    Opcode = 0x803a
	OpHeartbeatSubscriptionSet    Opcode = 0x803b
	OpHeartbeatSubscriptionStatus Opcode = 0x803c
)

// FieldKind is how a message field is laid out.
type FieldKind uint8

// Field kinds.
const (
	KindU8           FieldKind = iota // one octet
	KindU16                           // two octets, little-endian
	KindKeyIndex                      // 12-bit key index in two octets
	KindKeyIndexPair                  // two 12-bit key indexes in three octets (Name, Name2)
	KindKey                           // 16-octet key
	KindModel                         // SIG (2) or vendor (4) model ID: the rest of the message
	KindRest                          // the rest of the message, as octets
	KindFilterIndex                   // 2-bit filter (Name) and 12-bit NetKey index (Name2) in two octets
)

// FieldDesc describes one field of a message layout.
type FieldDesc struct {
	Name, Name2 string
	Kind        FieldKind
}

// Field is one decoded field: a number, or octets (aliasing the message)
// for KindKey and KindRest.
type Field struct {
	Name    string
	Value   uint64
	Bytes   []byte
	IsBytes bool
}

type fd = FieldDesc

var (
	lStatus  = fd{"status", "", KindU8}
	lElement = fd{"element_address", "", KindU16}
	lModel   = fd{"model_identifier", "", KindModel}
	lNetIdx  = fd{"net_key_index", "", KindKeyIndex}
	lAppIdx  = fd{"app_key_index", "", KindKeyIndex}
	lPair    = fd{"net_key_index", "app_key_index", KindKeyIndexPair}
	lBrPair  = fd{"net_key_index1", "net_key_index2", KindKeyIndexPair}
	lAddr1   = fd{"address1", "", KindU16}
	lAddr2   = fd{"address2", "", KindU16}
	lHbPub   = []fd{{"destination", "", KindU16}, {"count_log", "", KindU8}, {"period_log", "", KindU8}, {"ttl", "", KindU8}, {"features", "", KindU16}, lNetIdx}

	// Layouts, built once; Layout returns them (read-only).
	layout0  = []fd{lPair, {"app_key", "", KindKey}}
	layout1  = []fd{lPair}
	layout2  = []fd{lStatus, lPair}
	layout3  = []fd{lNetIdx}
	layout4  = []fd{lStatus, lNetIdx, {"app_key_indexes", "", KindRest}}
	layout5  = []fd{lNetIdx, {"net_key", "", KindKey}}
	layout6  = []fd{lStatus, lNetIdx}
	layout7  = []fd{{"net_key_indexes", "", KindRest}}
	layout8  = []fd{{"page", "", KindU8}}
	layout9  = []fd{{"page", "", KindU8}, {"data", "", KindRest}}
	layout10 = []fd{{"ttl", "", KindU8}}
	layout11 = []fd{{"beacon", "", KindU8}}
	layout12 = []fd{{"gatt_proxy", "", KindU8}}
	layout13 = []fd{{"friend", "", KindU8}}
	layout14 = []fd{{"relay", "", KindU8}, {"relay_retransmit", "", KindU8}}
	layout15 = []fd{lElement, lAppIdx, lModel}
	layout16 = []fd{lStatus, lElement, lAppIdx, lModel}
	layout17 = []fd{lElement, {"address", "", KindU16}, lModel}
	layout18 = []fd{lStatus, lElement, {"address", "", KindU16}, lModel}
	layout19 = []fd{lElement, lModel}
	layout20 = []fd{lNetIdx, {"transition", "", KindU8}}
	layout21 = []fd{lStatus, lNetIdx, {"phase", "", KindU8}}
	layout22 = []fd{lNetIdx, {"identity", "", KindU8}}
	layout23 = []fd{lStatus, lNetIdx, {"identity", "", KindU8}}
	layout24 = lHbPub
	layout25 = []fd{lStatus, lHbPub[0], lHbPub[1], lHbPub[2], lHbPub[3], lHbPub[4], lHbPub[5]}
	layout26 = []fd{{"source", "", KindU16}, {"destination", "", KindU16}, {"period_log", "", KindU8}}
	layout27 = []fd{lStatus, {"source", "", KindU16}, {"destination", "", KindU16}, {"period_log", "", KindU8}, {"count_log", "", KindU8}, {"min_hops", "", KindU8}, {"max_hops", "", KindU8}}
	layout28 = []fd{{"company_id", "", KindU16}}
	layout29 = []fd{{"test_id", "", KindU8}, {"company_id", "", KindU16}}
	layout30 = []fd{{"test_id", "", KindU8}, {"company_id", "", KindU16}, {"fault_array", "", KindRest}}
	layout31 = []fd{{"fast_period_divisor", "", KindU8}}
	layout32 = []fd{{"attention", "", KindU8}}
	layout33 = []fd{{"subnet_bridge", "", KindU8}}
	layout42 = []fd{lElement, {"label", "", KindKey}, lModel}
	layout43 = []fd{{"network_transmit", "", KindU8}}
	layout44 = []fd{{"lpn_address", "", KindU16}}
	layout45 = []fd{{"lpn_address", "", KindU16}, {"poll_timeout", "", KindRest}}
	layout34 = []fd{{"directions", "", KindU8}, lBrPair, lAddr1, lAddr2}
	layout35 = []fd{lBrPair, lAddr1, lAddr2}
	layout36 = []fd{lStatus, {"directions", "", KindU8}, lBrPair, lAddr1, lAddr2}
	layout37 = []fd{{"filter", "net_key_index", KindFilterIndex}, {"start_index", "", KindU8}}
	layout38 = []fd{{"filter", "net_key_index", KindFilterIndex}, {"start_index", "", KindU8}, {"bridged_subnets_list", "", KindRest}}
	layout39 = []fd{lBrPair, {"start_index", "", KindU16}}
	layout40 = []fd{lStatus, lBrPair, {"start_index", "", KindU16}, {"bridged_addresses_list", "", KindRest}}
	layout41 = []fd{{"bridging_table_size", "", KindU16}}
)

// Layout returns the field layout of a foundation model message (the
// Configuration and Health models, including the Mesh 1.1 subnet bridge
// messages). ok is false for opcodes without a fixed layout here. The
// returned slice is shared and must not be modified.
func Layout(op Opcode) (fields []FieldDesc, ok bool) {
	switch op {
	case OpAppKeyAdd, OpAppKeyUpdate:
		return layout0, true
	case OpAppKeyDelete:
		return layout1, true
	case OpAppKeyStatus:
		return layout2, true
	case OpAppKeyGet, OpNetKeyDelete, OpKeyRefreshPhaseGet, OpNodeIdentityGet:
		return layout3, true
	case OpAppKeyList:
		return layout4, true
	case OpNetKeyAdd, OpNetKeyUpdate:
		return layout5, true
	case OpNetKeyStatus:
		return layout6, true
	case OpNetKeyList:
		return layout7, true
	case OpCompositionDataGet:
		return layout8, true
	case OpCompositionDataStatus:
		return layout9, true
	case OpDefaultTTLSet, OpDefaultTTLStatus:
		return layout10, true
	case OpBeaconSet, OpBeaconStatus:
		return layout11, true
	case OpGATTProxySet, OpGATTProxyStatus:
		return layout12, true
	case OpFriendSet, OpFriendStatus:
		return layout13, true
	case OpRelaySet, OpRelayStatus:
		return layout14, true
	case OpModelAppBind, OpModelAppUnbind:
		return layout15, true
	case OpModelAppStatus:
		return layout16, true
	case OpModelSubscriptionAdd, OpModelSubscriptionDelete, OpModelSubscriptionOverwrite:
		return layout17, true
	case OpModelSubscriptionStatus:
		return layout18, true
	case OpModelSubscriptionDeleteAll, OpModelPublicationGet, OpSIGModelSubscriptionGet, OpVendorModelSubscriptionGet,
		OpSIGModelAppGet, OpVendorModelAppGet:
		return layout19, true
	case OpModelSubscriptionVirtualAdd, OpModelSubscriptionVirtualDelete, OpModelSubscriptionVirtualOverwrite:
		return layout42, true
	case OpNetworkTransmitSet, OpNetworkTransmitStatus:
		return layout43, true
	case OpLPNPollTimeoutGet:
		return layout44, true
	case OpLPNPollTimeoutStatus:
		return layout45, true
	case OpKeyRefreshPhaseSet:
		return layout20, true
	case OpKeyRefreshPhaseStatus:
		return layout21, true
	case OpNodeIdentitySet:
		return layout22, true
	case OpNodeIdentityStatus:
		return layout23, true
	case OpHeartbeatPublicationSet:
		return layout24, true
	case OpHeartbeatPublicationStatus:
		return layout25, true
	case OpHeartbeatSubscriptionSet:
		return layout26, true
	case OpHeartbeatSubscriptionStatus:
		return layout27, true
	case OpHealthFaultGet, OpHealthFaultClear, OpHealthFaultClearUnack:
		return layout28, true
	case OpHealthFaultTest, OpHealthFaultTestUnack:
		return layout29, true
	case OpHealthCurrentStatus, OpHealthFaultStatus:
		return layout30, true
	case OpHealthPeriodSet, OpHealthPeriodSetUnack, OpHealthPeriodStatus:
		return layout31, true
	case OpAttentionSet, OpAttentionSetUnack, OpAttentionStatus:
		return layout32, true
	case OpSubnetBridgeSet, OpSubnetBridgeStatus:
		return layout33, true
	case OpBridgingTableAdd:
		return layout34, true
	case OpBridgingTableRemove:
		return layout35, true
	case OpBridgingTableStatus:
		return layout36, true
	case OpBridgedSubnetsGet:
		return layout37, true
	case OpBridgedSubnetsList:
		return layout38, true
	case OpBridgingTableGet:
		return layout39, true
	case OpBridgingTableList:
		return layout40, true
	case OpBridgingTableSizeStatus:
		return layout41, true
	case OpSubnetBridgeGet, OpBridgingTableSizeGet, OpNodeReset, OpNodeResetStatus, OpNetKeyGet,
		OpDefaultTTLGet, OpBeaconGet, OpGATTProxyGet, OpFriendGet, OpRelayGet, OpHealthPeriodGet, OpAttentionGet,
		OpNetworkTransmitGet, OpHeartbeatPublicationGet, OpHeartbeatSubscriptionGet:
		return nil, true
	}
	return nil, false
}

// DecodeFields splits params by the layout of op and appends the fields to
// dst. It fails on opcodes without a layout, short or over-long messages,
// and key indexes with prohibited bits set.
func DecodeFields(op Opcode, params []byte, dst []Field) ([]Field, error) {
	layout, ok := Layout(op)
	if !ok {
		return dst, ErrOpcode
	}
	p := params
	for _, f := range layout {
		switch f.Kind {
		case KindU8:
			if len(p) < 1 {
				return dst, ErrShort
			}
			dst = append(dst, Field{Name: f.Name, Value: uint64(p[0])})
			p = p[1:]
		case KindU16, KindKeyIndex, KindFilterIndex:
			if len(p) < 2 {
				return dst, ErrShort
			}
			v := le16(p)
			switch f.Kind {
			case KindKeyIndex:
				if v > 0xfff {
					return dst, ErrMalformed
				}
				dst = append(dst, Field{Name: f.Name, Value: uint64(v)})
			case KindFilterIndex:
				if v&0x0c != 0 {
					return dst, ErrMalformed // Prohibited bits
				}
				dst = append(dst, Field{Name: f.Name, Value: uint64(v & 3)}, Field{Name: "prohibited", Value: 0}, Field{Name: f.Name2, Value: uint64(v >> 4)})
			default:
				dst = append(dst, Field{Name: f.Name, Value: uint64(v)})
			}
			p = p[2:]
		case KindKeyIndexPair:
			if len(p) < 3 {
				return dst, ErrShort
			}
			a, b := keyIndexes(p)
			dst = append(dst, Field{Name: f.Name, Value: uint64(a)}, Field{Name: f.Name2, Value: uint64(b)})
			p = p[3:]
		case KindKey:
			if len(p) < 16 {
				return dst, ErrShort
			}
			dst = append(dst, Field{Name: f.Name, Bytes: p[:16], IsBytes: true})
			p = p[16:]
		case KindModel:
			if len(p) != 2 && len(p) != 4 {
				return dst, ErrMalformed
			}
			m := decodeModelID(p)
			v := uint64(m.ID)
			if m.Vendor {
				v |= uint64(m.CompanyID) << 16
			}
			dst = append(dst, Field{Name: f.Name, Value: v})
			p = nil
		case KindRest:
			dst = append(dst, Field{Name: f.Name, Bytes: p, IsBytes: true})
			p = nil
		}
	}
	if len(p) != 0 {
		return dst, ErrLong
	}
	return dst, nil
}
