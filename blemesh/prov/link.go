package prov

import (
	"errors"
	"time"
)

// Defaults of [LinkConfig].
const (
	// DefaultRetransmitInterval is the pause after a transaction's last
	// segment before all unacknowledged segments are sent again (Zephyr's
	// CONFIG_BT_MESH_PB_ADV_RETRANS_TIMEOUT default).
	DefaultRetransmitInterval = 500 * time.Millisecond
	// DefaultTransactionTimeout is the PB-ADV transaction timeout: a
	// transaction not acknowledged within 30 s closes the link with reason
	// Timeout (Mesh Protocol 1.1 §5.3.2).
	DefaultTransactionTimeout = 30 * time.Second
	// DefaultLinkOpenTimeout bounds link establishment (§5.3.2: the
	// provisioner retries Link Open for up to 60 s).
	DefaultLinkOpenTimeout = 60 * time.Second
	// DefaultIdleTimeout closes a link on which nothing was received for
	// 60 s, the provisioning protocol timeout (§5.4.4).
	DefaultIdleTimeout = 60 * time.Second
	// DefaultCloseCount is how many times Link Close is sent (§5.3.1.4.3:
	// at least three).
	DefaultCloseCount = 3
	// DefaultMaxPDULen bounds one provisioning PDU on the link.
	DefaultMaxPDULen = 128
	// DefaultQueueLen is how many provisioning PDUs may wait to be sent:
	// the most one side of the provisioning protocol can have outstanding
	// (an Invite whose ack was lost, then Start, Public Key and, with an
	// out-of-band public key, Confirmation).
	DefaultQueueLen = 4
)

// Errors of the PB-ADV link.
var (
	// ErrLinkState reports an operation that the link's state does not
	// allow (sending before it is open, opening twice).
	ErrLinkState = errors.New("blemesh/prov: operation not allowed in this link state")
	// ErrQueueFull reports that Config.QueueLen provisioning PDUs already
	// wait to be sent.
	ErrQueueFull = errors.New("blemesh/prov: link send queue full")
	// ErrTooLarge reports a provisioning PDU over the link's MaxPDULen (on
	// send or in a received Transaction Start).
	ErrTooLarge = errors.New("blemesh/prov: provisioning PDU too large")
	// ErrFCS reports a reassembled provisioning PDU whose FCS does not
	// match; it is discarded unacknowledged and the sender retries.
	ErrFCS = errors.New("blemesh/prov: FCS mismatch")
)

// LinkConfig configures a [Link]. The zero value means the documented
// defaults.
type LinkConfig struct {
	RetransmitInterval time.Duration // 0: DefaultRetransmitInterval
	TransactionTimeout time.Duration // 0: DefaultTransactionTimeout
	LinkOpenTimeout    time.Duration // 0: DefaultLinkOpenTimeout
	IdleTimeout        time.Duration // 0: DefaultIdleTimeout
	CloseCount         int           // 0: DefaultCloseCount
	MaxPDULen          int           // 0: DefaultMaxPDULen; at most MaxTransactionLen
	QueueLen           int           // 0: DefaultQueueLen
}

func (c *LinkConfig) fill() error {
	if c.RetransmitInterval < 0 || c.TransactionTimeout < 0 || c.LinkOpenTimeout < 0 ||
		c.IdleTimeout < 0 || c.CloseCount < 0 || c.QueueLen < 0 || c.MaxPDULen < 0 ||
		c.MaxPDULen > MaxTransactionLen {
		return ErrInvalidValue
	}
	if c.RetransmitInterval == 0 {
		c.RetransmitInterval = DefaultRetransmitInterval
	}
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = DefaultTransactionTimeout
	}
	if c.LinkOpenTimeout == 0 {
		c.LinkOpenTimeout = DefaultLinkOpenTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.CloseCount == 0 {
		c.CloseCount = DefaultCloseCount
	}
	if c.MaxPDULen == 0 {
		c.MaxPDULen = DefaultMaxPDULen
	}
	if c.QueueLen == 0 {
		c.QueueLen = DefaultQueueLen
	}
	return nil
}

