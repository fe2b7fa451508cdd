package mqtt

import (
	"errors"
	"testing"
)

// strictCases are packets that break one rule each; every decoder must
// reject them with the error naming that rule.
var strictCases = []struct {
	name string
	v    Version
	wire []byte
	want error
}{
	// CONNECT
	{"connect/proto-name", V311, []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'X', 4, 2, 0, 0, 0, 0}, errProtoName},
	{"connect/mqtt-level3", V311, []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 3, 2, 0, 0, 0, 0}, errProtoLevel},
	{"connect/level6", V311, []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 0, 0, 0}, errProtoLevel},
	{"connect/mqisdp-level4", V311, []byte{0x10, 0x0e, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 4, 2, 0, 0, 0, 0}, errProtoLevel},
	{"connect/reserved-flag", V311, []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x03, 0, 0, 0, 0}, errConnReserved},
	{"connect/will-qos-no-will", V311, []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x0a, 0, 0, 0, 0}, errWillQoS},
	{"connect/will-retain-no-will", V311, []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x22, 0, 0, 0, 0}, errWillRetain},
	{"connect/will-qos3", V311, []byte{0x10, 0x11, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x1e, 0, 0, 0, 0, 0, 1, 't', 0, 0}, errWillQoS3},
	{"connect/password-no-user", V311, []byte{0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x42, 0, 0, 0, 0, 0, 0}, errPassNoUser},
	{"connect/clientid-bad-utf8", V311, []byte{0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 2, 0xc3, 0x28}, errBadUTF8},
	{"connect/clientid-nul", V311, []byte{0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 2, 'a', 0}, errNullChar},
	{"connect/clientid-surrogate", V311, []byte{0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 3, 0xed, 0xa0, 0x80}, errBadUTF8},
	{"connect/clientid-overlong", V311, []byte{0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 2, 0xc0, 0x80}, errBadUTF8},
	{"connect/empty-id-persistent", V311, []byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x00, 0, 0, 0, 0}, errEmptyClientID},
	{"connect/trailing", V311, []byte{0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 0, 9}, errTrailing},
	{"connect/short", V311, []byte{0x10, 0x0b, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0}, errShort},
	{"connect/will-topic-wildcard", V311, []byte{0x10, 0x11, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x06, 0, 0, 0, 0, 0, 1, '#', 0, 0}, errTopicWildcard},
	{"connect/v5/prop-repeated", V5, []byte{0x10, 0x17, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0x0a, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2, 0, 0}, errPropRepeated},
	{"connect/v5/prop-not-allowed", V5, []byte{0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 3, 0x23, 0, 1, 0, 0}, errPropNotAllowed},
	{"connect/v5/prop-unknown", V5, []byte{0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 2, 0x04, 0, 0, 0}, errPropID},
	{"connect/v5/prop-id-multibyte", V5, []byte{0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 3, 0x91, 0x00, 0, 0, 0}, errPropID},
	{"connect/v5/receive-max-0", V5, []byte{0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 3, 0x21, 0, 0, 0, 0}, errPropValue},
	{"connect/v5/max-packet-0", V5, []byte{0x10, 0x12, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 5, 0x27, 0, 0, 0, 0, 0, 0}, errPropValue},
	{"connect/v5/problem-info-2", V5, []byte{0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 2, 0x17, 2, 0, 0}, errPropValue},
	{"connect/v5/auth-data-no-method", V5, []byte{0x10, 0x11, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 4, 0x16, 0, 1, 'x', 0, 0}, errAuthDataNoMeth},
	{"connect/v5/prop-len-overrun", V5, []byte{0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 9, 0, 0}, errPropLen},
	{"connect/v5/prop-value-overrun", V5, []byte{0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 2, 0x11, 0, 0, 0}, errPropLen},
	{"connect/v5/user-prop-bad-utf8", V5, []byte{0x10, 0x15, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 8, 0x26, 0, 1, 'k', 0, 2, 0xff, 0xfe, 0, 0}, errBadUTF8},
	{"connect/v5/will-prop-not-allowed", V5, []byte{0x10, 0x17, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 0, 0, 0, 0, 5, 0x11, 0, 0, 0, 1, 0, 1, 't', 0, 0}, errPropNotAllowed},
	{"connect/v5/prop-len-nonminimal", V5, []byte{0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0x80, 0x00, 0, 0}, errVarintMinimal},

	// CONNACK
	{"connack/flags", V311, []byte{0x20, 0x02, 0x02, 0x00}, errConnackFlags},
	{"connack/v311/code6", V311, []byte{0x20, 0x02, 0x00, 0x06}, errReturnCode},
	{"connack/session-present-refused", V311, []byte{0x20, 0x02, 0x01, 0x05}, errSessionPresent},
	{"connack/v311/long", V311, []byte{0x20, 0x03, 0x00, 0x00, 0x00}, errTrailing},
	{"connack/v5/code-for-puback", V5, []byte{0x20, 0x03, 0x00, 0x10, 0x00}, errReasonCode},
	{"connack/v5/max-qos-2", V5, []byte{0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}, errPropValue},
	{"connack/v5/topic-alias-prop", V5, []byte{0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01}, errPropNotAllowed},
	{"connack/v5/no-props", V5, []byte{0x20, 0x02, 0x00, 0x00}, errShort},

	// PUBLISH
	{"publish/qos3", V311, []byte{0x36, 0x05, 0, 1, 't', 0, 1}, errQoS3},
	{"publish/dup-qos0", V311, []byte{0x38, 0x03, 0, 1, 't'}, errDupQoS0},
	{"publish/id0", V311, []byte{0x32, 0x05, 0, 1, 't', 0, 0}, errZeroID},
	{"publish/topic-plus", V311, []byte{0x30, 0x05, 0, 3, 'a', '/', '+'}, errTopicWildcard},
	{"publish/topic-hash", V311, []byte{0x30, 0x03, 0, 1, '#'}, errTopicWildcard},
	{"publish/topic-nul", V311, []byte{0x30, 0x04, 0, 2, 'a', 0}, errNullChar},
	{"publish/topic-bad-utf8", V311, []byte{0x30, 0x04, 0, 2, 'a', 0x80}, errBadUTF8},
	{"publish/topic-empty", V311, []byte{0x30, 0x03, 0, 0, 'x'}, errTopicEmpty},
	{"publish/topic-overrun", V311, []byte{0x30, 0x03, 0, 5, 'x'}, errShort},
	{"publish/id-missing", V311, []byte{0x32, 0x04, 0, 1, 't', 0}, errShort},
	{"publish/v5/topic-empty-no-alias", V5, []byte{0x30, 0x03, 0, 0, 0}, errTopicEmptyV5},
	{"publish/v5/topic-alias-0", V5, []byte{0x30, 0x07, 0, 1, 't', 3, 0x23, 0, 0}, errTopicAliasZero},
	{"publish/v5/sub-id-0", V5, []byte{0x30, 0x06, 0, 1, 't', 2, 0x0b, 0}, errSubIDZero},
	{"publish/v5/sub-id-5-bytes", V5, []byte{0x30, 0x0a, 0, 1, 't', 6, 0x0b, 0xff, 0xff, 0xff, 0xff, 0x01}, errVarint},
	{"publish/v5/response-topic-wild", V5, []byte{0x30, 0x08, 0, 1, 't', 4, 0x08, 0, 1, '+'}, errRespTopic},
	{"publish/v5/payload-format-2", V5, []byte{0x30, 0x06, 0, 1, 't', 2, 0x01, 2}, errPropValue},
	{"publish/v5/prop-repeated", V5, []byte{0x30, 0x08, 0, 1, 't', 4, 0x01, 1, 0x01, 1}, errPropRepeated},
	{"publish/v5/session-expiry", V5, []byte{0x30, 0x09, 0, 1, 't', 5, 0x11, 0, 0, 0, 0}, errPropNotAllowed},
	{"publish/v5/no-prop-len", V5, []byte{0x30, 0x03, 0, 1, 't'}, errShort},

	// PUBACK, PUBREC, PUBREL, PUBCOMP
	{"puback/v311/long", V311, []byte{0x40, 0x03, 0, 1, 0}, errTrailing},
	{"puback/id0", V311, []byte{0x40, 0x02, 0, 0}, errZeroID},
	{"puback/short", V311, []byte{0x40, 0x01, 0}, errShort},
	{"puback/v5/code-for-pubrel", V5, []byte{0x40, 0x03, 0, 1, 0x92}, errReasonCode},
	{"pubrel/v5/code-for-puback", V5, []byte{0x62, 0x03, 0, 1, 0x10}, errReasonCode},
	{"pubrel/flags", V311, []byte{0x60, 0x02, 0, 1}, errReservedFlags},
	{"puback/v5/prop-not-allowed", V5, []byte{0x40, 0x06, 0, 1, 0, 2, 0x01, 1}, errPropNotAllowed},
	{"pubcomp/v5/trailing", V5, []byte{0x70, 0x06, 0, 1, 0, 0, 0, 0}, errTrailing},

	// SUBSCRIBE
	{"subscribe/flags", V311, []byte{0x80, 0x06, 0, 1, 0, 1, 'a', 0}, errReservedFlags},
	{"subscribe/no-filters", V311, []byte{0x82, 0x02, 0, 1}, errNoFilters},
	{"subscribe/id0", V311, []byte{0x82, 0x06, 0, 0, 0, 1, 'a', 0}, errZeroID},
	{"subscribe/v311/qos3", V311, []byte{0x82, 0x06, 0, 1, 0, 1, 'a', 3}, errSubQoS3V3},
	{"subscribe/v311/reserved", V311, []byte{0x82, 0x06, 0, 1, 0, 1, 'a', 4}, errSubQoS3V3},
	{"subscribe/no-options", V311, []byte{0x82, 0x05, 0, 1, 0, 1, 'a'}, errShort},
	{"subscribe/hash-middle", V311, []byte{0x82, 0x0a, 0, 1, 0, 5, 'a', '/', '#', '/', 'b', 0}, errFilterSyntax},
	{"subscribe/hash-suffix", V311, []byte{0x82, 0x07, 0, 1, 0, 2, 'a', '#', 0}, errFilterSyntax},
	{"subscribe/plus-partial", V311, []byte{0x82, 0x07, 0, 1, 0, 2, 'a', '+', 0}, errFilterPlus},
	{"subscribe/empty-filter", V311, []byte{0x82, 0x05, 0, 1, 0, 0, 0}, errTopicEmpty},
	{"subscribe/v5/share-no-filter", V5, []byte{0x82, 0x0e, 0, 1, 0, 0, 8, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', 0}, errShareFilter},
	{"subscribe/v5/share-empty-name", V5, []byte{0x82, 0x0f, 0, 1, 0, 0, 9, '$', 's', 'h', 'a', 'r', 'e', '/', '/', 'a', 0}, errShareName},
	{"subscribe/v5/share-wild-name", V5, []byte{0x82, 0x10, 0, 1, 0, 0, 10, '$', 's', 'h', 'a', 'r', 'e', '/', '+', '/', 'a', 0}, errShareName},
	{"subscribe/v5/reserved-bits", V5, []byte{0x82, 0x07, 0, 1, 0, 0, 1, 'a', 0x40}, errSubOptReserved},
	{"subscribe/v5/qos3", V5, []byte{0x82, 0x07, 0, 1, 0, 0, 1, 'a', 0x03}, errSubQoS3},
	{"subscribe/v5/retain-handling-3", V5, []byte{0x82, 0x07, 0, 1, 0, 0, 1, 'a', 0x30}, errRetainHandling},
	{"subscribe/v5/shared-no-local", V5, []byte{0x82, 0x10, 0, 1, 0, 0, 10, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'a', 0x04}, errSharedNoLocal},
	{"subscribe/v5/two-sub-ids", V5, []byte{0x82, 0x0b, 0, 1, 4, 0x0b, 1, 0x0b, 2, 0, 1, 'a', 0}, errPropRepeated},
	{"subscribe/v5/sub-id-0", V5, []byte{0x82, 0x09, 0, 1, 2, 0x0b, 0, 0, 1, 'a', 0}, errSubIDZero},

	// SUBACK
	{"suback/v311/code3", V311, []byte{0x90, 0x03, 0, 1, 3}, errSubackCode},
	{"suback/v311/no-codes", V311, []byte{0x90, 0x02, 0, 1}, errNoCodes},
	{"suback/v5/code-for-pubrel", V5, []byte{0x90, 0x04, 0, 1, 0, 0x92}, errReasonCode},
	{"suback/id0", V311, []byte{0x90, 0x03, 0, 0, 0}, errZeroID},

	// UNSUBSCRIBE
	{"unsubscribe/flags", V311, []byte{0xa0, 0x05, 0, 1, 0, 1, 'a'}, errReservedFlags},
	{"unsubscribe/no-filters", V311, []byte{0xa2, 0x02, 0, 1}, errNoFilters},
	{"unsubscribe/bad-filter", V311, []byte{0xa2, 0x06, 0, 1, 0, 2, '#', 'a'}, errFilterSyntax},
	{"unsubscribe/v5/prop-not-allowed", V5, []byte{0xa2, 0x08, 0, 1, 2, 0x0b, 1, 0, 1, 'a'}, errPropNotAllowed},

	// UNSUBACK
	{"unsuback/v311/long", V311, []byte{0xb0, 0x03, 0, 1, 0}, errTrailing},
	{"unsuback/v5/no-codes", V5, []byte{0xb0, 0x03, 0, 1, 0}, errNoCodes},
	{"unsuback/v5/code-for-puback", V5, []byte{0xb0, 0x04, 0, 1, 0, 0x10}, errReasonCode},

	// PINGREQ, PINGRESP
	{"pingreq/long", V311, []byte{0xc0, 0x01, 0}, errTrailing},
	{"pingresp/flags", V311, []byte{0xd1, 0x00}, errReservedFlags},

	// DISCONNECT
	{"disconnect/v311/long", V311, []byte{0xe0, 0x01, 0}, errTrailing},
	{"disconnect/v5/code", V5, []byte{0xe0, 0x01, 0x05}, errReasonCode},
	{"disconnect/v5/prop-cut", V5, []byte{0xe0, 0x03, 0, 2, 0x1f}, errPropLen},
	{"disconnect/v5/prop-not-allowed2", V5, []byte{0xe0, 0x07, 0, 5, 0x02, 0, 0, 0, 1}, errPropNotAllowed},

	// AUTH
	{"auth/v311", V311, []byte{0xf0, 0x00}, ErrVersion},
	{"auth/v5/code", V5, []byte{0xf0, 0x01, 0x01}, errReasonCode},
	{"auth/v5/data-no-method", V5, []byte{0xf0, 0x07, 0x18, 5, 0x16, 0, 2, 1, 2}, errAuthDataNoMeth},

	// Fixed header
	{"reserved-type", V311, []byte{0x00, 0x00}, errReservedType},
	{"varint-nonminimal", V311, []byte{0xc0, 0x80, 0x00}, errVarintMinimal},
}

// TestStrict checks that every rule violation is rejected with its own
// error, carrying the right reason code, through the packet's own decoder
// and the generic one.
func TestStrict(t *testing.T) {
	d := new(Decoded) // 2-3 KB: not on a TinyGo goroutine's 4 KiB stack
	for _, c := range strictCases {
		_, _, err := d.Decode(c.wire, c.v)
		if err != c.want {
			t.Errorf("%s: Decoded.Decode = %v; want %v", c.name, err, c.want)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v is not an *Error", c.name, err)
			continue
		}
		switch e.Code {
		case MalformedPacket:
			if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrProtocol) {
				t.Errorf("%s: errors.Is mismatch for %v", c.name, err)
			}
		case ProtocolError:
			if !errors.Is(err, ErrProtocol) || errors.Is(err, ErrMalformed) {
				t.Errorf("%s: errors.Is mismatch for %v", c.name, err)
			}
		case UnsupportedProtocolVersion, ClientIdentifierNotValid:
		default:
			t.Errorf("%s: reason %v", c.name, e.Code)
		}
		if e.Error() == "" || (e.Rule == "" && err != ErrVersion) {
			t.Errorf("%s: error without text or rule", c.name)
		}
	}
}

