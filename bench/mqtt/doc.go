// Package mqttbench holds side-by-side benchmarks of the edgekit mqtt codec
// against the packet codecs of github.com/mochi-mqtt/server/v2/packets
// ("mochi", MQTT 3.1.1 and 5), github.com/eclipse/paho.golang/packets
// ("paho", MQTT 5 only) and github.com/eclipse/paho.mqtt.golang/packets
// ("pahov3", MQTT 3.1.1 only). Every implementation encodes and decodes the
// same packets: a QoS 1 PUBLISH with a 64-byte payload (3.1.1, and 5 with
// three properties), a CONNECT v5 with properties, and a SUBSCRIBE with five
// filters. TestSameWire checks that each peer's encoding decodes, with the
// edgekit decoder, to the packet the benchmark means.
//
// Each peer is driven through its natural API, reusing buffers where the
// API allows: edgekit appends to and decodes from a caller's slice; mochi
// encodes into a reused bytes.Buffer and decodes a body after its
// FixedHeader.Decode and DecodeLength; paho and pahov3 write to a reused
// bytes.Buffer and read with packets.ReadPacket from a reused bytes.Reader.
//
// Run from the bench directory:
//
//	go test ./mqtt -run '^$' -bench . -benchmem -count 10 | tee mqtt.txt
//	benchstat -col /impl mqtt.txt
package mqttbench
