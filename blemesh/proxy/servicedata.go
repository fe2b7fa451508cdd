package proxy

import (
	"crypto/subtle"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// 16-bit UUIDs of the mesh GATT services (Assigned Numbers).
const (
	ServiceUUIDProvisioning uint16 = 0x1827 // Mesh Provisioning Service
	ServiceUUIDProxy        uint16 = 0x1828 // Mesh Proxy Service
)

// ADTypeServiceData16 is the AD type "Service Data - 16-bit UUID".
const ADTypeServiceData16 = 0x16

// IdentificationType is the first octet of the Mesh Proxy Service data
// (Mesh Protocol 1.1 §7.2.2.2.1, Table 7.8). Values 0x04-0xFF are reserved.
type IdentificationType uint8

// Identification types.
const (
	IDNetwork        IdentificationType = 0x00 // Network ID
	IDNode           IdentificationType = 0x01 // Node Identity
	IDPrivateNetwork IdentificationType = 0x02 // Private Network Identity
	IDPrivateNode    IdentificationType = 0x03 // Private Node Identity
)

var idNames = [4]string{"network-id", "node-identity", "private-network-identity", "private-node-identity"}

// String returns a short name of t.
func (t IdentificationType) String() string {
	if int(t) < len(idNames) {
		return idNames[t]
	}
	return "rfu"
}

// ProxyServiceData is the Service Data AD structure that a node running the
// Mesh Proxy Service advertises (Mesh Protocol 1.1 §7.2.2.2). With Type ==
// IDNetwork only NetworkID is on the wire; with the three identity types
// Hash and Random are. It is a comparable value.
type ProxyServiceData struct {
	Type      IdentificationType
	NetworkID [8]byte
	Hash      [8]byte
	Random    [8]byte
}

// NetworkIDServiceData returns the Network ID form for a network whose
// Network ID (k3 of the network key) is networkID (§7.2.2.2.2).
func NetworkIDServiceData(networkID [8]byte) ProxyServiceData {
	return ProxyServiceData{Type: IDNetwork, NetworkID: networkID}
}

// identityHash returns e(IdentityKey, block)[8:16] (the hash is the last 64
// bits of the AES output, "mod 2^64").
func identityHash(identityKey [16]byte, block *[16]byte) [8]byte {
	c := crypto.NewCipher(identityKey)
	var out [16]byte
	c.Encrypt(&out, block)
	var h [8]byte
	copy(h[:], out[8:])
	return h
}

// NodeIdentityHash computes the Node Identity hash e(IdentityKey, Padding ||
// Random || Address) mod 2^64 with 48 bits of zero padding (§7.2.2.2.3).
func NodeIdentityHash(identityKey [16]byte, random [8]byte, addr uint16) [8]byte {
	var b [16]byte
	copy(b[6:14], random[:])
	b[14], b[15] = byte(addr>>8), byte(addr)
	return identityHash(identityKey, &b)
}

// PrivateNodeIdentityHash computes the Private Node Identity hash
// e(IdentityKey, Padding || 0x03 || Random || Address) mod 2^64 with 40 bits
// of zero padding (§7.2.2.2.5).
func PrivateNodeIdentityHash(identityKey [16]byte, random [8]byte, addr uint16) [8]byte {
	var b [16]byte
	b[5] = 0x03
	copy(b[6:14], random[:])
	b[14], b[15] = byte(addr>>8), byte(addr)
	return identityHash(identityKey, &b)
}

// PrivateNetworkIdentityHash computes the Private Network Identity hash
// e(IdentityKey, NetworkID || Random) mod 2^64 (§7.2.2.2.4).
func PrivateNetworkIdentityHash(identityKey [16]byte, networkID, random [8]byte) [8]byte {
	var b [16]byte
	copy(b[:8], networkID[:])
	copy(b[8:], random[:])
	return identityHash(identityKey, &b)
}

// NodeIdentityServiceData returns the Node Identity form for the node whose
// primary element address is addr.
func NodeIdentityServiceData(identityKey [16]byte, random [8]byte, addr uint16) ProxyServiceData {
	return ProxyServiceData{Type: IDNode, Hash: NodeIdentityHash(identityKey, random, addr), Random: random}
}

// PrivateNodeIdentityServiceData returns the Private Node Identity form.
func PrivateNodeIdentityServiceData(identityKey [16]byte, random [8]byte, addr uint16) ProxyServiceData {
	return ProxyServiceData{Type: IDPrivateNode, Hash: PrivateNodeIdentityHash(identityKey, random, addr), Random: random}
}

// PrivateNetworkIdentityServiceData returns the Private Network Identity form.
func PrivateNetworkIdentityServiceData(identityKey [16]byte, networkID, random [8]byte) ProxyServiceData {
	return ProxyServiceData{Type: IDPrivateNetwork, Hash: PrivateNetworkIdentityHash(identityKey, networkID, random), Random: random}
}

// MatchNode reports whether d is a Node Identity or Private Node Identity
// advertisement of the node addr under the network whose IdentityKey is
// given. It compares in constant time.
func (d *ProxyServiceData) MatchNode(identityKey [16]byte, addr uint16) bool {
	var h [8]byte
	switch d.Type {
	case IDNode:
		h = NodeIdentityHash(identityKey, d.Random, addr)
	case IDPrivateNode:
		h = PrivateNodeIdentityHash(identityKey, d.Random, addr)
	default:
		return false
	}
	return subtle.ConstantTimeCompare(h[:], d.Hash[:]) == 1
}

// MatchNetwork reports whether d advertises the network with the given
// Network ID: directly (Network ID form) or through the Private Network
// Identity hash under identityKey.
func (d *ProxyServiceData) MatchNetwork(identityKey [16]byte, networkID [8]byte) bool {
	switch d.Type {
	case IDNetwork:
		return d.NetworkID == networkID
	case IDPrivateNetwork:
		h := PrivateNetworkIdentityHash(identityKey, networkID, d.Random)
		return subtle.ConstantTimeCompare(h[:], d.Hash[:]) == 1
	}
	return false
}

// bodyLen returns the service data length after the UUID for t, or 0 for a
// reserved type.
func (t IdentificationType) bodyLen() int {
	switch t {
	case IDNetwork:
		return 1 + 8
	case IDNode, IDPrivateNetwork, IDPrivateNode:
		return 1 + 16
	}
	return 0
}

// EncodedLen returns the length of the AD structure: 13 octets for the
// Network ID form, 21 for the identity forms, 0 for a reserved Type.
func (d *ProxyServiceData) EncodedLen() int {
	n := d.Type.bodyLen()
	if n == 0 {
		return 0
	}
	return 4 + n
}

// AppendBinary appends the complete AD structure (Length, AD type 0x16, UUID
// 0x1828 little-endian, service data) to dst. It fails with ErrMalformed for
// a reserved Type.
func (d *ProxyServiceData) AppendBinary(dst []byte) ([]byte, error) {
	n := d.Type.bodyLen()
	if n == 0 {
		return dst, ErrMalformed
	}
	dst = append(dst, byte(3+n), ADTypeServiceData16, byte(ServiceUUIDProxy&0xff), byte(ServiceUUIDProxy>>8), byte(d.Type))
	if d.Type == IDNetwork {
		return append(dst, d.NetworkID[:]...), nil
	}
	dst = append(dst, d.Hash[:]...)
	return append(dst, d.Random[:]...), nil
}

// Decode parses one AD structure from the start of src into d, overwriting
// every field, and returns its length. It fails with ErrShort on truncated
// input and ErrMalformed when the structure is not Mesh Proxy Service data
// of a known identification type and length.
func (d *ProxyServiceData) Decode(src []byte) (n int, err error) {
	*d = ProxyServiceData{}
	body, n, err := serviceData(src, ServiceUUIDProxy)
	if err != nil {
		return 0, err
	}
	if len(body) == 0 {
		return 0, ErrMalformed
	}
	t := IdentificationType(body[0])
	if t.bodyLen() == 0 || len(body) != t.bodyLen() {
		return 0, ErrMalformed
	}
	d.Type = t
	if t == IDNetwork {
		copy(d.NetworkID[:], body[1:])
	} else {
		copy(d.Hash[:], body[1:9])
		copy(d.Random[:], body[9:17])
	}
	return n, nil
}

// serviceData checks the AD header of src for 16-bit service data of uuid
// and returns the data after the UUID and the AD structure's length.
func serviceData(src []byte, uuid uint16) (body []byte, n int, err error) {
	if len(src) < 1 {
		return nil, 0, ErrShort
	}
	n = 1 + int(src[0])
	if len(src) < n {
		return nil, 0, ErrShort
	}
	if n < 4 {
		return nil, 0, ErrMalformed
	}
	if src[1] != ADTypeServiceData16 || uint16(src[2])|uint16(src[3])<<8 != uuid {
		return nil, 0, ErrMalformed
	}
	return src[4:n], n, nil
}

// ProvisioningServiceData is the Service Data AD structure that an
// unprovisioned device running the Mesh Provisioning Service advertises
// (Mesh Protocol 1.1 §7.1.2.2.1): Device UUID and OOB Information.
//
// The byte order of OOB Information is disputed: the specification's sample
// (§8.5.1) prints it little-endian, while Zephyr (and the Unprovisioned
// Device beacon, §3.10.2) use big-endian. OOBLittleEndian selects the order
// for both AppendBinary and Decode; the zero value is big-endian, the order
// Zephyr and BlueZ peers use. Decode does not change OOBLittleEndian.
type ProvisioningServiceData struct {
	DeviceUUID      [16]byte
	OOBInfo         uint16
	OOBLittleEndian bool
}

// EncodedLen returns 22, the length of the AD structure.
func (d *ProvisioningServiceData) EncodedLen() int { return 22 }

// AppendBinary appends the complete AD structure (Length 0x15, AD type 0x16,
// UUID 0x1827 little-endian, Device UUID, OOB Information) to dst.
func (d *ProvisioningServiceData) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, 21, ADTypeServiceData16, byte(ServiceUUIDProvisioning&0xff), byte(ServiceUUIDProvisioning>>8))
	dst = append(dst, d.DeviceUUID[:]...)
	if d.OOBLittleEndian {
		return append(dst, byte(d.OOBInfo), byte(d.OOBInfo>>8)), nil
	}
	return append(dst, byte(d.OOBInfo>>8), byte(d.OOBInfo)), nil
}

