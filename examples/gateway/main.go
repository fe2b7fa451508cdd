// Command gateway is edgekit's complete edge gateway: it brings CoAP sensors
// (UDP and DTLS) and a Bluetooth Mesh network to MQTT, keeps an embedded
// broker for local applications, and carries everything upstream through
// outages with a durable store-and-forward log.
//
// Quick start, with simulated CoAP sensors and mesh nodes and no hardware:
//
//	cd examples/gateway && go run . -demo
//
// then open http://127.0.0.1:8080/ (status page), curl
// http://127.0.0.1:8080/metrics, or subscribe to the embedded broker with
// mosquitto_sub -p 1883 -t 'edge/#' -v.
//
// # Data path
//
//	CoAP devices --UDP/DTLS--> uring batch read (numa reuseport steering with
//	coap.workers > 1) --> coap endpoint --> readings ring (ringbuf.MPSC of
//	mempool buffers) --> sched workers: SenML JSON/CBOR or plain values
//	normalised to topics, device shadow --> embedded mqtt/broker + uplink
//	(mqtt/client with its file store) --> upstream broker.
//	Mesh nodes --in-memory air (blemesh/bearer) or a Bluetooth controller
//	(blemesh/hci, mesh.bearer = "hci")--> blemesh/node (the gateway is the
//	provisioner) --> the same readings ring.
//	Local MQTT clients --embedded broker--> uplink.up rules --> the uplink
//	store (acknowledged once stored); uplink.down rules bring upstream
//	messages to local clients.
//	Commands: MQTT (local or upstream) --> real-time class of the sched pool
//	--> command ring --> CoAP PUT or mesh Generic OnOff/Level Set --> reply
//	topic.
//
// # Topics
//
//	edge/{gateway}/{device}/{quantity}        {"v":21.5,"u":"Cel","t":1732350000.123456}
//	edge/{gateway}/{device}/$state            retained shadow: {"device","status":"online"|"offline",
//	                                          "source","version","last_seen","readings","values":{...}}
//	edge/{gateway}/{device}/$cmd/{resource}   command (payload: the value)
//	edge/{gateway}/{device}/$reply/{resource} result (or the MQTT 5 Response Topic of the command)
//	edge/{gateway}/$gateway                   retained {"status":"online"|"offline"} (also the uplink's will)
//
// CoAP devices POST or PUT to /r/{device} (SenML JSON, content format 110
// or 50; SenML CBOR, 112 or 60), /r/{device}/{quantity} (text/plain value),
// or /r (SenML whose base name names the device).
//
// # Configuration
//
// A TOML file (-config, see gateway.example.toml) sets everything; flags
// override it. Unknown keys and bad values are errors that name the key.
// SIGINT or SIGTERM shuts down in order: ingest stops, queued readings are
// normalised, the uplink store is synced and closed, the broker stops.
// SIGHUP restarts gracefully: a new process inherits the listening sockets
// (see Gateway.Handover) while this one shuts down.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgekit/edgekit/blemesh/hci"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/sched"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(2)
	}
}

// options are the command line's own settings.
type options struct {
	configPath string
	demo       bool
	quiet      bool
}

// parseArgs reads the config file and applies the flags over it.
func parseArgs(args []string, stderr io.Writer) (Config, options, error) {
	var cfg Config
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configPath, "config", "", "TOML configuration file (see gateway.example.toml)")
	fs.BoolVar(&o.demo, "demo", false, "start simulated CoAP sensors and mesh nodes")
	fs.BoolVar(&o.quiet, "quiet", false, "in demo mode, do not log every MQTT message")
	gw := fs.String("gateway", "", "gateway name, the second topic level (config: gateway)")
	coapAddr := fs.String("coap", "", "CoAP UDP listen address (config: coap.listen)")
	coapWorkers := fs.Int("coap-workers", 0, "CoAP sockets in a per-CPU reuseport group (config: coap.workers)")
	mqttAddr := fs.String("mqtt", "", "embedded broker TCP listen address (config: mqtt.listen)")
	httpAddr := fs.String("http", "", "status page and /metrics listen address (config: http.listen)")
	uplink := fs.String("uplink", "", "upstream broker host:port (config: uplink.addr)")
	store := fs.String("store", "", "uplink store directory (config: uplink.store_dir)")
	level := fs.String("log-level", "", "debug, info, warn or error (config: log_level)")
	if err := fs.Parse(args); err != nil {
		return cfg, o, err
	}
	if fs.NArg() > 0 {
		return cfg, o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.demo {
		cfg.CoAP.Listen, cfg.MQTT.Listen, cfg.HTTP.Listen = "127.0.0.1:5683", "127.0.0.1:1883", "127.0.0.1:8080"
		cfg.Gateway = "demo"
	}
	if o.configPath != "" {
		if err := loadConfig(o.configPath, &cfg); err != nil {
			return cfg, o, err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "gateway":
			cfg.Gateway = *gw
		case "coap":
			cfg.CoAP.Listen = *coapAddr
		case "coap-workers":
			cfg.CoAP.Workers = *coapWorkers
		case "mqtt":
			cfg.MQTT.Listen = *mqttAddr
		case "http":
			cfg.HTTP.Listen = *httpAddr
		case "uplink":
			cfg.Uplink.Addr = *uplink
		case "store":
			cfg.Uplink.StoreDir = *store
		case "log-level":
			cfg.LogLevel = *level
		}
	})
	cfg.applyDefaults(o.demo)
	if err := cfg.validate(); err != nil {
		return cfg, o, err
	}
	return cfg, o, nil
}

