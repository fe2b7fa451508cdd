package endpoint

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/mempool"
	"github.com/edgekit/edgekit/uring"
)

// nShards is the number of independently locked shards of each matching
// table (exchanges by token and by message id, dedup, observers).
const nShards = 64

// Endpoint is a CoAP endpoint on one datagram socket: a server (its
// Config.Handler answers requests) and a client (Do, Get, Observe, ...)
// at once. It is safe for concurrent use.
//
// New starts one reader goroutine and Config.Workers worker goroutines;
// received datagrams are decoded and served by the workers, never by a
// goroutine each. With Config.ConcurrentReads (which [Listen] sets) the
// Config.Workers goroutines read the socket themselves and serve what they
// read, without a hand-off. Timers of the Clock drive retransmissions. Close stops
// all of them and closes the socket.
type Endpoint struct {
	p     params
	conn  uring.BatchConn
	pool  *mempool.Pool
	log   *slog.Logger
	clock Clock
	epoch time.Time

	work     chan work
	wg       sync.WaitGroup
	closed   atomic.Bool
	closeErr error
	closeMu  sync.Once

	writeMu  sync.Mutex
	writeMsg [1]uring.Msg

	randMu sync.Mutex
	rng    *rand.ChaCha8
	mid    atomic.Uint32

	dedup   dedupTable
	tokens  [nShards]tokenShard
	mids    [nShards]midShard
	peers   [nShards]peerShard
	reasm   reasmTable
	blocks  blockCache
	obs     observeRegistry
	workers []*worker

	housekeep Timer
	sepTimer  Timer
	hkMu      sync.Mutex
	cbs       callbackGate // Clock callbacks running; Close waits for them
	leisure   leisureQueue // delayed multicast responses

	workerMu   sync.Mutex
	allWorkers []*worker // every worker, for the separate-response watchdog

	stats counters
}

type work struct {
	buf  *mempool.Buf
	n    int
	peer netip.AddrPort
}

// Listen opens a UDP socket on address (network "udp", "udp4" or "udp6")
// and returns an Endpoint serving on it through [uring.WrapPacketConn].
func Listen(network, address string, cfg Config) (*Endpoint, error) {
	ua, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	uc, err := net.ListenUDP(network, ua)
	if err != nil {
		return nil, err
	}
	cfg.ConcurrentReads = true // a *net.UDPConn may be read concurrently
	e, err := New(uring.WrapPacketConn(uc), cfg)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return e, nil
}

// New returns an Endpoint that reads and writes through conn and starts
// its goroutines. The Endpoint owns conn: Close closes it.
func New(conn uring.BatchConn, cfg Config) (*Endpoint, error) {
	p, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.Workers <= 0 {
		p.Workers = runtime.GOMAXPROCS(0)
	}
	e := &Endpoint{p: p, conn: conn, clock: p.Clock, log: p.Logger}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.pool = p.Pool; e.pool == nil {
		if e.pool, err = mempool.New(mempool.Config{MaxSize: 64 << 10}); err != nil {
			return nil, err
		}
	}
	r := p.Rand
	if r == nil {
		r = crand.Reader
	}
	var seed [32]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, errors.Join(ErrConfig, err)
	}
	e.rng = rand.NewChaCha8(seed)
	e.mid.Store(uint32(e.rng.Uint64()))
	e.epoch = e.clock.Now()
	e.dedup.init(p.MaxDedup)
	for i := range e.tokens {
		e.tokens[i].m = make(map[coap.Token]*exchange)
		e.mids[i].m = make(map[midKey]*conTx)
		e.peers[i].m = make(map[netip.AddrPort]*peerState)
	}
	e.reasm.init()
	e.blocks.init()
	e.obs.init()
	e.workers = make([]*worker, p.Workers)
	if p.ConcurrentReads {
		// Every worker reads and serves what it read: no hand-off.
		for i := range e.workers {
			w := newWorker(e)
			e.workers[i] = w
			e.wg.Add(1)
			go e.readLoop(w)
		}
	} else {
		e.work = make(chan work, p.QueueLen)
		for i := range e.workers {
			w := newWorker(e)
			e.workers[i] = w
			e.wg.Add(1)
			go w.run()
		}
		e.wg.Add(1)
		go e.readLoop(nil)
	}
	e.scheduleHousekeeping()
	if p.Handler != nil && p.SeparateAfter > 0 {
		e.hkMu.Lock()
		e.sepTimer = e.afterFunc(p.SeparateAfter/2, e.separateWatchdog)
		e.hkMu.Unlock()
	}
	return e, nil
}

