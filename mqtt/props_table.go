package mqtt

// Property tables from MQTT 5.0 §2.2.2.2, Table 2-4 ("Properties"), indexed
// by the wire identifier. Holes are zero: PropTypeInvalid, allowed nowhere,
// no name. TestPropTables checks propMask is the transpose of propAllowed.

// propType is the "Type" column.
var propType = [256]PropType{
	PropPayloadFormat:        PropTypeByte,
	PropMessageExpiry:        PropTypeUint32,
	PropContentType:          PropTypeString,
	PropResponseTopic:        PropTypeString,
	PropCorrelationData:      PropTypeBinary,
	PropSubscriptionID:       PropTypeVarint,
	PropSessionExpiry:        PropTypeUint32,
	PropAssignedClientID:     PropTypeString,
	PropServerKeepAlive:      PropTypeUint16,
	PropAuthMethod:           PropTypeString,
	PropAuthData:             PropTypeBinary,
	PropRequestProblemInfo:   PropTypeByte,
	PropWillDelay:            PropTypeUint32,
	PropRequestResponseInfo:  PropTypeByte,
	PropResponseInfo:         PropTypeString,
	PropServerReference:      PropTypeString,
	PropReasonString:         PropTypeString,
	PropReceiveMax:           PropTypeUint16,
	PropTopicAliasMax:        PropTypeUint16,
	PropTopicAlias:           PropTypeUint16,
	PropMaxQoS:               PropTypeByte,
	PropRetainAvailable:      PropTypeByte,
	PropUser:                 PropTypePair,
	PropMaxPacketSize:        PropTypeUint32,
	PropWildcardSubAvailable: PropTypeByte,
	PropSubIDAvailable:       PropTypeByte,
	PropSharedSubAvailable:   PropTypeByte,
}

// Bits of packet types for propAllowed; bit 0 (the reserved type) stands
// for the will properties of CONNECT.
const (
	pWill        = 1 << 0
	pConnect     = 1 << TypeConnect
	pConnack     = 1 << TypeConnack
	pPublish     = 1 << TypePublish
	pPuback      = 1 << TypePuback
	pPubrec      = 1 << TypePubrec
	pPubrel      = 1 << TypePubrel
	pPubcomp     = 1 << TypePubcomp
	pSubscribe   = 1 << TypeSubscribe
	pSuback      = 1 << TypeSuback
	pUnsubscribe = 1 << TypeUnsubscribe
	pUnsuback    = 1 << TypeUnsuback
	pDisconnect  = 1 << TypeDisconnect
	pAuth        = 1 << TypeAuth
)

// propAllowed is the "Packet / Will Properties" column as a bitmask of
// packet types.
var propAllowed = [256]uint16{
	PropPayloadFormat:        pPublish | pWill,
	PropMessageExpiry:        pPublish | pWill,
	PropContentType:          pPublish | pWill,
	PropResponseTopic:        pPublish | pWill,
	PropCorrelationData:      pPublish | pWill,
	PropSubscriptionID:       pPublish | pSubscribe,
	PropSessionExpiry:        pConnect | pConnack | pDisconnect,
	PropAssignedClientID:     pConnack,
	PropServerKeepAlive:      pConnack,
	PropAuthMethod:           pConnect | pConnack | pAuth,
	PropAuthData:             pConnect | pConnack | pAuth,
	PropRequestProblemInfo:   pConnect,
	PropWillDelay:            pWill,
	PropRequestResponseInfo:  pConnect,
	PropResponseInfo:         pConnack,
	PropServerReference:      pConnack | pDisconnect,
	PropReasonString:         pConnack | pPuback | pPubrec | pPubrel | pPubcomp | pSuback | pUnsuback | pDisconnect | pAuth,
	PropReceiveMax:           pConnect | pConnack,
	PropTopicAliasMax:        pConnect | pConnack,
	PropTopicAlias:           pPublish,
	PropMaxQoS:               pConnack,
	PropRetainAvailable:      pConnack,
	PropUser:                 pWill | pConnect | pConnack | pPublish | pPuback | pPubrec | pPubrel | pPubcomp | pSubscribe | pSuback | pUnsubscribe | pUnsuback | pDisconnect | pAuth,
	PropMaxPacketSize:        pConnect | pConnack,
	PropWildcardSubAvailable: pConnack,
	PropSubIDAvailable:       pConnack,
	PropSharedSubAvailable:   pConnack,
}

