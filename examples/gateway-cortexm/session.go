package main

import (
	"strconv"
	"time"

	"github.com/edgekit/edgekit/mempool"
	"github.com/edgekit/edgekit/mqtt"
)

// Session states.
const (
	stDown       = iota // waiting to (re)connect at next
	stConnecting        // CONNECT sent, waiting for CONNACK
	stUp                // CONNACK accepted
)

// inflight is an unacknowledged QoS 1 PUBLISH, kept for redelivery.
type inflight struct {
	id   mqtt.PacketID
	buf  *mempool.Buf // uplink message: QoS, topic length, topic, payload
	sent time.Time
}

// session is the MQTT client session: a poll-driven state machine on the
// mqtt codec, reading from the MQTT receive ring and writing whole packets
// with one Write each.
type session struct {
	cfg      *Config
	state    int
	next     time.Time // stDown: when to connect
	deadline time.Time // stConnecting: CONNACK timeout; stUp: PINGRESP timeout
	lastTx   time.Time
	pingOut  bool
	nextID   mqtt.PacketID
	win      []inflight // len MaxInflight; id 0 = free slot
	used     int
	limit    int // in-flight limit of this session: min(window, Receive Maximum)

	dec     *mqtt.Decoded
	connect mqtt.Connect
	pub     mqtt.Publish
	ack     mqtt.Ack
	sub     mqtt.Subscribe
	filters [1]mqtt.Subscription
	ping    mqtt.Ping
	tx      []byte // write scratch, MaxPacket bytes plus headroom
	topic   [64]byte
	status  [64]byte
	filter  [64]byte
	online  []byte
}

func (s *session) init(cfg *Config) {
	s.cfg = cfg
	s.win = make([]inflight, cfg.MaxInflight)
	s.dec = new(mqtt.Decoded)
	// Give the decoder's growable slices their capacity now, so that
	// decoding never allocates later.
	s.dec.Suback.Codes = make([]mqtt.ReasonCode, 0, 4)
	s.dec.Unsuback.Codes = make([]mqtt.ReasonCode, 0, 4)
	s.dec.Subscribe.Filters = make([]mqtt.Subscription, 0, 4)
	s.dec.Unsubscribe.Filters = make([][]byte, 0, 4)
	for _, p := range []*mqtt.Properties{&s.dec.Publish.Props, &s.dec.Connack.Props, &s.dec.Ack.Props,
		&s.dec.Suback.Props, &s.dec.Disconnect.Props, &s.dec.Auth.Props} {
		p.User = make([]mqtt.UserProperty, 0, 4)
		p.SubscriptionIDs = make([]uint32, 0, 2)
	}
	s.tx = make([]byte, 0, cfg.MaxPacket+bufSize)
	st := append(s.status[:0], cfg.TopicPrefix...)
	st = append(st, "/status"...)
	f := append(s.filter[:0], cfg.TopicPrefix...)
	f = append(f, "/cmd/#"...)
	s.connect = mqtt.Connect{
		Version:    cfg.Version,
		CleanStart: true,
		KeepAlive:  cfg.KeepAlive,
		ClientID:   []byte(cfg.ClientID),
		HasWill:    true,
		Will:       mqtt.Will{QoS: 1, Retain: true, Topic: st, Payload: []byte("offline")},
	}
	s.filters[0] = mqtt.Subscription{Filter: f, QoS: 1}
	s.sub = mqtt.Subscribe{Version: cfg.Version, Filters: s.filters[:]}
	s.ping = mqtt.Ping{Type: mqtt.TypePingreq}
	s.online = []byte("online") // a conversion per connect would allocate under TinyGo
}

// encoder is an MQTT packet. The packets passed are fields of the session,
// so the conversion to this interface does not allocate (a method value
// would: closures are heap-allocated under TinyGo).
type encoder interface {
	AppendBinary(dst []byte) ([]byte, error)
}

// writePacket encodes p into the scratch buffer and writes it with one Write.
func (g *Gateway) writePacket(now time.Time, p encoder) bool {
	s := &g.sess
	out, err := p.AppendBinary(s.tx[:0])
	if err != nil {
		return false
	}
	if _, err := g.mqttOut.Write(out); err != nil {
		return false
	}
	s.lastTx = now
	return true
}

