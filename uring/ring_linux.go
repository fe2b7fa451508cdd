//go:build linux

package uring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/edgekit/edgekit/internal/sys"
)

// Ring is an io_uring instance: a submission queue (SQ) and a completion
// queue (CQ) shared with the kernel, plus an eventfd registered with the
// ring so that a goroutine can wait for completions through the Go
// netpoller ([Ring.Wait]) without a goroutine or OS thread per operation.
//
// A Ring is not safe for concurrent use: one goroutine prepares, submits and
// reaps. Buffers and headers passed to Prep methods are read or written by
// the kernel after the call returns: keep them reachable and untouched until
// their completion has been reaped.
type Ring struct {
	fd     int
	params sys.UringParams

	sqMem, cqMem, sqeMem []byte

	sqHead, sqTailP, sqFlags *uint32
	sqMask, sqEntries        uint32
	sqTail                   uint32 // local tail: prepared but maybe not yet published
	sqes                     []sys.UringSQE

	cqHead, cqTail, cqFlags *uint32
	cqMask                  uint32
	cqes                    []sys.UringCQE

	ts      []sys.UringTimespec // per-SQE timespecs for PrepTimeout
	drainTS sys.UringTimespec   // wait bound of Close
	pins    []unsafe.Pointer    // per-SQE: forces Prep arguments onto the heap

	probe    [4]uint64
	inflight int // submitted operations whose final completion has not been reaped

	efd   *os.File
	ebuf  [8]byte
	bufs  []*BufRing
	close bool
}

// NewRing creates a ring. It fails with an error wrapping the kernel's
// errno: syscall.ENOSYS (no io_uring, or seccomp), syscall.EPERM (seccomp,
// or the kernel.io_uring_disabled sysctl) or syscall.ENOMEM (locked-memory
// limits on old kernels); those also match errors.ErrUnsupported.
func NewRing(cfg RingConfig) (*Ring, error) {
	entries := cfg.Entries
	if entries == 0 {
		entries = defaultRingEntry
	}
	cq := cfg.CQEntries
	if cq == 0 {
		cq = 2 * entries
	}
	if entries < 1 || entries > MaxRingEntries || cq < entries || cq > MaxCQEntries {
		return nil, fmt.Errorf("%w: ring entries %d, cq entries %d", ErrBadConfig, cfg.Entries, cfg.CQEntries)
	}
	r := &Ring{fd: -1}
	// No COOP_TASKRUN: with it, the task work that completes a socket
	// operation waits until the thread that submitted it next enters the
	// kernel, and that Go M may sleep for long. No SINGLE_ISSUER or
	// DEFER_TASKRUN: goroutines move between threads, so submissions do too.
	r.params.Flags = sys.UringSetupCQSize | sys.UringSetupClamp
	r.params.CQEntries = uint32(cq)
	fd, err := sys.UringSetup(uint32(entries), &r.params)
	if err != nil {
		return nil, setupError("io_uring_setup", err)
	}
	r.fd = fd
	if err := r.mapRings(); err != nil {
		r.teardown()
		return nil, err
	}
	var probe sys.UringProbe
	if _, err := sys.UringRegister(fd, sys.UringRegisterProbe, unsafe.Pointer(&probe), uint32(len(probe.Ops))); err == nil {
		for i := 0; i < int(probe.OpsLen) && i < len(probe.Ops); i++ {
			if op := probe.Ops[i]; op.Flags&sys.UringProbeOpSupported != 0 {
				r.probe[op.Op/64] |= 1 << (op.Op % 64)
			}
		}
	}
	efd, err := sys.Eventfd(true)
	if err != nil {
		r.teardown()
		return nil, fmt.Errorf("uring: eventfd: %w", err)
	}
	e32 := int32(efd)
	if _, err := sys.UringRegister(fd, sys.UringRegisterEventfd, unsafe.Pointer(&e32), 1); err != nil {
		_ = sys.UringCloseFD(efd)
		r.teardown()
		return nil, setupError("register eventfd", err)
	}
	// A non-blocking fd given to os.NewFile is registered with the netpoller.
	r.efd = os.NewFile(uintptr(efd), "io_uring-eventfd")
	return r, nil
}

