package uring

import (
	"errors"
	"syscall"
)

// Op is an io_uring operation code (enum io_uring_op in linux/io_uring.h),
// as reported by [Ring.Supports].
type Op uint8

// The operations this binding prepares.
const (
	OpNop         Op = 0
	OpSendMsg     Op = 9
	OpRecvMsg     Op = 10
	OpTimeout     Op = 11
	OpAsyncCancel Op = 14
	OpRead        Op = 22
	OpWrite       Op = 23
	OpSend        Op = 26
	OpRecv        Op = 27
)

// Features is the IORING_FEAT_* bit set the kernel reported at setup.
type Features uint32

// Feature bits worth checking.
const (
	FeatSingleMmap Features = 1 << 0 // SQ and CQ rings share one mapping
	FeatNoDrop     Features = 1 << 1 // CQ overflow is buffered, never dropped
	FeatFastPoll   Features = 1 << 5 // sockets are polled internally, not punted to threads
	FeatExtArg     Features = 1 << 8 // io_uring_enter takes a timeout
)

// Has reports whether all bits of f2 are in f.
func (f Features) Has(f2 Features) bool { return f&f2 == f2 }

// RingConfig sizes a [Ring]. The zero value is valid.
type RingConfig struct {
	// Entries is the submission queue size, rounded up to a power of two by
	// the kernel. 0 means 64; at most 32768.
	Entries int
	// CQEntries is the completion queue size. 0 means 2*Entries; it must be
	// at least Entries and at most 65536. Multishot operations post many
	// completions per submission, so size it for the burst you expect.
	CQEntries int
}

// Limits of RingConfig and BufRingConfig.
const (
	MaxRingEntries   = 32768
	MaxCQEntries     = 65536
	MaxBufRingSize   = 32768
	MaxBufferSize    = 1 << 20
	MaxBufRingMemory = 256 << 20 // Entries * Size
	defaultRingEntry = 64
)

// CQE is a completion: the UserData of the submission, its result (a
// count, or a negated errno) and IORING_CQE_F_* flags.
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// CQE flag bits.
const (
	CQEFBuffer       = 1 << 0 // the upper 16 bits of Flags are a buffer ID
	CQEFMore         = 1 << 1 // the (multishot) submission will post more completions
	CQEFSockNonempty = 1 << 2 // more data was queued on the socket
)

// More reports whether the submission remains active (multishot).
func (c CQE) More() bool { return c.Flags&CQEFMore != 0 }

// BufferID returns the provided buffer the kernel picked, if any.
func (c CQE) BufferID() (uint16, bool) { return uint16(c.Flags >> 16), c.Flags&CQEFBuffer != 0 }

// Err returns the errno of a failed completion (Res < 0), or nil.
func (c CQE) Err() error {
	if c.Res < 0 {
		return syscall.Errno(-c.Res)
	}
	return nil
}

// BufRingConfig describes a provided buffer ring
// (IORING_REGISTER_PBUF_RING): Entries buffers of Size bytes each, picked by
// the kernel for operations that name Group.
type BufRingConfig struct {
	Entries int    // a power of two, 1..MaxBufRingSize
	Size    int    // bytes per buffer, 1..MaxBufferSize
	Group   uint16 // buffer group ID
}

// Errors of the ring binding.
var (
	ErrSQFull     = errors.New("uring: submission queue full")
	ErrRingClosed = errors.New("uring: ring closed")
	ErrBadConfig  = errors.New("uring: invalid configuration")
)
