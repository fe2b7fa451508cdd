package node

// The go:noinline functions here keep their frames off their callers'
// stacks: the receive and Tick paths must fit TinyGo's 4 KB stacks.

import (
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
)

// pubState is the publication machinery of one model (an entry of
// cfgSrv.Models): the periodic timer, pending retransmissions and the
// message they repeat. It is sized at provisioning; publishing does not
// allocate.
type pubState struct {
	elem     int
	state    func(now time.Time, params []byte) (access.Opcode, []byte, bool)
	addr     uint16        // publish address the timers were set for
	period   time.Duration // 0: no periodic publishing
	next     time.Time     // next periodic publication
	left     uint8         // retransmissions left
	at       time.Time     // next retransmission
	interval time.Duration // retransmission interval
	buf      []byte        // last published access payload (cap MaxPublishLen)
}

// PublishPeriod decodes the Publish Period state (Mesh Protocol 1.1
// §4.2.3.4): bits 0-5 are the number of steps, bits 6-7 the step
// resolution (100 ms, 1 s, 10 s, 10 min). 0 means no periodic publishing.
func PublishPeriod(p uint8) time.Duration {
	steps := time.Duration(p & 0x3f)
	switch p >> 6 {
	case 0:
		return steps * 100 * time.Millisecond
	case 1:
		return steps * time.Second
	case 2:
		return steps * 10 * time.Second
	}
	return steps * 10 * time.Minute
}

// PublishRetransmitInterval decodes the Publish Retransmit Interval Steps
// state (§4.2.3.7): (steps + 1) × 50 ms.
func PublishRetransmitInterval(steps uint8) time.Duration {
	return time.Duration(steps&0x1f+1) * 50 * time.Millisecond
}

// initPubs sizes the publication states after models() built the model
// list.
func (n *Node) initPubs() {
	n.pubs = make([]pubState, len(n.cfgSrv.Models))
	k := 0
	for i, e := range n.cfg.Elements {
		if i == 0 {
			k += 2 // Configuration Server and Client
		}
		for _, m := range e.Models {
			n.pubs[k] = pubState{elem: i, state: m.State, buf: make([]byte, 0, n.cfg.MaxPublishLen)}
			k++
		}
	}
}

// syncPubs restarts the timers of the publications the Configuration Client
// changed. It runs after configuration messages, never per PDU.
//
//go:noinline
func (n *Node) syncPubs(now time.Time) {
	for i := range n.pubs {
		if i >= len(n.cfgSrv.Models) {
			break
		}
		p, ms := &n.pubs[i], &n.cfgSrv.Models[i]
		period := PublishPeriod(ms.Pub.PublishPeriod)
		if ms.Pub.PublishAddress == access.AddrUnassigned {
			period = 0
		}
		if ms.Pub.PublishAddress != p.addr {
			p.left = 0 // retransmissions of the old publication stop
		}
		if period != p.period || ms.Pub.PublishAddress != p.addr {
			p.addr, p.period = ms.Pub.PublishAddress, period
			if period > 0 {
				// The first periodic publication is one period after
				// the state was set.
				p.next = now.Add(period)
			}
		}
	}
}

// Publish sends a message from a model with its configured publication
// (Config Model Publication Set or Virtual Set): address (with its Label
// UUID), AppKey, TTL and Publish Retransmit count and interval; the
// retransmissions (each a new access message with a new sequence number)
// are sent by Tick. The message is kept (up to Config.MaxPublishLen octets)
// for retransmissions and for periodic publishing of models without a
// State function; a longer message with either configured fails with
// ErrTooLong. Publishing does not allocate.
func (n *Node) Publish(now time.Time, element int, id access.ModelID, op access.Opcode, params []byte) error {
	if !n.provisioned {
		return ErrNotProvisioned
	}
	i := n.pubIndex(element, id)
	if i < 0 {
		return ErrNoModel
	}
	pl, err := n.pubPayload(op, params)
	if err != nil {
		return err
	}
	err = n.publish(now, i, pl, true)
	n.flush(now)
	return err
}

func (n *Node) pubIndex(element int, id access.ModelID) int {
	addr := n.addr + uint16(element)
	for i := range n.cfgSrv.Models {
		if m := &n.cfgSrv.Models[i]; m.Element == addr && m.ID == id && i < len(n.pubs) && cap(n.pubs[i].buf) > 0 {
			return i
		}
	}
	return -1
}

