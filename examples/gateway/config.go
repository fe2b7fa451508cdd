package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/edgekit/edgekit/mqtt"
)

// Config is the gateway's configuration: a TOML file (see gateway.example.toml)
// overridden by flags. The zero value of every field means the documented
// default; applyDefaults fills them in and validate names the first bad key.
type Config struct {
	// Gateway is the gateway's name, the second level of every topic.
	Gateway string `toml:"gateway"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`

	CoAP     CoAPConfig     `toml:"coap"`
	MQTT     MQTTConfig     `toml:"mqtt"`
	Uplink   UplinkConfig   `toml:"uplink"`
	Pipeline PipelineConfig `toml:"pipeline"`
	Devices  DevicesConfig  `toml:"devices"`
	HTTP     HTTPConfig     `toml:"http"`
	Mesh     MeshConfig     `toml:"mesh"`
	Demo     DemoConfig     `toml:"demo"`
}

// MeshConfig configures the Bluetooth Mesh side.
type MeshConfig struct {
	// Bearer is where the gateway's mesh node sits: "off", "air" (the
	// in-memory air; with -demo its simulated nodes are there), "hci" (a
	// Bluetooth controller through an HCI user channel, Linux only; the
	// start fails if none answers) or "auto" (hci when a controller
	// answers, else the air, with a warning). Default: "air" with -demo,
	// "off" otherwise.
	Bearer string `toml:"bearer"`
	// HCIIndex selects the controller hci<N>. It must be down (hciconfig
	// hci0 down, or not managed by bluetoothd) and the gateway needs
	// CAP_NET_ADMIN.
	HCIIndex int `toml:"hci_index"`
}

// CoAPConfig configures CoAP ingest.
type CoAPConfig struct {
	// Listen is the UDP address of the CoAP server ("" disables it).
	Listen string `toml:"listen"`
	// Workers > 1 opens one socket per CPU in a SO_REUSEPORT group with
	// per-CPU steering (package numa); 1 opens one socket.
	Workers int `toml:"workers"`
	// Backend is the batched receive backend: auto, io_uring, mmsg or std.
	Backend string `toml:"backend"`
	// DTLS, when DTLS.Listen is set, adds a CoAP-over-DTLS server with
	// pre-shared keys.
	DTLS DTLSConfig `toml:"dtls"`
	// CommandTimeout bounds one command's CoAP PUT.
	CommandTimeout Duration `toml:"command_timeout"`
	// Observe lists device resources the gateway observes.
	Observe []ObserveConfig `toml:"observe"`
}

// DTLSConfig configures CoAP over DTLS with pre-shared keys.
type DTLSConfig struct {
	Listen string `toml:"listen"`
	// PSK maps a PSK identity to its key in hex.
	PSK map[string]string `toml:"psk"`
}

// MQTTConfig configures the embedded broker.
type MQTTConfig struct {
	// Listen is the broker's TCP address ("" serves in-process clients only).
	Listen string `toml:"listen"`
	// DataDir persists sessions and retained messages ("" keeps them in memory).
	DataDir string `toml:"data_dir"`
	// MaxConnections bounds the broker's connections (0: the broker's default).
	MaxConnections int `toml:"max_connections"`
}

// UplinkConfig configures the bridge to an upstream broker.
type UplinkConfig struct {
	// Addr is the upstream broker's host:port ("" disables the uplink).
	Addr     string `toml:"addr"`
	ClientID string `toml:"client_id"`
	Username string `toml:"username"`
	Password string `toml:"password"`
	// StoreDir holds the durable store-and-forward log ("" keeps the queue
	// in memory only, lost on restart).
	StoreDir string `toml:"store_dir"`
	// QoS of readings sent upstream: 0 or 1.
	QoS int `toml:"qos"`
	// MaxBackoff bounds the reconnect delay.
	MaxBackoff Duration `toml:"max_backoff"`
	// StoreMaxBytes bounds the store (0: 256 MiB).
	StoreMaxBytes int64 `toml:"store_max_bytes"`
	// Up lists the forwarding rules for messages that local MQTT clients
	// publish to the embedded broker: each matching message goes upstream
	// through the uplink's store (see forward.go).
	Up []ForwardRule `toml:"up"`
	// Down lists the rules for upstream messages delivered to the embedded
	// broker's local clients.
	Down []ForwardRule `toml:"down"`
}