// LinkStats are a Link's counters.
type LinkStats struct {
	Sent            uint64 // PB-ADV PDUs returned by Transmit
	Received        uint64 // PB-ADV PDUs of this link passed to Receive
	Malformed       uint64 // payloads that failed to decode or broke the segmentation rules
	FCSErrors       uint64 // reassembled PDUs discarded for a bad FCS
	Retransmissions uint64 // retransmission rounds of transactions
	Delivered       uint64 // provisioning PDUs reassembled and acknowledged
}

// LinkState is the state of a [Link].
type LinkState uint8

// Link states.
const (
	LinkIdle        LinkState = iota // device: waiting for Link Open
	LinkOpening                      // provisioner: sending Link Open, waiting for Link Ack
	LinkEstablished                  // transactions flow
	LinkClosing                      // sending Link Close
	LinkClosed                       // closed; see Link.CloseReason
)

var linkStateNames = [...]string{"idle", "opening", "established", "closing", "closed"}

// String returns the name of s.
func (s LinkState) String() string {
	if int(s) < len(linkStateNames) {
		return linkStateNames[s]
	}
	return "invalid"
}

// Link is one end of a PB-ADV provisioning link (Mesh Protocol 1.1 §5.2.1,
// §5.3): link establishment, generic provisioning transactions with
// segmentation, FCS, reassembly, acknowledgment and retransmission, and link
// release. It is sans-I/O: feed it the payloads of received AD structures of
// type 0x29 with [Link.Receive], hand it provisioning PDUs with [Link.Send],
// advertise what [Link.Transmit] returns, and call [Link.Tick] by
// [Link.Deadline]. Time comes only from the arguments.
//
// A Link owns its buffers (allocated by the constructor) and allocates
// nothing afterwards. It is not safe for concurrent use.
type Link struct {
	cfg         LinkConfig
	stats       LinkStats
	provisioner bool
	state       LinkState
	id          uint32
	uuid        [16]byte
	reason      CloseReason
	closeLeft   int
	lastRx      time.Time
	openStart   time.Time
	openDue     bool
	openNext    time.Time
	linkAckDue  uint8 // Link Acks to send: linkAckRepeat per Link Open received
	ackDue      uint8 // acknowledgments to send: one per segment of a completed transaction, at most maxAcks
	ackNum      uint8

	// Outgoing transactions: a queue of copies of provisioning PDUs.
	q       [][]byte
	qHead   int
	qLen    int
	txNum   uint8 // number of the transaction at the head of q (when txBusy)
	txNext  uint8 // number the next transaction will use
	txBusy  bool
	txStart time.Time
	txDue   uint64 // segments still to send in this round
	txRetry time.Time
	txRound uint8 // retransmission rounds of this transaction; rotates the segment order

	// Incoming transaction.
	rx      []byte
	rxNum   uint8 // transaction being reassembled or last completed
	rxNext  uint8 // number expected for the next new transaction
	rxState uint8 // rxNone, rxPartial, rxDone
	rxSegN  uint8
	rxGot   uint64
	rxLen   [MaxSegments]uint8 // lengths of continuations received before the start
	rxFCS   uint8
}

const (
	rxNone = iota
	rxPartial
	rxDone
)

// NewProvisionerLink returns the provisioner's end of a link with the given
// Link ID (choose it at random) to the device uuid. Call [Link.Open] to
// start it.
func NewProvisionerLink(cfg LinkConfig, linkID uint32, uuid [16]byte) (*Link, error) {
	l, err := newLink(cfg)
	if err != nil {
		return nil, err
	}
	l.provisioner = true
	l.id = linkID
	l.uuid = uuid
	l.txNext = 0x00 // provisioner transactions: 0x00-0x7F
	l.rxNext = 0x80
	return l, nil
}

