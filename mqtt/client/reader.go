package client

import (
	"context"
	"errors"

	"github.com/edgekit/edgekit/mqtt"
)

// delivery is one slot of the bounded delivery queue: a received PUBLISH
// copied out of the read buffer.
type delivery struct {
	buf   []byte
	topic []byte
	pub   mqtt.Publish
	gen   uint64 // c.sessGen when it arrived
	inGen uint64 // c.inGen when it arrived (QoS 1 accounting)
}

// protoErr ends a connection for a protocol violation by the broker: the
// writer sends DISCONNECT with code (MQTT 5) and closes it.
func (c *Client) protoErr(cn *conn, code mqtt.ReasonCode, err error) {
	var pkt []byte
	if cn.version == mqtt.V5 {
		d := mqtt.Disconnect{Version: mqtt.V5, Code: code}
		pkt, _ = d.AppendBinary(nil)
	}
	c.log.Warn("mqtt/client: protocol violation by the broker", "err", err)
	c.wmu.Lock()
	if cn.abortErr == nil {
		cn.abortErr, cn.abortPkt = err, pkt
	}
	c.wmu.Unlock()
	c.kick()
}

func reasonOf(err error) mqtt.ReasonCode {
	var re *ReasonError
	if errors.As(err, &re) {
		return re.Code
	}
	return mqtt.ReasonOf(err)
}

// readLoop reads and handles packets from the broker until cn ends.
func (c *Client) readLoop(cn *conn) {
	defer c.wg.Done()
	defer cn.wg.Done()
	var d mqtt.Decoded
	var delKeys []uint64
	var doneSeqs []uint64
	flush := func() {
		if len(delKeys) == 0 && len(doneSeqs) == 0 {
			return
		}
		if len(delKeys) > 0 {
			c.deleteKeys(delKeys)
			delKeys = delKeys[:0]
		}
		for _, s := range doneSeqs {
			c.complete(s, nil)
		}
		doneSeqs = doneSeqs[:0]
		c.kick() // window slots were freed
	}
	defer flush()
	for {
		if cn.fr.Buffered() == 0 || len(delKeys) >= 256 {
			flush()
		}
		h, raw, err := cn.fr.ReadRaw()
		if err != nil {
			var me *mqtt.Error
			if errors.As(err, &me) { // too large or malformed [MQTT-4.13.1-1]
				c.protoErr(cn, me.Code, err)
				return
			}
			cn.fail(err)
			return
		}
		if h.Type == mqtt.TypePublish {
			if err := c.receive(cn, raw); err != nil {
				c.protoErr(cn, reasonOf(err), err)
				return
			}
			continue
		}
		t, _, err := d.Decode(raw, cn.version)
		if err != nil {
			c.protoErr(cn, reasonOf(err), err)
			return
		}
		switch t {
		case mqtt.TypePuback, mqtt.TypePubrec, mqtt.TypePubcomp:
			delKeys, doneSeqs = c.ack(cn, &d.Ack, delKeys, doneSeqs)
		case mqtt.TypePubrel:
			c.imu.Lock()
			delete(c.inQoS2, d.Ack.ID)
			c.imu.Unlock()
			c.queueOut(appendAck(nil, cn.version, mqtt.TypePubcomp, d.Ack.ID))
		case mqtt.TypeSuback:
			c.subAck(d.Suback.ID, d.Suback.Codes, nil)
		case mqtt.TypeUnsuback:
			c.subAck(d.Unsuback.ID, d.Unsuback.Codes, nil)
		case mqtt.TypePingresp:
			cn.pingSent.Store(0)
		case mqtt.TypeDisconnect:
			cn.fail(&ReasonError{Packet: mqtt.TypeDisconnect, Code: d.Disconnect.Code})
			return
		case mqtt.TypeAuth:
			if c.cfg.Auth == nil || (d.Auth.Code != mqtt.ContinueAuthentication && d.Auth.Code != mqtt.Success) {
				c.protoErr(cn, mqtt.ProtocolError, &ReasonError{Packet: mqtt.TypeAuth, Code: mqtt.ProtocolError})
				return
			}
			if d.Auth.Code == mqtt.Success { // re-authentication done
				if err := c.cfg.Auth.Done(d.Auth.Props.AuthData); err != nil {
					c.protoErr(cn, mqtt.NotAuthorized, err)
					return
				}
				continue
			}
			data, err := c.cfg.Auth.Continue(d.Auth.Props.AuthData)
			if err != nil {
				c.protoErr(cn, mqtt.NotAuthorized, err)
				return
			}
			a := mqtt.Auth{Version: mqtt.V5, Code: mqtt.ContinueAuthentication}
			a.Props.SetBytes(mqtt.PropAuthMethod, []byte(c.cfg.Auth.Method()))
			a.Props.SetBytes(mqtt.PropAuthData, data)
			b, _ := a.AppendBinary(nil)
			c.queueOut(b)
		default:
			c.protoErr(cn, mqtt.ProtocolError, &ReasonError{Packet: t, Code: mqtt.ProtocolError})
			return
		}
	}
}

