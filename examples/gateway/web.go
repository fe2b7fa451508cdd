package main

import (
	_ "embed"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed status.html
var statusHTML []byte

// status is the document behind the status page (GET /api/status).
type status struct {
	Gateway   string    `json:"gateway"`
	Started   time.Time `json:"started"`
	UptimeSec float64   `json:"uptime_s"`
	Rates     struct {
		In      float64   `json:"in_per_s"`
		Out     float64   `json:"out_per_s"`
		Uplink  float64   `json:"uplink_per_s"`
		History []float64 `json:"history"`
	} `json:"rates"`
	Queues struct {
		Readings       int `json:"readings"`
		ReadingsCap    int `json:"readings_cap"`
		WorkNormal     int `json:"work_normal"`
		WorkRealTime   int `json:"work_realtime"`
		Commands       int `json:"commands"`
		UplinkStored   int `json:"uplink_stored"`
		UplinkInflight int `json:"uplink_inflight"`
	} `json:"queues"`
	Uplink struct {
		Addr       string `json:"addr"`
		Connected  bool   `json:"connected"`
		Sent       uint64 `json:"sent"`
		Acked      uint64 `json:"acked"`
		Resent     uint64 `json:"resent"`
		Reconnects uint64 `json:"reconnects"`
	} `json:"uplink"`
	Drops map[string]uint64 `json:"drops"`
	Count map[string]uint64 `json:"counters"`
	CoAP  struct {
		Addr     string `json:"addr"`
		Backend  string `json:"backend"`
		Steering string `json:"steering"`
		Sockets  int    `json:"sockets"`
	} `json:"coap"`
	Broker struct {
		Addr        string `json:"addr"`
		Connections int64  `json:"connections"`
		Retained    int    `json:"retained"`
	} `json:"broker"`
	Devices []deviceView `json:"devices"`
}

// Status returns a snapshot for the status page and tests.
func (g *Gateway) Status() status {
	var s status
	s.Gateway = g.cfg.Gateway
	s.Started = g.started
	s.UptimeSec = time.Since(g.started).Seconds()
	s.Rates.In, s.Rates.Out, s.Rates.Uplink, s.Rates.History = g.rates.snapshot()
	s.Queues.Readings, s.Queues.ReadingsCap = g.ring.Len(), g.ring.Cap()
	ps := g.work.Stats()
	s.Queues.WorkNormal, s.Queues.WorkRealTime = ps.Queued[0], ps.Queued[1]
	s.Queues.Commands = g.cmdQ.Len()
	if g.up != nil {
		us := g.up.Stats()
		s.Queues.UplinkStored, s.Queues.UplinkInflight = us.Stored, us.Inflight
		s.Uplink.Addr = g.cfg.Uplink.Addr
		s.Uplink.Connected, s.Uplink.Sent, s.Uplink.Acked, s.Uplink.Resent, s.Uplink.Reconnects = us.Connected, us.Sent, us.Acked, us.Resent, us.Reconnects
	}
	bs := g.broker.Stats()
	var epDropped uint64
	for _, ep := range g.eps {
		epDropped += ep.Stats().Dropped
	}
	s.Drops = map[string]uint64{
		"ring_full":           g.c.ringFull.Load(),
		"bad_request":         g.c.badRequest.Load(),
		"device_limit":        g.c.deviceLimit.Load(),
		"coap_dropped":        epDropped,
		"uplink_errors":       g.c.uplinkErrors.Load(),
		"broker_dropped":      bs.DroppedQoS0 + bs.DroppedOldest + bs.DroppedExpired + bs.DroppedTooLarge,
		"commands_busy":       g.c.commandsBusy.Load(),
		"forward_up_failed":   g.fwd.upFailed.Load(),
		"forward_down_failed": g.fwd.downFailed.Load(),
	}
	if g.up != nil {
		s.Drops["uplink_dropped"] = g.up.Stats().Dropped
	}
	s.Count = map[string]uint64{
		"received":       g.c.received.Load(),
		"readings":       g.c.readings.Load(),
		"published":      g.c.publishedLoc.Load(),
		"uplinked":       g.c.publishedUp.Load(),
		"state_updates":  g.c.stateUpdates.Load(),
		"commands":       g.c.commands.Load(),
		"commands_ok":    g.c.commandsOK.Load(),
		"commands_fail":  g.c.commandsFail.Load(),
		"mesh_readings":  g.c.meshReadings.Load(),
		"mesh_nodes":     g.c.meshProvision.Load(),
		"forwarded_up":   g.fwd.up.Load(),
		"forwarded_down": g.fwd.down.Load(),
	}
	if g.coapAddr.IsValid() {
		s.CoAP.Addr = g.coapAddr.String()
	}
	s.CoAP.Backend, s.CoAP.Steering, s.CoAP.Sockets = g.backend, g.steering, len(g.uconns)
	s.Broker.Addr, s.Broker.Connections, s.Broker.Retained = g.MQTTAddr(), bs.Connections, bs.Retained
	s.Devices = g.shadow.views()
	return s
}

// metrics registers the gateway's Prometheus metrics on a registry of its
// own (no global state).
func (g *Gateway) metrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, f func() uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "edgekit_gateway", Name: name, Help: help},
			func() float64 { return float64(f()) }))
	}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "edgekit_gateway", Name: name, Help: help}, f))
	}
	counter("uploads_received_total", "CoAP and mesh uploads accepted into the readings ring.", g.c.received.Load)
	counter("readings_total", "Readings normalised and published.", g.c.readings.Load)
	counter("readings_uplinked_total", "Readings handed to the uplink store.", g.c.publishedUp.Load)
	counter("dropped_ring_full_total", "Uploads refused because the readings ring was full (5.03).", g.c.ringFull.Load)
	counter("bad_requests_total", "Uploads with a bad path or payload.", g.c.badRequest.Load)
	counter("uplink_errors_total", "Uplink publish errors.", g.c.uplinkErrors.Load)
	counter("state_updates_total", "Retained device state messages.", g.c.stateUpdates.Load)
	counter("commands_total", "Commands received.", g.c.commands.Load)
	counter("commands_failed_total", "Commands that failed.", g.c.commandsFail.Load)
	counter("mesh_readings_total", "Readings from the mesh.", g.c.meshReadings.Load)
	counter("forwarded_up_total", "Local clients' messages forwarded upstream (uplink.up rules).", g.fwd.up.Load)
	counter("forwarded_down_total", "Upstream messages delivered locally (uplink.down rules).", g.fwd.down.Load)
	counter("forward_failed_total", "Messages an uplink.up or uplink.down rule could not forward.", func() uint64 { return g.fwd.upFailed.Load() + g.fwd.downFailed.Load() })
	counter("coap_dropped_total", "Datagrams dropped by the CoAP endpoints.", func() uint64 {
		var n uint64
		for _, ep := range g.eps {
			n += ep.Stats().Dropped
		}
		return n
	})
	gauge("readings_queue_depth", "Uploads waiting in the readings ring.", func() float64 { return float64(g.ring.Len()) })
	gauge("work_queue_depth", "Tasks waiting in the worker pool.", func() float64 {
		q := g.work.Stats().Queued
		return float64(q[0] + q[1])
	})
	gauge("devices_online", "Devices currently online.", func() float64 {
		n := 0
		for _, d := range g.shadow.views() {
			if d.Online {
				n++
			}
		}
		return float64(n)
	})
	gauge("broker_connections", "Connections to the embedded broker.", func() float64 { return float64(g.broker.Stats().Connections) })
	if g.up != nil {
		gauge("uplink_connected", "1 when the uplink is connected.", func() float64 {
			if g.up.Stats().Connected {
				return 1
			}
			return 0
		})
		gauge("uplink_stored", "Messages in the uplink store awaiting acknowledgement.", func() float64 { return float64(g.up.Stats().Stored) })
	}
	return reg
}

// serveHTTP serves the status page, /api/status and /metrics on ln until
// the gateway stops.
func (g *Gateway) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(statusHTML)
	})
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(g.Status())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics(), promhttp.HandlerOpts{}))
	return mux
}

// startHTTP listens on addr and serves until Close.
func (g *Gateway) startHTTP(addr string) (net.Addr, *http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: g.httpHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr(), srv, nil
}
