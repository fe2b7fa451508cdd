package transport_test

import (
	"testing"

	"github.com/edgekit/edgekit/blemesh/transport"
)

func TestSenderUnicast(t *testing.T) {
	seg := transport.Segmenter{SeqZero: 0x9ab, PDU: make([]byte, 30)} // 3 segments
	x := transport.NewSender(transport.SARConfig{}, seg, true, 4, ms(0))
	if m := x.Due(ms(0)); m != 7 {
		t.Fatalf("first burst %b", m)
	}
	// Interval 200 ms + 4 × 50 ms.
	if x.Deadline() != ms(400) || x.Due(ms(399)) != 0 {
		t.Fatal("deadline")
	}
	if st := x.OnAck(&transport.SegmentAck{SeqZero: 0x9ab, BlockAck: 5}, ms(300)); st != transport.Sending || x.Deadline() != ms(700) {
		t.Fatalf("progress: %v %v", st, x.Deadline())
	}
	if m := x.Due(ms(700)); m != 2 {
		t.Fatalf("retransmission %b", m)
	}
	if st := x.OnAck(&transport.SegmentAck{SeqZero: 0x9ab, BlockAck: 7}, ms(800)); st != transport.Delivered {
		t.Fatalf("delivered: %v", st)
	}
	// No acknowledgment at all: two retransmissions, then failure.
	x = transport.NewSender(transport.SARConfig{}, transport.Segmenter{SeqZero: 1, PDU: make([]byte, 20)}, true, 0, ms(0))
	x.Due(ms(0))
	if x.Due(ms(200)) != 3 || x.Due(ms(400)) != 3 || x.Due(ms(600)) != 0 || x.State() != transport.Failed {
		t.Fatalf("retries: %v", x.State())
	}
	// BlockAck 0 cancels.
	x = transport.NewSender(transport.SARConfig{}, transport.Segmenter{SeqZero: 1, PDU: make([]byte, 20)}, true, 0, ms(0))
	x.Due(ms(0))
	if x.OnAck(&transport.SegmentAck{SeqZero: 1}, ms(10)) != transport.Failed {
		t.Fatal("cancel")
	}
}

func TestSenderMulticast(t *testing.T) {
	x := transport.NewSender(transport.SARConfig{MulticastRetransmissions: 1}, transport.Segmenter{PDU: make([]byte, 20)}, false, 3, ms(0))
	if x.Due(ms(0)) != 3 || x.Due(ms(100)) != 3 || x.Due(ms(200)) != 0 || x.State() != transport.Delivered {
		t.Fatalf("multicast: %v", x.State())
	}
}