// NewDeviceLink returns an unprovisioned device's end of PB-ADV; it waits
// (LinkIdle) for a Link Open addressed to uuid.
func NewDeviceLink(cfg LinkConfig, uuid [16]byte) (*Link, error) {
	l, err := newLink(cfg)
	if err != nil {
		return nil, err
	}
	l.uuid = uuid
	l.txNext = 0x80 // device transactions: 0x80-0xFF
	l.rxNext = 0x00
	return l, nil
}

func newLink(cfg LinkConfig) (*Link, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	l := &Link{cfg: cfg, q: make([][]byte, cfg.QueueLen)}
	mem := make([]byte, (cfg.QueueLen+1)*cfg.MaxPDULen)
	for i := range l.q {
		l.q[i] = mem[i*cfg.MaxPDULen : i*cfg.MaxPDULen : (i+1)*cfg.MaxPDULen]
	}
	l.rx = mem[cfg.QueueLen*cfg.MaxPDULen : cfg.QueueLen*cfg.MaxPDULen : len(mem)]
	return l, nil
}

// State returns the link state.
func (l *Link) State() LinkState { return l.state }

// Stats returns the link's counters (cumulative across Reset).
func (l *Link) Stats() LinkStats { return l.stats }

// ID returns the Link ID (0 for a device link not yet opened).
func (l *Link) ID() uint32 { return l.id }

// CloseReason returns why the link closed (valid in LinkClosing and
// LinkClosed).
func (l *Link) CloseReason() CloseReason { return l.reason }

// Pending returns how many provisioning PDUs are queued or unacknowledged.
func (l *Link) Pending() int { return l.qLen }

// Open starts link establishment on a provisioner link: Link Open is sent
// until Link Ack arrives or LinkOpenTimeout passes.
func (l *Link) Open(now time.Time) error {
	if !l.provisioner || l.state != LinkIdle {
		return ErrLinkState
	}
	l.state = LinkOpening
	l.openStart = now
	l.openDue = true
	l.openNext = now
	l.lastRx = now
	return nil
}

// Close starts releasing the link: queued PDUs are dropped and Link Close
// with reason is sent CloseCount times, after which the state is LinkClosed.
// Closing a link that is not open or opening closes it at once.
func (l *Link) Close(now time.Time, reason CloseReason) {
	l.dropTx()
	l.reason = reason
	if l.state == LinkEstablished || l.state == LinkOpening {
		l.state = LinkClosing
		l.closeLeft = l.cfg.CloseCount
		return
	}
	if l.state != LinkClosing {
		l.state = LinkClosed
	}
}

// Reset returns a closed (or idle) link to its initial state: a device link
// waits for a new Link Open, a provisioner link can be opened again with a
// new Link ID. Queued PDUs and reassembly state are dropped; buffers are
// kept.
func (l *Link) Reset(linkID uint32) {
	l.dropTx()
	l.state = LinkIdle
	l.reason = CloseSuccess
	l.closeLeft = 0
	l.rxState, l.rxGot, l.rxNum = rxNone, 0, 0
	if l.provisioner {
		l.id = linkID
		l.txNext, l.rxNext = 0x00, 0x80
	} else {
		l.id = 0
		l.txNext, l.rxNext = 0x80, 0x00
	}
}

func (l *Link) dropTx() {
	l.qLen, l.qHead = 0, 0
	l.txBusy = false
	l.txDue = 0
	l.openDue = false
	l.linkAckDue = 0
	l.ackDue = 0
}

