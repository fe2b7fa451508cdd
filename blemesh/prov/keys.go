package prov

import (
	"crypto/subtle"
	"errors"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// Errors of the provisioning security functions.
var (
	// ErrInvalidPublicKey reports a public key that is not a point on
	// P-256, or a peer key equal to the local one (a reflection).
	ErrInvalidPublicKey = errors.New("blemesh/prov: invalid P-256 public key")
	// ErrConfirmation reports a Confirmation value that does not match the
	// Random and AuthValue revealed later, or a reflected Confirmation or
	// Random.
	ErrConfirmation = errors.New("blemesh/prov: confirmation failed")
	// ErrDecryption reports Provisioning Data whose MIC does not verify.
	ErrDecryption = errors.New("blemesh/prov: provisioning data decryption failed")
	// ErrAlgorithm reports a reserved algorithm value.
	ErrAlgorithm = errors.New("blemesh/prov: unsupported provisioning algorithm")
)

// KeyPair is a P-256 key pair used for provisioning's ECDH (Mesh Protocol
// 1.1 §5.4.2.3). [GenerateP256] and [NewP256] implement it with crypto/ecdh
// on hosts; on a microcontroller without room for crypto/ecdh (see the
// package documentation), implement it over the chip's crypto engine.
//
// Implementations must be safe to call from the goroutine that drives the
// provisioning state machine; they need not be safe for concurrent use.
type KeyPair interface {
	// PublicKey returns the public key as X || Y, 32 octets each, big-endian.
	PublicKey() [64]byte
	// ECDH returns the X coordinate of the shared point with peer (X || Y),
	// or ErrInvalidPublicKey if peer is not a valid point.
	ECDH(peer *[64]byte) ([32]byte, error)
}

// Flags of the Provisioning Data (§5.4.2.5, Table 5.44).
const (
	FlagKeyRefresh uint8 = 0x01 // Key Refresh Phase 2 in progress
	FlagIVUpdate   uint8 = 0x02 // IV Update active
)

// ProvisioningData is the plaintext the provisioner sends in the
// Provisioning Data PDU (§5.4.2.5): 25 octets. It is a comparable value.
type ProvisioningData struct {
	NetKey         [16]byte
	KeyIndex       uint16 // 12-bit NetKey Index
	Flags          uint8
	IVIndex        uint32
	UnicastAddress uint16 // of the primary element
}

// ProvisioningDataLen is the length of encoded [ProvisioningData].
const ProvisioningDataLen = 25

// EncodedLen returns 25.
func (d *ProvisioningData) EncodedLen() int { return ProvisioningDataLen }

// AppendBinary appends the 25-octet plaintext to dst. It fails with
// ErrInvalidValue where [ProvisioningData.Validate] does.
func (d *ProvisioningData) AppendBinary(dst []byte) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return dst, err
	}
	dst = append(dst, d.NetKey[:]...)
	return append(dst, byte(d.KeyIndex>>8), byte(d.KeyIndex), d.Flags,
		byte(d.IVIndex>>24), byte(d.IVIndex>>16), byte(d.IVIndex>>8), byte(d.IVIndex),
		byte(d.UnicastAddress>>8), byte(d.UnicastAddress)), nil
}

// Decode parses the 25-octet plaintext into d and validates it.
func (d *ProvisioningData) Decode(src []byte) (int, error) {
	*d = ProvisioningData{}
	if len(src) < ProvisioningDataLen {
		return 0, ErrShort
	}
	if len(src) > ProvisioningDataLen {
		return 0, ErrLength
	}
	copy(d.NetKey[:], src)
	d.KeyIndex = be16(src[16:])
	d.Flags = src[18]
	d.IVIndex = be32(src[19:])
	d.UnicastAddress = be16(src[23:])
	if err := d.Validate(); err != nil {
		return 0, err
	}
	return ProvisioningDataLen, nil
}

// Validate reports ErrInvalidValue for a key index above 0xFFF, reserved flag
// bits, or an address that is not a unicast address.
func (d *ProvisioningData) Validate() error {
	if d.KeyIndex > 0x0fff || d.Flags&^(FlagKeyRefresh|FlagIVUpdate) != 0 ||
		d.UnicastAddress == 0 || d.UnicastAddress > 0x7fff {
		return ErrInvalidValue
	}
	return nil
}