// ForwardRule maps topics from one side of the uplink to the other: a
// message whose topic matches Filter on the source side is published on
// the other side as Prefix + (topic without Strip).
type ForwardRule struct {
	// Filter is an MQTT topic filter on the source side (the embedded
	// broker for uplink.up, the upstream broker for uplink.down).
	Filter string `toml:"filter"`
	// Prefix is put in front of the topic on the destination side ("" for
	// none), e.g. "site-3/".
	Prefix string `toml:"prefix"`
	// Strip is removed from the start of the source topic first; it must
	// be a literal prefix of Filter (no wildcards), e.g. "cloud/gw-17/".
	Strip string `toml:"strip"`
	// QoS is the highest QoS the rule forwards with: 0 or 1 (default 1).
	// A message keeps its own QoS when that is lower.
	QoS *int `toml:"qos"`
}

// qos returns the rule's QoS with its default.
func (r *ForwardRule) qos() uint8 {
	if r.QoS == nil {
		return 1
	}
	return uint8(*r.QoS)
}

// PipelineConfig sizes the queues and workers between ingest and MQTT.
type PipelineConfig struct {
	// Queue is the capacity of the readings ring (a power of two).
	Queue int `toml:"queue"`
	// Workers is the number of sched workers (0: GOMAXPROCS).
	Workers int `toml:"workers"`
	// Batch is how many readings one task normalises.
	Batch int `toml:"batch"`
	// Ack is when a CoAP upload is acknowledged: "queued" (default) once
	// it is in the readings ring, the fastest, or "stored" once its
	// readings are in the uplink store, normalised on the CoAP worker
	// without the ring: an upload acknowledged to a device then survives
	// the gateway being killed.
	Ack string `toml:"ack"`
}

// DevicesConfig configures the device shadow.
type DevicesConfig struct {
	// OfflineAfter marks a device offline when it sent nothing for this long.
	OfflineAfter Duration `toml:"offline_after"`
	// StateInterval is the least time between two retained state updates of
	// one device while it keeps sending (status changes go out at once).
	StateInterval Duration `toml:"state_interval"`
	// MaxDevices bounds the shadow; readings of further devices are dropped.
	MaxDevices int `toml:"max_devices"`
}

// HTTPConfig configures the status page and /metrics.
type HTTPConfig struct {
	Listen string `toml:"listen"` // "" disables
}

// DemoConfig configures the simulated devices of -demo.
type DemoConfig struct {
	CoAPSensors int      `toml:"coap_sensors"`
	MeshNodes   int      `toml:"mesh_nodes"`
	Interval    Duration `toml:"interval"`
}

// Duration is a time.Duration written as "1.5s" in the config file.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("config")

// keyError is a configuration error about one key.
type keyError struct {
	Key string
	Msg string
}

func (e *keyError) Error() string { return "config: " + e.Key + ": " + e.Msg }
func (e *keyError) Unwrap() error { return ErrConfig }

