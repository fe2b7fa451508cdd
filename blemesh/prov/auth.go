package prov

import (
	"encoding/binary"
	"io"
)

// AuthNumeric returns the AuthValue for a numeric OOB action (blink, beep,
// vibrate, output numeric, push, twist, input numeric): the number as a
// big-endian integer right-aligned in AuthSize octets of zeros (§5.4.2.4).
func AuthNumeric(alg Algorithm, n uint32) [32]byte {
	var a [32]byte
	size := alg.AuthSize()
	if size == 0 {
		return a
	}
	binary.BigEndian.PutUint32(a[size-4:size], n)
	return a
}

// AuthAlphanumeric returns the AuthValue for an alphanumeric OOB action: the
// ASCII characters left-aligned and padded with zeros (§5.4.2.4). At most
// MaxOOBSize characters are used.
func AuthAlphanumeric(s string) [32]byte {
	var a [32]byte
	if len(s) > MaxOOBSize {
		s = s[:MaxOOBSize]
	}
	copy(a[:], s)
	return a
}

// AuthStatic returns the AuthValue for static OOB information: the first
// AuthSize octets of b, zero-padded if b is shorter (as Zephyr does when a
// 16-octet value meets the 32-octet HMAC algorithm).
func AuthStatic(alg Algorithm, b []byte) [32]byte {
	var a [32]byte
	size := alg.AuthSize()
	if len(b) > size {
		b = b[:size]
	}
	copy(a[:], b)
	return a
}

var pow10 = [MaxOOBSize + 1]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// numericAction reports whether an OOB action under method m is a count or a
// number (as opposed to an alphanumeric string).
func numericAction(m AuthMethod, action uint8) bool {
	switch m {
	case AuthOutputOOB:
		return action != OutputAlphanumeric
	case AuthInputOOB:
		return action != InputAlphanumeric
	}
	return false
}

// countAction reports whether the action is a count of events (blink, beep,
// vibrate, push, twist), which must not be zero.
func countAction(m AuthMethod, action uint8) bool {
	switch m {
	case AuthOutputOOB:
		return action <= OutputVibrate
	case AuthInputOOB:
		return action <= InputTwist
	}
	return false
}

// randomNumber draws a number of at most size decimal digits from r: in
// [0, 10^size) for numbers, [1, 10^size) for counts (§5.4.2.4).
func randomNumber(r io.Reader, size uint8, count bool) (uint32, error) {
	if size == 0 || size > MaxOOBSize {
		return 0, ErrInvalidValue
	}
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint64(b[:])
	max := uint64(pow10[size])
	if count {
		return uint32(v%(max-1)) + 1, nil
	}
	return uint32(v % max), nil
}

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// randomString draws size characters from 0-9 and A-Z.
func randomString(r io.Reader, dst *[MaxOOBSize]byte, size uint8) error {
	if size == 0 || size > MaxOOBSize {
		return ErrInvalidValue
	}
	var b [MaxOOBSize]byte
	if _, err := io.ReadFull(r, b[:size]); err != nil {
		return err
	}
	for i := uint8(0); i < size; i++ {
		dst[i] = alnum[int(b[i])%len(alnum)]
	}
	return nil
}
