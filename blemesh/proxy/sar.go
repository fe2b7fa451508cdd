package proxy

import "time"

// ATT MTU bounds. An ATT value carries at most MTU-3 octets (the ATT Write
// Command and Handle Value Notification headers), so a proxy PDU segment
// carries at most MTU-4 octets of message data (Mesh Protocol 1.1 §6.3.2).
const (
	MinATTMTU = 23  // the LE default and minimum ATT_MTU
	MaxATTMTU = 517 // the largest ATT_MTU (an attribute value is at most 512 octets)
)

// Defaults of [Config].
const (
	// DefaultMaxMessageSize bounds a reassembled message. The largest
	// message the mesh puts in a proxy PDU is a provisioning record
	// fragment; network PDUs are at most 29 octets and provisioning PDUs
	// other than records at most 65.
	DefaultMaxMessageSize = 256
	// DefaultTimeout is the proxy SAR timeout of Mesh Protocol 1.1 §6.3.2:
	// a segmented message must complete within 20 seconds.
	DefaultTimeout = 20 * time.Second
)

// SegmentDataLen returns the number of message octets one proxy PDU carries
// over a connection with the given ATT MTU, or 0 if mtu is out of range.
func SegmentDataLen(mtu int) int {
	if mtu < MinATTMTU || mtu > MaxATTMTU {
		return 0
	}
	return mtu - 4
}

// Segments returns how many proxy PDUs a message of n octets needs over a
// connection with the given ATT MTU, or 0 if mtu is out of range.
func Segments(mtu, n int) int {
	per := SegmentDataLen(mtu)
	if per == 0 {
		return 0
	}
	if n <= per {
		return 1
	}
	return (n + per - 1) / per
}

// Segmenter splits one message into proxy PDUs that each fit one ATT value
// (Mesh Protocol 1.1 §6.3.2). It holds the message slice (not a copy) until
// the last PDU is produced, allocates nothing, and is not safe for
// concurrent use.
type Segmenter struct {
	msg  []byte
	per  int
	off  int
	typ  Type
	sent bool
}

// NewSegmenter returns a Segmenter of msg for the given ATT MTU and message
// type. It fails with ErrMTU for an MTU outside [MinATTMTU, MaxATTMTU] and
// ErrMalformed for a Type above 0x3F.
func NewSegmenter(mtu int, typ Type, msg []byte) (Segmenter, error) {
	per := SegmentDataLen(mtu)
	if per == 0 {
		return Segmenter{}, ErrMTU
	}
	if typ > maxType {
		return Segmenter{}, ErrMalformed
	}
	return Segmenter{msg: msg, per: per, typ: typ}, nil
}

// Remaining returns how many PDUs Next will still produce.
func (s *Segmenter) Remaining() int {
	if s.per == 0 {
		return 0
	}
	left := len(s.msg) - s.off
	if left == 0 {
		if s.sent {
			return 0
		}
		return 1 // an empty message is one complete PDU
	}
	return (left + s.per - 1) / s.per
}

// Next appends the next proxy PDU (one ATT value) to dst and reports true,
// or returns dst unchanged and false when the whole message has been
// produced.
func (s *Segmenter) Next(dst []byte) ([]byte, bool) {
	if s.per == 0 || (s.sent && s.off >= len(s.msg)) {
		return dst, false
	}
	left := len(s.msg) - s.off
	n := left
	if n > s.per {
		n = s.per
	}
	var sar SAR
	switch {
	case !s.sent && n == left:
		sar = SARComplete
	case !s.sent:
		sar = SARFirst
	case n == left:
		sar = SARLast
	default:
		sar = SARContinuation
	}
	dst = append(dst, byte(sar)<<6|byte(s.typ))
	dst = append(dst, s.msg[s.off:s.off+n]...)
	s.off += n
	s.sent = true
	if s.off >= len(s.msg) {
		s.msg = nil // do not retain the caller's buffer
		s.off = 0
	}
	return dst, true
}

