package main

import (
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// H:4 framing of the radio link (Core Vol 4 Part A §2, Part E §7).
const (
	h4Command = 0x01
	h4Event   = 0x04

	evtLEMeta                          = 0x3e
	subLEAdvReport                     = 0x02
	opLESetAdvData                     = 0x2008 // LE Set Advertising Data
	adTypeMeshMsg                      = 0x2a   // «Mesh Message» AD type
	maxAdvData                         = 31
	h4EventHdr                         = 3 // indicator, event code, parameter length
	advReportFixed                     = 10
	opGenericOnOffSet    access.Opcode = 0x8202
	opGenericOnOffStatus access.Opcode = 0x8204
)

// meshState is the mesh node side: keys, caches and scratch space, all
// allocated once.
type meshState struct {
	cfg   *Config
	keys  network.Keys
	app   transport.AccessKey
	cache *network.Cache
	rpl   *transport.ReplayList
	reasm *transport.Reassembler
	seq   uint32
	tid   uint8

	// Scratch values live here rather than on the stack: a 4 KiB goroutine
	// stack on Cortex-M, and no escape to the heap through interfaces.
	h      network.Header
	lp     transport.LowerPDU
	meta   transport.AccessMeta
	rx     transport.RxInfo
	reMsg  transport.Reassembled
	ackOut transport.AckOut
	acks   []transport.AckOut
	ackMsg transport.SegmentAck
	tpdu   [network.MaxPDULen]byte
	lower  [network.MaxPDULen]byte
	params [transport.MaxUnsegControlLen]byte
	pdu    [network.MaxPDULen]byte
	upper  [transport.MaxUnsegAccessLen]byte
	acc    [access.MaxPayloadLen + 8]byte
}

func (m *meshState) init(cfg *Config) {
	m.cfg = cfg
	m.keys.Derive(cfg.NetKey, []byte{0})
	m.app = transport.NewAppKey(cfg.AppKey)
	m.cache = network.NewCache(network.CacheConfig{Size: 64})
	m.rpl = transport.NewReplayList(transport.ReplayConfig{Size: 32})
	m.reasm = transport.NewReassembler(transport.ReassemblyConfig{MaxMessages: 2, MaxPDULen: 128, Replay: m.rpl})
	m.acks = make([]transport.AckOut, 0, 4)
	m.seq = cfg.SeqStart
}

// accepts reports whether the gateway bridges messages sent to dst.
func (m *meshState) accepts(dst uint16) bool {
	if dst == m.cfg.Address || dst == access.AddrAllNodes {
		return true
	}
	for _, a := range m.cfg.Groups {
		if a == dst {
			return true
		}
	}
	return false
}

// pollRadio handles the H:4 packets buffered from the radio.
func (g *Gateway) pollRadio(now time.Time) {
	in := g.radioIn
	for range pollBudget {
		// Flow control: while the session drains the uplink queue, leave
		// frames in the ring when it is full; the UART then stops reading,
		// which holds off the controller (RTS/CTS on a real H:4 link).
		// While the session is down, frames are handled (and relayed) and
		// their messages dropped.
		if g.sess.state == stUp && g.up.Len() >= g.up.Cap() {
			return
		}
		hdr, ok := in.TryPeek(h4EventHdr)
		if !ok {
			return
		}
		if hdr[0] != h4Event {
			// The host end of an H:4 link only receives events; anything else
			// means the stream lost its framing, which H:4 cannot recover.
			g.stats.RadioErrors++
			_, _ = in.Discard(in.Buffered())
			return
		}
		n := h4EventHdr + int(hdr[2])
		pkt, ok := in.TryPeek(n)
		if !ok {
			return
		}
		g.stats.RadioFrames++
		if pkt[1] == evtLEMeta && n > h4EventHdr && pkt[3] == subLEAdvReport {
			g.advReports(now, pkt[4:])
		}
		// Command Complete and other events are acknowledgments of our
		// commands and need no action.
		_, _ = in.Discard(n)
	}
}

// advReports walks the reports of an LE Advertising Report event: Num_Reports,
// then per report Event_Type, Address_Type, Address[6], Data_Length, Data,
// RSSI.
func (g *Gateway) advReports(now time.Time, p []byte) {
	if len(p) < 1 {
		g.stats.RadioErrors++
		return
	}
	num := int(p[0])
	p = p[1:]
	for range num {
		if len(p) < advReportFixed {
			g.stats.RadioErrors++
			return
		}
		l := int(p[8])
		if l > maxAdvData || len(p) < advReportFixed+l {
			g.stats.RadioErrors++
			return
		}
		g.advData(now, p[9:9+l])
		p = p[advReportFixed+l:]
	}
}

// advData walks the AD structures of one advertisement.
func (g *Gateway) advData(now time.Time, d []byte) {
	for len(d) > 0 {
		l := int(d[0])
		if l == 0 {
			return // padding
		}
		if 1+l > len(d) {
			g.stats.RadioErrors++
			return
		}
		if d[1] == adTypeMeshMsg {
			g.rxNetwork(now, d[2:1+l])
		}
		d = d[1+l:]
	}
}

func (g *Gateway) rxNetwork(now time.Time, raw []byte) {
	m := &g.mesh
	g.stats.MeshRx++
	tpdu, err := m.keys.Open(m.tpdu[:0], &m.h, raw, g.cfg.IVIndex)
	if err != nil {
		g.stats.NetDropped++
		return
	}
	h := &m.h
	if h.SRC == g.cfg.Address {
		return // our own PDU, relayed back
	}
	if !m.cache.Add(h.IVIndex, h.SRC, h.SEQ) {
		g.stats.Duplicates++
		return
	}
	if !g.cfg.NoRelay && h.TTL >= 2 && h.DST != g.cfg.Address {
		if out, err := m.keys.Relay(m.pdu[:0], *h, tpdu); err == nil {
			if g.radioSend(out) {
				g.stats.Relayed++
			}
		}
	}
	if m.accepts(h.DST) {
		g.rxLower(now, tpdu)
	}
}

func (g *Gateway) rxLower(now time.Time, tpdu []byte) {
	m := &g.mesh
	h := &m.h
	if _, err := m.lp.Decode(tpdu, h.CTL); err != nil {
		g.stats.UpperDropped++
		return
	}
	if !m.lp.Seg {
		if m.lp.CTL {
			return // unsegmented control messages (heartbeats, friendship) are not bridged
		}
		seqAuth := uint64(h.IVIndex)<<24 | uint64(h.SEQ)
		if !m.rpl.Check(h.SRC, seqAuth) {
			g.stats.Replays++
			return
		}
		m.meta = transport.AccessMeta{SEQ: h.SEQ, SRC: h.SRC, DST: h.DST, IVIndex: h.IVIndex}
		if g.rxUpper(m.lp.AKF, m.lp.AID, m.lp.Payload) {
			m.rpl.Accept(h.SRC, seqAuth)
		}
		return
	}
	m.rx = transport.RxInfo{Now: now, SRC: h.SRC, DST: h.DST, IVIndex: h.IVIndex, SEQ: h.SEQ, TTL: h.TTL}
	flags, err := m.reasm.Receive(&m.rx, &m.lp, &m.reMsg, &m.ackOut)
	if err == transport.ErrReplay {
		g.stats.Replays++
	}
	if flags&transport.SendAck != 0 {
		g.sendAck(&m.ackOut)
	}
	if flags&transport.Complete == 0 || m.reMsg.CTL {
		return
	}
	r := &m.reMsg
	m.meta = transport.AccessMeta{SEQ: uint32(r.SeqAuth & 0xffffff), SRC: r.SRC, DST: r.DST,
		IVIndex: uint32(r.SeqAuth >> 24), SZMIC: r.SZMIC}
	g.rxUpper(r.AKF, r.AID, r.PDU)
}

// rxUpper decrypts an upper transport access PDU with the application key
// and bridges the access message. It reports whether the PDU verified.
func (g *Gateway) rxUpper(akf bool, aid uint8, upper []byte) bool {
	m := &g.mesh
	if !akf || aid != m.app.AID {
		g.stats.UpperDropped++ // device-key traffic is for the configuration models
		return false
	}
	pl, err := m.app.Open(m.acc[:0], &m.meta, upper)
	if err != nil {
		g.stats.UpperDropped++
		return false
	}
	op, k, err := access.DecodeOpcode(pl)
	if err != nil {
		g.stats.UpperDropped++
		return true
	}
	g.stats.Delivered++
	g.bridgeUp(m.meta.SRC, op, pl[k:])
	return true
}

// bridgeUp queues the MQTT message for one access message.
func (g *Gateway) bridgeUp(src uint16, op access.Opcode, params []byte) {
	var qos byte = 1
	if g.cfg.QoS0 {
		qos = 0
	}
	if op == opGenericOnOffStatus && (len(params) == 1 || len(params) == 3) && params[0] <= 1 {
		var v [1]byte
		v[0] = '0' + params[0]
		g.enqueueUp(qos, src, "onoff", 0, false, v[:])
		return
	}
	g.enqueueUp(qos, src, "op/", uint32(op), true, params)
}

// enqueueUp builds an uplink message in a pooled buffer, laid out as QoS,
// topic length, topic, payload, and queues it for the session.
func (g *Gateway) enqueueUp(qos byte, src uint16, leaf string, op uint32, withOp bool, payload []byte) {
	tl := len(g.prefix) + len("/mesh/XXXX/") + len(leaf)
	if withOp {
		tl += 6
	}
	b := g.getBuf(2 + tl + len(payload))
	if b == nil {
		return
	}
	d := append(b.B[:0], qos, 0)
	d = append(d, g.prefix...)
	d = append(d, "/mesh/"...)
	d = appendHex4(d, src)
	d = append(d, '/')
	d = append(d, leaf...)
	if withOp {
		d = appendHex(d, op)
	}
	d[1] = byte(len(d) - 2)
	d = append(d, payload...)
	b.B = d
	if !g.up.TryPush(b) {
		g.stats.Dropped++
		g.putBuf(b)
	}
}

// meshTick runs the reassembler's timers: segment acknowledgments and
// incomplete-message timeouts.
func (g *Gateway) meshTick(now time.Time) {
	m := &g.mesh
	d, ok := m.reasm.NextDeadline()
	if !ok || now.Before(d) {
		return
	}
	m.acks = m.reasm.Tick(now, m.acks[:0])
	for i := range m.acks {
		g.sendAck(&m.acks[i])
	}
}

// sendAck sends a Segment Acknowledgment control message.
func (g *Gateway) sendAck(a *transport.AckOut) {
	m := &g.mesh
	m.ackMsg = a.Ack
	params, err := m.ackMsg.AppendBinary(m.params[:0])
	if err != nil {
		return
	}
	m.lp = transport.LowerPDU{CTL: true, Opcode: transport.OpSegmentAck, Payload: params}
	if g.sendLower(a.From, a.To, true) {
		g.stats.AcksSent++
	}
}

// sendAccess sends an unsegmented access message secured with the
// application key.
func (g *Gateway) sendAccess(dst uint16, payload []byte) bool {
	m := &g.mesh
	m.meta = transport.AccessMeta{SEQ: m.seq, SRC: g.cfg.Address, DST: dst, IVIndex: g.cfg.IVIndex}
	upper, err := m.app.Seal(m.upper[:0], &m.meta, payload)
	if err != nil {
		return false
	}
	m.lp = transport.LowerPDU{AKF: true, AID: m.app.AID, Payload: upper}
	return g.sendLower(g.cfg.Address, dst, false)
}

// sendLower seals m.lp in a network PDU with the next sequence number and
// queues it for the radio.
func (g *Gateway) sendLower(src, dst uint16, ctl bool) bool {
	m := &g.mesh
	tpdu, err := m.lp.AppendBinary(m.lower[:0])
	if err != nil {
		return false
	}
	m.h = network.Header{CTL: ctl, TTL: g.cfg.TTL, SEQ: m.seq, SRC: src, DST: dst, IVIndex: g.cfg.IVIndex}
	m.seq = (m.seq + 1) & 0xffffff
	pdu, err := m.keys.Seal(m.pdu[:0], &m.h, tpdu)
	if err != nil {
		return false
	}
	return g.radioSend(pdu)
}

// radioSend queues a network PDU as an H:4 LE Set Advertising Data command
// carrying one «Mesh Message» AD structure.
func (g *Gateway) radioSend(pdu []byte) bool {
	if len(pdu) > network.MaxPDULen {
		return false
	}
	const n = 4 + 1 + maxAdvData
	b := g.getBuf(n)
	if b == nil {
		return false
	}
	d := b.B[:0]
	d = append(d, h4Command, byte(opLESetAdvData&0xff), byte(opLESetAdvData>>8), 1+maxAdvData)
	d = append(d, byte(2+len(pdu)), byte(1+len(pdu)), adTypeMeshMsg)
	d = append(d, pdu...)
	for len(d) < n {
		d = append(d, 0) // Advertising_Data is always 31 octets
	}
	b.B = d
	if !g.down.TryPush(b) {
		g.stats.Dropped++
		g.putBuf(b)
		return false
	}
	return true
}

// sendOnOff sends a Generic OnOff Set (acknowledged: the server answers with
// a Status, which comes back up as an MQTT message) to dst.
func (g *Gateway) sendOnOff(dst uint16, on bool) bool {
	m := &g.mesh
	m.tid++
	var v byte
	if on {
		v = 1
	}
	p := m.params[:0]
	p = append(p, byte(opGenericOnOffSet>>8), byte(opGenericOnOffSet&0xff), v, m.tid)
	return g.sendAccess(dst, p)
}
