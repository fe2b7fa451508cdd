package node

import (
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// txAlloc returns a free transmit entry due at now, or nil (counted).
func (n *Node) txAlloc(now time.Time, typ uint8, extra int) *txEntry {
	for i := range n.tx {
		e := &n.tx[i]
		if !e.used {
			e.used, e.due, e.typ, e.n = true, now, typ, 0
			if extra < 0 {
				extra = 0
			}
			if extra > 7 {
				extra = 7
			}
			e.left = uint8(extra + 1)
			e.interval = n.cfg.TransmitInterval
			return e
		}
	}
	n.stats.TxDropped++
	return nil
}

// sendRaw queues one AD payload.
func (n *Node) sendRaw(now time.Time, typ uint8, payload []byte, extra int) {
	if e := n.txAlloc(now, typ, extra); e != nil {
		e.n = uint8(copy(e.buf[:], payload))
	}
}

// flush sends the entries due at now.
func (n *Node) flush(now time.Time) {
	for i := range n.tx {
		e := &n.tx[i]
		if !e.used || e.due.After(now) {
			continue
		}
		n.adv.Type, n.adv.Payload = e.typ, e.buf[:e.n]
		if n.cfg.Bearer.Send(&n.adv) == nil {
			n.stats.Sent++
		}
		n.adv.Payload = nil
		e.left--
		if e.left == 0 {
			e.used = false
		} else {
			e.due = now.Add(e.interval)
		}
	}
}

func (n *Node) txDeadline() (time.Time, bool) {
	var d time.Time
	ok := false
	for i := range n.tx {
		if e := &n.tx[i]; e.used && (!ok || e.due.Before(d)) {
			d, ok = e.due, true
		}
	}
	return d, ok
}

// sendNetwork seals and queues a network PDU with keys.
func (n *Node) sendNetwork(now time.Time, keys *network.Keys, h *network.Header, tpdu []byte) error {
	e := n.txAlloc(now, bearer.TypeMessage, n.cfg.TransmitCount)
	if e == nil {
		return ErrBusy
	}
	out, err := keys.Seal(e.buf[:0], h, tpdu)
	if err != nil {
		e.used = false
		return err
	}
	e.n = uint8(len(out))
	// Our own PDUs must not come back to us as new.
	n.cache.Add(h.IVIndex, h.SRC, h.SEQ)
	return nil
}

// sendControl sends an unsegmented transport control message.
func (n *Node) sendControl(now time.Time, keys *network.Keys, src, dst uint16, ttl uint8, msg transport.ControlMessage) error {
	lp := transport.LowerPDU{CTL: true, Opcode: msg.Opcode()}
	// A buffer handed to an interface method escapes: use the node's.
	params, err := msg.AppendBinary(n.ctlBuf[:0])
	if err != nil {
		return err
	}
	lp.Payload = params
	tpdu, err := lp.AppendBinary(n.lower[:0])
	if err != nil {
		return err
	}
	seq, err := n.nextSeq()
	if err != nil {
		return err
	}
	h := network.Header{CTL: true, TTL: ttl, SEQ: seq, SRC: src, DST: dst, IVIndex: n.iv.TxIVIndex()}
	return n.sendNetwork(now, keys, &h, tpdu)
}

// Outgoing is an access message to send with [Node.Send].
type Outgoing struct {
	Element int // index of the sending element
	// DST is a unicast, group or virtual address. For a virtual address
	// set Label; DST may then be 0 (it is computed from the label).
	DST uint16
	// Label is the Label UUID of a virtual destination; it is
	// authenticated as additional data (Mesh Protocol 1.1 §3.9.7.1). Nil
	// with a virtual DST uses the one label this node knows for DST (from
	// subscriptions and publications), or fails with ErrNoLabel.
	Label       *[16]byte
	AppKeyIndex uint16
	// DevKey secures the message with a device key: the destination's
	// (recorded with AddDevKey or by provisioning) when known, else this
	// node's own.
	DevKey    bool
	TTL       uint8 // 0xff means the default TTL
	Opcode    access.Opcode
	Params    []byte
	Segmented bool // force segmentation even when the message fits one PDU
}

// Send encrypts and sends an access message. Messages longer than one
// unsegmented PDU are segmented; to a unicast address they are acknowledged
// and retransmitted by Tick.
func (n *Node) Send(now time.Time, m *Outgoing) error {
	err := n.send(now, m)
	n.flush(now)
	return err
}

func (n *Node) send(now time.Time, m *Outgoing) error {
	if !n.provisioned {
		return ErrNotProvisioned
	}
	if m.Element < 0 || m.Element >= n.nElems {
		return ErrConfig
	}
	var key *transport.AccessKey
	sub := n.primarySubnet()
	if m.DevKey {
		key = &n.akeys[0]
		for i := range n.akInfo {
			if n.akInfo[i].kind == akRemoteDev && n.akInfo[i].addr == m.DST {
				key = &n.akeys[i]
			}
		}
	} else {
		var ai int
		key, ai = n.appKeyForTx(m.AppKeyIndex)
		if key == nil {
			return ErrNoKey
		}
		if s := n.subnetIndexOf(n.akInfo[ai].netIdx); s >= 0 {
			sub = s
		}
	}
	if sub < 0 {
		return ErrNoKey
	}
	pl, err := m.Opcode.AppendBinary(n.accBuf[:0])
	if err != nil {
		return err
	}
	if len(pl)+len(m.Params) > access.MaxPayloadLen {
		return ErrTooLong
	}
	pl = append(pl, m.Params...)
	ttl := m.TTL
	if ttl == 0xff {
		ttl = n.cfgSrv.DefaultTTL
	}
	dst, label := m.DST, m.Label
	if label != nil {
		if dst == access.AddrUnassigned {
			dst = crypto.VirtualAddress(*label)
		}
		if !access.IsVirtual(dst) {
			return ErrConfig
		}
	} else if access.IsVirtual(dst) {
		if label = n.labelFor(dst); label == nil {
			return ErrNoLabel
		}
	}
	return n.sendAccess(now, sub, n.addr+uint16(m.Element), dst, ttl, key, label, pl, m.Segmented)
}

func (n *Node) subnetIndexOf(netIdx uint16) int {
	for i := range n.subnets {
		if n.subnets[i].used && n.subnets[i].index == netIdx {
			return i
		}
	}
	return -1
}

// appKeyForTx returns the application key to transmit with: the new key of
// an updated key once its subnet is in Key Refresh phase 2.
func (n *Node) appKeyForTx(idx uint16) (*transport.AccessKey, int) {
	old := -1
	for i := range n.akInfo {
		a := &n.akInfo[i]
		if a.kind != akApp || a.index != idx {
			continue
		}
		if a.newKey {
			if s := n.subnetByIndex(a.netIdx); s != nil && s.kr.Phase == 2 {
				return &n.akeys[i], i
			}
			continue
		}
		old = i
	}
	if old < 0 {
		return nil, 0
	}
	return &n.akeys[old], old
}

func (n *Node) sendAccess(now time.Time, sub int, src, dst uint16, ttl uint8, key *transport.AccessKey, label *[16]byte, payload []byte, forceSeg bool) error {
	seq, err := n.nextSeq()
	if err != nil {
		return err
	}
	iv := n.iv.TxIVIndex()
	meta := transport.AccessMeta{SEQ: seq, SRC: src, DST: dst, IVIndex: iv, Label: label}
	upper, err := key.Seal(n.upper[:0], &meta, payload)
	if err != nil {
		return err
	}
	keys := n.subnets[sub].txKeys()
	if len(upper) <= transport.MaxUnsegAccessLen && !forceSeg {
		lp := transport.LowerPDU{AKF: key.AKF(), AID: key.AID, Payload: upper}
		tpdu, err := lp.AppendBinary(n.lower[:0])
		if err != nil {
			return err
		}
		h := network.Header{TTL: ttl, SEQ: seq, SRC: src, DST: dst, IVIndex: iv}
		return n.sendNetwork(now, keys, &h, tpdu)
	}
	var st *segTx
	for i := range n.segs {
		if !n.segs[i].used {
			st = &n.segs[i]
			break
		}
	}
	if st == nil {
		return ErrBusy
	}
	st.used, st.sub, st.src, st.dst, st.ttl, st.iv, st.seq0, st.first = true, sub, src, dst, ttl, iv, seq, true
	k := copy(st.buf[:], upper)
	seg := transport.Segmenter{AKF: key.AKF(), AID: key.AID, SeqZero: uint16(seq & 0x1fff), PDU: st.buf[:k]}
	if !seg.Valid() {
		st.used = false
		return ErrTooLong
	}
	st.sender = transport.NewSender(n.cfg.SAR, seg, access.IsUnicast(dst), ttl, now)
	n.serviceSegs(now)
	return nil
}

// serviceSegs sends the due segments of segmented messages.
func (n *Node) serviceSegs(now time.Time) {
	for i := range n.segs {
		st := &n.segs[i]
		if !st.used {
			continue
		}
		bits := st.sender.Due(now)
		for j := uint8(0); j <= st.sender.Seg.SegN(); j++ {
			if bits&(1<<j) == 0 {
				continue
			}
			tpdu, err := st.sender.Seg.AppendSegment(n.lower[:0], j)
			if err != nil {
				continue
			}
			seq := st.seq0
			if !st.first {
				if seq, err = n.nextSeq(); err != nil {
					continue
				}
			}
			st.first = false
			h := network.Header{TTL: st.ttl, SEQ: seq, SRC: st.src, DST: st.dst, IVIndex: st.iv}
			_ = n.sendNetwork(now, n.subnets[st.sub].txKeys(), &h, tpdu)
		}
		switch st.sender.State() {
		case transport.Delivered:
			n.stats.SegDelivered++
			st.used = false
		case transport.Failed:
			n.stats.SegFailed++
			st.used = false
		}
	}
}

func (n *Node) segDeadline() (time.Time, bool) {
	var d time.Time
	ok := false
	for i := range n.segs {
		if st := &n.segs[i]; st.used {
			if t := st.sender.Deadline(); !ok || t.Before(d) {
				d, ok = t, true
			}
		}
	}
	return d, ok
}

// SegmentsInFlight returns the number of segmented messages being sent.
func (n *Node) SegmentsInFlight() int {
	c := 0
	for i := range n.segs {
		if n.segs[i].used {
			c++
		}
	}
	return c
}

func (n *Node) onSegmentAck(now time.Time, src uint16, a *transport.SegmentAck) {
	for i := range n.segs {
		st := &n.segs[i]
		if st.used && st.dst == src && st.sender.Seg.SeqZero == a.SeqZero {
			switch st.sender.OnAck(a, now) {
			case transport.Delivered:
				n.stats.SegDelivered++
				st.used = false
			case transport.Failed:
				n.stats.SegFailed++
				st.used = false
			}
		}
	}
}

// SendConfig sends a Configuration Client message to the node at dst,
// secured with its device key. A message to this node's own address is
// handled locally and its status delivered to the Handler at once.
func (n *Node) SendConfig(now time.Time, dst uint16, op access.Opcode, params []byte) error {
	if !n.provisioned {
		return ErrNotProvisioned
	}
	if n.isMine(dst) {
		n.handleConfig(now, n.addr, dst, 0, op, params, true)
		return nil
	}
	return n.Send(now, &Outgoing{DST: dst, DevKey: true, TTL: 0xff, Opcode: op, Params: params})
}