// Send queues the provisioning PDU pdu (copied) as the next transaction. It
// fails with ErrLinkState unless the link is open, ErrTooLarge for a PDU over
// MaxPDULen and ErrQueueFull when QueueLen PDUs are already waiting.
func (l *Link) Send(now time.Time, pdu []byte) error {
	if l.state != LinkEstablished {
		return ErrLinkState
	}
	if len(pdu) == 0 || len(pdu) > l.cfg.MaxPDULen {
		return ErrTooLarge
	}
	if l.qLen == len(l.q) {
		return ErrQueueFull
	}
	i := (l.qHead + l.qLen) % len(l.q)
	l.q[i] = append(l.q[i][:0], pdu...)
	l.qLen++
	l.startTx(now)
	return nil
}

// startTx begins the transaction at the head of the queue if none is in
// flight.
func (l *Link) startTx(now time.Time) {
	if l.txBusy || l.qLen == 0 || l.state != LinkEstablished {
		return
	}
	l.txBusy = true
	l.txNum = l.txNext
	l.txNext = nextTxn(l.txNext)
	l.txStart = now
	l.txRound = 0
	l.txDue = segMask(Segments(len(l.q[l.qHead])))
}

// nextTxn increments a transaction number within its half of the range
// (0x00-0x7F for the provisioner, 0x80-0xFF for the device).
func nextTxn(n uint8) uint8 { return (n+1)&0x7f | n&0x80 }

func segMask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(n) - 1
}

// txAcked completes the transaction in flight and starts the next one.
func (l *Link) txAcked(now time.Time) {
	if !l.txBusy {
		return
	}
	l.txBusy = false
	l.txDue = 0
	l.qHead = (l.qHead + 1) % len(l.q)
	l.qLen--
	l.startTx(now)
}

// Receive processes the payload of one received PB-ADV AD structure (type
// 0x29, without its length and type octets). When it completes a
// provisioning PDU it returns it; the PDU aliases the link's buffer and is
// valid until the next call to Receive.
//
// PDUs of other links are ignored (nil, nil). A malformed PDU returns
// ErrMalformed (or ErrShort, ErrTooLarge, ErrFCS) and is otherwise ignored:
// the link stays usable.
func (l *Link) Receive(now time.Time, payload []byte) ([]byte, error) {
	l.tick(now)
	var p PBADV
	if _, err := p.Decode(payload); err != nil {
		l.stats.Malformed++
		return nil, err
	}
	switch l.state {
	case LinkIdle:
		if !l.provisioner && p.GPCF == GPCFBearerControl && p.Opcode == LinkOpen && p.DeviceUUID == l.uuid {
			l.id = p.LinkID
			l.stats.Received++
			l.state = LinkEstablished
			l.linkAckDue = linkAckRepeat
			l.lastRx = now
		}
		return nil, nil
	case LinkClosed:
		return nil, nil
	}
	if p.LinkID != l.id {
		return nil, nil
	}
	l.stats.Received++
	l.lastRx = now
	switch p.GPCF {
	case GPCFBearerControl:
		l.control(now, &p)
		return nil, nil
	case GPCFTransactionAck:
		if l.txBusy && p.TransactionNumber == l.txNum {
			l.txAcked(now)
		}
		return nil, nil
	}
	if l.state != LinkEstablished {
		return nil, nil
	}
	pdu, err := l.segment(now, &p)
	switch {
	case err == ErrFCS:
		l.stats.FCSErrors++
	case err != nil:
		l.stats.Malformed++
	case pdu != nil:
		l.stats.Delivered++
	}
	return pdu, err
}

func (l *Link) control(now time.Time, p *PBADV) {
	switch p.Opcode {
	case LinkOpen:
		// The provisioner missed our Link Ack: send it again.
		if !l.provisioner && l.state == LinkEstablished && p.DeviceUUID == l.uuid {
			l.linkAckDue = linkAckRepeat
		}
	case LinkAck:
		if l.provisioner && l.state == LinkOpening {
			l.state = LinkEstablished
			l.openDue = false
			l.startTx(now)
		}
	case LinkClose:
		l.dropTx()
		l.reason = p.Reason
		l.state = LinkClosed
	}
}

