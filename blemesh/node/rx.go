package node

import (
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/beacon"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// Receive processes one received mesh AD structure. a.Payload is not
// retained. Receiving an application message does not allocate.
func (n *Node) Receive(now time.Time, a *bearer.Adv) {
	switch a.Type {
	case bearer.TypeMessage:
		n.stats.RxMessages++
		if n.provisioned {
			if n.lpnAsleep(now) {
				n.stats.LPNAsleepDropped++
				break
			}
			n.rxNetwork(now, a.Payload)
		}
	case bearer.TypeBeacon:
		n.stats.RxBeacons++
		n.rxBeacon(now, a.Payload)
	case bearer.TypePBADV:
		n.stats.RxPBADV++
		n.rxPBADV(now, a.Payload)
	}
	if n.cfgPending {
		n.cfgPending = false
		n.handleConfig(now, n.cfgSrc, n.cfgDst, 0, n.cfgOp, n.cfgIn[:n.cfgLen], false)
	}
	n.flush(now)
}

func (n *Node) rxNetwork(now time.Time, raw []byte) {
	var h network.Header
	idx, tpdu, err := network.OpenAny(n.tpdu[:0], &h, raw, n.iv.IVIndex, n.netSets)
	if err != nil {
		n.stats.NetDropped++
		return
	}
	info := n.netInfo[idx]
	if n.isMine(h.SRC) {
		n.stats.OwnDropped++
		return
	}
	if !n.cache.Add(h.IVIndex, h.SRC, h.SEQ) {
		n.stats.Duplicates++
		return
	}
	if info.friend >= 0 && info.friend != lpnSlot {
		// From one of our Low Power Nodes, with friendship credentials.
		n.rxFromLPN(now, info.friend, &h, tpdu)
		return
	}
	if info.friend < 0 {
		if f := n.friendFor(h.DST); f >= 0 {
			n.friendEnqueue(now, f, &h, tpdu)
			return
		}
		if n.cfgSrv.Relay == access.FeatureEnabled && h.TTL >= 2 && !n.isMine(h.DST) {
			if e := n.txAlloc(now, bearer.TypeMessage, n.cfg.RelayCount); e != nil {
				keys := &n.netSets[idx]
				if out, err := keys.Relay(e.buf[:0], h, tpdu); err == nil {
					e.n = uint8(len(out))
					n.stats.Relayed++
				} else {
					e.used = false
				}
			}
		}
	}
	if n.accepts(h.DST) {
		n.rxLower(now, &h, info.sub, tpdu)
	}
	if info.friend == lpnSlot {
		n.lpnResponse(now)
	}
}

func (n *Node) rxLower(now time.Time, h *network.Header, sub int, tpdu []byte) {
	var lp transport.LowerPDU
	if _, err := lp.Decode(tpdu, h.CTL); err != nil {
		n.stats.UpperDropped++
		return
	}
	if !lp.Seg {
		if lp.CTL {
			n.rxControl(now, h, sub, lp.Opcode, lp.Payload)
			return
		}
		seqAuth := uint64(h.IVIndex)<<24 | uint64(h.SEQ)
		if !n.rpl.Check(h.SRC, seqAuth) {
			n.stats.Replays++
			return
		}
		meta := transport.AccessMeta{SEQ: h.SEQ, SRC: h.SRC, DST: h.DST, IVIndex: h.IVIndex}
		n.rxUpper(now, h, sub, &meta, lp.AKF, lp.AID, lp.Payload, seqAuth, true)
		return
	}
	rx := transport.RxInfo{Now: now, SRC: h.SRC, DST: h.DST, IVIndex: h.IVIndex, SEQ: h.SEQ, TTL: h.TTL}
	flags, err := n.reasm.Receive(&rx, &lp, &n.reMsg, &n.ackOut)
	if err == transport.ErrReplay {
		n.stats.Replays++
	}
	if flags&transport.SendAck != 0 {
		n.sendAck(now, sub, &n.ackOut)
	}
	if flags&transport.Complete == 0 {
		return
	}
	m := &n.reMsg
	if m.CTL {
		n.rxControl(now, h, sub, m.Opcode, m.PDU)
		return
	}
	_ = n.store.StoreReplay(m.SRC, m.SeqAuth)
	meta := transport.AccessMeta{SEQ: uint32(m.SeqAuth & 0xffffff), SRC: m.SRC, DST: m.DST,
		IVIndex: uint32(m.SeqAuth >> 24), SZMIC: m.SZMIC}
	n.rxUpper(now, h, sub, &meta, m.AKF, m.AID, m.PDU, m.SeqAuth, false)
}

func (n *Node) sendAck(now time.Time, sub int, a *transport.AckOut) {
	if sub < 0 || !n.subnets[sub].used {
		return
	}
	ttl := n.cfgSrv.DefaultTTL
	if n.sendControl(now, n.subnets[sub].txKeys(), a.From, a.To, ttl, &a.Ack) == nil {
		n.stats.AcksSent++
	}
}

func (n *Node) rxUpper(now time.Time, h *network.Header, sub int, meta *transport.AccessMeta, akf bool, aid uint8, upper []byte, seqAuth uint64, unseg bool) {
	idx, li, pl, err := transport.OpenAnyLabel(n.accBuf[:0], meta, upper, akf, aid, n.akeys, n.labels)
	if err != nil {
		n.stats.UpperDropped++
		return
	}
	if unseg {
		n.rpl.Accept(meta.SRC, seqAuth)
		_ = n.store.StoreReplay(meta.SRC, seqAuth)
	}
	op, k, err := access.DecodeOpcode(pl)
	if err != nil {
		n.stats.UpperDropped++
		return
	}
	params := pl[k:]
	info := &n.akInfo[idx]
	switch info.kind {
	case akOwnDev:
		if n.isMine(meta.DST) && !n.cfgPending {
			// Handled when the receive path has unwound (Receive's
			// frame): configuration changes re-derive keys, which is
			// stack-hungry on TinyGo's 4 KB stacks.
			n.cfgPending, n.cfgSrc, n.cfgDst, n.cfgOp = true, meta.SRC, meta.DST, op
			n.cfgLen = copy(n.cfgIn[:], params)
		}
	case akRemoteDev:
		n.deliver(now, 0, access.ModelID{ID: ModelConfigClient}, op, params, meta, h.TTL, 0, true)
	case akApp:
		var out []int
		n.msgLabel = nil
		if li >= 0 {
			// A virtual destination: the label that authenticated
			// selects the subscribers (§3.4.2.3).
			n.msgLabel = &n.labels[li].UUID
			out = n.cfgSrv.RouteVirtual(n.msgLabel, int(info.index), op, n.route[:0])
		} else {
			out = n.cfgSrv.Route(meta.DST, int(info.index), op, n.route[:0])
		}
		for _, mi := range out {
			m := &n.cfgSrv.Models[mi]
			n.deliver(now, int(m.Element-n.addr), m.ID, op, params, meta, h.TTL, info.index, false)
		}
		n.msgLabel = nil
	}
}

func (n *Node) deliver(now time.Time, elem int, id access.ModelID, op access.Opcode, params []byte, meta *transport.AccessMeta, ttl uint8, appIdx uint16, dev bool) {
	n.stats.Delivered++
	if n.cfg.Handler == nil {
		return
	}
	n.msg = Message{Element: elem, Model: id, Opcode: op, Params: params, SRC: meta.SRC, DST: meta.DST,
		TTL: ttl, AppKeyIndex: appIdx, DevKey: dev, Label: n.msgLabel}
	n.cfg.Handler(n, now, &n.msg)
	n.msg.Params, n.msg.Label = nil, nil
}

// handleConfig runs the Configuration Server on a message secured with our
// device key and sends the status (or delivers it locally).
func (n *Node) handleConfig(now time.Time, src, dst uint16, ttl uint8, op access.Opcode, params []byte, local bool) {
	n.stats.ConfigHandled++
	var (
		status access.Opcode
		out    []byte
		ok     bool
		err    error
	)
	switch op {
	case access.OpKeyRefreshPhaseGet, access.OpKeyRefreshPhaseSet:
		status, out, ok = n.handleKRPhase(now, op, params)
	default:
		n.hbBeforeConfig(now, op)
		status, out, ok, err = n.cfgSrv.Handle(op, params, n.resp[:0])
	}
	if err != nil || !ok {
		return
	}
	n.syncKeys()
	n.syncPubs(now)
	n.hbAfterConfig(now, op, out)
	n.hbTick(now) // a feature change triggers a heartbeat at once
	if local {
		meta := transport.AccessMeta{SRC: n.addr, DST: src}
		n.deliver(now, 0, access.ModelID{ID: ModelConfigClient}, status, out, &meta, 0, 0, true)
	} else {
		ttl := n.cfgSrv.DefaultTTL
		pl, _ := status.AppendBinary(n.out[:0])
		pl = append(pl, out...)
		_ = n.sendAccess(now, n.primarySubnet(), n.addr, src, ttl, &n.akeys[0], nil, pl, false)
	}
	if n.cfgSrv.Reset {
		n.unprovision(now)
	}
}

// handleKRPhase implements Config Key Refresh Phase Get/Set (§4.3.2.51).
func (n *Node) handleKRPhase(now time.Time, op access.Opcode, p []byte) (access.Opcode, []byte, bool) {
	want := 2
	if op == access.OpKeyRefreshPhaseSet {
		want = 3
	}
	if len(p) != want {
		return 0, nil, false
	}
	idx := (uint16(p[0]) | uint16(p[1])<<8) & 0xfff
	out := n.resp[:0]
	s := n.subnetByIndex(idx)
	if s == nil {
		return access.OpKeyRefreshPhaseStatus, append(out, access.StatusInvalidNetKeyIndex, p[0], p[1]&0x0f, 0), true
	}
	st := uint8(access.StatusSuccess)
	if op == access.OpKeyRefreshPhaseSet {
		from := s.kr.Phase
		if err := s.kr.SetPhase(p[2]); err != nil {
			st = access.StatusCannotSet
		} else {
			n.krChanged(now, s, from, s.kr.Phase)
		}
	}
	return access.OpKeyRefreshPhaseStatus, append(out, st, p[0], p[1]&0x0f, s.kr.Phase), true
}

// krChanged applies a Key Refresh phase change of subnet s: revoke the old
// keys when returning to Normal, and mirror the phase in the
// Configuration Server.
func (n *Node) krChanged(now time.Time, s *subnet, from, to uint8) {
	if from == to {
		return
	}
	for i := range n.cfgSrv.NetKeys {
		e := &n.cfgSrv.NetKeys[i]
		if e.Index != s.index {
			continue
		}
		e.Phase = to
		if to == beacon.PhaseNormal {
			e.Key = e.NewKey
			s.key = s.newKey
			s.net[0] = s.net[1]
			s.bcn[0] = s.bcn[1]
			for j := range n.cfgSrv.AppKeys {
				a := &n.cfgSrv.AppKeys[j]
				if a.NetIndex == s.index && a.Updated {
					a.Key, a.Updated = a.NewKey, false
				}
			}
		}
	}
	n.syncKeys()
	n.nextBeacon = now
}

func (n *Node) rxControl(now time.Time, h *network.Header, sub int, op uint8, params []byte) {
	m, err := n.ctl.Decode(op, params)
	if err != nil {
		return
	}
	switch msg := m.(type) {
	case *transport.SegmentAck:
		n.onSegmentAck(now, h.SRC, msg)
	case *transport.FriendRequest:
		n.onFriendRequest(now, h, sub, msg)
	case *transport.FriendOffer:
		n.onFriendOffer(now, h, sub, msg)
	case *transport.FriendUpdate:
		n.onFriendUpdate(now, h, msg)
	case *transport.FriendClear:
		n.onFriendClear(now, h, msg)
	case *transport.Heartbeat:
		n.onHeartbeat(now, h, msg)
	}
}

// rxBeacon processes a Secure Network or Unprovisioned Device beacon.
func (n *Node) rxBeacon(now time.Time, raw []byte) {
	t, err := beacon.Type(raw)
	if err != nil {
		return
	}
	switch t {
	case beacon.TypeUnprovisioned:
		if n.cfg.OnUnprovisioned != nil {
			var u beacon.Unprovisioned
			if _, err := u.Decode(raw); err == nil {
				n.cfg.OnUnprovisioned(u.UUID, u.OOBInfo)
			}
		}
	case beacon.TypeSecureNetwork:
		if !n.provisioned {
			return
		}
		var sb beacon.SecureNetwork
		for i := range n.subnets {
			s := &n.subnets[i]
			if !s.used {
				continue
			}
			for k := 0; k < 2; k++ {
				if k == 1 && s.kr.Phase == beacon.PhaseNormal {
					break
				}
				if s.bcn[k].OpenSecure(&sb, raw) != nil {
					continue
				}
				n.applyIV(now, n.iv.OnBeacon(now, sb.IVIndex, sb.IVUpdate()))
				from, to := s.kr.OnBeacon(sb.KeyRefresh(), k == 1)
				n.krChanged(now, s, from, to)
				return
			}
		}
	}
}

func (n *Node) applyIV(now time.Time, ev beacon.IVEvent) {
	switch ev {
	case beacon.IVUpdateStarted:
		n.nextBeacon = now
	case beacon.IVUpdateDone, beacon.IVRecovered:
		n.resetSeq()
		n.nextBeacon = now
	}
}

// StartIVUpdate begins an IV Update initiated by this node (Mesh Protocol
// 1.1 §3.10.5): IV Index + 1, In Progress, announced by beacons.
func (n *Node) StartIVUpdate(now time.Time) error {
	if err := n.iv.Start(now); err != nil {
		return err
	}
	n.applyIV(now, beacon.IVUpdateStarted)
	n.Tick(now)
	return nil
}

// FinishIVUpdate returns to Normal operation with the new IV Index and
// resets the sequence number.
func (n *Node) FinishIVUpdate(now time.Time) error {
	if err := n.iv.Finish(now); err != nil {
		return err
	}
	n.applyIV(now, beacon.IVUpdateDone)
	n.Tick(now)
	return nil
}

// sendBeacons sends one Secure Network beacon per subnet.
func (n *Node) sendBeacons(now time.Time) {
	var buf [beacon.SecureNetworkLen]byte
	for i := range n.subnets {
		s := &n.subnets[i]
		if !s.used {
			continue
		}
		k := 0
		if s.kr.Phase == beacon.PhaseUseNew {
			k = 1
		}
		sb := beacon.SecureNetwork{Flags: s.kr.Flags() | n.iv.Flags(), NetworkID: s.bcn[k].NetworkID, IVIndex: n.iv.IVIndex}
		if out, err := s.bcn[k].SealSecure(buf[:0], &sb); err == nil {
			n.sendRaw(now, bearer.TypeBeacon, out, 0)
			n.stats.BeaconsSent++
		}
	}
}

// Tick runs the node's timers at now: retransmissions, segment
// acknowledgments, beacons, provisioning, friendship polls.
func (n *Node) Tick(now time.Time) {
	if n.provisioned {
		if n.cfgSrv.Beacon == access.FeatureEnabled && !now.Before(n.nextBeacon) {
			n.sendBeacons(now)
			n.nextBeacon = now.Add(n.cfg.BeaconInterval)
		} else if n.cfgSrv.Beacon != access.FeatureEnabled {
			n.nextBeacon = now.Add(n.cfg.BeaconInterval)
		}
		n.acks = n.reasm.Tick(now, n.acks[:0])
		for i := range n.acks {
			n.sendAck(now, n.primarySubnet(), &n.acks[i])
		}
		n.serviceSegs(now)
		n.friendTick(now)
		n.lpnTick(now)
		n.pubTick(now)
		n.hbTick(now)
	} else if !now.Before(n.nextBeacon) {
		n.sendUnprovBeacon(now)
		n.nextBeacon = now.Add(n.cfg.UnprovBeaconPeriod)
	}
	n.provTick(now)
	n.flush(now)
}

// Deadline reports when Tick must next be called.
func (n *Node) Deadline() (time.Time, bool) {
	d, ok := n.nextBeacon, true
	min := func(t time.Time, has bool) {
		if has && t.Before(d) {
			d = t
		}
	}
	min(n.txDeadline())
	if n.provisioned {
		min(n.reasm.NextDeadline())
		min(n.segDeadline())
		min(n.friendDeadline())
		min(n.lpnDeadline())
		min(n.pubDeadline())
		min(n.hbDeadline())
	}
	min(n.provDeadline())
	return d, ok
}
