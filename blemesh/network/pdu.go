package network

import (
	"errors"
	"strconv"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// Sizes of network PDUs (Mesh Protocol 1.1 §3.4.4).
const (
	// MaxPDULen is the largest network PDU on the advertising bearer: 31
	// octets of advertising data minus the AD length and type octets.
	MaxPDULen = 29
	// HeaderLen is IVI|NID, CTL|TTL, SEQ and SRC.
	HeaderLen = 7
	// MaxAccessTransportLen and MaxControlTransportLen are the largest
	// lower transport PDUs with a 32-bit and a 64-bit NetMIC.
	MaxAccessTransportLen  = MaxPDULen - HeaderLen - 2 - 4
	MaxControlTransportLen = MaxPDULen - HeaderLen - 2 - 8
)

// Errors of the network layer. Decoding errors are sentinels so that the
// per-PDU path never allocates.
var (
	ErrShort     = errors.New("blemesh/network: PDU too short")
	ErrLong      = errors.New("blemesh/network: PDU too long")
	ErrNID       = errors.New("blemesh/network: NID does not match the keys")
	ErrAuth      = errors.New("blemesh/network: NetMIC does not verify")
	ErrTTL       = errors.New("blemesh/network: invalid TTL")
	ErrField     = errors.New("blemesh/network: header field out of range")
	ErrNoRelay   = errors.New("blemesh/network: TTL too small to relay")
	ErrTransport = errors.New("blemesh/network: transport PDU length out of range")
)

// Nonce selects the nonce that protects a network-layer PDU.
type Nonce uint8

// Nonces of network-layer PDUs (Mesh Protocol 1.1 §3.9.5).
const (
	NetworkNonce      Nonce = iota // network PDUs on any bearer
	ProxyNonce                     // proxy configuration messages
	SolicitationNonce              // Solicitation PDUs (IV Index not used)
)

func (n Nonce) String() string {
	switch n {
	case NetworkNonce:
		return "network"
	case ProxyNonce:
		return "proxy"
	case SolicitationNonce:
		return "solicitation"
	}
	return "nonce(" + strconv.Itoa(int(n)) + ")"
}

// Header holds the cleartext fields of a network PDU (Mesh Protocol 1.1
// §3.4.4). It is a small comparable value.
type Header struct {
	// IVIndex is the IV Index the PDU is protected with. Seal uses it (and
	// sets IVI from its low bit); Open sets it from the IVI bit and the
	// node's current IV Index.
	IVIndex uint32
	NID     uint8  // 7 bits; set by Seal from the keys
	CTL     bool   // control message (64-bit NetMIC)
	TTL     uint8  // 7 bits
	SEQ     uint32 // 24 bits
	SRC     uint16
	DST     uint16
}

// MICLen returns the NetMIC length of h: 8 octets for control messages,
// 4 for access messages.
func (h *Header) MICLen() int {
	if h.CTL {
		return 8
	}
	return 4
}

func (h *Header) ctlTTL() byte {
	b := h.TTL & 0x7f
	if h.CTL {
		b |= 0x80
	}
	return b
}

// IVIndexFor returns the IV Index a received PDU with the given IVI bit was
// sent with, at a node whose current IV Index is current: current when the
// low bits agree, else current - 1 (Mesh Protocol 1.1 §3.4.4.1, §3.10.5).
func IVIndexFor(ivi uint8, current uint32) uint32 {
	if uint32(ivi&1) == current&1 || current == 0 {
		return current
	}
	return current - 1
}

// EncodedLen returns the length of the network PDU that Seal produces for
// h and a transport PDU of n octets.
func (h *Header) EncodedLen(n int) int { return HeaderLen + 2 + n + h.MICLen() }

// Seal encrypts and obfuscates a network PDU with the network nonce and
// appends it to dst (Mesh Protocol 1.1 §3.9.7). h.NID is ignored (the keys
// supply it). It does not allocate when dst has room for
// h.EncodedLen(len(transportPDU)) more octets.
func (k *Keys) Seal(dst []byte, h *Header, transportPDU []byte) ([]byte, error) {
	return k.SealNonce(dst, h, transportPDU, NetworkNonce)
}

// SealNonce is Seal with a choice of nonce: the proxy nonce for proxy
// configuration messages, the solicitation nonce for Solicitation PDUs
// (whose IV Index is taken as 0 and whose transport PDU is empty).
func (k *Keys) SealNonce(dst []byte, h *Header, transportPDU []byte, nonce Nonce) ([]byte, error) {
	if h.TTL > 0x7f {
		return dst, ErrTTL
	}
	if h.SEQ > 0xffffff {
		return dst, ErrField
	}
	n := len(transportPDU)
	iv := h.IVIndex
	if nonce == SolicitationNonce {
		iv = 0
	} else if n == 0 {
		return dst, ErrTransport
	}
	if 2+n+h.MICLen() < 7 {
		// Obfuscation takes its PrivacyRandom from the 7 octets after
		// the header: an empty transport PDU needs the 64-bit MIC of
		// CTL = 1, as Solicitation PDUs have (Mesh Protocol 1.1 §6.9).
		return dst, ErrField
	}
	total := h.EncodedLen(n)
	if total > MaxPDULen {
		return dst, ErrLong
	}
	ret, out := grow(dst, total)
	out[0] = byte(iv&1)<<7 | k.NID&0x7f
	out[1] = h.ctlTTL()
	out[2] = byte(h.SEQ >> 16)
	out[3] = byte(h.SEQ >> 8)
	out[4] = byte(h.SEQ)
	out[5] = byte(h.SRC >> 8)
	out[6] = byte(h.SRC)
	out[7] = byte(h.DST >> 8)
	out[8] = byte(h.DST)
	copy(out[9:], transportPDU)
	var nc [crypto.NonceSize]byte
	switch nonce {
	case ProxyNonce:
		nc = crypto.ProxyNonce(h.SEQ, h.SRC, iv)
	case SolicitationNonce:
		nc = crypto.SolicitationNonce(h.SEQ, h.SRC)
	default:
		nc = crypto.NetworkNonce(out[1], h.SEQ, h.SRC, iv)
	}
	if _, err := k.enc.SealCCM(out[7:7], &nc, out[7:9+n], nil, h.MICLen()); err != nil {
		return dst, err
	}
	pecb := k.priv.PECB(iv, out[7:14])
	for i := 0; i < 6; i++ {
		out[1+i] ^= pecb[i]
	}
	return ret, nil
}

// Deobfuscate recovers the header of raw without decrypting it: CTL, TTL,
// SEQ and SRC (Mesh Protocol 1.1 §3.9.7.3). It lets a receiver find the
// source and sequence number (for the network message cache or to pick
// friendship credentials) before paying for the CCM decryption.
func (k *Keys) Deobfuscate(h *Header, raw []byte, current uint32, nonce Nonce) error {
	if len(raw) < HeaderLen+7 { // PrivacyRandom needs 7 octets after the header
		return ErrShort
	}
	if len(raw) > MaxPDULen {
		return ErrLong
	}
	if raw[0]&0x7f != k.NID {
		return ErrNID
	}
	iv := IVIndexFor(raw[0]>>7, current)
	if nonce == SolicitationNonce {
		iv = 0
	}
	pecb := k.priv.PECB(iv, raw[7:14])
	b1 := raw[1] ^ pecb[0]
	h.IVIndex = iv
	h.NID = raw[0] & 0x7f
	h.CTL = b1&0x80 != 0
	h.TTL = b1 & 0x7f
	h.SEQ = uint32(raw[2]^pecb[1])<<16 | uint32(raw[3]^pecb[2])<<8 | uint32(raw[4]^pecb[3])
	h.SRC = uint16(raw[5]^pecb[4])<<8 | uint16(raw[6]^pecb[5])
	h.DST = 0
	return nil
}

// Open deobfuscates and decrypts the network PDU raw with the network
// nonce, selecting the IV Index from its IVI bit and the node's current IV
// Index. It fills h and appends the decrypted lower transport PDU to dst.
// raw is not modified. It does not allocate when dst has room for
// len(raw) more octets.
func (k *Keys) Open(dst []byte, h *Header, raw []byte, current uint32) ([]byte, error) {
	return k.OpenNonce(dst, h, raw, current, NetworkNonce)
}

// OpenNonce is Open with a choice of nonce (see SealNonce).
func (k *Keys) OpenNonce(dst []byte, h *Header, raw []byte, current uint32, nonce Nonce) ([]byte, error) {
	if err := k.Deobfuscate(h, raw, current, nonce); err != nil {
		return dst, err
	}
	mic := h.MICLen()
	if len(raw) < HeaderLen+2+mic || (nonce != SolicitationNonce && len(raw) < HeaderLen+2+1+mic) {
		return dst, ErrShort
	}
	var nc [crypto.NonceSize]byte
	switch nonce {
	case ProxyNonce:
		nc = crypto.ProxyNonce(h.SEQ, h.SRC, h.IVIndex)
	case SolicitationNonce:
		nc = crypto.SolicitationNonce(h.SEQ, h.SRC)
	default:
		nc = crypto.NetworkNonce(h.ctlTTL(), h.SEQ, h.SRC, h.IVIndex)
	}
	start := len(dst)
	out, err := k.enc.OpenCCM(dst, &nc, raw[HeaderLen:], nil, mic)
	if err != nil {
		return dst, ErrAuth
	}
	h.DST = uint16(out[start])<<8 | uint16(out[start+1])
	// Drop the DST octets from the transport PDU.
	copy(out[start:], out[start+2:])
	return out[:len(out)-2], nil
}

// Relay re-encrypts a received network PDU for retransmission with TTL - 1
// under keys k (the same keys for a relay, the friendship keys for a Friend
// queue), keeping SEQ, SRC, DST and the IV Index (Mesh Protocol 1.1
// §3.4.6.3). It returns ErrNoRelay when h.TTL is below 2: PDUs received with
// TTL 0 or 1 are not relayed.
func (k *Keys) Relay(dst []byte, h Header, transportPDU []byte) ([]byte, error) {
	if h.TTL < 2 {
		return dst, ErrNoRelay
	}
	h.TTL--
	return k.Seal(dst, &h, transportPDU)
}

func grow(dst []byte, n int) (whole, tail []byte) {
	total := len(dst) + n
	if cap(dst) >= total {
		whole = dst[:total]
	} else {
		whole = make([]byte, total, len(dst)+MaxPDULen)
		copy(whole, dst)
	}
	return whole, whole[len(dst):]
}
