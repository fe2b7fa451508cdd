package prov

import (
	"errors"
	"strconv"
)

// PDUType is the Type field of a provisioning PDU (Mesh Protocol 1.1
// §5.4.1, Table 5.17): the low 6 bits of the first octet; the top 2 bits are
// padding and shall be zero.
type PDUType uint8

// Provisioning PDU types.
const (
	TypeInvite         PDUType = 0x00
	TypeCapabilities   PDUType = 0x01
	TypeStart          PDUType = 0x02
	TypePublicKey      PDUType = 0x03
	TypeInputComplete  PDUType = 0x04
	TypeConfirmation   PDUType = 0x05
	TypeRandom         PDUType = 0x06
	TypeData           PDUType = 0x07
	TypeComplete       PDUType = 0x08
	TypeFailed         PDUType = 0x09
	TypeRecordRequest  PDUType = 0x0A // Mesh Protocol 1.1
	TypeRecordResponse PDUType = 0x0B // Mesh Protocol 1.1
	TypeRecordsGet     PDUType = 0x0C // Mesh Protocol 1.1
	TypeRecordsList    PDUType = 0x0D // Mesh Protocol 1.1
)

var pduNames = [...]string{
	"invite", "capabilities", "start", "public-key", "input-complete", "confirmation",
	"random", "data", "complete", "failed", "record-request", "record-response",
	"records-get", "records-list",
}

// String returns a short name of t, or "rfu(N)" for a reserved value.
func (t PDUType) String() string {
	if int(t) < len(pduNames) {
		return pduNames[t]
	}
	return "rfu(" + strconv.Itoa(int(t)) + ")"
}

// Fixed PDU lengths including the type octet.
const (
	lenInvite        = 1 + 1
	lenCapabilities  = 1 + 11
	lenStart         = 1 + 5
	lenPublicKey     = 1 + 64
	lenInputComplete = 1
	lenData          = 1 + 25 + 8
	lenComplete      = 1
	lenFailed        = 1 + 1
	lenRecordRequest = 1 + 6
	lenRecordsGet    = 1

	// MaxCorePDULen is the largest provisioning PDU other than the 1.1
	// record PDUs: a Public Key PDU (65 octets).
	MaxCorePDULen = lenPublicKey
)

// Errors of the PDU codecs.
var (
	// ErrShort reports a PDU shorter than its type requires.
	ErrShort = errors.New("blemesh/prov: PDU too short")
	// ErrLength reports a PDU longer than its type allows, or a
	// Confirmation or Random value that is neither 16 nor 32 octets.
	ErrLength = errors.New("blemesh/prov: invalid PDU length")
	// ErrType reports a PDU whose type octet is not the one being decoded,
	// has non-zero padding bits, or is reserved.
	ErrType = errors.New("blemesh/prov: unexpected PDU type")
	// ErrInvalidValue reports a field value the specification prohibits or
	// reserves (the receiver answers with Invalid Format).
	ErrInvalidValue = errors.New("blemesh/prov: prohibited field value")
)

// PeekType returns the type of the provisioning PDU in src. It fails with
// ErrShort on empty input and ErrType when the padding bits are set or the
// type is reserved (the receiver answers Invalid PDU).
func PeekType(src []byte) (PDUType, error) {
	if len(src) == 0 {
		return 0, ErrShort
	}
	if src[0]&0xc0 != 0 || int(src[0]) >= len(pduNames) {
		return PDUType(src[0] & 0x3f), ErrType
	}
	return PDUType(src[0]), nil
}

// checkFixed validates the type octet and exact length of a fixed-size PDU.
func checkFixed(src []byte, t PDUType, n int) error {
	if len(src) == 0 {
		return ErrShort
	}
	if src[0] != byte(t) {
		return ErrType
	}
	if len(src) < n {
		return ErrShort
	}
	if len(src) > n {
		return ErrLength
	}
	return nil
}

// Invite is the Provisioning Invite PDU (§5.4.1.1).
type Invite struct {
	AttentionDuration uint8 // seconds of the Attention Timer
}

// EncodedLen returns 2.
func (p *Invite) EncodedLen() int { return lenInvite }

// AppendBinary appends the PDU, type octet included, to dst.
func (p *Invite) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeInvite), p.AttentionDuration), nil
}

