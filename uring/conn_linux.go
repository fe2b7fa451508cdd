//go:build linux

package uring

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/edgekit/edgekit/internal/sys"
)

// mmsgConn moves batches with recvmmsg/sendmmsg. It waits for readiness in
// the Go netpoller through syscall.RawConn (a callback that returns false on
// EAGAIN parks the goroutine, not a thread) and calls the raw system calls
// on the non-blocking socket. Scratch headers are preallocated: nothing is
// allocated per batch.
type mmsgConn struct {
	uc     *net.UDPConn
	rc     syscall.RawConn
	family int
	readStop

	// read side, owned by the (serialized) reader
	rh     []sys.Mmsghdr
	riov   []sys.Iovec
	rname  []sys.Sockaddr
	rk, rn int
	rerr   error
	readFn func(fd uintptr) bool

	// write side, owned by the (serialized) writer
	wh      []sys.Mmsghdr
	wiov    []sys.Iovec
	wname   []sys.Sockaddr
	wk, wn  int
	werr    error
	writeFn func(fd uintptr) bool

	closed atomic.Bool
}

func newMmsgConn(uc *net.UDPConn, cfg *Config) (backend, error) {
	c, err := newMmsg(uc, cfg.BatchSize)
	if err != nil {
		return nil, err
	}
	// Probe: a non-blocking peek of one datagram. EAGAIN (or data) proves
	// recvmmsg is allowed; ENOSYS/EPERM come from a seccomp filter.
	c.rk = 1
	c.rh[0].Hdr.Namelen = sys.SockaddrLen
	var perr error
	if err := c.rc.Control(func(fd uintptr) {
		_, perr = sys.Recvmmsg(int(fd), c.rh[:1], syscall.MSG_DONTWAIT|syscall.MSG_PEEK)
	}); err != nil {
		return nil, err
	}
	if perr != nil && perr != syscall.EAGAIN {
		return nil, fmt.Errorf("uring: recvmmsg: %w", perr)
	}
	return c, nil
}

func newMmsg(uc *net.UDPConn, batch int) (*mmsgConn, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &mmsgConn{uc: uc, rc: rc}
	var ferr error
	if err := rc.Control(func(fd uintptr) { c.family, ferr = sys.MmsgSockFamily(int(fd)) }); err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, fmt.Errorf("uring: getsockname: %w", ferr)
	}
	c.rh, c.riov, c.rname = make([]sys.Mmsghdr, batch), make([]sys.Iovec, batch), make([]sys.Sockaddr, batch)
	c.wh, c.wiov, c.wname = make([]sys.Mmsghdr, batch), make([]sys.Iovec, batch), make([]sys.Sockaddr, batch)
	for i := range c.rh {
		c.rh[i].Hdr.Name, c.rh[i].Hdr.Iov = &c.rname[i][0], &c.riov[i]
		c.rh[i].Hdr.SetIovlen(1)
		c.wh[i].Hdr.Name, c.wh[i].Hdr.Iov = &c.wname[i][0], &c.wiov[i]
		c.wh[i].Hdr.SetIovlen(1)
	}
	c.readFn, c.writeFn = c.doRead, c.doWrite
	return c, nil
}

func setIov(iov *sys.Iovec, b []byte) {
	iov.Base = nil
	if len(b) > 0 {
		iov.Base = &b[0]
	}
	iov.SetLen(len(b))
}

