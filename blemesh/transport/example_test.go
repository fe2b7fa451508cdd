package transport_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/transport"
)

// Message #6 of the specification's sample data: a Config AppKey Add
// encrypted with the device key, cut into two segments, and reassembled.
func Example() {
	devKey := [16]byte{0x9d, 0x6d, 0xd0, 0xe9, 0x6e, 0xb2, 0x5d, 0xc1, 0x9a, 0x40, 0xed, 0x99, 0x14, 0xf8, 0xf0, 0x3f}
	payload := []byte{0x00, 0x56, 0x34, 0x12, 0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76, 0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48}
	key := transport.NewDevKey(devKey)
	meta := transport.AccessMeta{SEQ: 0x3129ab, SRC: 0x0003, DST: 0x1201, IVIndex: 0x12345678}
	upper, _ := key.Seal(nil, &meta, payload)

	s := transport.Segmenter{SeqZero: 0x3129ab & 0x1fff, PDU: upper}
	r := transport.NewReassembler(transport.ReassemblyConfig{})
	var msg transport.Reassembled
	var ack transport.AckOut
	for i := uint8(0); i <= s.SegN(); i++ {
		wire, _ := s.AppendSegment(nil, i)
		fmt.Printf("segment %d: %x\n", i, wire)
		var p transport.LowerPDU
		p.Decode(wire, false)
		fl, _ := r.Receive(&transport.RxInfo{SRC: 0x0003, DST: 0x1201, IVIndex: 0x12345678, SEQ: 0x3129ab + uint32(i)}, &p, &msg, &ack)
		if fl&transport.SendAck != 0 {
			fmt.Printf("ack: SeqZero %#x BlockAck %#x\n", ack.Ack.SeqZero, ack.Ack.BlockAck)
		}
	}
	back, err := key.Open(nil, &meta, msg.PDU)
	fmt.Printf("%x %v\n", back, err)
	// Output:
	// segment 0: 8026ac01ee9dddfd2169326d23f3afdf
	// segment 1: 8026ac21cfdc18c52fdef772e0e17308
	// ack: SeqZero 0x9ab BlockAck 0x3
	// 0056341263964771734fbd76e3b40519d1d94a48 <nil>
}