// Decode parses a whole Invite PDU (type octet included).
func (p *Invite) Decode(src []byte) (int, error) {
	*p = Invite{}
	if err := checkFixed(src, TypeInvite, lenInvite); err != nil {
		return 0, err
	}
	p.AttentionDuration = src[1]
	return lenInvite, nil
}

// Clone returns a copy of p.
func (p *Invite) Clone() Invite { return *p }

// Algorithms is the bit field of provisioning algorithms a device supports
// (§5.4.1.2, Table 5.20).
type Algorithms uint16

// Algorithm bits.
const (
	AlgorithmsCMAC Algorithms = 1 << AlgCMAC // BTM_ECDH_P256_CMAC_AES128_AES_CCM
	AlgorithmsHMAC Algorithms = 1 << AlgHMAC // BTM_ECDH_P256_HMAC_SHA256_AES_CCM (1.1)
)

// Has reports whether a is in the set.
func (s Algorithms) Has(a Algorithm) bool { return a <= AlgHMAC && s&(1<<a) != 0 }

// OOB type bits of the Capabilities PDU (§5.4.1.2, Table 5.22; "Static OOB
// Type" in Mesh Profile 1.0.1).
const (
	OOBStaticAvailable   uint8 = 0x01 // static OOB information available
	OOBOnlyAuthenticated uint8 = 0x02 // only OOB-authenticated provisioning supported (1.1)
)

// PublicKeyOOBAvailable is the bit of the Capabilities Public Key Type field
// saying the device's public key is available out of band.
const PublicKeyOOBAvailable uint8 = 0x01

// OutputActions is the bit field of output OOB actions (§5.4.1.2, Table
// 5.24). The bit numbers are the Output OOB Action values of the Start PDU.
type OutputActions uint16

// Output OOB action values (Start PDU) and their bits.
const (
	OutputBlink        uint8 = 0
	OutputBeep         uint8 = 1
	OutputVibrate      uint8 = 2
	OutputNumeric      uint8 = 3
	OutputAlphanumeric uint8 = 4
)

// InputActions is the bit field of input OOB actions (§5.4.1.2, Table 5.26).
type InputActions uint16

// Input OOB action values (Start PDU) and their bits.
const (
	InputPush         uint8 = 0
	InputTwist        uint8 = 1
	InputNumeric      uint8 = 2
	InputAlphanumeric uint8 = 3
)

// MaxOOBSize is the largest Output/Input OOB Size (digits or characters).
const MaxOOBSize = 8

// Capabilities is the Provisioning Capabilities PDU (§5.4.1.2).
type Capabilities struct {
	NumElements     uint8
	Algorithms      Algorithms
	PublicKeyType   uint8 // PublicKeyOOBAvailable
	OOBType         uint8 // OOBStaticAvailable | OOBOnlyAuthenticated
	OutputOOBSize   uint8
	OutputOOBAction OutputActions
	InputOOBSize    uint8
	InputOOBAction  InputActions
}

// EncodedLen returns 12.
func (p *Capabilities) EncodedLen() int { return lenCapabilities }

// AppendBinary appends the PDU, type octet included, to dst.
func (p *Capabilities) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeCapabilities), p.NumElements,
		byte(p.Algorithms>>8), byte(p.Algorithms), p.PublicKeyType, p.OOBType,
		p.OutputOOBSize, byte(p.OutputOOBAction>>8), byte(p.OutputOOBAction),
		p.InputOOBSize, byte(p.InputOOBAction>>8), byte(p.InputOOBAction)), nil
}

// Decode parses a whole Capabilities PDU. It checks lengths only; see
// [Capabilities.Validate].
func (p *Capabilities) Decode(src []byte) (int, error) {
	*p = Capabilities{}
	if err := checkFixed(src, TypeCapabilities, lenCapabilities); err != nil {
		return 0, err
	}
	p.NumElements = src[1]
	p.Algorithms = Algorithms(be16(src[2:]))
	p.PublicKeyType = src[4]
	p.OOBType = src[5]
	p.OutputOOBSize = src[6]
	p.OutputOOBAction = OutputActions(be16(src[7:]))
	p.InputOOBSize = src[9]
	p.InputOOBAction = InputActions(be16(src[10:]))
	return lenCapabilities, nil
}

