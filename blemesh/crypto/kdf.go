package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
)

// S1 is the salt generation function s1(M) = AES-CMAC_ZERO(M) (Mesh
// Protocol 1.1 §3.9.2.6). It does not allocate.
func S1(m []byte) [16]byte {
	var c Cipher // the zero key
	c.SetKey([16]byte{})
	return c.CMAC(m)
}

// s1s is S1 of a short ASCII constant, without converting the string to a
// heap-allocated slice.
func s1s(s string) [16]byte {
	var b [8]byte
	n := copy(b[:], s)
	return S1(b[:n])
}

// K1 is the key derivation function k1(N, SALT, P) (Mesh Protocol 1.1
// §3.9.2.7): T = AES-CMAC_SALT(N), k1 = AES-CMAC_T(P). N may have any length
// (a 16-octet key or a 32-octet ECDH secret). It does not allocate.
func K1(n []byte, salt [16]byte, p []byte) [16]byte {
	var c Cipher
	c.SetKey(salt)
	t := c.CMAC(n)
	c.SetKey(t)
	return c.CMAC(p)
}

// Values of P for k2 (Mesh Protocol 1.1 §3.9.6.3.1): managed flooding
// security material uses P = 0x00 and directed security material P = 0x02;
// friendship material uses [FriendshipP].
const (
	PFlooding byte = 0x00
	PDirected byte = 0x02
)

// FriendshipP returns P = 0x01 || LPNAddress || FriendAddress || LPNCounter
// || FriendCounter, the k2 input for friendship security material (Mesh
// Protocol 1.1 §3.9.6.3.1).
func FriendshipP(lpnAddr, friendAddr, lpnCounter, friendCounter uint16) [9]byte {
	return [9]byte{0x01,
		byte(lpnAddr >> 8), byte(lpnAddr),
		byte(friendAddr >> 8), byte(friendAddr),
		byte(lpnCounter >> 8), byte(lpnCounter),
		byte(friendCounter >> 8), byte(friendCounter)}
}

// K2 is the network key material derivation function k2(N, P) (Mesh
// Protocol 1.1 §3.9.2.8). It returns the 7-bit NID, the EncryptionKey and the
// PrivacyKey. p must have at least one octet. It does not allocate.
func K2(n [16]byte, p []byte) (nid uint8, encryptionKey, privacyKey [16]byte) {
	var c Cipher
	c.SetKey(s1s("smk2"))
	t := c.CMAC(n[:])
	c.SetKey(t)
	var pad [1]byte
	pad[0] = 1
	t1 := c.CMAC(p, pad[:])
	pad[0] = 2
	t2 := c.CMAC(t1[:], p, pad[:])
	pad[0] = 3
	t3 := c.CMAC(t2[:], p, pad[:])
	return t1[15] & 0x7f, t2, t3
}

// K3 is the derivation function k3(N) that gives the 64-bit Network ID
// (Mesh Protocol 1.1 §3.9.2.9). It does not allocate.
func K3(n [16]byte) [8]byte {
	var c Cipher
	c.SetKey(s1s("smk3"))
	t := c.CMAC(n[:])
	c.SetKey(t)
	id64 := [5]byte{'i', 'd', '6', '4', 0x01}
	out := c.CMAC(id64[:])
	var r [8]byte
	copy(r[:], out[8:])
	return r
}

// K4 is the derivation function k4(N) that gives the 6-bit AID of an
// application key (Mesh Protocol 1.1 §3.9.2.10). It does not allocate.
func K4(n [16]byte) uint8 {
	var c Cipher
	c.SetKey(s1s("smk4"))
	t := c.CMAC(n[:])
	c.SetKey(t)
	id6 := [4]byte{'i', 'd', '6', 0x01}
	out := c.CMAC(id6[:])
	return out[15] & 0x3f
}

// S2 is the salt generation function s2(M) = HMAC-SHA-256_ZERO(M) (Mesh
// Protocol 1.1 §3.9.2.11), used by the BTM_ECDH_P256_HMAC_SHA256_AES_CCM
// provisioning algorithm. It allocates (crypto/hmac); it is not on any
// per-PDU path.
func S2(m []byte) [32]byte {
	var zero [32]byte
	return hmacSHA256(zero[:], m)
}

// K5 is the derivation function k5(N, SALT, P) (Mesh Protocol 1.1
// §3.9.2.12): T = HMAC-SHA-256_SALT(N), k5 = HMAC-SHA-256_T(P). It allocates
// (crypto/hmac); it is used once per provisioning.
func K5(n []byte, salt [32]byte, p []byte) [32]byte {
	t := hmacSHA256(salt[:], n)
	return hmacSHA256(t[:], p)
}

// HMACSHA256 returns HMAC-SHA-256_key(m).
func HMACSHA256(key, m []byte) [32]byte { return hmacSHA256(key, m) }

func hmacSHA256(key, m []byte) [32]byte {
	h := hmac.New(sha256.New, key)
	h.Write(m)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// id128 derives a 128-bit key from netKey with k1(N, s1(salt), "id128" ||
// 0x01) (Mesh Protocol 1.1 §3.9.6.3.3-§3.9.6.3.5).
func id128(netKey [16]byte, salt string) [16]byte {
	p := [6]byte{'i', 'd', '1', '2', '8', 0x01}
	return K1(netKey[:], s1s(salt), p[:])
}

// IdentityKey derives the IdentityKey of a network key, used for Node
// Identity advertising (Mesh Protocol 1.1 §3.9.6.3.3).
func IdentityKey(netKey [16]byte) [16]byte { return id128(netKey, "nkik") }

// BeaconKey derives the BeaconKey of a network key, which authenticates
// Secure Network beacons (Mesh Protocol 1.1 §3.9.6.3.4).
func BeaconKey(netKey [16]byte) [16]byte { return id128(netKey, "nkbk") }

// PrivateBeaconKey derives the PrivateBeaconKey of a network key, which
// protects Mesh Private beacons (Mesh Protocol 1.1 §3.9.6.3.5).
func PrivateBeaconKey(netKey [16]byte) [16]byte { return id128(netKey, "nkpk") }

// NetworkID derives the 64-bit Network ID of a network key: k3(NetKey)
// (Mesh Protocol 1.1 §3.9.6.3.2).
func NetworkID(netKey [16]byte) [8]byte { return K3(netKey) }

// AID derives the 6-bit application key identifier: k4(AppKey) (Mesh
// Protocol 1.1 §3.9.6.2).
func AID(appKey [16]byte) uint8 { return K4(appKey) }

// VirtualAddress returns the virtual address of a Label UUID: 0b10 ||
// (AES-CMAC_s1("vtad")(Label UUID) mod 2^14) (Mesh Protocol 1.1 §3.4.2.3).
func VirtualAddress(label [16]byte) uint16 {
	var c Cipher
	c.SetKey(s1s("vtad"))
	h := c.CMAC(label[:])
	return (uint16(h[14])<<8|uint16(h[15]))&0x3fff | 0x8000
}
