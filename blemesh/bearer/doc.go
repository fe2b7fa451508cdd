// Package bearer is the Bluetooth Mesh advertising bearer (Mesh Protocol 1.1
// §3.3.1, §5.2.1): mesh messages, beacons and PB-ADV provisioning PDUs carried
// as AD structures of type 0x2a («Mesh Message»), 0x2b («Mesh Beacon») and
// 0x29 («PB-ADV») in non-connectable advertisements.
//
// It has three parts:
//   - [Adv] and [Iter]: encoding and decoding of AD structures (the codec,
//     allocation-free, aliasing its input);
//   - [Bearer]: what a node needs from a radio (send one AD structure);
//   - [Air]: an in-memory radio medium for tests that connects many nodes
//     with deterministic loss and delay and drives them from a simulated
//     clock, so multi-node scenarios run without sleeping.
//
// Nothing here imports net, fmt or reflect; the package builds under TinyGo.
//
//	var a bearer.Adv
//	it := bearer.NewIter(reportData)
//	for it.Next(&a) {
//		node.Receive(now, &a) // a.Payload aliases reportData
//	}
package bearer
