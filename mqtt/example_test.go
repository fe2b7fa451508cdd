package mqtt_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/edgekit/edgekit/mqtt"
)

// Encode a PUBLISH with MQTT 5 properties, decode it back, and match its
// topic against subscriptions.
func Example() {
	pub := mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: 7, Topic: []byte("site/b1/temp"), Payload: []byte("21.5")}
	pub.Props.Set(mqtt.PropMessageExpiry, 60)
	pub.Props.SetBytes(mqtt.PropContentType, []byte("text/plain"))
	wire, err := pub.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", wire[:9])

	var in mqtt.Publish
	in.Version = mqtt.V5
	n, err := in.Decode(wire)
	fmt.Println(n == len(wire), err, string(in.Topic), string(in.Payload), in.Props.MessageExpiry)

	var subs mqtt.Trie[string]
	_ = subs.Add([]byte("site/+/temp"), "dashboard")
	_ = subs.Add([]byte("$share/loggers/site/#"), "logger")
	_ = subs.Add([]byte("site/b2/#"), "b2-only")
	fmt.Println(len(subs.Match(in.Topic, nil)))
	// Output:
	// 32 27 00 0c 73 69 74 65 2f
	// true <nil> site/b1/temp 21.5 60
	// 2
}

// A Framer reads packets from a stream; a malformed one yields an error
// carrying the reason code to put in the DISCONNECT.
func ExampleFramer() {
	stream := []byte{
		0xc0, 0x00, // PINGREQ
		0x30, 0x05, 0x00, 0x03, 'a', '/', '#', // PUBLISH to a wildcard topic
	}
	fr := mqtt.NewFramer(bytes.NewReader(stream), nil, mqtt.FramerConfig{})
	d := new(mqtt.Decoded)
	for {
		typ, err := fr.ReadInto(d)
		if err != nil {
			fmt.Println(errors.Is(err, mqtt.ErrMalformed), mqtt.ReasonOf(err))
			break
		}
		fmt.Println(typ)
	}
	// Output:
	// PINGREQ
	// true malformed packet
}

// Decode a packet that arrives in pieces: ErrIncomplete means "read more".
func ExamplePacketLen() {
	wire := []byte{0x20, 0x02, 0x00, 0x00} // CONNACK
	for have := 1; have <= len(wire); have++ {
		n, err := mqtt.PacketLen(wire[:have], 0)
		fmt.Println(have, n, err)
	}
	// Output:
	// 1 0 mqtt: incomplete packet
	// 2 4 <nil>
	// 3 4 <nil>
	// 4 4 <nil>
}
