package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// Config configures a Client. It is passed by value; the zero value (plus
// an Addr or a Dialer) is a safe default: MQTT 3.1.1 over TCP, a random
// client id with a clean session, 30 s keepalive, 32 messages in flight,
// a bounded in-memory store.
type Config struct {
	// Addr is the broker's "host:port" for the built-in TCP dialer.
	Addr string
	// TLS, if set, makes the built-in dialer use TLS with this config.
	TLS *tls.Config
	// Dialer, if set, replaces the built-in dialer: it returns any
	// connected byte stream (a net.Conn, a serial link, a pipe). If it
	// also has SetWriteDeadline and SetReadDeadline, they are used.
	Dialer func(ctx context.Context) (io.ReadWriteCloser, error)
	// DialTimeout bounds one dial plus the CONNECT/CONNACK handshake
	// (default 10 s).
	DialTimeout time.Duration
	// WriteTimeout bounds one write on a connection that supports
	// deadlines (default 10 s).
	WriteTimeout time.Duration

	// Version is mqtt.V311 (zero) or mqtt.V5.
	Version mqtt.Version
	// ClientID identifies the session. Empty: under MQTT 5 the broker
	// assigns one, under 3.1.1 a random id is generated; in both cases it
	// is kept for reconnects. Store-and-forward across restarts needs a
	// fixed ClientID.
	ClientID string
	// Username and Password, if set, are sent in CONNECT.
	Username string
	Password []byte
	// CleanStart starts a new session on the first connection (reconnects
	// always resume). Clean Session under 3.1.1, where it applies to every
	// connection: with CleanStart under 3.1.1 the broker keeps no state
	// across reconnects.
	CleanStart bool
	// SessionExpiry is the MQTT 5 Session Expiry Interval in seconds: how
	// long the broker keeps the session after a disconnect. 0 ends it at
	// disconnect; 0xFFFFFFFF never expires it.
	SessionExpiry uint32
	// KeepAlive is the keepalive interval (default 30 s; negative
	// disables keepalive). A PINGREQ is sent when nothing was sent for
	// that long.
	KeepAlive time.Duration
	// PingTimeout is how long to wait for PINGRESP before the connection
	// is considered dead (default: KeepAlive, at most 30 s).
	PingTimeout time.Duration
	// ConnectProps are extra MQTT 5 CONNECT properties (user properties,
	// Request Problem/Response Information). The client sets Session
	// Expiry, Receive Maximum, Maximum Packet Size, Topic Alias Maximum and
	// the authentication properties itself.
	ConnectProps mqtt.Properties
	// Will, if set, is the will message (with MQTT 5 will properties).
	Will *mqtt.Will
	// Auth, if set, runs MQTT 5 enhanced authentication.
	Auth Authenticator

	// MaxInflight bounds the outgoing QoS 1/2 messages awaiting
	// acknowledgement (default 32); the broker's Receive Maximum lowers it.
	MaxInflight int
	// ReceiveMaximum is the MQTT 5 Receive Maximum the client announces:
	// how many incoming QoS 1/2 messages may await acknowledgement
	// (default 32).
	ReceiveMaximum uint16
	// MaxPacketSize bounds incoming packets and is announced as the MQTT 5
	// Maximum Packet Size (default 256 KiB).
	MaxPacketSize int
	// TopicAliasMaximum is the number of incoming topic aliases the client
	// accepts under MQTT 5 (default 0: none).
	TopicAliasMaximum uint16
	// OutboundTopicAliases is the most topic aliases the client assigns
	// for outgoing messages, further limited by the broker's Topic Alias
	// Maximum (default 0: none).
	OutboundTopicAliases uint16

	// Store queues outgoing messages (default: a MemStore the client owns
	// and closes; a caller-supplied store is the caller's to close).
	Store Store
	// ReturnWhenStored is the store-and-forward mode: Publish of QoS 1/2
	// returns once the store holds the message, before the broker
	// acknowledges it; the client sends it when it can.
	ReturnWhenStored bool
	// DropQoS0Offline makes Publish of QoS 0 fail with ErrNotConnected
	// while offline, instead of queueing it in the store.
	DropQoS0Offline bool
	// MaxWriteBuffer bounds the bytes of encoded packets waiting to be
	// written; QoS 0 publishers wait beyond it (default 256 KiB).
	MaxWriteBuffer int

	// Handler receives messages that match no subscription's handler.
	Handler Handler
	// DeliveryQueue bounds the messages received but not yet handled
	// (default 64). When it is full the client stops reading the
	// connection (backpressure); keepalive keeps working.
	DeliveryQueue int

	// MinBackoff and MaxBackoff bound the reconnect delay, which doubles
	// from MinBackoff up to MaxBackoff, with jitter (defaults 100 ms, 30 s).
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// OnConnect, if set, is called (on the client's goroutine) after each
	// CONNACK that accepted the connection.
	OnConnect func(ConnectInfo)
	// OnConnectionLost, if set, is called when a connection ends.
	OnConnectionLost func(error)

	// Clock and Rand are the time and random sources (defaults: the
	// system clock and crypto/rand, read at first use).
	Clock Clock
	Rand  io.Reader
	// Logger receives logs (default slog.Default()).
	Logger *slog.Logger
}

