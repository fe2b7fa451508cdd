package access

// Configuration model opcodes (Mesh Protocol 1.1 §4.3.4, Table 4.3).
const (
	OpAppKeyAdd                   Opcode = 0x00
	OpAppKeyUpdate                Opcode = 0x01
	OpCompositionDataStatus       Opcode = 0x02
	OpModelPublicationSet         Opcode = 0x03
	OpHealthCurrentStatus         Opcode = 0x04
	OpHealthFaultStatus           Opcode = 0x05
	OpHeartbeatPublicationStatus  Opcode = 0x06
	OpAppKeyDelete                Opcode = 0x8000
	OpAppKeyGet                   Opcode = 0x8001
	OpAppKeyList                  Opcode = 0x8002
	OpAppKeyStatus                Opcode = 0x8003
	OpAttentionGet                Opcode = 0x8004
	OpAttentionSet                Opcode = 0x8005
	OpAttentionSetUnack           Opcode = 0x8006
	OpAttentionStatus             Opcode = 0x8007
	OpCompositionDataGet          Opcode = 0x8008
	OpBeaconGet                   Opcode = 0x8009
	OpBeaconSet                   Opcode = 0x800a
	OpBeaconStatus                Opcode = 0x800b
	OpDefaultTTLGet               Opcode = 0x800c
	OpDefaultTTLSet               Opcode = 0x800d
	OpDefaultTTLStatus            Opcode = 0x800e
	OpFriendGet                   Opcode = 0x800f
	OpFriendSet                   Opcode = 0x8010
	OpFriendStatus                Opcode = 0x8011
	OpGATTProxyGet                Opcode = 0x8012
	OpGATTProxySet                Opcode = 0x8013
	OpGATTProxyStatus             Opcode = 0x8014
	OpKeyRefreshPhaseGet          Opcode = 0x8015
	OpKeyRefreshPhaseSet          Opcode = 0x8016
	OpKeyRefreshPhaseStatus       Opcode = 0x8017
	OpModelPublicationGet         Opcode = 0x8018
	OpModelPublicationStatus      Opcode = 0x8019
	OpModelPublicationVirtualSet  Opcode = 0x801a
	OpModelSubscriptionAdd        Opcode = 0x801b
	OpModelSubscriptionDelete     Opcode = 0x801c
	OpModelSubscriptionDeleteAll  Opcode = 0x801d
	OpModelSubscriptionOverwrite  Opcode = 0x801e
	OpModelSubscriptionStatus     Opcode = 0x801f
	OpModelSubscriptionVirtualAdd Opcode = 0x8020
	OpRelayGet                    Opcode = 0x8026
	OpRelaySet                    Opcode = 0x8027
	OpRelayStatus                 Opcode = 0x8028
	OpHealthFaultClear            Opcode = 0x802f
	OpHealthFaultClearUnack       Opcode = 0x8030
	OpHealthFaultGet              Opcode = 0x8031
	OpHealthFaultTest             Opcode = 0x8032
	OpHealthFaultTestUnack        Opcode = 0x8033
	OpHealthPeriodGet             Opcode = 0x8034
	OpHealthPeriodSet             Opcode = 0x8035
	OpHealthPeriodSetUnack        Opcode = 0x8036
	OpHealthPeriodStatus          Opcode = 0x8037
	OpHeartbeatPublicationGet     Opcode = 0x8038
	OpHeartbeatPublicationSet     Opcode = 0x8039
	OpModelAppBind                Opcode = 0x803d
	OpModelAppStatus              Opcode = 0x803e
	OpModelAppUnbind              Opcode = 0x803f
	OpNetKeyAdd                   Opcode = 0x8040
	OpNetKeyDelete                Opcode = 0x8041
	OpNetKeyGet                   Opcode = 0x8042
	OpNetKeyList                  Opcode = 0x8043
	OpNetKeyStatus                Opcode = 0x8044
	OpNetKeyUpdate                Opcode = 0x8045
	OpNodeIdentityGet             Opcode = 0x8046
	OpNodeIdentitySet             Opcode = 0x8047
	OpNodeIdentityStatus          Opcode = 0x8048
	OpNodeReset                   Opcode = 0x8049
	OpNodeResetStatus             Opcode = 0x804a
)

