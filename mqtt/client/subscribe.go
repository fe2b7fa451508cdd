package client

import (
	"context"
	"errors"

	"github.com/edgekit/edgekit/mqtt"
)

type subEntry struct {
	sub     mqtt.Subscription // Filter is owned
	handler Handler
}

type subReq struct {
	id      mqtt.PacketID
	unsub   bool
	subs    []mqtt.Subscription
	filters [][]byte
	props   mqtt.Properties
	entries []*subEntry
	done    chan subResult // nil for resubscriptions
}

type subResult struct {
	codes []mqtt.ReasonCode
	err   error
}

// ErrSubscribe reports a SUBSCRIBE with no filters or an invalid option.
var ErrSubscribe = errors.New("mqtt/client: invalid subscription")

// Subscribe subscribes to subs and returns the broker's reason code for
// each (under 3.1.1: the granted QoS or 0x80). h, if not nil, handles the
// messages matching these filters; a filter subscribed again replaces the
// earlier subscription and its handler. Subscriptions are renewed after a
// reconnect that did not resume the session. While offline the SUBSCRIBE
// is sent once connected.
func (c *Client) Subscribe(ctx context.Context, h Handler, subs ...mqtt.Subscription) ([]mqtt.ReasonCode, error) {
	return c.SubscribeProps(ctx, nil, h, subs...)
}

// SubscribeProps is Subscribe with MQTT 5 SUBSCRIBE properties (user
// properties, a Subscription Identifier).
func (c *Client) SubscribeProps(ctx context.Context, props *mqtt.Properties, h Handler, subs ...mqtt.Subscription) ([]mqtt.ReasonCode, error) {
	if len(subs) == 0 {
		return nil, ErrSubscribe
	}
	req := &subReq{done: make(chan subResult, 1)}
	if props != nil {
		if c.cfg.Version != mqtt.V5 && !props.Empty() {
			return nil, errors.Join(ErrSubscribe, mqtt.ErrVersion)
		}
		req.props = props.Clone()
	}
	for _, s := range subs {
		if err := mqtt.CheckTopicFilter(s.Filter); err != nil {
			return nil, err
		}
		if s.QoS > 2 || s.RetainHandling > 2 {
			return nil, ErrSubscribe
		}
		s.Filter = append([]byte(nil), s.Filter...)
		req.subs = append(req.subs, s)
		req.entries = append(req.entries, &subEntry{sub: s, handler: h})
	}
	c.hmu.Lock()
	for _, e := range req.entries {
		_ = c.trie.Add(e.sub.Filter, e)
	}
	c.hmu.Unlock()
	res, err := c.request(ctx, req)
	if err != nil {
		c.hmu.Lock()
		for _, e := range req.entries {
			c.trie.Remove(e.sub.Filter, e)
		}
		c.hmu.Unlock()
		return nil, err
	}
	c.hmu.Lock()
	c.mu.Lock()
	for i, e := range req.entries {
		if i < len(res.codes) && res.codes[i].IsError() {
			c.trie.Remove(e.sub.Filter, e)
			continue
		}
		// Replace an earlier subscription to the same filter.
		for j := 0; j < len(c.subs); j++ {
			if string(c.subs[j].sub.Filter) == string(e.sub.Filter) {
				c.trie.Remove(c.subs[j].sub.Filter, c.subs[j])
				c.subs = append(c.subs[:j], c.subs[j+1:]...)
				j--
			}
		}
		c.subs = append(c.subs, e)
	}
	c.mu.Unlock()
	c.hmu.Unlock()
	return res.codes, nil
}

// Unsubscribe removes the subscriptions to filters and their handlers, and
// returns the broker's reason codes (MQTT 5; nil under 3.1.1).
func (c *Client) Unsubscribe(ctx context.Context, filters ...string) ([]mqtt.ReasonCode, error) {
	if len(filters) == 0 {
		return nil, ErrSubscribe
	}
	req := &subReq{unsub: true, done: make(chan subResult, 1)}
	for _, f := range filters {
		if err := mqtt.CheckTopicFilter([]byte(f)); err != nil {
			return nil, err
		}
		req.filters = append(req.filters, []byte(f))
	}
	res, err := c.request(ctx, req)
	if err != nil {
		return nil, err
	}
	c.hmu.Lock()
	c.mu.Lock()
	for _, f := range filters {
		for j := 0; j < len(c.subs); j++ {
			if string(c.subs[j].sub.Filter) == f {
				c.trie.Remove(c.subs[j].sub.Filter, c.subs[j])
				c.subs = append(c.subs[:j], c.subs[j+1:]...)
				j--
			}
		}
	}
	c.mu.Unlock()
	c.hmu.Unlock()
	return res.codes, nil
}