// sessionTick connects, reconnects and keeps the session alive.
func (g *Gateway) sessionTick(now time.Time) {
	s := &g.sess
	switch s.state {
	case stDown:
		if now.Before(s.next) {
			return
		}
		_, _ = g.mqttIn.Discard(g.mqttIn.Buffered()) // leftovers of the old session
		s.state = stConnecting
		s.deadline = now.Add(g.cfg.ConnectTimeout)
		g.writePacket(now, &s.connect)
	case stConnecting:
		if !now.Before(s.deadline) {
			g.sessionLost(now, true)
		}
	case stUp:
		for i := range s.win {
			if w := &s.win[i]; w.id != 0 && now.Sub(w.sent) >= g.cfg.AckTimeout {
				g.sessionLost(now, true) // the link is dead; redeliver on the next session
				return
			}
		}
		ka := time.Duration(g.cfg.KeepAlive) * time.Second
		if s.pingOut {
			if !now.Before(s.deadline) {
				g.sessionLost(now, true) // no PINGRESP within the keep-alive
			}
			return
		}
		if now.Sub(s.lastTx) >= ka/2 {
			if g.writePacket(now, &s.ping) {
				s.pingOut = true
				s.deadline = now.Add(ka)
			}
		}
	}
}

// sessionLost ends the session: unacknowledged messages stay in the window
// and are sent again, with DUP, on the next session.
func (g *Gateway) sessionLost(now time.Time, count bool) {
	s := &g.sess
	if count {
		g.stats.Reconnects++
	}
	s.state = stDown
	s.pingOut = false
	s.next = now.Add(g.cfg.ReconnectDelay)
}

// pollMQTT handles the packets buffered from the broker.
func (g *Gateway) pollMQTT(now time.Time) {
	s := &g.sess
	in := g.mqttIn
	for range pollBudget {
		if s.state == stDown {
			return
		}
		hdr, ok := in.TryPeek(min(in.Buffered(), 5))
		if !ok || len(hdr) == 0 {
			return
		}
		n, err := mqtt.PacketLen(hdr, g.cfg.MaxPacket)
		if err == mqtt.ErrIncomplete {
			return
		}
		if err != nil {
			g.sessionLost(now, true)
			return
		}
		pkt, ok := in.TryPeek(n)
		if !ok {
			return
		}
		typ, _, err := s.dec.Decode(pkt, g.cfg.Version)
		if err != nil {
			g.sessionLost(now, true)
			return
		}
		g.handlePacket(now, typ)
		_, _ = in.Discard(n)
	}
}

func (g *Gateway) handlePacket(now time.Time, typ mqtt.PacketType) {
	s := &g.sess
	d := s.dec
	switch typ {
	case mqtt.TypeConnack:
		if s.state != stConnecting || d.Connack.Code != mqtt.Success {
			g.sessionLost(now, true)
			return
		}
		// MQTT 5: the broker's Receive Maximum bounds our window (§3.2.2.3.3).
		s.limit = len(s.win)
		if d.Connack.Props.Present.Has(mqtt.PropReceiveMax) && int(d.Connack.Props.ReceiveMax) < s.limit {
			s.limit = int(d.Connack.Props.ReceiveMax)
		}
		s.state = stUp
		g.stats.Connects++
		s.pingOut = false
		g.onConnected(now)
	case mqtt.TypePublish:
		p := &d.Publish
		g.command(now, p.Topic, p.Payload)
		if p.QoS == 1 {
			s.ack = mqtt.Ack{Type: mqtt.TypePuback, Version: g.cfg.Version, ID: p.ID}
			g.writePacket(now, &s.ack)
		}
	case mqtt.TypePuback:
		for i := range s.win {
			if w := &s.win[i]; w.id != 0 && w.id == d.Ack.ID {
				g.putBuf(w.buf)
				*w = inflight{}
				s.used--
				g.stats.Acked++
				break
			}
		}
	case mqtt.TypePingresp:
		s.pingOut = false
	case mqtt.TypeSuback:
		for _, c := range d.Suback.Codes {
			if c.IsError() {
				g.stats.BadCommands++ // no command topic: nothing can reach us
			}
		}
	case mqtt.TypeDisconnect:
		g.sessionLost(now, true)
	}
}

// onConnected announces the gateway, subscribes to the command topics and
// sends the unacknowledged messages of the previous session again.
func (g *Gateway) onConnected(now time.Time) {
	s := &g.sess
	s.pub = mqtt.Publish{Version: g.cfg.Version, QoS: 0, Retain: true, Topic: s.connect.Will.Topic, Payload: s.online}
	g.writePacket(now, &s.pub)
	s.sub.ID = s.newID()
	g.writePacket(now, &s.sub)
	for i := range s.win {
		if w := &s.win[i]; w.id != 0 {
			w.sent = now
			g.writeUp(now, w.buf, w.id, true)
		}
	}
}

