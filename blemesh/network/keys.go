package network

import "github.com/edgekit/edgekit/blemesh/crypto"

// Keys is the network security material of one set of credentials
// (managed flooding, friendship or directed) derived from a NetKey with k2
// (Mesh Protocol 1.1 §3.9.6.3.1). It holds expanded AES keys, so encrypting
// or decrypting with it does not allocate. A Keys that is not modified is
// safe for concurrent use.
type Keys struct {
	NID           uint8    // 7-bit network identifier
	EncryptionKey [16]byte // protects DST || TransportPDU
	PrivacyKey    [16]byte // obfuscates CTL|TTL, SEQ and SRC
	enc, priv     crypto.Cipher
}

// NewKeys derives the material of netKey for the k2 input p.
func NewKeys(netKey [16]byte, p []byte) Keys {
	var k Keys
	k.Derive(netKey, p)
	return k
}

// Derive sets k to the material of netKey for the k2 input p, in place
// (Keys is about 450 octets: on small stacks prefer this to NewKeys).
func (k *Keys) Derive(netKey [16]byte, p []byte) {
	k.NID, k.EncryptionKey, k.PrivacyKey = crypto.K2(netKey, p)
	k.enc.SetKey(k.EncryptionKey)
	k.priv.SetKey(k.PrivacyKey)
}

// FloodingKeys derives the managed flooding security material (P = 0x00).
func FloodingKeys(netKey [16]byte) Keys {
	p := [1]byte{crypto.PFlooding}
	return NewKeys(netKey, p[:])
}

// DirectedKeys derives the directed security material (P = 0x02), Mesh
// Protocol 1.1 only.
func DirectedKeys(netKey [16]byte) Keys {
	p := [1]byte{crypto.PDirected}
	return NewKeys(netKey, p[:])
}

// Friendship identifies a friendship for the friendship security material.
type Friendship struct {
	LPNAddress, FriendAddress uint16
	LPNCounter, FriendCounter uint16
}

// FriendshipKeys derives the friendship security material (P = 0x01 ||
// LPNAddress || FriendAddress || LPNCounter || FriendCounter).
func FriendshipKeys(netKey [16]byte, f Friendship) Keys {
	p := crypto.FriendshipP(f.LPNAddress, f.FriendAddress, f.LPNCounter, f.FriendCounter)
	return NewKeys(netKey, p[:])
}

// OpenAny tries each set of keys whose NID matches the PDU (a node holds
// several: managed flooding, one friendship set per friend or LPN, directed,
// and the old and new keys during Key Refresh) and returns the index of the
// set that decrypted it. Sets with another NID cost one comparison. It does
// not allocate when dst has room.
func OpenAny(dst []byte, h *Header, raw []byte, current uint32, sets []Keys) (int, []byte, error) {
	if len(raw) == 0 {
		return -1, dst, ErrShort
	}
	nid := raw[0] & 0x7f
	err := ErrNID
	for i := range sets {
		if sets[i].NID != nid {
			continue
		}
		out, e := sets[i].Open(dst, h, raw, current)
		if e == nil {
			return i, out, nil
		}
		err = e
	}
	return -1, dst, err
}