// request sends a SUBSCRIBE or UNSUBSCRIBE and waits for its ack.
func (c *Client) request(ctx context.Context, req *subReq) (subResult, error) {
	if c.isClosing() {
		return subResult{}, ErrClosed
	}
	c.mu.Lock()
	id, ok := c.allocID()
	if !ok {
		c.mu.Unlock()
		return subResult{}, errNoID
	}
	req.id = id
	c.subReqs[id] = req
	cn := c.cn
	c.mu.Unlock()
	if cn != nil {
		b, err := c.encodeReq(nil, req, cn.version)
		if err != nil {
			c.dropReq(req)
			return subResult{}, err
		}
		c.queueOut(b)
	}
	select {
	case r := <-req.done:
		if r.err != nil {
			return r, r.err
		}
		return r, nil
	case <-ctx.Done():
		c.dropReq(req)
		return subResult{}, ctx.Err()
	case <-c.closing:
		c.dropReq(req)
		return subResult{}, ErrClosed
	}
}

func (c *Client) dropReq(req *subReq) {
	c.mu.Lock()
	if c.subReqs[req.id] == req {
		delete(c.subReqs, req.id)
		c.freeID(req.id)
	}
	c.mu.Unlock()
}

func (c *Client) encodeReq(dst []byte, req *subReq, v mqtt.Version) ([]byte, error) {
	props := req.props
	if v != mqtt.V5 {
		props = mqtt.Properties{}
	}
	if req.unsub {
		u := mqtt.Unsubscribe{Version: v, ID: req.id, Props: props, Filters: req.filters}
		return u.AppendBinary(dst)
	}
	s := mqtt.Subscribe{Version: v, ID: req.id, Props: props, Filters: req.subs}
	return s.AppendBinary(dst)
}

// subAck completes the request with id.
func (c *Client) subAck(id mqtt.PacketID, codes []mqtt.ReasonCode, err error) {
	c.mu.Lock()
	req := c.subReqs[id]
	if req != nil {
		delete(c.subReqs, id)
		c.freeID(id)
	}
	c.mu.Unlock()
	if req == nil {
		return
	}
	codes = append([]mqtt.ReasonCode(nil), codes...) // they alias the read buffer
	if req.done != nil {
		req.done <- subResult{codes: codes, err: err}
		return
	}
	for i, code := range codes {
		if code.IsError() && i < len(req.subs) {
			c.log.Warn("mqtt/client: resubscription refused", "filter", string(req.subs[i].Filter), "code", code.String())
		}
	}
}

// resubscribe queues the pending (un)subscriptions again and, when the
// session was not resumed, renews every active subscription.
func (c *Client) resubscribe(cn *conn, sessionPresent bool) {
	c.mu.Lock()
	var reqs []*subReq
	for _, r := range c.subReqs {
		reqs = append(reqs, r)
	}
	if !sessionPresent && len(c.subs) > 0 {
		const per = 64
		for i := 0; i < len(c.subs); i += per {
			id, ok := c.allocID()
			if !ok {
				break
			}
			r := &subReq{id: id}
			for _, e := range c.subs[i:min(i+per, len(c.subs))] {
				r.subs = append(r.subs, e.sub)
			}
			c.subReqs[id] = r
			reqs = append(reqs, r)
		}
	}
	c.mu.Unlock()
	if len(reqs) == 0 {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, r := range reqs {
		out, err := c.encodeReq(c.out, r, cn.version)
		if err != nil {
			c.log.Warn("mqtt/client: cannot encode a subscription", "err", err)
			continue
		}
		c.out = out
	}
}
