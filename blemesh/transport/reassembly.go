package transport

import (
	"errors"
	"time"
)

// Reassembly defaults (Mesh Protocol 1.1 §3.5.3.4; Mesh Profile 1.0.1
// §3.5.3.4).
const (
	DefaultMaxMessages       = 4
	DefaultIncompleteTimeout = 10 * time.Second
	DefaultAckDelay          = 150 * time.Millisecond
	DefaultAckPerHop         = 50 * time.Millisecond
	DefaultCompletedMemory   = 8
	maxMessagesLimit         = 64
)

// Reassembly errors.
var (
	// ErrBusy: no free reassembly context. For a unicast destination the
	// returned ack has BlockAck 0, which tells the sender to give up.
	ErrBusy = errors.New("blemesh/transport: no free reassembly context")
	// ErrStale: a segment of a message older than the one being
	// reassembled from the same source; it is ignored.
	ErrStale = errors.New("blemesh/transport: segment of an older message")
	// ErrReplay: a new segmented message whose SeqAuth the replay protection
	// list rejects.
	ErrReplay = errors.New("blemesh/transport: replayed message")
	// ErrNotSegmented: Receive was given an unsegmented PDU.
	ErrNotSegmented = errors.New("blemesh/transport: PDU is not segmented")
)

// ReassemblyConfig bounds a Reassembler. The zero value is usable: 4
// concurrent messages of up to 384 octets, a 10 s incomplete timer and the
// 150 ms + 50 ms × TTL acknowledgment timer.
type ReassemblyConfig struct {
	// MaxMessages is the number of messages reassembled at once (1..64).
	MaxMessages int
	// MaxPDULen is the largest upper transport PDU accepted (1..384).
	MaxPDULen int
	// IncompleteTimeout discards a message that received no segment for
	// this long.
	IncompleteTimeout time.Duration
	// AckDelay and AckPerHop set the acknowledgment timer of a message to a
	// unicast address: AckDelay + AckPerHop × TTL after its first segment.
	AckDelay, AckPerHop time.Duration
	// CompletedMemory is how many completed messages are remembered, so that
	// their late segments are acknowledged again and not delivered twice.
	CompletedMemory int
	// Replay, when set, is consulted with the SeqAuth of every new
	// segmented message and updated when the message completes.
	Replay *ReplayList
}

// RxInfo describes a received segment's network context.
type RxInfo struct {
	Now     time.Time
	SRC     uint16
	DST     uint16
	IVIndex uint32
	SEQ     uint32
	TTL     uint8
	// OBO marks a segment received by a Friend for one of its Low Power
	// Nodes: acknowledgments carry OBO = 1.
	OBO bool
}

// Reassembled is a completed message. PDU aliases the reassembler's buffer
// and is valid until the next call to Receive.
type Reassembled struct {
	SRC, DST uint16
	SeqAuth  uint64
	CTL      bool
	AKF      bool
	AID      uint8
	Opcode   uint8
	SZMIC    bool
	PDU      []byte
}

// AckOut is a Segment Acknowledgment to send: from the message's
// destination (From) to its source (To).
type AckOut struct {
	From, To uint16
	TTL      uint8 // of the segment that armed the timer, for logging
	Ack      SegmentAck
}

// Receive flags.
const (
	Complete = 1 << iota // a message completed: *msg is filled
	SendAck              // *ack must be sent now
)

type rxCtx struct {
	used       bool
	src, dst   uint16
	seqAuth    uint64
	ctl, akf   bool
	szmic, obo bool
	aid        uint8
	opcode     uint8
	segN       uint8
	ttl        uint8
	got        uint32
	total      int
	last       time.Time
	ackAt      time.Time
	ackPending bool
	buf        []byte
}

type doneMsg struct {
	src, dst uint16
	seqAuth  uint64
	block    uint32
	obo      bool
}

// Reassembler reassembles segmented messages (Mesh Protocol 1.1 §3.5.3).
// Its memory is allocated once by NewReassembler and bounded by the config;
// Receive and Tick do not allocate and start no timers: the caller passes
// the time and calls Tick at (or after) NextDeadline. It is not safe for
// concurrent use.
type Reassembler struct {
	cfg   ReassemblyConfig
	ctx   []rxCtx
	done  []doneMsg
	dhead int
	// Stats
	Completed, Timeouts, Busy, Dropped uint64
}

