package crypto

import "encoding/binary"

// Cipher is an expanded AES-128 key (FIPS-197) with its AES-CMAC subkeys
// (RFC 4493 §2.3), used for every block operation of the mesh security
// toolbox. It is a plain value: building one does not allocate, and a Cipher
// that is no longer modified is safe for concurrent use by many goroutines.
//
// The implementation is portable Go (one T-table of 1 KiB plus the S-box)
// so that it behaves and costs the same under TinyGo as on a host, and so
// that no interface call makes the caller's buffers escape to the heap. It is
// not constant-time with respect to cache-timing attacks.
type Cipher struct {
	rk     [44]uint32
	k1, k2 [16]byte // CMAC subkeys
}

// NewCipher expands key. It does not allocate.
func NewCipher(key [16]byte) Cipher {
	var c Cipher
	c.SetKey(key)
	return c
}

// SetKey replaces the key of c in place.
func (c *Cipher) SetKey(key [16]byte) {
	rk := &c.rk
	rk[0] = binary.BigEndian.Uint32(key[0:])
	rk[1] = binary.BigEndian.Uint32(key[4:])
	rk[2] = binary.BigEndian.Uint32(key[8:])
	rk[3] = binary.BigEndian.Uint32(key[12:])
	rcon := uint32(1)
	for i := 4; i < 44; i++ {
		t := rk[i-1]
		if i%4 == 0 {
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon <<= 1
			if rcon&0x100 != 0 {
				rcon ^= 0x11b
			}
		}
		rk[i] = rk[i-4] ^ t
	}
	// CMAC subkeys (RFC 4493 §2.3).
	var l [16]byte
	c.Encrypt(&l, &l)
	c.k1 = dbl(&l)
	c.k2 = dbl(&c.k1)
}

func subWord(w uint32) uint32 {
	return uint32(sbox[w>>24])<<24 | uint32(sbox[w>>16&0xff])<<16 | uint32(sbox[w>>8&0xff])<<8 | uint32(sbox[w&0xff])
}

func rotr(x uint32, n uint) uint32 { return x>>n | x<<(32-n) }

// Encrypt sets dst to the AES-128 encryption of src. dst and src may be the
// same array.
func (c *Cipher) Encrypt(dst, src *[16]byte) {
	rk := &c.rk
	s0 := binary.BigEndian.Uint32(src[0:]) ^ rk[0]
	s1 := binary.BigEndian.Uint32(src[4:]) ^ rk[1]
	s2 := binary.BigEndian.Uint32(src[8:]) ^ rk[2]
	s3 := binary.BigEndian.Uint32(src[12:]) ^ rk[3]
	k := 4
	for r := 1; r < 10; r++ {
		t0 := te0[s0>>24] ^ rotr(te0[s1>>16&0xff], 8) ^ rotr(te0[s2>>8&0xff], 16) ^ rotr(te0[s3&0xff], 24) ^ rk[k]
		t1 := te0[s1>>24] ^ rotr(te0[s2>>16&0xff], 8) ^ rotr(te0[s3>>8&0xff], 16) ^ rotr(te0[s0&0xff], 24) ^ rk[k+1]
		t2 := te0[s2>>24] ^ rotr(te0[s3>>16&0xff], 8) ^ rotr(te0[s0>>8&0xff], 16) ^ rotr(te0[s1&0xff], 24) ^ rk[k+2]
		t3 := te0[s3>>24] ^ rotr(te0[s0>>16&0xff], 8) ^ rotr(te0[s1>>8&0xff], 16) ^ rotr(te0[s2&0xff], 24) ^ rk[k+3]
		s0, s1, s2, s3 = t0, t1, t2, t3
		k += 4
	}
	o0 := uint32(sbox[s0>>24])<<24 | uint32(sbox[s1>>16&0xff])<<16 | uint32(sbox[s2>>8&0xff])<<8 | uint32(sbox[s3&0xff])
	o1 := uint32(sbox[s1>>24])<<24 | uint32(sbox[s2>>16&0xff])<<16 | uint32(sbox[s3>>8&0xff])<<8 | uint32(sbox[s0&0xff])
	o2 := uint32(sbox[s2>>24])<<24 | uint32(sbox[s3>>16&0xff])<<16 | uint32(sbox[s0>>8&0xff])<<8 | uint32(sbox[s1&0xff])
	o3 := uint32(sbox[s3>>24])<<24 | uint32(sbox[s0>>16&0xff])<<16 | uint32(sbox[s1>>8&0xff])<<8 | uint32(sbox[s2&0xff])
	binary.BigEndian.PutUint32(dst[0:], o0^rk[40])
	binary.BigEndian.PutUint32(dst[4:], o1^rk[41])
	binary.BigEndian.PutUint32(dst[8:], o2^rk[42])
	binary.BigEndian.PutUint32(dst[12:], o3^rk[43])
}

// dbl is the doubling in GF(2^128) used to derive CMAC subkeys.
func dbl(in *[16]byte) [16]byte {
	var out [16]byte
	var carry byte
	for i := 15; i >= 0; i-- {
		b := in[i]
		out[i] = b<<1 | carry
		carry = b >> 7
	}
	out[15] ^= 0x87 & -carry
	return out
}
