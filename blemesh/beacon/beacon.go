package beacon

import (
	"crypto/subtle"
	"errors"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// Beacon types (Mesh Protocol 1.1 §3.10.1, Table 3.53).
const (
	TypeUnprovisioned = 0x00
	TypeSecureNetwork = 0x01
	TypeMeshPrivate   = 0x02
)

// ADType is the AD type of the Mesh Beacon AD structure («Mesh Beacon»).
const ADType = 0x2b

// Flags bits of Secure Network and Mesh Private beacons (§3.10.3).
const (
	FlagKeyRefresh = 1 << 0
	FlagIVUpdate   = 1 << 1
)

// Lengths of the beacons (beacon type octet included).
const (
	UnprovisionedLen        = 19
	UnprovisionedWithURILen = 23
	SecureNetworkLen        = 22
	MeshPrivateLen          = 27
)

// Errors.
var (
	ErrShort = errors.New("blemesh/beacon: beacon too short")
	ErrLong  = errors.New("blemesh/beacon: beacon too long")
	ErrType  = errors.New("blemesh/beacon: wrong beacon type")
	ErrAuth  = errors.New("blemesh/beacon: beacon authentication failed")
	ErrFlags = errors.New("blemesh/beacon: RFU flag bits set")
)

// Type returns the beacon type of a raw beacon, or an error if empty.
func Type(b []byte) (uint8, error) {
	if len(b) == 0 {
		return 0, ErrShort
	}
	return b[0], nil
}

// Unprovisioned is the Unprovisioned Device beacon (§3.10.2): the Device
// UUID, the OOB Information bit field (big-endian on the wire) and, when
// HasURIHash, the first 4 octets of s1(URI data).
type Unprovisioned struct {
	UUID       [16]byte
	OOBInfo    uint16
	HasURIHash bool
	URIHash    [4]byte
}

// URIHash returns s1(uriData)[0:4] (§3.10.2).
func URIHash(uriData []byte) [4]byte {
	s := crypto.S1(uriData)
	return [4]byte{s[0], s[1], s[2], s[3]}
}

// EncodedLen returns 19 or 23.
func (u *Unprovisioned) EncodedLen() int {
	if u.HasURIHash {
		return UnprovisionedWithURILen
	}
	return UnprovisionedLen
}

// AppendBinary appends the beacon (type octet first).
func (u *Unprovisioned) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, TypeUnprovisioned)
	dst = append(dst, u.UUID[:]...)
	dst = append(dst, byte(u.OOBInfo>>8), byte(u.OOBInfo))
	if u.HasURIHash {
		dst = append(dst, u.URIHash[:]...)
	}
	return dst, nil
}

// Decode parses the beacon.
func (u *Unprovisioned) Decode(src []byte) (int, error) {
	if len(src) < UnprovisionedLen {
		return 0, ErrShort
	}
	if src[0] != TypeUnprovisioned {
		return 0, ErrType
	}
	switch len(src) {
	case UnprovisionedLen:
		u.HasURIHash = false
		u.URIHash = [4]byte{}
	case UnprovisionedWithURILen:
		u.HasURIHash = true
		copy(u.URIHash[:], src[19:])
	default:
		return 0, ErrLong
	}
	copy(u.UUID[:], src[1:17])
	u.OOBInfo = uint16(src[17])<<8 | uint16(src[18])
	return len(src), nil
}

// NetKeys holds what a network key contributes to beacons: the Network ID,
// the BeaconKey and the PrivateBeaconKey (expanded). Safe for concurrent use
// once built.
type NetKeys struct {
	NetworkID        [8]byte
	BeaconKey        [16]byte
	PrivateBeaconKey [16]byte
	beacon, private  crypto.Cipher
}

// NewNetKeys derives the beacon material of netKey.
func NewNetKeys(netKey [16]byte) NetKeys {
	var k NetKeys
	k.Derive(netKey)
	return k
}

// Derive sets k to the beacon material of netKey in place (NetKeys is
// about 450 octets: on small stacks prefer this to NewNetKeys).
func (k *NetKeys) Derive(netKey [16]byte) {
	k.NetworkID = crypto.NetworkID(netKey)
	k.BeaconKey = crypto.BeaconKey(netKey)
	k.PrivateBeaconKey = crypto.PrivateBeaconKey(netKey)
	k.beacon.SetKey(k.BeaconKey)
	k.private.SetKey(k.PrivateBeaconKey)
}

// SecureNetwork is the Secure Network beacon (§3.10.3).
type SecureNetwork struct {
	Flags     uint8
	NetworkID [8]byte
	IVIndex   uint32
	Auth      [8]byte // Authentication Value; set by SealSecure, checked by OpenSecure
}

// KeyRefresh and IVUpdate read the flags.
func (s *SecureNetwork) KeyRefresh() bool { return s.Flags&FlagKeyRefresh != 0 }

// IVUpdate reports the IV Update flag.
func (s *SecureNetwork) IVUpdate() bool { return s.Flags&FlagIVUpdate != 0 }

