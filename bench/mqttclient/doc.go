// Package mqttclientbench compares edgekit's mqtt/client with
// github.com/eclipse/paho.golang (MQTT 5) and
// github.com/eclipse/paho.mqtt.golang (MQTT 3.1.1) publishing to the same
// mosquitto broker, which the benchmark starts on a free loopback port
// (max_inflight_messages 0, max_queued_messages 0) and stops after it; it
// is skipped when mosquitto is not installed.
//
// One op is one message of 46 bytes to one topic. QoS 0: one goroutine
// publishes b.N messages, then a QoS 1 message whose acknowledgement
// proves the broker has read them all. QoS 1: 20 goroutines publish
// concurrently, each waiting for its PUBACK, so 20 messages are in flight
// (edgekit's window is set to 20). Reported per benchmark:
//
//	msg/s              messages per second, clock time
//	allocs/op, B/op    allocations of the whole process per message
//	                   (client goroutines included)
//	client-cpu-ns/msg  CPU time of the benchmark process per message (unix)
//	broker-cpu         mosquitto's CPU time / clock time (Linux): near 1
//	                   means the broker, not the client, sets the rate
//
// Run from the bench directory:
//
//	go test -run '^$' -bench . -benchmem -benchtime 20000x -count 5 ./mqttclient
package mqttclientbench
