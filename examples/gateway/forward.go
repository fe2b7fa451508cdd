package main

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/broker"
	"github.com/edgekit/edgekit/mqtt/client"
)

// Forwarding between the embedded broker and the upstream broker
// (uplink.up and uplink.down in the configuration).
//
// Up: the broker's OnPublish hook runs on the publishing client's
// connection before the broker acknowledges the PUBLISH. For every
// uplink.up rule the message matches, the hook hands a copy to the uplink
// client, which (ReturnWhenStored) returns once its store holds it. So a
// QoS 1 message is acknowledged to the local client only once it is in the
// uplink's store-and-forward log: durable across uplink outages and, with
// uplink.store_dir, across a restart or a crash of the gateway. If the
// store refuses it (full, closed, or no room within forwardTimeout) an
// MQTT 5 client gets an error reason code in its PUBACK instead of success
// and the message is not routed locally either. MQTT 3.1.1 has no reason
// codes: mqtt/broker then sends a plain PUBACK, so the failure is only
// logged and counted (forward_up_failed). QoS 0 messages are forwarded at
// best effort.
//
// Down: every uplink.down rule is an upstream subscription (No Local,
// Retain As Published) whose messages the gateway publishes on the
// embedded broker with Broker.Publish.
//
// Loops: the hook forwards only messages of clients (ClientInfo != nil);
// what the gateway publishes itself with Broker.Publish (readings, replies,
// and the messages of uplink.down rules) is never sent up by a rule. And
// the upstream subscriptions use No Local, so a message the gateway sent up
// does not come back down even when an uplink.down filter matches it.
// Readings are sent upstream by the pipeline, not by these rules.

// forwardTimeout bounds how long the hook waits for the uplink store.
const forwardTimeout = 10 * time.Second

// fwdCounters count forwarded messages.
type fwdCounters struct {
	up, upFailed, down, downFailed atomic.Uint64
}

// mapTopic returns the topic on the other side: prefix + topic without
// strip. ok is false if that is not a valid topic name.
func mapTopic(rule *ForwardRule, topic []byte) ([]byte, bool) {
	rest := topic
	if strings.HasPrefix(string(topic), rule.Strip) {
		rest = topic[len(rule.Strip):]
	}
	out := make([]byte, 0, len(rule.Prefix)+len(rest))
	out = append(append(out, rule.Prefix...), rest...)
	if mqtt.CheckTopicName(out) != nil {
		return nil, false
	}
	return out, true
}

// forwardMsg copies p for the other side with topic and QoS at most qos.
func forwardMsg(p *mqtt.Publish, topic []byte, qos uint8) *mqtt.Publish {
	q := &mqtt.Publish{Version: mqtt.V5, QoS: min(p.QoS, qos), Retain: p.Retain, Topic: topic, Payload: p.Payload}
	if p.Version == mqtt.V5 {
		q.Props = p.Props
		q.Props.Present = q.Props.Present.Without(mqtt.PropTopicAlias)
		q.Props.SubscriptionIDs = nil
		q.Props.ResetOrder()
	}
	return q
}

// forwardUp sends a local client's message upstream by every matching
// uplink.up rule. It runs in the broker's OnPublish hook and returns the
// reason code for the publisher: an error when a QoS 1/2 message could not
// be stored.
func (g *Gateway) forwardUp(ci *broker.ClientInfo, p *mqtt.Publish) mqtt.ReasonCode {
	if ci == nil || g.up == nil {
		return mqtt.Success // the gateway's own messages are never forwarded
	}
	code := mqtt.Success
	for i := range g.cfg.Uplink.Up {
		r := &g.cfg.Uplink.Up[i]
		if !mqtt.MatchTopic([]byte(r.Filter), p.Topic) {
			continue
		}
		topic, ok := mapTopic(r, p.Topic)
		if !ok {
			g.fwd.upFailed.Add(1)
			g.log.Warn("forward up: mapped topic is invalid", "topic", string(p.Topic), "rule", r.Filter)
			continue
		}
		q := forwardMsg(p, topic, r.qos())
		ctx, cancel := context.WithTimeout(g.runCtx, forwardTimeout)
		err := g.up.Publish(ctx, q)
		cancel()
		if err != nil {
			g.fwd.upFailed.Add(1)
			g.log.Warn("forward up", "topic", string(topic), "client", ci.ID, "err", err)
			if p.QoS > 0 {
				code = mqtt.UnspecifiedError
				if errors.Is(err, client.ErrStoreFull) {
					code = mqtt.QuotaExceeded
				}
			}
			continue
		}
		g.fwd.up.Add(1)
	}
	return code
}

// startDown subscribes upstream for every uplink.down rule; the client
// sends the subscriptions once connected and renews them after a
// reconnect that did not resume the session.
func (g *Gateway) startDown() {
	for i := range g.cfg.Uplink.Down {
		r := &g.cfg.Uplink.Down[i]
		s := mqtt.Subscription{Filter: []byte(r.Filter), QoS: r.qos(), NoLocal: true, RetainAsPublished: true}
		h := func(p *mqtt.Publish) { g.forwardDown(r, p) }
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			retry := time.Second
			for g.runCtx.Err() == nil {
				codes, err := g.up.Subscribe(g.runCtx, h, s)
				if err == nil && len(codes) == 1 && !codes[0].IsError() {
					g.log.Info("forward down: subscribed upstream", "filter", r.Filter, "prefix", r.Prefix, "strip", r.Strip)
					return
				}
				if g.runCtx.Err() != nil {
					return
				}
				g.log.Warn("forward down: subscribe refused; retrying", "filter", r.Filter, "codes", codes, "err", err, "in", retry)
				t := time.NewTimer(retry)
				select {
				case <-g.runCtx.Done():
				case <-t.C:
				}
				t.Stop()
				retry = min(2*retry, time.Minute)
			}
		}()
	}
}

// forwardDown publishes an upstream message on the embedded broker. The
// uplink client acknowledges it upstream once this returns.
func (g *Gateway) forwardDown(r *ForwardRule, p *mqtt.Publish) {
	topic, ok := mapTopic(r, p.Topic)
	if !ok {
		g.fwd.downFailed.Add(1)
		g.log.Warn("forward down: mapped topic is invalid", "topic", string(p.Topic), "rule", r.Filter)
		return
	}
	if err := g.broker.Publish(g.runCtx, forwardMsg(p, topic, r.qos())); err != nil {
		g.fwd.downFailed.Add(1)
		g.log.Warn("forward down", "topic", string(topic), "err", err)
		return
	}
	g.fwd.down.Add(1)
}
