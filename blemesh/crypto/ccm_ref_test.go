//go:build !tinygo

package crypto_test

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// refSealCCM is a direct transcription of RFC 3610 §2.2-§2.3 (L = 2) over
// crypto/aes, one block at a time: an independent reference for SealCCM.
func refSealCCM(key [16]byte, nonce [13]byte, m, a []byte, micLen int) []byte {
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err)
	}
	// Authentication: B0 || encoded l(a) || a || pad || m || pad.
	var b []byte
	flags := byte(0)
	if len(a) > 0 {
		flags = 0x40
	}
	flags |= byte((micLen-2)/2)<<3 | 1
	b = append(b, flags)
	b = append(b, nonce[:]...)
	b = append(b, byte(len(m)>>8), byte(len(m)))
	if len(a) > 0 {
		b = append(b, byte(len(a)>>8), byte(len(a)))
		b = append(b, a...)
		for len(b)%16 != 0 {
			b = append(b, 0)
		}
	}
	b = append(b, m...)
	for len(b)%16 != 0 {
		b = append(b, 0)
	}
	x := make([]byte, 16)
	for i := 0; i < len(b); i += 16 {
		for j := 0; j < 16; j++ {
			x[j] ^= b[i+j]
		}
		blk.Encrypt(x, x)
	}
	// Encryption: A_i = 0x01 || nonce || i.
	ctr := func(i int) []byte {
		a := append([]byte{0x01}, nonce[:]...)
		a = append(a, byte(i>>8), byte(i))
		s := make([]byte, 16)
		blk.Encrypt(s, a)
		return s
	}
	out := make([]byte, len(m))
	for i := 0; i < len(m); i++ {
		out[i] = m[i] ^ ctr(i/16 + 1)[i%16]
	}
	s0 := ctr(0)
	for i := 0; i < micLen; i++ {
		out = append(out, x[i]^s0[i])
	}
	return out
}

func TestCCMAgainstReference(t *testing.T) {
	// RFC 3610 §8 Packet Vector #1.
	var k [16]byte
	copy(k[:], mustHex("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"))
	var nonce [13]byte
	copy(nonce[:], mustHex("00000003020100a0a1a2a3a4a5"))
	c := crypto.NewCipher(k)
	got, err := c.SealCCM(nil, &nonce, mustHex("08090a0b0c0d0e0f101112131415161718191a1b1c1d1e"), mustHex("0001020304050607"), 8)
	if err != nil {
		t.Fatal(err)
	}
	if want := "588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0"; hex.EncodeToString(got) != want {
		t.Fatalf("RFC 3610 #1: %x; want %s", got, want)
	}

	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 600; i++ {
		for j := range k {
			k[j] = byte(rng.Uint32())
		}
		for j := range nonce {
			nonce[j] = byte(rng.Uint32())
		}
		m := make([]byte, i%100) // 0..99: 0 to 7 blocks, odd and even counts
		a := make([]byte, rng.IntN(40))
		for j := range m {
			m[j] = byte(rng.Uint32())
		}
		for j := range a {
			a[j] = byte(rng.Uint32())
		}
		micLen := 4 << (i & 1)
		c := crypto.NewCipher(k)
		got, err := c.SealCCM(nil, &nonce, m, a, micLen)
		if err != nil {
			t.Fatal(err)
		}
		want := refSealCCM(k, nonce, m, a, micLen)
		if !bytes.Equal(got, want) {
			t.Fatalf("len(m)=%d len(a)=%d mic=%d: SealCCM %x; reference %x", len(m), len(a), micLen, got, want)
		}
		back, err := c.OpenCCM(nil, &nonce, got, a, micLen)
		if err != nil || !bytes.Equal(back, m) {
			t.Fatalf("len(m)=%d: OpenCCM = %x, %v; want %x", len(m), back, err, m)
		}
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
