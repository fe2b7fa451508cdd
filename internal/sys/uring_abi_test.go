package sys_test

import (
	"testing"
	"unsafe"

	"github.com/edgekit/edgekit/internal/sys"
)

// TestUringABISizes pins the io_uring struct layouts, which must match the
// kernel's on every architecture (run with GOARCH=386 and arm too).
func TestUringABISizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"io_uring_params", unsafe.Sizeof(sys.UringParams{}), sys.UringSizeofParams},
		{"io_sqring_offsets", unsafe.Sizeof(sys.UringSQOffsets{}), 40},
		{"io_cqring_offsets", unsafe.Sizeof(sys.UringCQOffsets{}), 40},
		{"io_uring_sqe", unsafe.Sizeof(sys.UringSQE{}), sys.UringSizeofSQE},
		{"io_uring_cqe", unsafe.Sizeof(sys.UringCQE{}), sys.UringSizeofCQE},
		{"io_uring_buf", unsafe.Sizeof(sys.UringBuf{}), sys.UringSizeofBuf},
		{"io_uring_buf_reg", unsafe.Sizeof(sys.UringBufReg{}), sys.UringSizeofBufReg},
		{"io_uring_recvmsg_out", unsafe.Sizeof(sys.UringRecvmsgOut{}), sys.UringSizeofRecvmsgOut},
		{"io_uring_probe_op", unsafe.Sizeof(sys.UringProbeOp{}), 8},
		{"io_uring_probe", unsafe.Sizeof(sys.UringProbe{}), sys.UringSizeofProbeHdr + 256*8},
		{"__kernel_timespec", unsafe.Sizeof(sys.UringTimespec{}), sys.UringSizeofTimespec},
		{"io_uring_getevents_arg", unsafe.Sizeof(sys.UringGeteventsArg{}), sys.UringSizeofGeteventsArg},
	} {
		if c.got != c.want {
			t.Errorf("sizeof(%s) = %d; want %d", c.name, c.got, c.want)
		}
	}
	var sqe sys.UringSQE
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"off", unsafe.Offsetof(sqe.Off), 8},
		{"addr", unsafe.Offsetof(sqe.Addr), 16},
		{"len", unsafe.Offsetof(sqe.Len), 24},
		{"op_flags", unsafe.Offsetof(sqe.OpFlags), 28},
		{"user_data", unsafe.Offsetof(sqe.UserData), 32},
		{"buf_index", unsafe.Offsetof(sqe.BufIndex), 40},
		{"splice_fd_in", unsafe.Offsetof(sqe.SpliceFdIn), 44},
		{"addr3", unsafe.Offsetof(sqe.Addr3), 48},
	} {
		if c.got != c.want {
			t.Errorf("offsetof(io_uring_sqe.%s) = %d; want %d", c.name, c.got, c.want)
		}
	}
	var p sys.UringParams
	if off := unsafe.Offsetof(p.SQOff); off != 40 {
		t.Errorf("offsetof(sq_off) = %d; want 40", off)
	}
	if off := unsafe.Offsetof(p.CQOff); off != 80 {
		t.Errorf("offsetof(cq_off) = %d; want 80", off)
	}
}
