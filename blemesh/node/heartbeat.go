package node

// The go:noinline functions here keep their frames off their callers'
// stacks: the receive and Tick paths must fit TinyGo's 4 KB stacks.

import (
	"math/bits"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// Heartbeat feature bits (Mesh Protocol 1.1 §3.6.5.10, Table 3.40).
const (
	HeartbeatRelay    uint16 = 1 << 0
	HeartbeatProxy    uint16 = 1 << 1
	HeartbeatFriend   uint16 = 1 << 2
	HeartbeatLowPower uint16 = 1 << 3
)

// hbState runs the Heartbeat Publication and Subscription states the
// Configuration Server holds (§4.2.17, §4.2.18, §3.6.7).
type hbState struct {
	pubCount  uint16 // heartbeats left; 0xffff: indefinitely
	pubPeriod time.Duration
	pubNext   time.Time
	features  uint16 // last feature bitmap, for triggered heartbeats
	featInit  bool
	subEnd    time.Time // subscription period end
	subCount  uint16
}

// hbPow2 converts a Count Log or Period Log to its value (§4.2.17.2):
// 0 → 0, n → 2^(n-1), 0x11 and 0xff (count: indefinitely) → 0xffff.
func hbPow2(log uint8) uint16 {
	switch {
	case log == 0:
		return 0
	case log >= 0x11:
		return 0xffff
	}
	return 1 << (log - 1)
}

// hbLog is the inverse used by the Status messages: 0 → 0, else
// floor(log2(v)) + 1, 0xffff → 0xff for counts.
func hbLog(v uint32, count bool) uint8 {
	if v == 0 {
		return 0
	}
	if count && v == 0xffff {
		return 0xff
	}
	return uint8(bits.Len32(v))
}

// hbFeatures returns the bitmap of the features in use.
func (n *Node) hbFeatures() uint16 {
	var f uint16
	if n.cfgSrv.Relay == access.FeatureEnabled {
		f |= HeartbeatRelay
	}
	if n.cfgSrv.GATTProxy == access.FeatureEnabled {
		f |= HeartbeatProxy
	}
	if n.cfgSrv.Friend == access.FeatureEnabled {
		f |= HeartbeatFriend
	}
	if n.lpn.state == lpnEstablished {
		f |= HeartbeatLowPower
	}
	return f
}

// hbBeforeConfig refreshes the states a Get reports: the remaining count
// and subscription period, and the subscription's count.
//
//go:noinline
func (n *Node) hbBeforeConfig(now time.Time, op access.Opcode) {
	switch op {
	case access.OpHeartbeatPublicationGet:
		if n.hb.pubPeriod > 0 {
			n.cfgSrv.HeartbeatPub.CountLog = hbLog(uint32(n.hb.pubCount), true)
		}
	case access.OpHeartbeatSubscriptionGet:
		n.hbSubRefresh(now)
	}
}

//go:noinline
func (n *Node) hbSubRefresh(now time.Time) {
	s := &n.cfgSrv.HeartbeatSub
	left := uint32(0)
	if s.PeriodLog != 0 && now.Before(n.hb.subEnd) {
		left = uint32((n.hb.subEnd.Sub(now) + time.Second - 1) / time.Second)
	}
	if s.PeriodLog != 0 {
		s.PeriodLog = hbLog(left, false)
	}
	s.CountLog = hbLog(uint32(n.hb.subCount), true)
}

// hbAfterConfig starts the timers of a Heartbeat Publication or
// Subscription Set that succeeded.
//
//go:noinline
func (n *Node) hbAfterConfig(now time.Time, op access.Opcode, status []byte) {
	if len(status) == 0 || status[0] != access.StatusSuccess {
		return
	}
	switch op {
	case access.OpHeartbeatPublicationSet:
		p := &n.cfgSrv.HeartbeatPub
		n.hb.pubCount = hbPow2(p.CountLog)
		n.hb.pubPeriod = time.Duration(hbPow2(p.PeriodLog)) * time.Second
		if p.Destination == access.AddrUnassigned || n.hb.pubCount == 0 || n.hb.pubPeriod == 0 {
			n.hb.pubPeriod = 0
			return
		}
		// The first heartbeat goes out as soon as possible (§3.6.7.2).
		n.hb.pubNext = now
	case access.OpHeartbeatSubscriptionSet:
		s := &n.cfgSrv.HeartbeatSub
		n.hb.subCount = 0
		if s.PeriodLog == 0 {
			n.hb.subEnd = time.Time{}
			return
		}
		n.hb.subEnd = now.Add(time.Duration(hbPow2(s.PeriodLog)) * time.Second)
	}
}

// hbTick sends the periodic heartbeat when due and a triggered one when a
// feature named in the publication's Features changed state.
//
//go:noinline
func (n *Node) hbTick(now time.Time) {
	f := n.hbFeatures()
	if !n.hb.featInit {
		n.hb.features, n.hb.featInit = f, true
	}
	if changed := f ^ n.hb.features; changed != 0 {
		n.hb.features = f
		if n.cfgSrv.HeartbeatPub.Destination != access.AddrUnassigned && n.cfgSrv.HeartbeatPub.Features&changed != 0 {
			n.sendHeartbeat(now)
		}
	}
	if n.hb.pubPeriod == 0 || now.Before(n.hb.pubNext) {
		return
	}
	n.sendHeartbeat(now)
	if n.hb.pubCount != 0xffff {
		n.hb.pubCount--
	}
	if n.hb.pubCount == 0 {
		n.hb.pubPeriod = 0
		n.cfgSrv.HeartbeatPub.CountLog = 0
		return
	}
	n.hb.pubNext = n.hb.pubNext.Add(n.hb.pubPeriod)
	if !n.hb.pubNext.After(now) {
		n.hb.pubNext = now.Add(n.hb.pubPeriod)
	}
}

func (n *Node) hbDeadline() (time.Time, bool) {
	return n.hb.pubNext, n.hb.pubPeriod > 0
}

// sendHeartbeat sends one Heartbeat control message with the publication's
// destination, TTL and NetKey.
//
//go:noinline
func (n *Node) sendHeartbeat(now time.Time) {
	p := &n.cfgSrv.HeartbeatPub
	sub := n.subnetIndexOf(p.NetKeyIndex)
	if sub < 0 {
		return
	}
	n.hbMsg = transport.Heartbeat{InitTTL: p.TTL & 0x7f, Features: n.hbFeatures()}
	if n.sendControl(now, n.subnets[sub].txKeys(), n.addr, p.Destination, p.TTL&0x7f, &n.hbMsg) == nil {
		n.stats.HeartbeatsSent++
	}
}

// onHeartbeat counts a received heartbeat against the subscription
// (§3.6.7.3): source and destination must match and the period must run.
//
//go:noinline
func (n *Node) onHeartbeat(now time.Time, h *network.Header, m *transport.Heartbeat) {
	n.stats.HeartbeatsRx++
	s := &n.cfgSrv.HeartbeatSub
	if s.PeriodLog == 0 || h.SRC != s.Source || h.DST != s.Destination || !now.Before(n.hb.subEnd) {
		return
	}
	hops := uint8(1)
	if m.InitTTL >= h.TTL {
		hops = m.InitTTL - h.TTL + 1
	}
	if n.hb.subCount < 0xffff {
		n.hb.subCount++
	}
	if hops < s.MinHops {
		s.MinHops = hops
	}
	if hops > s.MaxHops {
		s.MaxHops = hops
	}
	s.CountLog = hbLog(uint32(n.hb.subCount), true)
	if n.cfg.OnHeartbeat != nil {
		n.cfg.OnHeartbeat(h.SRC, h.DST, hops, m.Features)
	}
}

// HeartbeatSubscription returns the Heartbeat Subscription state at now
// with the exact count (the Status message carries only its log).
func (n *Node) HeartbeatSubscription(now time.Time) (s access.HeartbeatSubscription, count uint16) {
	n.hbSubRefresh(now)
	return n.cfgSrv.HeartbeatSub, n.hb.subCount
}

// resetPubHB forgets the publication and heartbeat states (Config Node
// Reset): the models' publications and subscriptions go with models() at
// the next provisioning.
func (n *Node) resetPubHB() {
	n.hb = hbState{}
	n.cfgSrv.HeartbeatPub = access.HeartbeatPublication{}
	n.cfgSrv.HeartbeatSub = access.HeartbeatSubscription{}
	for i := range n.pubs {
		p := &n.pubs[i]
		p.addr, p.period, p.left, p.buf = 0, 0, 0, p.buf[:0]
	}
	for i := range n.cfgSrv.Models {
		m := &n.cfgSrv.Models[i]
		m.Pub, m.PubLabel = access.ModelPublication{}, [16]byte{}
		m.Subs, m.Labels = m.Subs[:0], m.Labels[:0]
	}
	n.labels = n.labels[:0]
}
