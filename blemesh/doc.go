// Package blemesh is a pure-Go Bluetooth Mesh stack (Mesh Protocol 1.1,
// compatible with Mesh Profile 1.0.1). The layers live in sub-packages that
// build under TinyGo and do not allocate on the per-PDU path:
//
//   - [github.com/edgekit/edgekit/blemesh/crypto]: the security toolbox
//     (AES-CMAC, AES-CCM, s1, k1-k5, s2, derived keys, nonces).
//   - [github.com/edgekit/edgekit/blemesh/network]: network PDUs
//     (encrypt + obfuscate, deobfuscate + decrypt), IV Index selection, the
//     network message cache, relay, proxy configuration and solicitation PDUs.
//   - [github.com/edgekit/edgekit/blemesh/transport]: lower transport
//     (segmented and unsegmented PDUs, SAR with segment acknowledgements,
//     bounded reassembly), the replay protection list, and upper transport
//     (application- and device-key encryption, virtual addresses, transport
//     control messages).
//   - [github.com/edgekit/edgekit/blemesh/access]: opcodes, the Configuration
//     and Health models' messages and Composition Data page 0.
//   - [github.com/edgekit/edgekit/blemesh/beacon]: Secure Network, Mesh
//     Private and Unprovisioned Device beacons, and the IV Update and Key
//     Refresh state machines they drive.
//
// The package's tests run the specification's sample data (section 8) from
// testdata/spec-sample-data.json, or from the file named by the
// EDGEKIT_BLEMESH_SAMPLES environment variable, through every layer in both
// directions.
package blemesh
