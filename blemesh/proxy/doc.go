// Package proxy implements the GATT side of a Bluetooth Mesh node that is
// independent of the network keys in flight: the proxy PDU and its
// segmentation and reassembly (SAR) over an ATT MTU (Mesh Protocol 1.1 §6.3),
// the Mesh Proxy Service advertising data in its four identification forms
// (Network ID, Node Identity, Private Network Identity, Private Node
// Identity; §7.2.2.2) and the Mesh Provisioning Service advertising data
// (§7.1.2.2.1).
//
// The package is sans-I/O and portable: it imports no net, fmt or reflect,
// starts no goroutines and builds under TinyGo. A GATT transport (a BLE
// stack, an HCI bearer) moves the ATT values; this package turns them into
// messages and back.
//
//	seg, _ := proxy.NewSegmenter(attMTU, proxy.TypeNetwork, networkPDU)
//	for v, ok := seg.Next(buf[:0]); ok; v, ok = seg.Next(buf[:0]) {
//		writeATT(v) // one ATT Write Command or Notification per value
//	}
//
//	r, _ := proxy.NewReassembler(proxy.Config{})
//	typ, msg, done, err := r.Feed(now, attValue) // err: disconnect (§6.3.2)
//
//	d := proxy.NodeIdentityServiceData(identityKey, random, addr)
//	adv, _ := d.AppendAdvertisingData(nil) // Flags, UUID list, service data
//
//	if sd, ok := proxy.FindServiceData(scanned, proxy.ServiceUUIDProxy); ok {
//		_, err := d.Decode(sd) // then d.MatchNode(identityKey, addr)
//	}
//
// Messages returned by [Reassembler.Feed] and values returned by
// [PDU.Decode] alias memory the caller or the reassembler owns; copy what you
// keep.
package proxy
