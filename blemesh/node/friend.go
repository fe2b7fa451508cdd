package node

import (
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// FriendConfig configures the Friend feature. The zero value means the
// defaults.
type FriendConfig struct {
	MaxLPNs       int           // friendships at once; 0 means 2
	QueueSize     int           // queued PDUs per Low Power Node; 0 means 16
	ReceiveWindow uint8         // ms, offered to Low Power Nodes; 0 means 100
	OfferDelay    time.Duration // after a Friend Request; 0 means 100 ms
}

func (c *FriendConfig) norm() {
	c.MaxLPNs = orInt(c.MaxLPNs, 2)
	c.QueueSize = orInt(c.QueueSize, 16)
	if c.QueueSize > 255 {
		c.QueueSize = 255
	}
	if c.ReceiveWindow == 0 {
		c.ReceiveWindow = 100
	}
	c.OfferDelay = orDur(c.OfferDelay, 100*time.Millisecond)
}

type frState uint8

const (
	frNone frState = iota
	frOffered
	frEstablished
)

type frPDU struct {
	n   uint8
	buf [bearer.MaxPayloadLen]byte
}

// friendship is the Friend side of one friendship.
type friendship struct {
	state         frState
	sub           int
	lpn           uint16
	elems         uint8
	lpnCounter    uint16
	friendCounter uint16
	keys          network.Keys
	recvDelay     time.Duration
	pollTimeout   time.Duration
	due           time.Time // offer or reply to send
	pending       bool
	expire        time.Time
	hasLast       bool
	lastFSN       uint8
	last          frPDU
	q             []frPDU
	head, count   int
}

// friendCounter is the node-wide Friend Counter.
func (n *Node) nextFriendCounter() uint16 {
	n.lpn.friendCounterGen++
	return n.lpn.friendCounterGen
}

func (n *Node) onFriendRequest(now time.Time, h *network.Header, sub int, r *transport.FriendRequest) {
	if n.cfgSrv.Friend != access.FeatureEnabled || h.DST != access.AddrAllFriends || h.TTL != 0 || sub < 0 {
		return
	}
	slot := -1
	for i := range n.friends {
		if n.friends[i].state != frNone && n.friends[i].lpn == h.SRC {
			slot = i
			break
		}
	}
	if slot < 0 {
		for i := range n.friends {
			if n.friends[i].state == frNone {
				slot = i
				break
			}
		}
	}
	if slot < 0 {
		return
	}
	f := &n.friends[slot]
	if f.q == nil {
		f.q = make([]frPDU, n.cfg.FriendCfg.QueueSize)
	}
	f.state, f.sub, f.lpn, f.elems = frOffered, sub, h.SRC, r.NumElements
	if f.elems == 0 {
		f.elems = 1
	}
	f.lpnCounter, f.friendCounter = r.LPNCounter, n.nextFriendCounter()
	f.recvDelay = time.Duration(r.ReceiveDelay) * time.Millisecond
	f.pollTimeout = time.Duration(r.PollTimeout) * 100 * time.Millisecond
	p := crypto.FriendshipP(f.lpn, n.addr, f.lpnCounter, f.friendCounter)
	f.keys.Derive(n.subnets[sub].key, p[:]) // in place: Keys is ~450 octets
	f.head, f.count, f.hasLast = 0, 0, false
	f.due, f.pending = now.Add(n.cfg.FriendCfg.OfferDelay), true
	f.expire = now.Add(n.cfg.FriendCfg.OfferDelay + 2*time.Second)
	n.rebuildSets()
}

// rxFromLPN handles a PDU a Low Power Node sent with friendship credentials.
func (n *Node) rxFromLPN(now time.Time, slot int, h *network.Header, tpdu []byte) {
	f := &n.friends[slot]
	var lp transport.LowerPDU
	if _, err := lp.Decode(tpdu, h.CTL); err != nil || !lp.CTL || lp.Seg || lp.Opcode != transport.OpFriendPoll {
		return
	}
	var poll transport.FriendPoll
	if _, err := poll.Decode(lp.Payload); err != nil {
		return
	}
	n.stats.Polls++
	f.state = frEstablished
	f.expire = now.Add(f.pollTimeout)
	if !f.hasLast || poll.FSN != f.lastFSN {
		// The previous reply was received: prepare the next one.
		if f.count > 0 {
			f.last = f.q[f.head]
			f.head = (f.head + 1) % len(f.q)
			f.count--
		} else {
			md := uint8(0)
			u := transport.FriendUpdate{Flags: n.subnets[f.sub].kr.Flags() | n.iv.Flags(), IVIndex: n.iv.IVIndex, MD: md}
			if !n.sealControl(&f.keys, n.addr, f.lpn, 0, &u, &f.last) {
				return
			}
		}
		f.hasLast, f.lastFSN = true, poll.FSN
	}
	f.due, f.pending = now.Add(f.recvDelay), true
}

// sealControl seals an unsegmented control message into p.
func (n *Node) sealControl(keys *network.Keys, src, dst uint16, ttl uint8, msg transport.ControlMessage, p *frPDU) bool {
	var pbuf [transport.MaxUnsegControlLen]byte
	params, err := msg.AppendBinary(pbuf[:0])
	if err != nil {
		return false
	}
	lp := transport.LowerPDU{CTL: true, Opcode: msg.Opcode(), Payload: params}
	tpdu, err := lp.AppendBinary(n.lower[:0])
	if err != nil {
		return false
	}
	seq, err := n.nextSeq()
	if err != nil {
		return false
	}
	h := network.Header{CTL: true, TTL: ttl, SEQ: seq, SRC: src, DST: dst, IVIndex: n.iv.TxIVIndex()}
	out, err := keys.Seal(p.buf[:0], &h, tpdu)
	if err != nil {
		return false
	}
	p.n = uint8(len(out))
	n.cache.Add(h.IVIndex, h.SRC, h.SEQ)
	return true
}

// friendFor returns the friendship slot whose Low Power Node owns dst.
func (n *Node) friendFor(dst uint16) int {
	for i := range n.friends {
		f := &n.friends[i]
		if f.state == frEstablished && dst >= f.lpn && dst < f.lpn+uint16(f.elems) {
			return i
		}
	}
	return -1
}

// friendEnqueue stores a PDU for a Low Power Node, re-encrypted with the
// friendship credentials and TTL - 1 (Mesh Protocol 1.1 §3.6.6.4). When the
// queue is full the oldest PDU is discarded.
func (n *Node) friendEnqueue(now time.Time, slot int, h *network.Header, tpdu []byte) {
	f := &n.friends[slot]
	if f.count == len(f.q) {
		f.head = (f.head + 1) % len(f.q)
		f.count--
		n.stats.FriendDropped++
	}
	e := &f.q[(f.head+f.count)%len(f.q)]
	out, err := f.keys.Relay(e.buf[:0], *h, tpdu)
	if err != nil {
		n.stats.FriendDropped++
		return
	}
	e.n = uint8(len(out))
	f.count++
	n.stats.FriendQueued++
}

func (n *Node) onFriendClear(now time.Time, h *network.Header, c *transport.FriendClear) {
	for i := range n.friends {
		f := &n.friends[i]
		if f.state != frNone && f.lpn == c.LPNAddress {
			f.state = frNone
			n.rebuildSets()
		}
	}
}

func (n *Node) friendTick(now time.Time) {
	changed := false
	for i := range n.friends {
		f := &n.friends[i]
		if f.state == frNone {
			continue
		}
		if f.pending && !now.Before(f.due) {
			f.pending = false
			if f.state == frOffered {
				o := transport.FriendOffer{ReceiveWindow: n.cfg.FriendCfg.ReceiveWindow,
					QueueSize: uint8(len(f.q)), FriendCounter: f.friendCounter}
				_ = n.sendControl(now, n.subnets[f.sub].txKeys(), n.addr, f.lpn, 0, &o)
			} else {
				n.sendRaw(now, bearer.TypeMessage, f.last.buf[:f.last.n], 0)
			}
		}
		if !now.Before(f.expire) {
			f.state = frNone
			changed = true
		}
	}
	if changed {
		n.rebuildSets()
	}
}

func (n *Node) friendDeadline() (time.Time, bool) {
	var d time.Time
	ok := false
	for i := range n.friends {
		f := &n.friends[i]
		if f.state == frNone {
			continue
		}
		t := f.expire
		if f.pending && f.due.Before(t) {
			t = f.due
		}
		if !ok || t.Before(d) {
			d, ok = t, true
		}
	}
	return d, ok
}

// FriendQueueLen returns how many PDUs wait for the Low Power Node lpn, and
// whether a friendship with it is established.
func (n *Node) FriendQueueLen(lpn uint16) (int, bool) {
	for i := range n.friends {
		if f := &n.friends[i]; f.state == frEstablished && f.lpn == lpn {
			return f.count, true
		}
	}
	return 0, false
}
