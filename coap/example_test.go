package coap_test

import (
	"errors"
	"fmt"

	"github.com/edgekit/edgekit/coap"
)

func Example() {
	// A client builds a request...
	var req coap.Message
	req.Type, req.Code, req.MessageID = coap.Confirmable, coap.GET, 0x7d34
	req.Token, _ = coap.TokenFrom([]byte{0xab, 0xcd})
	req.SetPath("/sensors/temp")
	req.SetUint(coap.Accept, uint32(coap.AppSenMLJSON))
	wire, _ := req.AppendBinary(nil)

	// ...and a server decodes it in place.
	var m coap.Message
	if _, err := m.Decode(wire); err != nil {
		return
	}
	accept, _ := m.Accept()
	fmt.Println(m.Type, m.Code, m.Path(), accept, m.Token)

	// A malformed message is a format error; a CON gets a Reset.
	_, err := m.Decode([]byte{0x40, 0x01, 0x00, 0x01, 0xff})
	fmt.Println(errors.Is(err, coap.ErrFormat), m.MessageID)
	// Output:
	// CON GET /sensors/temp application/senml+json abcd
	// true 1
}
