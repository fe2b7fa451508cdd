package uring

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"
)

// WrapPacketConn adapts pc to BatchConn, one datagram per system call: the
// portable fallback behind every batched backend. A *net.UDPConn is read and
// written through its AddrPort methods, which allocate nothing; any other
// net.PacketConn goes through ReadFrom/WriteTo and needs *net.UDPAddr
// addresses. Like [Conn], it reports an IPv4 peer of an IPv6 socket as an
// IPv4 address. It starts no goroutines; its concurrency is pc's.
func WrapPacketConn(pc net.PacketConn) BatchConn {
	if uc, ok := pc.(*net.UDPConn); ok {
		return &udpWrap{c: uc}
	}
	return &pcWrap{c: pc}
}

// unmap reports an IPv4 peer of an IPv6 socket as IPv4, as every backend
// does, so that addresses compare equal whichever backend read them.
func unmap(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}

// readStop is the StopReading of a conn whose reads are system calls
// bounded by the socket's read deadline: it sets the flag, then a deadline
// in the past, which wakes a blocked read without taking a datagram from
// the socket. A read that already has one returns it; every later read
// returns io.EOF.
type readStop struct{ stopping atomic.Bool }

var errStopped = io.EOF

func (s *readStop) stop(setDeadline func(time.Time) error) error {
	s.stopping.Store(true)
	return setDeadline(time.Unix(1, 0))
}

// err maps the error of a read that returned nothing.
func (s *readStop) err(err error) error {
	if s.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		return errStopped
	}
	return err
}

// setDeadline is SetReadDeadline, ignored once reading stopped (the past
// deadline stays).
func (s *readStop) setDeadline(t time.Time, set func(time.Time) error) error {
	if s.stopping.Load() {
		return nil
	}
	return set(t)
}

type udpWrap struct {
	c *net.UDPConn
	readStop
}

func (w *udpWrap) ReadBatch(ms []Msg) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	if w.stopping.Load() {
		return 0, errStopped
	}
	m := &ms[0]
	n, _, flags, addr, err := w.c.ReadMsgUDPAddrPort(m.Buf, nil)
	if err != nil {
		return 0, w.err(err)
	}
	m.N, m.Addr, m.Flags = n, unmap(addr), 0
	if flags&msgTrunc != 0 {
		m.Flags |= FlagTrunc
	}
	return 1, nil
}

func (w *udpWrap) WriteBatch(ms []Msg) (int, error) {
	for i := range ms {
		n, err := w.c.WriteToUDPAddrPort(ms[i].Buf, ms[i].Addr)
		ms[i].N = n
		if err != nil {
			return i, err
		}
	}
	return len(ms), nil
}

func (w *udpWrap) LocalAddr() net.Addr { return w.c.LocalAddr() }
func (w *udpWrap) SetReadDeadline(t time.Time) error {
	return w.setDeadline(t, w.c.SetReadDeadline)
}
func (w *udpWrap) Close() error { return w.c.Close() }

// StopReading implements [ReadStopper].
func (w *udpWrap) StopReading() error { return w.stop(w.c.SetReadDeadline) }

type pcWrap struct {
	c net.PacketConn
	readStop
}

// errAddrType is returned when a wrapped non-UDP PacketConn reports a source
// address that is not a *net.UDPAddr.
var errAddrType = errors.New("uring: wrapped PacketConn returned a non-UDP address")

func (w *pcWrap) ReadBatch(ms []Msg) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	if w.stopping.Load() {
		return 0, errStopped
	}
	m := &ms[0]
	n, a, err := w.c.ReadFrom(m.Buf)
	if err != nil {
		return 0, w.err(err)
	}
	ua, ok := a.(*net.UDPAddr)
	if !ok {
		return 0, errAddrType
	}
	m.N, m.Addr, m.Flags = n, unmap(ua.AddrPort()), 0
	return 1, nil
}

func (w *pcWrap) WriteBatch(ms []Msg) (int, error) {
	for i := range ms {
		n, err := w.c.WriteTo(ms[i].Buf, net.UDPAddrFromAddrPort(ms[i].Addr))
		ms[i].N = n
		if err != nil {
			return i, err
		}
	}
	return len(ms), nil
}

func (w *pcWrap) LocalAddr() net.Addr { return w.c.LocalAddr() }
func (w *pcWrap) SetReadDeadline(t time.Time) error {
	return w.setDeadline(t, w.c.SetReadDeadline)
}
func (w *pcWrap) Close() error { return w.c.Close() }

// StopReading implements [ReadStopper].
func (w *pcWrap) StopReading() error { return w.stop(w.c.SetReadDeadline) }