// setupError wraps a kernel refusal; ENOSYS and EPERM (what seccomp and the
// io_uring_disabled sysctl return) also match errors.ErrUnsupported.
func setupError(what string, err error) error {
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("uring: %s: %w (%w)", what, err, errors.ErrUnsupported)
	}
	return fmt.Errorf("uring: %s: %w", what, err)
}

func (r *Ring) mapRings() error {
	p := &r.params
	sqSize := int(p.SQOff.Array) + int(p.SQEntries)*4
	cqSize := int(p.CQOff.CQEs) + int(p.CQEntries)*sys.UringSizeofCQE
	var err error
	if p.Features&sys.UringFeatSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
		if r.sqMem, err = sys.UringMmap(r.fd, sys.UringOffSQRing, sqSize); err != nil {
			return fmt.Errorf("uring: mmap rings: %w", err)
		}
		r.cqMem = r.sqMem
	} else {
		if r.sqMem, err = sys.UringMmap(r.fd, sys.UringOffSQRing, sqSize); err != nil {
			return fmt.Errorf("uring: mmap sq ring: %w", err)
		}
		if r.cqMem, err = sys.UringMmap(r.fd, sys.UringOffCQRing, cqSize); err != nil {
			return fmt.Errorf("uring: mmap cq ring: %w", err)
		}
	}
	if r.sqeMem, err = sys.UringMmap(r.fd, sys.UringOffSQEs, int(p.SQEntries)*sys.UringSizeofSQE); err != nil {
		return fmt.Errorf("uring: mmap sqes: %w", err)
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTailP, r.sqFlags = u32(r.sqMem, p.SQOff.Head), u32(r.sqMem, p.SQOff.Tail), u32(r.sqMem, p.SQOff.Flags)
	r.sqMask, r.sqEntries = *u32(r.sqMem, p.SQOff.RingMask), *u32(r.sqMem, p.SQOff.RingEntries)
	r.sqTail = *r.sqTailP
	array := unsafe.Slice(u32(r.sqMem, p.SQOff.Array), r.sqEntries)
	for i := range array {
		array[i] = uint32(i) // SQ slot i always holds SQE i
	}
	r.sqes = unsafe.Slice((*sys.UringSQE)(unsafe.Pointer(&r.sqeMem[0])), r.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = u32(r.cqMem, p.CQOff.Head), u32(r.cqMem, p.CQOff.Tail), *u32(r.cqMem, p.CQOff.RingMask)
	if p.CQOff.Flags != 0 {
		r.cqFlags = u32(r.cqMem, p.CQOff.Flags)
	}
	r.cqes = unsafe.Slice((*sys.UringCQE)(unsafe.Pointer(&r.cqMem[p.CQOff.CQEs])), p.CQEntries)
	r.ts = make([]sys.UringTimespec, r.sqEntries)
	r.pins = make([]unsafe.Pointer, r.sqEntries)
	return nil
}

// Features reports the IORING_FEAT_* bits of the running kernel.
func (r *Ring) Features() Features { return Features(r.params.Features) }

// Supports reports whether the kernel implements op, from
// IORING_REGISTER_PROBE (kernel 5.6+; false for every op if probing failed).
func (r *Ring) Supports(op Op) bool { return r.probe[op/64]&(1<<(op%64)) != 0 }

// SQEntries and CQEntries report the queue sizes the kernel granted.
func (r *Ring) SQEntries() int { return int(r.sqEntries) }

// CQEntries reports the completion queue size the kernel granted.
func (r *Ring) CQEntries() int { return len(r.cqes) }

// nextSQE returns a zeroed SQE and its index, or ErrSQFull.
func (r *Ring) nextSQE(ptr unsafe.Pointer) (*sys.UringSQE, uint32, error) {
	if r.close {
		return nil, 0, ErrRingClosed
	}
	if r.sqTail-atomic.LoadUint32(r.sqHead) >= r.sqEntries {
		return nil, 0, ErrSQFull
	}
	idx := r.sqTail & r.sqMask
	sqe := &r.sqes[idx]
	*sqe = sys.UringSQE{}
	r.pins[idx] = ptr
	r.sqTail++
	return sqe, idx, nil
}

func addrOf(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

// PrepNop queues a no-op that completes with Res 0.
func (r *Ring) PrepNop(userData uint64) error {
	sqe, _, err := r.nextSQE(nil)
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.UserData = sys.UringOpNop, userData
	return nil
}

// PrepRead queues read(2)/pread(2) of fd into b at offset off (-1: the
// file position, as for pipes and sockets).
func (r *Ring) PrepRead(fd int, b []byte, off int64, userData uint64) error {
	return r.prepRW(sys.UringOpRead, fd, b, off, userData)
}

// PrepWrite queues write(2)/pwrite(2) of b to fd at offset off (-1: the
// file position).
func (r *Ring) PrepWrite(fd int, b []byte, off int64, userData uint64) error {
	return r.prepRW(sys.UringOpWrite, fd, b, off, userData)
}

func (r *Ring) prepRW(op uint8, fd int, b []byte, off int64, userData uint64) error {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	sqe, _, err := r.nextSQE(p)
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.Fd, sqe.Addr, sqe.Len, sqe.Off, sqe.UserData = op, int32(fd), addrOf(b), uint32(len(b)), uint64(off), userData
	return nil
}

// PrepRecvMsg queues recvmsg(2) on fd into h's buffer; on completion Res is
// the datagram length and h reports the source address and flags.
func (r *Ring) PrepRecvMsg(fd int, h *MsgHeader, userData uint64) error {
	sqe, _, err := r.nextSQE(unsafe.Pointer(h))
	if err != nil {
		return err
	}
	h.hdr.Name, h.hdr.Namelen, h.hdr.Flags = &h.name[0], sys.SockaddrLen, 0
	sqe.Opcode, sqe.Fd, sqe.Addr, sqe.Len, sqe.UserData = sys.UringOpRecvmsg, int32(fd), uint64(uintptr(unsafe.Pointer(&h.hdr))), 1, userData
	return nil
}

// PrepSendMsg queues sendmsg(2) on fd of h's buffer to h's address.
func (r *Ring) PrepSendMsg(fd int, h *MsgHeader, userData uint64) error {
	sqe, _, err := r.nextSQE(unsafe.Pointer(h))
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.Fd, sqe.Addr, sqe.Len, sqe.UserData = sys.UringOpSendmsg, int32(fd), uint64(uintptr(unsafe.Pointer(&h.hdr))), 1, userData
	return nil
}

// PrepRecvMsgMultishot queues a multishot recvmsg on fd (kernel 6.0+): one
// submission posts a completion per datagram, each in a buffer the kernel
// takes from g, until it fails, is cancelled, or g runs dry (Res = -ENOBUFS);
// the last completion lacks [CQE.More]. Decode each buffer with
// [RecvMsgOut.Decode] and give it back with [BufRing.Recycle].
func (r *Ring) PrepRecvMsgMultishot(fd int, g *BufRing, userData uint64) error {
	sqe, _, err := r.nextSQE(unsafe.Pointer(g))
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.Fd, sqe.Addr, sqe.Len, sqe.UserData = sys.UringOpRecvmsg, int32(fd), uint64(uintptr(unsafe.Pointer(&g.hdr))), 1, userData
	sqe.Flags, sqe.IOPrio, sqe.BufIndex = sys.UringSQEBufferSelect, sys.UringRecvMultishot, g.group
	return nil
}

// PrepTimeout queues a timeout that completes with Res = -ETIME after d, or
// with Res 0 once count other completions have been posted (count 0: only
// the time counts).
func (r *Ring) PrepTimeout(d time.Duration, count uint32, userData uint64) error {
	sqe, idx, err := r.nextSQE(nil)
	if err != nil {
		return err
	}
	// The kernel copies the timespec when it consumes the SQE, so a per-slot
	// copy owned by the ring is enough.
	r.ts[idx] = sys.UringTimespec{Sec: int64(d / time.Second), Nsec: int64(d % time.Second)}
	sqe.Opcode, sqe.Addr, sqe.Len, sqe.Off, sqe.UserData = sys.UringOpTimeout, uint64(uintptr(unsafe.Pointer(&r.ts[idx]))), 1, uint64(count), userData
	return nil
}

// PrepCancel queues cancellation of the operation submitted with
// target as user data. Its own completion has Res 0 (cancelled), -ENOENT
// (not found) or -EALREADY (running); the target completes with -ECANCELED.
func (r *Ring) PrepCancel(target, userData uint64) error {
	sqe, _, err := r.nextSQE(nil)
	if err != nil {
		return err
	}
	sqe.Opcode, sqe.Addr, sqe.UserData = sys.UringOpAsyncCancel, target, userData
	return nil
}

// Submit hands the prepared SQEs to the kernel and returns how many it
// consumed. Operations that can complete at once (data already queued)
// usually post their completion before Submit returns.
func (r *Ring) Submit() (int, error) { return r.enter(0, 0) }

// SubmitAndWait submits and blocks the calling OS thread (not the Go
// scheduler: the runtime hands its P to another thread) until at least n
// completions are ready. Prefer [Ring.Wait] in servers.
func (r *Ring) SubmitAndWait(n int) (int, error) {
	return r.enter(uint32(n), sys.UringEnterGetEvents)
}

func (r *Ring) enter(wait, flags uint32) (int, error) {
	if r.close {
		return 0, ErrRingClosed
	}
	atomic.StoreUint32(r.sqTailP, r.sqTail)
	for {
		pending := r.sqTail - atomic.LoadUint32(r.sqHead)
		if pending == 0 && flags == 0 {
			return 0, nil
		}
		n, err := sys.UringEnter(r.fd, pending, wait, flags)
		if n > 0 {
			r.inflight += n
		}
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("uring: io_uring_enter: %w", err)
		}
		return n, nil
	}
}

// cqReady reports how many completions wait in the CQ.
func (r *Ring) cqReady() uint32 {
	return atomic.LoadUint32(r.cqTail) - *r.cqHead
}

// flushOverflow asks the kernel to move completions it buffered while the
// CQ was full (FeatNoDrop) into the CQ.
func (r *Ring) flushOverflow() bool {
	if atomic.LoadUint32(r.sqFlags)&sys.UringSQCQOverflow == 0 {
		return false
	}
	_, _ = sys.UringEnter(r.fd, 0, 0, sys.UringEnterGetEvents)
	return true
}

// done accounts for a reaped completion.
func (r *Ring) done(flags uint32) {
	if flags&sys.UringCQEFMore == 0 {
		r.inflight--
	}
}

// PeekCQE removes and returns the oldest completion, if any.
func (r *Ring) PeekCQE() (CQE, bool) {
	var c [1]CQE
	return c[0], r.ReapCQEs(c[:]) == 1
}

// ReapCQEs moves up to len(dst) completions into dst and returns how many.
func (r *Ring) ReapCQEs(dst []CQE) int {
	if r.close {
		return 0
	}
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	if head == tail && r.flushOverflow() {
		tail = atomic.LoadUint32(r.cqTail)
	}
	n := 0
	for ; head != tail && n < len(dst); n++ {
		c := &r.cqes[head&r.cqMask]
		dst[n] = CQE{UserData: c.UserData, Res: c.Res, Flags: c.Flags}
		r.done(c.Flags)
		head++
	}
	atomic.StoreUint32(r.cqHead, head)
	return n
}

// Wait blocks until at least one completion is ready, ctx is done, or the
// ring is closed. It parks the goroutine in the netpoller on the ring's
// eventfd; no OS thread is held. A ctx with a Done channel costs a few
// allocations per call (context.AfterFunc); context.Background costs none.
func (r *Ring) Wait(ctx context.Context) error {
	if r.close {
		return ErrRingClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dl, hasDeadline := ctx.Deadline()
	if err := r.efd.SetReadDeadline(dl); err != nil {
		return err
	}
	if ctx.Done() != nil {
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			_ = r.efd.SetReadDeadline(time.Unix(1, 0))
			close(fired)
		})
		// If the callback started, let it finish, so that it cannot expire
		// a later Wait's deadline.
		defer func() {
			if !stop() {
				<-fired
			}
		}()
	}
	err := r.waitCQ(nil)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if hasDeadline && errors.Is(err, os.ErrDeadlineExceeded) {
			return context.DeadlineExceeded // the poller's timer beat the context's
		}
	}
	return err
}

