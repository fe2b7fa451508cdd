package dtls

// DTLS 1.2 record header (RFC 6347 §4.1): content type (1), version (2),
// epoch (2), sequence number (6), length (2). With a Connection ID (RFC
// 9146 §4) the content type is tls12_cid and the CID sits between the
// sequence number and the length.
const (
	recordHeaderLen      = 13
	contentHandshake     = 22
	contentTLS12CID      = 25
	handshakeClientHello = 1
	handshakeServerHello = 2
	dtlsVersionMajor     = 0xfe // DTLS 1.0 is 0xfeff, DTLS 1.2 0xfefd
)

// isClientHello reports whether the datagram b starts with an epoch-0
// handshake record carrying a ClientHello: the only datagram that may create
// a server session.
func isClientHello(b []byte) bool { return handshakeType(b) == handshakeClientHello }

// isServerHello reports whether the datagram b starts with an epoch-0
// handshake record carrying a ServerHello. A server sends one only after
// the client returned its cookie (RFC 6347 §4.2.1), that is, after the
// client proved it receives at its address.
func isServerHello(b []byte) bool { return handshakeType(b) == handshakeServerHello }

// handshakeType returns the handshake message type of the first record of
// b if it is an epoch-0 handshake record, and -1 otherwise.
func handshakeType(b []byte) int {
	if len(b) < recordHeaderLen+1 {
		return -1
	}
	if b[0] != contentHandshake || b[1] != dtlsVersionMajor || b[3] != 0 || b[4] != 0 {
		return -1
	}
	length := int(b[11])<<8 | int(b[12])
	if length < 1 || recordHeaderLen+length > len(b) {
		return -1
	}
	return int(b[recordHeaderLen])
}

// recordCID returns the Connection ID of the first record of the datagram
// b if that record is a tls12_cid record with a CID of n bytes. It aliases b.
func recordCID(b []byte, n int) ([]byte, bool) {
	if n <= 0 || len(b) < recordHeaderLen+n || b[0] != contentTLS12CID || b[1] != dtlsVersionMajor {
		return nil, false
	}
	length := int(b[11+n])<<8 | int(b[12+n])
	if recordHeaderLen+n+length > len(b) {
		return nil, false
	}
	return b[11 : 11+n], true
}