// propMask is propAllowed transposed for the single-valued properties: per
// packet type (0: will), the set of properties it may carry.
var propMask = [16]uint64{
	0: 1<<PropPayloadFormat | 1<<PropMessageExpiry | 1<<PropContentType | 1<<PropResponseTopic |
		1<<PropCorrelationData | 1<<PropWillDelay,
	TypeConnect: 1<<PropSessionExpiry | 1<<PropAuthMethod | 1<<PropAuthData | 1<<PropRequestProblemInfo |
		1<<PropRequestResponseInfo | 1<<PropReceiveMax | 1<<PropTopicAliasMax | 1<<PropMaxPacketSize,
	TypeConnack: 1<<PropSessionExpiry | 1<<PropAssignedClientID | 1<<PropServerKeepAlive |
		1<<PropAuthMethod | 1<<PropAuthData | 1<<PropResponseInfo | 1<<PropServerReference |
		1<<PropReasonString | 1<<PropReceiveMax | 1<<PropTopicAliasMax | 1<<PropMaxQoS |
		1<<PropRetainAvailable | 1<<PropMaxPacketSize | 1<<PropWildcardSubAvailable |
		1<<PropSubIDAvailable | 1<<PropSharedSubAvailable,
	TypePublish: 1<<PropPayloadFormat | 1<<PropMessageExpiry | 1<<PropContentType |
		1<<PropResponseTopic | 1<<PropCorrelationData | 1<<PropTopicAlias,
	TypePuback:     1 << PropReasonString,
	TypePubrec:     1 << PropReasonString,
	TypePubrel:     1 << PropReasonString,
	TypePubcomp:    1 << PropReasonString,
	TypeSuback:     1 << PropReasonString,
	TypeUnsuback:   1 << PropReasonString,
	TypeDisconnect: 1<<PropSessionExpiry | 1<<PropServerReference | 1<<PropReasonString,
	TypeAuth:       1<<PropAuthMethod | 1<<PropAuthData | 1<<PropReasonString,
}

// propNames is the "Name" column.
var propNames = [256]string{
	PropPayloadFormat:        "Payload Format Indicator",
	PropMessageExpiry:        "Message Expiry Interval",
	PropContentType:          "Content Type",
	PropResponseTopic:        "Response Topic",
	PropCorrelationData:      "Correlation Data",
	PropSubscriptionID:       "Subscription Identifier",
	PropSessionExpiry:        "Session Expiry Interval",
	PropAssignedClientID:     "Assigned Client Identifier",
	PropServerKeepAlive:      "Server Keep Alive",
	PropAuthMethod:           "Authentication Method",
	PropAuthData:             "Authentication Data",
	PropRequestProblemInfo:   "Request Problem Information",
	PropWillDelay:            "Will Delay Interval",
	PropRequestResponseInfo:  "Request Response Information",
	PropResponseInfo:         "Response Information",
	PropServerReference:      "Server Reference",
	PropReasonString:         "Reason String",
	PropReceiveMax:           "Receive Maximum",
	PropTopicAliasMax:        "Topic Alias Maximum",
	PropTopicAlias:           "Topic Alias",
	PropMaxQoS:               "Maximum QoS",
	PropRetainAvailable:      "Retain Available",
	PropUser:                 "User Property",
	PropMaxPacketSize:        "Maximum Packet Size",
	PropWildcardSubAvailable: "Wildcard Subscription Available",
	PropSubIDAvailable:       "Subscription Identifier Available",
	PropSharedSubAvailable:   "Shared Subscription Available",
}