// Validate reports ErrInvalidValue for prohibited or reserved values: no
// elements (prohibited), no known algorithm, or OOB sizes above 8.
func (p *Capabilities) Validate() error {
	switch {
	case p.NumElements == 0,
		p.Algorithms&(AlgorithmsCMAC|AlgorithmsHMAC) == 0,
		p.OutputOOBSize > MaxOOBSize, p.InputOOBSize > MaxOOBSize:
		return ErrInvalidValue
	}
	return nil
}

// Clone returns a copy of p.
func (p *Capabilities) Clone() Capabilities { return *p }

// Algorithm is a provisioning algorithm (§5.4.1.3, Table 5.29).
type Algorithm uint8

// Provisioning algorithms.
const (
	AlgCMAC Algorithm = 0x00 // BTM_ECDH_P256_CMAC_AES128_AES_CCM
	AlgHMAC Algorithm = 0x01 // BTM_ECDH_P256_HMAC_SHA256_AES_CCM (Mesh Protocol 1.1)
)

// String returns the specification's name of a.
func (a Algorithm) String() string {
	switch a {
	case AlgCMAC:
		return "BTM_ECDH_P256_CMAC_AES128_AES_CCM"
	case AlgHMAC:
		return "BTM_ECDH_P256_HMAC_SHA256_AES_CCM"
	}
	return "rfu(" + strconv.Itoa(int(a)) + ")"
}

// AuthSize returns the length of AuthValue, Confirmation and Random under a:
// 16 for CMAC, 32 for HMAC (0 for a reserved value).
func (a Algorithm) AuthSize() int {
	switch a {
	case AlgCMAC:
		return 16
	case AlgHMAC:
		return 32
	}
	return 0
}

// AuthMethod is the Authentication Method of the Start PDU (§5.4.1.3,
// Table 5.31).
type AuthMethod uint8

// Authentication methods.
const (
	AuthNoOOB     AuthMethod = 0x00
	AuthStaticOOB AuthMethod = 0x01
	AuthOutputOOB AuthMethod = 0x02
	AuthInputOOB  AuthMethod = 0x03
)

var authNames = [4]string{"no-oob", "static-oob", "output-oob", "input-oob"}

// String returns a short name of m.
func (m AuthMethod) String() string {
	if int(m) < len(authNames) {
		return authNames[m]
	}
	return "rfu(" + strconv.Itoa(int(m)) + ")"
}

// Start is the Provisioning Start PDU (§5.4.1.3).
type Start struct {
	Algorithm  Algorithm
	PublicKey  uint8 // 0x00: no OOB public key; 0x01: OOB public key used
	AuthMethod AuthMethod
	AuthAction uint8 // OutputXxx or InputXxx, 0 for no OOB / static OOB
	AuthSize   uint8 // digits or characters, 1-8; 0 for no OOB / static OOB
}

// EncodedLen returns 6.
func (p *Start) EncodedLen() int { return lenStart }

// AppendBinary appends the PDU, type octet included, to dst.
func (p *Start) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeStart), byte(p.Algorithm), p.PublicKey,
		byte(p.AuthMethod), p.AuthAction, p.AuthSize), nil
}

// Decode parses a whole Start PDU. It checks lengths only; see
// [Start.Validate].
func (p *Start) Decode(src []byte) (int, error) {
	*p = Start{}
	if err := checkFixed(src, TypeStart, lenStart); err != nil {
		return 0, err
	}
	p.Algorithm = Algorithm(src[1])
	p.PublicKey = src[2]
	p.AuthMethod = AuthMethod(src[3])
	p.AuthAction = src[4]
	p.AuthSize = src[5]
	return lenStart, nil
}

// Validate reports ErrInvalidValue for values Table 5.29-5.33 prohibit or
// reserve, independent of any device's capabilities.
func (p *Start) Validate() error {
	if p.Algorithm > AlgHMAC || p.PublicKey > 1 {
		return ErrInvalidValue
	}
	switch p.AuthMethod {
	case AuthNoOOB, AuthStaticOOB:
		if p.AuthAction != 0 || p.AuthSize != 0 {
			return ErrInvalidValue
		}
	case AuthOutputOOB:
		if p.AuthAction > OutputAlphanumeric || p.AuthSize == 0 || p.AuthSize > MaxOOBSize {
			return ErrInvalidValue
		}
	case AuthInputOOB:
		if p.AuthAction > InputAlphanumeric || p.AuthSize == 0 || p.AuthSize > MaxOOBSize {
			return ErrInvalidValue
		}
	default:
		return ErrInvalidValue
	}
	return nil
}