// Status codes (Mesh Protocol 1.1 §4.3.5).
const (
	StatusSuccess                        = 0x00
	StatusInvalidAddress                 = 0x01
	StatusInvalidModel                   = 0x02
	StatusInvalidAppKeyIndex             = 0x03
	StatusInvalidNetKeyIndex             = 0x04
	StatusInsufficientResources          = 0x05
	StatusKeyIndexAlreadyStored          = 0x06
	StatusInvalidPublishParameters       = 0x07
	StatusNotASubscribeModel             = 0x08
	StatusStorageFailure                 = 0x09
	StatusFeatureNotSupported            = 0x0a
	StatusCannotUpdate                   = 0x0b
	StatusCannotRemove                   = 0x0c
	StatusCannotBind                     = 0x0d
	StatusTemporarilyUnableToChangeState = 0x0e
	StatusCannotSet                      = 0x0f
	StatusUnspecifiedError               = 0x10
	StatusInvalidBinding                 = 0x11
)

// AppKeyAdd is Config AppKey Add (and, with Update set, Config AppKey
// Update): NetKeyIndex, AppKeyIndex and the 128-bit key (§4.3.2.37-38).
type AppKeyAdd struct {
	Update      bool
	NetKeyIndex uint16
	AppKeyIndex uint16
	AppKey      [16]byte
}

// Opcode returns OpAppKeyAdd or OpAppKeyUpdate.
func (m *AppKeyAdd) Opcode() Opcode {
	if m.Update {
		return OpAppKeyUpdate
	}
	return OpAppKeyAdd
}

// AppendBinary appends the parameters (without the opcode).
func (m *AppKeyAdd) AppendBinary(dst []byte) ([]byte, error) {
	if m.NetKeyIndex > 0xfff || m.AppKeyIndex > 0xfff {
		return dst, ErrRange
	}
	dst = appendKeyIndexes(dst, m.NetKeyIndex, m.AppKeyIndex)
	return append(dst, m.AppKey[:]...), nil
}

// Decode parses the parameters.
func (m *AppKeyAdd) Decode(src []byte) (int, error) {
	if len(src) != 19 {
		return 0, lenErr(len(src), 19)
	}
	m.NetKeyIndex, m.AppKeyIndex = keyIndexes(src)
	copy(m.AppKey[:], src[3:])
	return 19, nil
}

func lenErr(got, want int) error {
	if got < want {
		return ErrShort
	}
	return ErrLong
}

// AppKeyStatus is Config AppKey Status (§4.3.2.40).
type AppKeyStatus struct {
	Status      uint8
	NetKeyIndex uint16
	AppKeyIndex uint16
}

// Opcode returns OpAppKeyStatus.
func (*AppKeyStatus) Opcode() Opcode { return OpAppKeyStatus }

// AppendBinary appends the parameters.
func (m *AppKeyStatus) AppendBinary(dst []byte) ([]byte, error) {
	if m.NetKeyIndex > 0xfff || m.AppKeyIndex > 0xfff {
		return dst, ErrRange
	}
	return appendKeyIndexes(append(dst, m.Status), m.NetKeyIndex, m.AppKeyIndex), nil
}

// Decode parses the parameters.
func (m *AppKeyStatus) Decode(src []byte) (int, error) {
	if len(src) != 4 {
		return 0, lenErr(len(src), 4)
	}
	m.Status = src[0]
	m.NetKeyIndex, m.AppKeyIndex = keyIndexes(src[1:])
	return 4, nil
}

// NetKeyAdd is Config NetKey Add / Update (§4.3.2.31-32).
type NetKeyAdd struct {
	Update      bool
	NetKeyIndex uint16
	NetKey      [16]byte
}

// Opcode returns OpNetKeyAdd or OpNetKeyUpdate.
func (m *NetKeyAdd) Opcode() Opcode {
	if m.Update {
		return OpNetKeyUpdate
	}
	return OpNetKeyAdd
}

// AppendBinary appends the parameters.
func (m *NetKeyAdd) AppendBinary(dst []byte) ([]byte, error) {
	if m.NetKeyIndex > 0xfff {
		return dst, ErrRange
	}
	return append(appendKeyIndex(dst, m.NetKeyIndex), m.NetKey[:]...), nil
}