// ack handles PUBACK, PUBREC and PUBCOMP for an outgoing message.
func (c *Client) ack(cn *conn, a *mqtt.Ack, delKeys, doneSeqs []uint64) ([]uint64, []uint64) {
	c.mu.Lock()
	f := c.inflight[a.ID]
	if f == nil {
		c.mu.Unlock()
		if a.Type == mqtt.TypePubrec {
			// Unknown id: complete the broker's side [MQTT-4.3.3].
			c.queueOut(appendAck(nil, cn.version, mqtt.TypePubrel, a.ID))
		}
		return delKeys, doneSeqs
	}
	wantType := mqtt.TypePuback
	if f.qos == 2 {
		wantType = mqtt.TypePubrec
		if f.state == stPubrel {
			wantType = mqtt.TypePubcomp
		}
	}
	if a.Type != wantType {
		c.mu.Unlock()
		if a.Type == mqtt.TypePubrec && f.state == stPubrel {
			// PUBREC again after a resend: answer with PUBREL again.
			c.queueOut(appendAck(nil, cn.version, mqtt.TypePubrel, a.ID))
		}
		return delKeys, doneSeqs
	}
	if a.Type == mqtt.TypePubrec && !a.Code.IsError() {
		// Persist "PUBREL sent" before sending it.
		rec := f.rec
		c.mu.Unlock()
		setRecState(rec, stPubrel, f.id)
		nk, err := c.store.Replace(context.Background(), f.key, rec, 2)
		if err != nil {
			c.log.Error("mqtt/client: updating the store", "err", err)
			cn.fail(err)
			return delKeys, doneSeqs
		}
		c.mu.Lock()
		f.key, f.state = nk, stPubrel
		c.mu.Unlock()
		c.queueOut(appendAck(nil, cn.version, mqtt.TypePubrel, a.ID))
		return delKeys, doneSeqs
	}
	seq, key := f.seq, f.key
	c.release(f)
	c.mu.Unlock()
	delKeys = append(delKeys, key)
	if a.Code.IsError() {
		c.st.dropped.Add(1)
		c.complete(seq, &ReasonError{Packet: a.Type, Code: a.Code})
		return delKeys, doneSeqs
	}
	c.st.acked.Add(1)
	doneSeqs = append(doneSeqs, seq)
	return delKeys, doneSeqs
}

