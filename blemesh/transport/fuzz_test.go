package transport_test

import (
	"bytes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/transport"
)

// FuzzLowerPDU: the lower transport decoder never panics and round-trips.
func FuzzLowerPDU(f *testing.F) {
	for _, s := range []string{"8026ac01ee9dddfd2169326d23f3afdf", "665a8bde6d9106ea078a", "034b50057e400000010000", "00a6ac00000002", "0100", "0089511bf1d1a81c11dcef"} {
		f.Add(unhex(s), false)
		f.Add(unhex(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, ctl bool) {
		var p transport.LowerPDU
		if _, err := p.Decode(b, ctl); err != nil {
			return
		}
		out, err := p.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %+v -> %x, %v", b, p, out, err)
		}
	})
}

// FuzzControl: every transport control decoder never panics and
// round-trips.
func FuzzControl(f *testing.F) {
	for _, s := range []string{"00a6ac00000002", "0100", "02001234567800", "034b50057e400000010000", "04320308ba072f", "0512010005", "0607c000", "0a050003", "0907"} {
		b := unhex(s)
		f.Add(b[0], b[1:])
	}
	f.Fuzz(func(t *testing.T, op uint8, params []byte) {
		var set transport.ControlSet
		m, err := set.Decode(op, params)
		if err != nil {
			return
		}
		out, err := m.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, params) {
			t.Fatalf("round trip %d %x -> %x, %v", op, params, out, err)
		}
	})
}

// FuzzReassembler feeds arbitrary segments: no panic, bounded output.
func FuzzReassembler(f *testing.F) {
	f.Add(unhex("8026ac01ee9dddfd2169326d23f3afdf"), uint32(0x3129ab), uint16(3))
	f.Add(unhex("8026ac21cfdc18c52fdef772e0e17308"), uint32(0x3129ac), uint16(3))
	r := transport.NewReassembler(transport.ReassemblyConfig{MaxMessages: 2, MaxPDULen: 64})
	f.Fuzz(func(t *testing.T, b []byte, seq uint32, src uint16) {
		var p transport.LowerPDU
		if _, err := p.Decode(b, false); err != nil || !p.Seg {
			return
		}
		var msg transport.Reassembled
		var ack transport.AckOut
		rx := transport.RxInfo{Now: ms(int(seq & 0xffff)), SRC: src, DST: 0x0001, SEQ: seq}
		fl, _ := r.Receive(&rx, &p, &msg, &ack)
		if fl&transport.Complete != 0 && len(msg.PDU) > 64 {
			t.Fatalf("PDU of %d octets", len(msg.PDU))
		}
	})
}