// ConfirmationInputsLen is the length of ConfirmationInputs (§5.4.2.4.1).
const ConfirmationInputsLen = 1 + 11 + 5 + 64 + 64

// ConfirmationInputs returns ProvisioningInvitePDUValue ||
// ProvisioningCapabilitiesPDUValue || ProvisioningStartPDUValue ||
// PublicKeyProvisioner || PublicKeyDevice (§5.4.2.4.1): the PDU values
// without their type octets.
func ConfirmationInputs(inv *Invite, caps *Capabilities, start *Start, provisionerKey, deviceKey *[64]byte) [ConfirmationInputsLen]byte {
	var ci [ConfirmationInputsLen]byte
	var b [lenCapabilities]byte
	out, _ := inv.AppendBinary(b[:0])
	n := copy(ci[:], out[1:])
	out, _ = caps.AppendBinary(b[:0])
	n += copy(ci[n:], out[1:])
	out, _ = start.AppendBinary(b[:0])
	n += copy(ci[n:], out[1:])
	n += copy(ci[n:], provisionerKey[:])
	copy(ci[n:], deviceKey[:])
	return ci
}

// Session holds the values both ends of one provisioning run derive (Mesh
// Protocol 1.1 §5.4.2.4-§5.4.2.5). Fill Algorithm, Inputs, ECDHSecret and
// AuthValue, then call [Session.DeriveConfirmationKey], [Session.Confirm]
// and [Session.DeriveSessionKeys]. Under the CMAC algorithm only the first
// 16 octets of AuthValue, ConfirmationSalt and ConfirmationKey are used.
//
// A Session holds secrets; [Session.Wipe] zeroes it. It is not safe for
// concurrent use.
type Session struct {
	Algorithm  Algorithm
	Inputs     [ConfirmationInputsLen]byte
	ECDHSecret [32]byte
	AuthValue  [32]byte

	ConfirmationSalt [32]byte
	ConfirmationKey  [32]byte
	ProvisioningSalt [16]byte
	SessionKey       [16]byte
	SessionNonce     [13]byte
	DeviceKey        [16]byte

	scratch [96]byte // key material kept off the (small) goroutine stack
}

// AuthSize returns 16 or 32 for a valid Algorithm.
func (s *Session) AuthSize() int { return s.Algorithm.AuthSize() }

// DeriveConfirmationKey computes ConfirmationSalt and ConfirmationKey:
// s1(Inputs) and k1(ECDHSecret, salt, "prck") under CMAC; s2(Inputs) and
// k5(ECDHSecret || AuthValue, salt, "prck256") under HMAC.
func (s *Session) DeriveConfirmationKey() error {
	switch s.Algorithm {
	case AlgCMAC:
		s.confirmationKeyCMAC()
	case AlgHMAC:
		s.confirmationKeyHMAC()
	default:
		return ErrAlgorithm
	}
	return nil
}

// The per-algorithm steps are separate, not inlined, functions so that a
// goroutine's stack holds only one algorithm's temporaries at a time (TinyGo
// goroutines on a Cortex-M have 4 KB stacks).
//
//go:noinline
func (s *Session) confirmationKeyCMAC() {
	salt := crypto.S1(s.Inputs[:])
	key := crypto.K1(s.ECDHSecret[:], salt, []byte("prck"))
	s.ConfirmationSalt = [32]byte{}
	s.ConfirmationKey = [32]byte{}
	copy(s.ConfirmationSalt[:], salt[:])
	copy(s.ConfirmationKey[:], key[:])
}

//go:noinline
func (s *Session) confirmationKeyHMAC() {
	s.ConfirmationSalt = crypto.S2(s.Inputs[:])
	n := s.scratch[:64]
	copy(n[:32], s.ECDHSecret[:])
	copy(n[32:], s.AuthValue[:])
	s.ConfirmationKey = crypto.K5(n, s.ConfirmationSalt, []byte("prck256"))
	wipe(n)
}

