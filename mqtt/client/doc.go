// Package client is an MQTT 3.1.1 and 5.0 client with store-and-forward:
// every QoS 1/2 message the application hands it is kept in a [Store]
// until the broker acknowledges it, across disconnects, broker restarts
// and, with the durable store of package mqtt/client/filestore, the
// process being killed; when the link
// returns the client resumes the session and sends what was pending, in
// order.
//
// It connects over TCP, TLS or any caller-supplied stream
// (Config.Dialer), and implements the QoS 1 and QoS 2 in-flight state
// machines, packet identifier allocation, Receive Maximum in both
// directions, topic aliases in both directions, Maximum Packet Size,
// session present / clean start / session expiry, message expiry, user and
// request/response properties (passed through [mqtt.Properties]),
// enhanced authentication ([Authenticator]) and will messages with
// properties. Keepalive sends PINGREQ and drops a connection whose
// PINGRESP is overdue; reconnects back off exponentially with jitter, renew
// subscriptions and resend in-flight messages with DUP.
//
// Everything is bounded: the store (block the publisher, fail, or drop
// the oldest QoS 0 messages first), the in-flight window, the write
// buffer, the delivery queue (a slow handler stops the client reading,
// which is backpressure to the broker, but not its keepalive) and the
// packet size.
//
// Usage sketch:
//
//	st, err := filestore.Open("/var/lib/gw/mqtt", filestore.Config{Full: client.FullDropQoS0})
//	c, err := client.New(client.Config{Addr: "broker:1883", Version: mqtt.V5,
//		ClientID: "gw-17", SessionExpiry: 86400, Store: st, ReturnWhenStored: true})
//	err = c.Connect(ctx) // an error here is not fatal: the client keeps trying
//	err = c.Publish(ctx, &mqtt.Publish{Topic: []byte("gw-17/temp"), QoS: 1, Payload: b})
//	codes, err := c.Subscribe(ctx, func(m *mqtt.Publish) { ... }, mqtt.Subscription{Filter: []byte("gw-17/cmd/#"), QoS: 2})
//	c.Close(); st.Close()
//
// # Store records and crash safety
//
// Publish of QoS 1/2 appends a record (the encoded PUBLISH plus a small
// header) to the store before anything is sent. Sending a QoS 2 message
// first records its packet identifier (Store.Replace), and PUBREC is
// recorded as "PUBREL sent" before PUBREL goes out, so a restarted process
// resends exactly what the broker expects: PUBLISH with the same
// identifier, or PUBREL. PUBACK and PUBCOMP delete the record (in batches).
// A QoS 1 message in flight when the process died is sent again (at least
// once); a QoS 2 message is not duplicated.
//
// Without a session on the broker (Session Present 0) in-flight PUBLISHes
// are sent again as new messages; QoS 2 messages whose PUBREC had arrived
// are considered delivered.
//
// Deletions of acknowledged records go through a goroutine of their own
// for a durable store, so one fsync covers a window of acknowledgements
// and the reader never waits for the disk; a deletion lost in a crash
// only means the message is sent once more (QoS 1) or its PUBREL is
// (QoS 2). The two QoS 2 state changes are persisted before the packet
// that depends on them leaves, one after the other: with an fsync per
// record (filestore.SyncAlways) a QoS 2 stream runs at disk-sync speed, so
// QoS 2-heavy gateways should prefer filestore.SyncInterval or SyncEveryN,
// which survive a killed process as well (BenchmarkPublishDurable).
//
// # Performance
//
// The publish path allocates nothing once warm (TestAllocs measures the
// whole process per message). A writer goroutine per connection batches
// every packet queued meanwhile into one write, so many messages share a
// system call; acknowledgements free window slots in batches. See
// bench/mqttclient for the comparison with the Eclipse Paho clients on
// mosquitto.
//
// Brokers differ in ordering under load: mosquitto 2.0.11 lets new
// messages overtake queued ones for a subscriber whose in-flight window is
// full; this client keeps its own order (TestLinkLoss).
package client