// waitCQ parks on the eventfd until the CQ is not empty, or until wake
// (when not nil) was set and the eventfd written. The kernel signals the
// eventfd after posting each completion, so checking the CQ before each
// read cannot miss one.
func (r *Ring) waitCQ(wake *atomic.Bool) error {
	for r.cqReady() == 0 {
		if r.flushOverflow() {
			continue
		}
		if wake != nil && wake.Swap(false) {
			return nil
		}
		if _, err := r.efd.Read(r.ebuf[:]); err != nil {
			return err
		}
	}
	return nil
}

// RegisterBufRing registers a provided buffer ring with the kernel
// (IORING_REGISTER_PBUF_RING, kernel 5.19+), backed by memory mapped
// outside the Go heap, and fills it with all its buffers.
func (r *Ring) RegisterBufRing(cfg BufRingConfig) (*BufRing, error) {
	return r.registerBufRing(cfg, cfg.Size)
}

// registerBufRing lays buffers out every cfg.Size bytes but offers the
// kernel only blen <= cfg.Size of each.
func (r *Ring) registerBufRing(cfg BufRingConfig, blen int) (*BufRing, error) {
	if r.close {
		return nil, ErrRingClosed
	}
	n := cfg.Entries
	if n < 1 || n > MaxBufRingSize || n&(n-1) != 0 || cfg.Size < 1 || cfg.Size > MaxBufferSize ||
		int64(n)*int64(cfg.Size) > MaxBufRingMemory {
		return nil, fmt.Errorf("%w: buffer ring of %d x %d bytes", ErrBadConfig, cfg.Entries, cfg.Size)
	}
	b := &BufRing{group: cfg.Group, size: cfg.Size, blen: uint32(min(blen, cfg.Size)), mask: uint16(n - 1)}
	var err error
	if b.mem, err = sys.UringMmapAnon(n * sys.UringSizeofBuf); err != nil {
		return nil, fmt.Errorf("uring: buffer ring: %w", err)
	}
	if b.slab, err = sys.UringMmapAnon(n * cfg.Size); err != nil {
		_ = sys.UringMunmap(b.mem)
		return nil, fmt.Errorf("uring: buffers: %w", err)
	}
	reg := sys.UringBufReg{RingAddr: addrOf(b.mem), RingEntries: uint32(n), Bgid: cfg.Group}
	if _, err := sys.UringRegister(r.fd, sys.UringRegisterPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		b.unmap()
		return nil, setupError("register buffer ring", err)
	}
	b.ents = unsafe.Slice((*sys.UringBuf)(unsafe.Pointer(&b.mem[0])), n)
	b.base = uintptr(unsafe.Pointer(&b.slab[0]))
	b.tailWord = (*uint32)(unsafe.Pointer(&b.mem[12]))
	b.hdr.Name, b.hdr.Namelen = &b.name[0], sys.SockaddrLen
	for i := 0; i < n; i++ {
		b.Recycle(uint16(i))
	}
	b.Publish()
	r.bufs = append(r.bufs, b)
	return b, nil
}

