// Command mqtt-broker is an MQTT 3.1.1 and 5.0 broker on edgekit's
// mqtt/broker, able to stand in for mosquitto on a gateway.
//
// Usage:
//
//	mqtt-broker [-listen 127.0.0.1:1883] [-unix PATH]
//	            [-tls-listen :8883 -tls-cert FILE -tls-key FILE]
//	            [-data DIR [-sync interval|always|never]]
//	            [-max-connections N] [-max-packet-size BYTES] [-max-queued N]
//	            [-max-queued-bytes BYTES] [-max-inflight N] [-publish-rate N]
//	            [-max-retained N] [-max-keepalive SECONDS] [-sys-interval D] [-v]
//	            [-bridge-addr HOST:PORT [-bridge-name NAME] [-bridge-version 3|5]
//	             [-bridge-store DIR] -bridge-topic 'FILTER in|out|both QOS [LOCAL [REMOTE]]' ...]
//
// A bridge carries the mapped topics to and from an upstream broker, with
// the prefixes swapped ("-" for an empty prefix); with -bridge-store,
// messages for the upstream are kept on disk while it is unreachable and
// across restarts:
//
//	mqtt-broker -data /var/lib/mqtt -bridge-addr cloud:1883 -bridge-store /var/lib/mqtt-bridge \
//	    -bridge-topic 'sensors/# out 1 - gw-17/' -bridge-topic 'cmd/# in 1 - gw-17/'
//
// With -data, sessions, subscriptions, retained messages and QoS 1/2 state
// survive restarts. Try it with mosquitto's clients:
//
//	mosquitto_sub -V mqttv5 -t 'sensors/#' -v &
//	mosquitto_pub -V mqttv5 -t sensors/1 -m 21.5
//
// SIGINT or SIGTERM stops it: clients get DISCONNECT (Server Shutting Down)
// and the store is closed.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/broker"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// config is what the command line sets.
type config struct {
	listen    string // "" disables plain TCP
	unix      string // "" disables the Unix socket
	tlsListen string
	tlsCert   string
	tlsKey    string
	dataDir   string
	sync      string
	verbose   bool
	broker    broker.Config

	bridgeAddr    string
	bridgeName    string
	bridgeVersion int
	bridgeStore   string
	bridgeTopics  []broker.BridgeMapping
}

// topicFlag parses repeated -bridge-topic values.
type topicFlag struct{ dst *[]broker.BridgeMapping }

func (f topicFlag) String() string { return "" }

func (f topicFlag) Set(v string) error {
	m, err := parseMapping(v)
	if err != nil {
		return err
	}
	*f.dst = append(*f.dst, m)
	return nil
}

