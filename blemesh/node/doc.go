// Package node wires the Bluetooth Mesh layers into a node (Mesh Protocol
// 1.1): network PDUs with the network message cache and relay, lower
// transport with segmentation, reassembly and the replay protection list,
// upper transport with application and device keys, the access layer with
// the Configuration Server (and a Configuration Client for provisioners),
// Secure Network beacons driving the IV Update and Key Refresh procedures,
// the Friend and Low Power Node features, and provisioning over PB-ADV in
// both roles (package blemesh/prov).
//
// A [Node] is driven by explicit calls, so firmware and tests own time:
//
//	n, _ := node.New(node.Config{UUID: uuid, Bearer: radio, Elements: elems, Handler: h})
//	// for each mesh AD structure the radio hears:
//	n.Receive(now, &adv)
//	// at n.Deadline():
//	n.Tick(now)
//	// application messages:
//	n.Publish(now, 0, onOffClient, 0x8203, []byte{1, tid})
//
// [Run] is a small loop that does the above from one goroutine. Sequence
// numbers and the replay list go through [Storage]; SEQ is reserved in
// blocks so flash is written once per [Config.SeqBlock] messages.
//
// The package builds under TinyGo and imports no net, fmt or reflect.
// Receiving an application message (network decrypt, replay check, upper
// transport decrypt, dispatch) and relaying a PDU do not allocate.
//
// Virtual addresses: models subscribe to and publish to Label UUIDs (Config
// Model Subscription Virtual Add/Delete/Overwrite, Model Publication
// Virtual Set, or [Outgoing.Label]); a message to a virtual address is
// opened with each subscribed label whose hash matches and delivered only
// to the subscribers of the label that authenticated it.
//
// Publications follow the Model Publication state: [Node.Publish] sends with
// the configured address, key and TTL, and Tick sends the Publish Retransmit
// retransmissions and the periodic publications of models with a Publish
// Period (asking [Model.State] for the current state). Heartbeats follow the
// Heartbeat Publication state (periodic and on feature changes), and received
// heartbeats are counted per the Heartbeat Subscription state
// ([Node.HeartbeatSubscription]). All of it runs on the node's own
// timers (Tick/Deadline): no goroutine per model, no allocation per
// publication.
//
// Not implemented: the Friend Subscription List,
// segmented messages acknowledged by a Friend on behalf of its Low Power Node,
// Mesh Private beacons, directed forwarding, proxy/GATT and subnet bridging.
package node
