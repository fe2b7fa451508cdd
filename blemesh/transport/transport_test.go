package transport_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/transport"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func key16(s string) [16]byte {
	var k [16]byte
	copy(k[:], unhex(s))
	return k
}

var (
	devKey  = key16("9d6dd0e96eb25dc19a40ed9914f8f03f")
	appKey  = key16("63964771734fbd76e3b40519d1d94a48")
	label   = key16("0073e7e4d8b9440faf8415df4c56c0e1")
	msg6App = unhex("0056341263964771734fbd76e3b40519d1d94a48")
	msg6UTP = unhex("ee9dddfd2169326d23f3afdfcfdc18c52fdef772e0e17308")
	msg6Seg = [][]byte{unhex("8026ac01ee9dddfd2169326d23f3afdf"), unhex("8026ac21cfdc18c52fdef772e0e17308")}
)

var epoch = time.Unix(1000, 0)

func ms(n int) time.Time { return epoch.Add(time.Duration(n) * time.Millisecond) }

func TestLowerPDU(t *testing.T) {
	for _, tc := range []struct {
		ctl  bool
		wire string
		want transport.LowerPDU
	}{
		{false, "8026ac01ee9dddfd2169326d23f3afdf", transport.LowerPDU{Seg: true, SeqZero: 0x9ab, SegO: 0, SegN: 1, Payload: unhex("ee9dddfd2169326d23f3afdf")}},
		{false, "665a8bde6d9106ea078a", transport.LowerPDU{AKF: true, AID: 0x26, Payload: unhex("5a8bde6d9106ea078a")}},
		{true, "034b50057e400000010000", transport.LowerPDU{CTL: true, Opcode: 3, Payload: unhex("4b50057e400000010000")}},
		{true, "00a6ac00000002", transport.LowerPDU{CTL: true, Opcode: 0, Payload: unhex("a6ac00000002")}},
		{true, "8a0024010102030405060708", transport.LowerPDU{CTL: true, Seg: true, Opcode: 0x0a, SeqZero: 0x09, SegO: 0, SegN: 1, Payload: unhex("0102030405060708")}},
	} {
		var p transport.LowerPDU
		if _, err := p.Decode(unhex(tc.wire), tc.ctl); err != nil {
			t.Fatalf("%s: %v", tc.wire, err)
		}
		tc.want.CTL = tc.ctl
		if p.Seg != tc.want.Seg || p.AKF != tc.want.AKF || p.AID != tc.want.AID || p.Opcode != tc.want.Opcode || p.SeqZero != tc.want.SeqZero ||
			p.SegO != tc.want.SegO || p.SegN != tc.want.SegN || !bytes.Equal(p.Payload, tc.want.Payload) {
			t.Errorf("%s: %+v; want %+v", tc.wire, p, tc.want)
		}
		out, err := tc.want.AppendBinary(nil)
		if err != nil || hex.EncodeToString(out) != tc.wire {
			t.Errorf("encode %+v = %x, %v", tc.want, out, err)
		}
		c := p.Clone()
		if &c.Payload[0] == &p.Payload[0] {
			t.Error("Clone aliases")
		}
	}
	var p transport.LowerPDU
	for _, bad := range []struct {
		ctl  bool
		wire string
		err  error
	}{
		{false, "", transport.ErrShort},
		{false, "80", transport.ErrShort},
		{false, "00010203", transport.ErrShort}, // unsegmented access < 5 octets of payload
		{false, "8026ac21" + "00", nil},
		{false, "802603e1" + "00", transport.ErrMalformed}, // SegO 31 > SegN 1
		{true, "80a6ac0100", transport.ErrMalformed},       // RFU bit in segmented control
		{false, "00" + "000102030405060708090a0b0c0d0e0f", transport.ErrLong},
		{true, "01" + "000102030405060708090a0b", transport.ErrLong},
	} {
		if _, err := p.Decode(unhex(bad.wire), bad.ctl); err != bad.err {
			t.Errorf("%s: %v; want %v", bad.wire, err, bad.err)
		}
	}
	if _, err := (&transport.LowerPDU{AID: 0x40, Payload: make([]byte, 5)}).AppendBinary(nil); !errors.Is(err, transport.ErrRange) {
		t.Errorf("AID 0x40: %v", err)
	}
}

