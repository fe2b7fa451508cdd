package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// conn is one network connection and its per-connection state.
type conn struct {
	rw      io.ReadWriteCloser
	dl      interface{ SetWriteDeadline(time.Time) error }
	fr      *mqtt.Framer
	version mqtt.Version
	done    chan struct{}
	once    sync.Once
	err     error
	wg      sync.WaitGroup

	deadline  time.Time // write deadline; writer-owned
	keepAlive time.Duration
	maxOut    int // broker's Maximum Packet Size; 0: none

	// Guarded by Client.wmu.
	aliasOut  map[string]uint16
	aliasMax  uint16
	aliasNext uint16

	abortErr error  // set by the reader: the writer ends cn with abortPkt
	abortPkt []byte // guarded by Client.wmu

	aliasIn [][]byte // reader-owned

	lastWrite atomic.Int64 // clock ns
	pingSent  atomic.Int64 // clock ns, 0: none outstanding
	blocked   atomic.Bool  // reader waits for the delivery queue
}

func (cn *conn) fail(err error) {
	cn.once.Do(func() {
		cn.err = err
		close(cn.done)
		_ = cn.rw.Close()
	})
}

func (c *Client) nowNS() int64 { return c.cfg.Clock.Now().UnixNano() }

// dial connects and runs the CONNECT/AUTH/CONNACK handshake.
func (c *Client) dial() (*conn, *mqtt.Connack, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.DialTimeout)
	defer cancel()
	var rw io.ReadWriteCloser
	var err error
	// Close the dial attempt when the client closes.
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	go func() { // ends when dial returns
		select {
		case <-c.closing:
			ccancel()
		case <-cctx.Done():
		}
	}()
	switch {
	case c.cfg.Dialer != nil:
		rw, err = c.cfg.Dialer(cctx)
	case c.cfg.TLS != nil:
		d := tls.Dialer{Config: c.cfg.TLS}
		rw, err = d.DialContext(cctx, "tcp", c.cfg.Addr)
	default:
		var d net.Dialer
		rw, err = d.DialContext(cctx, "tcp", c.cfg.Addr)
	}
	if err != nil {
		return nil, nil, err
	}
	// Bound the handshake: closing the stream unblocks its reads.
	unblock := context.AfterFunc(cctx, func() { _ = rw.Close() })
	cn, ack, err := c.handshake(rw)
	if !unblock() {
		if err == nil {
			err = cctx.Err()
		}
	}
	if err != nil {
		_ = rw.Close()
		return nil, nil, err
	}
	return cn, ack, nil
}

