package dtls

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	piondtls "github.com/pion/dtls/v3"

	"github.com/edgekit/edgekit/mempool"
	"github.com/edgekit/edgekit/uring"
)

// Server is a DTLS 1.2 server for many peers on one datagram socket,
// presented as a [uring.BatchConn] of plaintext datagrams.
//
// [Server.ReadBatch] returns decrypted datagrams from every established
// session, each tagged with its peer's address; [Server.WriteBatch] encrypts
// each datagram for the session of the peer with its address. One goroutine
// may call ReadBatch while others call WriteBatch; concurrent ReadBatch calls
// are safe too but share one queue. A Server runs one socket reader, one
// idle-expiry goroutine, one reader per session and Pion's goroutines per
// session (see the package documentation for the bound); [Server.Close]
// stops them all and waits for them.
type Server struct {
	cfg   resolved
	under uring.BatchConn
	pool  *mempool.Pool

	mu         sync.RWMutex
	byAddr     map[netip.AddrPort]*session // established or handshaking, by peer address
	pending    map[netip.AddrPort]*session // a new handshake from the address of an established session
	byCID      map[string]*session         // by the Connection ID the session asked its peer for
	sessions   map[*session]struct{}
	handshakes map[*session]struct{} // sessions still handshaking
	births     uint64                // sessions created so far
	closed     bool

	wmu sync.Mutex // serialises under.WriteBatch
	wms [1]uring.Msg

	rxq       chan rxItem
	done      chan struct{}
	wg        sync.WaitGroup
	rdl       deadline
	closeOnce sync.Once
	closeErr  error

	st counters

	// beforeEstablished, if set (by tests), runs in a session's goroutine
	// between the end of its handshake and its registration as
	// established; the argument tells a re-handshake from a first one.
	beforeEstablished atomic.Pointer[func(rehandshake bool)]
}

// rxItem is a decrypted datagram waiting for ReadBatch.
type rxItem struct {
	b    *mempool.Buf
	addr netip.AddrPort
}

// inItem is a received, still encrypted datagram waiting for Pion.
type inItem struct {
	b    *mempool.Buf
	from netip.AddrPort
}

type counters struct {
	accepted, handshakeFailures, expired, replaced atomic.Uint64
	evicted                                        atomic.Uint64
	rx, tx                                         atomic.Uint64
	dropPeerQueue, dropNoSession, dropLimit        atomic.Uint64
	dropOversize, dropWrite                        atomic.Uint64
	shared                                         atomic.Uint64
}

// Stats is a snapshot of a Server's counters and gauges.
type Stats struct {
	Sessions    int // established sessions
	Handshaking int // sessions still handshaking

	Accepted          uint64 // handshakes completed
	HandshakeFailures uint64 // handshakes failed or timed out
	Expired           uint64 // sessions closed by IdleTimeout
	Replaced          uint64 // sessions replaced by a new handshake from the same peer
	Evicted           uint64 // unverified handshakes dropped to admit a new ClientHello
	// RehandshakeShared counts records given to both the established
	// session of an address and the new handshake pending from the same
	// address (RFC 6347 §4.2.8): only one of them can authenticate each,
	// and the other drops it. A copy dropped because a session's queue
	// was full is counted in DroppedPeerQueue.
	RehandshakeShared uint64

	RxDatagrams uint64 // decrypted datagrams returned by ReadBatch
	TxDatagrams uint64 // datagrams encrypted and sent by WriteBatch

	DroppedPeerQueue uint64 // received datagrams dropped because the session's queue was full
	DroppedNoSession uint64 // received datagrams of no session that were not a ClientHello, and written datagrams for an address without an established session
	DroppedLimit     uint64 // ClientHellos dropped by MaxSessions or MaxHandshakes (no unverified handshake to evict)
	DroppedOversize  uint64 // datagrams larger than the read buffer or MaxDatagramSize
	WriteErrors      uint64 // datagrams WriteBatch could not encrypt or send
}

