//go:build !tinygo

package transport_test

import (
	"testing"

	"github.com/edgekit/edgekit/blemesh/transport"
)

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	dk := transport.NewDevKey(devKey)
	m := transport.AccessMeta{SEQ: 0x3129ab, SRC: 0x0003, DST: 0x1201, IVIndex: 0x12345678}
	r := transport.NewReassembler(transport.ReassemblyConfig{})
	rpl := transport.NewReplayList(transport.ReplayConfig{})
	buf := make([]byte, 0, transport.MaxAccessPDULen)
	seg := make([]byte, 0, 32)
	acks := make([]transport.AckOut, 0, 8)
	var msg transport.Reassembled
	var ack transport.AckOut
	var set transport.ControlSet
	ackParams := []byte{0xa6, 0xac, 0, 0, 0, 2} // decoded messages alias the caller's buffer
	seq := uint32(0x100)
	n := testing.AllocsPerRun(200, func() {
		up, _ := dk.Seal(buf[:0], &m, msg6App)
		_, _ = dk.Open(buf[len(up):len(up)], &m, up)
		s := transport.Segmenter{SeqZero: uint16(seq & 0x1fff), PDU: up}
		for i := uint8(0); i <= s.SegN(); i++ {
			b, _ := s.AppendSegment(seg[:0], i)
			var p transport.LowerPDU
			_, _ = p.Decode(b, false)
			rx := transport.RxInfo{SRC: 0x0003, DST: 0x1201, IVIndex: 1, SEQ: seq + uint32(i)}
			_, _ = r.Receive(&rx, &p, &msg, &ack)
		}
		seq += 4
		acks = r.Tick(msg6Time, acks[:0])
		rpl.Accept(0x0003, uint64(seq))
		_, _ = set.Decode(transport.OpSegmentAck, ackParams)
	})
	if n != 0 {
		t.Fatalf("allocs = %v; want 0", n)
	}
}

var msg6Time = ms(0)
