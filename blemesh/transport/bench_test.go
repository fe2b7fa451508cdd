package transport_test

import (
	"testing"

	"github.com/edgekit/edgekit/blemesh/transport"
)

// BenchmarkOpenAccess is upper transport decrypt of message #6's 24-octet
// upper transport PDU with the device key.
func BenchmarkOpenAccess(b *testing.B) {
	dk := transport.NewDevKey(devKey)
	m := transport.AccessMeta{SEQ: 0x3129ab, SRC: 0x0003, DST: 0x1201, IVIndex: 0x12345678}
	out := make([]byte, 0, 64)
	b.SetBytes(int64(len(msg6UTP)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.Open(out[:0], &m, msg6UTP); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSegmentReassemble3 segments a 36-octet upper transport PDU into
// 3 segments, decodes them and reassembles the message.
func BenchmarkSegmentReassemble3(b *testing.B) {
	pdu := make([]byte, 36)
	r := transport.NewReassembler(transport.ReassemblyConfig{})
	seg := make([]byte, 0, 16)
	var msg transport.Reassembled
	var ack transport.AckOut
	seq := uint32(0)
	b.SetBytes(int64(len(pdu)))
	b.ReportAllocs()
	for b.Loop() {
		s := transport.Segmenter{SeqZero: uint16(seq & 0x1fff), PDU: pdu}
		for i := uint8(0); i <= s.SegN(); i++ {
			w, _ := s.AppendSegment(seg[:0], i)
			var p transport.LowerPDU
			if _, err := p.Decode(w, false); err != nil {
				b.Fatal(err)
			}
			rx := transport.RxInfo{SRC: 0x0003, DST: 0x1201, SEQ: seq + uint32(i)}
			fl, err := r.Receive(&rx, &p, &msg, &ack)
			if err != nil || (i == 2) != (fl&transport.Complete != 0) {
				b.Fatal(fl, err)
			}
		}
		seq += 3
	}
}