// Listen opens a UDP socket on address ("udp", "udp4" or "udp6" for network)
// and returns a Server on it.
func Listen(network, address string, cfg Config) (*Server, error) {
	pc, err := net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	s, err := NewServer(uring.WrapPacketConn(pc), cfg)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	return s, nil
}

// NewServer returns a Server that reads and writes DTLS records through
// under, which it owns from then on: Close closes it.
func NewServer(under uring.BatchConn, cfg Config) (*Server, error) {
	r, err := cfg.resolve(false)
	if err != nil {
		return nil, err
	}
	pool, err := mempool.New(mempool.Config{MaxSize: 32 << 10})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:        r,
		under:      under,
		pool:       pool,
		byAddr:     make(map[netip.AddrPort]*session),
		pending:    make(map[netip.AddrPort]*session),
		byCID:      make(map[string]*session),
		sessions:   make(map[*session]struct{}),
		handshakes: make(map[*session]struct{}),
		rxq:        make(chan rxItem, r.ReadQueueLen),
		done:       make(chan struct{}),
	}
	s.wg.Add(2)
	go s.readLoop()
	go s.expireLoop()
	return s, nil
}

// norm maps IPv4-mapped IPv6 addresses to IPv4, so that a peer has one key
// whichever form the socket reports.
func norm(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}

// readBatch is how many datagrams the socket reader asks for at once.
const readBatch = 8