// Decode parses the parameters.
func (m *NetKeyAdd) Decode(src []byte) (int, error) {
	if len(src) != 18 {
		return 0, lenErr(len(src), 18)
	}
	if le16(src) > 0xfff {
		return 0, ErrMalformed // RFU bits of the key index
	}
	m.NetKeyIndex = le16(src)
	copy(m.NetKey[:], src[2:])
	return 18, nil
}

// NetKeyStatus is Config NetKey Status (§4.3.2.34).
type NetKeyStatus struct {
	Status      uint8
	NetKeyIndex uint16
}

// Opcode returns OpNetKeyStatus.
func (*NetKeyStatus) Opcode() Opcode { return OpNetKeyStatus }

// AppendBinary appends the parameters.
func (m *NetKeyStatus) AppendBinary(dst []byte) ([]byte, error) {
	return appendKeyIndex(append(dst, m.Status), m.NetKeyIndex), nil
}

// Decode parses the parameters.
func (m *NetKeyStatus) Decode(src []byte) (int, error) {
	if len(src) != 3 {
		return 0, lenErr(len(src), 3)
	}
	if le16(src[1:]) > 0xfff {
		return 0, ErrMalformed
	}
	m.Status, m.NetKeyIndex = src[0], le16(src[1:])
	return 3, nil
}

// ModelID identifies a model: a 16-bit SIG model ID, or a vendor model
// (CompanyID and ID, 4 octets on the wire).
type ModelID struct {
	Vendor    bool
	CompanyID uint16
	ID        uint16
}

func (m ModelID) appendTo(dst []byte) []byte {
	if m.Vendor {
		dst = append(dst, byte(m.CompanyID), byte(m.CompanyID>>8))
	}
	return append(dst, byte(m.ID), byte(m.ID>>8))
}

func decodeModelID(src []byte) ModelID {
	if len(src) == 4 {
		return ModelID{Vendor: true, CompanyID: le16(src), ID: le16(src[2:])}
	}
	return ModelID{ID: le16(src)}
}

// ModelAppBind is Config Model App Bind / Unbind (§4.3.2.46-47).
type ModelAppBind struct {
	Unbind         bool
	ElementAddress uint16
	AppKeyIndex    uint16
	Model          ModelID
}

// Opcode returns OpModelAppBind or OpModelAppUnbind.
func (m *ModelAppBind) Opcode() Opcode {
	if m.Unbind {
		return OpModelAppUnbind
	}
	return OpModelAppBind
}

// AppendBinary appends the parameters.
func (m *ModelAppBind) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, byte(m.ElementAddress), byte(m.ElementAddress>>8))
	dst = appendKeyIndex(dst, m.AppKeyIndex)
	return m.Model.appendTo(dst), nil
}

// Decode parses the parameters.
func (m *ModelAppBind) Decode(src []byte) (int, error) {
	if len(src) != 6 && len(src) != 8 {
		return 0, lenErr(len(src), 6)
	}
	if le16(src[2:]) > 0xfff {
		return 0, ErrMalformed
	}
	m.ElementAddress, m.AppKeyIndex, m.Model = le16(src), le16(src[2:]), decodeModelID(src[4:])
	return len(src), nil
}

// ModelAppStatus is Config Model App Status (§4.3.2.48).
type ModelAppStatus struct {
	Status uint8
	ModelAppBind
}

// Opcode returns OpModelAppStatus.
func (*ModelAppStatus) Opcode() Opcode { return OpModelAppStatus }

// AppendBinary appends the parameters.
func (m *ModelAppStatus) AppendBinary(dst []byte) ([]byte, error) {
	return m.ModelAppBind.AppendBinary(append(dst, m.Status))
}

// Decode parses the parameters.
func (m *ModelAppStatus) Decode(src []byte) (int, error) {
	if len(src) < 1 {
		return 0, ErrShort
	}
	m.Status = src[0]
	n, err := m.ModelAppBind.Decode(src[1:])
	return n + 1, err
}

// ModelPublication is Config Model Publication Set / Status parameters
// (§4.3.2.16, §4.3.2.18): element, publish address, AppKey index,
// credential flag, TTL, period, retransmit count and interval steps, model.
type ModelPublication struct {
	ElementAddress          uint16
	PublishAddress          uint16
	AppKeyIndex             uint16
	CredentialFlag          bool
	PublishTTL              uint8
	PublishPeriod           uint8
	RetransmitCount         uint8 // 3 bits
	RetransmitIntervalSteps uint8 // 5 bits
	Model                   ModelID
}