// Supported reports whether a device with capabilities c can run p
// (the algorithm, OOB public key and authentication method and action it
// advertises, and OOB sizes within its limits). It implies p.Validate.
func (p *Start) Supported(c *Capabilities) bool {
	if p.Validate() != nil || !c.Algorithms.Has(p.Algorithm) {
		return false
	}
	if p.PublicKey == 1 && c.PublicKeyType&PublicKeyOOBAvailable == 0 {
		return false
	}
	if c.OOBType&OOBOnlyAuthenticated != 0 && (p.AuthMethod == AuthNoOOB || p.Algorithm == AlgCMAC) {
		return false
	}
	switch p.AuthMethod {
	case AuthStaticOOB:
		return c.OOBType&OOBStaticAvailable != 0
	case AuthOutputOOB:
		return c.OutputOOBAction&(1<<p.AuthAction) != 0 && p.AuthSize <= c.OutputOOBSize
	case AuthInputOOB:
		return c.InputOOBAction&(1<<p.AuthAction) != 0 && p.AuthSize <= c.InputOOBSize
	}
	return true
}

// Clone returns a copy of p.
func (p *Start) Clone() Start { return *p }

// PublicKey is the Provisioning Public Key PDU (§5.4.1.4): the P-256 point
// X || Y, 32 octets each, big-endian.
type PublicKey struct {
	Key [64]byte
}

// EncodedLen returns 65.
func (p *PublicKey) EncodedLen() int { return lenPublicKey }

// AppendBinary appends the PDU, type octet included, to dst.
func (p *PublicKey) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, byte(TypePublicKey))
	return append(dst, p.Key[:]...), nil
}

// Decode parses a whole Public Key PDU. Whether the point is on the curve
// is checked by the key agreement ([KeyPair.ECDH]).
func (p *PublicKey) Decode(src []byte) (int, error) {
	*p = PublicKey{}
	if err := checkFixed(src, TypePublicKey, lenPublicKey); err != nil {
		return 0, err
	}
	copy(p.Key[:], src[1:])
	return lenPublicKey, nil
}

// Clone returns a copy of p.
func (p *PublicKey) Clone() PublicKey { return *p }

// InputComplete is the Provisioning Input Complete PDU (§5.4.1.5).
type InputComplete struct{}

// EncodedLen returns 1.
func (p *InputComplete) EncodedLen() int { return lenInputComplete }

// AppendBinary appends the PDU to dst.
func (p *InputComplete) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeInputComplete)), nil
}

// Decode parses a whole Input Complete PDU.
func (p *InputComplete) Decode(src []byte) (int, error) {
	if err := checkFixed(src, TypeInputComplete, lenInputComplete); err != nil {
		return 0, err
	}
	return lenInputComplete, nil
}

// Clone returns a copy of p.
func (p *InputComplete) Clone() InputComplete { return *p }

// Value is a Confirmation or Random value: 16 octets under
// BTM_ECDH_P256_CMAC_AES128_AES_CCM, 32 under BTM_ECDH_P256_HMAC_SHA256_AES_CCM.
// It is a comparable value; only the first Len octets of B are meaningful
// (the rest are zero).
type Value struct {
	B   [32]byte
	Len uint8
}

// ValueOf returns a Value holding b, which must be 16 or 32 octets long.
func ValueOf(b []byte) (Value, bool) {
	var v Value
	if len(b) != 16 && len(b) != 32 {
		return v, false
	}
	v.Len = uint8(copy(v.B[:], b))
	return v, true
}

// Bytes returns the meaningful octets of v (a slice of v's array).
func (v *Value) Bytes() []byte { return v.B[:v.Len] }