// Close cancels every operation still in flight, waits (briefly) for their
// completions so the kernel no longer touches any buffer, then releases the
// ring, its eventfd and its buffer rings. Later calls fail with
// ErrRingClosed.
func (r *Ring) Close() error {
	if r.close {
		return nil
	}
	r.drain()
	r.close = true
	if r.efd != nil {
		_ = r.efd.Close()
	}
	return r.teardown()
}

// drain cancels all operations in flight and reaps until none is left, for
// at most about a second.
func (r *Ring) drain() {
	if r.inflight <= 0 {
		return
	}
	const udCancelAll = ^uint64(0)
	if sqe, _, err := r.nextSQE(nil); err == nil {
		sqe.Opcode, sqe.UserData, sqe.OpFlags = sys.UringOpAsyncCancel, udCancelAll, sys.UringAsyncCancelAny|sys.UringAsyncCancelAll
	}
	// The timespec is referenced by address from arg, so it lives in the
	// (heap) Ring, where a stack copy cannot move it.
	r.drainTS = sys.UringTimespec{Nsec: int64(10 * time.Millisecond)}
	arg := sys.UringGeteventsArg{Ts: uint64(uintptr(unsafe.Pointer(&r.drainTS)))}
	atomic.StoreUint32(r.sqTailP, r.sqTail)
	for i := 0; i < 100 && r.inflight > 0; i++ {
		pending := r.sqTail - atomic.LoadUint32(r.sqHead)
		n, err := sys.UringEnterArg(r.fd, pending, 1, sys.UringEnterGetEvents|sys.UringEnterExtArg,
			unsafe.Pointer(&arg), sys.UringSizeofGeteventsArg)
		if n > 0 {
			r.inflight += n
		}
		if err != nil && err != syscall.ETIME && err != syscall.EINTR && err != syscall.EBUSY {
			break
		}
		head, tail := *r.cqHead, atomic.LoadUint32(r.cqTail)
		for ; head != tail; head++ {
			r.done(r.cqes[head&r.cqMask].Flags)
		}
		atomic.StoreUint32(r.cqHead, head)
	}
}

