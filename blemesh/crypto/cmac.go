package crypto

// CMAC returns AES-CMAC_c(parts[0] || parts[1] || ...) (RFC 4493), the MAC
// the mesh specification writes AES-CMAC_k(m) (Mesh Protocol 1.1 §3.9.2.2).
// The parts are concatenated logically, without copying. It does not
// allocate.
func (c *Cipher) CMAC(parts ...[]byte) [16]byte {
	var m CMACState
	m.c = c
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum()
}

// CMACState computes an AES-CMAC incrementally. The zero value is not usable;
// obtain one from [Cipher.NewCMAC]. It is a value type that does not
// allocate; it is not safe for concurrent use.
type CMACState struct {
	c   *Cipher
	x   [16]byte // chaining value
	buf [16]byte // pending block, not yet processed
	n   int      // bytes in buf
}

// NewCMAC starts an incremental AES-CMAC under c. c must not change until
// Sum is called.
func (c *Cipher) NewCMAC() CMACState { return CMACState{c: c} }

// Write adds p to the message. It never fails.
func (m *CMACState) Write(p []byte) {
	for len(p) > 0 {
		if m.n == 16 {
			// The pending block is not the last one: process it.
			for i := range m.x {
				m.x[i] ^= m.buf[i]
			}
			m.c.Encrypt(&m.x, &m.x)
			m.n = 0
		}
		k := copy(m.buf[m.n:], p)
		m.n += k
		p = p[k:]
	}
}

// Sum returns the 128-bit MAC of everything written. It does not change the
// state's pending data, but the state should not be written to afterwards.
func (m *CMACState) Sum() [16]byte {
	x := m.x
	if m.n == 16 {
		for i := range x {
			x[i] ^= m.buf[i] ^ m.c.k1[i]
		}
	} else {
		var last [16]byte
		copy(last[:], m.buf[:m.n])
		last[m.n] = 0x80
		for i := range x {
			x[i] ^= last[i] ^ m.c.k2[i]
		}
	}
	m.c.Encrypt(&x, &x)
	return x
}

// AESCMAC returns AES-CMAC_key(parts...). It expands the key on every call;
// keep a [Cipher] for repeated use with the same key.
func AESCMAC(key [16]byte, parts ...[]byte) [16]byte {
	var c Cipher
	c.SetKey(key)
	return c.CMAC(parts...)
}
