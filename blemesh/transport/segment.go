package transport

// SeqAuth returns the 56-bit SeqAuth of a segmented message (Mesh Protocol
// 1.1 §3.5.3.1): the IV Index and the 24-bit SEQ of the first segment,
// recovered from any segment's SEQ and its 13-bit SeqZero.
func SeqAuth(ivIndex, seq uint32, seqZero uint16) uint64 {
	seq &= 0xffffff
	d := (seq - uint32(seqZero)) & 0x1fff
	seq0 := (seq - d) & 0xffffff
	if d > seq {
		// SeqZero is from before SEQ wrapped below 0: impossible within one
		// IV Index; keep the value well defined.
		seq0 = 0
	}
	return uint64(ivIndex)<<24 | uint64(seq0)
}

// SegmentCount returns the number of segments needed for an upper transport
// PDU of n octets: 12-octet segments for access, 8-octet for control.
func SegmentCount(n int, ctl bool) int {
	size := MaxSegAccessLen
	if ctl {
		size = MaxSegControlLen
	}
	if n <= 0 {
		return 1
	}
	return (n + size - 1) / size
}

// Segmenter cuts an upper transport PDU into lower transport segments
// (Mesh Protocol 1.1 §3.5.3) and tracks which ones the receiver has
// acknowledged. It is a value type; it does not copy or retain more than the
// PDU slice it is given. It is not safe for concurrent use.
type Segmenter struct {
	CTL     bool
	AKF     bool
	AID     uint8
	Opcode  uint8
	SZMIC   bool
	SeqZero uint16 // low 13 bits of the SEQ of the first segment
	PDU     []byte // the upper transport PDU
	acked   uint32
}

// SegN returns the index of the last segment.
func (s *Segmenter) SegN() uint8 { return uint8(SegmentCount(len(s.PDU), s.CTL) - 1) }

// Valid reports whether the PDU fits in 32 segments.
func (s *Segmenter) Valid() bool {
	return len(s.PDU) > 0 && SegmentCount(len(s.PDU), s.CTL) <= MaxSegments && s.SeqZero <= 0x1fff
}

// Segment returns segment i (0 <= i <= SegN) as a LowerPDU whose Payload
// aliases s.PDU.
func (s *Segmenter) Segment(i uint8) LowerPDU {
	size := MaxSegAccessLen
	if s.CTL {
		size = MaxSegControlLen
	}
	lo := int(i) * size
	hi := min(lo+size, len(s.PDU))
	if lo > hi {
		lo = hi
	}
	return LowerPDU{CTL: s.CTL, Seg: true, AKF: s.AKF, AID: s.AID, Opcode: s.Opcode, SZMIC: s.SZMIC,
		SeqZero: s.SeqZero, SegO: i, SegN: s.SegN(), Payload: s.PDU[lo:hi]}
}

// AppendSegment appends the wire form of segment i.
func (s *Segmenter) AppendSegment(dst []byte, i uint8) ([]byte, error) {
	if !s.Valid() || i > s.SegN() {
		return dst, ErrRange
	}
	p := s.Segment(i)
	return p.AppendBinary(dst)
}

// Ack applies a Segment Acknowledgment. It returns true when every segment
// is acknowledged. An ack for another SeqZero, or one naming segments that
// do not exist, is ignored (returns false). A BlockAck of 0 means the
// receiver is busy or cancelled the transfer; see Cancelled.
func (s *Segmenter) Ack(a *SegmentAck) bool {
	if a.SeqZero != s.SeqZero {
		return false
	}
	all := s.all()
	if a.BlockAck&^all != 0 {
		return false
	}
	s.acked |= a.BlockAck
	return s.acked == all
}

func (s *Segmenter) all() uint32 {
	n := uint(s.SegN()) + 1
	if n == 32 {
		return 0xffffffff
	}
	return 1<<n - 1
}

// Unacked returns the bit field of segments not yet acknowledged: the ones
// to retransmit.
func (s *Segmenter) Unacked() uint32 { return s.all() &^ s.acked }

// Done reports whether every segment is acknowledged.
func (s *Segmenter) Done() bool { return s.Unacked() == 0 }