// readLoop reads the socket and routes each datagram to its session.
func (s *Server) readLoop() {
	defer s.wg.Done()
	ms := make([]uring.Msg, readBatch)
	for i := range ms {
		ms[i].Buf = make([]byte, maxRecord)
	}
	for {
		n, err := s.under.ReadBatch(ms)
		for i := 0; i < n; i++ {
			s.route(&ms[i])
		}
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			s.cfg.Logger.Warn("coap/dtls: socket read", "err", err)
			select {
			case <-s.done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

func (s *Server) isClosed() bool { return isClosed(s.done) }

// route hands one received datagram to its session, creating a session for
// a ClientHello from a new peer.
func (s *Server) route(m *uring.Msg) {
	if m.Flags&uring.FlagTrunc != 0 || m.N > len(m.Buf) {
		s.st.dropOversize.Add(1)
		return
	}
	b := m.Buf[:m.N]
	from := norm(m.Addr)
	s.mu.RLock()
	var ss *session
	if cid, ok := recordCID(b, s.cfg.ConnectionIDLength); ok {
		ss = s.byCID[string(cid)]
	}
	if ss == nil {
		old, pend := s.byAddr[from], s.pending[from]
		switch {
		case pend != nil && (old == nil || isEpoch0Handshake(b)):
			// RFC 6347 §4.2.8: a ClientHello with epoch 0 on an
			// established association starts a new handshake, but the
			// old association stays until the new one completes.
			// Epoch-0 handshake records from that address go to the
			// new session meanwhile (and everything, once the old one
			// is gone).
			ss = pend
		case pend != nil:
			// Any other record (ChangeCipherSpec, Finished, alerts,
			// application data) may belong to either session: the
			// client may have finished the new handshake before this
			// server marked it established, or the old session may
			// still be in use. Both get it; the one without the keys
			// drops it after failing to authenticate it (RFC 6347
			// §4.1.2.7), so nothing is lost in the switch-over.
			s.st.shared.Add(1)
			s.push(pend, b, from)
			ss = old
		case old != nil && old.established && isEpoch0Handshake(b):
			if isClientHello(b) {
				s.mu.RUnlock()
				s.newSession(from, b, true)
				return
			}
			ss = nil
		default:
			ss = old
		}
	}
	if ss == nil {
		s.mu.RUnlock()
		if isClientHello(b) {
			s.newSession(from, b, false)
		} else {
			s.st.dropNoSession.Add(1)
		}
		return
	}
	// Push while holding the read lock: remove takes the write lock before
	// draining the queue, so nothing is left behind in it.
	s.push(ss, b, from)
	s.mu.RUnlock()
}

// isEpoch0Handshake reports whether b starts with an epoch-0 handshake
// record.
func isEpoch0Handshake(b []byte) bool {
	return len(b) >= recordHeaderLen && b[0] == contentHandshake && b[3] == 0 && b[4] == 0
}

// push copies b into the session's queue, or drops it if the queue is full.
func (s *Server) push(ss *session, b []byte, from netip.AddrPort) {
	buf := s.pool.Get(len(b))
	copy(buf.B, b)
	select {
	case ss.in <- inItem{buf, from}:
	default:
		s.pool.Put(buf)
		s.st.dropPeerQueue.Add(1)
	}
}

// newSession creates a session for a ClientHello from addr and starts its
// goroutine; replace marks a new handshake of a peer that has an established
// session.
func (s *Server) newSession(addr netip.AddrPort, hello []byte, replace bool) {
	cid, err := s.cfg.newCID()
	if err != nil {
		s.cfg.Logger.Warn("coap/dtls: new session", "peer", addr, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	// Another datagram may have created it meanwhile.
	if (!replace && s.byAddr[addr] != nil) || (replace && s.pending[addr] != nil) {
		return
	}
	var evicted *session
	if len(s.sessions) >= s.cfg.MaxSessions || len(s.handshakes) >= s.cfg.MaxHandshakes {
		// Like a SYN cache: give the slot of the oldest handshake whose
		// client has not yet returned a cookie to the newcomer. Spoofed
		// ClientHellos never get past the cookie, so they cannot hold
		// every slot for HandshakeTimeout; a real client does within a
		// round trip, and is never evicted after that.
		evicted = s.oldestUnverified()
		if evicted == nil {
			s.st.dropLimit.Add(1)
			return
		}
		s.forget(evicted)
		s.st.evicted.Add(1)
		defer func() { evicted.cancelHS(); evicted.closeConn() }()
	}
	if cid != nil && s.byCID[string(cid)] != nil {
		s.st.dropLimit.Add(1) // a CID collision: the client retransmits
		return
	}
	ss := &session{
		srv:    s,
		addr:   addr,
		cid:    cid,
		in:     make(chan inItem, s.cfg.PeerQueueLen),
		closed: make(chan struct{}),
		pend:   replace,
	}
	ss.touch()
	ss.born = s.births
	s.births++
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HandshakeTimeout)
	ss.cancelHS = cancel
	s.sessions[ss] = struct{}{}
	s.handshakes[ss] = struct{}{}
	if replace {
		s.pending[addr] = ss
	} else {
		s.byAddr[addr] = ss
	}
	if cid != nil {
		s.byCID[string(cid)] = ss
	}
	s.push(ss, hello, addr)
	s.wg.Add(1)
	go ss.run(ctx)
}

// established records the completed handshake of ss. It returns false if
// the session was removed meanwhile.
func (s *Server) established(ss *session, state piondtls.State) bool {
	s.mu.Lock()
	if _, ok := s.sessions[ss]; !ok || s.closed {
		s.mu.Unlock()
		return false
	}
	delete(s.handshakes, ss)
	ss.established = true
	ss.info = PeerInfo{
		Addr:        ss.addr,
		CipherSuite: CipherSuite(state.CipherSuiteID),
	}
	if len(state.IdentityHint) > 0 {
		ss.info.Identity = append([]byte(nil), state.IdentityHint...)
	}
	for _, c := range state.PeerCertificates {
		ss.info.Certificates = append(ss.info.Certificates, append([]byte(nil), c...))
	}
	var old *session
	if ss.pend {
		ss.pend = false
		if s.pending[ss.addr] == ss {
			delete(s.pending, ss.addr)
		}
		old = s.byAddr[ss.addr]
		s.byAddr[ss.addr] = ss
	}
	s.mu.Unlock()
	s.st.accepted.Add(1)
	if old != nil && old != ss {
		s.st.replaced.Add(1)
		old.shutdown()
	}
	return true
}

// migrate re-keys ss to addr after its peer moved (RFC 9146 §6: Pion
// updates the peer address on an authenticated CID record). The previous
// address stays an alias until the session ends, so that replies to
// datagrams tagged with it still find the session.
func (s *Server) migrate(ss *session, addr netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[ss]; !ok || ss.addr == addr {
		return
	}
	if ss.alias.IsValid() && s.byAddr[ss.alias] == ss {
		delete(s.byAddr, ss.alias)
	}
	ss.alias = ss.addr
	ss.addr = addr
	ss.info.Addr = addr
	s.byAddr[addr] = ss
}

// oldestUnverified returns the oldest handshaking session that has not
// sent a ServerHello yet, or nil. s.mu must be held.
func (s *Server) oldestUnverified() *session {
	var old *session
	for ss := range s.handshakes {
		if !ss.verified.Load() && (old == nil || ss.born < old.born) {
			old = ss
		}
	}
	return old
}

// forget removes ss from every table. s.mu must be held.
func (s *Server) forget(ss *session) {
	if _, ok := s.sessions[ss]; !ok {
		return
	}
	delete(s.sessions, ss)
	delete(s.handshakes, ss)
	for _, a := range [2]netip.AddrPort{ss.addr, ss.alias} {
		if a.IsValid() && s.byAddr[a] == ss {
			delete(s.byAddr, a)
		}
		if a.IsValid() && s.pending[a] == ss {
			delete(s.pending, a)
		}
	}
	if ss.cid != nil && s.byCID[string(ss.cid)] == ss {
		delete(s.byCID, string(ss.cid))
	}
}

// remove forgets ss and releases the datagrams left in its queue.
func (s *Server) remove(ss *session) {
	s.mu.Lock()
	s.forget(ss)
	s.mu.Unlock()
	// Nothing pushes to ss.in any more: pushes happen under s.mu.
	for {
		select {
		case it := <-ss.in:
			s.pool.Put(it.b)
		default:
			return
		}
	}
}

// expireLoop closes sessions idle for longer than IdleTimeout.
func (s *Server) expireLoop() {
	defer s.wg.Done()
	tick := s.cfg.IdleTimeout / 4
	tick = max(tick, 10*time.Millisecond)
	tick = min(tick, 30*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	var idle []*session
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			limit := now.Add(-s.cfg.IdleTimeout).UnixNano()
			idle = idle[:0]
			s.mu.RLock()
			for ss := range s.sessions {
				if ss.established && ss.last.Load() < limit {
					idle = append(idle, ss)
				}
			}
			s.mu.RUnlock()
			for _, ss := range idle {
				s.st.expired.Add(1)
				s.cfg.Logger.Debug("coap/dtls: session idle, closing", "peer", ss.info.Addr)
				ss.shutdown()
			}
			clear(idle)
		}
	}
}

// send writes one DTLS datagram to addr.
func (s *Server) send(b []byte, addr netip.AddrPort) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.wms[0] = uring.Msg{Buf: b, Addr: addr}
	_, err := s.under.WriteBatch(s.wms[:])
	n := s.wms[0].N
	s.wms[0] = uring.Msg{}
	return n, err
}

// ReadBatch blocks until a decrypted datagram is available, then fills as
// many of ms as are queued. Each Msg gets the datagram (cut, with
// [uring.FlagTrunc], if Buf is too short) and its peer's address. It returns
// net.ErrClosed after Close and os.ErrDeadlineExceeded once the read
// deadline has passed.
func (s *Server) ReadBatch(ms []uring.Msg) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	var it rxItem
	select {
	case it = <-s.rxq:
	case <-s.done:
		return 0, net.ErrClosed
	case <-s.rdl.wait():
		return 0, os.ErrDeadlineExceeded
	}
	n := 0
	for {
		s.deliver(&ms[n], it)
		n++
		if n == len(ms) {
			return n, nil
		}
		select {
		case it = <-s.rxq:
		default:
			return n, nil
		}
	}
}

func (s *Server) deliver(m *uring.Msg, it rxItem) {
	m.N = copy(m.Buf, it.b.B)
	m.Flags = 0
	if m.N < len(it.b.B) {
		m.Flags = uring.FlagTrunc
	}
	m.Addr = it.addr
	s.pool.Put(it.b)
	s.st.rx.Add(1)
}

// WriteBatch encrypts each datagram for the established session with its
// Addr and sends it. A datagram for an address without an established
// session, or one the session fails to send, is dropped as UDP would drop
// it: its N stays 0, it is counted in [Stats], and the batch goes on. The
// error is net.ErrClosed after Close, with ms[n] the first unsent datagram.
func (s *Server) WriteBatch(ms []uring.Msg) (int, error) {
	for i := range ms {
		m := &ms[i]
		m.N = 0
		if s.isClosed() {
			return i, net.ErrClosed
		}
		s.mu.RLock()
		ss := s.byAddr[norm(m.Addr)]
		ok := ss != nil && ss.established
		s.mu.RUnlock()
		var c *piondtls.Conn
		if ok {
			c = ss.conn.Load()
		}
		if c == nil {
			s.st.dropNoSession.Add(1)
			continue
		}
		if _, err := c.Write(m.Buf); err != nil {
			s.st.dropWrite.Add(1)
			s.cfg.Logger.Debug("coap/dtls: write", "peer", m.Addr, "err", err)
			continue
		}
		m.N = len(m.Buf)
		ss.touch()
		s.st.tx.Add(1)
	}
	return len(ms), nil
}

// LocalAddr returns the address of the underlying socket.
func (s *Server) LocalAddr() net.Addr { return s.under.LocalAddr() }

// SetReadDeadline sets the deadline for ReadBatch; the zero time means none.
// It affects a ReadBatch already blocked.
func (s *Server) SetReadDeadline(t time.Time) error {
	s.rdl.set(t)
	return nil
}

// Close sends close_notify to every established peer, closes every session
// and the socket, and waits for all goroutines to end.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		all := make([]*session, 0, len(s.sessions))
		for ss := range s.sessions {
			all = append(all, ss)
		}
		s.mu.Unlock()
		close(s.done)
		for _, ss := range all {
			ss.shutdown()
		}
		s.closeErr = s.under.Close()
		s.wg.Wait()
		for {
			select {
			case it := <-s.rxq:
				s.pool.Put(it.b)
				continue
			default:
			}
			break
		}
		s.rdl.stop()
	})
	return s.closeErr
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.RLock()
	hs := len(s.handshakes)
	est := len(s.sessions) - hs
	s.mu.RUnlock()
	return Stats{
		Sessions:          est,
		Handshaking:       hs,
		Accepted:          s.st.accepted.Load(),
		HandshakeFailures: s.st.handshakeFailures.Load(),
		Expired:           s.st.expired.Load(),
		Replaced:          s.st.replaced.Load(),
		Evicted:           s.st.evicted.Load(),
		RehandshakeShared: s.st.shared.Load(),
		RxDatagrams:       s.st.rx.Load(),
		TxDatagrams:       s.st.tx.Load(),
		DroppedPeerQueue:  s.st.dropPeerQueue.Load(),
		DroppedNoSession:  s.st.dropNoSession.Load(),
		DroppedLimit:      s.st.dropLimit.Load(),
		DroppedOversize:   s.st.dropOversize.Load(),
		WriteErrors:       s.st.dropWrite.Load(),
	}
}

// PeerInfo describes the established session of one peer.
type PeerInfo struct {
	// Addr is the peer's current address.
	Addr netip.AddrPort
	// Identity is the PSK identity the peer sent (nil with certificates).
	Identity []byte
	// Certificates is the peer's certificate chain, DER encoded, leaf
	// first (nil with PSK or when no client certificate was asked for).
	Certificates [][]byte
	// CipherSuite is the negotiated suite.
	CipherSuite CipherSuite
}

// Peer returns what the server knows of the established session with the
// peer at addr, for authorisation decisions (which identity sent this
// request?). The returned slices must not be modified.
func (s *Server) Peer(addr netip.AddrPort) (PeerInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ss := s.byAddr[norm(addr)]
	if ss == nil || !ss.established {
		return PeerInfo{}, false
	}
	return ss.info, true
}