// Opcode returns OpModelPublicationSet.
func (*ModelPublication) Opcode() Opcode { return OpModelPublicationSet }

// AppendBinary appends the parameters.
func (m *ModelPublication) AppendBinary(dst []byte) ([]byte, error) {
	if m.AppKeyIndex > 0xfff || m.RetransmitCount > 7 || m.RetransmitIntervalSteps > 31 {
		return dst, ErrRange
	}
	idx := m.AppKeyIndex
	if m.CredentialFlag {
		idx |= 1 << 12
	}
	dst = append(dst, byte(m.ElementAddress), byte(m.ElementAddress>>8), byte(m.PublishAddress), byte(m.PublishAddress>>8),
		byte(idx), byte(idx>>8), m.PublishTTL, m.PublishPeriod, m.RetransmitCount|m.RetransmitIntervalSteps<<3)
	return m.Model.appendTo(dst), nil
}

// Decode parses the parameters.
func (m *ModelPublication) Decode(src []byte) (int, error) {
	if len(src) != 11 && len(src) != 13 {
		return 0, lenErr(len(src), 11)
	}
	m.ElementAddress, m.PublishAddress = le16(src), le16(src[2:])
	idx := le16(src[4:])
	if idx&0xe000 != 0 {
		return 0, ErrMalformed // RFU
	}
	m.AppKeyIndex, m.CredentialFlag = idx&0xfff, idx&0x1000 != 0
	m.PublishTTL, m.PublishPeriod = src[6], src[7]
	m.RetransmitCount, m.RetransmitIntervalSteps = src[8]&7, src[8]>>3
	m.Model = decodeModelID(src[9:])
	return len(src), nil
}

// ModelSubscription is Config Model Subscription Add / Delete / Overwrite
// parameters (§4.3.2.19): element, group address, model.
type ModelSubscription struct {
	ElementAddress uint16
	Address        uint16
	Model          ModelID
}

// AppendBinary appends the parameters.
func (m *ModelSubscription) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, byte(m.ElementAddress), byte(m.ElementAddress>>8), byte(m.Address), byte(m.Address>>8))
	return m.Model.appendTo(dst), nil
}

// Decode parses the parameters.
func (m *ModelSubscription) Decode(src []byte) (int, error) {
	if len(src) != 6 && len(src) != 8 {
		return 0, lenErr(len(src), 6)
	}
	m.ElementAddress, m.Address, m.Model = le16(src), le16(src[2:]), decodeModelID(src[4:])
	return len(src), nil
}

// OneOctet is the parameter of the many configuration messages that carry a
// single state octet (Default TTL, Beacon, GATT Proxy, Friend, Node
// Identity's state, ...).
type OneOctet struct{ Value uint8 }

// AppendBinary appends the parameter.
func (m *OneOctet) AppendBinary(dst []byte) ([]byte, error) { return append(dst, m.Value), nil }

// Decode parses the parameter.
func (m *OneOctet) Decode(src []byte) (int, error) {
	if len(src) != 1 {
		return 0, lenErr(len(src), 1)
	}
	m.Value = src[0]
	return 1, nil
}

// Relay is Config Relay Set / Status (§4.3.2.12-14): the Relay state and
// the relay retransmit count (3 bits) and interval steps (5 bits).
type Relay struct {
	Relay                   uint8
	RetransmitCount         uint8
	RetransmitIntervalSteps uint8
}

// AppendBinary appends the parameters.
func (m *Relay) AppendBinary(dst []byte) ([]byte, error) {
	if m.RetransmitCount > 7 || m.RetransmitIntervalSteps > 31 {
		return dst, ErrRange
	}
	return append(dst, m.Relay, m.RetransmitCount|m.RetransmitIntervalSteps<<3), nil
}

// Decode parses the parameters.
func (m *Relay) Decode(src []byte) (int, error) {
	if len(src) != 2 {
		return 0, lenErr(len(src), 2)
	}
	m.Relay, m.RetransmitCount, m.RetransmitIntervalSteps = src[0], src[1]&7, src[1]>>3
	return 2, nil
}