// LocalAddr returns the socket's local address.
func (e *Endpoint) LocalAddr() net.Addr { return e.conn.LocalAddr() }

// Close stops the endpoint: it closes the socket, fails outstanding
// requests with [ErrClosed], and waits for its goroutines and for the
// Clock callbacks already running (retransmissions, housekeeping, delayed
// multicast responses); callbacks due later do nothing. No endpoint code
// runs after Close returns, except in calls the application is still
// making. Close must not be called from a Handler.
func (e *Endpoint) Close() error {
	e.closeMu.Do(func() {
		e.closed.Store(true)
		e.closeErr = e.conn.Close()
		e.hkMu.Lock()
		if e.housekeep != nil {
			e.housekeep.Stop()
		}
		if e.sepTimer != nil {
			e.sepTimer.Stop()
		}
		e.leisure.stop()
		e.hkMu.Unlock()
		e.wg.Wait()
		// Clock callbacks already running (housekeeping, retransmissions,
		// the watchdog, multicast responses) finish; later ones do nothing.
		e.cbs.close()
		e.failAll(ErrClosed)
		e.dedup.releaseAll()
		e.blocks.releaseAll()
		e.leisure.releaseAll(e)
	})
	return e.closeErr
}

// Shutdown stops reading, serves every datagram already read, then closes
// the endpoint as Close does. With a conn that can stop reading without
// closing its socket ([uring.ReadStopper]: [uring.Conn], and the conns of
// [uring.WrapPacketConn] and [Listen]), datagrams not yet read stay queued
// in the socket, so that another holder of the same socket (the new process
// of a graceful restart, which inherited it) serves them: none is lost
// between the two. With any other conn it is Close.
//
// If ctx ends first, Shutdown closes the endpoint at once and returns
// ctx.Err() (joined with Close's error).
func (e *Endpoint) Shutdown(ctx context.Context) error {
	var werr error
	if rs, ok := e.conn.(uring.ReadStopper); ok && !e.closed.Load() {
		if err := rs.StopReading(); err == nil {
			// The readers return at io.EOF; the workers then drain the
			// hand-off queue and return.
			idle := make(chan struct{})
			go func() {
				e.wg.Wait()
				close(idle)
			}()
			select {
			case <-idle:
			case <-ctx.Done():
				werr = ctx.Err()
			}
		}
	}
	return errors.Join(werr, e.Close())
}

// afterFunc is Clock.AfterFunc for the endpoint's own callbacks: f runs
// only while the endpoint is open, and Close waits for a call in progress,
// so that no endpoint code runs after Close has returned.
func (e *Endpoint) afterFunc(d time.Duration, f func()) Timer {
	return e.clock.AfterFunc(d, func() {
		if !e.cbs.enter() {
			return
		}
		defer e.cbs.exit()
		f()
	})
}

// callbackGate counts the Clock callbacks in progress; close refuses new
// ones and waits for those in progress. (A WaitGroup would not do: its Add
// must not race with Wait.)
type callbackGate struct {
	mu      sync.Mutex
	running int
	closed  bool
	idle    chan struct{} // closed when running drops to 0 after close
}

func (g *callbackGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.running++
	return true
}

func (g *callbackGate) exit() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if g.running == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

