package network_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/network"
)

// A node seals an unsegmented access message (message #16 of the
// specification's sample data) and its peer opens it.
func Example() {
	netKey := [16]byte{0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6}
	keys := network.FloodingKeys(netKey)
	lower := []byte{0x00, 0x89, 0x51, 0x1b, 0xf1, 0xd1, 0xa8, 0x1c, 0x11, 0xdc, 0xef}
	var buf [network.MaxPDULen]byte
	pdu, err := keys.Seal(buf[:0], &network.Header{IVIndex: 0x12345678, TTL: 11, SEQ: 6, SRC: 0x1201, DST: 0x0003}, lower)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", pdu)

	var h network.Header
	var out [network.MaxPDULen]byte
	tp, err := keys.Open(out[:0], &h, pdu, 0x12345678)
	fmt.Printf("%04x -> %04x TTL %d SEQ %d: %x %v\n", h.SRC, h.DST, h.TTL, h.SEQ, tp, err)
	// Output:
	// 68e80e5da5af0e6b9be7f5a642f2f98680e61c3a8b47f228
	// 1201 -> 0003 TTL 11 SEQ 6: 0089511bf1d1a81c11dcef <nil>
}
