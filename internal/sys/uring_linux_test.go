package sys_test

import (
	"errors"
	"syscall"
	"testing"
	"unsafe"

	"github.com/edgekit/edgekit/internal/sys"
)

func TestUringSetupMmap(t *testing.T) {
	var p sys.UringParams
	fd, err := sys.UringSetup(4, &p)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		t.Skipf("io_uring refused here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer sys.UringCloseFD(fd)
	if p.SQEntries != 4 || p.CQEntries != 8 || p.Features&sys.UringFeatSingleMmap == 0 {
		t.Fatalf("params %+v", p)
	}
	sq, err := sys.UringMmap(fd, sys.UringOffSQRing, int(p.SQOff.Array)+4*int(p.SQEntries))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.UringMunmap(sq)
	if mask := *(*uint32)(unsafe.Pointer(&sq[p.SQOff.RingMask])); mask != 3 {
		t.Fatalf("sq ring mask = %d; want 3", mask)
	}
	// Nothing to submit: io_uring_enter returns 0 at once.
	if n, err := sys.UringEnter(fd, 0, 0, 0); n != 0 || err != nil {
		t.Fatalf("UringEnter = %d, %v", n, err)
	}
	var probe sys.UringProbe
	if _, err := sys.UringRegister(fd, sys.UringRegisterProbe, unsafe.Pointer(&probe), 256); err != nil {
		t.Fatal(err)
	}
	if probe.LastOp < sys.UringOpRecv {
		t.Fatalf("probe last op %d", probe.LastOp)
	}
	anon, err := sys.UringMmapAnon(4096)
	if err != nil {
		t.Fatal(err)
	}
	if uintptr(unsafe.Pointer(&anon[0]))%4096 != 0 {
		t.Error("anonymous mapping not page-aligned")
	}
	if err := sys.UringMunmap(anon); err != nil {
		t.Fatal(err)
	}
	// A bad fd gives the raw errno.
	if _, err := sys.UringEnter(-1, 0, 0, 0); err != syscall.EBADF {
		t.Fatalf("UringEnter(-1) = %v; want EBADF", err)
	}
}

func TestEventfd(t *testing.T) {
	fd, err := sys.Eventfd(true)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.UringCloseFD(fd)
	var b [8]byte
	if _, err := syscall.Read(fd, b[:]); err != syscall.EAGAIN {
		t.Fatalf("read of a zero eventfd: %v; want EAGAIN", err)
	}
	b[0] = 3
	if _, err := syscall.Write(fd, b[:]); err != nil {
		t.Fatal(err)
	}
	b = [8]byte{}
	if n, err := syscall.Read(fd, b[:]); n != 8 || err != nil || b[0] != 3 {
		t.Fatalf("read = %d, %v, %v", n, err, b)
	}
}