func (k *NetKeys) secureAuth(s *SecureNetwork) [16]byte {
	var m [13]byte
	m[0] = s.Flags
	copy(m[1:9], s.NetworkID[:])
	m[9], m[10], m[11], m[12] = byte(s.IVIndex>>24), byte(s.IVIndex>>16), byte(s.IVIndex>>8), byte(s.IVIndex)
	return k.beacon.CMAC(m[:])
}

// SealSecure computes s.Auth = AES-CMAC_BeaconKey(Flags || Network ID || IV
// Index)[0:8] and appends the beacon. s.NetworkID is taken as given (set it
// to k.NetworkID).
func (k *NetKeys) SealSecure(dst []byte, s *SecureNetwork) ([]byte, error) {
	if s.Flags&^3 != 0 {
		return dst, ErrFlags
	}
	a := k.secureAuth(s)
	copy(s.Auth[:], a[:8])
	dst = append(dst, TypeSecureNetwork, s.Flags)
	dst = append(dst, s.NetworkID[:]...)
	dst = append(dst, byte(s.IVIndex>>24), byte(s.IVIndex>>16), byte(s.IVIndex>>8), byte(s.IVIndex))
	return append(dst, s.Auth[:]...), nil
}

// Decode parses a Secure Network beacon without authenticating it.
func (s *SecureNetwork) Decode(src []byte) (int, error) {
	if len(src) < SecureNetworkLen {
		return 0, ErrShort
	}
	if len(src) > SecureNetworkLen {
		return 0, ErrLong
	}
	if src[0] != TypeSecureNetwork {
		return 0, ErrType
	}
	s.Flags = src[1]
	copy(s.NetworkID[:], src[2:10])
	s.IVIndex = uint32(src[10])<<24 | uint32(src[11])<<16 | uint32(src[12])<<8 | uint32(src[13])
	copy(s.Auth[:], src[14:22])
	return SecureNetworkLen, nil
}

// OpenSecure decodes src and authenticates it with k: the Network ID must be
// k's and the Authentication Value must verify.
func (k *NetKeys) OpenSecure(s *SecureNetwork, src []byte) error {
	if _, err := s.Decode(src); err != nil {
		return err
	}
	if s.NetworkID != k.NetworkID {
		return ErrAuth
	}
	a := k.secureAuth(s)
	if subtle.ConstantTimeCompare(a[:8], s.Auth[:]) != 1 {
		return ErrAuth
	}
	if s.Flags&^3 != 0 {
		return ErrFlags
	}
	return nil
}

// MeshPrivate is the Mesh Private beacon (§3.10.4): Flags and IV Index
// hidden with AES-CCM under the PrivateBeaconKey and the 13-octet Random.
type MeshPrivate struct {
	Flags   uint8
	IVIndex uint32
	Random  [13]byte
	// Obfuscated and AuthTag are the wire fields, set by SealPrivate and
	// by OpenPrivate.
	Obfuscated [5]byte
	AuthTag    [8]byte
}

// SealPrivate obfuscates and authenticates Flags and IV Index with Random
// and appends the beacon.
func (k *NetKeys) SealPrivate(dst []byte, p *MeshPrivate) ([]byte, error) {
	if p.Flags&^3 != 0 {
		return dst, ErrFlags
	}
	pt := [5]byte{p.Flags, byte(p.IVIndex >> 24), byte(p.IVIndex >> 16), byte(p.IVIndex >> 8), byte(p.IVIndex)}
	var ct [13]byte
	if _, err := k.private.SealCCM(ct[:0], &p.Random, pt[:], nil, 8); err != nil {
		return dst, err
	}
	copy(p.Obfuscated[:], ct[:5])
	copy(p.AuthTag[:], ct[5:])
	dst = append(dst, TypeMeshPrivate)
	dst = append(dst, p.Random[:]...)
	return append(dst, ct[:]...), nil
}

// OpenPrivate parses src, recovers Flags and IV Index and verifies the
// Authentication Tag.
func (k *NetKeys) OpenPrivate(p *MeshPrivate, src []byte) error {
	if len(src) < MeshPrivateLen {
		return ErrShort
	}
	if len(src) > MeshPrivateLen {
		return ErrLong
	}
	if src[0] != TypeMeshPrivate {
		return ErrType
	}
	copy(p.Random[:], src[1:14])
	copy(p.Obfuscated[:], src[14:19])
	copy(p.AuthTag[:], src[19:27])
	var pt [5]byte
	if _, err := k.private.OpenCCM(pt[:0], &p.Random, src[14:27], nil, 8); err != nil {
		return ErrAuth
	}
	p.Flags = pt[0]
	p.IVIndex = uint32(pt[1])<<24 | uint32(pt[2])<<16 | uint32(pt[3])<<8 | uint32(pt[4])
	if p.Flags&^3 != 0 {
		return ErrFlags
	}
	return nil
}

// AppendAD appends beacon as a Mesh Beacon AD structure: Length || 0x2b ||
// beacon.
func AppendAD(dst, beacon []byte) ([]byte, error) {
	if len(beacon)+1 > 30 {
		return dst, ErrLong
	}
	dst = append(dst, byte(len(beacon)+1), ADType)
	return append(dst, beacon...), nil
}