func (l *Link) segment(now time.Time, p *PBADV) ([]byte, error) {
	txn := p.TransactionNumber
	if txn&0x80 != l.rxNext&0x80 {
		return nil, nil // our own range: not the peer's transaction
	}
	switch {
	case txn == l.rxNum && l.rxState == rxDone:
		l.ack(txn) // retransmission of a completed transaction
		return nil, nil
	case txn == l.rxNum && l.rxState == rxPartial:
	case txn == l.rxNext:
		l.rxNum = txn
		l.rxState = rxPartial
		l.rxGot = 0
	default:
		return nil, nil
	}
	if p.GPCF == GPCFTransactionStart {
		if l.rxGot&1 != 0 {
			return nil, nil // duplicate
		}
		if int(p.TotalLength) > l.cfg.MaxPDULen {
			l.rxState, l.rxGot = rxNone, 0
			return nil, ErrTooLarge
		}
		// Continuations that came first must fit the announced length.
		for i := uint8(1); i < MaxSegments; i++ {
			if l.rxGot&(1<<i) != 0 && (i > p.SegN || int(l.rxLen[i]) != contLen(int(p.TotalLength), i)) {
				l.rxGot = 0
				return nil, ErrMalformed
			}
		}
		l.rx = l.rx[:p.TotalLength]
		copy(l.rx, p.Data)
		l.rxSegN = p.SegN
		l.rxFCS = p.FCS
		l.rxGot |= 1
	} else {
		i := p.SegmentIndex
		if l.rxGot&(1<<i) != 0 {
			return nil, nil // duplicate
		}
		off := StartDataMax + int(i-1)*ContinuationMax
		if l.rxGot&1 != 0 {
			if i > l.rxSegN || len(p.Data) != contLen(len(l.rx), i) {
				return nil, ErrMalformed
			}
		} else if off+len(p.Data) > cap(l.rx) {
			return nil, nil // cannot be part of a PDU we accept
		}
		copy(l.rx[off:cap(l.rx)], p.Data)
		l.rxLen[i] = uint8(len(p.Data))
		l.rxGot |= 1 << i
	}
	if l.rxGot&1 == 0 || l.rxGot != segMask(int(l.rxSegN)+1) {
		return nil, nil
	}
	if FCS(l.rx) != l.rxFCS {
		l.rxGot = 0 // take the retransmission afresh
		return nil, ErrFCS
	}
	l.rxState = rxDone
	l.rxNext = nextTxn(txn)
	l.ack(txn)
	return l.rx, nil
}

// linkAckRepeat is how many Link Acks answer one Link Open (Zephyr sends
// its Link Ack three times, as an advertisement with two retransmissions).
const linkAckRepeat = 2

// maxAcks bounds the acknowledgments queued for one transaction. Each
// received segment of a completed transaction earns one, so that a lost
// acknowledgment is repeated as often as the sender repeats segments.
const maxAcks = 3

func (l *Link) ack(txn uint8) {
	if l.ackNum != txn {
		l.ackDue = 0
	}
	l.ackNum = txn
	if l.ackDue < maxAcks {
		l.ackDue++
	}
}

// contLen returns the length of continuation segment i of a PDU of total
// octets (0 if there is no such segment).
func contLen(total int, i uint8) int {
	off := StartDataMax + int(i-1)*ContinuationMax
	n := total - off
	if n <= 0 {
		return 0
	}
	if n > ContinuationMax {
		n = ContinuationMax
	}
	return n
}

// Tick advances the link's timers to now: retransmission rounds, the
// transaction, link-open and idle timeouts. Transmit and Receive tick too.
func (l *Link) Tick(now time.Time) { l.tick(now) }