// started reports the addresses a running gateway listens on (for tests).
type started struct {
	g    *Gateway
	http net.Addr
}

// run runs the gateway until ctx is done. ready, if set, receives the
// running gateway.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- started) error {
	cfg, o, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	lvl, _ := parseLevel(cfg.LogLevel)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	// Fit the Go runtime's memory limit to the cgroup's (sched.DetectLimits
	// walks the whole cgroup path; the runtime itself does not).
	if lim, err := sched.DetectLimits(sched.LimitsConfig{}); err == nil {
		if res, err := sched.ApplyMemoryLimit(lim, sched.MemoryLimitConfig{}); err == nil {
			lvl := slog.LevelDebug
			if res.Applied {
				lvl = slog.LevelInfo
			}
			log.Log(ctx, lvl, "limits", "cgroup", lim.String(), "memory_limit", res)
		}
	}
	inh, err := inheritFromEnv()
	if err != nil {
		return err
	}
	if inh != nil {
		log.Info("graceful restart: waiting for the previous process to finish")
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := inh.waitPredecessor(wctx)
		cancel()
		if err != nil {
			return fmt.Errorf("waiting for the previous process: %w", err)
		}
	}
	if o.demo && inh == nil {
		// A fresh machine may already run a broker on 1883 or a web server on
		// 8080: the demo then takes free ports and says so.
		cfg.CoAP.Listen = demoPort(log, "udp", "coap", cfg.CoAP.Listen)
		cfg.MQTT.Listen = demoPort(log, "tcp", "mqtt", cfg.MQTT.Listen)
		cfg.HTTP.Listen = demoPort(log, "tcp", "http", cfg.HTTP.Listen)
	}
	g, err := newGateway(cfg, log, inh)
	if err != nil {
		return err
	}
	if cfg.Mesh.Bearer != "off" {
		t0 := time.Now()
		if g.mesh, err = g.openMesh(o.demo, hci.OpenUserChannel); err != nil {
			g.Close()
			return err
		}
		if g.mesh != nil {
			log.Info("mesh ready", "bearer", g.mesh.bearerName(), "nodes", len(g.mesh.devs), "took", time.Since(t0).Round(time.Millisecond))
		}
	}
	if o.demo && cfg.Demo.CoAPSensors > 0 {
		if g.demo, err = newDemoSensors(g, cfg.Demo.CoAPSensors); err != nil {
			g.Close()
			return err
		}
	}
	var httpAddr net.Addr
	if cfg.HTTP.Listen != "" {
		var srv interface{ Close() error }
		a, s, err := g.startHTTP(cfg.HTTP.Listen)
		if err != nil {
			g.Close()
			return fmt.Errorf("http.listen: %w", err)
		}
		httpAddr, srv = a, s
		defer srv.Close()
		log.Info("status page", "url", "http://"+a.String()+"/", "metrics", "http://"+a.String()+"/metrics")
	}
	if o.demo && !o.quiet {
		go printMessages(ctx, g, log)
	}
	log.Info("gateway running", "gateway", cfg.Gateway, "coap", g.CoAPAddr(), "mqtt", g.MQTTAddr(), "uplink", cfg.Uplink.Addr)
	if ready != nil {
		ready <- started{g: g, http: httpAddr}
	}
	// SIGHUP: graceful restart (see Gateway.Handover).
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		select {
		case <-hup:
			if _, err := g.Handover(); err != nil {
				log.Error("graceful restart failed; serving on", "err", err)
				return
			}
			cancel()
		case <-rctx.Done():
		}
	}()
	return g.Run(rctx)
}

// demoPort returns addr if it can be bound, else the same host with port 0.
func demoPort(log *slog.Logger, network, what, addr string) string {
	if addr == "" {
		return addr
	}
	var c io.Closer
	var err error
	if network == "udp" {
		c, err = net.ListenPacket("udp", addr)
	} else {
		c, err = net.Listen("tcp", addr)
	}
	if err == nil {
		c.Close()
		return addr
	}
	ap, perr := netip.ParseAddrPort(addr)
	if perr != nil {
		return addr
	}
	alt := netip.AddrPortFrom(ap.Addr(), 0).String()
	log.Warn("demo: port busy, taking a free one", "what", what, "addr", addr, "err", err)
	return alt
}

// printMessages subscribes to edge/# on the embedded broker through an
// in-process connection and logs every message: what a local application
// sees.
func printMessages(ctx context.Context, g *Gateway, log *slog.Logger) {
	c, err := client.New(client.Config{
		Dialer:   func(context.Context) (io.ReadWriteCloser, error) { return g.broker.Pipe() },
		Version:  mqtt.V5,
		ClientID: "demo-printer",
		Logger:   log.With("component", "printer"),
		Handler: func(m *mqtt.Publish) {
			log.Info("mqtt", "topic", string(m.Topic), "payload", string(m.Payload), "retained", m.Retain)
		},
	})
	if err != nil {
		log.Warn("printer", "err", err)
		return
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Connect(cctx); err != nil {
		log.Warn("printer connect", "err", err)
		return
	}
	if _, err := c.Subscribe(cctx, nil, mqtt.Subscription{Filter: []byte("edge/#")}); err != nil {
		log.Warn("printer subscribe", "err", err)
		return
	}
	<-ctx.Done()
}