// parseMapping reads "FILTER in|out|both QOS [LOCAL [REMOTE]]".
func parseMapping(v string) (broker.BridgeMapping, error) {
	f := strings.Fields(v)
	var m broker.BridgeMapping
	if len(f) < 3 || len(f) > 5 {
		return m, errors.New("want FILTER in|out|both QOS [LOCALPREFIX [REMOTEPREFIX]]")
	}
	m.Filter = f[0]
	switch f[1] {
	case "in":
		m.Direction = broker.In
	case "out":
		m.Direction = broker.Out
	case "both":
		m.Direction = broker.Both
	default:
		return m, errors.New("direction must be in, out or both")
	}
	q, err := strconv.Atoi(f[2])
	if err != nil || q < 0 || q > 2 {
		return m, errors.New("QoS must be 0, 1 or 2")
	}
	m.QoS = uint8(q)
	prefix := func(s string) string {
		if s == "-" {
			return ""
		}
		return s
	}
	if len(f) > 3 {
		m.LocalPrefix = prefix(f[3])
	}
	if len(f) > 4 {
		m.RemotePrefix = prefix(f[4])
	}
	return m, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "mqtt-broker:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into a config.
func parseFlags(args []string, errOut io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("mqtt-broker", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:1883", "TCP listen address (empty: none)")
	fs.StringVar(&cfg.unix, "unix", "", "Unix socket path (empty: none)")
	fs.StringVar(&cfg.tlsListen, "tls-listen", ":8883", "TLS listen address, used with -tls-cert and -tls-key")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&cfg.dataDir, "data", "", "persistence directory (empty: in memory only)")
	fs.StringVar(&cfg.sync, "sync", "interval", "fsync policy of the store: interval, always or never")
	fs.BoolVar(&cfg.verbose, "v", false, "log connection events")
	b := &cfg.broker
	fs.IntVar(&b.MaxConnections, "max-connections", broker.DefaultMaxConnections, "maximum connections")
	fs.IntVar(&b.MaxPacketSize, "max-packet-size", 64<<10, "maximum packet size in bytes")
	fs.IntVar(&b.MaxQueuedMessages, "max-queued", broker.DefaultMaxQueuedMessages, "per-client outbound queue, messages")
	fs.IntVar(&b.MaxQueuedBytes, "max-queued-bytes", broker.DefaultMaxQueuedBytes, "per-client outbound queue, bytes")
	fs.IntVar(&b.MaxInflight, "max-inflight", broker.DefaultMaxInflight, "outbound QoS 1/2 messages awaiting acknowledgement per client")
	fs.IntVar(&b.PublishRate, "publish-rate", broker.DefaultPublishRate, "PUBLISH packets per second per client (-1: unlimited)")
	fs.IntVar(&b.MaxRetained, "max-retained", broker.DefaultMaxRetained, "retained messages kept")
	fs.IntVar(&b.MaxKeepAlive, "max-keepalive", broker.DefaultMaxKeepAlive, "largest keep-alive granted to MQTT 5 clients, seconds (-1: no cap)")
	fs.DurationVar(&b.SysInterval, "sys-interval", broker.DefaultSysInterval, "period of $SYS statistics (negative: off)")
	fs.StringVar(&cfg.bridgeAddr, "bridge-addr", "", "upstream broker host:port for a bridge (empty: none)")
	fs.StringVar(&cfg.bridgeName, "bridge-name", "uplink", "bridge name (local session $bridge/NAME)")
	fs.IntVar(&cfg.bridgeVersion, "bridge-version", 5, "MQTT version to the upstream: 3 (3.1.1) or 5")
	fs.StringVar(&cfg.bridgeStore, "bridge-store", "", "directory of the bridge's store-and-forward log (empty: in memory)")
	fs.Var(topicFlag{&cfg.bridgeTopics}, "bridge-topic", "bridge mapping 'FILTER in|out|both QOS [LOCALPREFIX [REMOTEPREFIX]]' (repeatable)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		err := errors.New("unexpected arguments")
		fmt.Fprintln(errOut, "mqtt-broker:", err)
		return cfg, err
	}
	if cfg.bridgeAddr != "" && len(cfg.bridgeTopics) == 0 || cfg.bridgeAddr == "" && len(cfg.bridgeTopics) > 0 {
		err := errors.New("-bridge-addr and -bridge-topic go together")
		fmt.Fprintln(errOut, "mqtt-broker:", err)
		return cfg, err
	}
	if cfg.bridgeVersion != 3 && cfg.bridgeVersion != 5 {
		err := errors.New("-bridge-version must be 3 or 5")
		fmt.Fprintln(errOut, "mqtt-broker:", err)
		return cfg, err
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		err := errors.New("-tls-cert and -tls-key go together")
		fmt.Fprintln(errOut, "mqtt-broker:", err)
		return cfg, err
	}
	return cfg, nil
}

// run serves until ctx is done. ready, if set, gets the listeners'
// addresses once they accept connections.
func run(ctx context.Context, cfg config, logw io.Writer, ready func(addrs []net.Addr)) error {
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level}))
	bc := cfg.broker
	bc.Logger = log
	var store *broker.FileStore
	if cfg.dataDir != "" {
		var sc broker.FileStoreConfig
		switch cfg.sync {
		case "interval", "":
			sc.Sync = broker.SyncInterval
		case "always":
			sc.Sync = broker.SyncAlways
		case "never":
			sc.Sync = broker.SyncNever
		default:
			return fmt.Errorf("unknown -sync %q", cfg.sync)
		}
		var err error
		if store, err = broker.NewFileStore(cfg.dataDir, sc); err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		defer store.Close()
		bc.Store = store
	}
	b, err := broker.New(bc)
	if err != nil {
		return err
	}
	var lns []net.Listener
	closeAll := func() {
		for _, l := range lns {
			l.Close()
		}
	}
	listen := func(network, addr string) error {
		l, err := net.Listen(network, addr)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen %s %s: %w", network, addr, err)
		}
		lns = append(lns, l)
		return nil
	}
	if cfg.listen != "" {
		if err := listen("tcp", cfg.listen); err != nil {
			b.Close()
			return err
		}
	}
	if cfg.unix != "" {
		os.Remove(cfg.unix)
		if err := listen("unix", cfg.unix); err != nil {
			b.Close()
			return err
		}
	}
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			closeAll()
			b.Close()
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		l, err := tls.Listen("tcp", cfg.tlsListen, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			closeAll()
			b.Close()
			return fmt.Errorf("listen tls %s: %w", cfg.tlsListen, err)
		}
		lns = append(lns, l)
	}
	if len(lns) == 0 {
		b.Close()
		return errors.New("no listener: give -listen, -unix or -tls-cert/-tls-key")
	}
	if cfg.bridgeAddr != "" {
		up := client.Config{Addr: cfg.bridgeAddr, Version: mqtt.V5, SessionExpiry: 7 * 24 * 3600, Logger: log}
		if cfg.bridgeVersion == 3 {
			up.Version = mqtt.V311
		}
		if cfg.bridgeStore != "" {
			st, err := filestore.Open(cfg.bridgeStore, filestore.Config{Sync: filestore.SyncInterval, Full: client.FullDropQoS0, Logger: log})
			if err != nil {
				closeAll()
				b.Close()
				return fmt.Errorf("open bridge store: %w", err)
			}
			defer st.Close()
			up.Store = st
		}
		br, err := b.NewBridge(broker.BridgeConfig{Name: cfg.bridgeName, Upstream: up, Mappings: cfg.bridgeTopics})
		if err != nil {
			closeAll()
			b.Close()
			return fmt.Errorf("bridge: %w", err)
		}
		defer br.Close()
		log.Info("mqtt-broker bridging", "upstream", cfg.bridgeAddr, "mappings", len(cfg.bridgeTopics))
	}
	errc := make(chan error, len(lns))
	addrs := make([]net.Addr, len(lns))
	for i, l := range lns {
		addrs[i] = l.Addr()
		log.Info("mqtt-broker listening", "network", l.Addr().Network(), "addr", l.Addr().String())
		go func() { errc <- b.Serve(l) }()
	}
	if ready != nil {
		ready(addrs)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	start := time.Now()
	b.Close()
	st := b.Stats()
	log.Info("mqtt-broker stopped", "took", time.Since(start), "connections_total", st.ConnectionsTotal,
		"messages_in", st.MessagesReceived, "messages_out", st.MessagesSent)
	if errors.Is(serveErr, broker.ErrClosed) {
		serveErr = nil
	}
	return serveErr
}
