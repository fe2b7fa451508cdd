package endpoint

import (
	"io"
	"log/slog"
	"time"

	"github.com/edgekit/edgekit/mempool"
)

// RFC 7252 §4.8 transmission parameters: the defaults of [Config].
const (
	DefaultACKTimeout      = 2 * time.Second
	DefaultACKRandomFactor = 1.5
	DefaultMaxRetransmit   = 4
	DefaultNStart          = 1
	DefaultLeisure         = 5 * time.Second
	// DefaultMaxLatency is MAX_LATENCY, the RFC's assumed upper bound of a
	// datagram's time in flight.
	DefaultMaxLatency = 100 * time.Second
)

// NoRetransmit as Config.MaxRetransmit disables retransmission: every CON
// is sent once.
const NoRetransmit = -1

// Other defaults of [Config].
const (
	DefaultQueueLen            = 1024
	DefaultBatchSize           = 8
	DefaultMaxMessageSize      = 1280
	DefaultBlockSize           = 1024
	DefaultMaxBodySize         = 1 << 20
	DefaultMaxReassemblies     = 1024
	DefaultReassemblyTimeout   = 60 * time.Second
	DefaultMaxDedup            = 1 << 16
	DefaultMaxObservers        = 1 << 16
	DefaultObserveConInterval  = 24 * time.Hour
	DefaultObserveConEvery     = 16
	DefaultMaxBlockCache       = 1024
	DefaultMaxReassemblyBytes  = 16 << 20
	DefaultMaxBlockCacheBytes  = 16 << 20
	DefaultMaxPendingMulticast = 256
)

