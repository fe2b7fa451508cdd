package crypto

import (
	"crypto/subtle"
	"errors"
)

// NonceSize is the size of every mesh CCM nonce (Mesh Protocol 1.1 §3.9.5).
const NonceSize = 13

// MaxCCMLen is the largest message SealCCM and OpenCCM accept: the CCM length
// field of a 13-octet nonce has two octets (RFC 3610 §2.2, L = 2).
const MaxCCMLen = 0xffff

// Errors returned by the CCM functions.
var (
	// ErrAuth reports that a CCM MIC did not verify: wrong key, wrong nonce
	// or a corrupted message.
	ErrAuth = errors.New("blemesh/crypto: message authentication failed")
	// ErrMICLen reports a MIC length other than 4, 6, 8, 10, 12, 14 or 16.
	ErrMICLen = errors.New("blemesh/crypto: invalid MIC length")
	// ErrTooLong reports a message or additional data longer than CCM with a
	// 13-octet nonce can protect (more than MaxCCMLen octets; additional data
	// is limited to 0xfeff octets).
	ErrTooLong = errors.New("blemesh/crypto: message too long for CCM")
	// ErrShort reports a ciphertext shorter than its MIC.
	ErrShort = errors.New("blemesh/crypto: ciphertext shorter than MIC")
)

// SealCCM encrypts and authenticates plaintext and authenticates ad with
// AES-CCM (RFC 3610, Mesh Protocol 1.1 §3.9.2.3) under c and the 13-octet
// nonce, and appends ciphertext || MIC (micLen octets, 4 or 8 in the mesh) to
// dst. It allocates only when dst lacks capacity. plaintext may be
// dst[len(dst):len(dst)+len(plaintext)] (exact in-place operation); other
// overlaps are not allowed.
func (c *Cipher) SealCCM(dst []byte, nonce *[NonceSize]byte, plaintext, ad []byte, micLen int) ([]byte, error) {
	if micLen < 4 || micLen > 16 || micLen&1 != 0 {
		return dst, ErrMICLen
	}
	if len(plaintext) > MaxCCMLen || len(ad) >= 0xff00 {
		return dst, ErrTooLong
	}
	ret, out := grow(dst, len(plaintext)+micLen)
	tag := c.ccmMAC(nonce, plaintext, ad, micLen)
	c.ccmCTR(out[:len(plaintext)], plaintext, nonce)
	var s0 [16]byte
	ctrBlock(&s0, nonce, 0)
	c.Encrypt(&s0, &s0)
	for i := 0; i < micLen; i++ {
		out[len(plaintext)+i] = tag[i] ^ s0[i]
	}
	return ret, nil
}

// OpenCCM verifies and decrypts ciphertext (which ends with a micLen-octet
// MIC) and authenticates ad, appending the plaintext to dst. On failure it
// returns ErrAuth and the appended octets are zeroed. It allocates only when
// dst lacks capacity. ciphertext may begin at dst[len(dst)] (in place).
func (c *Cipher) OpenCCM(dst []byte, nonce *[NonceSize]byte, ciphertext, ad []byte, micLen int) ([]byte, error) {
	if micLen < 4 || micLen > 16 || micLen&1 != 0 {
		return dst, ErrMICLen
	}
	if len(ciphertext) < micLen {
		return dst, ErrShort
	}
	n := len(ciphertext) - micLen
	if n > MaxCCMLen || len(ad) >= 0xff00 {
		return dst, ErrTooLong
	}
	var mic [16]byte
	copy(mic[:], ciphertext[n:])
	ret, out := grow(dst, n)
	c.ccmCTR(out, ciphertext[:n], nonce)
	tag := c.ccmMAC(nonce, out, ad, micLen)
	var s0 [16]byte
	ctrBlock(&s0, nonce, 0)
	c.Encrypt(&s0, &s0)
	for i := 0; i < micLen; i++ {
		tag[i] ^= s0[i]
	}
	if subtle.ConstantTimeCompare(tag[:micLen], mic[:micLen]) != 1 {
		clear(out)
		return dst, ErrAuth
	}
	return ret, nil
}

// grow extends dst by n bytes, returning the whole slice and the new tail.
func grow(dst []byte, n int) (whole, tail []byte) {
	total := len(dst) + n
	if cap(dst) >= total {
		whole = dst[:total]
	} else {
		whole = make([]byte, total)
		copy(whole, dst)
	}
	return whole, whole[len(dst):]
}

func ctrBlock(a *[16]byte, nonce *[NonceSize]byte, i uint16) {
	a[0] = 0x01 // L' = L-1 = 1
	copy(a[1:14], nonce[:])
	a[14] = byte(i >> 8)
	a[15] = byte(i)
}

// ccmCTR XORs src with the key stream blocks A1, A2, ... into dst.
func (c *Cipher) ccmCTR(dst, src []byte, nonce *[NonceSize]byte) {
	var a, s [16]byte
	for i := uint16(1); len(src) > 0; i++ {
		ctrBlock(&a, nonce, i)
		c.Encrypt(&s, &a)
		n := min(len(src), 16)
		for j := 0; j < n; j++ {
			dst[j] = src[j] ^ s[j]
		}
		dst, src = dst[n:], src[n:]
	}
}

// ccmMAC is the CBC-MAC T of RFC 3610 §2.2 (before encryption with S0).
func (c *Cipher) ccmMAC(nonce *[NonceSize]byte, m, ad []byte, micLen int) [16]byte {
	var x [16]byte
	flags := byte((micLen-2)/2)<<3 | 1
	if len(ad) > 0 {
		flags |= 0x40
	}
	x[0] = flags
	copy(x[1:14], nonce[:])
	x[14] = byte(len(m) >> 8)
	x[15] = byte(len(m))
	c.Encrypt(&x, &x)
	if len(ad) > 0 {
		// First block: 2-octet length then the start of ad.
		x[0] ^= byte(len(ad) >> 8)
		x[1] ^= byte(len(ad))
		k := min(len(ad), 14)
		for i := 0; i < k; i++ {
			x[2+i] ^= ad[i]
		}
		c.Encrypt(&x, &x)
		cbcBlocks(c, &x, ad[k:])
	}
	cbcBlocks(c, &x, m)
	return x
}

// cbcBlocks absorbs p, zero-padded to a block boundary, into x.
func cbcBlocks(c *Cipher, x *[16]byte, p []byte) {
	for len(p) > 0 {
		n := min(len(p), 16)
		for i := 0; i < n; i++ {
			x[i] ^= p[i]
		}
		c.Encrypt(x, x)
		p = p[n:]
	}
}