func (c *Client) handshake(rw io.ReadWriteCloser) (*conn, *mqtt.Connack, error) {
	v := c.cfg.Version
	cn := &conn{rw: rw, version: v, done: make(chan struct{})}
	if d, ok := rw.(interface{ SetWriteDeadline(time.Time) error }); ok {
		cn.dl = d
	}
	cn.fr = mqtt.NewFramer(rw, nil, mqtt.FramerConfig{MaxPacketSize: c.cfg.MaxPacketSize, Version: v})

	c.mu.Lock()
	clean := c.cfg.CleanStart && (!c.hadConn || v != mqtt.V5)
	cp := mqtt.Connect{Version: v, CleanStart: clean, ClientID: []byte(c.clientID)}
	c.mu.Unlock()
	if c.cfg.KeepAlive > 0 {
		cp.KeepAlive = uint16((c.cfg.KeepAlive + time.Second - 1) / time.Second)
	}
	if c.cfg.Username != "" {
		cp.HasUsername, cp.Username = true, []byte(c.cfg.Username)
	}
	if c.cfg.Password != nil {
		cp.HasPassword, cp.Password = true, c.cfg.Password
	}
	if c.cfg.Will != nil {
		cp.HasWill, cp.Will = true, *c.cfg.Will
	}
	if v == mqtt.V5 {
		cp.Props = c.cfg.ConnectProps
		if c.cfg.SessionExpiry > 0 {
			cp.Props.Set(mqtt.PropSessionExpiry, c.cfg.SessionExpiry)
		}
		if c.cfg.ReceiveMaximum != 65535 {
			cp.Props.Set(mqtt.PropReceiveMax, uint32(c.cfg.ReceiveMaximum))
		}
		cp.Props.Set(mqtt.PropMaxPacketSize, uint32(c.cfg.MaxPacketSize))
		if c.cfg.TopicAliasMaximum > 0 {
			cp.Props.Set(mqtt.PropTopicAliasMax, uint32(c.cfg.TopicAliasMaximum))
		}
		if c.cfg.Auth != nil {
			cp.Props.SetBytes(mqtt.PropAuthMethod, []byte(c.cfg.Auth.Method()))
			data, err := c.cfg.Auth.Start()
			if err != nil {
				return nil, nil, err
			}
			if data != nil {
				cp.Props.SetBytes(mqtt.PropAuthData, data)
			}
		}
	}
	pkt, err := cp.AppendBinary(nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := rw.Write(pkt); err != nil {
		return nil, nil, err
	}
	var d mqtt.Decoded
	for {
		t, err := cn.fr.ReadInto(&d)
		if err != nil {
			return nil, nil, err
		}
		switch t {
		case mqtt.TypeConnack:
			ack := d.Connack.Clone()
			if ack.Code != 0 {
				return nil, nil, &ReasonError{Packet: mqtt.TypeConnack, Code: ack.Code}
			}
			if c.cfg.Auth != nil {
				if err := c.cfg.Auth.Done(ack.Props.AuthData); err != nil {
					return nil, nil, err
				}
			}
			return cn, ack, nil
		case mqtt.TypeAuth:
			if c.cfg.Auth == nil || d.Auth.Code != mqtt.ContinueAuthentication {
				return nil, nil, &ReasonError{Packet: mqtt.TypeAuth, Code: mqtt.ProtocolError}
			}
			data, err := c.cfg.Auth.Continue(d.Auth.Props.AuthData)
			if err != nil {
				return nil, nil, err
			}
			a := mqtt.Auth{Version: v, Code: mqtt.ContinueAuthentication}
			a.Props.SetBytes(mqtt.PropAuthMethod, []byte(c.cfg.Auth.Method()))
			a.Props.SetBytes(mqtt.PropAuthData, data)
			b, err := a.AppendBinary(nil)
			if err != nil {
				return nil, nil, err
			}
			if _, err := rw.Write(b); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, &ReasonError{Packet: t, Code: mqtt.ProtocolError}
		}
	}
}

// runConn runs one accepted connection until it ends.
func (c *Client) runConn(cn *conn, ack *mqtt.Connack) {
	ka := c.cfg.KeepAlive
	if ack.Props.Present.Has(mqtt.PropServerKeepAlive) {
		ka = time.Duration(ack.Props.ServerKeepAlive) * time.Second
		if ka == 0 {
			ka = -1
		}
	}
	cn.keepAlive = ka
	if ack.Props.Present.Has(mqtt.PropMaxPacketSize) {
		cn.maxOut = int(ack.Props.MaxPacketSize)
	}
	if ack.Props.Present.Has(mqtt.PropTopicAliasMax) {
		cn.aliasMax = min(ack.Props.TopicAliasMax, c.cfg.OutboundTopicAliases)
	}
	if cn.aliasMax > 0 {
		cn.aliasOut = make(map[string]uint16, cn.aliasMax)
	}
	if c.cfg.TopicAliasMaximum > 0 {
		cn.aliasIn = make([][]byte, int(c.cfg.TopicAliasMaximum)+1)
	}
	now := c.nowNS()
	cn.lastWrite.Store(now)

	c.resetForSession(ack.SessionPresent)
	c.mu.Lock()
	c.srvProps = ack.Props
	if ack.Props.Present.Has(mqtt.PropAssignedClientID) {
		c.clientID = string(ack.Props.AssignedClientID)
	}
	c.window = c.cfg.MaxInflight
	if ack.Props.Present.Has(mqtt.PropReceiveMax) {
		c.window = min(c.window, int(ack.Props.ReceiveMax))
	}
	if c.hadConn {
		c.st.reconnects.Add(1)
	}
	c.hadConn = true
	c.connected = true
	c.cn = cn
	info := ConnectInfo{SessionPresent: ack.SessionPresent, ClientID: c.clientID, Props: ack.Props, KeepAlive: ka, Inflight: c.window}
	c.mu.Unlock()
	c.st.connects.Add(1)
	c.log.Info("mqtt/client: connected", "client_id", info.ClientID, "session_present", ack.SessionPresent, "version", cn.version.String())

	c.wmu.Lock()
	// What the last connection left unwritten is stale on this one: its
	// acknowledgements would free slots the broker now counts again (it
	// resends unacknowledged PUBLISHes and PUBRELs, which we answer
	// afresh), and its PUBLISHes are in flight and resent below.
	c.out = c.out[:0]
	c.wcn = cn
	c.wmu.Unlock()

	// Resend what was in flight, then pending (un)subscriptions.
	c.resend(cn, ack.SessionPresent)
	c.resubscribe(cn, ack.SessionPresent)

	cn.wg.Add(2)
	c.wg.Add(2)
	go c.readLoop(cn)
	go c.writeLoop(cn)
	if c.cfg.OnConnect != nil {
		c.cfg.OnConnect(info)
	}
	c.firstResult(nil)

	select {
	case <-cn.done:
	case <-c.closing:
		// The writer sends DISCONNECT and ends the connection; a stream
		// that does not take it in time is closed regardless.
		t := time.AfterFunc(closeGrace, func() { cn.fail(ErrClosed) })
		<-cn.done
		t.Stop()
	}
	cn.wg.Wait()

	c.wmu.Lock()
	c.wcn = nil
	c.out = c.out[:0]
	if c.spaceWait > 0 {
		close(c.space)
		c.space = make(chan struct{})
		c.spaceWait = 0
	}
	c.wmu.Unlock()
	c.mu.Lock()
	c.cn = nil
	c.connected = false
	c.mu.Unlock()
	err := cn.err
	if !errors.Is(err, ErrClosed) && !c.isClosing() {
		c.log.Warn("mqtt/client: connection lost", "err", err)
		if c.cfg.OnConnectionLost != nil {
			c.cfg.OnConnectionLost(err)
		}
	}
}

// resend queues every in-flight message again, in the order it was first
// sent: PUBLISH with DUP (or as new without a session), or PUBREL.
func (c *Client) resend(cn *conn, sessionPresent bool) {
	c.mu.Lock()
	fs := c.sortedFlights()
	c.mu.Unlock()
	if len(fs) == 0 {
		return
	}
	var pub mqtt.Publish
	var failed []*flight
	var errs []error
	c.wmu.Lock()
	for _, f := range fs {
		if f.state == stPubrel {
			c.out = appendAck(c.out, cn.version, mqtt.TypePubrel, f.id)
			c.st.resent.Add(1)
			continue
		}
		out, err := c.encodeRec(cn, &pub, c.out, f.rec, f.id, sessionPresent)
		if err != nil {
			failed, errs = append(failed, f), append(errs, err)
			continue
		}
		c.out = out
		c.st.resent.Add(1)
	}
	c.wmu.Unlock()
	if len(failed) == 0 {
		return
	}
	// A message that cannot go out again (expired, or now larger than the
	// broker's Maximum Packet Size) leaves the window, the store and its
	// publisher's wait; kept, it would hold a window slot and a packet
	// identifier for ever.
	keys := make([]uint64, 0, len(failed))
	seqs := make([]uint64, 0, len(failed))
	c.mu.Lock()
	for _, f := range failed {
		if c.inflight[f.id] != f {
			continue
		}
		keys, seqs = append(keys, f.key), append(seqs, f.seq)
		delete(c.inflight, f.id)
		c.nflight--
		c.freeID(f.id)
	}
	c.mu.Unlock()
	c.deleteKeys(keys)
	for i, s := range seqs {
		c.st.dropped.Add(1)
		c.log.Warn("mqtt/client: dropping an in-flight message that cannot be resent", "err", errs[i])
		c.complete(s, errs[i])
	}
}

func appendAck(dst []byte, v mqtt.Version, t mqtt.PacketType, id mqtt.PacketID) []byte {
	// Under both versions a success ack without properties is 4 bytes.
	var fl byte
	if t == mqtt.TypePubrel {
		fl = 2
	}
	return append(dst, byte(t)<<4|fl, 2, byte(id>>8), byte(id))
}

// encodeRec appends the PUBLISH stored in rec with packet id, as it goes
// on cn now: the connection's version, topic alias and the remaining
// message expiry. c.wmu is held (the alias table).
func (c *Client) encodeRec(cn *conn, pub *mqtt.Publish, dst, rec []byte, id mqtt.PacketID, dup bool) ([]byte, error) {
	h, err := parseRec(rec)
	if err != nil {
		return dst, err
	}
	pub.Version = h.version
	if _, err := pub.Decode(rec[recHdr:]); err != nil {
		return dst, err
	}
	pub.ID, pub.Dup = id, dup && h.qos > 0
	if cn.version != h.version {
		pub.Version = cn.version
		if cn.version != mqtt.V5 {
			pub.Props = mqtt.Properties{}
		}
	}
	if pub.Props.Present.Has(mqtt.PropMessageExpiry) {
		age := (c.cfg.Clock.Now().UnixMilli() - h.created) / 1000
		switch {
		case age < int64(pub.Props.MessageExpiry):
			pub.Props.MessageExpiry -= uint32(age) // [MQTT-3.3.2-6]
		case dup && h.qos == 2:
			// The broker may hold this QoS 2 message and its packet
			// identifier: the exchange must finish (a new message with
			// the identifier would be taken for a duplicate), so it goes
			// again with the shortest expiry.
			pub.Props.MessageExpiry = 1
		default:
			return dst, ErrExpired
		}
	}
	newAlias := cn.alias(pub)
	var out []byte
	if cn.maxOut > 0 && pub.EncodedLen() > cn.maxOut {
		err = ErrTooLarge
	} else {
		out, err = pub.AppendBinary(dst)
	}
	if err != nil {
		cn.unalias(newAlias, pub.Topic)
		return dst, err
	}
	return out, nil
}

// alias applies the connection's outgoing topic alias to pub, assigning
// a new one while there are free ones, and reports whether it assigned
// one. c.wmu is held.
func (cn *conn) alias(pub *mqtt.Publish) bool {
	if cn.aliasOut == nil {
		return false
	}
	if a, ok := cn.aliasOut[string(pub.Topic)]; ok {
		pub.Props.Set(mqtt.PropTopicAlias, uint32(a))
		pub.Topic = nil
		return false
	}
	if cn.aliasNext >= cn.aliasMax {
		return false
	}
	cn.aliasNext++
	cn.aliasOut[string(pub.Topic)] = cn.aliasNext
	pub.Props.Set(mqtt.PropTopicAlias, uint32(cn.aliasNext))
	return true
}

// unalias takes back an alias assigned for a packet that was not sent.
func (cn *conn) unalias(assigned bool, topic []byte) {
	if assigned {
		delete(cn.aliasOut, string(topic))
		cn.aliasNext--
	}
}

// publishQoS0 encodes p straight into the write buffer of cn.
func (c *Client) publishQoS0(ctx context.Context, cn *conn, p *mqtt.Publish) error {
	c.wmu.Lock()
	for {
		if c.wcn != cn || cn == nil {
			c.wmu.Unlock()
			return ErrNotConnected
		}
		if len(c.out) < c.cfg.MaxWriteBuffer {
			break
		}
		c.spaceWait++
		ch := c.space
		c.wmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-cn.done:
		}
		c.wmu.Lock()
	}
	pub := *p
	pub.Version, pub.Dup, pub.ID = cn.version, false, 0
	if cn.version != mqtt.V5 {
		pub.Props = mqtt.Properties{}
	}
	newAlias := cn.alias(&pub)
	var err error
	if cn.maxOut > 0 && pub.EncodedLen() > cn.maxOut {
		err = ErrTooLarge
	} else {
		var out []byte
		out, err = pub.AppendBinary(c.out)
		if err == nil {
			c.out = out
		}
	}
	if err != nil {
		cn.unalias(newAlias, pub.Topic)
	}
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	c.st.sent.Add(1)
	c.kick()
	return nil
}