func (g *callbackGate) close() {
	g.mu.Lock()
	g.closed = true
	if g.running == 0 {
		g.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	g.idle = idle
	g.mu.Unlock()
	<-idle
}

// now returns the time since the endpoint started, on its clock.
func (e *Endpoint) now() time.Duration { return e.clock.Now().Sub(e.epoch) }

// readLoop reads datagrams in batches. With inline == nil it hands each
// to the worker pool through the bounded queue (dropping when it is full);
// otherwise it is one of Config.Workers readers that serve what they read.
func (e *Endpoint) readLoop(inline *worker) {
	defer e.wg.Done()
	if inline == nil {
		defer close(e.work)
	}
	n := e.p.BatchSize
	msgs := make([]uring.Msg, n)
	bufs := make([]*mempool.Buf, n)
	size := e.p.MaxMessageSize + 1 // one spare byte detects truncation without FlagTrunc
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}()
	for {
		for i := range msgs {
			if bufs[i] == nil {
				bufs[i] = e.pool.Get(size)
			}
			msgs[i] = uring.Msg{Buf: bufs[i].B[:size]}
		}
		got, err := e.conn.ReadBatch(msgs)
		if err != nil {
			// io.EOF: Shutdown stopped reading.
			if e.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
				return
			}
			e.stats.readErrors.Add(1)
			e.log.Debug("coap: read", "err", err)
			time.Sleep(time.Millisecond) // a persistent error must not spin
			continue
		}
		for i := 0; i < got; i++ {
			m := &msgs[i]
			e.stats.received.Add(1)
			if m.Flags&uring.FlagTrunc != 0 || m.N > e.p.MaxMessageSize {
				e.stats.dropped.Add(1)
				continue
			}
			if inline != nil {
				inline.handle(bufs[i].B[:m.N], m.Addr) // nothing keeps the buffer
				continue
			}
			select {
			case e.work <- work{buf: bufs[i], n: m.N, peer: m.Addr}:
				bufs[i] = nil
			default:
				e.stats.dropped.Add(1)
			}
		}
	}
}

// send writes one datagram. Writes are serialised: a BatchConn need not
// allow concurrent WriteBatch calls.
func (e *Endpoint) send(peer netip.AddrPort, b []byte) error {
	e.writeMu.Lock()
	e.writeMsg[0] = uring.Msg{Buf: b, Addr: peer}
	_, err := e.conn.WriteBatch(e.writeMsg[:])
	e.writeMsg[0] = uring.Msg{}
	e.writeMu.Unlock()
	if err != nil {
		e.stats.writeErrors.Add(1)
		return err
	}
	e.stats.sent.Add(1)
	return nil
}

// sendBatch writes ms in as few WriteBatch calls as the conn allows.
func (e *Endpoint) sendBatch(ms []uring.Msg) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	for len(ms) > 0 {
		n, err := e.conn.WriteBatch(ms)
		e.stats.sent.Add(uint64(n))
		if err != nil {
			e.stats.writeErrors.Add(1)
			n++ // skip the failing one
		}
		if n >= len(ms) {
			return
		}
		ms = ms[n:]
	}
}

// nextMID returns a fresh message id.
func (e *Endpoint) nextMID() coap.MessageID { return coap.MessageID(e.mid.Add(1)) }

// newToken returns a random 8-byte token.
func (e *Endpoint) newToken() coap.Token {
	e.randMu.Lock()
	v := e.rng.Uint64()
	e.randMu.Unlock()
	return coap.TokenFromUint64(v)
}

// randFloat returns a random float in [0, 1).
func (e *Endpoint) randFloat() float64 {
	e.randMu.Lock()
	v := e.rng.Uint64()
	e.randMu.Unlock()
	return float64(v>>11) / (1 << 53)
}

func (e *Endpoint) randBytes(b []byte) {
	e.randMu.Lock()
	var tmp [8]byte
	binary.LittleEndian.PutUint64(tmp[:], e.rng.Uint64())
	e.randMu.Unlock()
	copy(b, tmp[:])
}

// scheduleHousekeeping expires reassemblies and cached block bodies and
// sends the periodic CON notifications.
func (e *Endpoint) scheduleHousekeeping() {
	e.hkMu.Lock()
	defer e.hkMu.Unlock()
	if e.closed.Load() {
		return
	}
	every := e.p.ReassemblyTimeout / 4
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	e.housekeep = e.afterFunc(every, func() {
		now := e.now()
		e.reasm.expire(now, e.p.ReassemblyTimeout, e)
		e.blocks.expire(now)
		e.obs.sweep(e, now)
		e.scheduleHousekeeping()
	})
}