// pubPayload assembles opcode || params in n.out (free outside
// handleConfig's remote branch, which calls no handler); params may alias
// n.out[4:].
func (n *Node) pubPayload(op access.Opcode, params []byte) ([]byte, error) {
	const off = 4
	var ob [4]byte
	opb, err := op.AppendBinary(ob[:0])
	if err != nil {
		return nil, err
	}
	if len(opb)+len(params) > access.MaxPayloadLen {
		return nil, ErrTooLong
	}
	k := copy(n.out[off:], params)
	start := off - len(opb)
	copy(n.out[start:], opb)
	return n.out[start : off+k], nil
}

// publish sends the access payload pl with model i's publication; keep
// records pl for retransmissions and starts them.
//
//go:noinline
func (n *Node) publish(now time.Time, i int, pl []byte, keep bool) error {
	ms, p := &n.cfgSrv.Models[i], &n.pubs[i]
	pub := &ms.Pub
	if pub.PublishAddress == access.AddrUnassigned {
		return ErrNoModel
	}
	if keep {
		if len(pl) > cap(p.buf) {
			if pub.RetransmitCount > 0 || (p.period > 0 && p.state == nil) {
				return ErrTooLong
			}
			p.buf = p.buf[:0]
		} else {
			p.buf = append(p.buf[:0], pl...)
		}
	}
	if err := n.sendPub(now, ms, p, pl); err != nil {
		return err
	}
	p.left, p.interval = pub.RetransmitCount, PublishRetransmitInterval(pub.RetransmitIntervalSteps)
	p.at = now.Add(p.interval)
	return nil
}

//go:noinline
func (n *Node) sendPub(now time.Time, ms *access.ModelState, p *pubState, pl []byte) error {
	pub := &ms.Pub
	key, ai := n.appKeyForTx(pub.AppKeyIndex)
	if key == nil {
		return ErrNoKey
	}
	sub := n.subnetIndexOf(n.akInfo[ai].netIdx)
	if sub < 0 {
		return ErrNoKey
	}
	ttl := pub.PublishTTL
	if ttl == 0xff {
		ttl = n.cfgSrv.DefaultTTL
	}
	var label *[16]byte
	if access.IsVirtual(pub.PublishAddress) {
		label = &ms.PubLabel
		if *label == ([16]byte{}) {
			// Set by a plain Model Publication Set: use the one label
			// this node knows for the address, if any.
			if label = n.labelFor(pub.PublishAddress); label == nil || *label == ([16]byte{}) {
				return ErrNoLabel
			}
		}
	}
	return n.sendAccess(now, sub, n.addr+uint16(p.elem), pub.PublishAddress, ttl, key, label, pl, false)
}

// pubTick sends the due periodic publications and retransmissions.
//
//go:noinline
func (n *Node) pubTick(now time.Time) {
	for i := range n.pubs {
		p := &n.pubs[i]
		if p.left > 0 && !now.Before(p.at) && i < len(n.cfgSrv.Models) && len(p.buf) > 0 {
			p.left--
			p.at = now.Add(p.interval)
			if n.sendPub(now, &n.cfgSrv.Models[i], p, p.buf) != nil {
				n.stats.PubFailed++
			} else {
				n.stats.Published++
			}
		}
		if p.period <= 0 || now.Before(p.next) {
			continue
		}
		p.next = p.next.Add(p.period)
		if !p.next.After(now) {
			p.next = now.Add(p.period) // fell behind: no burst of catch-up publications
		}
		var pl []byte
		var err error
		if p.state != nil {
			op, params, ok := p.state(now, n.out[4:4])
			if !ok {
				continue
			}
			pl, err = n.pubPayload(op, params)
		} else if len(p.buf) > 0 {
			pl = n.out[:copy(n.out[:], p.buf)]
		} else {
			continue // nothing published yet to repeat
		}
		if err == nil {
			err = n.publish(now, i, pl, true)
		}
		if err != nil {
			n.stats.PubFailed++
		} else {
			n.stats.Published++
		}
	}
}

//go:noinline
func (n *Node) pubDeadline() (time.Time, bool) {
	var d time.Time
	ok := false
	for i := range n.pubs {
		p := &n.pubs[i]
		if p.left > 0 && len(p.buf) > 0 && (!ok || p.at.Before(d)) {
			d, ok = p.at, true
		}
		if p.period > 0 && (!ok || p.next.Before(d)) {
			d, ok = p.next, true
		}
	}
	return d, ok
}