// NewReassembler allocates a reassembler.
func NewReassembler(cfg ReassemblyConfig) *Reassembler {
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = DefaultMaxMessages
	}
	cfg.MaxMessages = min(cfg.MaxMessages, maxMessagesLimit)
	if cfg.MaxPDULen <= 0 || cfg.MaxPDULen > MaxAccessPDULen {
		cfg.MaxPDULen = MaxAccessPDULen
	}
	if cfg.IncompleteTimeout <= 0 {
		cfg.IncompleteTimeout = DefaultIncompleteTimeout
	}
	if cfg.AckDelay <= 0 {
		cfg.AckDelay = DefaultAckDelay
	}
	if cfg.AckPerHop <= 0 {
		cfg.AckPerHop = DefaultAckPerHop
	}
	if cfg.CompletedMemory <= 0 {
		cfg.CompletedMemory = DefaultCompletedMemory
	}
	r := &Reassembler{cfg: cfg, ctx: make([]rxCtx, cfg.MaxMessages), done: make([]doneMsg, cfg.CompletedMemory)}
	buf := make([]byte, cfg.MaxMessages*cfg.MaxPDULen)
	for i := range r.ctx {
		r.ctx[i].buf = buf[i*cfg.MaxPDULen : (i+1)*cfg.MaxPDULen : (i+1)*cfg.MaxPDULen]
	}
	return r
}

func isUnicast(a uint16) bool { return a != 0 && a&0x8000 == 0 }

func allBits(segN uint8) uint32 {
	if segN >= 31 {
		return 0xffffffff
	}
	return 1<<(segN+1) - 1
}

// Receive processes one segment. It returns Complete when the message is
// whole (msg is filled) and SendAck when ack should be sent now (on
// completion, for a late segment of a completed message, or with BlockAck 0
// when busy). Acknowledgments are only sent for unicast destinations.
func (r *Reassembler) Receive(rx *RxInfo, p *LowerPDU, msg *Reassembled, ack *AckOut) (flags int, err error) {
	if !p.Seg {
		return 0, ErrNotSegmented
	}
	size := MaxSegAccessLen
	if p.CTL {
		size = MaxSegControlLen
	}
	if int(p.SegN)*size+1 > r.cfg.MaxPDULen || p.SegO > p.SegN {
		r.Dropped++
		return 0, ErrLong
	}
	seqAuth := SeqAuth(rx.IVIndex, rx.SEQ, p.SeqZero)
	unicast := isUnicast(rx.DST)
	// A late segment of a message already delivered: acknowledge again.
	for i := range r.done {
		d := &r.done[i]
		if d.src == rx.SRC && d.seqAuth == seqAuth && d.src != 0 {
			return setAck(ack, rx, p, unicast, d.block, d.obo), nil
		}
	}
	var c *rxCtx
	for i := range r.ctx {
		x := &r.ctx[i]
		if !x.used || x.src != rx.SRC {
			continue
		}
		if rx.Now.Sub(x.last) >= r.cfg.IncompleteTimeout {
			x.used = false
			r.Timeouts++
			continue
		}
		switch {
		case seqAuth < x.seqAuth:
			r.Dropped++
			return 0, ErrStale
		case seqAuth > x.seqAuth:
			x.used = false // a newer message cancels the old one
		default:
			c = x
		}
		break
	}
	if c == nil {
		if r.cfg.Replay != nil && !r.cfg.Replay.Check(rx.SRC, seqAuth) {
			r.Dropped++
			return 0, ErrReplay
		}
		for i := range r.ctx {
			x := &r.ctx[i]
			if x.used && rx.Now.Sub(x.last) >= r.cfg.IncompleteTimeout {
				x.used = false
				r.Timeouts++
			}
			if !x.used && c == nil {
				c = x
			}
		}
		if c == nil {
			r.Busy++
			return setAck(ack, rx, p, unicast, 0, rx.OBO), ErrBusy
		}
		*c = rxCtx{used: true, src: rx.SRC, dst: rx.DST, seqAuth: seqAuth, ctl: p.CTL, akf: p.AKF, szmic: p.SZMIC,
			obo: rx.OBO, aid: p.AID, opcode: p.Opcode, segN: p.SegN, ttl: rx.TTL, buf: c.buf}
		if unicast {
			c.ackAt = rx.Now.Add(r.cfg.AckDelay + time.Duration(rx.TTL)*r.cfg.AckPerHop)
			c.ackPending = true
		}
	} else if c.segN != p.SegN || c.ctl != p.CTL || c.akf != p.AKF || c.aid != p.AID || c.opcode != p.Opcode || c.szmic != p.SZMIC || c.dst != rx.DST {
		r.Dropped++
		return 0, ErrMalformed
	}
	c.last = rx.Now
	off := int(p.SegO) * size
	if p.SegO < p.SegN {
		if len(p.Payload) != size {
			r.Dropped++
			return 0, ErrMalformed
		}
	} else {
		if len(p.Payload) == 0 || len(p.Payload) > size {
			r.Dropped++
			return 0, ErrMalformed
		}
		c.total = off + len(p.Payload)
		if c.total > len(c.buf) {
			r.Dropped++
			return 0, ErrLong
		}
	}
	bit := uint32(1) << p.SegO
	if c.got&bit == 0 {
		copy(c.buf[off:], p.Payload)
		c.got |= bit
	}
	if c.got != allBits(c.segN) {
		if unicast && !c.ackPending {
			c.ackAt = rx.Now.Add(r.cfg.AckDelay + time.Duration(rx.TTL)*r.cfg.AckPerHop)
			c.ackPending = true
		}
		return 0, nil
	}
	// Complete.
	c.used = false
	r.Completed++
	if r.cfg.Replay != nil {
		r.cfg.Replay.Accept(rx.SRC, seqAuth)
	}
	r.done[r.dhead] = doneMsg{src: c.src, dst: c.dst, seqAuth: seqAuth, block: c.got, obo: c.obo}
	r.dhead = (r.dhead + 1) % len(r.done)
	*msg = Reassembled{SRC: c.src, DST: c.dst, SeqAuth: seqAuth, CTL: c.ctl, AKF: c.akf, AID: c.aid, Opcode: c.opcode, SZMIC: c.szmic, PDU: c.buf[:c.total]}
	return Complete | setAck(ack, rx, p, unicast, c.got, c.obo), nil
}