// writeLoop is the only writer of cn after the handshake: it moves
// messages from the store into the in-flight window, writes the buffered
// packets with one Write per batch, and runs the keepalive.
func (c *Client) writeLoop(cn *conn) {
	defer c.wg.Done()
	defer cn.wg.Done()
	var local []byte
	var pub mqtt.Publish
	var recBuf []byte
	c.peekKey = 0 // the record it names was in the previous writer's buffer
	var delKeys []uint64
	tick := tickFor(cn.keepAlive, c.cfg.PingTimeout)
	timer := c.cfg.Clock.NewTimer(tick)
	defer timer.Stop()
	for {
		var more bool
		recBuf, delKeys, more = c.fill(cn, &pub, recBuf, delKeys[:0])
		if len(delKeys) > 0 {
			c.deleteKeys(delKeys)
		}
		c.wmu.Lock()
		local, c.out = c.out, local[:0]
		if c.spaceWait > 0 {
			close(c.space)
			c.space = make(chan struct{})
			c.spaceWait = 0
		}
		abort, abortPkt := cn.abortErr, cn.abortPkt
		c.wmu.Unlock()
		if abort != nil {
			_ = c.write(cn, append(local, abortPkt...))
			cn.fail(abort)
			return
		}
		if len(local) > 0 {
			if err := c.write(cn, local); err != nil {
				cn.fail(err)
				return
			}
			if cap(local) > 4*c.cfg.MaxWriteBuffer {
				local = nil
			}
		}
		if more {
			select {
			case <-cn.done:
				return
			case <-c.closing:
				c.disconnect(cn, local)
				return
			default:
				continue
			}
		}
		select {
		case <-c.wake:
			// Let the goroutines that just woke us (publishers, the
			// reader freeing window slots) add more before writing:
			// one write per batch instead of one per message.
			runtime.Gosched()
		case <-timer.C():
			if err := c.keepalive(cn); err != nil {
				cn.fail(err)
				return
			}
			timer.Reset(tick)
		case <-cn.done:
			return
		case <-c.closing:
			c.disconnect(cn, local)
			return
		}
	}
}

