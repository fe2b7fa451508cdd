// Package broker is an embeddable MQTT 3.1.1 and 5.0 broker.
//
// New takes a Config whose zero value is a safe default: every limit
// (connections, sessions, packet size, per-client outbound queue in
// messages and bytes, in-flight window, Receive Maximum, CONNECT timeout,
// keep-alive, topic levels, subscriptions per client, retained count and
// bytes, publish rate per client, topic aliases, session expiry) has a
// bounded default. The broker serves any net.Listener (TCP, TLS, Unix
// sockets) with Serve, single connections of any kind (a WebSocket adapter,
// one end of a pipe) with ServeConn, and in-process clients with Pipe;
// Publish injects messages from the application.
//
//	b, err := broker.New(broker.Config{MaxPacketSize: 32 << 10})
//	if err != nil { ... }
//	defer b.Close()
//	ln, _ := net.Listen("tcp", "127.0.0.1:1883")
//	go b.Serve(ln)
//	b.Publish(ctx, &mqtt.Publish{Topic: []byte("hello"), Payload: []byte("world"), Retain: true})
//
// # Protocol
//
// QoS 0, 1 and 2 with exactly-once delivery (an inbound QoS 2 message is
// routed once, on its first PUBLISH; duplicates before PUBREL are
// acknowledged but not routed again, MQTT 5.0 §4.3.3 method A), retained
// messages, wills with Will Delay Interval and properties, persistent
// sessions with Session Expiry Interval, session takeover, Message Expiry
// Interval (the remaining time is sent on), Receive Maximum in both
// directions, Maximum Packet Size in both directions (a message too large
// for a client is dropped for it), topic aliases in both directions,
// subscription identifiers, no-local, retain-as-published, retain handling,
// shared subscriptions ($share/{group}/{filter}, round-robin or random
// among the connected members), request/response properties passed
// through, Server Keep Alive, assigned client identifiers, enhanced
// authentication (AUTH), and $SYS/broker statistics. Overlapping
// subscriptions of one client give one copy at the highest granted QoS with
// every matching subscription identifier (§3.3.4). Topics with a leading
// '$' are not matched by wildcards at the first level, and clients may not
// publish to $SYS/.
//
// # Connections and memory
//
// On Linux, connections accepted by Serve are handed after CONNECT to an
// event loop (epoll through internal/sys): no goroutine and no read buffer
// per idle connection, a few workers reading into their own buffers and
// keeping only the bytes of an incomplete packet. BenchmarkIdleConn in
// bench/mqttbroker measured about 1.3 KB of Go heap per idle connection
// (2.1-2.7 KB of resident memory) at 10,000 connections this way
// (mosquitto: about 0.7 KB; a goroutine per connection: about 6 KB).
// Elsewhere, and for ServeConn and Pipe, each connection has a reading
// goroutine. Config.EventLoop chooses;
// Stats.EventLoop reports the backend in use. Keep-alive is enforced in
// both modes.
//
// # Memory and fairness
//
// Each session has a bounded outbound queue. When it is full, the oldest
// QoS 0 message is dropped first, then the oldest message; drops are
// counted per client (Broker.ClientStats) and in Broker.Stats. A connection
// is read by its goroutine or the event loop; a writing goroutine runs only
// while the connection has something to write and batches queued packets into one
// Write, so a slow or stalled subscriber delays nobody else and costs at
// most its queue bound. A client that does not read for Config.WriteTimeout
// is disconnected. Message payloads are stored once and shared by every
// subscriber's queue.
//
// # Hooks and persistence
//
// Hooks authenticate CONNECT (and enhanced authentication), authorise each
// publish and subscribe with a reason code of the hook's choice, and
// intercept messages. Config.Store persists sessions with their
// subscriptions, retained messages, queued and in-flight QoS 1/2 messages
// and inbound QoS 2 identifiers awaiting PUBREL; NewFileStore provides one
// on edgekit's durable log (CRC per record, fsync policy, compaction,
// torn-tail recovery). A process killed with SIGKILL restarts with all of
// it (TestPersistenceSIGKILL).
//
// # Bridge
//
// Broker.NewBridge connects the broker to an upstream broker through
// mqtt/client: topic mappings with local and remote prefixes, a direction
// (In, Out, Both) and a QoS each, loop prevention with No Local
// subscriptions, and store-and-forward: a local QoS 1/2 message is
// acknowledged to the local broker only once the upstream client's store
// (mqtt/client/filestore for durability) holds it, and it is sent when the
// uplink is back.
package broker