// Config configures a [Reassembler]. The zero value is the documented
// default for every field.
type Config struct {
	// MaxMessageSize bounds a reassembled message; 0 means
	// DefaultMaxMessageSize. A longer message fails with ErrTooLarge.
	MaxMessageSize int
	// Timeout bounds the time from a first segment to the last; 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// Reassembler rebuilds messages from the proxy PDUs received on one GATT
// connection (one direction). It owns one buffer of Config.MaxMessageSize
// octets, allocated by NewReassembler, and allocates nothing afterwards. It
// is not safe for concurrent use.
type Reassembler struct {
	buf      []byte
	timeout  time.Duration
	deadline time.Time
	typ      Type
	active   bool
}

// NewReassembler returns a Reassembler configured by cfg. It fails with
// ErrTooLarge for a negative MaxMessageSize or ErrTimeout for a negative
// Timeout.
func NewReassembler(cfg Config) (*Reassembler, error) {
	if cfg.MaxMessageSize < 0 {
		return nil, ErrTooLarge
	}
	if cfg.Timeout < 0 {
		return nil, ErrTimeout
	}
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Reassembler{buf: make([]byte, 0, cfg.MaxMessageSize), timeout: cfg.Timeout}, nil
}

// Reset drops a partly reassembled message.
func (r *Reassembler) Reset() {
	r.active = false
	r.buf = r.buf[:0]
}

// Pending reports whether a segmented message is being reassembled, and its
// deadline.
func (r *Reassembler) Pending() (deadline time.Time, ok bool) {
	return r.deadline, r.active
}

// Check returns ErrTimeout (and drops the partial message) when a segmented
// message has not completed by now; the caller must then disconnect. Call it
// when the deadline reported by Pending passes.
func (r *Reassembler) Check(now time.Time) error {
	if r.active && !now.Before(r.deadline) {
		r.Reset()
		return ErrTimeout
	}
	return nil
}

// Feed processes one received ATT value. When it completes a message it
// returns the message type, the message and done == true. A complete
// (unsegmented) message aliases value; a reassembled one aliases the
// Reassembler's buffer. Either is valid until the next call to Feed.
//
// Any error means the peer broke the proxy SAR rules (or timed out) and the
// connection must be closed (Mesh Protocol 1.1 §6.3.2); the partial message
// is dropped.
func (r *Reassembler) Feed(now time.Time, value []byte) (typ Type, msg []byte, done bool, err error) {
	if err := r.Check(now); err != nil {
		return 0, nil, false, err
	}
	var p PDU
	if _, err := p.Decode(value); err != nil {
		r.Reset()
		return 0, nil, false, err
	}
	switch p.SAR {
	case SARComplete:
		if r.active {
			r.Reset()
			return 0, nil, false, ErrUnexpectedSegment
		}
		if len(p.Data) > cap(r.buf) {
			return 0, nil, false, ErrTooLarge
		}
		return p.Type, p.Data, true, nil
	case SARFirst:
		if r.active {
			r.Reset()
			return 0, nil, false, ErrUnexpectedSegment
		}
		if len(p.Data) > cap(r.buf) {
			return 0, nil, false, ErrTooLarge
		}
		r.active = true
		r.typ = p.Type
		r.deadline = now.Add(r.timeout)
		r.buf = append(r.buf[:0], p.Data...)
		return 0, nil, false, nil
	default: // continuation or last
		if !r.active {
			return 0, nil, false, ErrUnexpectedSegment
		}
		if p.Type != r.typ {
			r.Reset()
			return 0, nil, false, ErrTypeMismatch
		}
		if len(r.buf)+len(p.Data) > cap(r.buf) {
			r.Reset()
			return 0, nil, false, ErrTooLarge
		}
		r.buf = append(r.buf, p.Data...)
		if p.SAR == SARContinuation {
			return 0, nil, false, nil
		}
		r.active = false
		msg = r.buf
		r.buf = r.buf[:0]
		return r.typ, msg, true, nil
	}
}
