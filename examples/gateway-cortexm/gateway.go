package main

import (
	"errors"
	"io"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/mempool"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/ringbuf"
)

// Defaults of the zero Config fields.
const (
	DefaultTopicPrefix    = "edgekit/gw"
	DefaultClientID       = "edgekit-gw"
	DefaultKeepAlive      = 30 // seconds
	DefaultTTL            = 5
	DefaultMaxInflight    = 4
	DefaultQueueLen       = 16
	DefaultMaxPacket      = 512
	DefaultReconnectDelay = 2 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultAckTimeout     = 10 * time.Second

	// bufSize is the size of every pooled buffer: an uplink message
	// (header, topic and payload) or an H:4 command to the radio.
	bufSize = 128
	// maxInflightLimit bounds Config.MaxInflight.
	maxInflightLimit = 16
	// radioRing and mqttRing are the receive rings' capacities.
	radioRing = 512
	mqttRing  = 1024
	// pollBudget bounds the frames or packets handled per ring per Poll, so
	// that one busy side cannot starve the other.
	pollBudget = 16
)

// Config configures a Gateway. The zero value of every field but the keys
// and Address is a documented default.
type Config struct {
	// NetKey and AppKey are the provisioned network and application keys.
	NetKey, AppKey [16]byte
	// IVIndex is the current IV Index of the network.
	IVIndex uint32
	// Address is the gateway's unicast address; it must be set.
	Address uint16
	// Groups are the group addresses whose messages the gateway bridges, in
	// addition to its own address and the all-nodes address.
	Groups []uint16
	// SeqStart is the first sequence number the gateway sends with. A real
	// board persists the sequence number across resets; this one does not.
	SeqStart uint32
	// TTL of the PDUs the gateway originates; 0 means DefaultTTL.
	TTL uint8
	// NoRelay turns the relay feature off.
	NoRelay bool

	// ClientID, TopicPrefix and KeepAlive (seconds) of the MQTT session;
	// empty or zero mean the defaults.
	ClientID    string
	TopicPrefix string
	KeepAlive   uint16
	// Version is the MQTT protocol version; 0 means MQTT 3.1.1.
	Version mqtt.Version
	// QoS0 publishes mesh messages with QoS 0 instead of 1.
	QoS0 bool
	// MaxInflight bounds unacknowledged QoS 1 PUBLISHes (1..16); 0 means
	// DefaultMaxInflight.
	MaxInflight int
	// QueueLen is the capacity of the uplink and radio queues (rounded up to
	// a power of two); 0 means DefaultQueueLen.
	QueueLen int
	// MaxPacket bounds an MQTT packet read from the broker (64..1024);
	// 0 means DefaultMaxPacket.
	MaxPacket int
	// ReconnectDelay and ConnectTimeout: 0 means the defaults.
	ReconnectDelay, ConnectTimeout time.Duration
	// AckTimeout: a QoS 1 PUBLISH not acknowledged for this long means the
	// link is dead (a byte stream to a modem has no other sign of it); the
	// session is restarted and the message sent again. 0 means
	// DefaultAckTimeout.
	AckTimeout time.Duration

	// HeapStats, if set, reports the heap allocation count and live heap
	// bytes for the stats message (runtime.ReadMemStats).
	HeapStats func() (mallocs, inuse uint64)
}

// Stats are the gateway's counters.
type Stats struct {
	RadioFrames  uint64 // H:4 packets read from the radio
	RadioErrors  uint64 // unparseable radio input (the stream was reset)
	MeshRx       uint64 // mesh network PDUs heard
	NetDropped   uint64 // PDUs that did not decrypt (other networks, noise)
	Duplicates   uint64 // PDUs already in the network cache
	Replays      uint64 // messages rejected by replay protection
	Relayed      uint64 // PDUs relayed
	Delivered    uint64 // access messages for the gateway
	UpperDropped uint64 // transport or access layer failures
	AcksSent     uint64 // segment acknowledgments sent
	Published    uint64 // PUBLISHes written to the broker
	Acked        uint64 // PUBACKs received
	Commands     uint64 // commands received from MQTT
	BadCommands  uint64 // commands that could not be executed
	MeshTx       uint64 // mesh PDUs handed to the radio
	Dropped      uint64 // messages dropped because a queue or the pool was full or too small
	Connects     uint64 // CONNACKs accepted
	Reconnects   uint64 // sessions lost
}