func (r *Ring) teardown() error {
	var err error
	if r.fd >= 0 {
		err = sys.UringCloseFD(r.fd)
		r.fd = -1
	}
	shared := len(r.cqMem) > 0 && len(r.sqMem) > 0 && &r.cqMem[0] == &r.sqMem[0]
	if shared {
		r.cqMem = nil
	}
	for _, m := range [][]byte{r.sqeMem, r.cqMem, r.sqMem} {
		if m != nil {
			_ = sys.UringMunmap(m)
		}
	}
	r.sqeMem, r.cqMem, r.sqMem = nil, nil, nil
	for _, b := range r.bufs {
		b.unmap()
	}
	r.bufs = nil
	return err
}

// BufRing is a provided buffer ring registered with a [Ring]: buffers the
// kernel picks from for operations that name its group, returned to it with
// [BufRing.Recycle] and [BufRing.Publish]. Its memory lives outside the Go
// heap and is freed by [Ring.Close]. It is not safe for concurrent use.
type BufRing struct {
	group    uint16
	size     int
	blen     uint32 // bytes of each buffer offered to the kernel
	mask     uint16
	tail     uint16 // local tail
	bid0     uint16 // buffer ID in entry 0, which shares a word with the tail
	mem      []byte
	slab     []byte
	ents     []sys.UringBuf
	base     uintptr
	tailWord *uint32
	hdr      sys.Msghdr // template for multishot recvmsg
	name     sys.Sockaddr
}

