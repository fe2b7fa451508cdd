// Package access is the Bluetooth Mesh access layer (Mesh Protocol 1.1
// §3.7, Mesh Profile 1.0.1 §3.7) and the foundation models' messages
// (Mesh Protocol 1.1 §4): 1-, 2- and 3-octet opcodes, access payloads,
// address kinds (unicast, group, virtual) for element/model addressing and
// publication/subscription, the Configuration Server/Client and Health
// Server messages, and Composition Data page 0.
//
// Decoders alias their input and do not allocate.
//
//	op, n, err := access.DecodeOpcode(payload)
//	var add access.AppKeyAdd
//	if op == access.OpAppKeyAdd { _, err = add.Decode(payload[n:]) }
package access