// Errors of New.
var (
	ErrAddress     = errors.New("gateway: Address must be a unicast address")
	ErrConfigRange = errors.New("gateway: configuration value out of range")
)

// Gateway bridges a mesh radio and an MQTT broker. It does no I/O of its own
// beyond writing to the two writers it is given: the board (or a host
// goroutine) writes received bytes into RadioIn and MQTTIn, and calls Poll
// with the current time. It starts no goroutines and is not safe for
// concurrent use, except that RadioIn and MQTTIn may be written by one other
// goroutine each while Poll runs.
type Gateway struct {
	cfg      Config
	radioOut io.Writer
	mqttOut  io.Writer

	radioIn *ringbuf.Bytes
	mqttIn  *ringbuf.Bytes

	pool    *mempool.Pool
	poolCap int // buffers warmed into the pool
	poolOut int // buffers handed out
	up      *ringbuf.SPSC[*mempool.Buf]
	down    *ringbuf.SPSC[*mempool.Buf]

	mesh meshState
	sess session

	stats Stats
	// topic and scratch buffers, sized by the spec and the config.
	prefix []byte
	stat   [256]byte
}

// New returns a gateway that writes H:4 packets for the radio to radioOut and
// MQTT packets to mqttOut. It allocates all the memory the gateway uses.
func New(cfg Config, radioOut, mqttOut io.Writer) (*Gateway, error) {
	if !access.IsUnicast(cfg.Address) {
		return nil, ErrAddress
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL > 127 {
		return nil, ErrConfigRange
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = DefaultTopicPrefix
	}
	if len(cfg.TopicPrefix) > 40 {
		return nil, ErrConfigRange
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.Version == 0 {
		cfg.Version = mqtt.V311
	}
	if cfg.Version != mqtt.V311 && cfg.Version != mqtt.V5 {
		return nil, ErrConfigRange
	}
	if cfg.MaxInflight == 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.MaxInflight < 1 || cfg.MaxInflight > maxInflightLimit {
		return nil, ErrConfigRange
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.QueueLen < 2 || cfg.QueueLen > 256 {
		return nil, ErrConfigRange
	}
	if cfg.MaxPacket == 0 {
		cfg.MaxPacket = DefaultMaxPacket
	}
	if cfg.MaxPacket < 64 || cfg.MaxPacket > mqttRing {
		return nil, ErrConfigRange
	}
	if cfg.ReconnectDelay == 0 {
		cfg.ReconnectDelay = DefaultReconnectDelay
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	cfg.Groups = append([]uint16(nil), cfg.Groups...)
	g := &Gateway{cfg: cfg, radioOut: radioOut, mqttOut: mqttOut}
	g.prefix = []byte(cfg.TopicPrefix)
	var err error
	if g.radioIn, err = ringbuf.NewBytes(ringbuf.BytesConfig{Config: ringbuf.Config{Capacity: radioRing}, MaxPeek: 260}); err != nil {
		return nil, err
	}
	if g.mqttIn, err = ringbuf.NewBytes(ringbuf.BytesConfig{Config: ringbuf.Config{Capacity: mqttRing}, MaxPeek: cfg.MaxPacket}); err != nil {
		return nil, err
	}
	rc := ringbuf.Config{Capacity: cfg.QueueLen, RetainPopped: false}
	if g.up, err = ringbuf.NewSPSC[*mempool.Buf](rc); err != nil {
		return nil, err
	}
	if g.down, err = ringbuf.NewSPSC[*mempool.Buf](rc); err != nil {
		return nil, err
	}
	// Every buffer that can be out at once: both queues full, the in-flight
	// window and one being filled. Warm the free list with all of them so
	// that Get never allocates after start-up; poolOut enforces the bound.
	g.poolCap = g.up.Cap() + g.down.Cap() + cfg.MaxInflight + 1
	if g.pool, err = mempool.New(mempool.Config{MinSize: bufSize, MaxSize: bufSize, MaxIdle: g.poolCap}); err != nil {
		return nil, err
	}
	warm := make([]*mempool.Buf, g.poolCap)
	for i := range warm {
		warm[i] = g.pool.Get(bufSize)
	}
	for _, b := range warm {
		g.pool.Put(b)
	}
	g.mesh.init(&g.cfg)
	g.sess.init(&g.cfg)
	return g, nil
}

// RadioIn is the ring the board writes the radio's received bytes into.
func (g *Gateway) RadioIn() *ringbuf.Bytes { return g.radioIn }

// MQTTIn is the ring the board writes the broker's bytes into.
func (g *Gateway) MQTTIn() *ringbuf.Bytes { return g.mqttIn }

// Stats returns the counters.
func (g *Gateway) Stats() Stats { return g.stats }

// Connected reports whether the MQTT session is up.
func (g *Gateway) Connected() bool { return g.sess.state == stUp }

// LinkReset tells the gateway that the uplink stream was broken and
// re-established underneath it (a modem's carrier loss): it starts a new
// session at once.
func (g *Gateway) LinkReset(now time.Time) {
	g.sessionLost(now, false)
	g.sess.next = now
}

// Poll does all the work that is due at now: it handles the radio frames and
// MQTT packets buffered in the receive rings, runs the timers (segment
// acknowledgments, reassembly timeouts, keep-alive, reconnection) and writes
// what is queued. It never blocks except in the writers.
func (g *Gateway) Poll(now time.Time) {
	g.pollRadio(now)
	g.meshTick(now)
	g.pollMQTT(now)
	g.sessionTick(now)
	g.pumpUplink(now)
	g.flushRadio()
}

// getBuf returns a pooled buffer of n bytes, or nil (counting a drop) when n
// is too large or every buffer is out.
func (g *Gateway) getBuf(n int) *mempool.Buf {
	if n > bufSize || g.poolOut >= g.poolCap {
		g.stats.Dropped++
		return nil
	}
	g.poolOut++
	return g.pool.Get(n)
}

func (g *Gateway) putBuf(b *mempool.Buf) {
	g.poolOut--
	g.pool.Put(b)
}

// flushRadio writes the queued H:4 packets to the radio.
func (g *Gateway) flushRadio() {
	for {
		b, ok := g.down.TryPop()
		if !ok {
			return
		}
		_, _ = g.radioOut.Write(b.B)
		g.stats.MeshTx++
		g.putBuf(b)
	}
}

// appendHex4 appends v as four upper-case hexadecimal digits.
func appendHex4(dst []byte, v uint16) []byte {
	const digits = "0123456789ABCDEF"
	return append(dst, digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15])
}

// appendHex appends v in upper-case hexadecimal without leading zeros
// (at least one digit).
func appendHex(dst []byte, v uint32) []byte {
	const digits = "0123456789ABCDEF"
	started := false
	for shift := 28; shift >= 0; shift -= 4 {
		d := v >> uint(shift) & 15
		if d != 0 || started || shift == 0 {
			dst = append(dst, digits[d])
			started = true
		}
	}
	return dst
}

// parseHex4 parses exactly four hexadecimal digits.
func parseHex4(s []byte) (uint16, bool) {
	if len(s) != 4 {
		return 0, false
	}
	var v uint16
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint16(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint16(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint16(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