func appendValue(dst []byte, t PDUType, v *Value) ([]byte, error) {
	if v.Len != 16 && v.Len != 32 {
		return dst, ErrLength
	}
	dst = append(dst, byte(t))
	return append(dst, v.B[:v.Len]...), nil
}

func decodeValue(src []byte, t PDUType, v *Value) (int, error) {
	*v = Value{}
	if len(src) == 0 {
		return 0, ErrShort
	}
	if src[0] != byte(t) {
		return 0, ErrType
	}
	switch len(src) {
	case 17, 33:
	default:
		if len(src) < 17 {
			return 0, ErrShort
		}
		return 0, ErrLength
	}
	v.Len = uint8(copy(v.B[:], src[1:]))
	return len(src), nil
}

// Confirmation is the Provisioning Confirmation PDU (§5.4.1.6).
type Confirmation struct{ Value }

// EncodedLen returns 17 or 33.
func (p *Confirmation) EncodedLen() int { return 1 + int(p.Len) }

// AppendBinary appends the PDU to dst; it fails with ErrLength unless Len is
// 16 or 32.
func (p *Confirmation) AppendBinary(dst []byte) ([]byte, error) {
	return appendValue(dst, TypeConfirmation, &p.Value)
}

// Decode parses a whole Confirmation PDU of 17 or 33 octets.
func (p *Confirmation) Decode(src []byte) (int, error) {
	return decodeValue(src, TypeConfirmation, &p.Value)
}

// Clone returns a copy of p.
func (p *Confirmation) Clone() Confirmation { return *p }

// Random is the Provisioning Random PDU (§5.4.1.7).
type Random struct{ Value }

// EncodedLen returns 17 or 33.
func (p *Random) EncodedLen() int { return 1 + int(p.Len) }

// AppendBinary appends the PDU to dst; it fails with ErrLength unless Len is
// 16 or 32.
func (p *Random) AppendBinary(dst []byte) ([]byte, error) {
	return appendValue(dst, TypeRandom, &p.Value)
}

// Decode parses a whole Random PDU of 17 or 33 octets.
func (p *Random) Decode(src []byte) (int, error) {
	return decodeValue(src, TypeRandom, &p.Value)
}

// Clone returns a copy of p.
func (p *Random) Clone() Random { return *p }

// Data is the Provisioning Data PDU (§5.4.1.8): the encrypted provisioning
// data and its 64-bit MIC.
type Data struct {
	Encrypted [25]byte
	MIC       [8]byte
}

// EncodedLen returns 34.
func (p *Data) EncodedLen() int { return lenData }

// AppendBinary appends the PDU to dst.
func (p *Data) AppendBinary(dst []byte) ([]byte, error) {
	dst = append(dst, byte(TypeData))
	dst = append(dst, p.Encrypted[:]...)
	return append(dst, p.MIC[:]...), nil
}

// Decode parses a whole Data PDU.
func (p *Data) Decode(src []byte) (int, error) {
	*p = Data{}
	if err := checkFixed(src, TypeData, lenData); err != nil {
		return 0, err
	}
	copy(p.Encrypted[:], src[1:26])
	copy(p.MIC[:], src[26:])
	return lenData, nil
}

// Clone returns a copy of p.
func (p *Data) Clone() Data { return *p }

// Complete is the Provisioning Complete PDU (§5.4.1.9).
type Complete struct{}

// EncodedLen returns 1.
func (p *Complete) EncodedLen() int { return lenComplete }

// AppendBinary appends the PDU to dst.
func (p *Complete) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeComplete)), nil
}

// Decode parses a whole Complete PDU.
func (p *Complete) Decode(src []byte) (int, error) {
	if err := checkFixed(src, TypeComplete, lenComplete); err != nil {
		return 0, err
	}
	return lenComplete, nil
}

// Clone returns a copy of p.
func (p *Complete) Clone() Complete { return *p }

// ErrorCode is the Error Code of a Provisioning Failed PDU (§5.4.1.10,
// Table 5.38).
type ErrorCode uint8

