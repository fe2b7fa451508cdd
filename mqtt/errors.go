package mqtt

import "errors"

// Sentinel errors. Protocol violations found while decoding are *[Error]
// values, which match [ErrMalformed] or [ErrProtocol] with errors.Is
// according to their reason code.
var (
	// ErrIncomplete reports that src holds only part of a packet. The caller
	// reads more bytes and calls again with the longer slice; nothing was
	// consumed.
	ErrIncomplete = errors.New("mqtt: incomplete packet")

	// ErrMalformed matches every decode error whose reason code is
	// Malformed Packet (0x81).
	ErrMalformed = errors.New("mqtt: malformed packet")

	// ErrProtocol matches every decode error whose reason code is Protocol
	// Error (0x82).
	ErrProtocol = errors.New("mqtt: protocol error")

	// ErrPacketTooLarge reports a packet whose remaining length exceeds the
	// configured maximum (reason code 0x95). It matches with errors.Is and
	// carries [PacketTooLarge] via [ReasonOf].
	ErrPacketTooLarge error = &Error{Code: PacketTooLarge, msg: "packet exceeds the maximum packet size"}

	// ErrWrongType reports that a packet's type is not the one the Decode
	// method was called for.
	ErrWrongType = errors.New("mqtt: wrong packet type for this decoder")

	// ErrVersion reports a packet that does not exist in the version in use,
	// such as AUTH under MQTT 3.1.1, or an unknown Version value.
	ErrVersion error = &Error{Code: ProtocolError, msg: "packet or field not defined in this protocol version"}

	// ErrEncode reports a packet value that cannot be encoded because it
	// breaks a rule of the wire format (its detail names the field).
	ErrEncode = errors.New("mqtt: invalid packet value for encoding")
)

// Error is a protocol violation found in a packet: the MQTT 5 reason code the
// receiver should report (Malformed Packet or Protocol Error, mostly), the id
// of the normative statement that was broken, and a short description.
// Errors are preallocated values, so returning one never allocates; compare
// with errors.Is against [ErrMalformed] and [ErrProtocol], or extract with
// errors.As / [ReasonOf]. Error values are immutable and safe for concurrent
// use.
type Error struct {
	// Code is the reason code for a DISCONNECT or CONNACK.
	Code ReasonCode
	// Rule is the normative statement id, such as "MQTT-1.5.4-2", or the
	// section ("§3.3.2.3.4") where the rule has no id; "" for none.
	Rule string
	msg  string
}

// Error returns "mqtt: <description> [<rule>] (<reason>)".
func (e *Error) Error() string {
	s := "mqtt: " + e.msg
	if e.Rule != "" {
		s += " [" + e.Rule + "]"
	}
	return s + " (" + e.Code.String() + ")"
}

// Detail returns the description without the package prefix, rule and code.
func (e *Error) Detail() string { return e.msg }

// Is reports whether target is ErrMalformed or ErrProtocol and e carries the
// matching reason code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrMalformed:
		return e.Code == MalformedPacket
	case ErrProtocol:
		return e.Code == ProtocolError
	}
	return false
}

// encodeError is an *Error-like failure of AppendBinary; it matches ErrEncode.
type encodeError struct{ msg string }

func (e *encodeError) Error() string        { return "mqtt: cannot encode: " + e.msg }
func (e *encodeError) Is(target error) bool { return target == ErrEncode }

