package coap

import (
	"errors"
	"strconv"
)

// Sentinel errors. They are compared with errors.Is.
var (
	// ErrShort reports a datagram shorter than the 4-byte header. Such a
	// message has no usable Message ID and is ignored.
	ErrShort = errors.New("coap: message shorter than the 4-byte header")
	// ErrVersion reports a version other than 1; RFC 7252 §3 has the
	// receiver silently ignore the message.
	ErrVersion = errors.New("coap: unknown version")
	// ErrFormat is matched by every [FormatError]: a message format error
	// in the sense of RFC 7252 §4.2 and §4.3.
	ErrFormat = errors.New("coap: message format error")
	// ErrOptionOrder reports, on encoding, Options that are not sorted by
	// number. The Add and Set methods keep them sorted.
	ErrOptionOrder = errors.New("coap: options not in ascending order")
	// ErrOptionTooLong reports, on encoding, an option value longer than
	// the 65804 bytes the wire format can carry.
	ErrOptionTooLong = errors.New("coap: option value too long")
	// ErrBadOption is returned by [Message.CheckOptions] for an
	// unrecognised critical option (RFC 7252 §5.4.1): a request is
	// answered with 4.02 Bad Option, a response is rejected.
	ErrBadOption = errors.New("coap: unrecognised critical option")
	// ErrBlock reports a Block1/Block2 option value that is not a valid
	// block: SZX 7 (reserved outside BERT) or a block number above 2^20-1.
	ErrBlock = errors.New("coap: invalid block option")
)

// FormatError is a message format error found by [Message.Decode]. It is a
// small value type that matches [ErrFormat] with errors.Is and costs no
// allocation to return.
type FormatError uint8

// The reasons for a [FormatError].
const (
	FormatTokenLength    FormatError = iota + 1 // TKL 9..15 (§3)
	FormatEmptyNotEmpty                         // code 0.00 with bytes after the Message ID (§4.1)
	FormatResetNotEmpty                         // RST with a code other than 0.00 (§4.2)
	FormatNonEmpty                              // NON with code 0.00 (§4.3)
	FormatAckRequest                            // ACK carrying a request code (§4.2)
	FormatReservedNibble                        // option delta or length nibble 15 (§3.1)
	FormatTruncated                             // option or token runs past the end
	FormatOptionNumber                          // option number above 65535
	FormatEmptyPayload                          // payload marker with no payload (§3)
	FormatTooManyOptions                        // more than MaxOptions options
	FormatReservedClass                         // code class 1, 6 or 7 (§3, §12.1)
)

var formatText = [...]string{
	"",
	"token length 9-15",
	"empty message with bytes after the message id",
	"reset message that is not empty",
	"non-confirmable message that is empty",
	"acknowledgement carrying a request code",
	"reserved option nibble 15",
	"truncated option or token",
	"option number above 65535",
	"payload marker with empty payload",
	"too many options",
	"reserved code class",
}

// Error implements error.
func (e FormatError) Error() string {
	if int(e) < len(formatText) && e != 0 {
		return "coap: message format error: " + formatText[e]
	}
	return "coap: message format error " + strconv.Itoa(int(e))
}

// Is reports whether target is [ErrFormat].
func (e FormatError) Is(target error) bool { return target == ErrFormat }