func setAck(ack *AckOut, rx *RxInfo, p *LowerPDU, unicast bool, block uint32, obo bool) int {
	if !unicast {
		return 0
	}
	*ack = AckOut{From: rx.DST, To: rx.SRC, TTL: rx.TTL, Ack: SegmentAck{OBO: obo, SeqZero: p.SeqZero, BlockAck: block}}
	return SendAck
}

// Tick discards messages whose incomplete timer expired and appends the
// acknowledgments whose timer is due at now to acks.
func (r *Reassembler) Tick(now time.Time, acks []AckOut) []AckOut {
	for i := range r.ctx {
		c := &r.ctx[i]
		if !c.used {
			continue
		}
		if now.Sub(c.last) >= r.cfg.IncompleteTimeout {
			c.used = false
			r.Timeouts++
			continue
		}
		if c.ackPending && !now.Before(c.ackAt) {
			c.ackPending = false
			acks = append(acks, AckOut{From: c.dst, To: c.src, TTL: c.ttl,
				Ack: SegmentAck{OBO: c.obo, SeqZero: uint16(c.seqAuth & 0x1fff), BlockAck: c.got}})
		}
	}
	return acks
}

// NextDeadline returns the earliest time Tick has work to do.
func (r *Reassembler) NextDeadline() (time.Time, bool) {
	var t time.Time
	ok := false
	for i := range r.ctx {
		c := &r.ctx[i]
		if !c.used {
			continue
		}
		d := c.last.Add(r.cfg.IncompleteTimeout)
		if c.ackPending && c.ackAt.Before(d) {
			d = c.ackAt
		}
		if !ok || d.Before(t) {
			t, ok = d, true
		}
	}
	return t, ok
}

// InProgress returns the number of messages being reassembled.
func (r *Reassembler) InProgress() int {
	n := 0
	for i := range r.ctx {
		if r.ctx[i].used {
			n++
		}
	}
	return n
}
