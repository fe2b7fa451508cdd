package transport

import (
	"errors"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// ErrAuth reports an upper transport PDU whose TransMIC does not verify with
// the key (and label) tried.
var ErrAuth = errors.New("blemesh/transport: TransMIC does not verify")

// AccessKey is an application key or a device key ready for upper
// transport encryption (Mesh Protocol 1.1 §3.9.7.1). It holds the expanded
// AES key, so Seal and Open do not allocate. Safe for concurrent use once
// built.
type AccessKey struct {
	Key    [16]byte
	AID    uint8 // k4(Key) for application keys; 0 for device keys
	Device bool  // device key: device nonce, AKF = 0
	c      crypto.Cipher
}

// NewAppKey prepares an application key and computes its AID.
func NewAppKey(key [16]byte) AccessKey {
	return AccessKey{Key: key, AID: crypto.K4(key), c: crypto.NewCipher(key)}
}

// NewDevKey prepares a device key.
func NewDevKey(key [16]byte) AccessKey {
	return AccessKey{Key: key, Device: true, c: crypto.NewCipher(key)}
}

// AKF returns the application key flag of messages encrypted with k.
func (k *AccessKey) AKF() bool { return !k.Device }

// AccessMeta is what protects an upper transport access PDU besides the
// key: the nonce fields and, for a virtual destination, the Label UUID.
type AccessMeta struct {
	SEQ     uint32 // low 24 bits of SeqAuth (the SEQ of the first segment)
	SRC     uint16
	DST     uint16
	IVIndex uint32
	// SZMIC selects a 64-bit TransMIC; only segmented messages may use it.
	SZMIC bool
	// Label is the Label UUID of a virtual DST, authenticated as additional
	// data; nil otherwise.
	Label *[16]byte
}

// MICLen returns the TransMIC length, 4 or 8.
func (m *AccessMeta) MICLen() int {
	if m.SZMIC {
		return 8
	}
	return 4
}

func (k *AccessKey) nonce(m *AccessMeta) [crypto.NonceSize]byte {
	if k.Device {
		return crypto.DeviceNonce(m.SZMIC, m.SEQ, m.SRC, m.DST, m.IVIndex)
	}
	return crypto.ApplicationNonce(m.SZMIC, m.SEQ, m.SRC, m.DST, m.IVIndex)
}

// Seal encrypts an access payload (opcode || parameters) into an upper
// transport access PDU (EncAccessPayload || TransMIC) appended to dst.
func (k *AccessKey) Seal(dst []byte, m *AccessMeta, accessPayload []byte) ([]byte, error) {
	if len(accessPayload) == 0 {
		return dst, ErrShort
	}
	if len(accessPayload)+m.MICLen() > MaxAccessPDULen {
		return dst, ErrLong
	}
	n := k.nonce(m)
	var ad []byte
	if m.Label != nil {
		ad = m.Label[:]
	}
	return k.c.SealCCM(dst, &n, accessPayload, ad, m.MICLen())
}

// Open decrypts an upper transport access PDU and appends the access
// payload to dst. It returns ErrAuth when the TransMIC does not verify.
func (k *AccessKey) Open(dst []byte, m *AccessMeta, upperPDU []byte) ([]byte, error) {
	if len(upperPDU) < m.MICLen()+1 {
		return dst, ErrShort
	}
	if len(upperPDU) > MaxAccessPDULen {
		return dst, ErrLong
	}
	n := k.nonce(m)
	var ad []byte
	if m.Label != nil {
		ad = m.Label[:]
	}
	out, err := k.c.OpenCCM(dst, &n, upperPDU, ad, m.MICLen())
	if err != nil {
		return dst, ErrAuth
	}
	return out, nil
}

// Label is a Label UUID with its virtual address.
type Label struct {
	UUID    [16]byte
	Address uint16
}

// NewLabel computes the virtual address of a Label UUID.
func NewLabel(uuid [16]byte) Label { return Label{UUID: uuid, Address: crypto.VirtualAddress(uuid)} }

// OpenVirtual decrypts an upper transport PDU sent to a virtual address by
// trying each label whose virtual address is m.DST (Mesh Protocol 1.1
// §3.4.2.3: several labels may share an address). It returns the index of
// the label that verified.
func (k *AccessKey) OpenVirtual(dst []byte, m *AccessMeta, upperPDU []byte, labels []Label) ([]byte, int, error) {
	mm := *m
	for i := range labels {
		if labels[i].Address != m.DST {
			continue
		}
		mm.Label = &labels[i].UUID
		out, err := k.Open(dst, &mm, upperPDU)
		if err == nil {
			return out, i, nil
		}
	}
	return dst, -1, ErrAuth
}

// OpenAny decrypts an upper transport access PDU with the first key that
// verifies: device keys when akf is false, else the application keys whose
// AID is aid (several keys may share an AID, and both the old and the new
// key are tried during Key Refresh). For a virtual destination pass the
// labels; m.Label is ignored. It returns the index of the key used.
func OpenAny(dst []byte, m *AccessMeta, upperPDU []byte, akf bool, aid uint8, keys []AccessKey, labels []Label) (int, []byte, error) {
	k, _, out, err := OpenAnyLabel(dst, m, upperPDU, akf, aid, keys, labels)
	return k, out, err
}

// OpenAnyLabel is [OpenAny] that also returns the index in labels of the
// Label UUID that verified, or -1 for a destination that is not virtual.
// Mesh Protocol 1.1 §3.9.7.1: the Label UUID is additional data of the
// CCM, so of several labels sharing the 16-bit virtual address (a 14-bit
// hash) only the one the sender used authenticates. It does not allocate.
func OpenAnyLabel(dst []byte, m *AccessMeta, upperPDU []byte, akf bool, aid uint8, keys []AccessKey, labels []Label) (key, label int, out []byte, err error) {
	virtual := m.DST&0xc000 == 0x8000
	mm := *m
	mm.Label = nil
	for i := range keys {
		k := &keys[i]
		if k.Device == akf || (akf && k.AID != aid) {
			continue
		}
		if virtual {
			if out, l, err := k.OpenVirtual(dst, &mm, upperPDU, labels); err == nil {
				return i, l, out, nil
			}
			continue
		}
		if out, err := k.Open(dst, &mm, upperPDU); err == nil {
			return i, -1, out, nil
		}
	}
	return -1, -1, dst, ErrAuth
}
