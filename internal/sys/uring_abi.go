package sys

// io_uring ABI (linux/io_uring.h). The structs have the same layout on every
// architecture: fixed-width fields only, 64-bit fields at 8-byte offsets.
// They are declared on every platform so that sizes can be tested anywhere;
// only Linux has the system calls.

// UringParams is struct io_uring_params (120 bytes).
type UringParams struct {
	SQEntries    uint32
	CQEntries    uint32
	Flags        uint32
	SQThreadCPU  uint32
	SQThreadIdle uint32
	Features     uint32
	WQFd         uint32
	Resv         [3]uint32
	SQOff        UringSQOffsets
	CQOff        UringCQOffsets
}

// UringSQOffsets is struct io_sqring_offsets (40 bytes).
type UringSQOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

// UringCQOffsets is struct io_cqring_offsets (40 bytes).
type UringCQOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, CQEs, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

// UringSQE is struct io_uring_sqe (64 bytes). OpFlags is the union of
// rw_flags, msg_flags, timeout_flags, cancel_flags and friends; BufIndex is
// buf_index or buf_group; SpliceFdIn is splice_fd_in, file_index or addr_len.
type UringSQE struct {
	Opcode      uint8
	Flags       uint8
	IOPrio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	OpFlags     uint32
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	SpliceFdIn  int32
	Addr3       uint64
	Pad2        uint64
}

// UringCQE is struct io_uring_cqe (16 bytes).
type UringCQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// UringProbeOp is struct io_uring_probe_op (8 bytes).
type UringProbeOp struct {
	Op    uint8
	Resv  uint8
	Flags uint16
	Resv2 uint32
}

// UringProbe is struct io_uring_probe with room for every 8-bit opcode.
type UringProbe struct {
	LastOp uint8
	OpsLen uint8
	Resv   uint16
	Resv2  [3]uint32
	Ops    [256]UringProbeOp
}

// UringBuf is struct io_uring_buf (16 bytes), one entry of a provided
// buffer ring. The ring's tail overlays Resv of entry 0.
type UringBuf struct {
	Addr uint64
	Len  uint32
	Bid  uint16
	Resv uint16
}

// UringBufReg is struct io_uring_buf_reg (40 bytes), the argument of
// IORING_REGISTER_PBUF_RING.
type UringBufReg struct {
	RingAddr    uint64
	RingEntries uint32
	Bgid        uint16
	Flags       uint16
	Resv        [3]uint64
}

// UringRecvmsgOut is struct io_uring_recvmsg_out (16 bytes), the header the
// kernel writes at the start of each buffer of a multishot recvmsg.
type UringRecvmsgOut struct {
	Namelen    uint32
	Controllen uint32
	Payloadlen uint32
	Flags      uint32
}

// UringTimespec is struct __kernel_timespec: 64-bit on every architecture.
type UringTimespec struct {
	Sec  int64
	Nsec int64
}

// Sizes of the ABI structs, checked by tests against unsafe.Sizeof.
const (
	UringSizeofParams     = 120
	UringSizeofSQE        = 64
	UringSizeofCQE        = 16
	UringSizeofBuf        = 16
	UringSizeofBufReg     = 40
	UringSizeofRecvmsgOut = 16
	UringSizeofProbeHdr   = 16
	UringSizeofTimespec   = 16
)

// io_uring_setup flags.
const (
	UringSetupCQSize       = 1 << 3
	UringSetupClamp        = 1 << 4
	UringSetupSubmitAll    = 1 << 7
	UringSetupCoopTaskrun  = 1 << 8
	UringSetupSingleIssuer = 1 << 12
)

// io_uring features (UringParams.Features).
const (
	UringFeatSingleMmap = 1 << 0
	UringFeatNoDrop     = 1 << 1
	UringFeatFastPoll   = 1 << 5
	UringFeatExtArg     = 1 << 8
)

// Opcodes (enum io_uring_op).
const (
	UringOpNop         = 0
	UringOpSendmsg     = 9
	UringOpRecvmsg     = 10
	UringOpTimeout     = 11
	UringOpAsyncCancel = 14
	UringOpRead        = 22
	UringOpWrite       = 23
	UringOpSend        = 26
	UringOpRecv        = 27
)

// SQE flags, per-op flags and CQE flags.
const (
	UringSQEBufferSelect = 1 << 5

	UringRecvMultishot = 1 << 1 // in SQE.IOPrio of recv/recvmsg

	UringTimeoutAbs = 1 << 0

	UringAsyncCancelAll = 1 << 0

	UringCQEFBuffer       = 1 << 0
	UringCQEFMore         = 1 << 1
	UringCQEFSockNonempty = 1 << 2
	UringCQEBufferShift   = 16

	UringSQNeedWakeup = 1 << 0
	UringSQCQOverflow = 1 << 1
	UringSQTaskrun    = 1 << 2

	UringCQEventfdDisabled = 1 << 0

	UringProbeOpSupported = 1 << 0
)

// io_uring_enter flags.
const (
	UringEnterGetEvents = 1 << 0
)

// io_uring_register opcodes.
const (
	UringRegisterEventfd    = 4
	UringUnregisterEventfd  = 5
	UringRegisterProbe      = 8
	UringRegisterPbufRing   = 22
	UringUnregisterPbufRing = 23
)

// mmap offsets of the rings.
const (
	UringOffSQRing = 0
	UringOffCQRing = 0x8000000
	UringOffSQEs   = 0x10000000
)

// UringGeteventsArg is struct io_uring_getevents_arg (24 bytes), passed to
// io_uring_enter with IORING_ENTER_EXT_ARG to bound a wait.
type UringGeteventsArg struct {
	Sigmask   uint64
	SigmaskSz uint32
	Pad       uint32
	Ts        uint64
}

// More io_uring constants.
const (
	UringEnterExtArg        = 1 << 3
	UringAsyncCancelAny     = 1 << 2
	UringSizeofGeteventsArg = 24
)
