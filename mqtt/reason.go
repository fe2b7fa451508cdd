package mqtt

import "strconv"

// ReasonCode is an MQTT 5 reason code (§2.4). Values below 0x80 report
// success. Under MQTT 3.1.1 the same type carries CONNACK return codes (0-5)
// and SUBACK return codes (0, 1, 2, 0x80). The zero value is Success.
type ReasonCode uint8

// Reason codes of MQTT 5.0, §2.4, Table 2-6.
const (
	Success                             ReasonCode = 0x00 // also Normal disconnection, Granted QoS 0
	NormalDisconnection                 ReasonCode = 0x00
	GrantedQoS0                         ReasonCode = 0x00
	GrantedQoS1                         ReasonCode = 0x01
	GrantedQoS2                         ReasonCode = 0x02
	DisconnectWithWill                  ReasonCode = 0x04
	NoMatchingSubscribers               ReasonCode = 0x10
	NoSubscriptionExisted               ReasonCode = 0x11
	ContinueAuthentication              ReasonCode = 0x18
	ReAuthenticate                      ReasonCode = 0x19
	UnspecifiedError                    ReasonCode = 0x80
	MalformedPacket                     ReasonCode = 0x81
	ProtocolError                       ReasonCode = 0x82
	ImplementationSpecificError         ReasonCode = 0x83
	UnsupportedProtocolVersion          ReasonCode = 0x84
	ClientIdentifierNotValid            ReasonCode = 0x85
	BadUserNameOrPassword               ReasonCode = 0x86
	NotAuthorized                       ReasonCode = 0x87
	ServerUnavailable                   ReasonCode = 0x88
	ServerBusy                          ReasonCode = 0x89
	Banned                              ReasonCode = 0x8A
	ServerShuttingDown                  ReasonCode = 0x8B
	BadAuthenticationMethod             ReasonCode = 0x8C
	KeepAliveTimeout                    ReasonCode = 0x8D
	SessionTakenOver                    ReasonCode = 0x8E
	TopicFilterInvalid                  ReasonCode = 0x8F
	TopicNameInvalid                    ReasonCode = 0x90
	PacketIdentifierInUse               ReasonCode = 0x91
	PacketIdentifierNotFound            ReasonCode = 0x92
	ReceiveMaximumExceeded              ReasonCode = 0x93
	TopicAliasInvalid                   ReasonCode = 0x94
	PacketTooLarge                      ReasonCode = 0x95
	MessageRateTooHigh                  ReasonCode = 0x96
	QuotaExceeded                       ReasonCode = 0x97
	AdministrativeAction                ReasonCode = 0x98
	PayloadFormatInvalid                ReasonCode = 0x99
	RetainNotSupported                  ReasonCode = 0x9A
	QoSNotSupported                     ReasonCode = 0x9B
	UseAnotherServer                    ReasonCode = 0x9C
	ServerMoved                         ReasonCode = 0x9D
	SharedSubscriptionsNotSupported     ReasonCode = 0x9E
	ConnectionRateExceeded              ReasonCode = 0x9F
	MaximumConnectTime                  ReasonCode = 0xA0
	SubscriptionIdentifiersNotSupported ReasonCode = 0xA1
	WildcardSubscriptionsNotSupported   ReasonCode = 0xA2
)

// MQTT 3.1.1 CONNACK return codes (§3.2.2.3 of 3.1.1), carried in
// [Connack.Code] when the version is 3.1.1 or 3.1.
const (
	ConnAccepted                ReasonCode = 0
	ConnRefusedProtocolVersion  ReasonCode = 1
	ConnRefusedIdentifier       ReasonCode = 2
	ConnRefusedServerUnavail    ReasonCode = 3
	ConnRefusedBadUserNameOrPwd ReasonCode = 4
	ConnRefusedNotAuthorized    ReasonCode = 5
	// SubackFailure is the MQTT 3.1.1 SUBACK failure return code.
	SubackFailure ReasonCode = 0x80
)

