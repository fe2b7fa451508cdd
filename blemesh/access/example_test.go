package access_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/access"
)

// Decoding the access payload of message #6 (Config AppKey Add).
func Example() {
	payload := []byte{0x00, 0x56, 0x34, 0x12, 0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76, 0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48}
	var p access.Payload
	if _, err := p.Decode(payload); err != nil {
		panic(err)
	}
	var add access.AppKeyAdd
	if p.Opcode == access.OpAppKeyAdd {
		add.Decode(p.Params)
	}
	fmt.Printf("opcode %s NetKeyIndex %#x AppKeyIndex %#x AppKey %x\n", p.Opcode, add.NetKeyIndex, add.AppKeyIndex, add.AppKey)
	// Output: opcode 00 NetKeyIndex 0x456 AppKeyIndex 0x123 AppKey 63964771734fbd76e3b40519d1d94a48
}
