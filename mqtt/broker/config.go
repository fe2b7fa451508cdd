package broker

import (
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxConnections    = 10000
	DefaultMaxSessions       = 10000
	DefaultMaxQueuedMessages = 1000
	DefaultMaxQueuedBytes    = 1 << 20
	DefaultMaxInflight       = 32
	DefaultReceiveMaximum    = 64
	DefaultConnectTimeout    = 10 * time.Second
	DefaultMaxKeepAlive      = 1200 // seconds
	DefaultMaxTopicLevels    = 32
	DefaultMaxSubscriptions  = 256
	DefaultMaxRetained       = 10000
	DefaultMaxRetainedBytes  = 16 << 20
	DefaultPublishRate       = 100000 // messages per second per client
	DefaultMaxTopicAlias     = 32
	DefaultMaxSessionExpiry  = 7 * 24 * 3600 // seconds
	DefaultSysInterval       = 10 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultMaxWriteBatch     = 64 << 10
	DefaultReadBufferSize    = 512
	maxAuthRounds            = 16
)

// SharedStrategy selects how a message for a shared subscription group is
// given to one of its members (MQTT 5.0 §4.8.2).
type SharedStrategy uint8

const (
	// SharedRoundRobin hands messages to members in turn.
	SharedRoundRobin SharedStrategy = iota
	// SharedRandom picks a member at random for each message.
	SharedRandom
)

// Config configures a Broker. It is passed by value; the zero value is a
// safe default: every limit below takes the Default constant of the same
// name when zero. Where a negative value is documented it disables a limit.
type Config struct {
	// MaxConnections bounds the connections served at once; more are
	// refused with Server Busy (v5) or Server Unavailable (3.1.1).
	MaxConnections int
	// MaxSessions bounds the sessions kept (connected or not).
	MaxSessions int
	// MaxPacketSize bounds the size of a packet read from a client and is
	// announced as Maximum Packet Size in CONNACK. 0 means
	// mqtt.DefaultMaxPacketSize (64 KiB).
	MaxPacketSize int
	// MaxQueuedMessages and MaxQueuedBytes bound each client's outbound
	// queue (messages waiting to be written or acknowledged are not
	// counted twice: in-flight messages are bounded by MaxInflight). When a
	// queue is full, the oldest QoS 0 message is dropped first, then the
	// oldest message; drops are counted per client and in Stats.
	MaxQueuedMessages int
	MaxQueuedBytes    int
	// MaxInflight bounds the outbound QoS 1/2 messages awaiting
	// acknowledgement per client (also capped by the client's Receive
	// Maximum).
	MaxInflight int
	// ReceiveMaximum is announced in CONNACK: the inbound QoS 2 messages a
	// client may have unreleased at once; more is a protocol violation
	// (0x93).
	ReceiveMaximum int
	// ConnectTimeout bounds the wait for CONNECT (and enhanced
	// authentication) after a connection is accepted.
	ConnectTimeout time.Duration
	// MaxKeepAlive, in seconds, caps the keep-alive of MQTT 5 clients,
	// announced as Server Keep Alive when the client asks for none or for
	// more. A client silent for 1.5 times its keep-alive is disconnected.
	// Negative: no cap.
	MaxKeepAlive int
	// MaxTopicLevels bounds the levels of a topic name or filter.
	MaxTopicLevels int
	// MaxSubscriptions bounds the subscriptions of one client.
	MaxSubscriptions int
	// MaxRetained and MaxRetainedBytes bound the retained messages kept
	// (count and payload+topic bytes); beyond them a new retained topic is
	// refused with Quota Exceeded.
	MaxRetained      int
	MaxRetainedBytes int
	// PublishRate bounds the PUBLISH packets per second one client may send
	// (a token bucket with a burst of one second's worth); beyond it the
	// broker stops reading from that client until tokens accrue. Negative:
	// no limit.
	PublishRate int
	// MaxTopicAlias is the Topic Alias Maximum announced to MQTT 5 clients.
	// Negative: topic aliases from clients are refused.
	MaxTopicAlias int
	// MaxSessionExpiry caps a session's expiry interval in seconds; MQTT
	// 3.1.1 persistent sessions get this value.
	MaxSessionExpiry uint32
	// Shared selects the strategy for shared subscriptions.
	Shared SharedStrategy
	// SysInterval is the period of the $SYS/broker statistics topics.
	// Negative disables them.
	SysInterval time.Duration
	// WriteTimeout bounds one write to a client; a client that does not
	// read for that long is disconnected.
	WriteTimeout time.Duration
	// ReadBufferSize is the initial read buffer of a connection; it grows
	// up to MaxPacketSize when larger packets arrive.
	ReadBufferSize int

	// EventLoop selects how connections accepted by Serve are read (see
	// EventLoopMode); ServeConn and Pipe connections always have a
	// goroutine.
	EventLoop EventLoopMode

	// Hooks are the application's callbacks; nil members allow everything.
	Hooks Hooks
	// Store persists sessions, subscriptions, retained messages and
	// QoS 1/2 state; nil keeps everything in memory. See NewFileStore.
	Store Store

	// Logger receives connection-level events (default: slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Seed seeds the random source used for assigned client identifiers
	// and the random shared-subscription strategy (0: from the clock at New).
	Seed uint64
}