func badKey(key, format string, args ...any) error {
	return &keyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// loadConfig reads a TOML file into cfg (over what cfg already holds).
// Unknown keys are errors that name the key.
func loadConfig(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return parseConfig(string(b), cfg)
}

// parseConfig decodes TOML text into cfg.
func parseConfig(text string, cfg *Config) error {
	md, err := toml.Decode(text, cfg)
	if err != nil {
		var pe toml.ParseError
		if pp := (*toml.ParseError)(nil); errors.As(err, &pp) {
			pe = *pp
		}
		if errors.As(err, &pe) || pe.Message != "" {
			key := pe.LastKey
			if key == "" {
				key = fmt.Sprintf("line %d", pe.Position.Line)
			}
			return &keyError{Key: key, Msg: pe.Message}
		}
		// Type mismatches are plain errors that quote the key.
		if m := lastKey.FindStringSubmatch(err.Error()); m != nil {
			msg := err.Error()
			if i := strings.Index(msg, "): "); i >= 0 {
				msg = msg[i+3:]
			}
			return &keyError{Key: m[1], Msg: msg}
		}
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return &keyError{Key: und[0].String(), Msg: "unknown key"}
	}
	return nil
}

// applyDefaults fills zero fields with the defaults; demo adds the demo's.
func (c *Config) applyDefaults(demo bool) {
	if c.Gateway == "" {
		h, _ := os.Hostname()
		c.Gateway = sanitizeLevel(h)
		if c.Gateway == "" {
			c.Gateway = "gw"
		}
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.CoAP.Workers == 0 {
		c.CoAP.Workers = 1
	}
	if c.CoAP.Backend == "" {
		c.CoAP.Backend = "auto"
	}
	if c.CoAP.CommandTimeout == 0 {
		c.CoAP.CommandTimeout = Duration(10 * time.Second)
	}
	if c.Uplink.ClientID == "" {
		c.Uplink.ClientID = "edgekit-" + c.Gateway
	}
	if c.Uplink.QoS == 0 && c.Uplink.Addr != "" {
		c.Uplink.QoS = 1
	}
	if c.Uplink.MaxBackoff == 0 {
		c.Uplink.MaxBackoff = Duration(5 * time.Second)
	}
	if c.Pipeline.Queue == 0 {
		c.Pipeline.Queue = 16384
	}
	if c.Pipeline.Batch == 0 {
		c.Pipeline.Batch = 64
	}
	if c.Pipeline.Ack == "" {
		c.Pipeline.Ack = "queued"
	}
	if c.Devices.OfflineAfter == 0 {
		c.Devices.OfflineAfter = Duration(30 * time.Second)
	}
	if c.Devices.StateInterval == 0 {
		c.Devices.StateInterval = Duration(time.Second)
	}
	if c.Devices.MaxDevices == 0 {
		c.Devices.MaxDevices = 10000
	}
	if c.Mesh.Bearer == "" {
		c.Mesh.Bearer = "off"
		if demo {
			c.Mesh.Bearer = "air"
		}
	}
	if demo {
		if c.Demo.CoAPSensors == 0 {
			c.Demo.CoAPSensors = 4
		}
		if c.Demo.MeshNodes == 0 {
			c.Demo.MeshNodes = 3
		}
		if c.Demo.Interval == 0 {
			c.Demo.Interval = Duration(time.Second)
		}
		if c.Devices.OfflineAfter < 3*c.Demo.Interval {
			c.Devices.OfflineAfter = 3 * c.Demo.Interval
		}
	}
}

var lastKey = regexp.MustCompile(`last key "([^"]+)"`)

var topicLevel = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// validate checks every field and names the first bad key.
func (c *Config) validate() error {
	if !topicLevel.MatchString(c.Gateway) {
		return badKey("gateway", "%q is not a topic level (1-64 of A-Z a-z 0-9 _ . : -)", c.Gateway)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return badKey("log_level", "%v", err)
	}
	if c.CoAP.Listen != "" {
		if _, err := netip.ParseAddrPort(c.CoAP.Listen); err != nil {
			return badKey("coap.listen", "%v (want ip:port)", err)
		}
	}
	if c.CoAP.Workers < 1 || c.CoAP.Workers > 256 {
		return badKey("coap.workers", "%d is not in 1..256", c.CoAP.Workers)
	}
	if _, err := parseBackend(c.CoAP.Backend); err != nil {
		return badKey("coap.backend", "%v", err)
	}
	if c.CoAP.CommandTimeout < 0 {
		return badKey("coap.command_timeout", "negative")
	}
	if c.CoAP.DTLS.Listen != "" {
		if _, err := netip.ParseAddrPort(c.CoAP.DTLS.Listen); err != nil {
			return badKey("coap.dtls.listen", "%v (want ip:port)", err)
		}
		if len(c.CoAP.DTLS.PSK) == 0 {
			return badKey("coap.dtls.psk", "at least one identity = \"hex key\" is needed")
		}
	}
	for i, o := range c.CoAP.Observe {
		key := "coap.observe[" + strconv.Itoa(i) + "]"
		if !topicLevel.MatchString(o.Device) {
			return badKey(key+".device", "%q is not a topic level", o.Device)
		}
		if _, _, err := parseObserveURI(o.URI); err != nil {
			return badKey(key+".uri", "%q: %v", o.URI, err)
		}
		if o.Quantity != "" && !topicLevel.MatchString(o.Quantity) {
			return badKey(key+".quantity", "%q is not a topic level", o.Quantity)
		}
	}
	for id, k := range c.CoAP.DTLS.PSK {
		if b, err := hex.DecodeString(k); err != nil || len(b) == 0 {
			return badKey("coap.dtls.psk."+id, "not a hex key")
		}
	}
	if c.MQTT.Listen != "" {
		if _, err := netip.ParseAddrPort(c.MQTT.Listen); err != nil {
			return badKey("mqtt.listen", "%v (want ip:port)", err)
		}
	}
	if c.MQTT.MaxConnections < 0 {
		return badKey("mqtt.max_connections", "negative")
	}
	if c.Uplink.Addr != "" && !strings.Contains(c.Uplink.Addr, ":") {
		return badKey("uplink.addr", "%q is not host:port", c.Uplink.Addr)
	}
	if c.Uplink.QoS < 0 || c.Uplink.QoS > 1 {
		return badKey("uplink.qos", "%d is not 0 or 1", c.Uplink.QoS)
	}
	if c.Uplink.MaxBackoff < 0 {
		return badKey("uplink.max_backoff", "negative")
	}
	if c.Uplink.StoreMaxBytes < 0 {
		return badKey("uplink.store_max_bytes", "negative")
	}
	for i, r := range c.Uplink.Up {
		if err := r.validate("uplink.up[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	for i, r := range c.Uplink.Down {
		if err := r.validate("uplink.down[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	if c.Uplink.Addr == "" && len(c.Uplink.Up)+len(c.Uplink.Down) > 0 {
		key := "uplink.up"
		if len(c.Uplink.Up) == 0 {
			key = "uplink.down"
		}
		return badKey(key, "forwarding rules need uplink.addr")
	}
	if c.Pipeline.Queue < 2 || c.Pipeline.Queue > 1<<22 {
		return badKey("pipeline.queue", "%d is not in 2..4194304", c.Pipeline.Queue)
	}
	if c.Pipeline.Workers < 0 || c.Pipeline.Workers > 1024 {
		return badKey("pipeline.workers", "%d is not in 0..1024", c.Pipeline.Workers)
	}
	if c.Pipeline.Batch < 1 || c.Pipeline.Batch > 1024 {
		return badKey("pipeline.batch", "%d is not in 1..1024", c.Pipeline.Batch)
	}
	if c.Pipeline.Ack != "queued" && c.Pipeline.Ack != "stored" {
		return badKey("pipeline.ack", "%q is not queued or stored", c.Pipeline.Ack)
	}
	if c.Devices.OfflineAfter <= 0 {
		return badKey("devices.offline_after", "must be positive")
	}
	if c.Devices.StateInterval < 0 {
		return badKey("devices.state_interval", "negative")
	}
	if c.Devices.MaxDevices < 1 {
		return badKey("devices.max_devices", "must be at least 1")
	}
	if c.HTTP.Listen != "" {
		if _, err := netip.ParseAddrPort(c.HTTP.Listen); err != nil {
			return badKey("http.listen", "%v (want ip:port)", err)
		}
	}
	switch c.Mesh.Bearer {
	case "off", "air", "hci", "auto":
	default:
		return badKey("mesh.bearer", "%q is not off, air, hci or auto", c.Mesh.Bearer)
	}
	if c.Mesh.HCIIndex < 0 || c.Mesh.HCIIndex > 0xfffe {
		return badKey("mesh.hci_index", "%d is not in 0..65534", c.Mesh.HCIIndex)
	}
	if c.Demo.CoAPSensors < 0 || c.Demo.CoAPSensors > 1000 {
		return badKey("demo.coap_sensors", "%d is not in 0..1000", c.Demo.CoAPSensors)
	}
	if c.Demo.MeshNodes < 0 || c.Demo.MeshNodes > 100 {
		return badKey("demo.mesh_nodes", "%d is not in 0..100", c.Demo.MeshNodes)
	}
	if c.Demo.Interval < 0 {
		return badKey("demo.interval", "negative")
	}
	return nil
}

// validate checks one forwarding rule; key names it ("uplink.up[0]").
func (r *ForwardRule) validate(key string) error {
	if r.Filter == "" {
		return badKey(key+".filter", "missing")
	}
	if err := mqtt.CheckTopicFilter([]byte(r.Filter)); err != nil {
		return badKey(key+".filter", "%q: %v", r.Filter, err)
	}
	if strings.ContainsAny(r.Prefix, "+#") {
		return badKey(key+".prefix", "%q has a wildcard", r.Prefix)
	}
	if err := mqtt.CheckTopicName([]byte(r.Prefix + "x")); err != nil {
		return badKey(key+".prefix", "%q: %v", r.Prefix, err)
	}
	if strings.ContainsAny(r.Strip, "+#") {
		return badKey(key+".strip", "%q has a wildcard", r.Strip)
	}
	if !strings.HasPrefix(r.Filter, r.Strip) {
		return badKey(key+".strip", "%q is not a prefix of the filter %q", r.Strip, r.Filter)
	}
	if r.QoS != nil && (*r.QoS < 0 || *r.QoS > 1) {
		return badKey(key+".qos", "%d is not 0 or 1", *r.QoS)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// sanitizeLevel turns s into a valid topic level.
func sanitizeLevel(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}