func tickFor(ka, pingTimeout time.Duration) time.Duration {
	t := pingTimeout
	if ka > 0 && ka < t {
		t = ka
	}
	t /= 4
	return min(max(t, 10*time.Millisecond), 5*time.Second)
}

func (c *Client) write(cn *conn, b []byte) error {
	if cn.dl != nil {
		// Move the deadline only when half of it is used up: setting
		// it costs a timer update (an allocation on some conns).
		now := time.Now()
		if cn.deadline.Sub(now) < c.cfg.WriteTimeout/2 {
			cn.deadline = now.Add(c.cfg.WriteTimeout)
			_ = cn.dl.SetWriteDeadline(cn.deadline)
		}
	}
	_, err := cn.rw.Write(b)
	cn.lastWrite.Store(c.nowNS())
	return err
}

// closeGrace bounds the DISCONNECT write of Close.
const closeGrace = time.Second

// disconnect writes what is buffered and a DISCONNECT, and ends cn.
func (c *Client) disconnect(cn *conn, local []byte) {
	if cn.dl != nil {
		cn.deadline = time.Now().Add(closeGrace)
		_ = cn.dl.SetWriteDeadline(cn.deadline)
	}
	c.wmu.Lock()
	local = append(local[:0], c.out...)
	c.out = c.out[:0]
	c.wmu.Unlock()
	d := mqtt.Disconnect{Version: cn.version}
	local, _ = d.AppendBinary(local)
	_ = c.write(cn, local)
	cn.fail(ErrClosed)
}

