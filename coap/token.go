package coap

// Token is a CoAP token of 0 to 8 bytes (RFC 7252 §5.3.1). It is a small
// comparable value, safe as a map key; the zero Token is the empty token.
type Token struct {
	b [8]byte
	n uint8
}

// TokenFrom returns the token with the bytes of b. ok is false, and the
// Token empty, if len(b) > 8.
func TokenFrom(b []byte) (t Token, ok bool) {
	if len(b) > 8 {
		return Token{}, false
	}
	t.n = uint8(copy(t.b[:], b))
	return t, true
}

// TokenFromUint64 returns the 8-byte token holding v big-endian.
func TokenFromUint64(v uint64) Token {
	var t Token
	for i := 7; i >= 0; i-- {
		t.b[i] = byte(v)
		v >>= 8
	}
	t.n = 8
	return t
}

// Len returns the token length in bytes.
func (t Token) Len() int { return int(t.n) }

// IsZero reports whether t is the empty token.
func (t Token) IsZero() bool { return t.n == 0 }

// AppendTo appends the token bytes to dst.
func (t Token) AppendTo(dst []byte) []byte { return append(dst, t.b[:t.n]...) }

// Uint64 returns the token bytes as a big-endian number (the bytes of a
// shorter token are the low-order ones).
func (t Token) Uint64() uint64 {
	var v uint64
	for _, c := range t.b[:t.n] {
		v = v<<8 | uint64(c)
	}
	return v
}

// String returns the token in lower-case hex.
func (t Token) String() string {
	const hex = "0123456789abcdef"
	var buf [16]byte
	for i, c := range t.b[:t.n] {
		buf[2*i], buf[2*i+1] = hex[c>>4], hex[c&15]
	}
	return string(buf[:2*t.n])
}
