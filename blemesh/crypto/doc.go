// Package crypto is the Bluetooth Mesh security toolbox (Mesh Protocol 1.1
// §3.9.2, compatible with Mesh Profile 1.0.1 §3.8.2): AES-128, AES-CMAC,
// AES-CCM with 32- and 64-bit MICs, the salt and key derivation functions
// s1, k1, k2 (flooding, friendship and directed material), k3, k4, s2 and
// k5, the identity, beacon and private beacon keys, virtual addresses of
// Label UUIDs, and the network, application, device, proxy and solicitation
// nonces.
//
// Keys are [16]byte values. The AES implementation is portable Go with an
// expanded-key value type, [Cipher], so that every function except S2, K5
// and HMACSHA256 (provisioning only) runs without heap allocation and the
// package behaves the same under TinyGo. Keep one Cipher per key on hot
// paths; building one costs about one block encryption.
//
//	c := crypto.NewCipher(encryptionKey)
//	nonce := crypto.NetworkNonce(ctlTTL, seq, src, ivIndex)
//	pdu, err := c.SealCCM(pdu[:7], &nonce, pdu[7:], nil, 4)
//	nid, encKey, privKey := crypto.K2(netKey, []byte{crypto.PFlooding})
package crypto