// Group returns the buffer group ID.
func (b *BufRing) Group() uint16 { return b.group }

// Buf returns buffer bid, all of its Size bytes.
func (b *BufRing) Buf(bid uint16) []byte {
	off := int(bid) * b.size
	return b.slab[off : off+b.size : off+b.size]
}

// Recycle queues buffer bid for the kernel to pick again; it becomes
// visible at the next Publish.
func (b *BufRing) Recycle(bid uint16) {
	slot := b.tail & b.mask
	e := &b.ents[slot]
	e.Addr = uint64(b.base + uintptr(bid)*uintptr(b.size))
	e.Len = b.blen
	if slot == 0 {
		b.bid0 = bid // written together with the tail in Publish
	} else {
		e.Bid = bid
	}
	b.tail++
}

// Publish makes recycled buffers visible to the kernel. The ring's 16-bit
// tail overlays the reserved half of entry 0's last word, next to entry 0's
// buffer ID; Go has no 16-bit atomics, so the whole word is stored
// atomically (a release store), with entry 0's ID, which only this side
// writes.
func (b *BufRing) Publish() {
	var w [4]byte
	binary.NativeEndian.PutUint16(w[0:2], b.bid0)
	binary.NativeEndian.PutUint16(w[2:4], b.tail)
	atomic.StoreUint32(b.tailWord, binary.NativeEndian.Uint32(w[:]))
}