func TestControlMessages(t *testing.T) {
	for _, tc := range []struct {
		op     uint8
		params string
		msg    transport.ControlMessage
	}{
		{transport.OpSegmentAck, "a6ac00000002", &transport.SegmentAck{OBO: true, SeqZero: 0x9ab, BlockAck: 2}},
		{transport.OpFriendPoll, "01", &transport.FriendPoll{FSN: 1}},
		{transport.OpFriendUpdate, "001234567800", &transport.FriendUpdate{IVIndex: 0x12345678}},
		{transport.OpFriendRequest, "4b50057e400000010000", &transport.FriendRequest{Criteria: 0x4b, ReceiveDelay: 0x50, PollTimeout: 0x057e40, NumElements: 1}},
		{transport.OpFriendOffer, "320308ba072f", &transport.FriendOffer{ReceiveWindow: 0x32, QueueSize: 3, SubscriptionListSize: 8, RSSI: -70, FriendCounter: 0x072f}},
		{transport.OpFriendClear, "12010005", &transport.FriendClear{LPNAddress: 0x1201, LPNCounter: 5}},
		{transport.OpFriendClearConfirm, "12010005", &transport.FriendClearConfirm{LPNAddress: 0x1201, LPNCounter: 5}},
		{transport.OpFriendSubscriptionListAdd, "07c000c001", &transport.FriendSubscriptionList{TransactionNumber: 7, Addresses: unhex("c000c001")}},
		{transport.OpFriendSubscriptionListRemove, "07c000", &transport.FriendSubscriptionList{Remove: true, TransactionNumber: 7, Addresses: unhex("c000")}},
		{transport.OpFriendSubscriptionListConfirm, "07", &transport.FriendSubscriptionListConfirm{TransactionNumber: 7}},
		{transport.OpHeartbeat, "050003", &transport.Heartbeat{InitTTL: 5, Features: 3}},
	} {
		var set transport.ControlSet
		m, err := set.Decode(tc.op, unhex(tc.params))
		if err != nil {
			t.Fatalf("%s %s: %v", transport.OpcodeName(tc.op), tc.params, err)
		}
		if m.Opcode() != tc.op {
			t.Errorf("opcode %d; want %d", m.Opcode(), tc.op)
		}
		a, _ := m.AppendBinary(nil)
		b, err := tc.msg.AppendBinary(nil)
		if err != nil || hex.EncodeToString(a) != tc.params || hex.EncodeToString(b) != tc.params || tc.msg.EncodedLen() != len(b) {
			t.Errorf("%s: decoded->%x, want->%x (%v)", transport.OpcodeName(tc.op), a, b, err)
		}
	}
	var set transport.ControlSet
	if _, err := set.Decode(0x0b, nil); err != transport.ErrOpcode {
		t.Errorf("directed opcode: %v", err)
	}
	if _, err := set.Decode(transport.OpFriendPoll, unhex("02")); err != transport.ErrMalformed {
		t.Errorf("FSN 2: %v", err)
	}
	if transport.OpcodeName(0x7f) != "RFU" || transport.OpcodeName(3) != "Friend Request" {
		t.Error("OpcodeName")
	}
}

func TestSeqAuth(t *testing.T) {
	iv := uint32(0x12345678)
	for _, seq := range []uint32{0x3129ab, 0x3129ac, 0x3129ad, 0x3129ab + 0x1fff} {
		if got := transport.SeqAuth(iv, seq, 0x09ab); got != uint64(iv)<<24|0x3129ab {
			t.Errorf("SeqAuth(%#x) = %#x", seq, got)
		}
	}
	if got := transport.SeqAuth(iv, 0x3129ab+0x2000, 0x09ab); got != uint64(iv)<<24|(0x3129ab+0x2000) {
		t.Errorf("SeqAuth after 8192 = %#x", got)
	}
}

