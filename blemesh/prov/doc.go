// Package prov implements Bluetooth Mesh provisioning (Mesh Protocol 1.1
// chapter 5, compatible with Mesh Profile 1.0.1):
//
//   - every provisioning PDU, the 1.1 record PDUs included, as value types
//     with AppendBinary/Decode ([Invite] ... [RecordsList]);
//   - the security functions of both algorithms,
//     BTM_ECDH_P256_CMAC_AES128_AES_CCM and BTM_ECDH_P256_HMAC_SHA256_AES_CCM
//     ([Session], [ConfirmationInputs]), and the AuthValue of each OOB
//     method ([AuthNumeric], [AuthAlphanumeric], [AuthStatic]);
//   - the device and provisioner roles as sans-I/O state machines with the
//     protocol timeout ([Device], [Provisioner]), provisioning records
//     included;
//   - PB-ADV ([Link]: generic provisioning transactions with FCS,
//     segmentation, reassembly, acknowledgments, retransmission and link
//     open/ack/close), and PB-GATT ([GATTBearer]: provisioning PDUs in proxy
//     PDUs, see package blemesh/proxy);
//   - [DeviceSession] and [ProvisionerSession], which join a role to a PB-ADV
//     link.
//
// The PDU types are plain values with no internal state: decode into them,
// encode from them, copy them; like any value they are not safe for
// concurrent mutation. Slices in RecordResponse and RecordsList alias the
// decode buffer until cloned.
//
// Nothing here performs I/O, reads the clock or starts goroutines. Every
// machine takes the current time as an argument and reports its next
// deadline; the caller moves AD structures between the radio and a session:
//
//	s, _ := prov.NewDeviceSession(uuid, prov.LinkConfig{}, prov.DeviceConfig{Capabilities: caps})
//	// for each received AD structure of type 0x29 (prov.ADTypePBADV):
//	s.Receive(now, payload)
//	for adv, ok := s.Transmit(now, buf[:0]); ok; adv, ok = s.Transmit(now, buf[:0]) {
//		advertise(prov.ADTypePBADV, adv)
//	}
//	for e, ok := s.NextEvent(); ok; e, ok = s.NextEvent() { /* OOB prompts, EventComplete */ }
//	// when s.Deadline() passes: s.Tick(now)
//	data, devKey, ok := s.Result()
//
// ECDH goes through [KeyPair]. [P256] implements it with crypto/ecdh, which
// TinyGo builds leave out unless the blemesh_ecdh build tag is set: on the
// 64 KB-RAM Cortex-M4 that CI emulates, crypto/ecdh's P-256 overflows static
// RAM by about 29 KB. Firmware supplies a KeyPair backed by the chip's crypto
// engine instead (or sets the tag on a larger chip).
//
// The codecs, the PB-ADV framing and a Link moving transactions allocate
// nothing, and neither does a whole CMAC provisioning run of reused
// machines; the HMAC algorithm allocates inside crypto/hmac, and P256 inside
// crypto/ecdh.
package prov
