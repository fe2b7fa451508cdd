package uring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Backend names how a [Conn] moves datagrams.
type Backend uint8

// Backends, best first. BackendAuto picks the best one the platform and the
// kernel allow.
const (
	BackendAuto    Backend = iota
	BackendIOURing         // io_uring multishot recvmsg with a provided buffer ring; sendmmsg writes
	BackendMmsg            // recvmmsg/sendmmsg, waiting in the Go netpoller
	BackendStd             // net.UDPConn, one datagram per system call
)

// String returns "auto", "io_uring", "mmsg" or "std".
func (b Backend) String() string {
	switch b {
	case BackendAuto:
		return "auto"
	case BackendIOURing:
		return "io_uring"
	case BackendMmsg:
		return "mmsg"
	case BackendStd:
		return "std"
	}
	return "backend(" + strconv.Itoa(int(b)) + ")"
}

// Defaults and limits of Config.
const (
	DefaultBatchSize   = 64
	MaxBatchSize       = 1024
	DefaultRingBuffers = 512
	DefaultBufferSize  = 2048
	MaxDatagramSize    = 65535
)

// Config configures a [Conn]. The zero value is valid: pick the best
// backend, 64 datagrams per system call, 512 ring buffers of 2048 bytes.
type Config struct {
	// Backend forces a backend. BackendAuto (0) tries io_uring, then
	// recvmmsg, then net.UDPConn, and records why each better one was
	// refused. A forced backend that is refused makes NewConn fail with a
	// [RefusedError]: a requested backend is never silently replaced.
	Backend Backend
	// BatchSize caps the datagrams moved per recvmmsg/sendmmsg call. 0 means
	// DefaultBatchSize; at most MaxBatchSize.
	BatchSize int
	// RingBuffers is the number of provided buffers of the io_uring backend
	// (a power of two). 0 means DefaultRingBuffers; at most MaxBufRingSize,
	// and RingBuffers*(BufferSize+128) at most MaxBufRingMemory. More buffers
	// let a burst queue up in the ring rather than in the socket. The
	// buffers are mapped outside the Go heap when the Conn opens.
	RingBuffers int
	// BufferSize is the largest datagram the io_uring backend receives whole;
	// longer ones are truncated (FlagTrunc). 0 means DefaultBufferSize; at
	// most MaxDatagramSize. The other backends receive into Msg.Buf.
	BufferSize int
	// ReadBuffer and WriteBuffer set SO_RCVBUF and SO_SNDBUF when > 0.
	ReadBuffer, WriteBuffer int
	// Logger receives the backend choice at Info level. nil: no logging.
	Logger *slog.Logger
	// Refuse, when set, is asked before each backend is tried; a non-nil
	// error refuses that backend as if the kernel had (tests use it to
	// simulate a seccomp profile that blocks io_uring).
	Refuse func(Backend) error
}