func TestSegmenter(t *testing.T) {
	s := transport.Segmenter{SeqZero: 0x09ab, PDU: msg6UTP}
	if s.SegN() != 1 || !s.Valid() {
		t.Fatal("SegN")
	}
	for i := uint8(0); i <= s.SegN(); i++ {
		b, err := s.AppendSegment(nil, i)
		if err != nil || !bytes.Equal(b, msg6Seg[i]) {
			t.Fatalf("segment %d = %x, %v", i, b, err)
		}
	}
	if s.Ack(&transport.SegmentAck{SeqZero: 0x09ac, BlockAck: 3}) || s.Unacked() != 3 {
		t.Fatal("ack for another SeqZero applied")
	}
	if s.Ack(&transport.SegmentAck{SeqZero: 0x09ab, BlockAck: 2}) || s.Unacked() != 1 {
		t.Fatal("partial ack")
	}
	if s.Ack(&transport.SegmentAck{SeqZero: 0x09ab, BlockAck: 4}) {
		t.Fatal("ack of a segment that does not exist")
	}
	if !s.Ack(&transport.SegmentAck{SeqZero: 0x09ab, BlockAck: 1}) || !s.Done() {
		t.Fatal("complete ack")
	}
	if _, err := s.AppendSegment(nil, 2); err == nil {
		t.Fatal("segment 2 of 2")
	}
	big := transport.Segmenter{PDU: make([]byte, transport.MaxAccessPDULen+1)}
	if big.Valid() {
		t.Fatal("33 segments valid")
	}
	if n := transport.SegmentCount(17, true); n != 3 {
		t.Fatalf("control segments %d", n)
	}
}

func decodeSeg(t *testing.T, b []byte) *transport.LowerPDU {
	t.Helper()
	var p transport.LowerPDU
	if _, err := p.Decode(b, false); err != nil {
		t.Fatal(err)
	}
	return &p
}

