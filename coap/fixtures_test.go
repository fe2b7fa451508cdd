package coap

// fixtures are annotated wire messages shared by the decode, encode, fuzz
// and benchmark tests (STYLE R24).
var fixtures = []struct {
	name string
	wire []byte
	msg  Message
}{
	{"ping", []byte{0x40, 0x00, 0x12, 0x34}, Message{Type: Confirmable, MessageID: 0x1234}},
	{"rst", []byte{0x70, 0x00, 0x00, 0x01}, Message{Type: Reset, MessageID: 1}},
	{"get/temperature", []byte{
		0x42, 0x01, 0x7d, 0x34, // ver 1 CON tkl 2, GET, mid 0x7d34
		0xab, 0xcd, // token
		0xbb, 't', 'e', 'm', 'p', 'e', 'r', 'a', 't', 'u', 'r', 'e', // Uri-Path (11) len 11
	}, Message{Type: Confirmable, Code: GET, MessageID: 0x7d34, Token: tok(0xab, 0xcd),
		Options: []Option{{URIPath, []byte("temperature")}}}},
	{"ack/content", []byte{
		0x62, 0x45, 0x7d, 0x34, // ver 1 ACK tkl 2, 2.05, mid
		0xab, 0xcd,
		0xc1, 0x00, // Content-Format (12) len 1: 0 (text/plain written non-minimally)
		0xff, '2', '2', '.', '3', // payload
	}, Message{Type: Acknowledgement, Code: Content, MessageID: 0x7d34, Token: tok(0xab, 0xcd),
		Options: []Option{{ContentFormat, []byte{0}}}, Payload: []byte("22.3")}},
	{"non/observe/block2", []byte{
		0x51, 0x45, 0x00, 0x07, 0x01, // NON tkl 1, 2.05, mid 7, token 01
		0x61, 0x05, // Observe (6) len 1: 5
		0x61, 0x32, // Content-Format (12, delta 6) len 1: 50 json
		0xb1, 0x1e, // Block2 (23, delta 11) len 1: num 1 M=1 szx 6
		0x51, 0x08, // Size2 (28, delta 5) len 1: 8 (toy value)
		0xff, '{', '}',
	}, Message{Type: NonConfirmable, Code: Content, MessageID: 7, Token: tok(1),
		Options: []Option{{Observe, []byte{5}}, {ContentFormat, []byte{50}}, {Block2, []byte{0x1e}}, {Size2, []byte{8}}},
		Payload: []byte("{}")}},
	{"post/ext-delta/echo/request-tag", []byte{
		0x48, 0x02, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, // CON tkl 8 POST
		0xb1, 'x', // Uri-Path "x"
		0xd2, 0xe4, 0xaa, 0xbb, // delta 13+0xe4=241: 11+241 = 252 Echo, len 2
		0xd1, 0x1b, 0x01, // delta 13+27=40: 292 Request-Tag, len 1
		0xff, 0x00,
	}, Message{Type: Confirmable, Code: POST, MessageID: 2, Token: tok(1, 2, 3, 4, 5, 6, 7, 8),
		Options: []Option{{URIPath, []byte("x")}, {Echo, []byte{0xaa, 0xbb}}, {RequestTag, []byte{1}}},
		Payload: []byte{0}}},
	{"put/ext-len-14", append([]byte{
		0x40, 0x03, 0x00, 0x03, // CON PUT tkl 0
		0xde, 0x00, 0x00, 0x00, // delta 13 (+0 = 13: unregistered elective 13?) len 14 -> 269+0
	}, make([]byte, 269)...), Message{Type: Confirmable, Code: PUT, MessageID: 3,
		Options: []Option{{13, make([]byte, 269)}}}},
}

func tok(b ...byte) Token { t, _ := TokenFrom(b); return t }