// TestEncodeRejects checks AppendBinary refuses values that break the
// rules Decode enforces, and leaves dst unchanged.
func TestEncodeRejects(t *testing.T) {
	cases := []struct {
		name    string
		content bool // only Validate sees it: AppendBinary does not scan strings
		p       Packet
	}{
		{"publish/qos3", false, &Publish{QoS: 3, ID: 1, Topic: s("t")}},
		{"publish/qos1-id0", false, &Publish{QoS: 1, Topic: s("t")}},
		{"publish/qos0-id", false, &Publish{ID: 1, Topic: s("t")}},
		{"publish/dup-qos0", false, &Publish{Dup: true, Topic: s("t")}},
		{"publish/wildcard", true, &Publish{Topic: s("a/#")}},
		{"publish/empty-topic", false, &Publish{Topic: s("")}},
		{"publish/v5-empty-topic", false, &Publish{Version: V5}},
		{"publish/props-v311", false, &Publish{Topic: s("t"), Props: props(Properties{}, PropPayloadFormat)}},
		{"publish/v5-session-expiry", false, &Publish{Version: V5, Topic: s("t"), Props: props(Properties{}, PropSessionExpiry)}},
		{"publish/v5-alias-0", false, &Publish{Version: V5, Topic: s("t"), Props: props(Properties{}, PropTopicAlias)}},
		{"publish/v5-payload-format-7", false, &Publish{Version: V5, Topic: s("t"), Props: props(Properties{PayloadFormat: 7}, PropPayloadFormat)}},
		{"publish/v5-subid-0", false, &Publish{Version: V5, Topic: s("t"), Props: Properties{SubscriptionIDs: []uint32{0}}}},
		{"publish/v5-user-nul", true, &Publish{Version: V5, Topic: s("t"), Props: Properties{User: []UserProperty{{s("a\x00"), s("")}}}}},
		{"publish/version-9", false, &Publish{Version: 9, Topic: s("t")}},
		{"connect/will-qos3", false, &Connect{HasWill: true, Will: Will{QoS: 3, Topic: s("t")}}},
		{"connect/will-wildcard", true, &Connect{CleanStart: true, HasWill: true, Will: Will{Topic: s("+")}}},
		{"connect/pass-no-user-v311", false, &Connect{HasPassword: true, CleanStart: true}},
		{"connect/empty-id-persistent-v311", false, &Connect{}},
		{"connect/clientid-utf8", true, &Connect{ClientID: []byte{0xff}}},
		{"connect/v5-auth-data-only", false, &Connect{Version: V5, Props: props(Properties{AuthData: s("x")}, PropAuthData)}},
		{"connect/v5-will-session-expiry", false, &Connect{Version: V5, HasWill: true, Will: Will{Topic: s("t"), Props: props(Properties{}, PropSessionExpiry)}}},
		{"connack/v311-code6", false, &Connack{Code: 6}},
		{"connack/session-present-refused", false, &Connack{SessionPresent: true, Code: 5}},
		{"connack/v5-code", false, &Connack{Version: V5, Code: GrantedQoS1}},
		{"ack/id0", false, &Ack{Type: TypePuback}},
		{"ack/type", false, &Ack{Type: TypePublish, ID: 1}},
		{"ack/v311-code", false, &Ack{Type: TypePuback, ID: 1, Code: UnspecifiedError}},
		{"ack/v5-code", false, &Ack{Type: TypePubrel, Version: V5, ID: 1, Code: UnspecifiedError}},
		{"subscribe/none", false, &Subscribe{ID: 1}},
		{"subscribe/id0", false, &Subscribe{Filters: []Subscription{{Filter: s("a")}}}},
		{"subscribe/bad-filter", true, &Subscribe{ID: 1, Filters: []Subscription{{Filter: s("a/#/b")}}}},
		{"subscribe/qos3", false, &Subscribe{ID: 1, Filters: []Subscription{{Filter: s("a"), QoS: 3}}}},
		{"subscribe/v311-nolocal", false, &Subscribe{ID: 1, Filters: []Subscription{{Filter: s("a"), NoLocal: true}}}},
		{"subscribe/v5-shared-nolocal", false, &Subscribe{Version: V5, ID: 1, Filters: []Subscription{{Filter: s("$share/g/a"), NoLocal: true}}}},
		{"subscribe/v5-rh3", false, &Subscribe{Version: V5, ID: 1, Filters: []Subscription{{Filter: s("a"), RetainHandling: 3}}}},
		{"subscribe/v5-two-subids", false, &Subscribe{Version: V5, ID: 1, Props: Properties{SubscriptionIDs: []uint32{1, 2}}, Filters: []Subscription{{Filter: s("a")}}}},
		{"suback/v311-code", false, &Suback{ID: 1, Codes: []ReasonCode{3}}},
		{"suback/v5-empty", false, &Suback{Version: V5, ID: 1}},
		{"unsuback/v311-codes", false, &Unsuback{ID: 1, Codes: []ReasonCode{0}}},
		{"unsubscribe/none", false, &Unsubscribe{ID: 1}},
		{"ping/type", false, &Ping{Type: TypeAuth}},
		{"disconnect/v311-code", false, &Disconnect{Code: 4}},
		{"disconnect/v5-code", false, &Disconnect{Version: V5, Code: GrantedQoS1}},
		{"auth/v311", false, &Auth{}},
		{"auth/v5-code", false, &Auth{Version: V5, Code: NotAuthorized}},
	}
	for _, c := range cases {
		if err := c.p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", c.name)
		}
		dst := []byte{1, 2, 3}
		out, err := c.p.AppendBinary(dst)
		if c.content {
			if err != nil {
				t.Errorf("%s: AppendBinary: %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: AppendBinary accepted % x", c.name, out)
			continue
		}
		if len(out) != 3 {
			t.Errorf("%s: dst changed on error", c.name)
		}
	}
	for _, fx := range fixtures {
		if err := fx.pkt.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", fx.name, err)
		}
	}
}