func (c Config) withDefaults() (Config, error) {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.RingBuffers == 0 {
		c.RingBuffers = DefaultRingBuffers
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	switch {
	case c.Backend > BackendStd:
		return c, fmt.Errorf("%w: backend %v", ErrBadConfig, c.Backend)
	case c.BatchSize < 1 || c.BatchSize > MaxBatchSize:
		return c, fmt.Errorf("%w: batch size %d", ErrBadConfig, c.BatchSize)
	case c.RingBuffers < 1 || c.RingBuffers > MaxBufRingSize || c.RingBuffers&(c.RingBuffers-1) != 0:
		return c, fmt.Errorf("%w: ring buffers %d (want a power of two up to %d)", ErrBadConfig, c.RingBuffers, MaxBufRingSize)
	case c.BufferSize < 1 || c.BufferSize > MaxDatagramSize:
		return c, fmt.Errorf("%w: buffer size %d", ErrBadConfig, c.BufferSize)
	case int64(c.RingBuffers)*int64(c.BufferSize+128) > MaxBufRingMemory:
		return c, fmt.Errorf("%w: %d ring buffers of %d bytes exceed %d bytes", ErrBadConfig, c.RingBuffers, c.BufferSize, MaxBufRingMemory)
	case c.ReadBuffer < 0 || c.WriteBuffer < 0:
		return c, fmt.Errorf("%w: negative socket buffer size", ErrBadConfig)
	}
	return c, nil
}

// RefusedError says why a backend could not be used. It matches
// errors.ErrUnsupported and the kernel's errno (errors.Is(err,
// syscall.EPERM) under a seccomp profile that blocks io_uring).
type RefusedError struct {
	Backend Backend
	Err     error
}

func (e RefusedError) Error() string {
	return "uring: " + e.Backend.String() + " backend refused: " + e.Err.Error()
}

// Unwrap returns the cause and errors.ErrUnsupported.
func (e RefusedError) Unwrap() []error { return []error{e.Err, errors.ErrUnsupported} }

// Report says which backend a [Conn] uses and why better ones were refused.
type Report struct {
	Backend Backend
	Refused []RefusedError
}

// String is a one-line summary such as
// "mmsg (io_uring refused: uring: io_uring_setup: operation not permitted)".
func (r Report) String() string {
	s := r.Backend.String()
	for i, e := range r.Refused {
		if i == 0 {
			s += " ("
		} else {
			s += "; "
		}
		s += e.Backend.String() + " refused: " + e.Err.Error()
		if i == len(r.Refused)-1 {
			s += ")"
		}
	}
	return s
}

// backend is what a Conn delegates to. Conn serializes reads and writes
// separately; shutdown must unblock a blocked reader and writer, and
// release runs once both have left.
type backend interface {
	ReadBatch(ms []Msg) (int, error)
	WriteBatch(ms []Msg) (int, error)
	setReadDeadline(t time.Time) error
	stopReading() error
	shutdown() error
	release() error
	rearms() uint64
}

// Stats are a Conn's counters since it was opened.
type Stats struct {
	ReadBatches  uint64 // ReadBatch calls that returned datagrams
	Received     uint64 // datagrams received
	Truncated    uint64 // datagrams received with FlagTrunc
	WriteBatches uint64 // WriteBatch calls
	Sent         uint64 // datagrams sent
	// Rearms counts re-submissions of the io_uring backend's multishot
	// receive after it ended (provided buffers exhausted, or cancelled). A
	// fast-growing count means RingBuffers is too small for the bursts.
	Rearms uint64
}

// Conn is a batched UDP socket implementing [BatchConn] with the best
// backend the platform allows ([Conn.Report] tells which and why).
//
// Conn is safe for concurrent use: ReadBatch calls are serialized with
// each other, WriteBatch calls likewise, and one goroutine may read while
// another writes. Close unblocks both. Conn starts no goroutines.
// Received addresses are unmapped (an IPv4 peer of an IPv6 socket is
// reported as IPv4); IPv6 zones are not reported.
type Conn struct {
	uc      *net.UDPConn
	be      backend
	report  Report
	rmu     sync.Mutex
	wmu     sync.Mutex
	closeMu sync.Mutex
	closed  bool
	stopped bool // StopReading was called

	readBatches, received, truncated, writeBatches, sent atomic.Uint64
}

var _ BatchConn = (*Conn)(nil)

// ListenUDP opens a UDP socket like net.ListenPacket (network "udp",
// "udp4" or "udp6") and wraps it with NewConn.
func ListenUDP(network, address string, cfg Config) (*Conn, error) {
	switch network {
	case "udp", "udp4", "udp6":
	default:
		return nil, fmt.Errorf("uring: listen %s: %w", network, net.UnknownNetworkError(network))
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(context.Background(), network, address)
	if err != nil {
		return nil, err
	}
	c, err := NewConn(pc.(*net.UDPConn), cfg)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	return c, nil
}

// NewConn wraps uc, which the Conn then owns (Close closes it), choosing
// a backend as cfg says. It fails only on a bad cfg, a failed socket option,
// or a refused forced backend; uc is left open on failure.
func NewConn(uc *net.UDPConn, cfg Config) (*Conn, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.ReadBuffer > 0 {
		if err := uc.SetReadBuffer(cfg.ReadBuffer); err != nil {
			return nil, fmt.Errorf("uring: SO_RCVBUF: %w", err)
		}
	}
	if cfg.WriteBuffer > 0 {
		if err := uc.SetWriteBuffer(cfg.WriteBuffer); err != nil {
			return nil, fmt.Errorf("uring: SO_SNDBUF: %w", err)
		}
	}
	c := &Conn{uc: uc}
	order := []Backend{BackendIOURing, BackendMmsg, BackendStd}
	if cfg.Backend != BackendAuto {
		order = []Backend{cfg.Backend}
	}
	for _, b := range order {
		var be backend
		err := error(nil)
		if cfg.Refuse != nil {
			err = cfg.Refuse(b)
		}
		if err == nil {
			be, err = newBackend(b, uc, &cfg)
		}
		if err != nil {
			re := RefusedError{Backend: b, Err: err}
			if cfg.Backend != BackendAuto {
				return nil, re
			}
			c.report.Refused = append(c.report.Refused, re)
			continue
		}
		c.be, c.report.Backend = be, b
		break
	}
	if c.be == nil { // only if Refuse refused even net.UDPConn
		return nil, c.report.Refused[len(c.report.Refused)-1]
	}
	if cfg.Logger != nil {
		cfg.Logger.Info("uring: backend selected", "backend", c.report.Backend.String(),
			"local", uc.LocalAddr().String(), "report", c.report.String())
	}
	return c, nil
}

func newBackend(b Backend, uc *net.UDPConn, cfg *Config) (backend, error) {
	switch b {
	case BackendIOURing:
		return newURingConn(uc, cfg)
	case BackendMmsg:
		return newMmsgConn(uc, cfg)
	}
	return &stdConn{udpWrap{c: uc}}, nil
}

// Backend returns the active backend.
func (c *Conn) Backend() Backend { return c.report.Backend }

// Report returns the active backend and why better ones were refused.
func (c *Conn) Report() Report { return c.report }

// ReadBatch blocks until at least one datagram has arrived, then fills as
// many of ms as are queued (up to BatchSize per system call on the mmsg
// backend; the std backend fills one). See [BatchConn].
func (c *Conn) ReadBatch(ms []Msg) (int, error) {
	c.rmu.Lock()
	n, err := c.be.ReadBatch(ms)
	c.rmu.Unlock()
	if n > 0 {
		t := 0
		for i := range ms[:n] {
			t += ms[i].Flags & FlagTrunc
		}
		c.readBatches.Add(1)
		c.received.Add(uint64(n))
		if t > 0 {
			c.truncated.Add(uint64(t))
		}
	}
	return n, err
}

// WriteBatch sends ms in order and returns how many were sent; on error
// ms[n] is the datagram that failed. See [BatchConn].
func (c *Conn) WriteBatch(ms []Msg) (int, error) {
	c.wmu.Lock()
	n, err := c.be.WriteBatch(ms)
	c.wmu.Unlock()
	c.writeBatches.Add(1)
	c.sent.Add(uint64(n))
	return n, err
}

// Stats returns the Conn's counters. It is safe to call at any time.
func (c *Conn) Stats() Stats {
	return Stats{
		ReadBatches:  c.readBatches.Load(),
		Received:     c.received.Load(),
		Truncated:    c.truncated.Load(),
		WriteBatches: c.writeBatches.Load(),
		Sent:         c.sent.Load(),
		Rearms:       c.be.rearms(),
	}
}

// LocalAddr returns the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.uc.LocalAddr() }

// SetReadDeadline bounds ReadBatch; a blocked ReadBatch returns an error
// matching os.ErrDeadlineExceeded once t passes. The zero t removes it.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.be.setReadDeadline(t) }

// SetWriteDeadline bounds WriteBatch like SetReadDeadline bounds ReadBatch.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.uc.SetWriteDeadline(t) }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// StopReading implements [ReadStopper]: ReadBatch returns what this Conn
// has already taken from the socket (on the io_uring backend it cancels the
// multishot receive and returns every completion up to the last), then
// io.EOF; the socket itself stays open and its queue untouched.
func (c *Conn) StopReading() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closed {
		return &net.OpError{Op: "stop reading", Net: "udp", Addr: c.uc.LocalAddr(), Err: net.ErrClosed}
	}
	if c.stopped {
		return nil
	}
	c.stopped = true
	return c.be.stopReading()
}

// Close closes the socket and releases the backend's resources, after
// unblocking and waiting for any ReadBatch and WriteBatch in progress (which
// return an error matching net.ErrClosed). Closing twice returns such an
// error too.
func (c *Conn) Close() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closed {
		return &net.OpError{Op: "close", Net: "udp", Addr: c.uc.LocalAddr(), Err: net.ErrClosed}
	}
	c.closed = true
	err := c.be.shutdown()
	c.rmu.Lock()
	c.wmu.Lock()
	if rerr := c.be.release(); err == nil {
		err = rerr
	}
	c.wmu.Unlock()
	c.rmu.Unlock()
	return err
}

