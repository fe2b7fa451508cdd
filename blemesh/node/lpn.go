package node

import (
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// LPNConfig configures the Low Power Node role. The zero value means the
// defaults.
type LPNConfig struct {
	PollInterval time.Duration // between polls when nothing is queued; 0 means 10 s
	PollTimeout  time.Duration // requested of the Friend; 0 means 3 × PollInterval
	ReceiveDelay uint8         // ms (10..255); 0 means 100
	// Criteria is the Friend Request criteria octet (RSSI factor, receive
	// window factor, MinQueueSizeLog); 0 means MinQueueSizeLog 1 (N = 2).
	Criteria uint8
	// Attempts is how many Friend Requests (and polls) are tried before
	// giving up; 0 means 4.
	Attempts int
}

func (c *LPNConfig) norm() {
	c.PollInterval = orDur(c.PollInterval, 10*time.Second)
	c.PollTimeout = orDur(c.PollTimeout, 3*c.PollInterval)
	if c.ReceiveDelay < 10 {
		c.ReceiveDelay = 100
	}
	if c.Criteria == 0 {
		c.Criteria = 1
	}
	c.Attempts = orInt(c.Attempts, 4)
}

type lpnPhase uint8

const (
	lpnIdle lpnPhase = iota
	lpnRequesting
	lpnEstablished
)

type lpnState struct {
	state            lpnPhase
	sub              int
	friend           uint16
	counter          uint16
	friendCounter    uint16
	friendCounterGen uint16 // for the Friend role
	keys             network.Keys
	fsn              uint8
	winFrom, winTo   time.Time
	awaiting         bool
	gotUpdate        bool
	nextPoll         time.Time
	window           time.Duration
	attempts         int
}

// StartLowPower sends a Friend Request and, once a Friend offers, polls it:
// from then on the node listens only in the receive windows after its polls
// and gets the messages for it from the Friend's queue.
func (n *Node) StartLowPower(now time.Time) error {
	if !n.provisioned {
		return ErrNotProvisioned
	}
	n.lpn.attempts = 0
	return n.sendFriendRequest(now)
}

func (n *Node) sendFriendRequest(now time.Time) error {
	l := &n.lpn
	l.sub = n.primarySubnet()
	l.counter++
	r := transport.FriendRequest{
		Criteria:     n.cfg.LPN.Criteria,
		ReceiveDelay: n.cfg.LPN.ReceiveDelay,
		PollTimeout:  uint32(n.cfg.LPN.PollTimeout / (100 * time.Millisecond)),
		NumElements:  uint8(n.nElems),
		LPNCounter:   l.counter,
	}
	if err := n.sendControl(now, n.subnets[l.sub].txKeys(), n.addr, access.AddrAllFriends, 0, &r); err != nil {
		return err
	}
	l.state, l.attempts = lpnRequesting, l.attempts+1
	l.winFrom = now.Add(time.Duration(n.cfg.LPN.ReceiveDelay) * time.Millisecond)
	l.winTo = now.Add(1100 * time.Millisecond)
	n.flush(now)
	return nil
}

// LowPower reports whether a friendship is established and the Friend's
// address.
func (n *Node) LowPower() (bool, uint16) {
	return n.lpn.state == lpnEstablished, n.lpn.friend
}

// lpnAsleep reports whether an established Low Power Node is outside its
// receive window (the radio is off).
func (n *Node) lpnAsleep(now time.Time) bool {
	l := &n.lpn
	if l.state != lpnEstablished {
		return false
	}
	return !l.awaiting || now.Before(l.winFrom) || now.After(l.winTo)
}

func (n *Node) onFriendOffer(now time.Time, h *network.Header, sub int, o *transport.FriendOffer) {
	l := &n.lpn
	if l.state != lpnRequesting || h.DST != n.addr || sub != l.sub {
		return
	}
	l.friend, l.friendCounter = h.SRC, o.FriendCounter
	p := crypto.FriendshipP(n.addr, h.SRC, l.counter, o.FriendCounter)
	l.keys.Derive(n.subnets[sub].key, p[:])
	l.window = time.Duration(o.ReceiveWindow) * time.Millisecond
	l.state, l.fsn, l.attempts = lpnEstablished, 0, 0
	n.rebuildSets()
	n.sendPoll(now)
}

func (n *Node) sendPoll(now time.Time) {
	l := &n.lpn
	p := transport.FriendPoll{FSN: l.fsn}
	l.attempts++
	if n.sendControl(now, &l.keys, n.addr, l.friend, 0, &p) != nil {
		return
	}
	l.awaiting = true
	l.winFrom = now.Add(time.Duration(n.cfg.LPN.ReceiveDelay) * time.Millisecond)
	l.winTo = l.winFrom.Add(l.window + 10*time.Millisecond)
	n.stats.Polls++
}

// lpnResponse is called after a PDU from the Friend was processed.
func (n *Node) lpnResponse(now time.Time) {
	l := &n.lpn
	if l.state != lpnEstablished || !l.awaiting {
		return
	}
	l.awaiting, l.attempts = false, 0
	l.fsn ^= 1
	if l.gotUpdate {
		l.gotUpdate = false
		return // onFriendUpdate scheduled the next poll
	}
	l.nextPoll = now // more may be queued
}

func (n *Node) onFriendUpdate(now time.Time, h *network.Header, u *transport.FriendUpdate) {
	l := &n.lpn
	if l.state != lpnEstablished || h.SRC != l.friend {
		return
	}
	n.applyIV(now, n.iv.OnBeacon(now, u.IVIndex, u.Flags&0x02 != 0))
	l.gotUpdate = true
	if u.MD != 0 {
		l.nextPoll = now
	} else {
		l.nextPoll = now.Add(n.cfg.LPN.PollInterval)
	}
}

func (n *Node) lpnTick(now time.Time) {
	l := &n.lpn
	switch l.state {
	case lpnRequesting:
		if now.After(l.winTo) {
			if l.attempts >= n.cfg.LPN.Attempts {
				l.state = lpnIdle
				return
			}
			_ = n.sendFriendRequest(now)
		}
	case lpnEstablished:
		if l.awaiting {
			if now.After(l.winTo) {
				l.awaiting = false
				if l.attempts >= n.cfg.LPN.Attempts {
					l.state = lpnIdle // friendship lost
					n.rebuildSets()
					return
				}
				n.sendPoll(now)
			}
			return
		}
		if !now.Before(l.nextPoll) {
			n.sendPoll(now)
		}
	}
}

func (n *Node) lpnDeadline() (time.Time, bool) {
	l := &n.lpn
	switch l.state {
	case lpnRequesting:
		return l.winTo.Add(time.Millisecond), true
	case lpnEstablished:
		if l.awaiting {
			return l.winTo.Add(time.Millisecond), true
		}
		return l.nextPoll, true
	}
	return time.Time{}, false
}
