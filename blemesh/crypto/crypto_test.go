package crypto_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func key(t testing.TB, s string) [16]byte {
	t.Helper()
	var k [16]byte
	if copy(k[:], unhex(t, s)) != 16 {
		t.Fatalf("key %q is not 16 octets", s)
	}
	return k
}

func eq(t *testing.T, name string, got []byte, want string) {
	t.Helper()
	if hex.EncodeToString(got) != want {
		t.Errorf("%s = %x; want %s", name, got, want)
	}
}

// RFC 4493 §4 test vectors.
func TestCMACRFC4493(t *testing.T) {
	k := key(t, "2b7e151628aed2a6abf7158809cf4f3c")
	msg := unhex(t, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
	c := crypto.NewCipher(k)
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	} {
		m := c.CMAC(msg[:tc.n])
		eq(t, "CMAC", m[:], tc.want)
		// Split writes give the same MAC.
		for split := 0; split <= tc.n; split += 7 {
			st := c.NewCMAC()
			st.Write(msg[:split])
			st.Write(nil)
			st.Write(msg[split:tc.n])
			s := st.Sum()
			eq(t, "CMAC split", s[:], tc.want)
		}
	}
}

func TestS1K1K2K3K4(t *testing.T) {
	s := crypto.S1([]byte("test"))
	eq(t, "s1", s[:], "b73cefbd641ef2ea598c2b6efb62f79c")

	k1 := crypto.K1(unhex(t, "3216d1509884b533248541792b877f98"), key(t, "2ba14ffa0df84a2831938d57d276cab4"), unhex(t, "5a09d60797eeb4478aada59db3352a0d"))
	eq(t, "k1", k1[:], "f6ed15a8934afbe7d83e8dcb57fcf5d7")

	n := key(t, "f7a2a44f8e8a8029064f173ddc1e2b00")
	nid, ek, pk := crypto.K2(n, []byte{crypto.PFlooding})
	eq(t, "k2 nid", []byte{nid}, "7f")
	eq(t, "k2 enc", ek[:], "9f589181a0f50de73c8070c7a6d27f46")
	eq(t, "k2 priv", pk[:], "4c715bd4a64b938f99b453351653124f")

	p := crypto.FriendshipP(0x0203, 0x0405, 0x0607, 0x0809)
	eq(t, "friendship P", p[:], "010203040506070809")
	nid, ek, pk = crypto.K2(n, p[:])
	eq(t, "k2f nid", []byte{nid}, "73")
	eq(t, "k2f enc", ek[:], "11efec0642774992510fb5929646df49")
	eq(t, "k2f priv", pk[:], "d4d7cc0dfa772d836a8df9df5510d7a7")

	id := crypto.K3(n)
	eq(t, "k3", id[:], "ff046958233db014")
	eq(t, "k4", []byte{crypto.K4(key(t, "3216d1509884b533248541792b877f98"))}, "38")
}

func TestDerivedKeys(t *testing.T) {
	nk := key(t, "7dd7364cd842ad18c17c2b820c84c3d6")
	ik := crypto.IdentityKey(nk)
	eq(t, "identity key", ik[:], "84396c435ac48560b5965385253e210c")
	bk := crypto.BeaconKey(nk)
	eq(t, "beacon key", bk[:], "5423d967da639a99cb02231a83f7d254")
	id := crypto.NetworkID(nk)
	eq(t, "network id", id[:], "3ecaff672f673370")
	if got := crypto.AID(key(t, "63964771734fbd76e3b40519d1d94a48")); got != 0x26 {
		t.Errorf("AID = %#x; want 0x26", got)
	}
	if got := crypto.VirtualAddress(key(t, "0073e7e4d8b9440faf8415df4c56c0e1")); got != 0xb529 {
		t.Errorf("virtual address = %#04x; want 0xb529", got)
	}
	nid, ek, pk := crypto.K2(nk, []byte{crypto.PFlooding})
	eq(t, "nid", []byte{nid}, "68")
	eq(t, "enc", ek[:], "0953fa93e7caac9638f58820220a398e")
	eq(t, "priv", pk[:], "8b84eedec100067d670971dd2aa700cf")
}

func TestNonces(t *testing.T) {
	n := crypto.NetworkNonce(0x80, 0x000001, 0x1201, 0x12345678)
	eq(t, "network nonce", n[:], "00800000011201000012345678")
	n = crypto.DeviceNonce(false, 0x3129ab, 0x0003, 0x1201, 0x12345678)
	eq(t, "device nonce", n[:], "02003129ab0003120112345678")
	n = crypto.ApplicationNonce(false, 0x07080b, 0x1234, 0xb529, 0x12345677)
	eq(t, "app nonce", n[:], "010007080b1234b52912345677")
	n = crypto.ProxyNonce(1, 1, 0x12345678)
	eq(t, "proxy nonce", n[:], "03000000010001000012345678")
	n = crypto.SolicitationNonce(0x000102, 0x0304)
	eq(t, "solicitation nonce", n[:], "04000001020304000000000000")
}