// Provisioning error codes.
const (
	ErrCodeProhibited         ErrorCode = 0x00
	ErrCodeInvalidPDU         ErrorCode = 0x01
	ErrCodeInvalidFormat      ErrorCode = 0x02
	ErrCodeUnexpectedPDU      ErrorCode = 0x03
	ErrCodeConfirmationFailed ErrorCode = 0x04
	ErrCodeOutOfResources     ErrorCode = 0x05
	ErrCodeDecryptionFailed   ErrorCode = 0x06
	ErrCodeUnexpectedError    ErrorCode = 0x07
	ErrCodeCannotAssignAddr   ErrorCode = 0x08
	ErrCodeInvalidData        ErrorCode = 0x09 // Mesh Protocol 1.1
)

var codeNames = [...]string{
	"prohibited", "invalid PDU", "invalid format", "unexpected PDU", "confirmation failed",
	"out of resources", "decryption failed", "unexpected error", "cannot assign addresses",
	"invalid data",
}

// String returns the specification's name of c.
func (c ErrorCode) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "rfu(" + strconv.Itoa(int(c)) + ")"
}

// Failed is the Provisioning Failed PDU (§5.4.1.10).
type Failed struct {
	Code ErrorCode
}

// EncodedLen returns 2.
func (p *Failed) EncodedLen() int { return lenFailed }

// AppendBinary appends the PDU to dst.
func (p *Failed) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeFailed), byte(p.Code)), nil
}

// Decode parses a whole Failed PDU.
func (p *Failed) Decode(src []byte) (int, error) {
	*p = Failed{}
	if err := checkFixed(src, TypeFailed, lenFailed); err != nil {
		return 0, err
	}
	p.Code = ErrorCode(src[1])
	return lenFailed, nil
}

// Clone returns a copy of p.
func (p *Failed) Clone() Failed { return *p }

// Provisioning record IDs (Mesh Protocol 1.1 §5.4.2.6, Table 5.42).
const (
	RecordCertificateBasedProvisioningURI uint16 = 0x0000
	RecordDeviceCertificate               uint16 = 0x0001
	RecordIntermediateCertificateFirst    uint16 = 0x0002 // 0x0002-0x0010
	RecordCompleteLocalName               uint16 = 0x0011
	RecordAppearance                      uint16 = 0x0012
)

// RecordRequest is the Provisioning Record Request PDU (Mesh Protocol 1.1
// §5.4.1.11).
type RecordRequest struct {
	RecordID        uint16
	FragmentOffset  uint16
	FragmentMaxSize uint16
}

// EncodedLen returns 7.
func (p *RecordRequest) EncodedLen() int { return lenRecordRequest }

// AppendBinary appends the PDU to dst.
func (p *RecordRequest) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeRecordRequest), byte(p.RecordID>>8), byte(p.RecordID),
		byte(p.FragmentOffset>>8), byte(p.FragmentOffset),
		byte(p.FragmentMaxSize>>8), byte(p.FragmentMaxSize)), nil
}

// Decode parses a whole Record Request PDU.
func (p *RecordRequest) Decode(src []byte) (int, error) {
	*p = RecordRequest{}
	if err := checkFixed(src, TypeRecordRequest, lenRecordRequest); err != nil {
		return 0, err
	}
	p.RecordID = be16(src[1:])
	p.FragmentOffset = be16(src[3:])
	p.FragmentMaxSize = be16(src[5:])
	return lenRecordRequest, nil
}

// Clone returns a copy of p.
func (p *RecordRequest) Clone() RecordRequest { return *p }

// Record Response status codes (§5.4.1.12, Table 5.41).
const (
	RecordStatusSuccess          uint8 = 0x00
	RecordStatusRequestedAbsent  uint8 = 0x01 // requested record is not present
	RecordStatusOffsetOutOfBound uint8 = 0x02 // requested offset is out of bounds
)

// RecordResponse is the Provisioning Record Response PDU (Mesh Protocol 1.1
// §5.4.1.12). Data aliases the decode buffer; see [RecordResponse.Clone].
type RecordResponse struct {
	Status         uint8
	RecordID       uint16
	FragmentOffset uint16
	TotalLength    uint16
	Data           []byte
}

// EncodedLen returns 8 plus the fragment length.
func (p *RecordResponse) EncodedLen() int { return 8 + len(p.Data) }