func TestReassembler(t *testing.T) {
	rpl := transport.NewReplayList(transport.ReplayConfig{Size: 2})
	r := transport.NewReassembler(transport.ReassemblyConfig{MaxMessages: 1, Replay: rpl})
	var msg transport.Reassembled
	var ack transport.AckOut
	rx := transport.RxInfo{Now: ms(0), SRC: 0x0003, DST: 0x1201, IVIndex: 0x12345678, SEQ: 0x3129ac, TTL: 4}
	fl, err := r.Receive(&rx, decodeSeg(t, msg6Seg[1]), &msg, &ack)
	if err != nil || fl != 0 {
		t.Fatalf("segment 1: %d %v", fl, err)
	}
	if d, ok := r.NextDeadline(); !ok || !d.Equal(ms(350)) {
		t.Fatalf("deadline %v %v", d, ok)
	}
	if acks := r.Tick(ms(349), nil); len(acks) != 0 {
		t.Fatal("early ack")
	}
	acks := r.Tick(ms(350), nil)
	if len(acks) != 1 || acks[0].Ack != (transport.SegmentAck{SeqZero: 0x9ab, BlockAck: 2}) || acks[0].From != 0x1201 || acks[0].To != 0x0003 {
		t.Fatalf("acks %+v", acks)
	}
	// Another source while busy: BlockAck 0.
	other := rx
	other.SRC = 0x0005
	if fl, err := r.Receive(&other, decodeSeg(t, msg6Seg[0]), &msg, &ack); err != transport.ErrBusy || fl != transport.SendAck || ack.Ack.BlockAck != 0 {
		t.Fatalf("busy: %d %v %+v", fl, err, ack)
	}
	// An inconsistent segment of the same message.
	bad := decodeSeg(t, msg6Seg[0])
	bad.SegN = 2
	if _, err := r.Receive(&rx, bad, &msg, &ack); err != transport.ErrMalformed {
		t.Fatalf("inconsistent: %v", err)
	}
	rx.SEQ, rx.Now = 0x3129ad, ms(400)
	fl, err = r.Receive(&rx, decodeSeg(t, msg6Seg[0]), &msg, &ack)
	if err != nil || fl != transport.Complete|transport.SendAck || !bytes.Equal(msg.PDU, msg6UTP) || ack.Ack.BlockAck != 3 {
		t.Fatalf("complete: %d %v %x %+v", fl, err, msg.PDU, ack)
	}
	if r.InProgress() != 0 || r.Completed != 1 {
		t.Fatal("counters")
	}
	// A late duplicate is acked again, not delivered.
	if fl, err := r.Receive(&rx, decodeSeg(t, msg6Seg[0]), &msg, &ack); err != nil || fl != transport.SendAck {
		t.Fatalf("late: %d %v", fl, err)
	}
	// Incomplete timeout.
	rx2 := transport.RxInfo{Now: ms(1000), SRC: 0x0007, DST: 0xc000, IVIndex: 0x12345678, SEQ: 0x100}
	seg := transport.Segmenter{SeqZero: 0x100, PDU: msg6UTP}
	s0 := seg.Segment(0)
	if fl, err := r.Receive(&rx2, &s0, &msg, &ack); err != nil || fl != 0 {
		t.Fatalf("group seg: %d %v", fl, err)
	}
	if acks := r.Tick(ms(5000), nil); len(acks) != 0 {
		t.Fatal("ack to a group address")
	}
	r.Tick(ms(11000), nil)
	if r.InProgress() != 0 || r.Timeouts != 1 {
		t.Fatalf("timeout: %d %d", r.InProgress(), r.Timeouts)
	}
	// Older message from the same source than the one in progress: stale.
	rx3 := transport.RxInfo{Now: ms(20000), SRC: 0x0007, DST: 0xc000, IVIndex: 0x12345678, SEQ: 0x200}
	seg.SeqZero = 0x200
	s0 = seg.Segment(0)
	r.Receive(&rx3, &s0, &msg, &ack)
	rx3.SEQ = 0x150
	seg.SeqZero = 0x150
	s0 = seg.Segment(0)
	if _, err := r.Receive(&rx3, &s0, &msg, &ack); err != transport.ErrStale {
		t.Fatalf("stale: %v", err)
	}
	// Unsegmented input.
	if _, err := r.Receive(&rx3, &transport.LowerPDU{}, &msg, &ack); err != transport.ErrNotSegmented {
		t.Fatal(err)
	}
}

func TestReplayList(t *testing.T) {
	r := transport.NewReplayList(transport.ReplayConfig{Size: 2})
	if !r.Accept(1, 10) || r.Accept(1, 10) || r.Accept(1, 9) || !r.Accept(1, 11) {
		t.Fatal("ordering")
	}
	if !r.Accept(2, 5) || r.Accept(3, 5) || r.Check(3, 100) {
		t.Fatal("full list must reject new sources")
	}
	if r.Check(0x8001, 1) || r.Check(0, 1) {
		t.Fatal("non-unicast source")
	}
	if v, ok := r.Get(1); !ok || v != 11 || r.Len() != 2 {
		t.Fatal("Get")
	}
	r.Accept(2, 2<<24|5)
	r.DropBefore(1)
	if _, ok := r.Get(1); ok || r.Len() != 1 {
		t.Fatal("DropBefore")
	}
	r.Reset()
	if r.Len() != 0 {
		t.Fatal("Reset")
	}
}

