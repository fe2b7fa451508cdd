// Package mqttbrokerbench measures MQTT brokers side by side with one load
// generator of our own (built on edgekit's mqtt codec, MQTT 3.1.1 on
// loopback TCP): edgekit's mqtt/broker (defaults; "edgekit-bigq" with a
// 100,000-message queue per client; "edgekit-goroutines" without the
// event loop, for BenchmarkIdleConn) and github.com/mochi-mqtt/server/v2,
// both in process, and mosquitto, started as a process with a bounded
// lifetime when it is installed.
//
//   - BenchmarkThroughput: N publishers each sending to its own topic, read by
//     N subscribers (N = 10 and 100), at QoS 0, 1 and 2, publishers keeping
//     up to 20 messages in flight. Reports msgs/s (delivered messages over the
//     time from the first publish to the last delivery), p50 and p99
//     latency (publish to delivery, in µs) and the delivered share.
//   - BenchmarkFanout: one publisher, 1000 subscribers of one topic.
//   - BenchmarkIdleConn: memory per idle connection at 10,000 connections,
//     opened from a child process: the broker process's Go heap and stacks
//     (in-process brokers) or its resident set (mosquitto), before and after
//     (B/conn), and the resident set of the broker's process for all
//     (RSS-B/conn; for in-process brokers it includes the Go runtime's
//     slack).
//
// Run from the bench directory (each iteration is one message per
// publisher):
//
//	go test ./mqttbroker -run '^$' -bench 'Throughput|Fanout' -benchtime 20000x
//	go test ./mqttbroker -run '^$' -bench IdleConn -benchtime 1x
package mqttbrokerbench
