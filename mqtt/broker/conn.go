package broker

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// conn is one network connection. The reading goroutine runs serve; a
// writing goroutine (writeLoop) runs while s has something to write.
type conn struct {
	b       *Broker
	nc      net.Conn
	info    *ClientInfo
	s       *session
	version mqtt.Version
	ka      time.Duration // read deadline period; 0: none

	// Reader only (the connection's goroutine, or the event-loop worker
	// that holds it).
	rbuf     []byte // goroutine mode: read buffer, rbuf[rp:rn] unread
	rp, rn   int
	partial  []byte // event mode: the start of an incomplete packet
	pause    time.Duration
	inAlias  [][]byte
	scratch  []*entry
	tokens   float64
	lastTok  time.Time
	will     *mqtt.Will
	willDly  uint32
	normal   bool // DISCONNECT without will received
	takenBy  bool // replaced by another connection
	authMeth []byte

	// Guarded by s.mu once attached.
	ctrl        []byte
	writing     bool
	dead        bool
	resend      bool
	window      int
	peerMax     int
	peerAliases uint16
	outAlias    map[string]uint16

	// Writer only (under wmu).
	wmu  sync.Mutex
	wbuf []byte

	shutOnce sync.Once

	// Event mode (see evloop.go).
	cmu      sync.Mutex
	pmu      sync.Mutex // held by the event-loop worker processing c
	killed   bool
	ev       bool
	fd       int
	key      uint32
	lastRead atomic.Int64
	kaFired  atomic.Bool
}

// errDisconnect carries the reason code the broker sends in DISCONNECT.
type errDisconnect struct {
	code mqtt.ReasonCode
	err  error
}

func (e *errDisconnect) Error() string {
	if e.err != nil {
		return "broker: " + e.code.String() + ": " + e.err.Error()
	}
	return "broker: " + e.code.String()
}
func (e *errDisconnect) Unwrap() error { return e.err }

func disconnect(code mqtt.ReasonCode, err error) error { return &errDisconnect{code, err} }

// serve runs a connection to its end, or until it is handed to the event
// loop (allowEv), which then ends it.
func (b *Broker) serve(nc net.Conn, allowEv bool) error {
	if b.nconns.Add(1) > int64(b.cfg.MaxConnections) {
		b.nconns.Add(-1)
		b.st.refused.Add(1)
		// Answer a CONNECT if one arrives quickly, then close.
		nc.SetDeadline(time.Now().Add(time.Second))
		fr := mqtt.NewFramer(nc, nil, mqtt.FramerConfig{MaxPacketSize: 4096, ReadBufferSize: 256})
		if p, err := fr.ReadPacket(); err == nil {
			if cp, ok := p.(*mqtt.Connect); ok {
				c := &conn{b: b, nc: nc, version: cp.Version}
				c.refuse(mqtt.ServerBusy)
			}
		}
		nc.Close()
		return ErrTooManyConnections
	}
	b.st.connsTotal.Add(1)
	c := &conn{b: b, nc: nc}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.nconns.Add(-1)
		nc.Close()
		return ErrClosed
	}
	b.conns[c] = struct{}{}
	b.mu.Unlock()
	err := c.run(allowEv)
	if err == errHandoff {
		return nil
	}
	return c.end(err)
}

// end finishes a connection and forgets it.
func (c *conn) end(err error) error {
	b := c.b
	c.finish(err)
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	b.nconns.Add(-1)
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || err == errNormal {
		err = nil
	}
	return err
}

// errNormal ends a connection after the client's DISCONNECT.
var errNormal = errors.New("broker: normal disconnection")

// errHandoff reports that the event loop took the connection over.
var errHandoff = errors.New("broker: handed to the event loop")

// next reads the next packet into d (goroutine mode). The packet aliases
// c.rbuf until the next call.
func (c *conn) next(d *mqtt.Decoded) (mqtt.PacketType, error) {
	raw, err := c.nextRaw()
	if err != nil {
		return 0, err
	}
	return c.decode(raw, d)
}

// decode decodes one whole packet into d.
func (c *conn) decode(raw []byte, d *mqtt.Decoded) (mqtt.PacketType, error) {
	t, _, err := d.Decode(raw, c.version)
	if err != nil {
		return t, c.readErr(err)
	}
	return t, nil
}

