//go:build !tinygo

package crypto_test

import (
	"crypto/aes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

func FuzzAESAgainstStdlib(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte("0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 32 {
			return
		}
		var k, in, got [16]byte
		copy(k[:], b)
		copy(in[:], b[16:])
		c := crypto.NewCipher(k)
		c.Encrypt(&got, &in)
		ref, _ := aes.NewCipher(k[:])
		var want [16]byte
		ref.Encrypt(want[:], in[:])
		if got != want {
			t.Fatalf("AES(%x, %x) = %x; stdlib %x", k, in, got, want)
		}
	})
}

func TestCryptoNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	k := [16]byte{1, 2, 3}
	c := crypto.NewCipher(k)
	nonce := crypto.NetworkNonce(0x03, 1, 2, 3)
	pt := make([]byte, 20)
	buf := make([]byte, 0, 64)
	out := make([]byte, 0, 64)
	var nid uint8
	n := testing.AllocsPerRun(100, func() {
		ct, _ := c.SealCCM(buf[:0], &nonce, pt, nil, 8)
		_, _ = c.OpenCCM(out[:0], &nonce, ct, nil, 8)
		_ = c.CMAC(pt, pt)
		nid, _, _ = crypto.K2(k, []byte{0})
		_ = crypto.K3(k)
		_ = crypto.K4(k)
		_ = crypto.BeaconKey(k)
		_ = crypto.VirtualAddress(k)
		_ = c.PECB(1, pt)
	})
	if n != 0 {
		t.Fatalf("allocs = %v; want 0", n)
	}
	_ = nid
}

func BenchmarkAESEncrypt(b *testing.B) {
	c := crypto.NewCipher([16]byte{1})
	var x [16]byte
	b.SetBytes(16)
	b.ReportAllocs()
	for b.Loop() {
		c.Encrypt(&x, &x)
	}
}

func BenchmarkCCMSeal(b *testing.B) {
	c := crypto.NewCipher([16]byte{1})
	nonce := crypto.NetworkNonce(0x03, 1, 2, 3)
	pt := make([]byte, 13)
	buf := make([]byte, 0, 64)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.SealCCM(buf[:0], &nonce, pt, nil, 4)
	}
}