// Decode parses one AD structure from the start of src into d and returns its
// length, reading OOB Information in the order OOBLittleEndian selects.
func (d *ProvisioningServiceData) Decode(src []byte) (n int, err error) {
	le := d.OOBLittleEndian
	*d = ProvisioningServiceData{OOBLittleEndian: le}
	body, n, err := serviceData(src, ServiceUUIDProvisioning)
	if err != nil {
		return 0, err
	}
	if len(body) != 18 {
		return 0, ErrMalformed
	}
	copy(d.DeviceUUID[:], body[:16])
	if le {
		d.OOBInfo = uint16(body[16]) | uint16(body[17])<<8
	} else {
		d.OOBInfo = uint16(body[16])<<8 | uint16(body[17])
	}
	return n, nil
}

// AD types used in the mesh GATT services' advertising data.
const (
	ADTypeFlags           = 0x01
	ADTypeCompleteUUIDs16 = 0x03
	flagsGeneralNoBREDR   = 0x06 // LE General Discoverable Mode, BR/EDR Not Supported
	maxAdvertisingData    = 31
)

func appendAdvertisingData(dst []byte, uuid uint16, sd interface {
	AppendBinary([]byte) ([]byte, error)
}) ([]byte, error) {
	dst = append(dst, 2, ADTypeFlags, flagsGeneralNoBREDR,
		3, ADTypeCompleteUUIDs16, byte(uuid&0xff), byte(uuid>>8))
	return sd.AppendBinary(dst)
}