func (c *mmsgConn) ReadBatch(ms []Msg) (int, error) {
	k := min(len(ms), len(c.rh))
	if k == 0 {
		return 0, nil
	}
	if c.stopping.Load() {
		return 0, errStopped
	}
	for i := 0; i < k; i++ {
		setIov(&c.riov[i], ms[i].Buf)
		h := &c.rh[i]
		h.Hdr.Namelen, h.Hdr.Flags, h.Len = sys.SockaddrLen, 0, 0
	}
	c.rk, c.rn, c.rerr = k, 0, nil
	if err := c.rc.Read(c.readFn); err != nil {
		return 0, c.err(err)
	}
	if c.rerr != nil {
		return 0, &net.OpError{Op: "read", Net: "udp", Addr: c.uc.LocalAddr(), Err: os.NewSyscallError("recvmmsg", c.rerr)}
	}
	n := c.rn
	for i := 0; i < n; i++ {
		h, m := &c.rh[i], &ms[i]
		m.N, m.Flags = int(h.Len), 0
		if h.Hdr.Flags&sys.MsgTrunc != 0 {
			m.Flags = FlagTrunc
		}
		m.Addr = sys.MmsgParseAddr(&c.rname[i], h.Hdr.Namelen)
	}
	return n, nil
}

func (c *mmsgConn) doRead(fd uintptr) bool {
	for {
		n, err := sys.Recvmmsg(int(fd), c.rh[:c.rk], 0)
		switch err {
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
			continue
		}
		c.rn, c.rerr = n, err
		return true
	}
}

// errAddr is returned by WriteBatch for a destination the socket cannot
// reach (invalid, or IPv6 on an IPv4 socket).
var errAddr = errors.New("uring: destination address not reachable from this socket's family")

func (c *mmsgConn) WriteBatch(ms []Msg) (int, error) {
	done := 0
	for done < len(ms) {
		k := min(len(ms)-done, len(c.wh))
		for i := 0; i < k; i++ {
			m, h := &ms[done+i], &c.wh[i]
			nl := sys.MmsgPutAddr(&c.wname[i], m.Addr, c.family)
			if nl == 0 {
				if i == 0 {
					m.N = 0
					return done, &net.OpError{Op: "write", Net: "udp", Addr: c.uc.LocalAddr(), Err: errAddr}
				}
				k = i
				break
			}
			setIov(&c.wiov[i], m.Buf)
			h.Hdr.Namelen, h.Len = nl, 0
		}
		c.wk, c.wn, c.werr = k, 0, nil
		if err := c.rc.Write(c.writeFn); err != nil {
			return done, err
		}
		if c.werr != nil {
			ms[done].N = 0
			return done, &net.OpError{Op: "write", Net: "udp", Addr: c.uc.LocalAddr(), Err: os.NewSyscallError("sendmmsg", c.werr)}
		}
		for i := 0; i < c.wn; i++ {
			ms[done+i].N = int(c.wh[i].Len)
		}
		done += c.wn
	}
	return done, nil
}

func (c *mmsgConn) doWrite(fd uintptr) bool {
	for {
		n, err := sys.Sendmmsg(int(fd), c.wh[:c.wk], 0)
		switch err {
		case syscall.EAGAIN:
			return false
		case syscall.EINTR:
			continue
		}
		c.wn, c.werr = n, err
		return true
	}
}

func (c *mmsgConn) setReadDeadline(t time.Time) error {
	return c.setDeadline(t, c.uc.SetReadDeadline)
}
func (c *mmsgConn) stopReading() error { return c.stop(c.uc.SetReadDeadline) }
func (c *mmsgConn) shutdown() error    { return c.uc.Close() }
func (c *mmsgConn) release() error     { return nil }
func (c *mmsgConn) rearms() uint64     { return 0 }

// User data of the io_uring backend's submissions.
const (
	udRecv   = 1
	udCancel = 2
)

// uringConn receives with one multishot recvmsg over a provided buffer
// ring: while datagrams flow, ReadBatch only reads the completion queue in
// user space (no system call per batch). When the CQ is empty it parks in
// the netpoller on the ring's eventfd. Writes go through sendmmsg (one
// system call per batch, waiting in the netpoller), shared with mmsgConn.
type uringConn struct {
	*mmsgConn // write side, socket family, RawConn
	ring      *Ring
	br        *BufRing
	armed     bool
	armErr    error
	armFn     func(fd uintptr)
	pending   error // a receive error to report once delivered datagrams are consumed
	nArms     atomic.Uint64

	// StopReading: stop asks the reader to cancel the receive (wake gets
	// it out of its wait once); cancelled says it did.
	stop, wake atomic.Bool
	cancelled  bool
}