// newID returns the next packet identifier not in the window.
func (s *session) newID() mqtt.PacketID {
	for {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		free := true
		for i := range s.win {
			if s.win[i].id == s.nextID {
				free = false
				break
			}
		}
		if free {
			return s.nextID
		}
	}
}

// pumpUplink sends queued mesh messages while the session is up and the
// in-flight window has room.
func (g *Gateway) pumpUplink(now time.Time) {
	s := &g.sess
	for s.state == stUp && s.used < s.limit {
		b, ok := g.up.TryPop()
		if !ok {
			return
		}
		if b.B[0] == 0 {
			g.writeUp(now, b, 0, false)
			g.putBuf(b)
			continue
		}
		id := s.newID()
		for i := range s.win {
			if s.win[i].id == 0 {
				s.win[i] = inflight{id: id, buf: b, sent: now}
				s.used++
				break
			}
		}
		g.writeUp(now, b, id, false)
	}
}

// writeUp writes the PUBLISH for an uplink message.
func (g *Gateway) writeUp(now time.Time, b *mempool.Buf, id mqtt.PacketID, dup bool) {
	s := &g.sess
	tl := int(b.B[1])
	s.pub = mqtt.Publish{Version: g.cfg.Version, QoS: b.B[0], Dup: dup, ID: id,
		Topic: b.B[2 : 2+tl], Payload: b.B[2+tl:]}
	if g.writePacket(now, &s.pub) {
		g.stats.Published++
	}
}

// command executes a command received on <prefix>/cmd/...
func (g *Gateway) command(now time.Time, topic, payload []byte) {
	g.stats.Commands++
	p := g.prefix
	if len(topic) < len(p)+5 || !eqBytes(topic[:len(p)], p) || !eq(topic[len(p):len(p)+5], "/cmd/") {
		g.stats.BadCommands++
		return
	}
	rest := topic[len(p)+5:]
	if eq(rest, "stats") {
		g.publishStats(now)
		return
	}
	// <DST>/onoff
	if len(rest) != 10 || !eq(rest[4:], "/onoff") {
		g.stats.BadCommands++
		return
	}
	dst, ok := parseHex4(rest[:4])
	if !ok || dst == 0 {
		g.stats.BadCommands++
		return
	}
	var on bool
	switch {
	case eq(payload, "1") || eq(payload, "on") || eq(payload, "ON"):
		on = true
	case eq(payload, "0") || eq(payload, "off") || eq(payload, "OFF"):
	default:
		g.stats.BadCommands++
		return
	}
	if !g.sendOnOff(dst, on) {
		g.stats.BadCommands++
	}
}

// publishStats publishes the counters (and the heap counters, when the board
// reports them) on <prefix>/stats with QoS 0.
func (g *Gateway) publishStats(now time.Time) {
	s := &g.sess
	d := g.stat[:0]
	st := &g.stats
	d = appendStat(d, "rx", st.MeshRx)
	d = appendStat(d, "delivered", st.Delivered)
	d = appendStat(d, "published", st.Published)
	d = appendStat(d, "acked", st.Acked)
	d = appendStat(d, "commands", st.Commands)
	d = appendStat(d, "meshtx", st.MeshTx)
	d = appendStat(d, "relayed", st.Relayed)
	d = appendStat(d, "dropped", st.Dropped)
	d = appendStat(d, "netdropped", st.NetDropped)
	d = appendStat(d, "dup", st.Duplicates)
	d = appendStat(d, "replays", st.Replays)
	d = appendStat(d, "reconnects", st.Reconnects)
	if g.cfg.HeapStats != nil {
		mallocs, inuse := g.cfg.HeapStats()
		d = appendStat(d, "mallocs", mallocs)
		d = appendStat(d, "heap", inuse)
	}
	t := append(s.topic[:0], g.prefix...)
	t = append(t, "/stats"...)
	s.pub = mqtt.Publish{Version: g.cfg.Version, Topic: t, Payload: d[:len(d)-1]}
	g.writePacket(now, &s.pub)
}

// eqBytes is bytes.Equal, which TinyGo compiles to two heap-allocated
// string conversions.
func eqBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// eq reports whether b holds s, without converting either (which may
// allocate under TinyGo).
func eq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

func appendStat(d []byte, name string, v uint64) []byte {
	d = append(d, name...)
	d = append(d, '=')
	d = strconv.AppendUint(d, v, 10)
	return append(d, ' ')
}