// Confirm returns the Confirmation value of random (§5.4.2.4.1):
// AES-CMAC_ConfirmationKey(Random || AuthValue) under CMAC,
// HMAC-SHA-256_ConfirmationKey(Random) under HMAC. random must have
// AuthSize octets.
func (s *Session) Confirm(random *Value) (Value, error) {
	var v Value
	n := s.AuthSize()
	if n == 0 {
		return v, ErrAlgorithm
	}
	if int(random.Len) != n {
		return v, ErrLength
	}
	v.Len = uint8(n)
	if s.Algorithm == AlgCMAC {
		s.confirmCMAC(&v, random)
	} else {
		s.confirmHMAC(&v, random)
	}
	return v, nil
}

//go:noinline
func (s *Session) confirmCMAC(v, random *Value) {
	var key [16]byte
	copy(key[:], s.ConfirmationKey[:16])
	c := crypto.NewCipher(key)
	m := c.CMAC(random.B[:16], s.AuthValue[:16])
	copy(v.B[:], m[:])
}

//go:noinline
func (s *Session) confirmHMAC(v, random *Value) {
	v.B = crypto.HMACSHA256(s.ConfirmationKey[:], random.B[:32])
}

// Verify reports whether conf is the Confirmation of random, in constant
// time.
func (s *Session) Verify(conf, random *Value) bool {
	want, err := s.Confirm(random)
	if err != nil || conf.Len != want.Len {
		return false
	}
	return subtle.ConstantTimeCompare(want.Bytes(), conf.Bytes()) == 1
}

// DeriveSessionKeys computes ProvisioningSalt = s1(ConfirmationSalt ||
// RandomProvisioner || RandomDevice), then SessionKey, SessionNonce and
// DeviceKey with k1 and "prsk", "prsn", "prdk" (§5.4.2.5, §5.4.2.6).
func (s *Session) DeriveSessionKeys(randomProvisioner, randomDevice *Value) error {
	n := s.AuthSize()
	if n == 0 {
		return ErrAlgorithm
	}
	if int(randomProvisioner.Len) != n || int(randomDevice.Len) != n {
		return ErrLength
	}
	m := s.scratch[:]
	k := copy(m, s.ConfirmationSalt[:n])
	k += copy(m[k:], randomProvisioner.B[:n])
	k += copy(m[k:], randomDevice.B[:n])
	s.ProvisioningSalt = crypto.S1(m[:k])
	wipe(m)
	s.SessionKey = crypto.K1(s.ECDHSecret[:], s.ProvisioningSalt, []byte("prsk"))
	nonce := crypto.K1(s.ECDHSecret[:], s.ProvisioningSalt, []byte("prsn"))
	copy(s.SessionNonce[:], nonce[3:])
	s.DeviceKey = crypto.K1(s.ECDHSecret[:], s.ProvisioningSalt, []byte("prdk"))
	return nil
}

// EncryptData encrypts d with AES-CCM under SessionKey and SessionNonce with a
// 64-bit MIC (§5.4.2.5).
func (s *Session) EncryptData(d *ProvisioningData) (Data, error) {
	var out Data
	var plain [ProvisioningDataLen]byte
	if _, err := d.AppendBinary(plain[:0]); err != nil {
		return out, err
	}
	c := crypto.NewCipher(s.SessionKey)
	var buf [ProvisioningDataLen + 8]byte
	sealed, err := c.SealCCM(buf[:0], &s.SessionNonce, plain[:], nil, 8)
	wipe(plain[:])
	if err != nil {
		return out, err
	}
	copy(out.Encrypted[:], sealed[:ProvisioningDataLen])
	copy(out.MIC[:], sealed[ProvisioningDataLen:])
	return out, nil
}

// DecryptData verifies and decrypts a Provisioning Data PDU. It fails with
// ErrDecryption when the MIC does not verify and ErrInvalidValue when the
// plaintext holds prohibited values.
func (s *Session) DecryptData(p *Data) (ProvisioningData, error) {
	var d ProvisioningData
	var in [ProvisioningDataLen + 8]byte
	copy(in[:], p.Encrypted[:])
	copy(in[ProvisioningDataLen:], p.MIC[:])
	c := crypto.NewCipher(s.SessionKey)
	var buf [ProvisioningDataLen]byte
	plain, err := c.OpenCCM(buf[:0], &s.SessionNonce, in[:], nil, 8)
	if err != nil {
		return d, ErrDecryption
	}
	_, err = d.Decode(plain)
	wipe(buf[:])
	return d, err
}

// Wipe zeroes every secret in s.
func (s *Session) Wipe() { *s = Session{} }

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
