package dtls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	piondtls "github.com/pion/dtls/v3"

	"github.com/edgekit/edgekit/uring"
)

// Client is one DTLS 1.2 session with a server, presented as a
// [uring.BatchConn] whose only peer is that server.
//
// [Client.ReadBatch] returns one decrypted datagram per call, tagged with
// the server's address; [Client.WriteBatch] encrypts and sends datagrams
// addressed to the server. One goroutine may read while others write.
// Pion runs two goroutines for the session; [Client.Close] stops them.
type Client struct {
	conn   *piondtls.Conn
	pc     *clientConn
	server netip.AddrPort

	rmu     sync.Mutex
	scratch []byte

	closeOnce sync.Once
	closeErr  error
	noSession atomic.Uint64
}

// Dial opens a UDP socket, runs the DTLS handshake with the server at
// address ("host:port"; network "udp", "udp4" or "udp6") and returns the
// session. ctx bounds the handshake (and so does Config.HandshakeTimeout).
// With certificates and no Config.ServerName, the host of address is the
// name the server's certificate must carry.
func Dial(ctx context.Context, network, address string, cfg Config) (*Client, error) {
	ua, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, fmt.Errorf("coap/dtls: dial %s: %w", address, err)
	}
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(address); err == nil {
			cfg.ServerName = host
		}
	}
	local := &net.UDPAddr{}
	if ua.IP.To4() != nil && network != "udp6" {
		network = "udp4"
	}
	pc, err := net.ListenUDP(network, local)
	if err != nil {
		return nil, fmt.Errorf("coap/dtls: dial %s: %w", address, err)
	}
	c, err := NewClient(ctx, uring.WrapPacketConn(pc), ua.AddrPort(), cfg)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	return c, nil
}

// NewClient runs the DTLS handshake with the server at server through under
// and returns the session. The Client owns under from then on (Close closes
// it); datagrams under receives from other addresses are dropped. ctx bounds
// the handshake.
func NewClient(ctx context.Context, under uring.BatchConn, server netip.AddrPort, cfg Config) (*Client, error) {
	r, err := cfg.resolve(true)
	if err != nil {
		return nil, err
	}
	cid, err := r.newCID()
	if err != nil {
		return nil, err
	}
	pc := &clientConn{under: under, server: server, serverUDP: net.UDPAddrFromAddrPort(server)}
	conn, err := piondtls.ClientWithOptions(pc, pc.serverUDP, r.clientOptions(cid)...)
	if err != nil {
		return nil, fmt.Errorf("coap/dtls: client: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, r.HandshakeTimeout)
	defer cancel()
	if err := conn.HandshakeContext(hctx); err != nil {
		_ = conn.Close()
		_ = pc.Close()
		return nil, fmt.Errorf("coap/dtls: handshake with %s: %w", server, err)
	}
	return &Client{
		conn:    conn,
		pc:      pc,
		server:  norm(server),
		scratch: make([]byte, maxRecord),
	}, nil
}

// RemoteAddr returns the server's address.
func (c *Client) RemoteAddr() netip.AddrPort { return c.server }

// CipherSuite returns the negotiated cipher suite.
func (c *Client) CipherSuite() CipherSuite {
	st, ok := c.conn.ConnectionState()
	if !ok {
		return 0
	}
	return CipherSuite(st.CipherSuiteID)
}

// errSessionOver is returned once the server ended the session.
var errSessionOver = fmt.Errorf("coap/dtls: session closed by the server: %w", net.ErrClosed)

// ReadBatch blocks until the server sends a datagram and returns it in
// ms[0] (cut, with [uring.FlagTrunc], if Buf is too short), tagged with the
// server's address. It returns os.ErrDeadlineExceeded once the read deadline
// has passed, and an error matching net.ErrClosed once the session is over,
// whether by Close or by the server's close_notify or fatal alert.
func (c *Client) ReadBatch(ms []uring.Msg) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		n, err := c.conn.Read(c.scratch)
		if err != nil {
			var te *piondtls.TemporaryError
			if errors.As(err, &te) {
				continue
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return 0, os.ErrDeadlineExceeded
			}
			if errors.Is(err, piondtls.ErrConnClosed) {
				return 0, net.ErrClosed
			}
			if errors.Is(err, io.EOF) {
				return 0, errSessionOver
			}
			return 0, fmt.Errorf("coap/dtls: session failed: %w: %w", net.ErrClosed, err)
		}
		m := &ms[0]
		m.N = copy(m.Buf, c.scratch[:n])
		m.Flags = 0
		if m.N < n {
			m.Flags = uring.FlagTrunc
		}
		m.Addr = c.server
		return 1, nil
	}
}

// WriteBatch encrypts and sends each datagram to the server. A datagram
// addressed elsewhere fails with [ErrNoSession]; ms[n] is the one that
// failed.
func (c *Client) WriteBatch(ms []uring.Msg) (int, error) {
	for i := range ms {
		m := &ms[i]
		m.N = 0
		if norm(m.Addr) != c.server {
			c.noSession.Add(1)
			return i, fmt.Errorf("%w: %s", ErrNoSession, m.Addr)
		}
		if _, err := c.conn.Write(m.Buf); err != nil {
			if errors.Is(err, piondtls.ErrConnClosed) {
				return i, net.ErrClosed
			}
			return i, err
		}
		m.N = len(m.Buf)
	}
	return len(ms), nil
}

// LocalAddr returns the address of the underlying socket.
func (c *Client) LocalAddr() net.Addr { return c.pc.under.LocalAddr() }

// SetReadDeadline sets the deadline for ReadBatch; the zero time means none.
func (c *Client) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// Close sends close_notify, ends the session and closes the socket.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.conn.Close()
		if err := c.pc.Close(); c.closeErr == nil {
			c.closeErr = err
		}
	})
	return c.closeErr
}

// clientConn adapts a BatchConn to the net.PacketConn Pion reads and writes,
// keeping only the datagrams from the server.
type clientConn struct {
	under     uring.BatchConn
	server    netip.AddrPort
	serverUDP *net.UDPAddr
	rms, wms  [1]uring.Msg
	wmu       sync.Mutex
	closeOnce sync.Once
	closeErr  error
}

func (p *clientConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		p.rms[0] = uring.Msg{Buf: b}
		n, err := p.under.ReadBatch(p.rms[:])
		if err != nil {
			return 0, nil, err
		}
		if n == 1 && p.rms[0].Flags&uring.FlagTrunc == 0 && norm(p.rms[0].Addr) == norm(p.server) {
			return p.rms[0].N, p.serverUDP, nil
		}
	}
}

func (p *clientConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.wms[0] = uring.Msg{Buf: b, Addr: p.server}
	_, err := p.under.WriteBatch(p.wms[:])
	n := p.wms[0].N
	p.wms[0] = uring.Msg{}
	return n, err
}

func (p *clientConn) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.under.Close() })
	return p.closeErr
}

func (p *clientConn) LocalAddr() net.Addr                { return p.under.LocalAddr() }
func (p *clientConn) SetDeadline(t time.Time) error      { return p.under.SetReadDeadline(t) }
func (p *clientConn) SetReadDeadline(t time.Time) error  { return p.under.SetReadDeadline(t) }
func (p *clientConn) SetWriteDeadline(t time.Time) error { return nil }