func newURingConn(uc *net.UDPConn, cfg *Config) (backend, error) {
	mc, err := newMmsg(uc, cfg.BatchSize)
	if err != nil {
		return nil, err
	}
	ring, err := NewRing(RingConfig{Entries: 8, CQEntries: max(2*cfg.RingBuffers, 16)})
	if err != nil {
		return nil, err
	}
	if !ring.Supports(OpRecvMsg) {
		_ = ring.Close()
		return nil, fmt.Errorf("uring: kernel lacks IORING_OP_RECVMSG")
	}
	// Buffers start 64-byte aligned; the kernel gets exactly room for the
	// header, the name and BufferSize bytes of payload.
	blen := recvPayloadOff + cfg.BufferSize
	br, err := ring.registerBufRing(BufRingConfig{Entries: cfg.RingBuffers, Size: (blen + 63) &^ 63}, blen)
	if err != nil {
		_ = ring.Close()
		return nil, err
	}
	u := &uringConn{mmsgConn: mc, ring: ring, br: br}
	u.armFn = u.arm
	if err := u.rearm(); err != nil {
		_ = ring.Close()
		return nil, err
	}
	// An old kernel rejects the multishot flag when it consumes the SQE,
	// so the failure is already in the CQ.
	if c := ring.cqes[*ring.cqHead&ring.cqMask]; ring.cqReady() > 0 && c.UserData == udRecv && c.Res < 0 && c.Flags&sys.UringCQEFMore == 0 {
		_ = ring.Close()
		return nil, fmt.Errorf("uring: multishot recvmsg: %w", syscall.Errno(-c.Res))
	}
	return u, nil
}

// rearm submits the multishot receive; RawConn.Control keeps the socket
// descriptor from being closed (and its number reused) meanwhile.
func (u *uringConn) rearm() error {
	u.armErr = nil
	if err := u.rc.Control(u.armFn); err != nil {
		return err
	}
	return u.armErr
}

func (u *uringConn) arm(fd uintptr) {
	if err := u.ring.PrepRecvMsgMultishot(int(fd), u.br, udRecv); err != nil {
		u.armErr = err
		return
	}
	if _, err := u.ring.Submit(); err != nil {
		u.armErr = err
		return
	}
	u.armed = true
	u.nArms.Add(1)
}

// rearms excludes the first arming, done by NewConn.
func (u *uringConn) rearms() uint64 { return max(u.nArms.Load(), 1) - 1 }

func (u *uringConn) ReadBatch(ms []Msg) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	for {
		if u.closed.Load() {
			return 0, errClosed("read", u.uc)
		}
		if n := u.reap(ms); n > 0 {
			return n, nil
		}
		if err := u.pending; err != nil {
			u.pending = nil
			return 0, &net.OpError{Op: "read", Net: "udp", Addr: u.uc.LocalAddr(), Err: os.NewSyscallError("recvmsg", err)}
		}
		if u.stop.Load() {
			// Every completion of the receive has been reaped once it is
			// no longer armed (its last one lacks IORING_CQE_F_MORE).
			if !u.armed {
				return 0, errStopped
			}
			if !u.cancelled {
				if err := u.ring.PrepCancel(udRecv, udCancel); err != nil {
					return 0, &net.OpError{Op: "read", Net: "udp", Addr: u.uc.LocalAddr(), Err: err}
				}
				if _, err := u.ring.Submit(); err != nil {
					return 0, &net.OpError{Op: "read", Net: "udp", Addr: u.uc.LocalAddr(), Err: err}
				}
				u.cancelled = true
			}
		} else if !u.armed {
			if err := u.rearm(); err != nil {
				if u.closed.Load() {
					return 0, errClosed("read", u.uc)
				}
				return 0, &net.OpError{Op: "read", Net: "udp", Addr: u.uc.LocalAddr(), Err: err}
			}
			continue
		}
		if err := u.ring.waitCQ(&u.wake); err != nil {
			if u.closed.Load() || errors.Is(err, os.ErrClosed) {
				return 0, errClosed("read", u.uc)
			}
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return 0, &net.OpError{Op: "read", Net: "udp", Addr: u.uc.LocalAddr(), Err: err}
		}
	}
}