// ClientInfo describes a connected client to hooks. It is immutable once
// the hook sees it and safe for concurrent use.
type ClientInfo struct {
	ID         string
	Username   []byte
	Version    mqtt.Version
	RemoteAddr net.Addr
	// Listener is the name given to ServeConn/Serve through ServeOptions,
	// empty otherwise.
	Listener string
}

// Hooks are the broker's extension points. They run on the connection's
// goroutine and must not block for long; a hook that panics is not
// recovered. Every member is optional.
type Hooks struct {
	// Authenticate decides whether a CONNECT is accepted (after enhanced
	// authentication, if any). Return Success, or a reason code >= 0x80
	// sent in CONNACK (mapped to a 3.1.1 return code for old clients).
	Authenticate func(c *ClientInfo, pkt *mqtt.Connect) mqtt.ReasonCode
	// EnhancedAuth runs MQTT 5 enhanced authentication (§4.12) when a
	// CONNECT or AUTH carries an Authentication Method. It returns
	// ContinueAuthentication with data for an AUTH to the client, Success
	// (with optional data for CONNACK/AUTH) to finish, or an error code to
	// refuse. Without it, any Authentication Method is refused with Bad
	// Authentication Method.
	EnhancedAuth func(c *ClientInfo, method, data []byte) (mqtt.ReasonCode, []byte)
	// AuthorizePublish decides whether c may publish to topic; a code >=
	// 0x80 refuses it, reported in PUBACK/PUBREC under MQTT 5.
	AuthorizePublish func(c *ClientInfo, topic []byte, qos uint8, retain bool) mqtt.ReasonCode
	// AuthorizeSubscribe decides whether c may subscribe to filter; a code
	// >= 0x80 refuses it (sent in SUBACK), a code 0-2 grants at most that
	// QoS.
	AuthorizeSubscribe func(c *ClientInfo, filter []byte, qos uint8) mqtt.ReasonCode
	// OnPublish intercepts every accepted PUBLISH before it is routed; it
	// may change the packet's Payload, Props or Retain (not its Topic; use a
	// republish for that), or return a code >= 0x80 to drop the message
	// (reported in the acknowledgement). c is nil for messages published
	// through Broker.Publish.
	OnPublish func(c *ClientInfo, p *mqtt.Publish) mqtt.ReasonCode
	// OnConnect and OnDisconnect observe connections after CONNACK and
	// after the connection ends (err is nil for a normal DISCONNECT).
	OnConnect    func(c *ClientInfo)
	OnDisconnect func(c *ClientInfo, err error)
}

// Errors.
var (
	// ErrClosed is returned by Serve, ServeConn and Publish after Close.
	ErrClosed = errors.New("broker: closed")
	// ErrTooManyConnections reports a connection refused at MaxConnections.
	ErrTooManyConnections = errors.New("broker: too many connections")
	// ErrConnectTimeout reports a client that sent no CONNECT in time.
	ErrConnectTimeout = errors.New("broker: no CONNECT within the timeout")
	// ErrKeepAlive reports a client silent for 1.5 times its keep-alive.
	ErrKeepAlive = errors.New("broker: keep-alive timeout")
	// ErrTakenOver reports a connection replaced by a newer one with the
	// same client identifier.
	ErrTakenOver = errors.New("broker: session taken over")
	// ErrRefused reports a CONNECT refused (by a hook or a limit); see the
	// logged reason code.
	ErrRefused = errors.New("broker: connection refused")
	// ErrBadTopic reports a topic Broker.Publish cannot route.
	ErrBadTopic = errors.New("broker: invalid topic")
)

func (c *Config) norm() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxConnections, DefaultMaxConnections)
	def(&c.MaxSessions, DefaultMaxSessions)
	def(&c.MaxPacketSize, mqtt.DefaultMaxPacketSize)
	if c.MaxPacketSize > mqtt.MaxRemainingLength+5 {
		c.MaxPacketSize = mqtt.MaxRemainingLength + 5
	}
	def(&c.MaxQueuedMessages, DefaultMaxQueuedMessages)
	def(&c.MaxQueuedBytes, DefaultMaxQueuedBytes)
	def(&c.MaxInflight, DefaultMaxInflight)
	if c.MaxInflight > 65535 {
		c.MaxInflight = 65535
	}
	def(&c.ReceiveMaximum, DefaultReceiveMaximum)
	if c.ReceiveMaximum > 65535 {
		c.ReceiveMaximum = 65535
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	def(&c.MaxKeepAlive, DefaultMaxKeepAlive)
	if c.MaxKeepAlive > 65535 {
		c.MaxKeepAlive = 65535
	}
	def(&c.MaxTopicLevels, DefaultMaxTopicLevels)
	def(&c.MaxSubscriptions, DefaultMaxSubscriptions)
	def(&c.MaxRetained, DefaultMaxRetained)
	def(&c.MaxRetainedBytes, DefaultMaxRetainedBytes)
	def(&c.PublishRate, DefaultPublishRate)
	def(&c.MaxTopicAlias, DefaultMaxTopicAlias)
	if c.MaxTopicAlias > 65535 {
		c.MaxTopicAlias = 65535
	}
	if c.MaxSessionExpiry == 0 {
		c.MaxSessionExpiry = DefaultMaxSessionExpiry
	}
	if c.SysInterval == 0 {
		c.SysInterval = DefaultSysInterval
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	def(&c.ReadBufferSize, DefaultReadBufferSize)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