// Message #6 (Mesh Protocol 1.1 §8.3.6): upper transport device-key CCM and
// network CCM with a 32-bit MIC.
func TestCCMMessage6(t *testing.T) {
	dev := crypto.NewCipher(key(t, "9d6dd0e96eb25dc19a40ed9914f8f03f"))
	nonce := crypto.DeviceNonce(false, 0x3129ab, 0x0003, 0x1201, 0x12345678)
	pt := unhex(t, "0056341263964771734fbd76e3b40519d1d94a48")
	buf := make([]byte, 0, 64)
	out, err := dev.SealCCM(buf, &nonce, pt, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "upper transport PDU", out, "ee9dddfd2169326d23f3afdfcfdc18c52fdef772e0e17308")
	back, err := dev.OpenCCM(nil, &nonce, out, nil, 4)
	if err != nil || !bytes.Equal(back, pt) {
		t.Fatalf("open = %x, %v", back, err)
	}
	// In place.
	inplace := append([]byte(nil), pt...)
	inplace = append(inplace, 0, 0, 0, 0)
	got, err := dev.SealCCM(inplace[:0], &nonce, inplace[:len(pt)], nil, 4)
	if err != nil || !bytes.Equal(got, out) {
		t.Fatalf("in-place seal = %x, %v", got, err)
	}
	got, err = dev.OpenCCM(got[:0], &nonce, got, nil, 4)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("in-place open = %x, %v", got, err)
	}
	// Tamper.
	bad := append([]byte(nil), out...)
	bad[3] ^= 1
	dst := make([]byte, 2, 64)
	res, err := dev.OpenCCM(dst, &nonce, bad, nil, 4)
	if err != crypto.ErrAuth || len(res) != 2 {
		t.Fatalf("tampered open = %x, %v", res, err)
	}
	if _, err := dev.OpenCCM(nil, &nonce, out[:3], nil, 4); err != crypto.ErrShort {
		t.Fatalf("short: %v", err)
	}
	if _, err := dev.SealCCM(nil, &nonce, pt, nil, 5); err != crypto.ErrMICLen {
		t.Fatalf("mic 5: %v", err)
	}
}

// Message #1: 64-bit NetMIC; message #22: application key with a virtual
// address label as additional data.
func TestCCMMessage1And22(t *testing.T) {
	enc := crypto.NewCipher(key(t, "0953fa93e7caac9638f58820220a398e"))
	nonce := crypto.NetworkNonce(0x80, 1, 0x1201, 0x12345678)
	out, err := enc.SealCCM(nil, &nonce, unhex(t, "fffd034b50057e400000010000"), nil, 8)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "msg1", out, "b5e5bfdacbaf6cb7fb6bff871f035444ce83a670df")

	app := crypto.NewCipher(key(t, "63964771734fbd76e3b40519d1d94a48"))
	label := unhex(t, "0073e7e4d8b9440faf8415df4c56c0e1")
	nonce = crypto.ApplicationNonce(false, 0x07080b, 0x1234, 0xb529, 0x12345677)
	out, err = app.SealCCM(nil, &nonce, unhex(t, "d50a0048656c6c6f"), label, 4)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "msg22", out, "3871b904d431526316ca48a0")
	if _, err := app.OpenCCM(nil, &nonce, out, label[:15], 4); err != crypto.ErrAuth {
		t.Fatalf("wrong label accepted: %v", err)
	}
}

func TestPECB(t *testing.T) {
	priv := crypto.NewCipher(key(t, "8b84eedec100067d670971dd2aa700cf"))
	p := priv.PECB(0x12345678, unhex(t, "b5e5bfdacbaf6c"))
	eq(t, "pecb", p[:6], "6ca487507564")
}

func TestS2K5(t *testing.T) {
	// s2 and k5 are HMAC-SHA-256 compositions; check them against the
	// definitions computed directly.
	s := crypto.S2([]byte("prsk"))
	d := crypto.HMACSHA256(make([]byte, 32), []byte("prsk"))
	if s != d {
		t.Fatal("s2 != HMAC-SHA-256 with zero key")
	}
	k := crypto.K5([]byte("secret"), s, []byte("prck256"))
	t1 := crypto.HMACSHA256(s[:], []byte("secret"))
	if k != crypto.HMACSHA256(t1[:], []byte("prck256")) {
		t.Fatal("k5 mismatch")
	}
}
