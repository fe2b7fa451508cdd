package coap

import "strconv"

// Type is the message type of RFC 7252 §3: CON, NON, ACK or RST.
type Type uint8

// Message types.
const (
	Confirmable     Type = 0 // CON
	NonConfirmable  Type = 1 // NON
	Acknowledgement Type = 2 // ACK
	Reset           Type = 3 // RST
)

var typeText = [4]string{"CON", "NON", "ACK", "RST"}

// String returns "CON", "NON", "ACK" or "RST".
func (t Type) String() string {
	if t < 4 {
		return typeText[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// MessageID is the 16-bit Message ID of RFC 7252 §3, used to detect
// duplicates and to match ACK and RST to CON. Every value is valid.
type MessageID uint16

// Code is the 8-bit code of RFC 7252 §3: a 3-bit class and a 5-bit detail,
// written c.dd. Class 0 holds the request methods (0.00 is Empty), classes
// 2, 4 and 5 the responses; 1, 6 and 7 are reserved.
type Code uint8

// NewCode returns the code class.detail.
func NewCode(class, detail uint8) Code { return Code(class<<5 | detail&0x1f) }

// Class returns the code class (0..7).
func (c Code) Class() uint8 { return uint8(c) >> 5 }

// Detail returns the code detail (0..31).
func (c Code) Detail() uint8 { return uint8(c) & 0x1f }

// IsRequest reports whether c is a method code (0.01-0.31).
func (c Code) IsRequest() bool { return c.Class() == 0 && c != Empty }

// IsResponse reports whether c is in a response class (2, 4 or 5).
func (c Code) IsResponse() bool { k := c.Class(); return k == 2 || k == 4 || k == 5 }

// IsSuccess reports whether c is a 2.xx response.
func (c Code) IsSuccess() bool { return c.Class() == 2 }

// Method and response codes (RFC 7252 §12.1, RFC 7959, RFC 8132, RFC 8516,
// RFC 8768).
const (
	Empty  Code = 0x00
	GET    Code = 0x01
	POST   Code = 0x02
	PUT    Code = 0x03
	DELETE Code = 0x04
	FETCH  Code = 0x05
	PATCH  Code = 0x06
	IPATCH Code = 0x07

	Created  Code = 2<<5 | 1
	Deleted  Code = 2<<5 | 2
	Valid    Code = 2<<5 | 3
	Changed  Code = 2<<5 | 4
	Content  Code = 2<<5 | 5
	Continue Code = 2<<5 | 31

	BadRequest               Code = 4 << 5
	Unauthorized             Code = 4<<5 | 1
	BadOption                Code = 4<<5 | 2
	Forbidden                Code = 4<<5 | 3
	NotFound                 Code = 4<<5 | 4
	MethodNotAllowed         Code = 4<<5 | 5
	NotAcceptable            Code = 4<<5 | 6
	RequestEntityIncomplete  Code = 4<<5 | 8
	Conflict                 Code = 4<<5 | 9
	PreconditionFailed       Code = 4<<5 | 12
	RequestEntityTooLarge    Code = 4<<5 | 13
	UnsupportedContentFormat Code = 4<<5 | 15
	UnprocessableEntity      Code = 4<<5 | 22
	TooManyRequests          Code = 4<<5 | 29

	InternalServerError  Code = 5 << 5
	NotImplemented       Code = 5<<5 | 1
	BadGateway           Code = 5<<5 | 2
	ServiceUnavailable   Code = 5<<5 | 3
	GatewayTimeout       Code = 5<<5 | 4
	ProxyingNotSupported Code = 5<<5 | 5
	HopLimitReached      Code = 5<<5 | 8
)

var methodText = [8]string{"Empty", "GET", "POST", "PUT", "DELETE", "FETCH", "PATCH", "iPATCH"}

// String returns a method name ("GET") or the dotted form ("2.05").
func (c Code) String() string {
	if c < 8 {
		return methodText[c]
	}
	var b [4]byte
	return string(c.AppendTo(b[:0]))
}

// AppendTo appends the dotted form c.dd of the code to dst.
func (c Code) AppendTo(dst []byte) []byte {
	d := c.Detail()
	return append(dst, '0'+c.Class(), '.', '0'+d/10, '0'+d%10)
}
