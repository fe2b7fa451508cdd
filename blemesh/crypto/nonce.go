package crypto

// Nonce types (Mesh Protocol 1.1 §3.9.5, Table 3.68).
const (
	NonceNetwork      = 0x00
	NonceApplication  = 0x01
	NonceDevice       = 0x02
	NonceProxy        = 0x03
	NonceSolicitation = 0x04
)

func putNonceTail(n *[NonceSize]byte, seq uint32, a, b uint16, ivIndex uint32) {
	n[2] = byte(seq >> 16)
	n[3] = byte(seq >> 8)
	n[4] = byte(seq)
	n[5] = byte(a >> 8)
	n[6] = byte(a)
	n[7] = byte(b >> 8)
	n[8] = byte(b)
	n[9] = byte(ivIndex >> 24)
	n[10] = byte(ivIndex >> 16)
	n[11] = byte(ivIndex >> 8)
	n[12] = byte(ivIndex)
}

// NetworkNonce returns the network nonce 0x00 || CTL|TTL || SEQ || SRC ||
// 0x0000 || IV Index (Mesh Protocol 1.1 §3.9.5.1). ctlTTL is the second
// octet of the network PDU: CTL in bit 7, TTL in bits 0-6. seq uses its
// low 24 bits.
func NetworkNonce(ctlTTL uint8, seq uint32, src uint16, ivIndex uint32) [NonceSize]byte {
	n := [NonceSize]byte{NonceNetwork, ctlTTL}
	putNonceTail(&n, seq, src, 0, ivIndex)
	return n
}

// ApplicationNonce returns the application nonce 0x01 || ASZMIC<<7 || SEQ ||
// SRC || DST || IV Index (Mesh Protocol 1.1 §3.9.5.2). seq is the low 24
// bits of SeqAuth.
func ApplicationNonce(aszmic bool, seq uint32, src, dst uint16, ivIndex uint32) [NonceSize]byte {
	n := [NonceSize]byte{NonceApplication}
	if aszmic {
		n[1] = 0x80
	}
	putNonceTail(&n, seq, src, dst, ivIndex)
	return n
}

// DeviceNonce returns the device nonce 0x02 || ASZMIC<<7 || SEQ || SRC ||
// DST || IV Index (Mesh Protocol 1.1 §3.9.5.3).
func DeviceNonce(aszmic bool, seq uint32, src, dst uint16, ivIndex uint32) [NonceSize]byte {
	n := ApplicationNonce(aszmic, seq, src, dst, ivIndex)
	n[0] = NonceDevice
	return n
}

// ProxyNonce returns the proxy nonce 0x03 || 0x00 || SEQ || SRC || 0x0000 ||
// IV Index used for proxy configuration messages (Mesh Protocol 1.1
// §3.9.5.4).
func ProxyNonce(seq uint32, src uint16, ivIndex uint32) [NonceSize]byte {
	n := [NonceSize]byte{NonceProxy}
	putNonceTail(&n, seq, src, 0, ivIndex)
	return n
}

// SolicitationNonce returns the proxy solicitation nonce 0x04 || 0x00 ||
// SSEQ || SSRC || 0x0000 || 0x00000000 used by Solicitation PDUs (Mesh
// Protocol 1.1 §3.9.5.5).
func SolicitationNonce(sseq uint32, ssrc uint16) [NonceSize]byte {
	n := [NonceSize]byte{NonceSolicitation}
	putNonceTail(&n, sseq, ssrc, 0, 0)
	return n
}

// PECB returns e(PrivacyKey, 0x0000000000 || IV Index || PrivacyRandom),
// whose first 6 octets obfuscate CTL|TTL, SEQ and SRC of a network PDU
// (Mesh Protocol 1.1 §3.9.7.3). privacyRandom is the first 7 octets of
// EncDST || EncTransportPDU || NetMIC; c holds the PrivacyKey.
func (c *Cipher) PECB(ivIndex uint32, privacyRandom []byte) [16]byte {
	var b [16]byte
	b[5] = byte(ivIndex >> 24)
	b[6] = byte(ivIndex >> 16)
	b[7] = byte(ivIndex >> 8)
	b[8] = byte(ivIndex)
	copy(b[9:], privacyRandom[:min(7, len(privacyRandom))])
	c.Encrypt(&b, &b)
	return b
}
