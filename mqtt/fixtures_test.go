package mqtt

import "bytes"

// fixture is one hand-checked packet: its wire bytes, annotated field by
// field, and the value they decode to under version v. Encode tests
// check value -> wire, decode tests wire -> value (STYLE R24).
type fixture struct {
	name string
	v    Version
	wire []byte
	pkt  Packet
}

func s(x string) []byte { return []byte(x) }

// props builds a Properties value with the given single-valued properties
// marked present.
func props(p Properties, ids ...PropID) Properties {
	for _, id := range ids {
		p.Present = p.Present.With(id)
	}
	return p
}

var payload200 = bytes.Repeat([]byte{0xA5}, 200)

var fixtures = []fixture{
	// ---- CONNECT ----
	{"connect/v311/min", V311, []byte{
		0x10, 0x0e, // CONNECT, remaining 14
		0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name
		0x04,       // level 4 = 3.1.1
		0x02,       // flags: clean session
		0x00, 0x3c, // keep alive 60
		0x00, 0x02, 'c', '1', // client id
	}, &Connect{Version: V311, CleanStart: true, KeepAlive: 60, ClientID: s("c1")}},
	{"connect/v31/mqisdp", V31, []byte{
		0x10, 0x10,
		0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // MQTT 3.1 protocol name
		0x03, 0x02, 0x00, 0x3c,
		0x00, 0x02, 'c', '1',
	}, &Connect{Version: V31, CleanStart: true, KeepAlive: 60, ClientID: s("c1")}},
	{"connect/v311/will+auth", V311, []byte{
		0x10, 0x1f, // remaining 31
		0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
		0xee,       // user|pass|will retain|will QoS 1|will|clean = 0x80|0x40|0x20|0x08|0x04|0x02
		0x00, 0x0a, // keep alive 10
		0x00, 0x02, 'i', 'd', // client id
		0x00, 0x03, 'w', '/', 't', // will topic
		0x00, 0x03, 'b', 'y', 'e', // will payload
		0x00, 0x01, 'u', // user name
		0x00, 0x02, 'p', 'w', // password
	}, &Connect{Version: V311, CleanStart: true, KeepAlive: 10, ClientID: s("id"),
		HasWill: true, Will: Will{QoS: 1, Retain: true, Topic: s("w/t"), Payload: s("bye")},
		HasUsername: true, Username: s("u"), HasPassword: true, Password: s("pw")}},
	{"connect/v5/props", V5, []byte{
		0x10, 0x1e, // remaining 30
		0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, // level 5
		0x02, 0x00, 0x1e, // clean start, keep alive 30
		0x0f,                         // property length 15
		0x11, 0x00, 0x00, 0x0e, 0x10, // session expiry 3600
		0x21, 0x00, 0x14, // receive maximum 20
		0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', // user property k=v
		0x00, 0x02, 'c', '5', // client id
	}, &Connect{Version: V5, CleanStart: true, KeepAlive: 30, ClientID: s("c5"),
		Props: props(Properties{SessionExpiry: 3600, ReceiveMax: 20,
			User: []UserProperty{{s("k"), s("v")}}}, PropSessionExpiry, PropReceiveMax)}},
	{"connect/v5/will", V5, []byte{
		0x10, 0x23, // remaining 35
		0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,
		0x16,       // will QoS 2 (0x10) | will (0x04) | clean (0x02)
		0x00, 0x00, // keep alive 0
		0x00,       // no properties
		0x00, 0x00, // empty client id
		0x0e,       // will property length 14
		0x01, 0x01, // payload format: UTF-8
		0x03, 0x00, 0x04, 't', 'e', 'x', 't', // content type
		0x18, 0x00, 0x00, 0x00, 0x05, // will delay 5 s
		0x00, 0x02, 'l', 'w', // will topic
		0x00, 0x01, 'x', // will payload
	}, &Connect{Version: V5, CleanStart: true, ClientID: s(""), HasWill: true,
		Will: Will{QoS: 2, Topic: s("lw"), Payload: s("x"),
			Props: props(Properties{PayloadFormat: 1, ContentType: s("text"), WillDelay: 5},
				PropPayloadFormat, PropContentType, PropWillDelay)}}},

	// ---- CONNACK ----
	{"connack/v311/accepted", V311, []byte{0x20, 0x02, 0x00, 0x00}, &Connack{Version: V311}},
	{"connack/v311/session-present", V311, []byte{0x20, 0x02, 0x01, 0x00}, &Connack{Version: V311, SessionPresent: true}},
	{"connack/v311/not-authorized", V311, []byte{0x20, 0x02, 0x00, 0x05}, &Connack{Version: V311, Code: ConnRefusedNotAuthorized}},
	{"connack/v5/min", V5, []byte{0x20, 0x03, 0x00, 0x00, 0x00}, &Connack{Version: V5}},
	{"connack/v5/props", V5, []byte{
		0x20, 0x10, // remaining 16
		0x00, 0x00, // flags, success
		0x0d,                            // property length 13
		0x12, 0x00, 0x03, 'a', 'b', 'c', // assigned client id
		0x22, 0x00, 0x0a, // topic alias maximum 10
		0x24, 0x01, // maximum QoS 1
		0x25, 0x00, // retain not available
	}, &Connack{Version: V5, Props: props(Properties{AssignedClientID: s("abc"), TopicAliasMax: 10, MaxQoS: 1},
		PropAssignedClientID, PropTopicAliasMax, PropMaxQoS, PropRetainAvailable)}},
	{"connack/v5/not-authorized", V5, []byte{0x20, 0x03, 0x00, 0x87, 0x00}, &Connack{Version: V5, Code: NotAuthorized}},

	// ---- PUBLISH ----
	{"publish/v311/qos0", V311, []byte{
		0x30, 0x0a, // PUBLISH QoS 0, remaining 10
		0x00, 0x03, 'a', '/', 'b', // topic
		'h', 'e', 'l', 'l', 'o', // payload
	}, &Publish{Version: V311, Topic: s("a/b"), Payload: s("hello")}},
	{"publish/v311/qos1-dup-retain", V311, []byte{
		0x3b,                                // PUBLISH | DUP 0x08 | QoS 1 0x02 | RETAIN 0x01
		0x0b,                                // remaining 11
		0x00, 0x05, 'a', '/', 'b', '/', 'c', // topic
		0x00, 0x07, // packet id 7
		'2', '1', // payload
	}, &Publish{Version: V311, Dup: true, QoS: 1, Retain: true, Topic: s("a/b/c"), ID: 7, Payload: s("21")}},
	{"publish/v311/qos2-empty", V311, []byte{
		0x34, 0x05, // QoS 2
		0x00, 0x01, 't',
		0x12, 0x34, // packet id 0x1234; empty payload
	}, &Publish{Version: V311, QoS: 2, Topic: s("t"), ID: 0x1234, Payload: s("")}},
	{"publish/v311/varint2", V311, append([]byte{
		0x30, 0xcb, 0x01, // remaining 203 = 0x4b + 1*128: two-byte variable byte integer
		0x00, 0x01, 't',
	}, payload200...), &Publish{Version: V311, Topic: s("t"), Payload: payload200}},
	{"publish/v5/qos0", V5, []byte{
		0x30, 0x08,
		0x00, 0x03, 'a', '/', 'b',
		0x00, // no properties
		'h', 'i',
	}, &Publish{Version: V5, Topic: s("a/b"), Payload: s("hi")}},
	{"publish/v5/qos1-3props", V5, []byte{
		0x32, 0x18, // QoS 1, remaining 24
		0x00, 0x03, 'a', '/', 'b',
		0x00, 0x01, // packet id 1
		0x0e,       // property length 14
		0x01, 0x01, // payload format UTF-8
		0x02, 0x00, 0x00, 0x00, 0x3c, // message expiry 60
		0x03, 0x00, 0x04, 'j', 's', 'o', 'n', // content type
		'{', '}',
	}, &Publish{Version: V5, QoS: 1, Topic: s("a/b"), ID: 1, Payload: s("{}"),
		Props: props(Properties{PayloadFormat: 1, MessageExpiry: 60, ContentType: s("json")},
			PropPayloadFormat, PropMessageExpiry, PropContentType)}},
	{"publish/v5/topic-alias", V5, []byte{
		0x30, 0x07,
		0x00, 0x00, // empty topic: the alias stands for it
		0x03,             // property length 3
		0x23, 0x00, 0x01, // topic alias 1
		'x',
	}, &Publish{Version: V5, Topic: s(""), Payload: s("x"),
		Props: props(Properties{TopicAlias: 1}, PropTopicAlias)}},
	{"publish/v5/request-response", V5, []byte{
		0x30, 0x1b, // remaining 27
		0x00, 0x01, 'r',
		0x17,                            // property length 23
		0x08, 0x00, 0x03, 'r', '/', 'x', // response topic
		0x09, 0x00, 0x02, 0x01, 0x02, // correlation data
		0x0b, 0x05, // subscription identifier 5
		0x0b, 0x80, 0x01, // subscription identifier 128
		0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b', // user property a=b
	}, &Publish{Version: V5, Topic: s("r"), Payload: s(""),
		Props: props(Properties{ResponseTopic: s("r/x"), CorrelationData: []byte{1, 2},
			SubscriptionIDs: []uint32{5, 128}, User: []UserProperty{{s("a"), s("b")}}},
			PropResponseTopic, PropCorrelationData)}},

	// ---- PUBACK, PUBREC, PUBREL, PUBCOMP ----
	{"puback/v311", V311, []byte{0x40, 0x02, 0x00, 0x07}, &Ack{Type: TypePuback, Version: V311, ID: 7}},
	{"pubrec/v311", V311, []byte{0x50, 0x02, 0x00, 0x07}, &Ack{Type: TypePubrec, Version: V311, ID: 7}},
	{"pubrel/v311", V311, []byte{0x62, 0x02, 0x00, 0x07}, &Ack{Type: TypePubrel, Version: V311, ID: 7}}, // flags 0010
	{"pubcomp/v311", V311, []byte{0x70, 0x02, 0x00, 0x07}, &Ack{Type: TypePubcomp, Version: V311, ID: 7}},
	{"puback/v5/short", V5, []byte{0x40, 0x02, 0x00, 0x07}, &Ack{Type: TypePuback, Version: V5, ID: 7}},
	{"puback/v5/no-subscribers", V5, []byte{0x40, 0x03, 0x00, 0x07, 0x10}, &Ack{Type: TypePuback, Version: V5, ID: 7, Code: NoMatchingSubscribers}},
	{"pubrec/v5/reason-string", V5, []byte{
		0x50, 0x09,
		0x00, 0x07, // packet id
		0x80,                       // unspecified error
		0x05,                       // property length
		0x1f, 0x00, 0x02, 'n', 'o', // reason string
	}, &Ack{Type: TypePubrec, Version: V5, ID: 7, Code: UnspecifiedError,
		Props: props(Properties{ReasonString: s("no")}, PropReasonString)}},
	{"pubrel/v5/not-found", V5, []byte{0x62, 0x03, 0x00, 0x07, 0x92}, &Ack{Type: TypePubrel, Version: V5, ID: 7, Code: PacketIdentifierNotFound}},
	{"pubcomp/v5/short", V5, []byte{0x70, 0x02, 0x00, 0x07}, &Ack{Type: TypePubcomp, Version: V5, ID: 7}},

	// ---- SUBSCRIBE ----
	{"subscribe/v311", V311, []byte{
		0x82, 0x0c, // SUBSCRIBE, flags 0010
		0x00, 0x0a, // packet id 10
		0x00, 0x03, 'a', '/', '+', 0x01, // filter, QoS 1
		0x00, 0x01, '#', 0x00, // filter, QoS 0
	}, &Subscribe{Version: V311, ID: 10, Filters: []Subscription{{Filter: s("a/+"), QoS: 1}, {Filter: s("#")}}}},
	{"subscribe/v5/options", V5, []byte{
		0x82, 0x18, // remaining 24
		0x00, 0x0b, // packet id 11
		0x02, 0x0b, 0x07, // property length 2: subscription identifier 7
		0x00, 0x03, 'x', '/', '#',
		0x1e, // retain handling 1 (0x10) | RAP (0x08) | no local (0x04) | QoS 2
		0x00, 0x0a, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'y',
		0x21, // retain handling 2 | QoS 1
	}, &Subscribe{Version: V5, ID: 11, Props: Properties{SubscriptionIDs: []uint32{7}},
		Filters: []Subscription{
			{Filter: s("x/#"), QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 1},
			{Filter: s("$share/g/y"), QoS: 1, RetainHandling: 2}}}},

	// ---- SUBACK ----
	{"suback/v311", V311, []byte{0x90, 0x04, 0x00, 0x0a, 0x01, 0x80}, &Suback{Version: V311, ID: 10, Codes: []ReasonCode{GrantedQoS1, SubackFailure}}},
	{"suback/v5", V5, []byte{
		0x90, 0x05, 0x00, 0x0b,
		0x00,       // no properties
		0x02, 0x8f, // granted QoS 2, topic filter invalid
	}, &Suback{Version: V5, ID: 11, Codes: []ReasonCode{GrantedQoS2, TopicFilterInvalid}}},

	// ---- UNSUBSCRIBE ----
	{"unsubscribe/v311", V311, []byte{
		0xa2, 0x0a, // flags 0010
		0x00, 0x0c,
		0x00, 0x03, 'a', '/', '+',
		0x00, 0x01, 'b',
	}, &Unsubscribe{Version: V311, ID: 12, Filters: [][]byte{s("a/+"), s("b")}}},
	{"unsubscribe/v5", V5, []byte{
		0xa2, 0x0d,
		0x00, 0x0d,
		0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', // user property
		0x00, 0x01, 'a',
	}, &Unsubscribe{Version: V5, ID: 13, Props: Properties{User: []UserProperty{{s("k"), s("v")}}}, Filters: [][]byte{s("a")}}},

	// ---- UNSUBACK ----
	{"unsuback/v311", V311, []byte{0xb0, 0x02, 0x00, 0x0c}, &Unsuback{Version: V311, ID: 12}},
	{"unsuback/v5", V5, []byte{0xb0, 0x05, 0x00, 0x0d, 0x00, 0x00, 0x11}, &Unsuback{Version: V5, ID: 13, Codes: []ReasonCode{Success, NoSubscriptionExisted}}},

	// ---- PINGREQ, PINGRESP ----
	{"pingreq", V311, []byte{0xc0, 0x00}, &Ping{Type: TypePingreq}},
	{"pingresp", V311, []byte{0xd0, 0x00}, &Ping{Type: TypePingresp}},
	{"pingreq/v5", V5, []byte{0xc0, 0x00}, &Ping{Type: TypePingreq}},
	{"pingresp/v5", V5, []byte{0xd0, 0x00}, &Ping{Type: TypePingresp}},

	// ---- DISCONNECT ----
	{"disconnect/v311", V311, []byte{0xe0, 0x00}, &Disconnect{Version: V311}},
	{"disconnect/v5/short", V5, []byte{0xe0, 0x00}, &Disconnect{Version: V5}},
	{"disconnect/v5/with-will", V5, []byte{0xe0, 0x01, 0x04}, &Disconnect{Version: V5, Code: DisconnectWithWill}},
	{"disconnect/v5/props", V5, []byte{
		0xe0, 0x0d,
		0x8e,                         // session taken over
		0x0b,                         // property length 11
		0x11, 0x00, 0x00, 0x00, 0x00, // session expiry 0
		0x1f, 0x00, 0x03, 'b', 'y', 'e', // reason string
	}, &Disconnect{Version: V5, Code: SessionTakenOver,
		Props: props(Properties{ReasonString: s("bye")}, PropSessionExpiry, PropReasonString)}},

	// ---- AUTH (MQTT 5 only) ----
	{"auth/v5/short", V5, []byte{0xf0, 0x00}, &Auth{Version: V5}},
	{"auth/v5/continue", V5, []byte{
		0xf0, 0x0f,
		0x18,                                      // continue authentication
		0x0d,                                      // property length 13
		0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M', // authentication method
		0x16, 0x00, 0x02, 0x01, 0x02, // authentication data
	}, &Auth{Version: V5, Code: ContinueAuthentication,
		Props: props(Properties{AuthMethod: s("SCRAM"), AuthData: []byte{1, 2}}, PropAuthMethod, PropAuthData)}},
}

// newLike returns a zero packet of p's struct type, with the version (and
// for Ack/Ping the type) preset as a reader would.
func newLike(p Packet, v Version) Packet {
	switch p := p.(type) {
	case *Connect:
		return &Connect{}
	case *Connack:
		return &Connack{Version: v}
	case *Publish:
		return &Publish{Version: v}
	case *Ack:
		return &Ack{Version: v}
	case *Subscribe:
		return &Subscribe{Version: v}
	case *Suback:
		return &Suback{Version: v}
	case *Unsubscribe:
		return &Unsubscribe{Version: v}
	case *Unsuback:
		return &Unsuback{Version: v}
	case *Ping:
		return &Ping{}
	case *Disconnect:
		return &Disconnect{Version: v}
	case *Auth:
		return &Auth{Version: v}
	default:
		_ = p
	}
	return nil
}