func (b *BufRing) unmap() {
	if b.slab != nil {
		_ = sys.UringMunmap(b.slab)
		b.slab = nil
	}
	if b.mem != nil {
		_ = sys.UringMunmap(b.mem)
		b.mem = nil
	}
}

// recvOutLen is the header a multishot recvmsg writes at the start of each
// buffer, followed by the source address (room for sys.SockaddrLen bytes)
// and the payload.
const (
	recvOutLen     = sys.UringSizeofRecvmsgOut
	recvPayloadOff = recvOutLen + sys.SockaddrLen
)

// RecvMsgOut is one datagram of a multishot recvmsg, decoded from the
// buffer the kernel filled (struct io_uring_recvmsg_out, then the name,
// then the payload).
type RecvMsgOut struct {
	Addr       netip.AddrPort // source, v4-mapped addresses unmapped
	Payload    []byte         // aliases the buffer
	PayloadLen int            // payload length the kernel reported
	Flags      int            // recvmsg flags (MSG_TRUNC, ...)
}

// errShortRecvOut reports a multishot buffer too short for its header.
var errShortRecvOut = errors.New("uring: multishot buffer shorter than its header")

// Decode parses src, the first CQE.Res bytes of the buffer; Payload aliases
// src. It returns len(src).
func (o *RecvMsgOut) Decode(src []byte) (int, error) {
	if len(src) < recvPayloadOff {
		return 0, errShortRecvOut
	}
	h := (*sys.UringRecvmsgOut)(unsafe.Pointer(&src[0]))
	o.Addr = sys.MmsgParseAddr((*sys.Sockaddr)(src[recvOutLen:recvPayloadOff]), h.Namelen)
	o.Payload = src[recvPayloadOff:]
	o.PayloadLen = int(h.Payloadlen)
	o.Flags = int(h.Flags)
	return len(src), nil
}

// Truncated reports whether the datagram did not fit.
func (o *RecvMsgOut) Truncated() bool {
	return o.Flags&sys.MsgTrunc != 0 || o.PayloadLen > len(o.Payload)
}

// MsgHeader is the struct msghdr of one [Ring.PrepRecvMsg] or
// [Ring.PrepSendMsg], with one buffer and room for an IPv4 or IPv6 socket
// address. It must stay reachable and untouched while its operation runs.
type MsgHeader struct {
	hdr  sys.Msghdr
	iov  sys.Iovec
	name sys.Sockaddr
	buf  []byte
}

// SetBuf sets the buffer to receive into or send from.
func (h *MsgHeader) SetBuf(b []byte) {
	h.buf = b
	h.iov.Base = nil
	if len(b) > 0 {
		h.iov.Base = &b[0]
	}
	h.iov.SetLen(len(b))
	h.hdr.Iov = &h.iov
	h.hdr.SetIovlen(1)
}

// SetAddr sets the destination of a send. inet6 tells the family of the
// socket: an IPv4 destination is v4-mapped on an IPv6 socket, and an IPv6
// destination cannot be reached from an IPv4 one (SetAddr returns false).
func (h *MsgHeader) SetAddr(ap netip.AddrPort, inet6 bool) bool {
	family := sys.AFInet
	if inet6 {
		family = sys.AFInet6
	}
	n := sys.MmsgPutAddr(&h.name, ap, family)
	h.hdr.Name, h.hdr.Namelen = &h.name[0], n
	return n != 0
}

// Addr returns the source address of a completed receive.
func (h *MsgHeader) Addr() netip.AddrPort { return sys.MmsgParseAddr(&h.name, h.hdr.Namelen) }

// Flags returns the recvmsg flags of a completed receive (MSG_TRUNC, ...).
func (h *MsgHeader) Flags() int { return int(h.hdr.Flags) }

// Truncated reports whether a completed receive was cut to fit.
func (h *MsgHeader) Truncated() bool { return h.hdr.Flags&sys.MsgTrunc != 0 }