func TestUpperTransport(t *testing.T) {
	dk := transport.NewDevKey(devKey)
	m := transport.AccessMeta{SEQ: 0x3129ab, SRC: 0x0003, DST: 0x1201, IVIndex: 0x12345678}
	out, err := dk.Seal(nil, &m, msg6App)
	if err != nil || !bytes.Equal(out, msg6UTP) {
		t.Fatalf("seal = %x, %v", out, err)
	}
	back, err := dk.Open(nil, &m, out)
	if err != nil || !bytes.Equal(back, msg6App) {
		t.Fatalf("open = %x, %v", back, err)
	}
	m.SRC = 4
	if _, err := dk.Open(nil, &m, out); err != transport.ErrAuth {
		t.Fatalf("wrong nonce: %v", err)
	}
	// Message #22: application key, virtual address.
	ak := transport.NewAppKey(appKey)
	if ak.AID != 0x26 || !ak.AKF() {
		t.Fatalf("AID %#x", ak.AID)
	}
	l := transport.NewLabel(label)
	if l.Address != 0xb529 {
		t.Fatalf("virtual address %#x", l.Address)
	}
	vm := transport.AccessMeta{SEQ: 0x07080b, SRC: 0x1234, DST: 0xb529, IVIndex: 0x12345677, Label: &l.UUID}
	out, err = ak.Seal(nil, &vm, unhex("d50a0048656c6c6f"))
	if err != nil || hex.EncodeToString(out) != "3871b904d431526316ca48a0" {
		t.Fatalf("msg22 = %x, %v", out, err)
	}
	vm.Label = nil
	decoy := transport.NewLabel(key16("00000000000000000000000000000001"))
	decoy.Address = 0xb529 // same address, other label
	back, i, err := ak.OpenVirtual(nil, &vm, out, []transport.Label{decoy, l})
	if err != nil || i != 1 || string(back) != "\xd5\x0a\x00Hello" {
		t.Fatalf("OpenVirtual = %x %d %v", back, i, err)
	}
}

func TestOpenAny(t *testing.T) {
	keys := []transport.AccessKey{transport.NewAppKey(key16("00000000000000000000000000000001")), transport.NewDevKey(devKey), transport.NewAppKey(appKey)}
	m := transport.AccessMeta{SEQ: 0x3129ab, SRC: 0x0003, DST: 0x1201, IVIndex: 0x12345678}
	i, out, err := transport.OpenAny(nil, &m, msg6UTP, false, 0, keys, nil)
	if err != nil || i != 1 || !bytes.Equal(out, msg6App) {
		t.Fatalf("device key: %d %x %v", i, out, err)
	}
	vm := transport.AccessMeta{SEQ: 0x07080b, SRC: 0x1234, DST: 0xb529, IVIndex: 0x12345677}
	i, out, err = transport.OpenAny(nil, &vm, unhex("3871b904d431526316ca48a0"), true, 0x26, keys, []transport.Label{transport.NewLabel(label)})
	if err != nil || i != 2 || string(out) != "\xd5\x0a\x00Hello" {
		t.Fatalf("app key, virtual: %d %x %v", i, out, err)
	}
	if _, _, err := transport.OpenAny(nil, &vm, unhex("3871b904d431526316ca48a0"), true, 0x25, keys, nil); err != transport.ErrAuth {
		t.Fatal("wrong AID accepted")
	}
	// OpenAnyLabel names the label among several with the same address.
	decoy := transport.NewLabel(key16("00000000000000000000000000000001"))
	decoy.Address = 0xb529
	labels := []transport.Label{decoy, transport.NewLabel(label)}
	k, li, out, err := transport.OpenAnyLabel(nil, &vm, unhex("3871b904d431526316ca48a0"), true, 0x26, keys, labels)
	if err != nil || k != 2 || li != 1 || string(out) != "\xd5\x0a\x00Hello" {
		t.Fatalf("OpenAnyLabel: key %d label %d %x %v", k, li, out, err)
	}
	if _, li, _, err := transport.OpenAnyLabel(nil, &vm, unhex("3871b904d431526316ca48a0"), true, 0x26, keys, labels[:1]); err != transport.ErrAuth || li != -1 {
		t.Fatalf("decoy label accepted: %d %v", li, err)
	}
	if _, li, _, err := transport.OpenAnyLabel(nil, &m, msg6UTP, false, 0, keys, labels); err != nil || li != -1 {
		t.Fatalf("unicast: label %d %v", li, err)
	}
}
