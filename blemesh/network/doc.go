// Package network is the Bluetooth Mesh network layer (Mesh Protocol 1.1
// §3.4, §3.9.7; Mesh Profile 1.0.1 §3.4, §3.8.7): network PDUs encrypted
// with AES-CCM and obfuscated with the PrivacyKey, the IV Index selected from
// the IVI bit, the network message cache, relay and friend re-encryption
// with TTL handling, proxy configuration messages (proxy nonce) and
// Solicitation PDUs (solicitation nonce).
//
// Nothing here starts a goroutine or reads a clock, and the per-PDU
// functions do not allocate when the caller passes a destination slice with
// enough capacity ([MaxPDULen] octets).
//
//	keys := network.FloodingKeys(netKey)
//	pdu, _ := keys.Seal(buf[:0], &network.Header{CTL: false, TTL: 4, SEQ: seq, SRC: 0x0003, DST: 0x1201, IVIndex: iv}, transportPDU)
//	var h network.Header
//	tpdu, err := keys.Open(out[:0], &h, pdu, currentIV)
package network
