//go:build !linux

package uring

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"time"
)

// Ring is an io_uring instance; see the Linux documentation. On this
// platform NewRing fails with an error wrapping errors.ErrUnsupported.
type Ring struct{}

// NewRing is not supported on this platform.
func NewRing(cfg RingConfig) (*Ring, error) {
	return nil, fmt.Errorf("uring: io_uring on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (r *Ring) Features() Features                                       { return 0 }
func (r *Ring) Supports(op Op) bool                                      { return false }
func (r *Ring) SQEntries() int                                           { return 0 }
func (r *Ring) CQEntries() int                                           { return 0 }
func (r *Ring) PrepNop(userData uint64) error                            { return ErrRingClosed }
func (r *Ring) PrepRead(fd int, b []byte, off int64, ud uint64) error    { return ErrRingClosed }
func (r *Ring) PrepWrite(fd int, b []byte, off int64, ud uint64) error   { return ErrRingClosed }
func (r *Ring) PrepRecvMsg(fd int, h *MsgHeader, ud uint64) error        { return ErrRingClosed }
func (r *Ring) PrepSendMsg(fd int, h *MsgHeader, ud uint64) error        { return ErrRingClosed }
func (r *Ring) PrepRecvMsgMultishot(fd int, g *BufRing, ud uint64) error { return ErrRingClosed }
func (r *Ring) PrepTimeout(d time.Duration, count uint32, ud uint64) error {
	return ErrRingClosed
}
func (r *Ring) PrepCancel(target, userData uint64) error { return ErrRingClosed }
func (r *Ring) Submit() (int, error)                     { return 0, ErrRingClosed }
func (r *Ring) SubmitAndWait(n int) (int, error)         { return 0, ErrRingClosed }
func (r *Ring) PeekCQE() (CQE, bool)                     { return CQE{}, false }
func (r *Ring) ReapCQEs(dst []CQE) int                   { return 0 }
func (r *Ring) Wait(ctx context.Context) error           { return ErrRingClosed }
func (r *Ring) RegisterBufRing(cfg BufRingConfig) (*BufRing, error) {
	return nil, ErrRingClosed
}
func (r *Ring) Close() error { return nil }

// BufRing is a provided buffer ring; unavailable on this platform.
type BufRing struct{}

func (b *BufRing) Group() uint16         { return 0 }
func (b *BufRing) Buf(bid uint16) []byte { return nil }
func (b *BufRing) Recycle(bid uint16)    {}
func (b *BufRing) Publish()              {}

// RecvMsgOut is one datagram of a multishot recvmsg; unavailable on this
// platform.
type RecvMsgOut struct {
	Addr       netip.AddrPort
	Payload    []byte
	PayloadLen int
	Flags      int
}

func (o *RecvMsgOut) Decode(src []byte) (int, error) { return 0, ErrRingClosed }
func (o *RecvMsgOut) Truncated() bool                { return false }

// MsgHeader is the msghdr of a ring receive or send; unavailable on this
// platform.
type MsgHeader struct{}

func (h *MsgHeader) SetBuf(b []byte)                            {}
func (h *MsgHeader) SetAddr(ap netip.AddrPort, inet6 bool) bool { return false }
func (h *MsgHeader) Addr() netip.AddrPort                       { return netip.AddrPort{} }
func (h *MsgHeader) Flags() int                                 { return 0 }
func (h *MsgHeader) Truncated() bool                            { return false }
