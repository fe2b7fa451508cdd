// Package coap is the CoAP message codec: RFC 7252 messages with every
// registered option, Block1/Block2/Size1/Size2 (RFC 7959), Observe
// (RFC 7641), No-Response (RFC 7967), Echo and Request-Tag (RFC 9175), and
// the content-format registry.
//
// The package holds no sockets, clocks or goroutines, imports no net, fmt or
// reflect, and builds with TinyGo; the endpoint (client and server, block-wise
// transfers, observe, retransmission) lives in the sub-package
// coap/endpoint, and DTLS in coap/dtls.
//
// A [Message] decodes in place: its Options and Payload alias the datagram
// passed to [Message.Decode] and are valid until that buffer is reused; call
// [Message.Clone] to keep a message. [Message.AppendBinary] appends the wire
// form to a caller's slice and allocates nothing when the slice has room:
//
//	var m coap.Message
//	if _, err := m.Decode(datagram); err != nil {
//		// errors.Is(err, coap.ErrFormat): answer a CON with RST (RFC 7252 §4.2)
//	}
//	if id, err := m.CheckOptions(); err != nil {
//		// unrecognised critical option id: 4.02 Bad Option (§5.4.1)
//	}
//	var resp coap.Message
//	resp.Type, resp.Code, resp.MessageID, resp.Token = coap.Acknowledgement, coap.Content, m.MessageID, m.Token
//	resp.SetContentFormat(coap.TextPlain)
//	resp.Payload = body
//	out, err := resp.AppendBinary(buf[:0])
//
// Decoding is strict where RFC 7252 is: a version other than 1
// ([ErrVersion]: ignore silently), a token length of 9 to 15, an Empty
// message with any byte after the Message ID, a non-empty Reset, an empty
// Non-confirmable message, an Acknowledgement carrying a request code, the
// reserved option nibble 15, truncated options, option numbers above 65535
// and a payload marker followed by no payload are all [FormatError]s that
// match [ErrFormat]; the header fields are filled in before the check so
// that a receiver can reject the message with a Reset.
package coap