// keepalive sends PINGREQ after KeepAlive without writes and fails the
// connection when PINGRESP is overdue, unless the reader is held up by
// the delivery queue (then the broker is evidently sending).
func (c *Client) keepalive(cn *conn) error {
	if cn.keepAlive <= 0 {
		return nil
	}
	now := c.nowNS()
	if ps := cn.pingSent.Load(); ps != 0 {
		if cn.blocked.Load() {
			cn.pingSent.Store(now)
		} else if time.Duration(now-ps) > c.cfg.PingTimeout {
			return ErrPingTimeout
		}
		return nil
	}
	if time.Duration(now-cn.lastWrite.Load()) >= cn.keepAlive {
		cn.pingSent.Store(now)
		c.queueOut([]byte{byte(mqtt.TypePingreq) << 4, 0})
	}
	return nil
}

// fill moves queued messages from the store into the in-flight window,
// encoding them into c.out. It returns more == true if it stopped early to
// let the writer flush a large batch.
func (c *Client) fill(cn *conn, pub *mqtt.Publish, recBuf []byte, delKeys []uint64) ([]byte, []uint64, bool) {
	budget := 64 << 10
	for budget > 0 {
		c.mu.Lock()
		full := c.nflight >= c.window
		c.mu.Unlock()
		if full && c.peekKey != 0 && c.peekKey >= c.cursor {
			// The next record is already read and the window is still full.
			return recBuf, delKeys, false
		}
		var key uint64
		var rec []byte
		if c.peekKey != 0 && c.peekKey >= c.cursor {
			key, rec = c.peekKey, recBuf
		} else {
			var err error
			key, rec, err = c.store.Next(c.cursor, recBuf)
			if err != nil {
				if err != io.EOF {
					c.log.Error("mqtt/client: reading the store", "err", err)
				}
				return recBuf, delKeys, false
			}
			recBuf = rec
		}
		c.peekKey = 0
		h, err := parseRec(rec)
		if err != nil {
			c.log.Warn("mqtt/client: deleting an invalid store record", "key", key)
			c.st.dropped.Add(1)
			c.cursor = key + 1
			delKeys = append(delKeys, key)
			continue
		}
		if h.state != stQueued {
			c.cursor = key + 1
			continue
		}
		if h.qos > 0 && full {
			// QoS 1/2 records leave the store only when acknowledged, so
			// the copy stays valid until the window has room.
			c.peekKey = key
			return recBuf, delKeys, false
		}
		var id mqtt.PacketID
		if h.qos > 0 {
			c.mu.Lock()
			var ok bool
			id, ok = c.allocID()
			c.mu.Unlock()
			if !ok {
				return recBuf, delKeys, false
			}
		}
		c.cursor = key + 1
		if h.qos == 2 {
			// Persist the packet identifier before the PUBLISH leaves.
			setRecState(rec, stSent, id)
			nk, err := c.store.Replace(context.Background(), key, rec, 2)
			if err != nil {
				c.log.Error("mqtt/client: updating the store", "err", err)
				c.mu.Lock()
				c.freeID(id)
				c.mu.Unlock()
				c.cursor = key
				return recBuf, delKeys, false
			}
			key = nk
		}
		c.wmu.Lock()
		if c.wcn != cn {
			c.wmu.Unlock()
			c.mu.Lock()
			c.freeID(id)
			c.mu.Unlock()
			if h.qos == 2 {
				// It stays in the store as sent; resend it as such.
				c.addFlight(key, h, id, stSent, rec)
			} else {
				c.cursor = key
			}
			return recBuf, delKeys, false
		}
		n0 := len(c.out)
		out, err := c.encodeRec(cn, pub, c.out, rec, id, false)
		if err == nil {
			c.out = out
		}
		c.wmu.Unlock()
		if err != nil {
			c.mu.Lock()
			c.freeID(id)
			c.mu.Unlock()
			delKeys = append(delKeys, key)
			c.st.dropped.Add(1)
			c.log.Warn("mqtt/client: dropping a message", "err", err)
			if h.qos > 0 {
				c.complete(h.seq, err)
			}
			continue
		}
		budget -= len(out) - n0
		c.st.sent.Add(1)
		if h.qos == 0 {
			delKeys = append(delKeys, key)
			continue
		}
		st := uint8(stQueued)
		if h.qos == 2 {
			st = stSent
		}
		c.addFlight(key, h, id, st, rec)
	}
	return recBuf, delKeys, true
}

func (c *Client) addFlight(key uint64, h recHeader, id mqtt.PacketID, state uint8, rec []byte) {
	c.mu.Lock()
	var f *flight
	if n := len(c.flightBuf); n > 0 {
		f = c.flightBuf[n-1]
		c.flightBuf = c.flightBuf[:n-1]
	} else {
		f = new(flight)
	}
	c.order++
	*f = flight{key: key, seq: h.seq, id: id, qos: h.qos, state: state, order: c.order, rec: append(f.rec[:0], rec...)}
	c.markID(id)
	c.inflight[id] = f
	c.nflight++
	c.mu.Unlock()
}

// release removes the flight with id; c.mu is held.
func (c *Client) release(f *flight) {
	delete(c.inflight, f.id)
	c.nflight--
	c.freeID(f.id)
	if len(c.flightBuf) < c.cfg.MaxInflight && cap(f.rec) <= 64<<10 {
		c.flightBuf = append(c.flightBuf, f)
	}
}
