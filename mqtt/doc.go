// Package mqtt is a strict, allocation-free codec for MQTT 5.0 and 3.1.1
// (and the MQTT 3.1 "MQIsdp" CONNECT): all fifteen packet types, every MQTT
// 5 property, reason codes, will properties and subscription options, plus
// topic validation, shared-subscription parsing and a subscription trie. It
// knows nothing of sockets, clocks or goroutines and builds with TinyGo.
// Clients and brokers live in the sub-packages mqtt/client and mqtt/broker.
//
// Each packet type is a plain struct ([Connect], [Connack], [Publish], [Ack]
// for PUBACK/PUBREC/PUBREL/PUBCOMP, [Subscribe], [Suback], [Unsubscribe],
// [Unsuback], [Ping], [Disconnect], [Auth]) with:
//
//   - AppendBinary(dst) appends the wire form (encoding.BinaryAppender) and
//     EncodedLen reports its size; neither allocates when dst has room.
//   - Decode(src) parses one packet at the start of src and returns its
//     length. Byte slices in the result alias src: they are valid until src
//     is reused; Clone makes a copy that aliases nothing. Decode returns
//     [ErrIncomplete] when src holds only part of a packet, so callers doing
//     their own I/O read more and retry; [PacketLen] and [Header.Decode]
//     size a packet from its first bytes.
//   - Validate reports whether the value would encode to bytes the strict
//     decoder accepts, including string contents AppendBinary does not scan.
//
// Packets whose wire form differs by version carry a Version field, an
// input to Decode and AppendBinary (zero means 3.1.1); CONNECT reports its
// own. [Decoded] holds one struct per type for decoding whatever comes next
// without allocating, and [Framer] reads and writes packets on a byte
// stream with one reusable buffer each way and a bounded packet size
// ([DefaultMaxPacketSize] unless configured). Given a [Role], a Framer also
// enforces the rules that depend on the direction of flow: which packet
// types a client or a server may send, CONNECT first and once, CONNACK
// first, no subscription identifiers from clients.
//
// Decoding is strict: every normative rule about the wire format is checked
// (UTF-8 well-formedness and U+0000, minimal variable byte integers, reserved
// flags and bits, QoS 3, zero packet identifiers, repeated or misplaced
// properties, property values, reason codes per packet type, topic name and
// filter syntax, remaining length against contents), with the rule's id at
// the check. A violation is an *[Error] carrying the reason code to report
// (Malformed Packet or Protocol Error), matching [ErrMalformed] or
// [ErrProtocol] with errors.Is; errors are preallocated, so rejecting a
// packet allocates nothing either.
//
// Topics: [CheckTopicName], [CheckTopicFilter] (and [CheckTopicFilterV] for
// 3.1.1, which has no shared subscriptions), [ParseShared] and
// [MatchTopic] implement §4.7-4.8, and [Trie] maps filters to values of any
// comparable type (a broker's subscription records), matching a topic
// against them without allocating.
//
// Usage sketch:
//
//	fr := mqtt.NewFramer(conn, conn, mqtt.FramerConfig{Version: mqtt.V5})
//	var in mqtt.Decoded
//	for {
//		typ, err := fr.ReadInto(&in) // 0 allocs; fields alias the read buffer
//		if err != nil {
//			return mqtt.ReasonOf(err), err // e.g. 0x81 for a malformed packet
//		}
//		if typ == mqtt.TypePublish {
//			handle(in.Publish.Topic, in.Publish.Payload)
//		}
//	}
//
// See MQTT Version 5.0 (OASIS Standard, 7 March 2019) and MQTT Version 3.1.1
// (OASIS Standard, 29 October 2014); section numbers (§) refer to 5.0.
package mqtt