func (l *Link) tick(now time.Time) {
	switch l.state {
	case LinkOpening:
		if now.Sub(l.openStart) >= l.cfg.LinkOpenTimeout {
			l.dropTx()
			l.reason = CloseTimeout
			l.state = LinkClosed // nothing to close: the device never answered
			return
		}
		if !l.openDue && !now.Before(l.openNext) {
			l.openDue = true
		}
	case LinkEstablished:
		if l.txBusy && now.Sub(l.txStart) >= l.cfg.TransactionTimeout {
			l.Close(now, CloseTimeout)
			return
		}
		if now.Sub(l.lastRx) >= l.cfg.IdleTimeout {
			l.Close(now, CloseTimeout)
			return
		}
		if l.txBusy && l.txDue == 0 && !now.Before(l.txRetry) {
			l.txDue = segMask(Segments(len(l.q[l.qHead])))
			l.txRound++
			l.stats.Retransmissions++
		}
	}
}

// Deadline returns when Tick (or Transmit) must next be called, and false
// when the link waits for nothing. A deadline at or before now means
// Transmit has something to send.
func (l *Link) Deadline() (time.Time, bool) {
	var d time.Time
	ok := false
	min := func(t time.Time) {
		if !ok || t.Before(d) {
			d, ok = t, true
		}
	}
	switch l.state {
	case LinkOpening:
		if l.openDue {
			min(time.Time{})
		}
		min(l.openNext)
		min(l.openStart.Add(l.cfg.LinkOpenTimeout))
	case LinkEstablished:
		if l.linkAckDue != 0 || l.ackDue != 0 || l.txDue != 0 {
			min(time.Time{})
		}
		if l.txBusy {
			min(l.txRetry)
			min(l.txStart.Add(l.cfg.TransactionTimeout))
		}
		min(l.lastRx.Add(l.cfg.IdleTimeout))
	case LinkClosing:
		min(time.Time{})
	}
	return d, ok
}

// Transmit appends the next PB-ADV payload to advertise (one AD structure of
// type 0x29 without its length and type octets) to dst and reports true, or
// returns dst and false when nothing is due. Call it until it reports false
// each time the link is fed or its deadline passes. Control messages and
// acknowledgments go first, then the segments of the transaction in flight;
// after a transaction's last segment its retransmission is scheduled
// RetransmitInterval later.
func (l *Link) Transmit(now time.Time, dst []byte) ([]byte, bool) {
	out, ok := l.transmit(now, dst)
	if ok {
		l.stats.Sent++
	}
	return out, ok
}

func (l *Link) transmit(now time.Time, dst []byte) ([]byte, bool) {
	l.tick(now)
	switch l.state {
	case LinkClosing:
		dst = AppendLinkClose(dst, l.id, l.reason)
		l.closeLeft--
		if l.closeLeft <= 0 {
			l.state = LinkClosed
		}
		return dst, true
	case LinkOpening:
		if l.openDue {
			l.openDue = false
			l.openNext = now.Add(l.cfg.RetransmitInterval)
			return AppendLinkOpen(dst, l.id, &l.uuid), true
		}
		return dst, false
	case LinkEstablished:
	default:
		return dst, false
	}
	if l.linkAckDue != 0 {
		l.linkAckDue--
		return AppendLinkAck(dst, l.id), true
	}
	if l.ackDue != 0 {
		l.ackDue--
		return AppendAck(dst, l.id, l.ackNum), true
	}
	if l.txBusy && l.txDue != 0 {
		// Each retransmission round starts one segment later, so that a
		// loss pattern in step with the rounds cannot hit the same segment
		// every time; the receiver keeps segments that arrive out of order.
		n := Segments(len(l.q[l.qHead]))
		i := int(l.txRound) % n
		for l.txDue&(1<<uint(i)) == 0 {
			i = (i + 1) % n
		}
		l.txDue &^= 1 << uint(i)
		if l.txDue == 0 {
			l.txRetry = now.Add(l.cfg.RetransmitInterval)
		}
		out, err := AppendSegment(dst, l.id, l.txNum, l.q[l.qHead], i)
		if err != nil {
			return dst, false // cannot happen: Send bounds the PDU
		}
		return out, true
	}
	return dst, false
}
