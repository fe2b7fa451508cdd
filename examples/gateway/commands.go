package main

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/broker"
	"github.com/edgekit/edgekit/sched"
)

// A command is an MQTT message on edge/{gateway}/{device}/$cmd/{resource}.
// For a CoAP device it becomes a PUT of the payload (text/plain) to
// /{resource} at the address the device last sent from; for a mesh device
// the resources "onoff" (payload on/off/1/0) and "level" (-32768..32767)
// become Generic OnOff Set and Generic Level Set. The result goes to the
// MQTT 5 Response Topic of the command (with its Correlation Data) or else to
// edge/{gateway}/{device}/$reply/{resource}, as JSON:
// {"ok":true,"code":"2.04","body":"..."} or {"ok":false,"error":"..."}.
type command struct {
	device, resource string
	payload          []byte
	replyTopic       []byte
	corr             []byte
	received         time.Time
}

// parseCommand recognises a command topic and copies what it needs.
func (g *Gateway) parseCommand(p *mqtt.Publish) (*command, bool) {
	prefix := "edge/" + g.cfg.Gateway + "/"
	topic := string(p.Topic)
	if !strings.HasPrefix(topic, prefix) {
		return nil, false
	}
	rest := topic[len(prefix):]
	i := strings.Index(rest, "/$cmd/")
	if i <= 0 {
		return nil, false
	}
	c := &command{device: rest[:i], resource: rest[i+len("/$cmd/"):], payload: bytes.Clone(p.Payload), received: time.Now()}
	if c.resource == "" || strings.Contains(c.device, "/") {
		return nil, false
	}
	if len(p.Props.ResponseTopic) > 0 {
		c.replyTopic = bytes.Clone(p.Props.ResponseTopic)
		c.corr = bytes.Clone(p.Props.CorrelationData)
	} else {
		c.replyTopic = []byte(prefix + c.device + "/$reply/" + c.resource)
	}
	return c, true
}

// onLocalPublish is the broker's OnPublish hook: commands from local
// clients, and local messages forwarded upstream (uplink.up rules; see
// forward.go). A message that must go upstream but cannot be stored there
// is refused, so it is neither acknowledged with success nor routed.
func (g *Gateway) onLocalPublish(ci *broker.ClientInfo, p *mqtt.Publish) mqtt.ReasonCode {
	if ci == nil { // the gateway's own messages
		return mqtt.Success
	}
	if len(g.cfg.Uplink.Up) > 0 {
		if code := g.forwardUp(ci, p); code.IsError() {
			return code
		}
	}
	if c, ok := g.parseCommand(p); ok {
		g.submitCommand(c)
	}
	return mqtt.Success
}

// onUplinkCommand handles commands from the upstream broker.
func (g *Gateway) onUplinkCommand(p *mqtt.Publish) {
	if c, ok := g.parseCommand(p); ok {
		g.submitCommand(c)
	}
}

// routeTask checks a command on the pool's real-time class (ahead of any
// queued readings) and queues it for a command worker.
type routeTask struct {
	g *Gateway
	c *command
}

func (t *routeTask) Run() {
	g, c := t.g, t.c
	if _, _, _, ok := g.shadow.lookup(c.device); !ok {
		g.reply(c, false, "", "", "unknown device")
		return
	}
	if !g.cmdQ.TryPush(c) {
		g.c.commandsBusy.Add(1)
		g.reply(c, false, "", "", "command queue full")
	}
}

func (g *Gateway) submitCommand(c *command) {
	g.c.commands.Add(1)
	g.log.Info("command", "device", c.device, "resource", c.resource, "payload", string(c.payload))
	if err := g.work.TrySubmitClass(sched.RealTime, &routeTask{g: g, c: c}); err != nil {
		g.c.commandsBusy.Add(1)
		g.reply(c, false, "", "", "gateway busy")
	}
}

// commandWorker executes queued commands; a fixed number of them run, so a
// slow device delays only its own command.
func (g *Gateway) commandWorker() {
	defer g.wg.Done()
	for {
		c, err := g.cmdQ.Pop(g.runCtx)
		if err != nil {
			return
		}
		g.execute(c)
	}
}

func (g *Gateway) execute(c *command) {
	src, peer, meshAddr, _ := g.shadow.lookup(c.device)
	ctx, cancel := context.WithTimeout(g.runCtx, g.cfg.CoAP.CommandTimeout.D())
	defer cancel()
	switch src {
	case srcMesh:
		if g.mesh == nil {
			g.reply(c, false, "", "", "no mesh")
			return
		}
		state, err := g.mesh.command(ctx, meshAddr, c.resource, c.payload)
		if err != nil {
			g.reply(c, false, "", "", err.Error())
			return
		}
		g.reply(c, true, "status", state, "")
	case srcCoAP:
		if !peer.IsValid() {
			g.reply(c, false, "", "", "device address unknown")
			return
		}
		resp, err := g.cmdEP.Put(ctx, peer, "/"+c.resource, coap.TextPlain, c.payload)
		if err != nil {
			g.reply(c, false, "", "", err.Error())
			return
		}
		code := resp.Code()
		g.reply(c, code.Class() == 2, code.String(), string(resp.Body), "")
	default:
		g.reply(c, false, "", "", "commands to "+srcName(src)+" devices are not supported")
	}
}

// reply publishes a command's result locally and upstream.
func (g *Gateway) reply(c *command, ok bool, code, body, errMsg string) {
	if ok {
		g.c.commandsOK.Add(1)
	} else {
		g.c.commandsFail.Add(1)
	}
	b := []byte(`{"ok":`)
	b = strconv.AppendBool(b, ok)
	if code != "" {
		b = append(b, `,"code":`...)
		b = strconv.AppendQuote(b, code)
	}
	if body != "" {
		b = append(b, `,"body":`...)
		b = strconv.AppendQuote(b, body)
	}
	if errMsg != "" {
		b = append(b, `,"error":`...)
		b = strconv.AppendQuote(b, errMsg)
	}
	b = append(b, `,"ms":`...)
	b = strconv.AppendFloat(b, float64(time.Since(c.received).Microseconds())/1000, 'f', 3, 64)
	b = append(b, '}')
	p := mqtt.Publish{Topic: c.replyTopic, Payload: b, QoS: 1}
	if len(c.corr) > 0 {
		p.Props.SetBytes(mqtt.PropCorrelationData, c.corr)
	}
	g.log.Info("command result", "device", c.device, "resource", c.resource, "ok", ok, "code", code, "err", errMsg)
	if err := g.broker.Publish(context.Background(), &p); err != nil && !errors.Is(err, broker.ErrClosed) {
		g.log.Warn("reply", "err", err)
	}
	if g.up != nil {
		_ = g.up.Publish(g.runCtx, &p)
	}
}
