package transport

import "time"

// SAR transmitter defaults (Mesh Protocol 1.1 §3.5.3.3, SAR Transmitter
// state defaults).
const (
	DefaultSegmentInterval          = 20 * time.Millisecond
	DefaultUnicastRetransmissions   = 2
	DefaultUnicastNoProgress        = 2
	DefaultUnicastInterval          = 200 * time.Millisecond
	DefaultUnicastIntervalIncrement = 50 * time.Millisecond
	DefaultMulticastRetransmissions = 2
	DefaultMulticastInterval        = 100 * time.Millisecond
)

// SARConfig is the SAR Transmitter state. The zero value means the
// specification's defaults; negative retransmission counts mean 0.
type SARConfig struct {
	// SegmentInterval is the pause between two segments of one burst; the
	// caller paces the segments Due returns with it.
	SegmentInterval time.Duration
	// UnicastRetransmissions is how many times unacknowledged segments are
	// retransmitted to a unicast destination; UnicastNoProgress how many
	// retransmissions in a row may bring no new acknowledgment.
	UnicastRetransmissions, UnicastNoProgress int
	// UnicastInterval (+ UnicastIntervalIncrement × TTL when TTL > 0)
	// separates retransmission bursts to a unicast destination.
	UnicastInterval, UnicastIntervalIncrement time.Duration
	// MulticastRetransmissions and MulticastInterval: a message to a group
	// or virtual address is sent 1 + MulticastRetransmissions times.
	MulticastRetransmissions int
	MulticastInterval        time.Duration
}

func (c *SARConfig) norm() {
	if c.SegmentInterval == 0 {
		c.SegmentInterval = DefaultSegmentInterval
	}
	if c.UnicastRetransmissions == 0 {
		c.UnicastRetransmissions = DefaultUnicastRetransmissions
	}
	if c.UnicastNoProgress == 0 {
		c.UnicastNoProgress = DefaultUnicastNoProgress
	}
	if c.UnicastInterval == 0 {
		c.UnicastInterval = DefaultUnicastInterval
	}
	if c.UnicastIntervalIncrement == 0 {
		c.UnicastIntervalIncrement = DefaultUnicastIntervalIncrement
	}
	if c.MulticastRetransmissions == 0 {
		c.MulticastRetransmissions = DefaultMulticastRetransmissions
	}
	if c.MulticastInterval == 0 {
		c.MulticastInterval = DefaultMulticastInterval
	}
	c.UnicastRetransmissions = max(c.UnicastRetransmissions, 0)
	c.UnicastNoProgress = max(c.UnicastNoProgress, 0)
	c.MulticastRetransmissions = max(c.MulticastRetransmissions, 0)
}

// SendState is the outcome of a Sender.
type SendState uint8

// Sender states.
const (
	Sending   SendState = iota
	Delivered           // every segment acknowledged (unicast) or all bursts sent (multicast)
	Failed              // retransmissions exhausted, or the receiver cancelled (BlockAck 0)
)

// Sender drives the transmission of one segmented message (Mesh Protocol
// 1.1 §3.5.3.3): which segments to send when, retransmissions and
// acknowledgments. It holds no timer: call Due with the current time at or
// after Deadline. Not safe for concurrent use.
type Sender struct {
	Seg        Segmenter
	cfg        SARConfig
	unicast    bool
	ttl        uint8
	state      SendState
	first      bool
	next       time.Time
	retries    int
	noProgress int
	lastUnack  uint32
}

// NewSender prepares the transmission of s to a unicast (acknowledged) or
// group/virtual destination, with the TTL of its network PDUs.
func NewSender(cfg SARConfig, s Segmenter, unicast bool, ttl uint8, now time.Time) Sender {
	cfg.norm()
	x := Sender{Seg: s, cfg: cfg, unicast: unicast, ttl: ttl, first: true, next: now}
	if unicast {
		x.retries, x.noProgress = cfg.UnicastRetransmissions, cfg.UnicastNoProgress
	} else {
		x.retries = cfg.MulticastRetransmissions
	}
	x.lastUnack = s.Unacked()
	return x
}

// State returns the sender's state.
func (x *Sender) State() SendState { return x.state }

// Deadline returns when Due next has segments to send.
func (x *Sender) Deadline() time.Time { return x.next }

func (x *Sender) interval() time.Duration {
	if !x.unicast {
		return x.cfg.MulticastInterval
	}
	d := x.cfg.UnicastInterval
	if x.ttl > 0 {
		d += time.Duration(x.ttl) * x.cfg.UnicastIntervalIncrement
	}
	return d
}

// Due returns the bit field of segments to transmit now (0 when nothing is
// due) and updates the retransmission budget. The caller sends them in
// order, SegmentInterval apart.
func (x *Sender) Due(now time.Time) uint32 {
	if x.state != Sending || now.Before(x.next) {
		return 0
	}
	pending := x.Seg.Unacked()
	if x.first {
		x.first = false
		x.next = now.Add(x.interval())
		return x.Seg.all()
	}
	if x.retries <= 0 || (x.unicast && x.noProgress <= 0) {
		if x.unicast {
			x.state = Failed
		} else {
			x.state = Delivered
		}
		return 0
	}
	x.retries--
	if x.unicast {
		if pending == x.lastUnack {
			x.noProgress--
		}
		x.lastUnack = pending
	} else {
		pending = x.Seg.all()
	}
	x.next = now.Add(x.interval())
	return pending
}

// OnAck applies a Segment Acknowledgment for this message and returns the
// new state. Progress restores the no-progress budget and restarts the
// retransmission timer.
func (x *Sender) OnAck(a *SegmentAck, now time.Time) SendState {
	if x.state != Sending || !x.unicast || a.SeqZero != x.Seg.SeqZero {
		return x.state
	}
	if a.BlockAck == 0 {
		x.state = Failed
		return x.state
	}
	before := x.Seg.Unacked()
	if x.Seg.Ack(a) {
		x.state = Delivered
		return x.state
	}
	if x.Seg.Unacked() != before {
		x.noProgress = x.cfg.UnicastNoProgress
		x.lastUnack = x.Seg.Unacked()
		x.next = now.Add(x.interval())
	}
	return x.state
}