// AppendBinary appends the PDU to dst. It fails with ErrLength for a fragment
// over 0xFFFF octets.
func (p *RecordResponse) AppendBinary(dst []byte) ([]byte, error) {
	if len(p.Data) > 0xffff {
		return dst, ErrLength
	}
	dst = append(dst, byte(TypeRecordResponse), p.Status, byte(p.RecordID>>8), byte(p.RecordID),
		byte(p.FragmentOffset>>8), byte(p.FragmentOffset),
		byte(p.TotalLength>>8), byte(p.TotalLength))
	return append(dst, p.Data...), nil
}

// Decode parses a whole Record Response PDU; the fragment is the rest of src.
func (p *RecordResponse) Decode(src []byte) (int, error) {
	*p = RecordResponse{}
	if len(src) == 0 {
		return 0, ErrShort
	}
	if src[0] != byte(TypeRecordResponse) {
		return 0, ErrType
	}
	if len(src) < 8 {
		return 0, ErrShort
	}
	p.Status = src[1]
	p.RecordID = be16(src[2:])
	p.FragmentOffset = be16(src[4:])
	p.TotalLength = be16(src[6:])
	p.Data = src[8:]
	return len(src), nil
}

// Clone returns a copy of p whose Data does not alias the decode buffer.
func (p *RecordResponse) Clone() RecordResponse {
	q := *p
	if p.Data != nil {
		q.Data = append([]byte(nil), p.Data...)
	}
	return q
}

// RecordsGet is the Provisioning Records Get PDU (Mesh Protocol 1.1
// §5.4.1.13).
type RecordsGet struct{}

// EncodedLen returns 1.
func (p *RecordsGet) EncodedLen() int { return lenRecordsGet }

// AppendBinary appends the PDU to dst.
func (p *RecordsGet) AppendBinary(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeRecordsGet)), nil
}

// Decode parses a whole Records Get PDU.
func (p *RecordsGet) Decode(src []byte) (int, error) {
	if err := checkFixed(src, TypeRecordsGet, lenRecordsGet); err != nil {
		return 0, err
	}
	return lenRecordsGet, nil
}

// Clone returns a copy of p.
func (p *RecordsGet) Clone() RecordsGet { return *p }

// RecordsList is the Provisioning Records List PDU (Mesh Protocol 1.1
// §5.4.1.14): the Provisioning Extensions field and a list of 16-bit record
// IDs. IDs holds the list's raw big-endian octets and aliases the decode
// buffer; use [RecordsList.Len] and [RecordsList.At] to read it and
// [RecordsList.Clone] to retain it.
type RecordsList struct {
	Extensions uint16
	IDs        []byte
}

// Len returns the number of record IDs.
func (p *RecordsList) Len() int { return len(p.IDs) / 2 }

// At returns the i-th record ID.
func (p *RecordsList) At(i int) uint16 { return be16(p.IDs[2*i:]) }

// AppendID appends a record ID to the list (allocating as append does).
func (p *RecordsList) AppendID(id uint16) { p.IDs = append(p.IDs, byte(id>>8), byte(id)) }

// EncodedLen returns 3 plus two octets per record.
func (p *RecordsList) EncodedLen() int { return 3 + len(p.IDs) }

// AppendBinary appends the PDU to dst. It fails with ErrLength if IDs has an
// odd length.
func (p *RecordsList) AppendBinary(dst []byte) ([]byte, error) {
	if len(p.IDs)%2 != 0 {
		return dst, ErrLength
	}
	dst = append(dst, byte(TypeRecordsList), byte(p.Extensions>>8), byte(p.Extensions))
	return append(dst, p.IDs...), nil
}

// Decode parses a whole Records List PDU.
func (p *RecordsList) Decode(src []byte) (int, error) {
	*p = RecordsList{}
	if len(src) == 0 {
		return 0, ErrShort
	}
	if src[0] != byte(TypeRecordsList) {
		return 0, ErrType
	}
	if len(src) < 3 {
		return 0, ErrShort
	}
	if (len(src)-3)%2 != 0 {
		return 0, ErrLength
	}
	p.Extensions = be16(src[1:])
	p.IDs = src[3:]
	return len(src), nil
}

// Clone returns a copy of p whose IDs do not alias the decode buffer.
func (p *RecordsList) Clone() RecordsList {
	q := *p
	if p.IDs != nil {
		q.IDs = append([]byte(nil), p.IDs...)
	}
	return q
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