// Clock is the time source of an Endpoint: retransmission, deduplication
// lifetimes, reassembly expiry and observe freshness all read it, so tests
// can run them on a fake clock without sleeping. AfterFunc calls f in its
// own goroutine after d, as time.AfterFunc does.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call; Stop reports whether it prevented the
// call.
type Timer interface{ Stop() bool }

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Config configures an [Endpoint]. It is passed by value; the zero value
// means RFC 7252's default transmission parameters and the other
// documented defaults. Every limit is enforced.
type Config struct {
	// Handler serves incoming requests. Nil answers every request with
	// 4.04 Not Found (a client-only endpoint).
	Handler Handler

	// ACKTimeout, ACKRandomFactor, MaxRetransmit and NStart are the
	// transmission parameters of RFC 7252 §4.8 (defaults 2 s, 1.5, 4, 1).
	// MaxRetransmit 0 means the default 4; a negative value
	// ([NoRetransmit]) disables retransmission: a CON is sent once and
	// fails with [ErrTimeout] after its first timeout.
	// The first retransmission of a CON happens after a random time in
	// [ACKTimeout, ACKTimeout*ACKRandomFactor], and each next one after
	// twice the previous wait. NStart bounds the outstanding requests of
	// this endpoint to one peer; more wait (with their ctx).
	ACKTimeout      time.Duration
	ACKRandomFactor float64
	MaxRetransmit   int
	NStart          int
	// MaxLatency is MAX_LATENCY (default 100 s); with the parameters
	// above it gives EXCHANGE_LIFETIME and NON_LIFETIME (§4.8.2), how long
	// received message ids are remembered for deduplication.
	MaxLatency time.Duration
	// SeparateAfter: a CON request whose handler has not returned after
	// this long is acknowledged with an Empty ACK, and its response is
	// sent separately as a CON (RFC 7252 §5.2.2), so that the client
	// stops retransmitting. 0 means ACKTimeout/2; negative disables it
	// ([ResponseWriter.Separate] still works).
	SeparateAfter time.Duration
	// ResponseTimeout bounds the wait for a response after an empty ACK
	// (separate response) or to a NON request; 0 means MAX_TRANSMIT_WAIT.
	ResponseTimeout time.Duration

	// Workers is the number of goroutines that process received
	// datagrams; 0 means GOMAXPROCS. QueueLen bounds the datagrams waiting
	// for a worker (default 1024); datagrams arriving while it is full are
	// dropped and counted in Stats.Dropped.
	Workers  int
	QueueLen int
	// BatchSize is how many datagrams one ReadBatch may return (default 8).
	BatchSize int
	// ConcurrentReads makes each of the Workers goroutines call ReadBatch
	// and serve the datagrams it read itself, with no hand-off between
	// goroutines (about 1.7x the request rate on loopback). The pool is
	// still bounded by Workers, and QueueLen is unused. Set it only for a
	// BatchConn whose ReadBatch is safe for concurrent use, such as
	// uring.WrapPacketConn of a *net.UDPConn; [Listen] sets it.
	ConcurrentReads bool
	// MaxMessageSize bounds a received datagram (default 1280); longer
	// ones are dropped. It must hold a block of BlockSize plus headers.
	MaxMessageSize int

	// BlockSize is the preferred block size for block-wise transfers
	// (RFC 7959) in both directions, a power of two from 16 to 1024
	// (default 1024). Peers may negotiate it down.
	BlockSize int
	// MaxBodySize bounds a reassembled request or response body and a
	// handler's response body (default 1 MiB).
	MaxBodySize int
	// MaxReassemblies bounds concurrent Block1 uploads being reassembled
	// (default 1024); ReassemblyTimeout drops one that saw no block for
	// that long (default 60 s).
	MaxReassemblies   int
	ReassemblyTimeout time.Duration
	// MaxReassemblyBytes bounds the bytes held by all uploads together
	// (default 16 MiB); a block beyond it ends its upload with 5.03.
	MaxReassemblyBytes int
	// MaxBlockCache bounds the large response bodies kept for Block2
	// follow-up requests (default 1024); each expires after
	// ReassemblyTimeout.
	MaxBlockCache int
	// MaxBlockCacheBytes bounds the bytes of all cached bodies (default
	// 16 MiB); a body that does not fit is not cached.
	MaxBlockCacheBytes int
	// MaxDedup bounds the remembered message ids with their cached
	// responses (default 65536); when full the oldest is forgotten early.
	MaxDedup int

	// MaxObservers bounds server-side observe registrations (default
	// 65536); a registration beyond it is served as a plain GET.
	MaxObservers int
	// ObserveConInterval: a notification to an observer that has not
	// received a CON notification for this long is sent as CON (default
	// 24 h, RFC 7641 §4.5). ObserveConEvery additionally makes every n-th
	// notification CON (default 16; negative: never on count alone).
	ObserveConInterval time.Duration
	ObserveConEvery    int

	// Multicast marks a socket joined to a multicast group: requests it
	// receives are handled per RFC 7252 §8.2 (no Reset, no error
	// responses, each response delayed by a random time within Leisure,
	// default 5 s; a CON request, which §8.1 forbids, is ignored rather
	// than acknowledged). At most MaxPendingMulticast responses (default 256)
	// wait at a time, in one queue driven by one timer; a response beyond
	// it is dropped and counted in Stats.MulticastDropped (the handler
	// has run).
	Multicast           bool
	Leisure             time.Duration
	MaxPendingMulticast int

	// Echo makes the server require a fresh Echo option (RFC 9175) on
	// unsafe requests and/or before large responses; off by default. See
	// [EchoConfig].
	Echo EchoConfig

	// Rand is the random source for message ids, tokens, Request-Tags and
	// retransmission jitter; nil means crypto/rand, read once in New.
	Rand io.Reader
	// Clock is the time source; nil means the real clock.
	Clock Clock
	// Pool supplies receive and send buffers; nil means a private pool.
	Pool *mempool.Pool
	// Logger receives rare events (dropped datagrams, handler panics);
	// nil discards.
	Logger *slog.Logger
}