// stdConn is the portable backend: net.UDPConn, one datagram per call.
type stdConn struct{ udpWrap }

func (s *stdConn) setReadDeadline(t time.Time) error { return s.SetReadDeadline(t) }
func (s *stdConn) stopReading() error                { return s.StopReading() }
func (s *stdConn) shutdown() error                   { return s.c.Close() }
func (s *stdConn) release() error                    { return nil }
func (s *stdConn) rearms() uint64                    { return 0 }

// errClosed is what reads and writes on a closed Conn return.
func errClosed(op string, c *net.UDPConn) error {
	return &net.OpError{Op: op, Net: "udp", Addr: c.LocalAddr(), Err: net.ErrClosed}
}

// Upgrade returns the best BatchConn for pc: a [Conn] when pc is a
// *net.UDPConn (which the Conn then owns), and [WrapPacketConn] otherwise.
// It fails like NewConn, or when cfg forces a batched backend on a
// PacketConn that is not a *net.UDPConn.
func Upgrade(pc net.PacketConn, cfg Config) (BatchConn, error) {
	if uc, ok := pc.(*net.UDPConn); ok {
		return NewConn(uc, cfg)
	}
	if cfg.Backend != BackendAuto && cfg.Backend != BackendStd {
		return nil, RefusedError{Backend: cfg.Backend, Err: fmt.Errorf("%T is not a *net.UDPConn", pc)}
	}
	return WrapPacketConn(pc), nil
}
