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
)

// session is one peer of a Server. It is also the net.PacketConn its Pion
// connection reads and writes: reads come from the queue the server's
// socket reader fills, writes go to the server's socket.
type session struct {
	srv      *Server
	cid      []byte
	in       chan inItem
	closed   chan struct{}
	closeMu  sync.Once
	rdl      deadline
	cancelHS context.CancelFunc
	conn     atomic.Pointer[piondtls.Conn]
	last     atomic.Int64 // UnixNano of the last datagram received or sent
	verified atomic.Bool  // the session sent a ServerHello: its client returned the cookie
	born     uint64       // creation order, for eviction; set under srv.mu before run

	// Guarded by srv.mu; addr is written only by the session's goroutine.
	addr        netip.AddrPort
	alias       netip.AddrPort
	established bool
	pend        bool // a new handshake of a peer with an established session
	info        PeerInfo

	// Used only by Pion's reader (Pion serialises reads).
	fromAP  netip.AddrPort
	fromUDP *net.UDPAddr
	// Used only by the session's goroutine.
	remote net.Addr
}

func (ss *session) touch() { ss.last.Store(time.Now().UnixNano()) }

// run handshakes and then moves decrypted datagrams to the server's read
// queue until the session ends.
func (ss *session) run(ctx context.Context) {
	s := ss.srv
	defer s.wg.Done()
	defer ss.cancelHS()
	defer s.remove(ss)
	defer ss.closeConn()

	conn, err := piondtls.ServerWithOptions(ss, net.UDPAddrFromAddrPort(ss.addr), s.cfg.serverOptions(ss.cid)...)
	if err != nil {
		s.st.handshakeFailures.Add(1)
		s.cfg.Logger.Warn("coap/dtls: new session", "peer", ss.addr, "err", err)
		return
	}
	ss.conn.Store(conn)
	defer conn.Close()
	if s.isClosed() {
		return
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		s.st.handshakeFailures.Add(1)
		s.cfg.Logger.Debug("coap/dtls: handshake failed", "peer", ss.addr, "err", err)
		return
	}
	ss.cancelHS()
	if h := s.beforeEstablished.Load(); h != nil {
		(*h)(ss.pend) // tests widen the window before the server switches sessions
	}
	state, ok := conn.ConnectionState()
	if !ok || !s.established(ss, state) {
		return
	}
	s.cfg.Logger.Debug("coap/dtls: session established", "peer", ss.addr,
		"suite", CipherSuite(state.CipherSuiteID).String())
	ss.remote = conn.RemoteAddr()
	ss.readLoop(conn)
}

func (ss *session) readLoop(conn *piondtls.Conn) {
	s := ss.srv
	for {
		b := s.pool.Get(s.cfg.MaxDatagramSize)
		n, err := conn.Read(b.B)
		if err != nil {
			s.pool.Put(b)
			var te *piondtls.TemporaryError
			if errors.As(err, &te) {
				s.st.dropOversize.Add(1) // the one Temporary error Read returns: buffer too small
				continue
			}
			return
		}
		b.B = b.B[:n]
		ss.touch()
		if ra := conn.RemoteAddr(); ra != ss.remote {
			ss.remote = ra
			if ua, ok := ra.(*net.UDPAddr); ok {
				s.migrate(ss, norm(ua.AddrPort()))
			}
		}
		select {
		case s.rxq <- rxItem{b, ss.addr}:
		case <-s.done:
			s.pool.Put(b)
			return
		case <-ss.closed:
			s.pool.Put(b)
			return
		}
	}
}

// shutdown ends the session from outside its goroutine.
func (ss *session) shutdown() {
	ss.cancelHS()
	if c := ss.conn.Load(); c != nil {
		_ = c.Close() // sends close_notify when established
	}
	ss.closeConn()
}

func (ss *session) closeConn() {
	ss.closeMu.Do(func() {
		close(ss.closed)
		ss.rdl.stop()
	})
}

// ReadFrom implements net.PacketConn for Pion.
func (ss *session) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case it := <-ss.in:
		n := copy(b, it.b.B)
		from := it.from
		ss.srv.pool.Put(it.b)
		ss.touch()
		if ss.fromUDP == nil || from != ss.fromAP {
			ss.fromAP, ss.fromUDP = from, net.UDPAddrFromAddrPort(from)
		}
		return n, ss.fromUDP, nil
	case <-ss.closed:
		return 0, nil, net.ErrClosed
	case <-ss.rdl.wait():
		return 0, nil, os.ErrDeadlineExceeded
	}
}

// WriteTo implements net.PacketConn for Pion. It keeps working after
// Close, so that the close_notify Pion sends while closing goes out even
// when the session's goroutine has already let go of the session.
func (ss *session) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("coap/dtls: not a UDP address")
	}
	if !ss.verified.Load() && isServerHello(b) {
		ss.verified.Store(true)
	}
	return ss.srv.send(b, ua.AddrPort())
}

// Close implements net.PacketConn for Pion; Pion calls it from Conn.Close.
func (ss *session) Close() error {
	ss.closeConn()
	return nil
}

func (ss *session) LocalAddr() net.Addr { return ss.srv.under.LocalAddr() }

func (ss *session) SetDeadline(t time.Time) error { ss.rdl.set(t); return nil }

func (ss *session) SetReadDeadline(t time.Time) error { ss.rdl.set(t); return nil }

func (ss *session) SetWriteDeadline(time.Time) error { return nil }