// reasonNames is indexed by the wire value; "" marks an unassigned code.
var reasonNames = [256]string{
	0x00: "success", 0x01: "granted QoS 1", 0x02: "granted QoS 2",
	0x04: "disconnect with will message", 0x10: "no matching subscribers",
	0x11: "no subscription existed", 0x18: "continue authentication",
	0x19: "re-authenticate", 0x80: "unspecified error", 0x81: "malformed packet",
	0x82: "protocol error", 0x83: "implementation specific error",
	0x84: "unsupported protocol version", 0x85: "client identifier not valid",
	0x86: "bad user name or password", 0x87: "not authorized",
	0x88: "server unavailable", 0x89: "server busy", 0x8A: "banned",
	0x8B: "server shutting down", 0x8C: "bad authentication method",
	0x8D: "keep alive timeout", 0x8E: "session taken over",
	0x8F: "topic filter invalid", 0x90: "topic name invalid",
	0x91: "packet identifier in use", 0x92: "packet identifier not found",
	0x93: "receive maximum exceeded", 0x94: "topic alias invalid",
	0x95: "packet too large", 0x96: "message rate too high",
	0x97: "quota exceeded", 0x98: "administrative action",
	0x99: "payload format invalid", 0x9A: "retain not supported",
	0x9B: "QoS not supported", 0x9C: "use another server", 0x9D: "server moved",
	0x9E: "shared subscriptions not supported", 0x9F: "connection rate exceeded",
	0xA0: "maximum connect time", 0xA1: "subscription identifiers not supported",
	0xA2: "wildcard subscriptions not supported",
}

// String returns the reason code's name from Table 2-6 (the first name where
// a value has several, e.g. "success" for 0x00), or "reason code 0xNN" for an
// unassigned value.
func (c ReasonCode) String() string {
	if s := reasonNames[c]; s != "" {
		return s
	}
	return "reason code 0x" + strconv.FormatUint(uint64(c), 16)
}

// IsError reports whether c signals failure (0x80 and above).
func (c ReasonCode) IsError() bool { return c >= 0x80 }

// ValidFor reports whether c may appear in a packet of type t under MQTT 5.
func (c ReasonCode) ValidFor(t PacketType) bool {
	return t < 16 && reasonAllowed[c]&(1<<t) != 0
}

const (
	rConnack    = 1 << TypeConnack
	rPuback     = 1 << TypePuback
	rPubrec     = 1 << TypePubrec
	rPubrel     = 1 << TypePubrel
	rPubcomp    = 1 << TypePubcomp
	rSuback     = 1 << TypeSuback
	rUnsuback   = 1 << TypeUnsuback
	rDisconnect = 1 << TypeDisconnect
	rAuth       = 1 << TypeAuth
	rAll        = rConnack | rPuback | rPubrec | rPubrel | rPubcomp | rSuback | rUnsuback | rDisconnect | rAuth
)

// reasonAllowed is the "Packets" column of Table 2-6 as a bitmask of packet
// types per reason code, indexed by the wire value. Unassigned codes are 0:
// valid nowhere.
var reasonAllowed = [256]uint16{
	0x00: rAll,
	0x01: rSuback,
	0x02: rSuback,
	0x04: rDisconnect,
	0x10: rPuback | rPubrec,
	0x11: rUnsuback,
	0x18: rAuth,
	0x19: rAuth,
	0x80: rConnack | rPuback | rPubrec | rSuback | rUnsuback | rDisconnect,
	0x81: rConnack | rDisconnect,
	0x82: rConnack | rDisconnect,
	0x83: rConnack | rPuback | rPubrec | rSuback | rUnsuback | rDisconnect,
	0x84: rConnack,
	0x85: rConnack,
	0x86: rConnack,
	0x87: rConnack | rPuback | rPubrec | rSuback | rUnsuback | rDisconnect,
	0x88: rConnack,
	0x89: rConnack | rDisconnect,
	0x8A: rConnack,
	0x8B: rDisconnect,
	0x8C: rConnack,
	0x8D: rDisconnect,
	0x8E: rDisconnect,
	0x8F: rSuback | rUnsuback | rDisconnect,
	0x90: rConnack | rPuback | rPubrec | rDisconnect,
	0x91: rPuback | rPubrec | rSuback | rUnsuback,
	0x92: rPubrel | rPubcomp,
	0x93: rDisconnect,
	0x94: rDisconnect,
	0x95: rConnack | rDisconnect,
	0x96: rDisconnect,
	0x97: rConnack | rPuback | rPubrec | rSuback | rDisconnect,
	0x98: rDisconnect,
	0x99: rConnack | rPuback | rPubrec | rDisconnect,
	0x9A: rConnack | rDisconnect,
	0x9B: rConnack | rDisconnect,
	0x9C: rConnack | rDisconnect,
	0x9D: rConnack | rDisconnect,
	0x9E: rSuback | rDisconnect,
	0x9F: rConnack | rDisconnect,
	0xA0: rDisconnect,
	0xA1: rSuback | rDisconnect,
	0xA2: rSuback | rDisconnect,
}