// nextRaw reads the next whole packet (goroutine mode) and returns its
// bytes, which alias c.rbuf until the next call.
func (c *conn) nextRaw() ([]byte, error) {
	limit := c.b.cfg.MaxPacketSize
	for {
		need := 5
		if c.rn > c.rp {
			n, err := mqtt.PacketLen(c.rbuf[c.rp:c.rn], limit)
			switch {
			case err == nil && c.rn-c.rp >= n:
				raw := c.rbuf[c.rp : c.rp+n]
				c.rp += n
				if c.rp == c.rn {
					c.rp, c.rn = 0, 0
				}
				return raw, nil
			case err == nil:
				need = n
			case err != mqtt.ErrIncomplete:
				return nil, c.readErr(err)
			}
		}
		// Make room for need bytes from rp.
		if c.rp > 0 {
			c.rn = copy(c.rbuf, c.rbuf[c.rp:c.rn])
			c.rp = 0
		}
		if need > len(c.rbuf) {
			nb := make([]byte, max(need, c.b.cfg.ReadBufferSize))
			copy(nb, c.rbuf[:c.rn])
			c.rbuf = nb
		} else if c.rn == 0 && len(c.rbuf) > 4*c.b.cfg.ReadBufferSize {
			c.rbuf = make([]byte, c.b.cfg.ReadBufferSize) // shrink after a large packet
		}
		n, err := c.nc.Read(c.rbuf[c.rn:])
		c.rn += n
		if err != nil && n == 0 {
			if err == io.EOF && c.rn > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// readErr counts and wraps a decoding error for DISCONNECT.
func (c *conn) readErr(err error) error {
	var me *mqtt.Error
	if errors.As(err, &me) || errors.Is(err, mqtt.ErrPacketTooLarge) {
		c.b.st.packetErrors.Add(1)
		return disconnect(mqtt.ReasonOf(err), err)
	}
	return err
}

// feed decodes and handles the complete packets at the start of buf
// (event mode) and returns the bytes consumed, and how long to pause
// reading for the publish rate limit.
func (c *conn) feed(buf []byte, d *mqtt.Decoded) (int, time.Duration, error) {
	off := 0
	for off < len(buf) {
		n, err := mqtt.PacketLen(buf[off:], c.b.cfg.MaxPacketSize)
		if err == mqtt.ErrIncomplete {
			break
		}
		if err != nil {
			return off, 0, c.readErr(err)
		}
		if n > len(buf)-off {
			break
		}
		t, _, err := d.Decode(buf[off:off+n], c.version)
		if err != nil {
			return off, 0, c.readErr(err)
		}
		off += n
		if err := c.handle(t, d); err != nil {
			return off, 0, err
		}
		if c.normal {
			return off, 0, errNormal
		}
		if c.pause > 0 {
			p := c.pause
			c.pause = 0
			return off, p, nil
		}
	}
	return off, 0, nil
}

// run reads CONNECT and then every packet until the connection ends or,
// with allowEv, is handed to the event loop.
func (c *conn) run(allowEv bool) error {
	b := c.b
	d := new(mqtt.Decoded)
	c.nc.SetReadDeadline(time.Now().Add(b.cfg.ConnectTimeout))
	t, err := c.next(d)
	if err != nil {
		b.st.refused.Add(1)
		if isTimeout(err) {
			return ErrConnectTimeout
		}
		switch mqtt.ReasonOf(err) {
		case mqtt.ClientIdentifierNotValid: // [MQTT-3.1.3-9]
			c.version = d.Connect.Version
			c.refuse(mqtt.ClientIdentifierNotValid)
		case mqtt.UnsupportedProtocolVersion: // [MQTT-3.1.2-2]
			c.version = mqtt.V311
			c.refuse(mqtt.UnsupportedProtocolVersion)
		}
		return err
	}
	if t != mqtt.TypeConnect {
		b.st.refused.Add(1)
		return disconnect(mqtt.ProtocolError, errors.New("first packet is not CONNECT")) // [MQTT-3.1.0-1]
	}
	if err := c.connect(&d.Connect); err != nil {
		return err
	}
	for {
		if allowEv && c.rp == c.rn {
			if el := b.eventLoop(); el != nil && el.handoff(c) {
				return errHandoff
			}
		}
		if c.ka > 0 {
			c.nc.SetReadDeadline(time.Now().Add(c.ka))
		} else {
			c.nc.SetReadDeadline(time.Time{})
		}
		raw, err := c.nextRaw()
		if err != nil {
			if isTimeout(err) && c.ka > 0 {
				return disconnect(mqtt.KeepAliveTimeout, ErrKeepAlive) // [MQTT-3.1.2-22]
			}
			return err
		}
		// The decoded form (4 KiB) is taken from the broker's pool only
		// while a packet is handled, not while the connection waits.
		d := b.decoded.Get().(*mqtt.Decoded)
		t, err := c.decode(raw, d)
		if err == nil {
			err = c.handle(t, d)
		}
		b.decoded.Put(d)
		if err != nil {
			return err
		}
		if c.normal {
			return errNormal
		}
		if c.pause > 0 {
			time.Sleep(c.pause)
			c.pause = 0
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// handle dispatches one packet received after CONNECT.
func (c *conn) handle(t mqtt.PacketType, d *mqtt.Decoded) error {
	switch t {
	case mqtt.TypePublish:
		return c.publish(&d.Publish)
	case mqtt.TypePuback, mqtt.TypePubrec, mqtt.TypePubcomp:
		return c.ack(&d.Ack)
	case mqtt.TypePubrel:
		return c.pubrel(&d.Ack)
	case mqtt.TypeSubscribe:
		return c.subscribe(&d.Subscribe)
	case mqtt.TypeUnsubscribe:
		return c.unsubscribe(&d.Unsubscribe)
	case mqtt.TypePingreq:
		c.send(&mqtt.Ping{Type: mqtt.TypePingresp})
		return nil
	case mqtt.TypeDisconnect:
		return c.disconnectIn(&d.Disconnect)
	case mqtt.TypeAuth:
		return c.reauth(&d.Auth)
	}
	c.b.st.packetErrors.Add(1)
	return disconnect(mqtt.ProtocolError, errors.New("unexpected "+t.String()))
}

// send queues a control packet for the writer.
func (c *conn) send(p mqtt.Packet) {
	s := c.s
	s.mu.Lock()
	c.ctrl, _ = p.AppendBinary(c.ctrl)
	s.kick()
	s.mu.Unlock()
}

// writeNow writes p at once (before a session exists, or for a final
// DISCONNECT), bounded by a one-second deadline.
func (c *conn) writeNow(p mqtt.Packet) {
	buf, err := p.AppendBinary(nil)
	if err != nil {
		return
	}
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.wmu.Lock()
	c.nc.Write(buf)
	c.wmu.Unlock()
}

// refuse answers CONNECT with a failure code (translated for 3.1.1).
func (c *conn) refuse(code mqtt.ReasonCode) {
	ca := &mqtt.Connack{Version: c.version, Code: code}
	if c.version != mqtt.V5 {
		ca.Code = v3Code(code)
	}
	c.writeNow(ca)
}

// v3Code maps an MQTT 5 CONNACK reason to a 3.1.1 return code.
func v3Code(code mqtt.ReasonCode) mqtt.ReasonCode {
	switch code {
	case mqtt.Success:
		return mqtt.ConnAccepted
	case mqtt.UnsupportedProtocolVersion:
		return mqtt.ConnRefusedProtocolVersion
	case mqtt.ClientIdentifierNotValid:
		return mqtt.ConnRefusedIdentifier
	case mqtt.BadUserNameOrPassword, mqtt.BadAuthenticationMethod:
		return mqtt.ConnRefusedBadUserNameOrPwd
	case mqtt.NotAuthorized, mqtt.Banned:
		return mqtt.ConnRefusedNotAuthorized
	}
	return mqtt.ConnRefusedServerUnavail
}

// shutdown disconnects c from outside its goroutines (takeover, Close).
func (c *conn) shutdown(code mqtt.ReasonCode) {
	c.shutOnce.Do(func() {
		if c.version == mqtt.V5 && c.s != nil {
			c.writeNow(&mqtt.Disconnect{Version: mqtt.V5, Code: code})
		}
		c.kill()
	})
}

// connect handles CONNECT (§3.1) and answers CONNACK.
func (c *conn) connect(cp *mqtt.Connect) error {
	b := c.b
	c.version = cp.Version
	if c.version == mqtt.V31 {
		c.version = mqtt.V311
	}
	c.info = &ClientInfo{ID: string(cp.ClientID), Version: cp.Version, RemoteAddr: c.nc.RemoteAddr()}
	if cp.HasUsername {
		c.info.Username = append([]byte(nil), cp.Username...)
	}
	v5 := c.version == mqtt.V5
	assigned := false
	if len(cp.ClientID) == 0 {
		if !cp.CleanStart && !v5 { // [MQTT-3.1.3-8]
			c.refuse(mqtt.ClientIdentifierNotValid)
			b.st.refused.Add(1)
			return ErrRefused
		}
		c.info.ID = b.assignID()
		assigned = true
	}
	var authData []byte
	if v5 && cp.Props.Present.Has(mqtt.PropAuthMethod) {
		c.authMeth = append([]byte(nil), cp.Props.AuthMethod...)
		code, data, err := c.enhancedAuth(cp.Props.AuthData)
		if err != nil {
			return err
		}
		if code.IsError() {
			c.refuse(code)
			b.st.refused.Add(1)
			return ErrRefused
		}
		authData = data
		// enhancedAuth read AUTH packets into its own Decoded; cp is
		// intact.
	}
	if h := b.cfg.Hooks.Authenticate; h != nil {
		if code := h(c.info, cp); code.IsError() {
			c.refuse(code)
			b.st.refused.Add(1)
			return ErrRefused
		}
	}
	// Keep-alive (§3.1.2.10) and Server Keep Alive.
	ka := int(cp.KeepAlive)
	serverKA := false
	if v5 && b.cfg.MaxKeepAlive > 0 && (ka == 0 || ka > b.cfg.MaxKeepAlive) {
		ka = b.cfg.MaxKeepAlive
		serverKA = true
	}
	if ka > 0 {
		c.ka = time.Duration(ka) * time.Second * 3 / 2
	}
	// Session expiry.
	var expiry uint32
	expiryCapped := false
	if v5 {
		expiry = cp.Props.SessionExpiry
		if expiry > b.cfg.MaxSessionExpiry {
			expiry = b.cfg.MaxSessionExpiry
			expiryCapped = true
		}
	} else if !cp.CleanStart {
		expiry = b.cfg.MaxSessionExpiry
	}
	// Will.
	if cp.HasWill {
		w := cp.Will
		w.Props = cp.Will.Props.Clone()
		w.Topic = append([]byte(nil), cp.Will.Topic...)
		w.Payload = append([]byte(nil), cp.Will.Payload...)
		if b.levels(w.Topic) > b.cfg.MaxTopicLevels {
			c.refuse(mqtt.TopicNameInvalid)
			return ErrRefused
		}
		if h := b.cfg.Hooks.AuthorizePublish; h != nil {
			if code := h(c.info, w.Topic, w.QoS, w.Retain); code.IsError() {
				c.refuse(code)
				return ErrRefused
			}
		}
		c.will = &w
		c.willDly = w.Props.WillDelay
	}
	// Peer limits.
	c.window = b.cfg.MaxInflight
	if v5 {
		if cp.Props.Present.Has(mqtt.PropReceiveMax) {
			c.window = min(c.window, int(cp.Props.ReceiveMax))
		}
		if cp.Props.Present.Has(mqtt.PropMaxPacketSize) {
			c.peerMax = int(cp.Props.MaxPacketSize)
		}
		c.peerAliases = cp.Props.TopicAliasMax
	}
	ack := mqtt.Connack{Version: c.version}
	if v5 {
		pr := &ack.Props
		pr.Set(mqtt.PropReceiveMax, uint32(b.cfg.ReceiveMaximum))
		pr.Set(mqtt.PropMaxPacketSize, uint32(b.cfg.MaxPacketSize))
		if b.cfg.MaxTopicAlias > 0 {
			pr.Set(mqtt.PropTopicAliasMax, uint32(b.cfg.MaxTopicAlias))
		}
		if assigned {
			pr.SetBytes(mqtt.PropAssignedClientID, []byte(c.info.ID))
		}
		if serverKA {
			pr.Set(mqtt.PropServerKeepAlive, uint32(ka))
		}
		if expiryCapped {
			pr.Set(mqtt.PropSessionExpiry, expiry)
		}
		if c.authMeth != nil {
			pr.SetBytes(mqtt.PropAuthMethod, c.authMeth)
			if authData != nil {
				pr.SetBytes(mqtt.PropAuthData, authData)
			}
		}
	}
	// Attach the session; take over an older connection [MQTT-3.1.4-3].
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	s := b.sessions[c.info.ID]
	if s != nil && cp.CleanStart {
		if old := s.conn; old != nil {
			s.mu.Lock()
			s.conn = nil
			old.takenBy = true
			s.mu.Unlock()
			go old.shutdown(mqtt.SessionTakenOver)
		}
		b.removeSessionLocked(s)
		s = nil
	}
	present := s != nil
	if s == nil {
		if len(b.sessions) >= b.cfg.MaxSessions {
			b.mu.Unlock()
			c.refuse(mqtt.QuotaExceeded)
			b.st.refused.Add(1)
			return ErrRefused
		}
		s = b.newSessionLocked(c.info.ID)
	}
	if s.expTimer != nil {
		s.expTimer.Stop()
		s.expTimer = nil
	}
	if s.willTimer != nil {
		s.willTimer.Stop() // [MQTT-3.1.3-9]: a new connection cancels a delayed will
		s.willTimer = nil
	}
	ack.SessionPresent = present && !cp.CleanStart
	if !v5 && ack.Code == mqtt.Success {
		ack.Code = mqtt.ConnAccepted
	}
	c.s = s
	s.mu.Lock()
	var old *conn
	if s.conn != nil {
		old = s.conn
		old.takenBy = true
	}
	s.conn = c
	s.expiry = expiry
	if len(s.inflight) > 0 {
		c.resend = true
	}
	c.ctrl, _ = ack.AppendBinary(c.ctrl)
	s.kick()
	s.mu.Unlock()
	b.mu.Unlock()
	b.storeSession(s)
	if old != nil {
		go old.shutdown(mqtt.SessionTakenOver)
	}
	if h := b.cfg.Hooks.OnConnect; h != nil {
		h(c.info)
	}
	return nil
}

// enhancedAuth runs the AUTH exchange of §4.12 during CONNECT.
func (c *conn) enhancedAuth(data []byte) (mqtt.ReasonCode, []byte, error) {
	h := c.b.cfg.Hooks.EnhancedAuth
	if h == nil {
		return mqtt.BadAuthenticationMethod, nil, nil
	}
	data = append([]byte(nil), data...)
	for range maxAuthRounds {
		code, out := h(c.info, c.authMeth, data)
		if code != mqtt.ContinueAuthentication {
			return code, out, nil
		}
		a := &mqtt.Auth{Version: mqtt.V5, Code: mqtt.ContinueAuthentication}
		a.Props.SetBytes(mqtt.PropAuthMethod, c.authMeth)
		if out != nil {
			a.Props.SetBytes(mqtt.PropAuthData, out)
		}
		c.writeNow(a)
		var in mqtt.Decoded
		t, err := c.next(&in)
		if err != nil {
			return 0, nil, err
		}
		if t != mqtt.TypeAuth || in.Auth.Code != mqtt.ContinueAuthentication ||
			string(in.Auth.Props.AuthMethod) != string(c.authMeth) {
			return mqtt.ProtocolError, nil, nil
		}
		data = append(data[:0], in.Auth.Props.AuthData...)
	}
	return mqtt.NotAuthorized, nil, nil
}

// reauth handles AUTH after CONNACK: re-authentication (§4.12.1).
func (c *conn) reauth(a *mqtt.Auth) error {
	h := c.b.cfg.Hooks.EnhancedAuth
	if c.authMeth == nil || h == nil || string(a.Props.AuthMethod) != string(c.authMeth) {
		return disconnect(mqtt.ProtocolError, errors.New("unexpected AUTH")) // [MQTT-4.12.0-7]
	}
	code, out := h(c.info, c.authMeth, a.Props.AuthData)
	if code.IsError() {
		return disconnect(code, ErrRefused)
	}
	r := &mqtt.Auth{Version: mqtt.V5, Code: code}
	r.Props.SetBytes(mqtt.PropAuthMethod, c.authMeth)
	if out != nil {
		r.Props.SetBytes(mqtt.PropAuthData, out)
	}
	c.send(r)
	return nil
}

// ackCode sends the acknowledgement of an inbound QoS 1/2 PUBLISH.
func (c *conn) ackPub(p *mqtt.Publish, code mqtt.ReasonCode) {
	switch p.QoS {
	case 1:
		c.send(&mqtt.Ack{Type: mqtt.TypePuback, Version: c.version, ID: p.ID, Code: c.code(code)})
	case 2:
		c.send(&mqtt.Ack{Type: mqtt.TypePubrec, Version: c.version, ID: p.ID, Code: c.code(code)})
	}
}

// code hides reason codes from 3.1.1 clients.
func (c *conn) code(code mqtt.ReasonCode) mqtt.ReasonCode {
	if c.version != mqtt.V5 {
		return 0
	}
	return code
}

// throttle enforces Config.PublishRate by pausing the reader.
func (c *conn) throttle() {
	rate := float64(c.b.cfg.PublishRate)
	if rate <= 0 {
		return
	}
	now := time.Now()
	if c.lastTok.IsZero() {
		c.tokens = rate
	} else {
		c.tokens = min(rate, c.tokens+now.Sub(c.lastTok).Seconds()*rate)
	}
	c.lastTok = now
	if c.tokens < 1 {
		// Pause reading after this packet (the caller sleeps, or the
		// event loop re-arms the connection later).
		c.pause = time.Duration((1 - c.tokens) / rate * float64(time.Second))
		c.tokens = 1
		c.lastTok = now.Add(c.pause)
	}
	c.tokens--
}

// publish handles an inbound PUBLISH (§3.3).
func (c *conn) publish(p *mqtt.Publish) error {
	b := c.b
	c.throttle()
	b.st.bytesIn.Add(uint64(len(p.Payload)))
	// Topic alias (§3.3.2.3.4).
	if p.Props.Present.Has(mqtt.PropTopicAlias) {
		a := int(p.Props.TopicAlias)
		if a == 0 || a > b.cfg.MaxTopicAlias {
			return disconnect(mqtt.TopicAliasInvalid, nil) // [MQTT-3.3.2-9]
		}
		if c.inAlias == nil {
			c.inAlias = make([][]byte, b.cfg.MaxTopicAlias+1)
		}
		if len(p.Topic) == 0 {
			if c.inAlias[a] == nil {
				return disconnect(mqtt.ProtocolError, errors.New("unknown topic alias"))
			}
			p.Topic = c.inAlias[a]
		} else {
			c.inAlias[a] = append(c.inAlias[a][:0], p.Topic...)
		}
	} else if len(p.Topic) == 0 {
		return disconnect(mqtt.ProtocolError, errors.New("empty topic without alias"))
	}
	if p.QoS == 2 {
		s := c.s
		s.mu.Lock()
		_, dup := s.inQoS2[p.ID]
		n := len(s.inQoS2)
		s.mu.Unlock()
		if dup { // [MQTT-4.3.3-10]: already routed; acknowledge again
			c.ackPub(p, mqtt.Success)
			return nil
		}
		if n >= b.cfg.ReceiveMaximum {
			return disconnect(mqtt.ReceiveMaximumExceeded, nil) // [MQTT-3.3.4-9]
		}
	}
	code := mqtt.Success
	switch {
	case b.levels(p.Topic) > b.cfg.MaxTopicLevels:
		code = mqtt.TopicNameInvalid
	case len(p.Topic) >= 5 && string(p.Topic[:5]) == "$SYS/":
		code = mqtt.NotAuthorized
	}
	if code == mqtt.Success {
		if h := b.cfg.Hooks.AuthorizePublish; h != nil {
			code = h(c.info, p.Topic, p.QoS, p.Retain)
		}
	}
	if code == mqtt.Success {
		if h := b.cfg.Hooks.OnPublish; h != nil {
			code = h(c.info, p)
		}
	}
	if code.IsError() {
		b.st.denied.Add(1)
		c.ackPub(p, code)
		return nil
	}
	b.st.msgsIn.Add(1)
	m := newMessage(p, c.s, b.cfg.Now())
	if p.Retain {
		code = b.retain(m)
	}
	n := b.route(m, &c.scratch)
	if n == 0 && code == mqtt.Success {
		code = mqtt.NoMatchingSubscribers
	}
	if p.QoS == 2 && !code.IsError() {
		s := c.s
		s.mu.Lock()
		if s.inQoS2 == nil {
			s.inQoS2 = make(map[mqtt.PacketID]struct{})
		}
		s.inQoS2[p.ID] = struct{}{}
		persist := s.expiry > 0
		s.mu.Unlock()
		if persist {
			b.storePut(inKey(s.id, p.ID), nil)
		}
	}
	c.ackPub(p, code)
	return nil
}

// pubrel handles PUBREL for an inbound QoS 2 message (§3.6).
func (c *conn) pubrel(a *mqtt.Ack) error {
	s := c.s
	s.mu.Lock()
	_, ok := s.inQoS2[a.ID]
	delete(s.inQoS2, a.ID)
	persist := s.expiry > 0
	s.mu.Unlock()
	code := mqtt.Success
	if !ok {
		code = mqtt.PacketIdentifierNotFound
	} else if persist {
		c.b.storeDelete(inKey(s.id, a.ID))
	}
	c.send(&mqtt.Ack{Type: mqtt.TypePubcomp, Version: c.version, ID: a.ID, Code: c.code(code)})
	return nil
}

// ack handles PUBACK, PUBREC and PUBCOMP for outbound messages.
func (c *conn) ack(a *mqtt.Ack) error {
	s := c.s
	b := c.b
	s.mu.Lock()
	i := s.findInflight(a.ID)
	if i < 0 {
		s.mu.Unlock()
		if a.Type == mqtt.TypePubrec {
			c.send(&mqtt.Ack{Type: mqtt.TypePubrel, Version: c.version, ID: a.ID, Code: c.code(mqtt.PacketIdentifierNotFound)})
		}
		return nil
	}
	o := s.inflight[i]
	done := false
	switch a.Type {
	case mqtt.TypePuback:
		done = o.qos == 1
	case mqtt.TypePubrec:
		if o.qos != 2 {
			break
		}
		if a.Code.IsError() { // [MQTT-4.3.3-4]: the flow ends here
			done = true
			break
		}
		o.pubrel = true
		c.ctrl, _ = (&mqtt.Ack{Type: mqtt.TypePubrel, Version: c.version, ID: a.ID}).AppendBinary(c.ctrl)
		if o.key != 0 {
			b.storeOut(s, o)
		}
		s.kick()
	case mqtt.TypePubcomp:
		done = o.qos == 2 && o.pubrel
	}
	if done {
		s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
		if o.key != 0 {
			b.storeDelete(queueKey(s.id, o.key))
		}
		if s.qlen() > 0 {
			s.kick()
		}
	}
	s.mu.Unlock()
	return nil
}

// subscribe handles SUBSCRIBE (§3.8) and answers SUBACK before sending
// retained messages.
func (c *conn) subscribe(sp *mqtt.Subscribe) error {
	b := c.b
	s := c.s
	var subID uint32
	if len(sp.Props.SubscriptionIDs) > 0 {
		subID = sp.Props.SubscriptionIDs[0]
	}
	codes := make([]mqtt.ReasonCode, len(sp.Filters))
	type pending struct {
		filter []byte
		qos    uint8
		rap    bool
		id     uint32
	}
	var retained []pending
	now := b.cfg.Now().UnixNano()
	for i, f := range sp.Filters {
		group, tf, _ := mqtt.ParseShared(f.Filter)
		code := mqtt.ReasonCode(f.QoS)
		if group != nil && f.NoLocal {
			return disconnect(mqtt.ProtocolError, errors.New("no local on a shared subscription")) // [MQTT-3.8.3-4]
		}
		if b.levels(tf) > b.cfg.MaxTopicLevels {
			code = mqtt.TopicFilterInvalid
		}
		if !code.IsError() {
			if h := b.cfg.Hooks.AuthorizeSubscribe; h != nil {
				if hc := h(c.info, f.Filter, f.QoS); hc.IsError() {
					code = hc
				} else if uint8(hc) < f.QoS {
					code = hc
				}
			}
		}
		if code.IsError() {
			b.st.denied.Add(1)
			codes[i] = c.subFail(code)
			continue
		}
		sub := &subscription{s: s, filter: string(f.Filter), qos: uint8(code), noLocal: f.NoLocal,
			rap: f.RetainAsPublished, rh: f.RetainHandling, id: subID}
		if group != nil {
			sub.group = string(group)
		}
		b.mu.Lock()
		if s.subs[sub.filter] == nil && len(s.subs) >= b.cfg.MaxSubscriptions {
			b.mu.Unlock()
			b.st.denied.Add(1)
			codes[i] = c.subFail(mqtt.QuotaExceeded)
			continue
		}
		existed, err := b.subscribeLocked(s, sub)
		b.mu.Unlock()
		if err != nil {
			codes[i] = c.subFail(mqtt.TopicFilterInvalid)
			continue
		}
		codes[i] = code
		// Retain handling (§3.8.3.1): not for shared subscriptions [MQTT-3.8.4-?].
		if group == nil && (f.RetainHandling == 0 || f.RetainHandling == 1 && !existed) {
			retained = append(retained, pending{append([]byte(nil), tf...), uint8(code), f.RetainAsPublished, subID})
		}
	}
	b.storeSession(s)
	c.send(&mqtt.Suback{Version: c.version, ID: sp.ID, Codes: codes})
	for _, r := range retained {
		for _, m := range b.matchingRetained(r.filter, now) {
			s.deliver(m, r.qos, true, r.id)
		}
	}
	return nil
}

// subFail maps a refusal to the SUBACK code of the connection's version.
func (c *conn) subFail(code mqtt.ReasonCode) mqtt.ReasonCode {
	if c.version != mqtt.V5 {
		return mqtt.SubackFailure
	}
	return code
}

// unsubscribe handles UNSUBSCRIBE (§3.10).
func (c *conn) unsubscribe(u *mqtt.Unsubscribe) error {
	b := c.b
	s := c.s
	var codes []mqtt.ReasonCode
	if c.version == mqtt.V5 {
		codes = make([]mqtt.ReasonCode, len(u.Filters))
	}
	b.mu.Lock()
	for i, f := range u.Filters {
		sub := s.subs[string(f)]
		if sub != nil {
			b.unsubscribeLocked(sub)
		} else if codes != nil {
			codes[i] = mqtt.NoSubscriptionExisted
		}
	}
	b.mu.Unlock()
	b.storeSession(s)
	c.send(&mqtt.Unsuback{Version: c.version, ID: u.ID, Codes: codes})
	return nil
}

// disconnectIn handles the client's DISCONNECT (§3.14).
func (c *conn) disconnectIn(d *mqtt.Disconnect) error {
	if c.version == mqtt.V5 && d.Props.Present.Has(mqtt.PropSessionExpiry) {
		s := c.s
		s.mu.Lock()
		was := s.expiry
		if was == 0 && d.Props.SessionExpiry != 0 {
			s.mu.Unlock()
			return disconnect(mqtt.ProtocolError, errors.New("session expiry set after 0")) // [MQTT-3.14.2-2]
		}
		s.expiry = min(d.Props.SessionExpiry, c.b.cfg.MaxSessionExpiry)
		s.mu.Unlock()
	}
	if c.version == mqtt.V5 && d.Code == mqtt.DisconnectWithWill {
		return io.EOF // publish the will as for an abnormal end
	}
	c.will = nil // [MQTT-3.1.2-10]
	c.normal = true
	return nil
}

// finish tears a connection down: the session is detached (or ended), the
// will published or scheduled.
func (c *conn) finish(err error) {
	b := c.b
	var de *errDisconnect
	if errors.As(err, &de) && c.version == mqtt.V5 && c.s != nil {
		c.shutOnce.Do(func() {
			c.writeNow(&mqtt.Disconnect{Version: mqtt.V5, Code: de.code})
			c.nc.Close()
		})
	}
	c.nc.Close()
	if c.info != nil && err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		b.log.Debug("mqtt broker: connection ended", "client", c.info.ID, "err", err)
	}
	s := c.s
	if s == nil {
		return
	}
	b.mu.Lock()
	s.mu.Lock()
	current := s.conn == c
	c.dead = true
	if current {
		s.conn = nil
		// Offline sessions keep only QoS 1 and 2 messages.
		for i := 0; i < s.qlen(); {
			if s.q[s.qh+i].qos == 0 {
				s.removeAt(i)
				continue
			}
			i++
		}
	}
	expiry := s.expiry
	taken := c.takenBy
	s.mu.Unlock()
	ended := false
	if current {
		if expiry == 0 || b.closed && b.cfg.Store == nil {
			if !b.closed {
				b.removeSessionLocked(s)
			}
			ended = true
		} else if !b.closed {
			s.expTimer = time.AfterFunc(time.Duration(expiry)*time.Second, func() { b.expire(s) })
		}
	}
	if w := c.will; w != nil && !b.closed {
		delay := c.willDly
		switch {
		case current && !ended && delay > 0:
			d := time.Duration(min(delay, expiry)) * time.Second
			s.willTimer = time.AfterFunc(d, func() { b.publishWill(s, w) })
		case delay == 0 || ended || !taken:
			defer b.sendWill(w)
		}
	}
	b.mu.Unlock()
	if h := b.cfg.Hooks.OnDisconnect; h != nil && c.info != nil {
		if c.normal {
			err = nil
		}
		h(c.info, err)
	}
}

// expire ends a disconnected session whose expiry interval passed.
func (b *Broker) expire(s *session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.mu.Lock()
	on := s.conn != nil
	s.mu.Unlock()
	if !on && !b.closed {
		b.removeSessionLocked(s)
	}
}

// publishWill sends a delayed will unless the session reconnected.
func (b *Broker) publishWill(s *session, w *mqtt.Will) {
	b.mu.Lock()
	s.mu.Lock()
	on := s.conn != nil
	s.mu.Unlock()
	s.willTimer = nil
	closed := b.closed
	b.mu.Unlock()
	if !on && !closed {
		b.sendWill(w)
	}
}

// sendWill routes a will message (§3.1.2.5).
func (b *Broker) sendWill(w *mqtt.Will) {
	p := &mqtt.Publish{Version: mqtt.V5, QoS: w.QoS, Retain: w.Retain, Topic: w.Topic, Payload: w.Payload, Props: w.Props}
	p.Props.Present = p.Props.Present.Without(mqtt.PropWillDelay)
	m := newMessage(p, nil, b.cfg.Now())
	if w.Retain {
		b.retain(m)
	}
	var scratch []*entry
	b.route(m, &scratch)
}

// writeLoop writes control packets and queued messages while there are
// any, batching them into one Write, then exits.
func (c *conn) writeLoop() {
	b := c.b
	s := c.s
	defer b.wg.Done()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for {
		s.mu.Lock()
		if s.conn != c || c.dead {
			c.writing = false
			s.mu.Unlock()
			return
		}
		buf := append(c.wbuf[:0], c.ctrl...)
		c.ctrl = c.ctrl[:0]
		if cap(c.ctrl) > 64<<10 {
			c.ctrl = nil
		}
		now := b.cfg.Now().UnixNano()
		if c.resend { // [MQTT-4.4.0-1]: resend in the original order
			c.resend = false
			for _, o := range s.inflight {
				if o.pubrel {
					buf, _ = (&mqtt.Ack{Type: mqtt.TypePubrel, Version: c.version, ID: o.id}).AppendBinary(buf)
				} else {
					buf = c.appendPublish(buf, o, true, now)
				}
			}
		}
		sent := 0
		for len(buf) < DefaultMaxWriteBatch && s.qlen() > 0 {
			if s.front().qos > 0 && len(s.inflight) >= c.window {
				break
			}
			o := s.popFront()
			if o.m.expired(now) {
				b.st.dropExpired.Add(1)
				if o.key != 0 {
					b.storeDelete(queueKey(s.id, o.key))
				}
				continue
			}
			if o.qos > 0 {
				o.id = s.allocID()
			}
			n := len(buf)
			buf = c.appendPublish(buf, &o, false, now)
			if len(buf) == n { // too large for the client: dropped [MQTT-3.1.2-25]
				if o.key != 0 {
					b.storeDelete(queueKey(s.id, o.key))
				}
				continue
			}
			sent++
			if o.qos > 0 {
				op := new(outMsg)
				*op = o
				s.inflight = append(s.inflight, op)
				if o.qos == 2 && o.key != 0 {
					b.storeOut(s, op)
				}
			}
		}
		if len(buf) == 0 {
			c.writing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		b.st.msgsOut.Add(uint64(sent))
		b.st.bytesOut.Add(uint64(len(buf)))
		c.nc.SetWriteDeadline(time.Now().Add(b.cfg.WriteTimeout))
		_, err := c.nc.Write(buf)
		if cap(buf) <= 2*DefaultMaxWriteBatch {
			c.wbuf = buf[:0]
		} else {
			c.wbuf = nil
		}
		if err != nil {
			c.kill()
			s.mu.Lock()
			c.writing = false
			c.dead = true
			s.mu.Unlock()
			return
		}
	}
}

// appendPublish encodes o for this connection, with its topic alias,
// subscription identifiers and remaining expiry. It appends nothing if the
// packet exceeds the client's Maximum Packet Size. Called with s.mu held.
func (c *conn) appendPublish(buf []byte, o *outMsg, dup bool, now int64) []byte {
	var pub mqtt.Publish
	m := o.m
	p := &pub
	*p = mqtt.Publish{Version: c.version, Dup: dup && o.qos > 0, QoS: o.qos, Retain: o.retain,
		Topic: m.topic, ID: o.id, Payload: m.payload}
	if c.version == mqtt.V5 {
		p.Props = m.props
		if len(o.subIDs) > 0 {
			p.Props.SubscriptionIDs = o.subIDs
		}
		if m.expires != 0 {
			left := (m.expires - now + int64(time.Second) - 1) / int64(time.Second)
			p.Props.Set(mqtt.PropMessageExpiry, uint32(max(left, 0)))
		}
		if c.peerAliases > 0 && !dup {
			if c.outAlias == nil {
				c.outAlias = make(map[string]uint16)
			}
			if a, ok := c.outAlias[string(m.topic)]; ok {
				p.Props.Set(mqtt.PropTopicAlias, uint32(a))
				p.Topic = nil
			} else if len(c.outAlias) < int(c.peerAliases) {
				a := uint16(len(c.outAlias) + 1)
				c.outAlias[string(m.topic)] = a
				p.Props.Set(mqtt.PropTopicAlias, uint32(a))
			}
		}
	}
	if c.peerMax > 0 && p.EncodedLen() > c.peerMax {
		c.b.st.dropTooLarge.Add(1)
		return buf
	}
	out, err := p.AppendBinary(buf)
	if err != nil {
		return buf
	}
	return out
}