// Defaults for Config's zero fields.
const (
	DefaultKeepAlive      = 30 * time.Second
	DefaultDialTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultMaxInflight    = 32
	DefaultReceiveMaximum = 32
	DefaultMaxPacketSize  = 256 << 10
	DefaultMaxWriteBuffer = 256 << 10
	DefaultDeliveryQueue  = 64
	DefaultMinBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
)

// Authenticator runs MQTT 5 enhanced authentication (§4.12). Its methods
// are called from the client's connection goroutine, one at a time.
type Authenticator interface {
	// Method is the Authentication Method.
	Method() string
	// Start returns the Authentication Data for CONNECT (nil for none).
	Start() ([]byte, error)
	// Continue answers an AUTH packet (Continue authentication) carrying
	// the broker's data, returning the data for the client's AUTH.
	Continue(data []byte) ([]byte, error)
	// Done is called with the data of a successful CONNACK.
	Done(data []byte) error
}

// ConnectInfo describes an accepted connection: the CONNACK and what the
// client derived from it.
type ConnectInfo struct {
	SessionPresent bool
	ClientID       string // assigned by the broker, or the configured one
	Props          mqtt.Properties
	KeepAlive      time.Duration
	Inflight       int // the outgoing window in use
}

// Errors returned by the client.
var (
	ErrClosed       = errors.New("mqtt/client: client closed")
	ErrNotConnected = errors.New("mqtt/client: not connected")
	ErrConfig       = errors.New("mqtt/client: invalid configuration")
	ErrExpired      = errors.New("mqtt/client: message expired before it was sent")
	ErrPingTimeout  = errors.New("mqtt/client: no PINGRESP in time")
	ErrQoS          = errors.New("mqtt/client: QoS not supported by the broker")
	ErrRetain       = errors.New("mqtt/client: retain not supported by the broker")
	ErrTooLarge     = errors.New("mqtt/client: packet exceeds the maximum packet size")
	ErrTopicAlias   = errors.New("mqtt/client: the topic alias property is managed by the client")
)

// ReasonError is a failure the broker reported with a reason code: a
// refused CONNACK, a PUBACK/PUBREC with an error code, a failed
// subscription, a DISCONNECT.
type ReasonError struct {
	Packet mqtt.PacketType
	Code   mqtt.ReasonCode
}

func (e *ReasonError) Error() string {
	return "mqtt/client: " + e.Packet.String() + " reason code 0x" + strconv.FormatUint(uint64(e.Code), 16) + " (" + e.Code.String() + ")"
}

func (c *Config) norm() error {
	if c.Dialer == nil && c.Addr == "" {
		return errors.Join(ErrConfig, errors.New("mqtt/client: Addr or Dialer is required"))
	}
	switch c.Version {
	case 0:
		c.Version = mqtt.V311
	case mqtt.V311, mqtt.V5:
	default:
		return errors.Join(ErrConfig, errors.New("mqtt/client: Version must be mqtt.V311 or mqtt.V5"))
	}
	if c.Version != mqtt.V5 {
		if c.Auth != nil || !c.ConnectProps.Empty() || c.SessionExpiry != 0 || c.TopicAliasMaximum != 0 || c.OutboundTopicAliases != 0 {
			return errors.Join(ErrConfig, errors.New("mqtt/client: Auth, ConnectProps, SessionExpiry and topic aliases need MQTT 5"))
		}
		if c.Will != nil && !c.Will.Props.Empty() {
			return errors.Join(ErrConfig, errors.New("mqtt/client: will properties need MQTT 5"))
		}
	}
	if c.Will != nil {
		if c.Will.QoS > 2 {
			return errors.Join(ErrConfig, errors.New("mqtt/client: will QoS above 2"))
		}
		if err := mqtt.CheckTopicName(c.Will.Topic); err != nil {
			return errors.Join(ErrConfig, err)
		}
		w := *c.Will
		w.Topic = append([]byte(nil), w.Topic...)
		w.Payload = append([]byte(nil), w.Payload...)
		w.Props = w.Props.Clone()
		c.Will = &w
	}
	c.ConnectProps = c.ConnectProps.Clone()
	if c.Password != nil {
		c.Password = append([]byte{}, c.Password...)
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.KeepAlive > 65535*time.Second {
		return errors.Join(ErrConfig, errors.New("mqtt/client: KeepAlive above 65535 s"))
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = c.KeepAlive
		if c.PingTimeout > 30*time.Second || c.PingTimeout <= 0 {
			c.PingTimeout = 30 * time.Second
		}
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.MaxInflight > 65535 {
		c.MaxInflight = 65535
	}
	if c.ReceiveMaximum == 0 {
		c.ReceiveMaximum = DefaultReceiveMaximum
	}
	if c.MaxPacketSize <= 0 {
		c.MaxPacketSize = DefaultMaxPacketSize
	}
	if c.MaxPacketSize > mqtt.MaxRemainingLength+5 {
		c.MaxPacketSize = mqtt.MaxRemainingLength + 5
	}
	if c.MaxWriteBuffer <= 0 {
		c.MaxWriteBuffer = DefaultMaxWriteBuffer
	}
	if c.DeliveryQueue <= 0 {
		c.DeliveryQueue = DefaultDeliveryQueue
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Clock is a time source: the client's timers (keepalive, backoff) and
// message expiry use it, so tests can control time.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the subset of *time.Timer the client uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