// reap copies up to len(ms) received datagrams out of the CQ, recycles
// their buffers and re-arms the receive if it ended.
func (u *uringConn) reap(ms []Msg) int {
	r := u.ring
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	if head == tail && r.flushOverflow() {
		tail = atomic.LoadUint32(r.cqTail)
	}
	n, recycled := 0, false
	for head != tail && n < len(ms) {
		c := &r.cqes[head&r.cqMask]
		head++
		r.done(c.Flags)
		if c.UserData != udRecv {
			continue
		}
		if c.Flags&sys.UringCQEFMore == 0 {
			u.armed = false
		}
		if c.Flags&sys.UringCQEFBuffer != 0 {
			bid := uint16(c.Flags >> sys.UringCQEBufferShift)
			if c.Res >= recvPayloadOff {
				u.deliver(&ms[n], u.br.Buf(bid)[:c.Res])
				n++
			}
			u.br.Recycle(bid)
			recycled = true
		}
		if c.Res < 0 {
			switch e := syscall.Errno(-c.Res); e {
			case syscall.ENOBUFS, syscall.ECANCELED, syscall.EINTR, syscall.EAGAIN:
				// out of buffers (recycled now) or interrupted: re-arm
			default:
				u.pending = e
			}
		}
	}
	atomic.StoreUint32(r.cqHead, head)
	if recycled {
		u.br.Publish()
	}
	if !u.armed && n > 0 && !u.closed.Load() && !u.stop.Load() {
		// Re-arm now so the kernel refills the ring while the caller
		// processes this batch; a failure is retried by the next ReadBatch.
		_ = u.rearm()
	}
	return n
}

// deliver copies one multishot buffer (header, name, payload) into m.
func (u *uringConn) deliver(m *Msg, b []byte) {
	h := (*sys.UringRecvmsgOut)(unsafe.Pointer(&b[0]))
	k := copy(m.Buf, b[recvPayloadOff:])
	m.N, m.Flags = k, 0
	if h.Flags&sys.MsgTrunc != 0 || int(h.Payloadlen) > k {
		m.Flags = FlagTrunc
	}
	m.Addr = sys.MmsgParseAddr((*sys.Sockaddr)(b[recvOutLen:recvPayloadOff]), h.Namelen)
}

func (u *uringConn) setReadDeadline(t time.Time) error {
	if u.stop.Load() {
		return nil
	}
	return u.ring.efd.SetReadDeadline(t)
}

// stopReading has the reader cancel the multishot receive: it owns the
// submission queue. The write to the ring's eventfd wakes a reader parked
// on it; one that is not parked sees the flag before it parks.
func (u *uringConn) stopReading() error {
	u.stop.Store(true)
	u.wake.Store(true)
	var one [8]byte
	one[0] = 1 // eventfd adds a native-endian uint64: any non-zero value wakes
	_, err := u.ring.efd.Write(one[:])
	return err
}

func (u *uringConn) shutdown() error {
	u.closed.Store(true)
	// Closing the eventfd wakes a reader parked in the netpoller; closing
	// the socket wakes a writer. The ring keeps its own reference to the
	// socket until release cancels the receive.
	_ = u.ring.efd.Close()
	return u.uc.Close()
}

func (u *uringConn) release() error { return u.ring.Close() }