// TestTables checks the spec tables: the property mask is the transpose of
// the allowed table, holes are invalid, and names exist for every id.
func TestTables(t *testing.T) {
	for pt := PacketType(0); pt < 16; pt++ {
		var m uint64
		for id := 0; id < 256; id++ {
			ty := propType[id]
			if propAllowed[id]&(1<<pt) != 0 && ty != PropTypeVarint && ty != PropTypePair {
				m |= 1 << id
			}
		}
		if m != propMask[pt] {
			t.Errorf("propMask[%v] = %#x; want %#x", pt, propMask[pt], m)
		}
	}
	n := 0
	for id := 0; id < 256; id++ {
		valid := propType[id] != PropTypeInvalid
		if valid {
			n++
		}
		if valid != (propNames[id] != "") || valid != (propAllowed[id] != 0) || (valid && id > maxPropID) {
			t.Errorf("property 0x%02x: tables disagree", id)
		}
		if !valid && PropID(id).String() != "invalid property" {
			t.Errorf("property 0x%02x: name %q", id, PropID(id).String())
		}
	}
	if n != 27 {
		t.Errorf("%d properties; the spec has 27", n)
	}
	codes := 0
	for c := 0; c < 256; c++ {
		if (reasonNames[c] != "") != (reasonAllowed[c] != 0) {
			t.Errorf("reason 0x%02x: tables disagree", c)
		}
		if reasonNames[c] != "" {
			codes++
		}
		if ReasonCode(c).ValidFor(16) || ReasonCode(c).ValidFor(TypeConnect) {
			t.Errorf("reason 0x%02x valid for CONNECT or type 16", c)
		}
	}
	if codes != 43 {
		t.Errorf("%d reason codes; the spec has 43", codes)
	}
	if ReasonCode(0x03).String() != "reason code 0x3" || MalformedPacket.String() != "malformed packet" {
		t.Error("ReasonCode.String")
	}
	if PacketType(16).String() != "type 16" || TypeAuth.String() != "AUTH" {
		t.Error("PacketType.String")
	}
	if PropAuthData.AllowedIn(16) || !PropWillDelay.AllowedIn(0) || PropWillDelay.AllowedIn(TypeConnect) {
		t.Error("AllowedIn")
	}
}