// receive handles an incoming PUBLISH: it copies it into a delivery slot,
// resolves its topic alias, and queues it for the delivery goroutine.
func (c *Client) receive(cn *conn, raw []byte) error {
	var dl *delivery
	select {
	case dl = <-c.free:
	default:
		cn.blocked.Store(true)
		select {
		case dl = <-c.free:
		case <-cn.done:
			cn.blocked.Store(false)
			return nil
		}
		cn.blocked.Store(false)
	}
	dl.buf = append(dl.buf[:0], raw...)
	dl.pub.Version = cn.version
	if _, err := dl.pub.Decode(dl.buf); err != nil {
		c.free <- dl
		return err
	}
	p := &dl.pub
	if p.Props.Present.Has(mqtt.PropTopicAlias) {
		a := p.Props.TopicAlias
		if int(a) >= len(cn.aliasIn) {
			c.free <- dl
			return &ReasonError{Packet: mqtt.TypePublish, Code: mqtt.TopicAliasInvalid}
		}
		if len(p.Topic) > 0 {
			cn.aliasIn[a] = append(cn.aliasIn[a][:0], p.Topic...)
		} else {
			if len(cn.aliasIn[a]) == 0 {
				c.free <- dl
				return &ReasonError{Packet: mqtt.TypePublish, Code: mqtt.ProtocolError}
			}
			dl.topic = append(dl.topic[:0], cn.aliasIn[a]...)
			p.Topic = dl.topic
		}
	}
	c.st.received.Add(1)
	switch p.QoS {
	case 1:
		c.imu.Lock()
		c.inQoS1++
		dl.inGen = c.inGen
		over := c.inQoS1+len(c.inQoS2) > int(c.cfg.ReceiveMaximum)
		if over && cn.version == mqtt.V5 {
			c.inQoS1-- // not delivered, never acknowledged
			c.imu.Unlock()
			c.free <- dl
			return &ReasonError{Packet: mqtt.TypePublish, Code: mqtt.ReceiveMaximumExceeded}
		}
		c.imu.Unlock()
	case 2:
		c.imu.Lock()
		st, dup := c.inQoS2[p.ID]
		if !dup {
			c.inQoS2[p.ID] = 1
		}
		over := c.inQoS1+len(c.inQoS2) > int(c.cfg.ReceiveMaximum)
		if over && !dup && cn.version == mqtt.V5 {
			delete(c.inQoS2, p.ID) // not delivered, never acknowledged
		}
		c.imu.Unlock()
		if dup {
			// Already received [MQTT-4.3.3-9]: do not deliver again.
			id := p.ID
			c.free <- dl
			if st == 2 {
				c.queueOut(appendAck(nil, cn.version, mqtt.TypePubrec, id))
			}
			return nil
		}
		if over && cn.version == mqtt.V5 {
			c.free <- dl
			return &ReasonError{Packet: mqtt.TypePublish, Code: mqtt.ReceiveMaximumExceeded}
		}
	}
	dl.gen = c.sessGen.Load()
	c.work <- dl // never blocks: slots come from free
	return nil
}

// deliverLoop runs handlers in arrival order and acknowledges each
// message once its handlers returned.
func (c *Client) deliverLoop() {
	defer c.wg.Done()
	var hs []*subEntry
	for {
		var dl *delivery
		select {
		case dl = <-c.work:
		case <-c.closing:
			return
		}
		p := &dl.pub
		hs = c.dispatch(p, hs[:0])
		if p.QoS > 0 && dl.gen == c.sessGen.Load() {
			// Count the message as handled before its acknowledgement can
			// reach the broker, which may then send the next one at once;
			// imu is held across both so that a reconnect (resetForSession)
			// cannot come between them.
			send := true
			c.imu.Lock()
			if p.QoS == 1 {
				if dl.inGen == c.inGen {
					c.inQoS1--
				} else {
					// It arrived on an earlier connection: the broker
					// resends it (DUP) on this one and counts it there;
					// a PUBACK now would free a slot we still count.
					send = false
				}
			} else if _, ok := c.inQoS2[p.ID]; ok {
				c.inQoS2[p.ID] = 2
			}
			if send {
				c.wmu.Lock()
				if p.QoS == 1 {
					c.out = appendAck(c.out, p.Version, mqtt.TypePuback, p.ID)
				} else {
					c.out = appendAck(c.out, p.Version, mqtt.TypePubrec, p.ID)
				}
				c.wmu.Unlock()
			}
			c.imu.Unlock()
			if send {
				c.kick()
			}
		}
		c.free <- dl
	}
}

// dispatch calls the handlers of the subscriptions matching p, each once,
// or the default handler.
func (c *Client) dispatch(p *mqtt.Publish, hs []*subEntry) []*subEntry {
	c.hmu.RLock()
	hs = c.trie.Match(p.Topic, hs)
	c.hmu.RUnlock()
	called := 0
	for i, s := range hs {
		if s.handler == nil {
			continue
		}
		dupl := false
		for _, t := range hs[:i] {
			if t.handler != nil && t == s {
				dupl = true
				break
			}
		}
		if !dupl {
			s.handler(p)
			called++
		}
	}
	if called == 0 && c.cfg.Handler != nil {
		c.cfg.Handler(p)
	}
	return hs
}