// AppendAdvertisingData appends the complete connectable advertising data of
// a Mesh Proxy Service advertisement to dst: Flags (LE General
// Discoverable, BR/EDR not supported), the Complete List of 16-bit Service
// UUIDs (0x1828) and d's Service Data (Mesh Protocol 1.1 §7.2.2.2.1). It is
// at most 28 octets.
func (d *ProxyServiceData) AppendAdvertisingData(dst []byte) ([]byte, error) {
	if d.Type.bodyLen() == 0 {
		return dst, ErrMalformed
	}
	return appendAdvertisingData(dst, ServiceUUIDProxy, d)
}

// AppendAdvertisingData appends the complete connectable advertising data of
// a Mesh Provisioning Service advertisement (§7.1.2.2.1): Flags, the
// Complete List of 16-bit Service UUIDs (0x1827) and d's Service Data; 29
// octets.
func (d *ProvisioningServiceData) AppendAdvertisingData(dst []byte) ([]byte, error) {
	return appendAdvertisingData(dst, ServiceUUIDProvisioning, d)
}

// FindServiceData returns the first Service Data - 16-bit UUID AD structure
// for uuid in adv (advertising or scan response data: a sequence of AD
// structures), length octet included, ready for Decode. It stops at a zero
// length octet (the end of significant data) and at a truncated structure.
func FindServiceData(adv []byte, uuid uint16) ([]byte, bool) {
	for len(adv) > 0 {
		n := int(adv[0])
		if n == 0 || 1+n > len(adv) {
			return nil, false
		}
		if n >= 3 && adv[1] == ADTypeServiceData16 && uint16(adv[2])|uint16(adv[3])<<8 == uuid {
			return adv[:1+n], true
		}
		adv = adv[1+n:]
	}
	return nil, false
}