// ReasonOf returns the reason code carried by err (an *[Error] anywhere in its
// chain), or UnspecifiedError (0x80) when err carries none, or Success when err
// is nil.
func ReasonOf(err error) ReasonCode {
	if err == nil {
		return Success
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return UnspecifiedError
}

func malformed(rule, msg string) *Error { return &Error{Code: MalformedPacket, Rule: rule, msg: msg} }
func protocol(rule, msg string) *Error  { return &Error{Code: ProtocolError, Rule: rule, msg: msg} }

// Decode errors. Each is built once; the rule id sits at the check too.
var (
	errVarint         = malformed("MQTT-1.5.5-1", "variable byte integer longer than 4 bytes")
	errVarintMinimal  = malformed("MQTT-1.5.5-1", "variable byte integer not minimally encoded")
	errShort          = malformed("§2.1.4", "remaining length too short for the packet's fields")
	errTrailing       = malformed("§2.1.4", "bytes left over after the packet's fields")
	errBadUTF8        = malformed("MQTT-1.5.4-1", "ill-formed UTF-8 string")
	errNullChar       = malformed("MQTT-1.5.4-2", "UTF-8 string contains U+0000")
	errReservedFlags  = malformed("MQTT-2.1.3-1", "reserved fixed header flags have the wrong value")
	errReservedType   = malformed("§2.1.2", "reserved packet type 0")
	errQoS3           = malformed("MQTT-3.3.1-4", "QoS 3 is not allowed")
	errDupQoS0        = malformed("MQTT-3.3.1-2", "DUP set on a QoS 0 PUBLISH")
	errZeroID         = protocol("MQTT-2.2.1-3", "packet identifier 0 where a non-zero one is required")
	errPropID         = malformed("§2.2.2.2", "unknown property identifier")
	errPropNotAllowed = malformed("§2.2.2.2", "property not allowed in this packet type")
	errPropRepeated   = protocol("§2.2.2.2", "property included more than once")
	errPropValue      = protocol("§3", "property value out of range")
	errPropLen        = malformed("§2.2.2.1", "property length exceeds the packet")
	errAuthDataNoMeth = protocol("§3.1.2.11.10", "authentication data without authentication method")
	errTopicWildcard  = malformed("MQTT-3.3.2-2", "topic name contains a wildcard")
	errTopicEmpty     = malformed("MQTT-4.7.3-1", "empty topic name or filter")
	errTopicEmptyV5   = protocol("§3.3.2.3.4", "empty topic name without a topic alias")
	errFilterSyntax   = malformed("MQTT-4.7.1-1", "'#' not alone as the last level of a topic filter")
	errFilterPlus     = malformed("MQTT-4.7.1-2", "'+' does not occupy an entire level of a topic filter")
	errShareName      = malformed("MQTT-4.8.2-1", "invalid share name in a shared subscription")
	errShareFilter    = malformed("MQTT-4.8.2-2", "shared subscription without a topic filter")
	errRespTopic      = malformed("MQTT-3.3.2-14", "response topic contains a wildcard")
	errSubIDZero      = protocol("§3.3.4", "subscription identifier 0")
	errTopicAliasZero = protocol("MQTT-3.3.2-8", "topic alias 0")
	errNoFilters      = protocol("MQTT-3.8.3-2", "SUBSCRIBE or UNSUBSCRIBE without topic filters")
	errSubOptReserved = malformed("MQTT-3.8.3-5", "reserved subscription option bits set")
	errRetainHandling = protocol("§3.8.3.1", "retain handling 3")
	errSharedNoLocal  = protocol("MQTT-3.8.3-4", "no local set on a shared subscription")
	errProtoName      = protocol("MQTT-3.1.2-1", "unknown protocol name")
	errProtoLevel     = &Error{Code: UnsupportedProtocolVersion, Rule: "MQTT-3.1.2-2", msg: "unsupported protocol level"}
	errConnReserved   = malformed("MQTT-3.1.2-3", "CONNECT reserved flag set")
	errWillQoS        = malformed("MQTT-3.1.2-11", "will QoS set without a will")
	errWillRetain     = malformed("MQTT-3.1.2-13", "will retain set without a will")
	errWillQoS3       = malformed("MQTT-3.1.2-12", "will QoS 3")
	errPassNoUser     = malformed("MQTT-3.1.2-22", "password without user name (MQTT 3.1.1)")
	errEmptyClientID  = &Error{Code: ClientIdentifierNotValid, Rule: "MQTT-3.1.3-8", msg: "empty client identifier without clean session (3.1.1)"}
	errDirection      = protocol("§2.1.2", "packet type does not flow in this direction")
	errFirstConnect   = protocol("MQTT-3.1.0-1", "first packet from a client is not CONNECT")
	errSecondConnect  = protocol("MQTT-3.1.0-2", "second CONNECT on a connection")
	errFirstConnack   = protocol("MQTT-3.2.0-1", "first packet from a server is not CONNACK (or AUTH)")
	errClientSubID    = protocol("MQTT-3.3.4-6", "subscription identifier in a PUBLISH from a client")
	errConnackFlags   = malformed("MQTT-3.2.2-1", "CONNACK reserved flags set")
	errSessionPresent = protocol("MQTT-3.2.2-6", "session present with a non-zero reason code")
	errReasonCode     = protocol("§2.4", "reason code not valid for this packet type")
	errReturnCode     = protocol("§3.2.2.3", "MQTT 3.1.1 CONNACK return code above 5")
	errSubackCode     = protocol("MQTT-3.9.3-2", "SUBACK return code not valid")
)

// Encode errors.
var (
	errEncQoS       = &encodeError{"QoS above 2"}
	errEncID        = &encodeError{"packet identifier 0 with QoS > 0, or non-zero with QoS 0"}
	errEncString    = &encodeError{"string or binary field longer than 65535 bytes"}
	errEncTooLarge  = &encodeError{"remaining length above 268435455"}
	errEncProps     = &encodeError{"property not allowed in this packet type or version"}
	errEncPropValue = &encodeError{"property value out of range"}
	errEncTopic     = &encodeError{"invalid topic name or filter"}
	errEncVersion   = &encodeError{"unknown protocol version"}
	errEncFilters   = &encodeError{"no topic filters"}
	errEncReason    = &encodeError{"reason code not valid for this packet type or version"}
	errEncOptions   = &encodeError{"subscription options out of range"}
	errEncWill      = &encodeError{"invalid will (QoS above 2)"}
	errEncUTF8      = &encodeError{"string is not valid MQTT UTF-8"}
	errEncType      = &encodeError{"packet type does not match this struct"}
	errEncClientID  = &encodeError{"empty client identifier without clean session (3.1.1)"}
)

var (
	errSubQoS3   = protocol("§3.8.3.1", "subscription maximum QoS 3")
	errSubQoS3V3 = malformed("MQTT-3.8.3-4", "subscription QoS 3 or reserved bits set (3.1.1)")
	errNoCodes   = malformed("§3.9.3", "SUBACK or UNSUBACK without reason codes")
)