type params struct {
	Config
	exchangeLifetime time.Duration
	echoKey          [32]byte // set once in New when Echo is enabled (see initEcho)
	echoKeySet       bool
	nonLifetime      time.Duration
	maxTransmitWait  time.Duration
	szx              uint8
}

func (c Config) withDefaults() (params, error) {
	if c.ACKTimeout <= 0 {
		c.ACKTimeout = DefaultACKTimeout
	}
	if c.ACKRandomFactor < 1 {
		c.ACKRandomFactor = DefaultACKRandomFactor
	}
	switch {
	case c.MaxRetransmit == 0:
		c.MaxRetransmit = DefaultMaxRetransmit
	case c.MaxRetransmit < 0:
		c.MaxRetransmit = 0 // NoRetransmit
	}
	if c.MaxRetransmit > 20 {
		return params{}, errConfig("MaxRetransmit above 20")
	}
	if c.NStart <= 0 {
		c.NStart = DefaultNStart
	}
	if c.MaxLatency <= 0 {
		c.MaxLatency = DefaultMaxLatency
	}
	if c.SeparateAfter == 0 {
		c.SeparateAfter = c.ACKTimeout / 2
	}
	if c.Leisure <= 0 {
		c.Leisure = DefaultLeisure
	}
	if c.Echo.Window <= 0 {
		c.Echo.Window = DefaultEchoWindow
	}
	if c.MaxPendingMulticast <= 0 {
		c.MaxPendingMulticast = DefaultMaxPendingMulticast
	}
	if c.QueueLen <= 0 {
		c.QueueLen = DefaultQueueLen
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.BlockSize <= 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.BlockSize < 16 || c.BlockSize > 1024 || c.BlockSize&(c.BlockSize-1) != 0 {
		return params{}, errConfig("BlockSize must be a power of two from 16 to 1024")
	}
	if c.MaxMessageSize < c.BlockSize+64 {
		return params{}, errConfig("MaxMessageSize must exceed BlockSize by at least 64")
	}
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxReassemblies <= 0 {
		c.MaxReassemblies = DefaultMaxReassemblies
	}
	if c.ReassemblyTimeout <= 0 {
		c.ReassemblyTimeout = DefaultReassemblyTimeout
	}
	if c.MaxBlockCache <= 0 {
		c.MaxBlockCache = DefaultMaxBlockCache
	}
	if c.MaxReassemblyBytes <= 0 {
		c.MaxReassemblyBytes = DefaultMaxReassemblyBytes
	}
	if c.MaxBlockCacheBytes <= 0 {
		c.MaxBlockCacheBytes = DefaultMaxBlockCacheBytes
	}
	if c.MaxDedup <= 0 {
		c.MaxDedup = DefaultMaxDedup
	}
	if c.MaxObservers <= 0 {
		c.MaxObservers = DefaultMaxObservers
	}
	if c.ObserveConInterval <= 0 {
		c.ObserveConInterval = DefaultObserveConInterval
	}
	if c.ObserveConEvery == 0 {
		c.ObserveConEvery = DefaultObserveConEvery
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	p := params{Config: c}
	// §4.8.2
	maxTransmitSpan := time.Duration(float64(c.ACKTimeout) * float64(int(1)<<c.MaxRetransmit-1) * c.ACKRandomFactor)
	p.maxTransmitWait = time.Duration(float64(c.ACKTimeout) * float64(int(1)<<(c.MaxRetransmit+1)-1) * c.ACKRandomFactor)
	processingDelay := c.ACKTimeout
	p.exchangeLifetime = maxTransmitSpan + 2*c.MaxLatency + processingDelay
	p.nonLifetime = maxTransmitSpan + c.MaxLatency
	if p.ResponseTimeout <= 0 {
		p.ResponseTimeout = p.maxTransmitWait
	}
	p.szx = coapSZX(c.BlockSize)
	return p, nil
}

type errConfig string

func (e errConfig) Error() string   { return "coap/endpoint: config: " + string(e) }
func (e errConfig) Is(t error) bool { return t == ErrConfig }
